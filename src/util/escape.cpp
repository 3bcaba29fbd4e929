#include "cdrift/util/escape.hpp"

#include <cstdint>
#include <cstdio>

namespace cdrift {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one. Rejects
// overlongs, surrogates and code points above U+10FFFF.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) {
  auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  std::uint8_t c = b(i);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  std::size_t n;
  std::uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void append_hex_escape(std::string& out, std::uint8_t c) {
  static const char digits[] = "0123456789abcdef";
  out += "\\x";
  out += digits[c >> 4];
  out += digits[c & 15];
}

} // namespace

bool is_valid_utf8(std::string_view s) {
  std::uint32_t cp;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string escape_for_terminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::uint32_t cp;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0) {
      append_hex_escape(out, static_cast<std::uint8_t>(s[i]));
      ++i;
      continue;
    }
    if (n == 1) {
      char c = s[i];
      switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (cp < 0x20 || cp == 0x7F)
          append_hex_escape(out, static_cast<std::uint8_t>(c));
        else
          out += c;
      }
    } else if ((cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029 || cp == 0x202E ||
               cp == 0x200E || cp == 0x200F || (cp >= 0x2066 && cp <= 0x2069) ||
               (cp >= 0x202A && cp <= 0x202D)) {
      // C1 controls (CSI is U+009B) act like ESC sequences on some terminals; line
      // separators and bidi overrides can forge lines or reorder what a reader sees.
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::uint32_t cp;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[k]));
  };
  for (; i + 2 < data.size(); i += 3) {
    std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += b64_chars[v >> 18 & 63];
    out += b64_chars[v >> 12 & 63];
    out += b64_chars[v >> 6 & 63];
    out += b64_chars[v & 63];
  }
  if (i + 1 == data.size()) {
    std::uint32_t v = byte(i) << 16;
    out += b64_chars[v >> 18 & 63];
    out += b64_chars[v >> 12 & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out += b64_chars[v >> 18 & 63];
    out += b64_chars[v >> 12 & 63];
    out += b64_chars[v >> 6 & 63];
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 != 0) return false;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else {
        if (pad) return false;
        v[k] = value(c);
        if (v[k] < 0) return false;
      }
    }
    std::uint32_t n = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
    out += static_cast<char>(n >> 16 & 255);
    if (pad < 2) out += static_cast<char>(n >> 8 & 255);
    if (pad < 1) out += static_cast<char>(n & 255);
  }
  return true;
}

} // namespace cdrift
