// OCI image layouts (source/oci_image.cpp) written by the test, read end to end.
#include "cdrift/layer/load.hpp"
#include "cdrift/source/blob_store.hpp"
#include "cdrift/source/image.hpp"
#include "cdrift/util/sha256.hpp"
#include "layer/image_manifest.hpp"
#include "source_helpers.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

using namespace cdrift;
using namespace cdrift::test;
using nlohmann::json;

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
