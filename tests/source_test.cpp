// Sources: decompression, byte stacks, tar reading, image documents and digests,
// source detection and the directory walker, all built by the test.
#include "cdrift/layer/image_manifest.hpp"
#include "cdrift/layer/load.hpp"
#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/source/blob_store.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/detect.hpp"
#include "cdrift/source/dir_reader.hpp"
#include "cdrift/source/image.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "cdrift/util/sha256.hpp"
#include "test_tar.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

using namespace cdrift;
using namespace cdrift::test;
using nlohmann::json;

namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Decompresses `data` fully; the detected compression goes to `detected`.
Result<std::string> inflate_all(std::string data, Compression* detected = nullptr) {
  auto src = open_decompressed(std::make_unique<MemorySource>(std::move(data), "blob"), detected);
  if (!src) return fail(std::move(src).error());
  return read_all(**src, 1u << 30);
}

std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s;
  s.reserve(n);
  std::uint32_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    // Half text, half noise: compresses, but not to nothing.
    s.push_back(i % 2 ? static_cast<char>('a' + (i / 7) % 26) : static_cast<char>(x >> 24));
  }
  return s;
}

// Reads a whole source with tiny, odd-sized reads to exercise buffer edges.
std::string read_in_small_steps(ByteSource& src) {
  std::string out;
  std::uint8_t buf[7];
  for (;;) {
    auto n = src.read(buf, sizeof buf);
    REQUIRE(n);
    if (*n == 0) return out;
    out.append(reinterpret_cast<const char*>(buf), *n);
  }
}

void write_file(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

} // namespace

TEST_CASE("decompression: plain, gzip (single and multi-member), zstd") {
  const std::string data = pattern(300000);
  const std::string tar = make_tar({tfile("a", data), tdir("d")});
  struct Case {
    const char* name;
    std::string input;
    std::string expected;
    Compression compression;
  };
  std::vector<Case> cases = {
      {"plain", data, data, Compression::none},
      {"gzip", compress_bytes(data, Compress::gzip), data, Compression::gzip},
      {"gzip multi-member",
       compress_bytes(data.substr(0, 1000), Compress::gzip) +
           compress_bytes(data.substr(1000), Compress::gzip) + compress_bytes("", Compress::gzip),
       data, Compression::gzip},
      {"zstd", compress_bytes(data, Compress::zstd), data, Compression::zstd},
      {"zstd two frames",
       compress_bytes("first", Compress::zstd) + compress_bytes("second", Compress::zstd),
       "firstsecond", Compression::zstd},
      {"gzip tar", compress_bytes(tar, Compress::gzip), tar, Compression::gzip},
      {"zstd tar", compress_bytes(tar, Compress::zstd), tar, Compression::zstd},
      {"tiny plain input", "ab", "ab", Compression::none},
      {"empty input", "", "", Compression::none},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      Compression detected = Compression::unsupported;
      auto out = inflate_all(c.input, &detected);
      REQUIRE_MESSAGE(out, (out ? "" : out.error().message));
      CHECK(*out == c.expected);
      CHECK(detected == c.compression);
      // The same through tiny reads.
      auto src = open_decompressed(std::make_unique<MemorySource>(c.input, "blob"));
      REQUIRE(src);
      CHECK(read_in_small_steps(**src) == c.expected);
    }
  }
}

