// docker save archives (source/docker_archive.cpp), legacy layout, end to end.
#include "cdrift/layer/load.hpp"
#include "cdrift/util/sha256.hpp"
#include "source_helpers.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace cdrift;
using namespace cdrift::test;
using nlohmann::json;

TEST_CASE("docker save archive (legacy layout) end to end") {
  TempDir dir;
  std::string l0 = make_tar({tdir("etc"), tfile("etc/passwd", "root\n"), tfile("old", "x")});
  std::string l1 = make_tar({tfile(".wh.old"), tfile("new", "y")});
  std::string id0(64, '1'), id1(64, '2');
  json config = {{"architecture", "amd64"},
                 {"os", "linux"},
                 {"rootfs",
                  {{"type", "layers"},
                   {"diff_ids", {"sha256:" + sha256_hex(l0), "sha256:" + sha256_hex(l1)}}}}};
  std::string config_text = config.dump();
  std::string config_name = sha256_hex(config_text) + ".json";
  json manifest = json::array({{{"Config", config_name},
                                {"RepoTags", {"example:1"}},
                                {"Layers", {id0 + "/layer.tar", id1 + "/layer.tar"}}}});
  auto save = [&](const std::string& cfg_text) {
    return make_tar({tdir(id0), tfile(id0 + "/VERSION", "1.0"), tfile(id0 + "/layer.tar", l0),
                     tdir(id1), tfile(id1 + "/layer.tar", l1), tfile(config_name, cfg_text),
                     tfile("manifest.json", manifest.dump()), tfile("repositories", "{}")});
  };
  write_file(dir / "save.tar", save(config_text));
  auto m = load_manifest(parse_source_spec(dir / "save.tar"), Side::image, LoadOptions{});
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  CHECK(m->kind == SourceKind::docker_archive);
  CHECK(paths_of(*m) == "/ /etc /etc/passwd /new ");
  REQUIRE(m->image);
  CHECK(m->image->reference == "example:1");
  CHECK(m->image->layers.size() == 2);

  SUBCASE("a config whose bytes do not match its name is an integrity error") {
    json other = config;
    other["os"] = "linux ";
    write_file(dir / "bad.tar", save(other.dump()));
    auto b = load_manifest(parse_source_spec(dir / "bad.tar"), Side::image, LoadOptions{});
    REQUIRE_FALSE(b);
    CHECK(b.error().kind == ErrorKind::integrity);
  }
}
