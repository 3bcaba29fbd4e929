// Decompression (source/decompress.cpp): gzip, zstd, plain, detection by magic bytes.
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/decompress.hpp"
#include "source_helpers.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>

using namespace cdrift;
using namespace cdrift::test;

TEST_CASE("decompression: plain, gzip (single and multi-member), zstd") {
  const std::string data = pattern(300000);
  const std::string tar = make_tar({tfile("a", data), tdir("d")});
  struct Case {
    const char* name;
    std::string input;
    std::string expected;
    Compression compression;
  };
  std::vector<Case> cases = {
      {"plain", data, data, Compression::none},
      {"gzip", compress_bytes(data, Compress::gzip), data, Compression::gzip},
      {"gzip multi-member",
       compress_bytes(data.substr(0, 1000), Compress::gzip) +
           compress_bytes(data.substr(1000), Compress::gzip) + compress_bytes("", Compress::gzip),
       data, Compression::gzip},
      {"zstd", compress_bytes(data, Compress::zstd), data, Compression::zstd},
      {"zstd two frames",
       compress_bytes("first", Compress::zstd) + compress_bytes("second", Compress::zstd),
       "firstsecond", Compression::zstd},
      {"gzip tar", compress_bytes(tar, Compress::gzip), tar, Compression::gzip},
      {"zstd tar", compress_bytes(tar, Compress::zstd), tar, Compression::zstd},
      {"tiny plain input", "ab", "ab", Compression::none},
      {"empty input", "", "", Compression::none},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      Compression detected = Compression::unsupported;
      auto out = inflate_all(c.input, &detected);
      REQUIRE_MESSAGE(out, (out ? "" : out.error().message));
      CHECK(*out == c.expected);
      CHECK(detected == c.compression);
      // The same through tiny reads.
      auto src = open_decompressed(std::make_unique<MemorySource>(c.input, "blob"));
      REQUIRE(src);
      CHECK(read_in_small_steps(**src) == c.expected);
    }
  }
}

TEST_CASE("decompression errors") {
  const std::string data = pattern(200000);
  const std::string gz = compress_bytes(data, Compress::gzip);
  const std::string zs = compress_bytes(data, Compress::zstd);
  REQUIRE(gz.size() > 100);
  REQUIRE(zs.size() > 100);

  SUBCASE("truncated gzip says truncated") {
    for (std::size_t cut :
         {std::size_t{10}, gz.size() / 2, gz.size() - 8, gz.size() - 4, gz.size() - 1}) {
      INFO("cut at " << cut << " of " << gz.size());
      auto out = inflate_all(gz.substr(0, cut));
      REQUIRE_FALSE(out);
      CHECK(out.error().kind == ErrorKind::input);
      CHECK(contains(out.error().message, "truncated"));
      CHECK(contains(out.error().message, "blob"));
    }
  }
  SUBCASE("corrupt gzip CRC or length is an error") {
    for (std::size_t from_end : {8u, 5u, 4u, 1u}) {
      INFO(from_end << " bytes from the end");
      std::string bad = gz;
      bad[bad.size() - from_end] ^= 0x55;
      auto out = inflate_all(bad);
      REQUIRE_FALSE(out);
      CHECK(out.error().kind == ErrorKind::input);
      CHECK(contains(out.error().message, "gzip"));
    }
  }
  SUBCASE("corrupt deflate data is an error") {
    std::string bad = gz;
    for (std::size_t i = 20; i < 60; ++i)
      bad[i] = static_cast<char>(0xff);
    auto out = inflate_all(bad);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::input);
  }
  SUBCASE("garbage after a gzip member is an error") {
    auto out = inflate_all(gz + "trailing garbage");
    REQUIRE_FALSE(out);
    CHECK(contains(out.error().message, "gzip"));
  }
  SUBCASE("truncated zstd is an error") {
    for (std::size_t cut : {std::size_t{5}, zs.size() / 2, zs.size() - 1}) {
      INFO("cut at " << cut << " of " << zs.size());
      auto out = inflate_all(zs.substr(0, cut));
      REQUIRE_FALSE(out);
      CHECK(out.error().kind == ErrorKind::input);
      CHECK(contains(out.error().message, "zstd"));
    }
  }
  SUBCASE("corrupt zstd is an error") {
    std::string bad = zs;
    for (std::size_t i = 12; i < 40; ++i)
      bad[i] = static_cast<char>(bad[i] ^ 0xa5);
    auto out = inflate_all(bad);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::input);
  }
  SUBCASE("xz and bzip2 are reported unsupported") {
    for (std::string magic : {std::string("\xfd"
                                          "7zXZ\0\0\0\0\0",
                                          10),
                              std::string("BZh91AY&SY")}) {
      CHECK(detect_compression(magic) == Compression::unsupported);
      auto out = inflate_all(magic + pattern(100));
      REQUIRE_FALSE(out);
      CHECK(out.error().kind == ErrorKind::input);
      CHECK(contains(out.error().message, "xz or bzip2"));
    }
  }
}

TEST_CASE("detect_compression on magic bytes") {
  CHECK(detect_compression("\x1f\x8b") == Compression::gzip);
  CHECK(detect_compression("\x1f") == Compression::none);
  CHECK(detect_compression("\x28\xb5\x2f\xfd") == Compression::zstd);
  CHECK(detect_compression("\x28\xb5\x2f") == Compression::none);
  CHECK(detect_compression("ustar") == Compression::none);
  CHECK(detect_compression("") == Compression::none);
  CHECK(to_string(Compression::zstd) == "zstd");
}