TEST_CASE("decompression errors") {
  const std::string data = pattern(200000);
  const std::string gz = compress_bytes(data, Compress::gzip);
  const std::string zs = compress_bytes(data, Compress::zstd);
  REQUIRE(gz.size() > 100);
  REQUIRE(zs.size() > 100);

  SUBCASE("truncated gzip says truncated") {
    for (std::size_t cut :
         {std::size_t{10}, gz.size() / 2, gz.size() - 8, gz.size() - 4, gz.size() - 1}) {
      INFO("cut at " << cut << " of " << gz.size());
      auto out = inflate_all(gz.substr(0, cut));
      REQUIRE_FALSE(out);
      CHECK(out.error().kind == ErrorKind::input);
      CHECK(contains(out.error().message, "truncated"));
      CHECK(contains(out.error().message, "blob"));
    }
  }
  SUBCASE("corrupt gzip CRC or length is an error") {
    for (std::size_t from_end : {8u, 5u, 4u, 1u}) {
      INFO(from_end << " bytes from the end");
      std::string bad = gz;
      bad[bad.size() - from_end] ^= 0x55;
      auto out = inflate_all(bad);
      REQUIRE_FALSE(out);
      CHECK(out.error().kind == ErrorKind::input);
      CHECK(contains(out.error().message, "gzip"));
    }
  }
  SUBCASE("corrupt deflate data is an error") {
    std::string bad = gz;
    for (std::size_t i = 20; i < 60; ++i)
      bad[i] = static_cast<char>(0xff);
    auto out = inflate_all(bad);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::input);
  }
  SUBCASE("garbage after a gzip member is an error") {
    auto out = inflate_all(gz + "trailing garbage");
    REQUIRE_FALSE(out);
    CHECK(contains(out.error().message, "gzip"));
  }
  SUBCASE("truncated zstd is an error") {
    for (std::size_t cut : {std::size_t{5}, zs.size() / 2, zs.size() - 1}) {
      INFO("cut at " << cut << " of " << zs.size());
      auto out = inflate_all(zs.substr(0, cut));
      REQUIRE_FALSE(out);
      CHECK(out.error().kind == ErrorKind::input);
      CHECK(contains(out.error().message, "zstd"));
    }
  }
  SUBCASE("corrupt zstd is an error") {
    std::string bad = zs;
    for (std::size_t i = 12; i < 40; ++i)
      bad[i] = static_cast<char>(bad[i] ^ 0xa5);
    auto out = inflate_all(bad);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::input);
  }
  SUBCASE("xz and bzip2 are reported unsupported") {
    for (std::string magic : {std::string("\xfd"
                                          "7zXZ\0\0\0\0\0",
                                          10),
                              std::string("BZh91AY&SY")}) {
      CHECK(detect_compression(magic) == Compression::unsupported);
      auto out = inflate_all(magic + pattern(100));
      REQUIRE_FALSE(out);
      CHECK(out.error().kind == ErrorKind::input);
      CHECK(contains(out.error().message, "xz or bzip2"));
    }
  }
}

TEST_CASE("detect_compression on magic bytes") {
  CHECK(detect_compression("\x1f\x8b") == Compression::gzip);
  CHECK(detect_compression("\x1f") == Compression::none);
  CHECK(detect_compression("\x28\xb5\x2f\xfd") == Compression::zstd);
  CHECK(detect_compression("\x28\xb5\x2f") == Compression::none);
  CHECK(detect_compression("ustar") == Compression::none);
  CHECK(detect_compression("") == Compression::none);
  CHECK(to_string(Compression::zstd) == "zstd");
}

TEST_CASE("DigestSource counts and hashes every byte that passes") {
  const std::string data = pattern(150001);
  auto digest = std::make_unique<DigestSource>(std::make_unique<MemorySource>(data, "d"));
  std::uint8_t buf[1000];
  auto n = digest->read(buf, sizeof buf);
  REQUIRE(n);
  CHECK(*n == 1000);
  CHECK(digest->bytes() == 1000);
  REQUIRE(digest->drain());
  CHECK(digest->bytes() == data.size());
  CHECK(to_hex(digest->finish()) == sha256_hex(data));
  CHECK(digest->name() == "d");

  DigestSource empty(std::make_unique<MemorySource>("", "e"));
  REQUIRE(empty.drain());
  CHECK(empty.bytes() == 0);
  CHECK(to_hex(empty.finish()) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("PrefixSource replays the prefix, then the rest") {
  PrefixSource p("abc", std::make_unique<MemorySource>("defgh", "inner"));
  CHECK(p.name() == "inner");
  CHECK(read_in_small_steps(p) == "abcdefgh");
  PrefixSource q("", std::make_unique<MemorySource>("xyz", "inner"));
  CHECK(read_in_small_steps(q) == "xyz");
  PrefixSource r("only", std::make_unique<MemorySource>("", "inner"));
  std::uint8_t buf[2];
  auto n = r.read(buf, 2);
  REQUIRE(n);
  CHECK(*n == 2);
  CHECK(read_in_small_steps(r) == "ly");
}

TEST_CASE("read_all enforces its limit; read_full fills") {
  MemorySource src(pattern(1000), "doc");
  auto all = read_all(src, 999);
  REQUIRE_FALSE(all);
  CHECK(contains(all.error().message, "doc"));
  MemorySource src2("12345", "doc");
  std::uint8_t buf[8];
  auto n = read_full(src2, buf, sizeof buf);
  REQUIRE(n);
  CHECK(*n == 5);
}

TEST_CASE("TarReader on truncated, garbage and empty input") {
  const std::string tar =
      make_tar({tfile("a", pattern(5000)), tfile("b", pattern(5000, 2)), tdir("c")});
  auto apply = [](const std::string& bytes) -> Status {
    MemorySource src(bytes, "export.tar");
    TarReader reader(src, "export.tar");
    CDRIFT_TRY(reader.open());
    TreeBuilder builder;
    return builder.apply(reader, -1, Whiteouts::literal);
  };
  REQUIRE(apply(tar));
  SUBCASE("truncated inside a member's data") {
    for (std::size_t cut : {std::size_t{700}, std::size_t{5000}, std::size_t{512 + 5120 + 100}}) {
      INFO("cut at " << cut);
      auto st = apply(tar.substr(0, cut));
      REQUIRE_FALSE(st);
      CHECK(st.error().kind == ErrorKind::input);
      CHECK(contains(st.error().message, "export.tar"));
    }
  }
  SUBCASE("truncated inside a header") {
    auto st = apply(tar.substr(0, 512 + 5120 + 200));
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == ErrorKind::input);
  }
  SUBCASE("not a tar") {
    auto st = apply(std::string(4096, 'x'));
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == ErrorKind::input);
    CHECK(contains(st.error().message, "export.tar"));
  }
  SUBCASE("0-byte input is an error, not an empty tree") {
    auto st = apply("");
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == ErrorKind::input);
  }
  SUBCASE("an empty tar (only the end marker) is an empty tree") {
    MemorySource src(std::string(1024, '\0'), "empty.tar");
    TarReader reader(src, "empty.tar");
    REQUIRE(reader.open());
    TreeBuilder builder;
    REQUIRE(builder.apply(reader, -1, Whiteouts::literal));
    CHECK(builder.size() == 1); // the root
  }
  SUBCASE("member count") {
    MemorySource src(tar, "t");
    TarReader reader(src, "t");
    REQUIRE(reader.open());
    TreeBuilder builder;
    REQUIRE(builder.apply(reader, -1, Whiteouts::literal));
    CHECK(reader.members() == 3);
  }
}

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

