// Blob stores (source/blob_store.cpp): names found in image documents.
#include "cdrift/source/blob_store.hpp"
#include "source_helpers.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>

using namespace cdrift;
using namespace cdrift::test;

TEST_CASE("clean_store_name rejects names leaving the store") {
  struct Case {
    std::string raw;
    std::string expected; // empty: rejected
  };
  std::vector<Case> cases = {
      {"blobs/sha256/abc", "blobs/sha256/abc"},
      {"./blobs//sha256/abc", "blobs/sha256/abc"},
      {"a/../b.json", "b.json"},
      {"../x", ""},
      {"a/../../x", ""},
      {"/x", ""},
      {"/etc/passwd", ""},
      {"", ""},
      {".", ""},
      {"./", ""},
  };
  for (const auto& c : cases) {
    INFO(c.raw);
    auto r = clean_store_name(c.raw, "save.tar", "layer 0");
    if (c.expected.empty()) {
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == ErrorKind::input);
      CHECK(contains(r.error().message, "save.tar"));
    } else {
      REQUIRE(r);
      CHECK(*r == c.expected);
    }
  }
}
