// An image's layers applied in order into one verified manifest: each blob
// streamed through its digests, layers scanned concurrently, applied strictly in
// order, nothing counted until its own digests matched.
#pragma once

#include "cdrift/layer/progress.hpp"
#include "cdrift/manifest/manifest.hpp"
#include "cdrift/source/image.hpp"

#include <string>

namespace cdrift {

// Applies every layer of a planned image, checking each blob's digest and size
// and its diff_id at the end of its stream.
Result<Manifest> build_image_manifest(ImagePlan& plan, const std::string& source,
                                      Progress* progress);

} // namespace cdrift