TEST_CASE("looks_like_image_archive on tars built in memory") {
  std::string hex(64, 'a');
  std::string hex2(64, 'b');
  struct Case {
    const char* name;
    std::string tar;
    bool expected;
  };
  std::vector<Case> cases = {
      {"oci-archive",
       make_tar({tfile("oci-layout", "{}"), tfile("index.json", "{}"), tdir("blobs"),
                 tdir("blobs/sha256"), tfile("blobs/sha256/" + hex, "x")}),
       true},
      {"oci-archive, blobs first",
       make_tar({tdir("blobs/"), tdir("blobs/sha256/"), tfile("blobs/sha256/" + hex, "x"),
                 tfile("index.json", "{}"), tfile("oci-layout", "{}")}),
       true},
      {"oci-archive with ./ names", make_tar({tdir("./"), tfile("./oci-layout", "{}")}), true},
      {"docker save, legacy order",
       make_tar({tdir(hex + "/"), tfile(hex + "/VERSION", "1.0"), tfile(hex + "/json", "{}"),
                 tfile(hex + "/layer.tar", "x"), tfile(hex2 + ".json", "{}"),
                 tfile("manifest.json", "[]"), tfile("repositories", "{}")}),
       true},
      {"docker save, config first (lexical order)",
       make_tar({tfile(hex2 + ".json", "{}"), tdir(hex + "/"), tfile(hex + "/VERSION", "1.0")}),
       true},
      {"docker save without layers",
       make_tar({tfile(hex2 + ".json", "{}"), tfile("manifest.json", "[]")}), true},
      {"docker save in gnutar format",
       make_tar({tdir(hex + "/"), tfile(hex + "/layer.tar", "x")}, TarFormat::gnutar), true},
      {"rootfs",
       make_tar({tdir("bin"), tfile("bin/sh", "elf"), tdir("etc"), tfile("etc/passwd", "root")}),
       false},
      {"rootfs with ./ prefix", make_tar({tdir("./"), tdir("./etc"), tfile("./etc/hostname", "h")}),
       false},
      {"rootfs with a hex-named directory",
       make_tar({tdir(hex + "/"), tfile(hex + "/readme", "x")}), false},
      // A container can plant such a directory to make its export look like an
      // image archive (and fail to load instead of showing drift).
      {"export with a planted hex directory",
       make_tar({tfile(".dockerenv"), tdir(std::string(64, '0') + "/"),
                 tfile(std::string(64, '0') + "/x", "x"), tdir("bin"), tfile("bin/sh", "elf")}),
       false},
      {"rootfs with a long first name",
       make_tar({tfile(std::string(150, 'n'), "x"), tfile("etc/os-release", "x")},
                TarFormat::gnutar),
       false},
      {"not a tar", std::string(2048, 'z'), false},
      {"empty", std::string(), false},
  };
  for (const auto& c : cases) {
    INFO(std::string(c.name));
    CHECK(looks_like_image_archive(c.tar) == c.expected);
  }
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

TEST_CASE("clean_store_name rejects names leaving the store") {
  struct Case {
    std::string raw;
    std::string expected; // empty: rejected
  };
  std::vector<Case> cases = {
      {"blobs/sha256/abc", "blobs/sha256/abc"},
      {"./blobs//sha256/abc", "blobs/sha256/abc"},
      {"a/../b.json", "b.json"},
      {"../x", ""},
      {"a/../../x", ""},
      {"/x", ""},
      {"/etc/passwd", ""},
      {"", ""},
      {".", ""},
      {"./", ""},
  };
  for (const auto& c : cases) {
    INFO(c.raw);
    auto r = clean_store_name(c.raw, "save.tar", "layer 0");
    if (c.expected.empty()) {
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == ErrorKind::input);
      CHECK(contains(r.error().message, "save.tar"));
    } else {
      REQUIRE(r);
      CHECK(*r == c.expected);
    }
  }
}

