// TarReader (source/tar_reader.cpp) on input that is not a whole tar.
#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "source_helpers.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>

using namespace cdrift;
using namespace cdrift::test;

TEST_CASE("TarReader on truncated, garbage and empty input") {
  const std::string tar =
      make_tar({tfile("a", pattern(5000)), tfile("b", pattern(5000, 2)), tdir("c")});
  auto apply = [](const std::string& bytes) -> Status {
    MemorySource src(bytes, "export.tar");
    TarReader reader(src, "export.tar");
    CDRIFT_TRY(reader.open());
    TreeBuilder builder;
    return builder.apply(reader, -1, Whiteouts::literal);
  };
  REQUIRE(apply(tar));
  SUBCASE("truncated inside a member's data") {
    for (std::size_t cut : {std::size_t{700}, std::size_t{5000}, std::size_t{512 + 5120 + 100}}) {
      INFO("cut at " << cut);
      auto st = apply(tar.substr(0, cut));
      REQUIRE_FALSE(st);
      CHECK(st.error().kind == ErrorKind::input);
      CHECK(contains(st.error().message, "export.tar"));
    }
  }
  SUBCASE("truncated inside a header") {
    auto st = apply(tar.substr(0, 512 + 5120 + 200));
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == ErrorKind::input);
  }
  SUBCASE("not a tar") {
    auto st = apply(std::string(4096, 'x'));
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == ErrorKind::input);
    CHECK(contains(st.error().message, "export.tar"));
  }
  SUBCASE("0-byte input is an error, not an empty tree") {
    auto st = apply("");
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == ErrorKind::input);
  }
  SUBCASE("an empty tar (only the end marker) is an empty tree") {
    MemorySource src(std::string(1024, '\0'), "empty.tar");
    TarReader reader(src, "empty.tar");
    REQUIRE(reader.open());
    TreeBuilder builder;
    REQUIRE(builder.apply(reader, -1, Whiteouts::literal));
    CHECK(builder.size() == 1); // the root
  }
  SUBCASE("member count") {
    MemorySource src(tar, "t");
    TarReader reader(src, "t");
    REQUIRE(reader.open());
    TreeBuilder builder;
    REQUIRE(builder.apply(reader, -1, Whiteouts::literal));
    CHECK(reader.members() == 3);
  }
}
