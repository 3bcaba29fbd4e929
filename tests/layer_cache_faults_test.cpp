// The manifest cache against entries that are not what a cache writes: a FIFO, a
// device, a symlink, a trailer nested too deep. Each is a miss, never a hang.
#include "cdrift/layer/cache.hpp"
#include "test_tar.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <fstream>
#include <future>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

using namespace cdrift;
using cdrift::test::TempDir;

namespace {

const std::string key = "sha256:" + std::string(64, 'c');

Manifest verified_image() {
  Manifest m;
  m.source = "docker save " + key;
  m.kind = SourceKind::docker_archive;
  Entry root;
  root.path = "/";
  root.type = FileType::dir;
  root.mode = 0755;
  m.entries.push_back(root);
  ImageInfo info;
  info.config_digest = key;
  LayerInfo layer;
  layer.digest = "sha256:" + std::string(64, '1');
  layer.diff_id = "sha256:" + std::string(64, '2');
  layer.verified = true;
  info.layers.push_back(layer);
  m.image = info;
  return m;
}

std::string entry_path(const ManifestCache& cache) {
  return cache.dir() + "/manifests/sha256-" + key.substr(7) + ".jsonl";
}

// load() on another thread, so that a regression hangs this check, not the suite.
std::optional<Manifest> load_within(ManifestCache& cache, std::chrono::seconds limit) {
  auto f = std::async(std::launch::async, [&] { return cache.load(key); });
  REQUIRE_MESSAGE(f.wait_for(limit) == std::future_status::ready,
                  "ManifestCache::load hung on a non-regular entry");
  return f.get();
}

} // namespace

TEST_CASE("manifest cache: an entry that is a FIFO is a miss, not a hang") {
  TempDir tmp;
  ManifestCache cache(tmp / "c");
  REQUIRE(cache.store(key, verified_image())); // creates the private directory
  const std::string path = entry_path(cache);
  REQUIRE(::unlink(path.c_str()) == 0);
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  CHECK_FALSE(load_within(cache, std::chrono::seconds(10)).has_value());
  CHECK(cache.hits() == 0);
  CHECK(cache.misses() == 1);
  // The next store replaces it with a real entry, which then loads.
  REQUIRE(cache.store(key, verified_image()));
  CHECK(load_within(cache, std::chrono::seconds(10)).has_value());
}

TEST_CASE("manifest cache: an entry that is a device or a symlink is a miss") {
  TempDir tmp;
  ManifestCache cache(tmp / "c");
  REQUIRE(cache.store(key, verified_image()));
  const std::string path = entry_path(cache);
  // A symlink to a valid entry elsewhere: the cache never follows links.
  const std::string elsewhere = tmp / "elsewhere.jsonl";
  {
    std::ifstream in(path, std::ios::binary);
    std::ofstream out(elsewhere, std::ios::binary);
    out << in.rdbuf();
  }
  REQUIRE(::unlink(path.c_str()) == 0);
  REQUIRE(::symlink(elsewhere.c_str(), path.c_str()) == 0);
  CHECK_FALSE(load_within(cache, std::chrono::seconds(10)).has_value());
  CHECK(cache.hits() == 0);
  // A character device (/dev/zero would stream forever through a blocking read).
  ::unlink(path.c_str());
  REQUIRE(::symlink("/dev/zero", path.c_str()) == 0);
  CHECK_FALSE(load_within(cache, std::chrono::seconds(10)).has_value());
  if (::geteuid() == 0) {
    ::unlink(path.c_str());
    REQUIRE(::mknod(path.c_str(), S_IFCHR | 0600, makedev(1, 5)) == 0); // like /dev/zero
    CHECK_FALSE(load_within(cache, std::chrono::seconds(10)).has_value());
  }
  CHECK(cache.hits() == 0);
}

TEST_CASE("manifest cache: a trailer nested deeper than the JSON bound is a miss") {
  TempDir tmp;
  ManifestCache cache(tmp / "c");
  REQUIRE(cache.store(key, verified_image()));
  const std::string path = entry_path(cache);
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(data.size() > 2);
  std::size_t trailer = data.rfind('\n', data.size() - 2) + 1;
  std::string deep = data.substr(0, trailer) + std::string(200, '[') + std::string(200, ']') + "\n";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << deep;
  }
  CHECK_FALSE(cache.load(key).has_value());
  CHECK(cache.invalid() == 1);
}
