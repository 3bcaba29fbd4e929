#include "cdrift/source/detect.hpp"

#include "cdrift/util/hex.hpp"

namespace cdrift {

bool is_image_archive_member(std::string_view name) {
  while (name.starts_with("./"))
    name.remove_prefix(2);
  while (name.ends_with("/"))
    name.remove_suffix(1);
  if (name == "oci-layout" || name == "index.json" || name == "manifest.json" ||
      name == "repositories" || name == "blobs" || name.starts_with("blobs/"))
    return true;
  // docker save: "<id>.json" configs, "<id>/layer.tar|VERSION|json"; podman: "<diffid>.tar".
  std::size_t slash = name.find('/');
  if (slash == std::string_view::npos) {
    std::string_view stem = name;
    if (stem.ends_with(".json"))
      stem.remove_suffix(5);
    else if (stem.ends_with(".tar"))
      stem.remove_suffix(4);
    else
      return false;
    return is_sha256_hex(stem);
  }
  std::string_view rest = name.substr(slash + 1);
  return is_sha256_hex(name.substr(0, slash)) &&
         (rest == "layer.tar" || rest == "VERSION" || rest == "json");
}

std::uint64_t parse_octal(std::string_view field) {
  std::uint64_t v = 0;
  for (char c : field) {
    if (c == ' ' || c == '\0') {
      if (v) break;
      continue;
    }
    if (c < '0' || c > '7') break;
    v = v * 8 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

Result<std::string> peek(ByteSource& src, std::size_t size) {
  std::string head(size, '\0');
  auto n = read_full(src, reinterpret_cast<std::uint8_t*>(head.data()), head.size());
  if (!n) return fail(std::move(n).error());
  head.resize(*n);
  return head;
}

bool looks_like_image_archive(std::string_view head) {
  std::size_t off = 0;
  std::string long_name;
  for (int i = 0; i < detect_peek_headers && off + 512 <= head.size(); ++i) {
    std::string_view h = head.substr(off, 512);
    if (h.find_first_not_of('\0') == std::string_view::npos) return false;
    char type = h[156];
    std::uint64_t size = parse_octal(h.substr(124, 12));
    std::string name;
    if (!long_name.empty()) {
      name = std::move(long_name);
      long_name.clear();
    } else {
      std::string_view n = h.substr(0, 100);
      n = n.substr(0, n.find('\0'));
      name = std::string(n);
      if (h.substr(257, 5) == "ustar") {
        std::string_view prefix = h.substr(345, 155);
        prefix = prefix.substr(0, prefix.find('\0'));
        if (!prefix.empty()) name = std::string(prefix) + "/" + name;
      }
    }
    std::uint64_t data = (size + 511) / 512 * 512;
    if (type == 'L' && off + 512 + size <= head.size()) {
      std::string_view ln = head.substr(off + 512, size);
      long_name = std::string(ln.substr(0, ln.find('\0')));
    } else if (type != 'x' && type != 'g' && type != 'K' && type != 'L') {
      if (is_image_archive_member(name)) return true;
    }
    if (data > head.size()) return false;
    off += 512 + data;
  }
  return false;
}

} // namespace cdrift
