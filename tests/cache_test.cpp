#include "cdrift/layer/cache.hpp"
#include "cdrift/util/atomic_file.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace cdrift;
namespace fs = std::filesystem;

namespace {

const std::string key_a = "sha256:" + std::string(64, 'a');
const std::string key_b = "sha256:" + std::string(64, 'b');

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cdrift-cache-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

Entry file(std::string path, std::string content, std::uint32_t mode = 0644) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::file;
  e.mode = mode;
  e.size = content.size();
  e.sha256 = sha256_of(content);
  e.mtime = 1700000000;
  e.layer = 0;
  return e;
}

Manifest image_manifest(const std::string& key, bool verified = true) {
  Manifest m;
  m.source = "docker save " + key;
  m.kind = SourceKind::docker_archive;
  Entry root;
  root.path = "/";
  root.type = FileType::dir;
  root.mode = 0755;
  m.entries.push_back(root);
  m.entries.push_back(file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"));
  m.entries.push_back(file("/usr/bin/passwd",
                           "\x7f"
                           "ELF",
                           04755));
  ImageInfo info;
  info.config_digest = key;
  info.user = "app";
  info.entrypoint = {"/usr/local/bin/demo-entry"};
  LayerInfo layer;
  layer.digest = "sha256:" + std::string(64, '1');
  layer.diff_id = "sha256:" + std::string(64, '2');
  layer.size = 1234;
  layer.verified = verified;
  layer.created_by = "ADD file:abc in /";
  info.layers.push_back(layer);
  m.image = info;
  m.captures.files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/sh\n";
  return m;
}

std::string entry_file(const ManifestCache& cache, const std::string& key) {
  return cache.dir() + "/manifests/sha256-" + key.substr(7) + ".jsonl";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

} // namespace

TEST_CASE("manifest cache: a stored manifest loads back equal, with a hit counted") {
  TempDir tmp;
  ManifestCache cache(tmp.path + "/c");
  CHECK_FALSE(cache.load(key_a).has_value()); // nothing there yet
  CHECK(cache.misses() == 1);
  CHECK(cache.invalid() == 0);

  Manifest m = image_manifest(key_a);
  REQUIRE(cache.store(key_a, m));
  struct stat st;
  REQUIRE(::stat((tmp.path + "/c/manifests").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  REQUIRE(fs::exists(entry_file(cache, key_a)));

  auto loaded = cache.load(key_a);
  REQUIRE(loaded.has_value());
  CHECK(cache.hits() == 1);
  REQUIRE(loaded->entries.size() == m.entries.size());
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    CHECK(loaded->entries[i].path == m.entries[i].path);
    CHECK(loaded->entries[i].mode == m.entries[i].mode);
    CHECK(loaded->entries[i].sha256 == m.entries[i].sha256);
    CHECK(loaded->entries[i].layer == m.entries[i].layer);
  }
  REQUIRE(loaded->image.has_value());
  CHECK(loaded->image->config_digest == key_a);
  CHECK(loaded->image->user == "app");
  REQUIRE(loaded->image->layers.size() == 1);
  CHECK(loaded->image->layers[0].verified);
  CHECK(loaded->image->layers[0].created_by == "ADD file:abc in /");
  CHECK(loaded->captures.files.at("/etc/passwd") == m.captures.files.at("/etc/passwd"));
  // A second instance over the same directory sees the entry too.
  ManifestCache again(tmp.path + "/c");
  CHECK(again.load(key_a).has_value());
}

TEST_CASE("manifest cache: a flipped byte is detected, the entry removed and counted") {
  TempDir tmp;
  ManifestCache cache(tmp.path);
  REQUIRE(cache.store(key_a, image_manifest(key_a)));
  std::string path = entry_file(cache, key_a);
  std::string data = slurp(path);
  // Flip one byte inside an entry line, keeping the JSON valid: the setuid bit of
  // /usr/bin/passwd silently dropped, so a later chmod u+s would look like no change.
  auto pos = data.find("\"mode\":\"4755\"");
  REQUIRE(pos != std::string::npos);
  data[pos + 8] = '0';
  spit(path, data);

  CHECK_FALSE(cache.load(key_a).has_value());
  CHECK(cache.invalid() == 1);
  CHECK(cache.hits() == 0);
  CHECK_FALSE(fs::exists(path));
  // Rebuilt: storing again makes it usable.
  REQUIRE(cache.store(key_a, image_manifest(key_a)));
  CHECK(cache.load(key_a).has_value());
}

TEST_CASE("manifest cache: a consistently re-hashed forgery still fails the other checks") {
  TempDir tmp;
  ManifestCache cache(tmp.path);
  SUBCASE("entry stored under another image's key") {
    // Somebody copies a valid entry of image B to A's file name.
    REQUIRE(cache.store(key_b, image_manifest(key_b)));
    fs::copy_file(entry_file(cache, key_b), entry_file(cache, key_a));
    CHECK_FALSE(cache.load(key_a).has_value());
    CHECK(cache.invalid() == 1);
    CHECK_FALSE(fs::exists(entry_file(cache, key_a)));
    CHECK(cache.load(key_b).has_value()); // B's own entry is fine
  }
  SUBCASE("truncated entry") {
    REQUIRE(cache.store(key_a, image_manifest(key_a)));
    std::string data = slurp(entry_file(cache, key_a));
    spit(entry_file(cache, key_a), data.substr(0, data.size() / 2));
    CHECK_FALSE(cache.load(key_a).has_value());
    CHECK(cache.invalid() == 1);
  }
  SUBCASE("trailer missing") {
    REQUIRE(cache.store(key_a, image_manifest(key_a)));
    std::string data = slurp(entry_file(cache, key_a));
    auto last = data.rfind('\n', data.size() - 2);
    spit(entry_file(cache, key_a), data.substr(0, last + 1));
    CHECK_FALSE(cache.load(key_a).has_value());
    CHECK(cache.invalid() == 1);
  }
}

TEST_CASE("manifest cache: refuses bad keys and unverified manifests") {
  TempDir tmp;
  ManifestCache cache(tmp.path);
  CHECK_FALSE(cache.store("sha256:../../etc/passwd", image_manifest(key_a)));
  CHECK_FALSE(cache.store(key_b, image_manifest(key_a))); // key and content disagree
  auto unverified = cache.store(key_a, image_manifest(key_a, false));
  CHECK_FALSE(unverified);
  CHECK_FALSE(fs::exists(entry_file(cache, key_a)));
  CHECK_FALSE(cache.load("sha256:ABC").has_value());
  CHECK(cache.invalid() == 0);
}

TEST_CASE("manifest cache: a directory writable by others is not used") {
  TempDir tmp;
  ManifestCache cache(tmp.path);
  REQUIRE(cache.store(key_a, image_manifest(key_a)));
  REQUIRE(::chmod((tmp.path + "/manifests").c_str(), 0777) == 0);
  CHECK_FALSE(cache.load(key_a).has_value());
  CHECK_FALSE(cache.store(key_b, image_manifest(key_b)));
  REQUIRE(::chmod((tmp.path + "/manifests").c_str(), 0700) == 0);
  CHECK(cache.load(key_a).has_value());
}

TEST_CASE("manifest cache: prune removes every entry") {
  TempDir tmp;
  ManifestCache cache(tmp.path);
  auto none = cache.prune();
  REQUIRE(none);
  CHECK(*none == 0);
  REQUIRE(cache.store(key_a, image_manifest(key_a)));
  REQUIRE(cache.store(key_b, image_manifest(key_b)));
  spit(tmp.path + "/manifests/sha256-" + std::string(64, 'a') + ".jsonl.tmp.1234abcd", "partial");
  spit(tmp.path + "/manifests/README", "not ours");
  auto removed = cache.prune();
  REQUIRE(removed);
  CHECK(*removed == 2);
  CHECK_FALSE(cache.load(key_a).has_value());
  CHECK_FALSE(cache.load(key_b).has_value());
  CHECK(fs::exists(tmp.path + "/manifests/README"));
  CHECK(fs::is_empty(tmp.path + "/manifests") == false);
  CHECK(std::distance(fs::directory_iterator(tmp.path + "/manifests"), fs::directory_iterator()) ==
        1);
}

TEST_CASE("manifest cache: default directory follows XDG_CACHE_HOME") {
  const char* old = std::getenv("XDG_CACHE_HOME");
  std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", "/some/where", 1);
  CHECK(ManifestCache().dir() == "/some/where/cdrift");
  ::setenv("XDG_CACHE_HOME", "relative/ignored", 1);
  CHECK(ManifestCache().dir().ends_with("/.cache/cdrift"));
  if (old)
    ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else
    ::unsetenv("XDG_CACHE_HOME");
}
