#include "cdrift/classify/context.hpp"

namespace cdrift {

FindingContext describe_context(const Change& change, const Manifest& image,
                                const PackageDb& image_packages) {
  FindingContext ctx;
  if (change.before && change.before->layer >= 0) {
    ctx.layer = change.before->layer;
    if (image.image) {
      const auto& layers = image.image->layers;
      auto idx = static_cast<std::size_t>(change.before->layer);
      if (idx < layers.size()) ctx.created_by = layers[idx].created_by;
    }
  }

  // Added paths have no original, but a package that lists one (a file the image
  // deleted, or a usrmerge alias) is still worth naming.
  const std::string* owner = image_packages.owner(change.path);
  if (!owner) return ctx;
  ctx.package = *owner;
  ctx.package_manager = std::string(image_packages.manager());

  const bool packaged_file = change.before && change.before->type == FileType::file &&
                             image_packages.has_checksum(change.path);
  if (!packaged_file) return ctx;
  if (change.kind == ChangeKind::deleted || !change.after) {
    ctx.package_checksum_ok = false; // debsums: "missing"
  } else if (change.after->type != FileType::file) {
    ctx.package_checksum_ok = false;
  } else {
    ctx.package_checksum_ok = change.before->sha256 && change.after->sha256 &&
                              *change.before->sha256 == *change.after->sha256;
  }
  return ctx;
}

} // namespace cdrift