TEST_CASE("blob_path accepts only sha256 digests") {
  std::string hex(64, 'c');
  auto ok = blob_path("sha256:" + hex, "s");
  REQUIRE(ok);
  CHECK(*ok == "blobs/sha256/" + hex);
  for (std::string bad :
       {"sha512:" + hex, "sha256:" + hex.substr(1), std::string("sha256:../../../etc/passwd"),
        std::string("sha256:") + std::string(64, 'g'), std::string("")}) {
    INFO(bad);
    auto r = blob_path(bad, "s");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::input);
  }
}

// ---- OCI image layouts written by the test ---------------------------------

namespace {

struct LayerSpec {
  std::vector<TarEntry> entries;
  Compress compress = Compress::none;
};

const char* layer_media_type(Compress c) {
  switch (c) {
  case Compress::gzip:
    return "application/vnd.oci.image.layer.v1.tar+gzip";
  case Compress::zstd:
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  case Compress::none:
    break;
  }
  return "application/vnd.oci.image.layer.v1.tar";
}

// An OCI layout in memory: blobs by hex digest plus index.json; tests tamper with
// the documents through hooks before they are serialised and hashed.
struct Layout {
  std::map<std::string, std::string> blobs; // hex -> bytes
  std::string index_text;
  std::string oci_layout = R"({"imageLayoutVersion":"1.0.0"})";

  std::string add_blob(std::string data) {
    std::string hex = sha256_hex(data);
    blobs[hex] = std::move(data);
    return "sha256:" + hex;
  }

  struct Image {
    json manifest_descriptor;
    std::vector<std::string> layer_digests;
    std::vector<std::string> diff_ids;
    std::vector<std::uint64_t> layer_sizes;
    std::string config_digest;
  };

  using Hook = std::function<void(json& config, json& manifest)>;

  Image add_image(const std::vector<LayerSpec>& layers, const std::string& os = "linux",
                  const std::string& arch = "amd64", const Hook& hook = nullptr) {
    Image img;
    json config = {{"architecture", arch},
                   {"os", os},
                   {"created", "2024-01-01T00:00:00Z"},
                   {"config", {{"User", "app"}, {"Cmd", {"/bin/sh"}}}},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}},
                   {"history", json::array()}};
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"layers", json::array()}};
    for (std::size_t i = 0; i < layers.size(); ++i) {
      std::string tar = make_tar(layers[i].entries);
      std::string blob = compress_bytes(tar, layers[i].compress);
      std::string diff_id = "sha256:" + sha256_hex(tar);
      std::string digest = add_blob(blob);
      img.layer_digests.push_back(digest);
      img.diff_ids.push_back(diff_id);
      img.layer_sizes.push_back(blob.size());
      config["rootfs"]["diff_ids"].push_back(diff_id);
      config["history"].push_back({{"created_by", "step " + std::to_string(i)}});
      if (i == 0) config["history"].push_back({{"created_by", "ENV x=y"}, {"empty_layer", true}});
      manifest["layers"].push_back({{"mediaType", layer_media_type(layers[i].compress)},
                                    {"digest", digest},
                                    {"size", blob.size()}});
    }
    if (hook) hook(config, manifest);
    std::string config_text = config.dump();
    img.config_digest = add_blob(config_text);
    manifest["config"] = {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                          {"digest", img.config_digest},
                          {"size", config_text.size()}};
    std::string manifest_text = manifest.dump();
    img.manifest_descriptor = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                               {"digest", add_blob(manifest_text)},
                               {"size", manifest_text.size()},
                               {"platform", {{"os", os}, {"architecture", arch}}}};
    return img;
  }

  void set_index(const std::vector<json>& manifests) {
    json index = {{"schemaVersion", 2}, {"manifests", manifests}};
    index_text = index.dump(2);
  }

  void write(const std::string& dir) const {
    ::mkdir((dir + "/blobs").c_str(), 0755);
    ::mkdir((dir + "/blobs/sha256").c_str(), 0755);
    write_file(dir + "/oci-layout", oci_layout);
    write_file(dir + "/index.json", index_text);
    for (const auto& [hex, data] : blobs)
      write_file(dir + "/blobs/sha256/" + hex, data);
  }

  // The same layout as an oci-archive tar.
  std::string archive() const {
    std::vector<TarEntry> t = {tfile("oci-layout", oci_layout), tfile("index.json", index_text),
                               tdir("blobs"), tdir("blobs/sha256")};
    for (const auto& [hex, data] : blobs)
      t.push_back(tfile("blobs/sha256/" + hex, data));
    return make_tar(t);
  }
};

