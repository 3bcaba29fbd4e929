#include "cdrift/util/hex.hpp"

#include <algorithm>

namespace cdrift {

bool is_hex(std::string_view s, HexCase letters) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [letters](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (letters == HexCase::any && c >= 'A' && c <= 'F');
  });
}

} // namespace cdrift
