// Byte sources (source/byte_source.cpp): digests, prefixes, bounded reads.
#include "cdrift/source/byte_source.hpp"
#include "cdrift/util/sha256.hpp"
#include "source_helpers.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>

using namespace cdrift;
using namespace cdrift::test;

TEST_CASE("DigestSource counts and hashes every byte that passes") {
  const std::string data = pattern(150001);
  auto digest = std::make_unique<DigestSource>(std::make_unique<MemorySource>(data, "d"));
  std::uint8_t buf[1000];
  auto n = digest->read(buf, sizeof buf);
  REQUIRE(n);
  CHECK(*n == 1000);
  CHECK(digest->bytes() == 1000);
  REQUIRE(digest->drain());
  CHECK(digest->bytes() == data.size());
  CHECK(to_hex(digest->finish()) == sha256_hex(data));
  CHECK(digest->name() == "d");

  DigestSource empty(std::make_unique<MemorySource>("", "e"));
  REQUIRE(empty.drain());
  CHECK(empty.bytes() == 0);
  CHECK(to_hex(empty.finish()) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("PrefixSource replays the prefix, then the rest") {
  PrefixSource p("abc", std::make_unique<MemorySource>("defgh", "inner"));
  CHECK(p.name() == "inner");
  CHECK(read_in_small_steps(p) == "abcdefgh");
  PrefixSource q("", std::make_unique<MemorySource>("xyz", "inner"));
  CHECK(read_in_small_steps(q) == "xyz");
  PrefixSource r("only", std::make_unique<MemorySource>("", "inner"));
  std::uint8_t buf[2];
  auto n = r.read(buf, 2);
  REQUIRE(n);
  CHECK(*n == 2);
  CHECK(read_in_small_steps(r) == "ly");
}

TEST_CASE("read_all enforces its limit; read_full fills") {
  MemorySource src(pattern(1000), "doc");
  auto all = read_all(src, 999);
  REQUIRE_FALSE(all);
  CHECK(contains(all.error().message, "doc"));
  MemorySource src2("12345", "doc");
  std::uint8_t buf[8];
  auto n = read_full(src2, buf, sizeof buf);
  REQUIRE(n);
  CHECK(*n == 5);
}
