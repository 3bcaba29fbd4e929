#include "classify/context.hpp"

namespace cdrift {

FindingContext describe_context(const Change& change, const Manifest& image,
                                const PackageDb& image_packages, const PackageFacts& facts) {
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
  if (facts.package.empty()) return ctx;
  ctx.package = facts.package;
  ctx.package_manager = facts.manager;
  // A package installed, upgraded or removed in the container explains the change;
  // its checksum is the new package's, which the image cannot stand in for.
  if (facts.event) return ctx;

  const bool packaged_file = change.before && change.before->type == FileType::file &&
                             image_packages.has_checksum(change.path);
  if (!packaged_file) return ctx;
  if (change.kind == ChangeKind::deleted || !change.after) {
    // Nothing left to match; debsums would say "missing", and the finding says deleted.
  } else if (change.after->type != FileType::file) {
    ctx.package_checksum_ok = false;
  } else {
    ctx.package_checksum_ok = change.before->sha256 && change.after->sha256 &&
                              *change.before->sha256 == *change.after->sha256;
  }
  return ctx;
}

FindingContext describe_context(const Change& change, const Manifest& image,
                                const PackageDb& image_packages) {
  PackageFacts facts;
  if (const std::string* owner = image_packages.owner(change.path)) facts.package = *owner;
  facts.manager = std::string(image_packages.manager());
  return describe_context(change, image, image_packages, facts);
}

} // namespace cdrift
