// Reading an image's documents: which layers to apply, in which order, and which
// digests each must have. The bytes themselves are verified while they stream.
#pragma once

#include "cdrift/manifest/manifest.hpp"
#include "cdrift/source/blob_store.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cdrift {

struct LayerPlan {
  std::string member; // name inside the store
  std::string
      digest; // expected blob digest ("sha256:..."), empty when unknown (legacy docker save)
  std::optional<std::uint64_t> size; // expected blob size
  std::string diff_id;               // expected digest of the uncompressed tar
  std::string media_type;
};

struct ImagePlan {
  std::unique_ptr<BlobStore> store;
  SourceKind kind = SourceKind::oci_layout;
  ImageInfo info; // layers filled as they are verified
  std::vector<LayerPlan> layers;
  std::vector<std::string> warnings;
};

struct ImageOptions {
  std::string platform; // "os/arch[/variant]"; empty: the host's
  // oci:DIR:REF: the image of a layout's index.json whose
  // org.opencontainers.image.ref.name or manifest digest is REF.
  std::string ref;
};

std::string host_platform();

// An OCI layout (directory or archive): index.json → manifest → config.
Result<ImagePlan> read_oci_image(std::unique_ptr<BlobStore> store, SourceKind kind,
                                 const ImageOptions& options);
// Which index of a Docker 25+ archive (manifest.json and an OCI layout) is read.
enum class ArchiveIndex {
  prefer_oci,    // detected form: the OCI layout when there is one
  manifest_json, // `docker-archive:` named explicitly
};

// A `docker save` archive: manifest.json → config and layer members.
Result<ImagePlan> read_docker_archive(std::unique_ptr<BlobStore> store, const ImageOptions& options,
                                      ArchiveIndex index = ArchiveIndex::prefer_oci);

// Fills what ImageInfo keeps from an image config (platform, created, User,
// WorkingDir, Entrypoint, Cmd, Env, Volumes, history); both archive forms use it.
void read_image_config(const nlohmann::json& config, ImageInfo& info);

// "sha256:<64 hex>" → "blobs/sha256/<hex>"; anything else is an input error.
Result<std::string> blob_path(const std::string& digest, const std::string& store);

} // namespace cdrift
