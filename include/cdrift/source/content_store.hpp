// containerd's content store as an image source. Its blobs sit in the layout of an
// OCI image layout (<root>/io.containerd.content.v1.content/blobs/sha256/<hex>) but
// there is no oci-layout and no index.json: which manifest is "the image" lives in
// containerd's metadata database, as the target descriptor of an image record, which
// `ctr images ls` prints. Starting from that digest, everything below it (an index,
// the platform's manifest, the config, every layer) is read and verified exactly as
// in an OCI layout, by the same reader.
#pragma once

#include "cdrift/source/blob_store.hpp"
#include "cdrift/source/image.hpp"

#include <memory>
#include <string>

namespace cdrift {

// An image record's target, as containerd holds it.
struct ContentTarget {
  std::string name;       // the image reference ("docker.io/library/nginx:1.25")
  std::string media_type; // an OCI/Docker manifest or index
  std::string digest;     // "sha256:<hex>"
};

// "<root>/io.containerd.content.v1.content"
std::string content_store_dir(const std::string& containerd_root);

// The store directory as a BlobStore that also answers "oci-layout" and an
// "index.json" listing `target` alone (with the size of the blob as stored: the
// record has no size ctr prints exactly, and the digest is what binds it). Blobs are
// opened without following symlinks, like an OCI layout's.
Result<std::unique_ptr<BlobStore>> open_content_store(const std::string& content_dir,
                                                      const ContentTarget& target);

// The plan of the image `target` names: its platform's manifest, config and layers,
// each document verified against its digest and size before it is parsed; the
// layers are verified while they stream (build_image_manifest).
Result<ImagePlan> read_content_store_image(const std::string& content_dir,
                                           const ContentTarget& target,
                                           const ImageOptions& options);

} // namespace cdrift