Result<Manifest> load_layout(const std::string& dir, const std::string& platform = "") {
  auto store = open_dir_store(dir);
  if (!store) return fail(std::move(store).error());
  ImageOptions options;
  options.platform = platform;
  auto plan = read_oci_image(std::move(*store), SourceKind::oci_layout, options);
  if (!plan) return fail(std::move(plan).error());
  return build_image_manifest(*plan, dir, nullptr);
}

std::vector<LayerSpec> two_layers() {
  return {
      {{tdir("etc"), tfile("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
        tfile("bin/sh", "#!elf", 0755), tdir("lib"), tfile("lib/libold.so", "old"),
        tfile("tmp/a", "a")},
       Compress::gzip},
      {{tfile("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
        tfile("lib/.wh.libold.so"), tfile("usr/bin/tool", "tool", 0755),
        thardlink("usr/bin/sh2", "bin/sh")},
       Compress::zstd},
  };
}

std::string paths_of(const Manifest& m) {
  std::string s;
  for (const auto& e : m.entries)
    s += e.path + " ";
  return s;
}

} // namespace

TEST_CASE("OCI layout: a two-layer image (gzip + zstd) end to end") {
  TempDir dir;
  Layout layout;
  auto img = layout.add_image(two_layers());
  layout.set_index({img.manifest_descriptor});
  layout.write(dir.path());

  auto m = load_layout(dir.path(), "linux/amd64");
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  CHECK(m->kind == SourceKind::oci_layout);
  CHECK(
      paths_of(*m) ==
      "/ /bin /bin/sh /etc /etc/passwd /lib /tmp /tmp/a /usr /usr/bin /usr/bin/sh2 /usr/bin/tool ");
  CHECK(m->find("/etc/passwd")->layer == 1);
  CHECK(m->find("/bin/sh")->layer == 0);
  CHECK(to_hex(*m->find("/usr/bin/sh2")->sha256) == sha256_hex("#!elf"));
  CHECK(m->captures.files.at("/etc/passwd") ==
        "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");

  REQUIRE(m->image);
  const ImageInfo& info = *m->image;
  CHECK(info.manifest_digest == img.manifest_descriptor["digest"].get<std::string>());
  CHECK(info.config_digest == img.config_digest);
  CHECK(info.platform == "linux/amd64");
  CHECK(info.user == "app");
  REQUIRE(info.layers.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    INFO("layer " << i);
    CHECK(info.layers[i].digest == img.layer_digests[i]);
    CHECK(info.layers[i].diff_id == img.diff_ids[i]);
    CHECK(info.layers[i].size == img.layer_sizes[i]);
    CHECK(info.layers[i].verified);
  }
  CHECK(info.layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(info.layers[1].media_type == "application/vnd.oci.image.layer.v1.tar+zstd");
  // History steps with empty_layer do not shift the layer attribution.
  CHECK(info.layers[0].created_by == "step 0");
  CHECK(info.layers[1].created_by == "step 1");

  SUBCASE("the same image as an oci-archive tar file, detected and forced") {
    write_file(dir / "image.tar", layout.archive());
    for (std::string spec : {dir / "image.tar", "oci-archive:" + (dir / "image.tar")}) {
      INFO(spec);
      auto a = load_manifest(parse_source_spec(spec), Side::image, LoadOptions{});
      REQUIRE_MESSAGE(a, (a ? "" : a.error().message));
      CHECK(a->kind == SourceKind::oci_archive);
      CHECK(paths_of(*a) == paths_of(*m));
      REQUIRE(a->image);
      CHECK(a->image->manifest_digest == info.manifest_digest);
      for (std::size_t i = 0; i < a->entries.size(); ++i) {
        CHECK(a->entries[i].sha256 == m->entries[i].sha256);
        CHECK(a->entries[i].layer == m->entries[i].layer);
      }
    }
  }
  SUBCASE("load_manifest on the layout directory") {
    auto a = load_manifest(parse_source_spec(dir.path()), Side::image, LoadOptions{});
    REQUIRE_MESSAGE(a, (a ? "" : a.error().message));
    CHECK(a->kind == SourceKind::oci_layout);
    CHECK(paths_of(*a) == paths_of(*m));
  }
}

TEST_CASE("OCI layout: integrity and input errors") {
  struct Case {
    const char* name;
    std::function<void(Layout&, Layout::Image&)> tamper; // after add_image, before write
    Layout::Hook hook;                                   // on config and manifest JSON
    ErrorKind kind;
    std::vector<std::string> message_parts;
  };
  std::vector<LayerSpec> plain = {{{tfile("a", "AAAA")}, Compress::none},
                                  {{tfile("b", "B")}, Compress::gzip}};
  std::vector<Case> cases = {
      {"layer blob digest mismatch (same size, other bytes)",
       [](Layout& l, Layout::Image& img) {
         l.blobs[img.layer_digests[0].substr(7)] = make_tar({tfile("a", "ZZZZ")});
       },
       nullptr,
       ErrorKind::integrity,
       {"digest mismatch", "layer 0"}},
      {"layer size mismatch",
       nullptr,
       [](json&, json& manifest) {
         manifest["layers"][1]["size"] = manifest["layers"][1]["size"].get<std::uint64_t>() + 1;
       },
       ErrorKind::integrity,
       {"size mismatch", "layer 1"}},
      {"diff_id mismatch",
       nullptr,
       [](json& config, json&) {
         config["rootfs"]["diff_ids"][1] = "sha256:" + std::string(64, '0');
       },
       ErrorKind::integrity,
       {"diff_id mismatch", "layer 1"}},
      {"diff_ids count differs from layers",
       nullptr,
       [](json& config, json&) { config["rootfs"]["diff_ids"].erase(1); },
       ErrorKind::integrity,
       {"diff_ids"}},
      {"missing layer blob",
       [](Layout& l, Layout::Image& img) { l.blobs.erase(img.layer_digests[1].substr(7)); },
       nullptr,
       ErrorKind::input,
       {"missing", "layer 1"}},
      {"missing config blob",
       [](Layout& l, Layout::Image& img) { l.blobs.erase(img.config_digest.substr(7)); },
       nullptr,
       ErrorKind::input,
       {"missing"}},
      {"manifest blob altered",
       [](Layout& l, Layout::Image& img) {
         std::string hex = img.manifest_descriptor["digest"].get<std::string>().substr(7);
         std::string& text = l.blobs[hex];
         text[text.size() - 2] = text[text.size() - 2] == ' ' ? '\n' : ' ';
       },
       nullptr,
       ErrorKind::integrity,
       {"manifest"}},
      {"bad JSON in index.json with line and column",
       [](Layout& l, Layout::Image&) { l.index_text = "{\n  \"manifests\": [\n    {,}\n  ]\n}\n"; },
       nullptr,
       ErrorKind::input,
       {"index.json:3:", "invalid JSON"}},
      {"index.json nested 100000 deep",
       [](Layout& l, Layout::Image&) { l.index_text = std::string(100000, '['); },
       nullptr,
       ErrorKind::input,
       {"index.json", "nested deeper"}},
      {"config nested 200 deep (digest correct)",
       nullptr,
       [](json& config, json&) {
         json deep = json::array();
         for (int i = 0; i < 200; ++i)
           deep = json::array({deep});
         config["deep"] = deep;
       },
       ErrorKind::input,
       {"config", "nested deeper"}},
      {"malformed layer digest",
       nullptr,
       [](json&, json& manifest) {
         manifest["layers"][0]["digest"] = "sha256:../../../../etc/passwd";
       },
       ErrorKind::input,
       {"malformed digest"}},
      {"no oci-layout version",
       [](Layout& l, Layout::Image&) { l.oci_layout = "{}"; },
       nullptr,
       ErrorKind::input,
       {"imageLayoutVersion"}},
  };
  for (auto& c : cases) {
    SUBCASE(c.name) {
      TempDir dir;
      Layout layout;
      auto img = layout.add_image(plain, "linux", "amd64", c.hook);
      layout.set_index({img.manifest_descriptor});
      if (c.tamper) c.tamper(layout, img);
      layout.write(dir.path());
      auto m = load_layout(dir.path(), "linux/amd64");
      REQUIRE_FALSE(m);
      CHECK(m.error().kind == c.kind);
      for (const auto& part : c.message_parts) {
        INFO("message: " << m.error().message);
        CHECK(contains(m.error().message, part));
      }
      CHECK(m.error().message.find('\n') == std::string::npos); // one line
      CHECK(contains(m.error().message, dir.path()));           // names the input
    }
  }
}

TEST_CASE("OCI layout: a truncated gzip layer with honest digests fails as truncated") {
  // The manifest's descriptor matches the truncated blob; decompression must notice.
  TempDir dir;
  Layout layout;
  std::string tar = make_tar({tfile("big", pattern(100000))});
  std::string gz = compress_bytes(tar, Compress::gzip);
  std::string cut = gz.substr(0, gz.size() / 2);
  std::string digest = layout.add_blob(cut);
  json config = {{"architecture", "amd64"},
                 {"os", "linux"},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + sha256_hex(tar)}}}}};
  std::string config_text = config.dump();
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config",
                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                     {"digest", layout.add_blob(config_text)},
                     {"size", config_text.size()}}},
                   {"layers",
                    {{{"mediaType", layer_media_type(Compress::gzip)},
                      {"digest", digest},
                      {"size", cut.size()}}}}};
  std::string manifest_text = manifest.dump();
  layout.set_index({{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"digest", layout.add_blob(manifest_text)},
                     {"size", manifest_text.size()}}});
  layout.write(dir.path());
  auto m = load_layout(dir.path());
  REQUIRE_FALSE(m);
  CHECK(m.error().kind == ErrorKind::input);
  CHECK(contains(m.error().message, "truncated"));
  CHECK(contains(m.error().message, digest.substr(7))); // names the blob
}

