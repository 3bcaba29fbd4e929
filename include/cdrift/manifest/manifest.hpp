// A whole filesystem manifest plus what is known about where it came from.
#pragma once

#include "cdrift/manifest/entry.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cdrift {

enum class SourceKind {
  oci_layout,
  oci_archive,
  docker_archive,
  rootfs_tar,
  directory,
  container_export,
  saved_manifest,
  runtime,        // docker:/podman: names (resolved into one of the above underneath)
  writable_layer, // a running container's overlay upper dir applied over its image
};

std::string_view to_string(SourceKind k);
std::optional<SourceKind> parse_source_kind(std::string_view s);

struct LayerInfo {
  std::string digest;  // "sha256:..." of the blob as stored (compressed)
  std::string diff_id; // "sha256:..." of the uncompressed tar
  std::string media_type;
  std::uint64_t size = 0;
  bool verified = false;  // both digests and the size were checked at EOF
  std::string created_by; // the image history step that made it, when known
};

struct HistoryStep {
  std::string created_by;
  bool empty_layer = false;
};

// What the image config says that origin attribution and reports care about.
struct ImageInfo {
  std::string reference; // tag or name, when the source says
  std::string manifest_digest;
  std::string config_digest;
  std::string platform; // "linux/amd64"
  std::string created;
  std::string user;
  std::string working_dir;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> volumes;
  std::vector<std::string> env;
  std::vector<LayerInfo> layers;
  std::vector<HistoryStep> history;
};

// Small files whose content later stages need (account databases, package
// databases, shell history), captured while they stream past, size-capped.
struct Captures {
  std::map<std::string, std::string> files; // path -> content
  std::uint64_t bytes = 0;
};

struct Manifest {
  std::string source; // what the user named
  SourceKind kind = SourceKind::rootfs_tar;
  std::optional<ImageInfo> image;
  std::vector<Entry> entries; // sorted by path bytes, unique paths
  Captures captures;
  std::vector<std::string> warnings;

  const Entry* find(std::string_view path) const; // binary search
};

} // namespace cdrift
