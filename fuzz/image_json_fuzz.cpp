// libFuzzer: the image documents (index.json, a nested image index, an image
// manifest, an image config, docker's manifest.json and its config) through the
// real readers. Each input is one selector byte and one document; the rest of the
// image is a fixed, consistent in-memory layout whose descriptors are computed
// here, so a fuzzed document is reached through verified digests and a plan that
// comes out is applied for real.
#include "cdrift/layer/load.hpp"
#include "cdrift/source/blob_store.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/image.hpp"
#include "cdrift/util/sha256.hpp"
#include "layer/image_manifest.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace cdrift;

namespace {

constexpr const char* mt_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* mt_index = "application/vnd.oci.image.index.v1+json";
constexpr const char* mt_config = "application/vnd.oci.image.config.v1+json";
constexpr const char* mt_layer = "application/vnd.oci.image.layer.v1.tar";

enum Role : std::uint8_t {
  oci_index,       // index.json
  oci_nested,      // an image index blob that index.json points to
  oci_manifest,    // the image manifest
  oci_config,      // the image config
  docker_manifest, // docker save's manifest.json
  docker_config,   // the config manifest.json names
  role_count,
};

class MemStore : public BlobStore {
public:
  explicit MemStore(std::map<std::string, std::string> files) : m_files(std::move(files)) {}
  bool exists(const std::string& rel) const override { return m_files.count(rel) != 0; }
  Result<std::unique_ptr<ByteSource>> open(const std::string& rel) override {
    auto it = m_files.find(rel);
    if (it == m_files.end()) return fail(ErrorKind::input, m_name + ": missing " + rel);
    return std::unique_ptr<ByteSource>(
        std::make_unique<MemorySource>(it->second, m_name + ": " + rel));
  }
  const std::string& name() const override { return m_name; }

private:
  std::map<std::string, std::string> m_files;
  std::string m_name = "fuzz-image";
};

std::string hex_of(const std::string& s) {
  return to_hex(sha256_of(s));
}

std::string small_tar() {
  std::vector<char> buf(64 * 1024);
  std::size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  auto add = [&](const char* name, unsigned type, unsigned mode, const std::string& body) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, static_cast<la_int64_t>(body.size()));
    archive_entry_set_mtime(e, 1700000000, 0);
    archive_write_header(a, e);
    if (!body.empty()) archive_write_data(a, body.data(), body.size());
    archive_entry_free(e);
  };
  add("etc", AE_IFDIR, 0755, "");
  add("etc/passwd", AE_IFREG, 0644, "root:x:0:0:root:/root:/bin/sh\n");
  add("usr/bin/tool", AE_IFREG, 0755,
      "\x7f"
      "ELF tool\n");
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

std::string descriptor(const char* media_type, const std::string& body,
                       const std::string& extra = "") {
  return std::string("{\"mediaType\":\"") + media_type + "\",\"digest\":\"sha256:" + hex_of(body) +
         "\",\"size\":" + std::to_string(body.size()) + extra + "}";
}

struct Fixed {
  std::string layer = small_tar();
  std::string layer_hex = hex_of(layer);

  std::string config_for(const std::string& diff_id_hex) const {
    return "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2023-11-17T02:40:00Z\","
           "\"config\":{\"User\":\"app\",\"WorkingDir\":\"/srv\",\"Entrypoint\":[\"/usr/bin/"
           "tool\"],"
           "\"Cmd\":[\"--serve\"],\"Env\":[\"PATH=/usr/bin\"],\"Volumes\":{\"/data\":{}}},"
           "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" +
           diff_id_hex +
           "\"]},"
           "\"history\":[{\"created_by\":\"ADD file in /\"},{\"created_by\":\"ENV "
           "x\",\"empty_layer\":true}]}";
  }
  std::string manifest_for(const std::string& config) const {
    return std::string("{\"schemaVersion\":2,\"mediaType\":\"") + mt_manifest +
           "\",\"config\":" + descriptor(mt_config, config) + ",\"layers\":[" +
           descriptor(mt_layer, layer) + "]}";
  }
  std::string index_for(const char* media_type, const std::string& target) const {
    return std::string("{\"schemaVersion\":2,\"mediaType\":\"") + mt_index + "\",\"manifests\":[" +
           descriptor(media_type, target,
                      ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"},"
                      "\"annotations\":{\"org.opencontainers.image.ref.name\":\"demo\"}") +
           "]}";
  }
  std::string docker_manifest_for(const std::string& config_name) const {
    return "[{\"Config\":\"" + config_name + "\",\"RepoTags\":[\"demo:latest\"],\"Layers\":[\"" +
           layer_hex + "/layer.tar\"]}]";
  }