TEST_CASE("OCI layout: platform selection") {
  TempDir dir;
  Layout layout;
  auto amd = layout.add_image({{{tfile("arch", "amd64")}, Compress::gzip}}, "linux", "amd64");
  auto arm = layout.add_image({{{tfile("arch", "arm64")}, Compress::gzip}}, "linux", "arm64");
  arm.manifest_descriptor["platform"]["variant"] = "v8";
  layout.set_index({amd.manifest_descriptor, arm.manifest_descriptor});
  layout.write(dir.path());

  struct Case {
    std::string platform;
    std::string content; // empty: no match
  };
  std::vector<Case> cases = {
      {"linux/amd64", "amd64"}, {"linux/arm64", "arm64"}, {"linux/arm64/v8", "arm64"},
      {"linux/s390x", ""},      {"linux/arm64/v7", ""},   {"windows/amd64", ""},
  };
  for (const auto& c : cases) {
    INFO(c.platform);
    auto m = load_layout(dir.path(), c.platform);
    if (c.content.empty()) {
      REQUIRE_FALSE(m);
      CHECK(m.error().kind == ErrorKind::usage);
      CHECK(contains(m.error().message, c.platform));
      CHECK(contains(m.error().message, "linux/amd64"));
      CHECK(contains(m.error().message, "linux/arm64/v8"));
    } else {
      REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
      CHECK(to_hex(*m->find("/arch")->sha256) == sha256_hex(c.content));
    }
  }
}

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

