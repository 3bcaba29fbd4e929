// containerd's content store as an image source: a fake store built in a temporary
// directory (blobs/sha256/<hex> and nothing else), read from an image record's
// target the way `ctr images ls` gives it, every digest checked.
#include "cdrift/layer/load.hpp"
#include "cdrift/source/content_store.hpp"
#include "cdrift/util/exit_status.hpp"
#include "cdrift/util/sha256.hpp"
#include "layer/image_manifest.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace cdrift;
using namespace cdrift::test;
using nlohmann::json;

namespace {

std::string digest_of(const std::string& data) {
  return "sha256:" + to_hex(sha256_of(data));
}

// A tar's own bytes as a gzip member: libarchive writes tars afresh on every call,
// so the diff_id must come from the very bytes that were compressed.
std::string gzip_of(const std::string& tar) {
  std::string out;
  WriterPtr a(archive_write_new());
  archive* w = a.get();
  check_archive(w, archive_write_set_format_raw(w), "raw");
  check_archive(w, archive_write_add_filter_gzip(w), "gzip");
  check_archive(w, archive_write_set_bytes_in_last_block(w, 1), "block");
  check_archive(w, archive_write_open(w, &out, nullptr, append_to_string, nullptr), "open");
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "layer");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(tar.size()));
  check_archive(w, archive_write_header(w, e), "header");
  archive_entry_free(e);
  REQUIRE(archive_write_data(w, tar.data(), tar.size()) == static_cast<la_ssize_t>(tar.size()));
  check_archive(w, archive_write_close(w), "close");
  return out;
}

struct FakeContentStore {
  std::string root; // containerd's root; the store is below it
  std::string dir;
  std::string manifest;
  std::string index;
  std::string config;
  std::vector<std::string> layers; // blob digests
  std::vector<std::string> diff_ids;

  FakeContentStore() {
    std::string tmpl = (fs::temp_directory_path() / "cdrift-content-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    root = tmpl;
    dir = content_store_dir(root);
    fs::create_directories(dir + "/blobs/sha256");
    fs::create_directories(dir + "/ingest"); // containerd's own; never content
  }
  ~FakeContentStore() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }

  std::string blob_file(const std::string& digest) const {
    return dir + "/blobs/sha256/" + digest.substr(7);
  }
  std::string put(const std::string& data) {
    std::string d = digest_of(data);
    std::ofstream(blob_file(d), std::ios::binary) << data;
    return d;
  }