  std::map<std::string, std::string> oci(const std::string& index) const {
    return {{"oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"},
            {"index.json", index},
            {"blobs/sha256/" + layer_hex, layer}};
  }
  static void put_blob(std::map<std::string, std::string>& files, const std::string& body) {
    files["blobs/sha256/" + hex_of(body)] = body;
  }

  // The store in which `doc` plays `role`; every other document is fixed and consistent.
  std::map<std::string, std::string> store_for(Role role, const std::string& doc) const {
    std::string config = config_for(layer_hex);
    std::string manifest = manifest_for(config);
    switch (role) {
    case oci_index: {
      auto files = oci(doc);
      put_blob(files, manifest);
      put_blob(files, config);
      return files;
    }
    case oci_nested: {
      auto files = oci(index_for(mt_index, doc));
      put_blob(files, doc);
      put_blob(files, manifest);
      put_blob(files, config);
      return files;
    }
    case oci_manifest: {
      auto files = oci(index_for(mt_manifest, doc));
      put_blob(files, doc);
      put_blob(files, config);
      return files;
    }
    case oci_config: {
      std::string m = manifest_for(doc);
      auto files = oci(index_for(mt_manifest, m));
      put_blob(files, m);
      put_blob(files, doc);
      return files;
    }
    case docker_manifest:
      return {{"manifest.json", doc},
              {hex_of(config) + ".json", config},
              {layer_hex + "/layer.tar", layer},
              {"blobs/sha256/" + layer_hex, layer}};
    case docker_config:
    default:
      return {{"manifest.json", docker_manifest_for(hex_of(doc) + ".json")},
              {hex_of(doc) + ".json", doc},
              {layer_hex + "/layer.tar", layer}};
    }
  }

  // The consistent document for each role: the natural seeds.
  std::string seed_for(Role role) const {
    std::string config = config_for(layer_hex);
    std::string manifest = manifest_for(config);
    switch (role) {
    case oci_index:
      return index_for(mt_manifest, manifest);
    case oci_nested:
      return index_for(mt_manifest, manifest);
    case oci_manifest:
      return manifest;
    case oci_config:
      return config;
    case docker_manifest:
      return docker_manifest_for(hex_of(config) + ".json");
    case docker_config:
    default:
      return config;
    }
  }
};

const Fixed& fixed() {
  static const Fixed f;
  return f;
}

} // namespace

// CDRIFT_FUZZ_WRITE_SEEDS=DIR: writes one consistent seed per role (scripts/fuzz.sh).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("CDRIFT_FUZZ_WRITE_SEEDS");
  if (!dir) return 0;
  for (int r = 0; r < role_count; ++r) {
    std::string body =
        std::string(1, static_cast<char>(r)) + fixed().seed_for(static_cast<Role>(r));
    std::string path = std::string(dir) + "/fixed-role-" + std::to_string(r) + ".json";
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(body.data(), 1, body.size(), f);
      std::fclose(f);
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  auto role = static_cast<Role>((data[0] & 0x7f) % role_count);
  std::string doc(reinterpret_cast<const char*>(data + 1), size - 1);
  auto store = std::make_unique<MemStore>(fixed().store_for(role, doc));
  ImageOptions options;
  // The high bit picks an explicit platform; without it the host's is used.
  if (data[0] & 0x80) options.platform = "linux/amd64";
  Result<ImagePlan> plan = role == docker_manifest || role == docker_config
                               ? read_docker_archive(std::move(store), options)
                               : read_oci_image(std::move(store), SourceKind::oci_layout, options);
  if (!plan) return 0;
  (void)build_image_manifest(*plan, "fuzz-image", nullptr);
  return 0;
}
