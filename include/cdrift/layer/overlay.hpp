// A container's full view from its image and its overlay writable layer: what
// `docker export` would show, without exporting. The lower layers are the image
// (its manifest, cached or freshly read), so an unchanged file costs nothing; the
// upper dir holds the changes, read and hashed here.
#pragma once

#include "cdrift/layer/content.hpp"
#include "cdrift/manifest/manifest.hpp"
#include "cdrift/source/upper_dir.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cdrift {

// One entry of the upper dir with what overlayfs encoded in it.
struct UpperItem {
  Entry entry; // path cleaned; a regular file's content hashed unless metacopy
  bool whiteout = false;
  bool opaque = false;
  bool metacopy = false;
  std::optional<std::string> redirect;
};

struct UpperLayer {
  std::string source;           // the upper dir, for messages
  std::vector<UpperItem> items; // in walk order: a directory before its entries
  Captures captures;            // of the upper's own files, keyed by path
  std::vector<std::string> warnings;
};

// Reads the whole upper dir: stat fields, ctime and birth time, content digests.
Result<UpperLayer> read_upper_layer(UpperDirReader& reader, Progress* progress = nullptr);

// The merged view, with overlayfs's lookup rules: an upper entry hides the lower one
// of the same name, and whatever lay below it unless both are directories; a
// whiteout hides the lower name and its subtree; an opaque directory hides every
// lower entry below it; a redirected directory shows the lower directory it names
// (a rename with redirect_dir); a metacopy file has the upper's metadata and the
// lower file's data. Entries are sorted by path and carry no layer index, like an
// export's; the root is the one an export's tree starts from (neither docker nor
// podman exports a root entry, and the upper root's attributes are the runtime's).
// Runtime placeholders that docker keeps in its -init layer are not in the view:
// they are neither the image's nor the container's.
Result<Manifest> apply_upper_layer(const Manifest& image, const UpperLayer& upper,
                                   std::string source, SourceKind kind);

} // namespace cdrift
