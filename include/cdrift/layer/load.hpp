// From what the user named to a verified manifest: detect the source's form,
// stream it through the readers and the layer applier.
#pragma once

#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/manifest/manifest.hpp"
#include "cdrift/source/image.hpp"
#include "cdrift/source/member_stream.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cdrift {

// What the user named: a prefix names the kind (never container_export, which
// only detection decides); no prefix leaves it to be detected from the content.
struct SourceSpec {
  std::optional<SourceKind> form;
  std::string location; // path, "-" for stdin, or the runtime object name
  std::string runtime;  // "docker", "podman", "nerdctl" for SourceKind::runtime
  std::string text;     // as the user wrote it
};

// "oci:DIR", "oci-archive:FILE", "docker-archive:FILE", "rootfs:FILE", "dir:DIR",
// "manifest:FILE", "docker:NAME", "podman:NAME", "nerdctl:NAME",
// "containerd:[NAMESPACE/]ID"; anything else is
// a path (or "-") whose form is detected from its content.
SourceSpec parse_source_spec(std::string_view text);

enum class Side { image, container };

// Runtime names are resolved outside this module (they need processes); the
// resolver hands back a stream or a file to read like any other source.
struct RuntimeStream {
  std::unique_ptr<ByteSource> stream; // a tar (export) or an image archive (save)
  std::string description;            // "docker export web"
  std::optional<SourceKind> form;     // none: detected from the content
  // For runtimes whose data already sits on disk (containerd), instead of a stream:
  // an image store read in place, every document and blob verified as in an OCI
  // layout; or a root filesystem directory, walked like a dir: source.
  std::unique_ptr<BlobStore> store;
  std::string directory;
};
using RuntimeResolver = std::function<Result<RuntimeStream>(const SourceSpec&, Side)>;

class ManifestCache;

// How far content decides what a source is. An audited container's export is
// written by whoever controls the container: files named oci-layout, index.json
// or manifest.json at its root must not turn it into "an image" that matches
// itself. There, without an explicit prefix, only a tree or a saved manifest.
enum class Detection {
  any_source,     // images, archives, trees, saved manifests
  container_tree, // trees and saved manifests only (the audited side)
};

struct LoadOptions {
  Detection detection = Detection::any_source; // applies to Side::container only
  ImageOptions image;
  Progress* progress = nullptr;
  RuntimeResolver runtime;
  // Runtime images only (see pipeline/audit.cpp); null: no cache (--no-cache).
  ManifestCache* cache = nullptr;
};

Result<Manifest> load_manifest(const SourceSpec& spec, Side side, const LoadOptions& options);

// Reads a saved manifest from a stream.
Result<Manifest> read_saved_manifest(ByteSource& src);

} // namespace cdrift
