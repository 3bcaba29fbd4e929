// What libarchive does not show: the raw bytes of a tar member's header group.
// libarchive converts PAX names from UTF-8 to the locale and normalises them to
// NFC on the way (two names that differ in normalisation become one), so the
// exact names are read here from the PAX records themselves; and its EOF check
// accepts a stream that simply stops, so the end-of-archive marker is checked
// here on the bytes too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdrift {

// A numeric header field: octal digits (space/NUL padded) or GNU base-256.
std::optional<std::uint64_t> tar_number(std::string_view field);

bool all_zero(std::string_view bytes);

// The exact names a member's header group (from its first header to its data)
// gives, resolved in libarchive's order: the header nearest the front wins
// between PAX path/linkpath and GNU long names, and the last PAX header's
// records are the ones applied.
struct TarHeaderGroup {
  bool pax = false; // the group holds an 'x' header
  int pax_headers = 0;
  std::optional<std::string> path;     // from PAX, when PAX decides the name
  std::optional<std::string> linkpath; // from PAX, when PAX decides the target
  std::string problem;                 // non-empty: malformed, not read exactly
  std::string lenient; // non-empty: malformed in a way that changes nothing cdrift reads
};

TarHeaderGroup parse_header_group(std::string_view group);

// The bytes libarchive consumed when it reported the end of the archive: two
// zero blocks, after nothing but headers that make no entry.
bool ends_with_marker(std::string_view group);

} // namespace cdrift
