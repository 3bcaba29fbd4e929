#include "cdrift/manifest/sniff.hpp"

#include "cdrift/util/escape.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

namespace cdrift {

namespace {

using Bytes = std::basic_string_view<std::uint8_t>;

bool starts_with(Bytes b, std::string_view magic, std::size_t at = 0) {
  if (b.size() < at + magic.size()) return false;
  return std::memcmp(b.data() + at, magic.data(), magic.size()) == 0;
}

std::string_view as_chars(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Reads an unsigned integer of `width` bytes at `off`; false when the prefix is too short.
bool read_uint(Bytes b, std::size_t off, std::size_t width, bool big_endian, std::uint64_t& out) {
  if (off > b.size() || b.size() - off < width) return false;
  out = 0;
  for (std::size_t i = 0; i < width; ++i) {
    std::size_t idx = big_endian ? off + i : off + width - 1 - i;
    out = (out << 8) | b[idx];
  }
  return true;
}

constexpr std::uint64_t et_rel = 1;
constexpr std::uint64_t et_exec = 2;
constexpr std::uint64_t et_dyn = 3;
constexpr std::uint64_t pt_interp = 3;

// PIE executables and shared objects are both ET_DYN; a PT_INTERP program header
// (the dynamic loader's path) is what makes one runnable. Reading the dynamic
// section for DT_SONAME or DF_1_PIE would need bytes far beyond the prefix, so the
// few libraries that carry PT_INTERP themselves (glibc's libc.so.6) count as
// executables; the rules treat both classes alike in library directories.
bool elf_has_interp(Bytes b, bool is64, bool big_endian) {
  std::uint64_t phoff = 0, phentsize = 0, phnum = 0;
  if (is64) {
    if (!read_uint(b, 32, 8, big_endian, phoff) || !read_uint(b, 54, 2, big_endian, phentsize) ||
        !read_uint(b, 56, 2, big_endian, phnum))
      return false;
  } else {
    if (!read_uint(b, 28, 4, big_endian, phoff) || !read_uint(b, 42, 2, big_endian, phentsize) ||
        !read_uint(b, 44, 2, big_endian, phnum))
      return false;
  }
  if (phentsize < 4 || phoff >= b.size()) return false;
  for (std::uint64_t i = 0; i < phnum; ++i) {
    std::uint64_t off = phoff + i * phentsize;
    std::uint64_t type = 0;
    if (off >= b.size() || !read_uint(b, static_cast<std::size_t>(off), 4, big_endian, type))
      break; // the rest of the table lies beyond the prefix
    if (type == pt_interp) return true;
  }
  return false;
}

ContentClass sniff_elf(Bytes b) {
  if (b.size() < 18) return ContentClass::binary;
  const std::uint8_t ei_class = b[4];
  const std::uint8_t ei_data = b[5];
  if ((ei_class != 1 && ei_class != 2) || (ei_data != 1 && ei_data != 2))
    return ContentClass::binary;
  const bool big_endian = ei_data == 2;
  std::uint64_t type = 0;
  read_uint(b, 16, 2, big_endian, type);
  switch (type) {
  case et_rel:
    return ContentClass::elf_relocatable;
  case et_exec:
    return ContentClass::elf_executable;
  case et_dyn:
    return elf_has_interp(b, ei_class == 2, big_endian) ? ContentClass::elf_executable
                                                        : ContentClass::elf_shared;
  default:
    return ContentClass::binary; // core dumps and processor-specific types
  }
}

bool is_archive(Bytes b) {
  if (starts_with(b, "PK\x03\x04") || starts_with(b, "PK\x05\x06") || starts_with(b, "PK\x07\x08"))
    return true;                                       // zip, jar, war, apk (Android), wheel
  if (starts_with(b, "\x1f\x8b")) return true;         // gzip
  if (starts_with(b, "\x28\xb5\x2f\xfd")) return true; // zstd
  if (starts_with(b, std::string_view("\xfd"
                                      "7zXZ\0",
                                      6)))
    return true;                                         // xz
  if (starts_with(b, "\x04\x22\x4d\x18")) return true;   // lz4 frame
  if (starts_with(b, "7z\xbc\xaf\x27\x1c")) return true; // 7-zip
  if (starts_with(b, "Rar!\x1a\x07")) return true;       // rar
  if (starts_with(b, "!<arch>\n")) return true;          // ar: .deb, .a
  // bzip2: "BZh1".."BZh9" then a block or end-of-stream magic, so text starting with
  // "BZh" is not mistaken for one.
  if (b.size() >= 10 && starts_with(b, "BZh") && b[3] >= '1' && b[3] <= '9' &&
      (starts_with(b, "1AY&SY", 4) || starts_with(b, "\x17\x72\x45\x38\x50\x90", 4)))
    return true;
  if (starts_with(b, std::string_view("ustar\0", 6), 257) || starts_with(b, "ustar  \0", 257))
    return true; // POSIX and GNU tar
  return false;
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  return s;
}

std::string_view next_word(std::string_view& s) {
  s = trim_left(s);
  std::size_t end = 0;
  while (end < s.size() && s[end] != ' ' && s[end] != '\t')
    ++end;
  std::string_view word = s.substr(0, end);
  s.remove_prefix(end);
  return word;
}

// "#!/bin/sh -e" -> "/bin/sh"; "#!/usr/bin/env -S python3 -u" -> "/usr/bin/env python3".
std::string shebang_interpreter(std::string_view text) {
  std::string_view line = text.substr(2);
  line = line.substr(0, line.find_first_of("\r\n"));
  std::string_view program = next_word(line);
  std::string out(program);
  if (program == "env" || (program.size() > 4 && program.substr(program.size() - 4) == "/env")) {
    // env's own options and VAR=value assignments come before the command.
    for (std::string_view word = next_word(line); !word.empty(); word = next_word(line)) {
      if (word.front() == '-' || word.find('=') != std::string_view::npos) continue;
      out.push_back(' ');
      out.append(word);
      break;
    }
  }
  return out;
}

enum class PemKind { none, certificate, private_key };

PemKind classify_pem_label(std::string_view label) {
  auto ends_with = [&](std::string_view suffix) {
    return label.size() >= suffix.size() && label.substr(label.size() - suffix.size()) == suffix;
  };
  // "PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY", ...
  if (ends_with("PRIVATE KEY") || label == "PGP PRIVATE KEY BLOCK") return PemKind::private_key;
  if (label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE" || label == "X509 CERTIFICATE")
    return PemKind::certificate;
  return PemKind::none;
}

// A private key anywhere in the prefix wins over a certificate: bundles that carry
// both (cert + key in one .pem) are what leaks a key.
PemKind scan_pem(std::string_view text) {
  constexpr std::string_view begin = "-----BEGIN ";
  PemKind found = PemKind::none;
  for (std::size_t pos = text.find(begin); pos != std::string_view::npos;
       pos = text.find(begin, pos + 1)) {
    std::size_t start = pos + begin.size();
    std::size_t end = text.find("-----", start);
    if (end == std::string_view::npos) break;
    std::string_view label = text.substr(start, end - start);
    if (label.find('\n') != std::string_view::npos) continue;
    PemKind kind = classify_pem_label(label);
    if (kind == PemKind::private_key) return kind;
    if (kind == PemKind::certificate) found = kind;
  }
  if (text.find("PuTTY-User-Key-File-") == 0) return PemKind::private_key;
  return found;
}

// DER length at b[off]: short form or long form of up to 3 bytes. Returns the header
// size (tag excluded) or 0.
std::size_t der_length(Bytes b, std::size_t off, std::uint64_t& len) {
  if (off >= b.size()) return 0;
  if (b[off] < 0x80) {
    len = b[off];
    return 1;
  }
  std::size_t n = b[off] & 0x7f;
  if (n == 0 || n > 3 || off + n >= b.size()) return 0;
  len = 0;
  for (std::size_t i = 1; i <= n; ++i)
    len = (len << 8) | b[off + i];
  return n + 1;
}

// DER X.509: SEQUENCE { SEQUENCE (tbsCertificate) { [0] { INTEGER version } ... } };
// the outer length must account for the whole file.
bool is_der_certificate(Bytes b, std::uint64_t total_size) {
  std::uint64_t outer = 0, inner = 0;
  if (b.empty() || b[0] != 0x30) return false;
  std::size_t h1 = der_length(b, 1, outer);
  if (h1 == 0 || 1 + h1 + outer != total_size) return false;
  std::size_t at = 1 + h1;
  if (at >= b.size() || b[at] != 0x30) return false;
  std::size_t h2 = der_length(b, at + 1, inner);
  if (h2 == 0 || inner >= outer) return false;
  at += 1 + h2;
  return starts_with(b, std::string_view("\xa0\x03\x02\x01", 4), at) && at + 4 < b.size() &&
         b[at + 4] <= 2;
}

// Valid UTF-8 without NULs or the control characters binary formats are full of.
// A multi-byte sequence cut off by the end of the prefix does not count against it.
bool looks_like_text(Bytes b, bool truncated) {
  for (std::uint8_t c : b) {
    if (c == 0) return false;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != '\b' &&
        c != 0x1b && c != 0x07)
      return false;
    if (c == 0x7f) return false;
  }
  std::string_view text = as_chars(b);
  if (truncated) {
    // Drop a trailing incomplete sequence: at most 3 continuation-or-lead bytes.
    std::size_t keep = text.size();
    for (std::size_t back = 1; back <= 3 && back <= text.size(); ++back) {
      auto c = static_cast<std::uint8_t>(text[text.size() - back]);
      if ((c & 0xc0) == 0x80) continue; // continuation byte, keep looking for its lead
      if (c >= 0xc0) {
        std::size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (need > back) keep = text.size() - back;
      }
      break;
    }
    text = text.substr(0, keep);
  }
  return is_valid_utf8(text);
}

} // namespace

ContentClass sniff_content(const std::uint8_t* head, std::size_t head_size,
                           std::uint64_t total_size, std::string& interpreter) {
  interpreter.clear();
  if (total_size == 0) return ContentClass::empty;
  if (head == nullptr || head_size == 0) return ContentClass::none; // nothing seen to judge by
  Bytes b(head, std::min(head_size, sniff_prefix_size));
  const bool truncated = b.size() < total_size;

  if (starts_with(b, "\x7f"
                     "ELF"))
    return sniff_elf(b);
  if (is_archive(b)) return ContentClass::archive;
  if (starts_with(b, "#!")) {
    interpreter = shebang_interpreter(as_chars(b));
    return ContentClass::script;
  }
  switch (scan_pem(as_chars(b))) {
  case PemKind::private_key:
    return ContentClass::private_key;
  case PemKind::certificate:
    return ContentClass::certificate;
  case PemKind::none:
    break;
  }
  if (is_der_certificate(b, total_size)) return ContentClass::certificate;
  return looks_like_text(b, truncated) ? ContentClass::text : ContentClass::binary;
}

} // namespace cdrift
