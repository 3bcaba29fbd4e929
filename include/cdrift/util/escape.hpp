// Printing attacker-controlled names safely.
#pragma once

#include <string>
#include <string_view>

namespace cdrift {

bool is_valid_utf8(std::string_view s);

// For terminals and logs: control characters (C0, DEL, C1), backslash and invalid
// UTF-8 bytes become visible escapes (\n, \x1b, \\), so a name can neither inject
// terminal sequences nor forge extra lines. Valid UTF-8 text is kept readable.
std::string escape_for_terminal(std::string_view s);

// For JSON strings: valid UTF-8 is returned unchanged; invalid bytes are replaced
// by U+FFFD (the exact bytes travel separately as base64, see manifest docs).
std::string utf8_lossy(std::string_view s);

std::string base64_encode(std::string_view data);
bool base64_decode(std::string_view text, std::string& out);

} // namespace cdrift