  // Two layers (one gzip, one plain), a config, a manifest, and an index listing
  // that manifest for linux/amd64 next to one for another platform.
  void build() {
    std::string l0 = make_tar({tdir("etc"), tfile("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
                               tfile("etc/os-release", "ID=test\n")});
    std::string l1 =
        make_tar({tdir("usr"), tdir("usr/bin"), tfile("usr/bin/app", "#!/bin/sh\n", 0755)});
    std::string l0gz = gzip_of(l0);
    diff_ids = {digest_of(l0), digest_of(l1)};
    layers = {put(l0gz), put(l1)};
    json cfg = {{"architecture", "amd64"},
                {"os", "linux"},
                {"config", {{"User", "0:0"}}},
                {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    std::string cfg_text = cfg.dump();
    config = put(cfg_text);
    json m = {{"schemaVersion", 2},
              {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
              {"config",
               {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                {"digest", config},
                {"size", cfg_text.size()}}},
              {"layers",
               {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                 {"digest", layers[0]},
                 {"size", l0gz.size()}},
                {{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                 {"digest", layers[1]},
                 {"size", l1.size()}}}}};
    std::string m_text = m.dump();
    manifest = put(m_text);
    const std::string other_text = R"({"schemaVersion":2,"layers":[]})";
    std::string other = put(other_text);
    json idx = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", other},
                   {"size", other_text.size()},
                   {"platform", {{"os", "linux"}, {"architecture", "s390x"}}}},
                  {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", manifest},
                   {"size", m_text.size()},
                   {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
    index = put(idx.dump());
  }

  ContentTarget manifest_target() const {
    return {"docker.io/library/app:1", "application/vnd.oci.image.manifest.v1+json", manifest};
  }
  ContentTarget index_target() const {
    return {"docker.io/library/app:1", "application/vnd.oci.image.index.v1+json", index};
  }
};

Result<Manifest> load(const FakeContentStore& s, const ContentTarget& t,
                      const std::string& platform = "linux/amd64") {
  ImageOptions options;
  options.platform = platform;
  auto plan = read_content_store_image(s.dir, t, options);
  if (!plan) return fail(std::move(plan).error());
  return build_image_manifest(*plan, "containerd:default/web", nullptr);
}

void flip_last_byte(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-1, std::ios::end);
  char c;
  f.get(c);
  f.seekp(-1, std::ios::end);
  f.put(static_cast<char>(c ^ 0x01));
}

} // namespace

TEST_CASE("content store: the store is <root>/io.containerd.content.v1.content") {
  CHECK(content_store_dir("/var/lib/containerd") ==
        "/var/lib/containerd/io.containerd.content.v1.content");
  CHECK(content_store_dir("/var/lib/containerd/") ==
        "/var/lib/containerd/io.containerd.content.v1.content");
}

TEST_CASE("content store: an image from its manifest digest, every layer verified") {
  FakeContentStore s;
  s.build();
  auto m = load(s, s.manifest_target());
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  REQUIRE(m->image);
  CHECK(m->image->manifest_digest == s.manifest);
  CHECK(m->image->config_digest == s.config);
  CHECK(m->image->reference == "docker.io/library/app:1");
  CHECK(m->image->user == "0:0");
  REQUIRE(m->image->layers.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(m->image->layers[i].verified);
    CHECK(m->image->layers[i].digest == s.layers[i]);
    CHECK(m->image->layers[i].diff_id == s.diff_ids[i]);
  }
  CHECK(m->find("/etc/passwd") != nullptr);
  CHECK(m->find("/usr/bin/app") != nullptr);
}

TEST_CASE("content store: an index target picks the platform's manifest") {
  FakeContentStore s;
  s.build();
  auto m = load(s, s.index_target());
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  CHECK(m->image->manifest_digest == s.manifest);
  auto none = load(s, s.index_target(), "linux/riscv64");
  REQUIRE(!none);
  CHECK(none.error().message.find("no manifest for platform linux/riscv64") != std::string::npos);
}

TEST_CASE("content store: corruption anywhere is an integrity error, exit 3") {
  FakeContentStore s;
  s.build();
  SUBCASE("a layer blob") {
    flip_last_byte(s.blob_file(s.layers[1]));
  }
  SUBCASE("a gzip layer blob") {
    flip_last_byte(s.blob_file(s.layers[0]));
  }
  SUBCASE("the config") {
    flip_last_byte(s.blob_file(s.config));
  }
  SUBCASE("the manifest") {
    flip_last_byte(s.blob_file(s.manifest));
  }
  auto m = load(s, s.index_target());
  REQUIRE(!m);
  CHECK(exit_status_for(m.error().kind) == ExitStatus::input);
  INFO(m.error().message);
  CHECK(m.error().message.find("containerd") != std::string::npos);
}

TEST_CASE("content store: a corrupted target is caught before anything is parsed") {
  FakeContentStore s;
  s.build();
  flip_last_byte(s.blob_file(s.manifest));
  auto m = load(s, s.manifest_target());
  REQUIRE(!m);
  CHECK(m.error().kind == ErrorKind::integrity);
  CHECK(m.error().message.find("digest mismatch") != std::string::npos);
}

TEST_CASE("content store: missing blobs, bad targets and symlinks are refused") {
  FakeContentStore s;
  s.build();
  SUBCASE("a missing layer") {
    fs::remove(s.blob_file(s.layers[0]));
    auto m = load(s, s.manifest_target());
    REQUIRE(!m);
    CHECK(m.error().kind == ErrorKind::input);
    CHECK(m.error().message.find("is missing") != std::string::npos);
  }
  SUBCASE("a target not in the store") {
    ContentTarget t = s.manifest_target();
    t.digest = "sha256:" + std::string(64, 'e');
    auto m = load(s, t);
    REQUIRE(!m);
    CHECK(m.error().message.find("is not in the content store") != std::string::npos);
  }
  SUBCASE("a target of another media type") {
    ContentTarget t = s.manifest_target();
    t.media_type = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    auto m = load(s, t);
    REQUIRE(!m);
    CHECK(m.error().kind == ErrorKind::input);
    CHECK(m.error().message.find("unsupported target media type") != std::string::npos);
  }
  SUBCASE("a malformed target digest") {
    ContentTarget t = s.manifest_target();
    t.digest = "sha256:../../etc/passwd";
    auto m = load(s, t);
    REQUIRE(!m);
    CHECK(m.error().kind == ErrorKind::input);
  }
  SUBCASE("a layer blob that is a symlink") {
    std::string f = s.blob_file(s.layers[1]);
    fs::rename(f, s.root + "/elsewhere");
    fs::create_symlink(s.root + "/elsewhere", f);
    auto m = load(s, s.manifest_target());
    REQUIRE(!m);
    INFO(m.error().message);
    CHECK(m.error().message.find("symlink") != std::string::npos);
  }
  SUBCASE("a store directory that does not exist") {
    ImageOptions options;
    auto plan = read_content_store_image(s.root + "/nope", s.manifest_target(), options);
    REQUIRE(!plan);
    CHECK(plan.error().kind == ErrorKind::input);
  }
}

TEST_CASE("content store: only blobs are content") {
  FakeContentStore s;
  s.build();
  auto store = open_content_store(s.dir, s.manifest_target());
  REQUIRE(store);
  CHECK((*store)->exists("index.json"));
  CHECK(!(*store)->open("ingest").has_value());
  auto index = (*store)->read_document("index.json", 4096);
  REQUIRE(index);
  auto j = json::parse(*index);
  CHECK(j["manifests"][0]["digest"] == s.manifest);
}
