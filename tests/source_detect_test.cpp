// Telling an image archive from a plain tar by its first headers (source/detect.cpp).
#include "cdrift/source/detect.hpp"
#include "source_helpers.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>

using namespace cdrift;
using namespace cdrift::test;

TEST_CASE("looks_like_image_archive on tars built in memory") {
  std::string hex(64, 'a');
  std::string hex2(64, 'b');
  struct Case {
    const char* name;
    std::string tar;
    bool expected;
  };
  std::vector<Case> cases = {
      {"oci-archive",
       make_tar({tfile("oci-layout", "{}"), tfile("index.json", "{}"), tdir("blobs"),
                 tdir("blobs/sha256"), tfile("blobs/sha256/" + hex, "x")}),
       true},
      {"oci-archive, blobs first",
       make_tar({tdir("blobs/"), tdir("blobs/sha256/"), tfile("blobs/sha256/" + hex, "x"),
                 tfile("index.json", "{}"), tfile("oci-layout", "{}")}),
       true},
      {"oci-archive with ./ names", make_tar({tdir("./"), tfile("./oci-layout", "{}")}), true},
      {"docker save, legacy order",
       make_tar({tdir(hex + "/"), tfile(hex + "/VERSION", "1.0"), tfile(hex + "/json", "{}"),
                 tfile(hex + "/layer.tar", "x"), tfile(hex2 + ".json", "{}"),
                 tfile("manifest.json", "[]"), tfile("repositories", "{}")}),
       true},
      {"docker save, config first (lexical order)",
       make_tar({tfile(hex2 + ".json", "{}"), tdir(hex + "/"), tfile(hex + "/VERSION", "1.0")}),
       true},
      {"docker save without layers",
       make_tar({tfile(hex2 + ".json", "{}"), tfile("manifest.json", "[]")}), true},
      {"docker save in gnutar format",
       make_tar({tdir(hex + "/"), tfile(hex + "/layer.tar", "x")}, TarFormat::gnutar), true},
      {"rootfs",
       make_tar({tdir("bin"), tfile("bin/sh", "elf"), tdir("etc"), tfile("etc/passwd", "root")}),
       false},
      {"rootfs with ./ prefix", make_tar({tdir("./"), tdir("./etc"), tfile("./etc/hostname", "h")}),
       false},
      {"rootfs with a hex-named directory",
       make_tar({tdir(hex + "/"), tfile(hex + "/readme", "x")}), false},
      // A container can plant such a directory to make its export look like an
      // image archive (and fail to load instead of showing drift).
      {"export with a planted hex directory",
       make_tar({tfile(".dockerenv"), tdir(std::string(64, '0') + "/"),
                 tfile(std::string(64, '0') + "/x", "x"), tdir("bin"), tfile("bin/sh", "elf")}),
       false},
      {"rootfs with a long first name",
       make_tar({tfile(std::string(150, 'n'), "x"), tfile("etc/os-release", "x")},
                TarFormat::gnutar),
       false},
      {"not a tar", std::string(2048, 'z'), false},
      {"empty", std::string(), false},
  };
  for (const auto& c : cases) {
    INFO(std::string(c.name));
    CHECK(looks_like_image_archive(c.tar) == c.expected);
  }
}
