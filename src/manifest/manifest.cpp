#include "cdrift/manifest/manifest.hpp"

#include <algorithm>
#include <array>

namespace cdrift {

namespace {
constexpr std::array<std::string_view, 9> source_kind_names = {
    "oci_layout",       "oci_archive",    "docker_archive", "rootfs_tar",    "directory",
    "container_export", "saved_manifest", "runtime",        "writable_layer"};
}

std::string_view to_string(SourceKind k) {
  return source_kind_names[static_cast<std::size_t>(k)];
}

std::optional<SourceKind> parse_source_kind(std::string_view s) {
  for (std::size_t i = 0; i < source_kind_names.size(); ++i)
    if (source_kind_names[i] == s) return static_cast<SourceKind>(i);
  return std::nullopt;
}

const Entry* Manifest::find(std::string_view path) const {
  auto it = std::lower_bound(entries.begin(), entries.end(), path,
                             [](const Entry& e, std::string_view p) { return e.path < p; });
  if (it == entries.end() || it->path != path) return nullptr;
  return &*it;
}

} // namespace cdrift
