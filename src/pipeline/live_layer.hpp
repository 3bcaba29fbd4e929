// A runtime container read through its overlay writable layer instead of its
// export: the upper dir applied over the image manifest. Costs what the container
// changed, where an export streams the whole filesystem.
#pragma once

#include "cdrift/layer/load.hpp"
#include "cdrift/manifest/manifest.hpp"
#include "cdrift/pipeline/runtime.hpp"

#include <optional>
#include <string>

namespace cdrift {

// Why the writable layer of a container of `runtime` kept on `storage` cannot be
// read here, or nothing: not an overlay (vfs, btrfs, ...), a remote daemon (its
// paths are another machine's), not root (upper dirs are root's), no upper dir.
std::optional<std::string> writable_layer_obstacle(const std::string& runtime,
                                                   const ContainerStorage& storage);

// The container's full view from its image and its upper dir. An upper dir that
// cannot be opened is a runtime error ("upper dir unreadable"); one that uses an
// overlay feature the reader does not know, an input error naming it.
Result<Manifest> read_writable_layer(const Manifest& image, const SourceSpec& container,
                                     const ContainerStorage& storage, Progress* progress);

} // namespace cdrift
