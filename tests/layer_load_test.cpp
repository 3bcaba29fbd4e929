// From what the user named to a manifest (layer/load.cpp): prefixes, detection, plain trees.
#include "cdrift/layer/load.hpp"
#include "source_helpers.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>
#include <optional>

using namespace cdrift;
using namespace cdrift::test;

TEST_CASE("load_manifest: a 0-byte file is an input error naming it") {
  TempDir dir;
  std::string path = dir / "empty.tar";
  write_file(path, "");
  auto m = load_manifest(parse_source_spec(path), Side::container, LoadOptions{});
  REQUIRE_FALSE(m);
  CHECK(m.error().kind == ErrorKind::input);
  CHECK(contains(m.error().message, "empty.tar"));
  CHECK(contains(m.error().message, "empty"));
}

TEST_CASE("load_manifest: gzip-compressed export and plain rootfs tar") {
  TempDir dir;
  std::vector<TarEntry> table = {tdir("etc"), tfile("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
                                 tfile(".wh.keep", "literal in exports")};
  write_file(dir / "export.tar.gz", make_tar(table, TarFormat::pax, Compress::gzip));
  write_file(dir / "rootfs.tar", make_tar(table));
  auto exp =
      load_manifest(parse_source_spec(dir / "export.tar.gz"), Side::container, LoadOptions{});
  REQUIRE_MESSAGE(exp, (exp ? "" : exp.error().message));
  CHECK(exp->kind == SourceKind::container_export);
  CHECK(exp->find("/.wh.keep") != nullptr); // exports keep .wh. names
  CHECK(exp->captures.files.count("/etc/passwd") == 1);
  auto img = load_manifest(parse_source_spec("rootfs:" + (dir / "rootfs.tar")), Side::image,
                           LoadOptions{});
  REQUIRE_MESSAGE(img, (img ? "" : img.error().message));
  CHECK(img->kind == SourceKind::rootfs_tar);
  CHECK(img->find("/etc/passwd") != nullptr);
}

TEST_CASE("load_manifest: an export holding a hex-named directory is still an export") {
  TempDir dir;
  std::string planted(64, '0');
  write_file(dir / "export.tar",
             make_tar({tfile(".dockerenv"), tdir(planted + "/"), tfile(planted + "/x", "x"),
                       tdir("bin"), tfile("bin/sh", "elf")}));
  auto m = load_manifest(parse_source_spec(dir / "export.tar"), Side::container, LoadOptions{});
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  CHECK(m->kind == SourceKind::container_export);
  CHECK(m->find("/" + planted + "/x") != nullptr);
}

TEST_CASE("parse_source_spec prefixes") {
  struct Case {
    std::string text;
    std::optional<SourceKind> form;
    std::string location;
    std::string runtime;
  };
  std::vector<Case> cases = {
      {"oci:/img", SourceKind::oci_layout, "/img", ""},
      {"oci-archive:img.tar", SourceKind::oci_archive, "img.tar", ""},
      {"docker-archive:save.tar", SourceKind::docker_archive, "save.tar", ""},
      {"rootfs:r.tar", SourceKind::rootfs_tar, "r.tar", ""},
      {"dir:/srv/root", SourceKind::directory, "/srv/root", ""},
      {"manifest:m.jsonl", SourceKind::saved_manifest, "m.jsonl", ""},
      {"docker:web", SourceKind::runtime, "web", "docker"},
      {"podman:db", SourceKind::runtime, "db", "podman"},
      {"nerdctl:x", SourceKind::runtime, "x", "nerdctl"},
      {"-", std::nullopt, "-", ""},
      {"./some/path.tar", std::nullopt, "./some/path.tar", ""},
      {"oci:", SourceKind::oci_layout, "", ""},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    SourceSpec s = parse_source_spec(c.text);
    CHECK(s.form == c.form);
    CHECK(s.location == c.location);
    CHECK(s.runtime == c.runtime);
    CHECK(s.text == c.text);
  }
  // A source naming nothing is a usage error.
  auto m = load_manifest(parse_source_spec("oci:"), Side::image, LoadOptions{});
  REQUIRE_FALSE(m);
  CHECK(m.error().kind == ErrorKind::usage);
}
