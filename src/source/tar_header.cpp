#include "source/tar_header.hpp"

#include <algorithm>
#include <vector>

namespace cdrift {

namespace {

constexpr std::size_t block = 512;
// libarchive refuses special headers (PAX, long names) over 1 MiB.
constexpr std::uint64_t special_limit = 1u << 20;

struct PaxNames {
  std::optional<std::string> path, linkpath;
};

// Records are "LEN KEY=VALUE\n"; values may hold any byte (xattr values do).
bool interpreted_key(std::string_view key) {
  for (std::string_view k : {"path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime",
                             "atime", "ctime", "hdrcharset", "charset", "comment"})
    if (key == k) return true;
  for (std::string_view p : {"GNU.", "SCHILY.", "LIBARCHIVE.", "SUN.", "RHT.", "security."})
    if (key.starts_with(p)) return true;
  return false;
}

bool parse_pax(std::string_view data, PaxNames& out, std::string& problem, std::string& lenient) {
  std::string path, override_path, linkpath;
  while (!data.empty()) {
    std::size_t i = 0, len = 0;
    while (i < data.size() && data[i] >= '0' && data[i] <= '9' && len <= 999999)
      len = len * 10 + static_cast<std::size_t>(data[i++] - '0');
    if (i == 0 || i >= data.size() || data[i] != ' ' || len > data.size() || len < i + 2 ||
        data[len - 1] != '\n') {
      // libarchive drops a malformed record and all after it. Harmless only when
      // it is the last one and its key is one libarchive would ignore anyway.
      std::string_view rest = i < data.size() ? data.substr(i + 1) : std::string_view();
      std::size_t eq = rest.find('=');
      std::string_view key = rest.substr(0, eq);
      if (i > 0 && i < data.size() && data[i] == ' ' && len >= data.size() && eq != 0 &&
          eq != std::string_view::npos && !interpreted_key(key)) {
        lenient = "its PAX record \"" + std::string(key) + "\" is malformed; ignored";
        break;
      }
      problem = "a PAX record is malformed";
      return false;
    }
    std::string_view record = data.substr(i + 1, len - i - 2);
    std::size_t eq = record.find('=');
    if (eq == 0 || eq == std::string_view::npos) {
      problem = "a PAX record has no key";
      return false;
    }
    std::string_view key = record.substr(0, eq), value = record.substr(eq + 1);
    if (key == "path")
      path = value;
    else if (key == "GNU.sparse.name")
      override_path = value;
    else if (key == "linkpath")
      linkpath = value;
    data.remove_prefix(len);
  }
  if (!override_path.empty())
    out.path = std::move(override_path);
  else if (!path.empty())
    out.path = std::move(path);
  if (!linkpath.empty()) out.linkpath = std::move(linkpath);
  return true;
}

} // namespace

std::optional<std::uint64_t> tar_number(std::string_view f) {
  if (f.empty()) return std::nullopt;
  auto first = static_cast<unsigned char>(f[0]);
  if (first & 0x80) {
    if (first == 0xff) return std::nullopt; // negative
    std::uint64_t v = first & 0x7f;
    for (std::size_t i = 1; i < f.size(); ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | static_cast<unsigned char>(f[i]);
    }
    return v;
  }
  std::size_t i = 0;
  while (i < f.size() && f[i] == ' ')
    ++i;
  std::uint64_t v = 0;
  for (; i < f.size() && f[i] >= '0' && f[i] <= '7'; ++i) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + static_cast<std::uint64_t>(f[i] - '0');
  }
  return v;
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

TarHeaderGroup parse_header_group(std::string_view group) {
  TarHeaderGroup out;
  struct Special {
    char type;
    std::string_view data;
  };
  std::vector<Special> specials;
  std::size_t off = 0;
  bool main_found = false;
  while (off + block <= group.size()) {
    std::string_view h = group.substr(off, block);
    char type = h[156];
    if (type == 'V') { // a volume label: no data, skipped like libarchive does
      off += block;
      continue;
    }
    if (type != 'x' && type != 'X' && type != 'g' && type != 'L' && type != 'K' && type != 'A') {
      main_found = true;
      break;
    }
    auto size = tar_number(h.substr(124, 12));
    if (!size || *size > special_limit || off + block + *size > group.size()) {
      out.problem = "a special header's size is out of range";
      return out;
    }
    specials.push_back({type, group.substr(off + block, static_cast<std::size_t>(*size))});
    off += block + static_cast<std::size_t>((*size + block - 1) / block * block);
  }
  // libarchive keeps one PAX buffer per entry: the last 'x' header's records
  // are the ones every 'x' of the group applies. Every one must be well formed.
  PaxNames names;
  for (const auto& s : specials)
    if (s.type == 'x' || s.type == 'X') {
      ++out.pax_headers;
      names = PaxNames{};
      if (!parse_pax(s.data, names, out.problem, out.lenient)) return out;
    }
  if (out.pax_headers == 0) return out;
  out.pax = true;
  if (!main_found) {
    out.problem = "the PAX header is not followed by a member header";
    return out;
  }
  // Outer headers are applied last in libarchive's recursion: the first header
  // of the group that names the entry (or its link) decides.
  for (const auto& s : specials) {
    if (s.type == 'L') break;
    if ((s.type == 'x' || s.type == 'X') && names.path) {
      out.path = names.path;
      break;
    }
  }
  for (const auto& s : specials) {
    if (s.type == 'K') break;
    if ((s.type == 'x' || s.type == 'X') && names.linkpath) {
      out.linkpath = names.linkpath;
      break;
    }
  }
  return out;
}

bool ends_with_marker(std::string_view group) {
  if (group.size() < 2 * block || !all_zero(group.substr(group.size() - 2 * block))) return false;
  std::size_t off = 0, end = group.size() - 2 * block;
  // Headers that make no entry (a volume label, global PAX records) may stand
  // before the marker.
  while (off < end) {
    std::string_view h = group.substr(off, block);
    if (h[156] == 'V') {
      off += block;
      continue;
    }
    if (h[156] != 'g') return false;
    auto size = tar_number(h.substr(124, 12));
    if (!size || *size > special_limit) return false;
    off += block + static_cast<std::size_t>((*size + block - 1) / block * block);
  }
  return off == end;
}

} // namespace cdrift
