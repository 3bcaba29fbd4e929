#include "cdrift/util/hex.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace cdrift;

TEST_CASE("is_hex: digits of the case asked for, never empty") {
  CHECK(is_hex("0123456789abcdef", HexCase::lower));
  CHECK_FALSE(is_hex("0123456789ABCDEF", HexCase::lower));
  CHECK(is_hex("0123456789ABCDEFabcdef", HexCase::any));
  CHECK_FALSE(is_hex("", HexCase::lower));
  CHECK_FALSE(is_hex("", HexCase::any));
  CHECK_FALSE(is_hex("abcg", HexCase::any));
  CHECK_FALSE(is_hex("ab cd", HexCase::any));
  CHECK_FALSE(is_hex(std::string_view("ab\0cd", 5), HexCase::lower));
}

TEST_CASE("is_sha256_hex: exactly 64 lowercase hex digits") {
  std::string d(64, 'a');
  CHECK(is_sha256_hex(d));
  CHECK_FALSE(is_sha256_hex(d.substr(1)));
  CHECK_FALSE(is_sha256_hex(d + "0"));
  d[10] = 'A';
  CHECK_FALSE(is_sha256_hex(d));
  CHECK_FALSE(is_sha256_hex("sha256:" + std::string(57, '0')));
}
