// Hexadecimal strings as the inputs spell them: digests, image ids, fingerprints.
#pragma once

#include <string_view>

namespace cdrift {

enum class HexCase {
  lower, // what digests and image ids are: "sha256:<64 lowercase hex>"
  any,   // what a person may type (fingerprints in a baseline)
};

// True when `s` is non-empty and every character is a hex digit of that case.
bool is_hex(std::string_view s, HexCase letters);

// The 64 lowercase hex digits of a SHA-256 digest (without "sha256:").
inline bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && is_hex(s, HexCase::lower);
}

} // namespace cdrift
