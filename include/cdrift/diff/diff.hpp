// Path-by-path comparison of two manifests.
#pragma once

#include "cdrift/diff/change.hpp"
#include "cdrift/manifest/manifest.hpp"

namespace cdrift {

// `before` is the reference (image), `after` the observed tree (container).
// A deleted directory is one change carrying the count of entries below it; an
// added directory and every entry inside it are each reported; a change of mtime
// alone is `touched`, never drift.
DiffResult diff_manifests(const Manifest& before, const Manifest& after);

// The fields in which two entries at the same path differ (mtime excluded).
std::vector<Field> changed_fields(const Entry& before, const Entry& after);
// Special bits `after` has that `before` lacks (ModeBit flags); `before` may be null.
std::uint8_t mode_bits_added(const Entry* before, const Entry& after);

} // namespace cdrift
