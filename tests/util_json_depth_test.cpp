// Every reader of untrusted JSON goes through the bounded parser: a document
// nested past max_json_depth is refused with a one-line error at each of them
// (index.json, image configs, saved manifests, rule files and the cache trailer
// are covered beside their readers).
#include "cdrift/classify/suppress.hpp"
#include "cdrift/layer/load.hpp"
#include "cdrift/util/json.hpp"
#include "pipeline/inspect_file.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>
#include <fstream>

using namespace cdrift;
using namespace cdrift::test;

namespace {

// An array nested one level past the bound, inside an otherwise plausible object.
std::string too_deep(const std::string& key) {
  int n = max_json_depth + 1;
  return "{\"" + key + "\": " + std::string(n, '[') + std::string(n, ']') + "}";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void check_refused(const Error& e, const std::string& names) {
  INFO(e.message);
  CHECK(e.message.find(names) != std::string::npos);
  CHECK(e.message.find("nested deeper than") != std::string::npos);
  CHECK(e.message.find('\n') == std::string::npos);
}

} // namespace

TEST_CASE("json depth: docker save's manifest.json nested too deep is refused") {
  TempDir dir;
  std::string doc = "[" + too_deep("Config") + "]";
  write_file(dir / "save.tar", make_tar({tfile("manifest.json", doc)}, TarFormat::ustar));
  auto m = load_manifest(parse_source_spec("docker-archive:" + (dir / "save.tar")), Side::image,
                         LoadOptions{});
  REQUIRE_FALSE(m);
  CHECK(m.error().kind == ErrorKind::input);
  check_refused(m.error(), "manifest.json");
}

TEST_CASE("json depth: a baseline nested too deep is refused") {
  TempDir dir;
  write_file(dir / "baseline.json", too_deep("findings"));
  auto b = load_baseline(dir / "baseline.json");
  REQUIRE_FALSE(b);
  CHECK(b.error().kind == ErrorKind::input);
  check_refused(b.error(), "baseline");
}

TEST_CASE("json depth: an ignore file nested too deep is a usage error") {
  auto e = parse_ignore_file(too_deep("ignore"), "deep.json");
  REQUIRE_FALSE(e);
  CHECK(e.error().kind == ErrorKind::usage);
  check_refused(e.error(), "deep.json");
}

TEST_CASE("json depth: an inspect document nested too deep is a usage error") {
  TempDir dir;
  write_file(dir / "inspect.json", "[" + too_deep("Config") + "]");
  auto i = read_inspect_file(dir / "inspect.json");
  REQUIRE_FALSE(i);
  CHECK(i.error().kind == ErrorKind::usage);
  check_refused(i.error(), "inspect.json");
}