// ---- directories on the host ------------------------------------------------

namespace {

void set_mtime(const std::string& path, std::int64_t t) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(t);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0);
}

Result<Manifest> walk(const std::string& root) {
  DirReader reader(root);
  CDRIFT_TRY(reader.open());
  TreeBuilder builder;
  CDRIFT_TRY(builder.apply(reader, -1, Whiteouts::literal));
  return builder.finish(root, SourceKind::directory);
}

} // namespace

TEST_CASE("DirReader gives the same manifest as a tar of the same tree") {
  TempDir outer;
  std::string root = outer / "root";
  REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  write_file(outer / "outside-secret", "host secret");
  std::uint32_t uid = ::getuid(), gid = ::getgid();

  // path, type, mode, content or link target, mtime
  struct Node {
    std::string path;
    FileType type;
    std::uint32_t mode;
    std::string data;
    std::int64_t mtime;
  };
  std::vector<Node> nodes = {
      {"etc", FileType::dir, 0755, "", 1000},
      {"etc/passwd", FileType::file, 0644, "root:x:0:0::/root:/bin/sh\n", 1001},
      {"etc/empty", FileType::file, 0600, "", 1002},
      {"bin", FileType::dir, 0711, "", 1003},
      {"bin/tool", FileType::file, 04755, pattern(70000), 1004},
      {"a", FileType::dir, 0755, "", 1005},
      {"a/b", FileType::dir, 0700, "", 1006},
      {"a/b/c", FileType::dir, 0755, "", 1007},
      {"a/b/c/deep", FileType::file, 0640, "deep", 1008},
      {"link-abs", FileType::symlink, 0777, "/etc/shadow", 1009},
      {"link-out", FileType::symlink, 0777, "../outside-secret", 1010},
      {"link-root", FileType::symlink, 0777, "/", 1011},
      {"a/dirlink", FileType::symlink, 0777, "..", 1012},
      {"fifo", FileType::fifo, 0644, "", 1013},
      {"name with space", FileType::file, 0644, "s", 1014},
      {".wh.literal", FileType::file, 0644, "w", 1015},
  };
  for (const auto& n : nodes) {
    std::string p = root + "/" + n.path;
    switch (n.type) {
    case FileType::dir:
      REQUIRE(::mkdir(p.c_str(), 0700) == 0);
      break;
    case FileType::file:
      write_file(p, n.data);
      break;
    case FileType::symlink:
      REQUIRE(::symlink(n.data.c_str(), p.c_str()) == 0);
      break;
    case FileType::fifo:
      REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
      break;
    default:
      FAIL("unexpected type");
    }
    if (n.type != FileType::symlink) REQUIRE(::chmod(p.c_str(), n.mode) == 0);
  }
  REQUIRE(::chmod(root.c_str(), 0751) == 0);
  // Times last: creating children moves a directory's mtime.
  for (const auto& n : nodes)
    set_mtime(root + "/" + n.path, n.mtime);
  set_mtime(root, 999);

  std::vector<TarEntry> table = {tdir("./", 0751).own(uid, gid).at(999)};
  for (const auto& n : nodes) {
    TarEntry e;
    switch (n.type) {
    case FileType::dir:
      e = tdir("./" + n.path + "/", n.mode);
      break;
    case FileType::file:
      e = tfile("./" + n.path, n.data, n.mode);
      break;
    case FileType::symlink:
      e = tsymlink("./" + n.path, n.data);
      break;
    default:
      e = tfifo("./" + n.path);
      e.mode = n.mode;
      break;
    }
    table.push_back(e.own(uid, gid).at(n.mtime));
  }

  // A FIFO in the tree must not block the walk.
  auto walked = std::async(std::launch::async, [&] { return walk(root); });
  if (walked.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    int fd = ::open((root + "/fifo").c_str(), O_RDWR | O_NONBLOCK); // release a blocked reader
    walked.wait();
    if (fd >= 0) ::close(fd);
    FAIL("DirReader blocked on a FIFO");
  }
  auto from_dir = walked.get();
  REQUIRE_MESSAGE(from_dir, (from_dir ? "" : from_dir.error().message));

  MemorySource src(make_tar(table), "tree.tar");
  TarReader reader(src, "tree.tar");
  REQUIRE(reader.open());
  TreeBuilder builder;
  REQUIRE(builder.apply(reader, -1, Whiteouts::literal));
  Manifest from_tar = builder.finish("tree.tar", SourceKind::rootfs_tar);

  CHECK(paths_of(*from_dir) == paths_of(from_tar));
  REQUIRE(from_dir->entries.size() == nodes.size() + 1);
  REQUIRE(from_dir->entries.size() == from_tar.entries.size());
  for (std::size_t i = 0; i < from_tar.entries.size(); ++i) {
    const Entry& d = from_dir->entries[i];
    const Entry& t = from_tar.entries[i];
    INFO(t.path);
    CHECK(d.path == t.path);
    CHECK(d.type == t.type);
    CHECK(d.mode == t.mode);
    CHECK(d.uid == t.uid);
    CHECK(d.gid == t.gid);
    CHECK(d.size == t.size);
    CHECK(d.sha256 == t.sha256);
    CHECK(d.target == t.target);
    CHECK(d.mtime == t.mtime);
    CHECK(d.xattrs == t.xattrs);
    CHECK(d.layer == t.layer);
    CHECK(d.content_class == t.content_class);
  }
  CHECK(from_dir->captures.files == from_tar.captures.files);
  // Links are recorded, never followed: nothing below them, nothing from outside.
  CHECK(from_dir->find("/link-out")->type == FileType::symlink);
  CHECK(from_dir->find("/link-out")->target == "../outside-secret");
  CHECK(from_dir->find("/link-root")->type == FileType::symlink);
  for (const auto& e : from_dir->entries) {
    CHECK_FALSE(e.path.starts_with("/link-root/"));
    CHECK_FALSE(e.path.starts_with("/a/dirlink/"));
    if (e.sha256) CHECK(to_hex(*e.sha256) != sha256_hex("host secret"));
  }
  CHECK(from_dir->find("/fifo")->type == FileType::fifo);
}

TEST_CASE("DirReader on a missing directory is an input error naming it") {
  TempDir outer;
  auto m = walk(outer / "nope");
  REQUIRE_FALSE(m);
  CHECK(m.error().kind == ErrorKind::input);
  CHECK(contains(m.error().message, "nope"));
}
