// Helpers the source/ and layer/ unit tests share: patterned data, whole-stream
// reads, files written for a test.
#pragma once

#include "cdrift/manifest/manifest.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/decompress.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <string>
#include <string_view>

namespace cdrift::test {

inline bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Decompresses `data` fully; the detected compression goes to `detected`.
inline Result<std::string> inflate_all(std::string data, Compression* detected = nullptr) {
  auto src = open_decompressed(std::make_unique<MemorySource>(std::move(data), "blob"), detected);
  if (!src) return fail(std::move(src).error());
  return read_all(**src, 1u << 30);
}

inline std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s;
  s.reserve(n);
  std::uint32_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    // Half text, half noise: compresses, but not to nothing.
    s.push_back(i % 2 ? static_cast<char>('a' + (i / 7) % 26) : static_cast<char>(x >> 24));
  }
  return s;
}

// Reads a whole source with tiny, odd-sized reads to exercise buffer edges.
inline std::string read_in_small_steps(ByteSource& src) {
  std::string out;
  std::uint8_t buf[7];
  for (;;) {
    auto n = src.read(buf, sizeof buf);
    REQUIRE(n);
    if (*n == 0) return out;
    out.append(reinterpret_cast<const char*>(buf), *n);
  }
}

inline void write_file(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

inline std::string paths_of(const Manifest& m) {
  std::string s;
  for (const auto& e : m.entries)
    s += e.path + " ";
  return s;
}

} // namespace cdrift::test
