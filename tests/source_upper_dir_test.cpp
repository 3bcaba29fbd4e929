// The overlay upper-dir reader over upper dirs built on disk (root only: whiteouts
// are device nodes and overlay attributes live in the trusted namespace).
#include "cdrift/layer/overlay.hpp"
#include "cdrift/source/upper_dir.hpp"
#include "cdrift/util/sha256.hpp"
#include "upper_tree.hpp"

#include <ctime>
#include <doctest/doctest.h>
#include <map>
#include <string>

using namespace cdrift;
using namespace cdrift::test;

namespace {

Result<UpperLayer> read_tree(const std::string& root, OverlayXattrs ns = OverlayXattrs::trusted) {
  UpperDirReader reader(root, ns);
  CDRIFT_TRY(reader.open());
  return read_upper_layer(reader);
}

std::map<std::string, UpperItem> by_path(const UpperLayer& layer) {
  std::map<std::string, UpperItem> out;
  for (const auto& item : layer.items)
    out.emplace(item.entry.path, item);
  return out;
}

std::string hex_of(const std::string& data) {
  Sha256 h;
  h.update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  return to_hex(h.finish());
}

} // namespace

TEST_CASE("UpperDirReader: whiteouts, opaque directories, symlinks, names as bytes") {
  if (!running_as_root()) {
    MESSAGE("skipped: building whiteouts needs root");
    return;
  }
  UpperTree t;
  t.dir("etc", 0755, 1000)
      .file("etc/passwd", "root:x:0:0::/root:/bin/sh\nbackdoor:x:0:0::/:/bin/sh\n", 0644, 1001)
      .whiteout("etc/issue")
      .link("etc/issue", "etc/issue.net") // overlayfs shares one whiteout inode
      .link("etc/issue", "etc/debian_version")
      .dir("etc/cron.daily", 0755, 1002)
      .opaque("etc/cron.daily")
      .file("etc/cron.daily/evil", "x\n", 0755, 1003)
      .file("etc/.wh.passwd", "a file, not a whiteout", 0644, 1004)
      .file("etc/name\xff\n", "bytes", 0600, 1005)
      .dir("tmp", 01777, 1006)
      .symlink("tmp/shadow-link", "/etc/shadow", 1007)
      .xattr("etc", "trusted.overlay.origin", std::string("\x00\xfb\x1d", 3))
      .xattr("etc", "trusted.overlay.impure", "y");
  t.finish();
  std::time_t started = std::time(nullptr);

  auto layer = read_tree(t.root());
  REQUIRE_MESSAGE(layer, layer.error().message);
  auto items = by_path(*layer);
  CHECK(items.size() == 12);
  // A directory always comes before what it holds.
  std::map<std::string, std::size_t> order;
  for (std::size_t i = 0; i < layer->items.size(); ++i)
    order[layer->items[i].entry.path] = i;
  CHECK(order["/"] == 0);
  CHECK(order["/etc"] < order["/etc/cron.daily"]);
  CHECK(order["/etc/cron.daily"] < order["/etc/cron.daily/evil"]);

  for (const char* p : {"/etc/issue", "/etc/issue.net", "/etc/debian_version"}) {
    CAPTURE(p);
    const UpperItem& w = items.at(p);
    CHECK(w.whiteout);
    CHECK(w.entry.type == FileType::chardev);
    CHECK(w.entry.dev_major == 0);
    CHECK(w.entry.dev_minor == 0);
  }
  CHECK(items.at("/etc/cron.daily").opaque);
  CHECK_FALSE(items.at("/etc").opaque);
  // The overlay's own attributes are not the directory's.
  CHECK(items.at("/etc").entry.xattrs.empty());
  CHECK(items.at("/etc/cron.daily").entry.xattrs.empty());

  const UpperItem& passwd = items.at("/etc/passwd");
  CHECK_FALSE(passwd.whiteout);
  CHECK(passwd.entry.size == 52);
  REQUIRE(passwd.entry.sha256);
  CHECK(to_hex(*passwd.entry.sha256) ==
        hex_of("root:x:0:0::/root:/bin/sh\nbackdoor:x:0:0::/:/bin/sh\n"));
  CHECK(passwd.entry.mtime == 1001);
  CHECK(layer->captures.files.count("/etc/passwd") == 1);
  // Only a live layer knows when the inode changed and was born.
  CHECK(passwd.entry.ctime >= started - 60);
  CHECK(passwd.entry.ctime <= started + 60);
  if (passwd.entry.btime != 0) CHECK(passwd.entry.btime <= passwd.entry.ctime);

  const UpperItem& fake = items.at("/etc/.wh.passwd");
  CHECK_FALSE(fake.whiteout);
  CHECK(fake.entry.type == FileType::file);
  CHECK(items.count("/etc/name\xff\n") == 1);

  const UpperItem& link = items.at("/tmp/shadow-link");
  CHECK(link.entry.type == FileType::symlink);
  CHECK(link.entry.target == "/etc/shadow");
  CHECK_FALSE(link.entry.sha256); // never followed to the host's /etc/shadow
  CHECK(items.at("/tmp").entry.mode == 01777);
}

TEST_CASE("UpperDirReader: the overlay's namespace decides which attributes are overlayfs's") {
  if (!running_as_root()) {
    MESSAGE("skipped: trusted.* attributes need root");
    return;
  }
  UpperTree t;
  t.dir("d", 0755)
      .xattr("d", "user.overlay.opaque", "y")
      .file("d/trojan", "evil bytes", 0755)
      .xattr("d/trojan", "user.overlay.metacopy", "")
      .file("d/own", "x")
      .xattr("d/own", "trusted.overlay.overlay.note", "kept") // the file's own, escaped
      .xattr("d/own", "security.capability",
             std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8) + std::string(12, '\0'))
      .xattr("d/own", "user.comment", "hello");
  t.finish();

  SUBCASE("rootful (trusted.overlay.*): user.overlay.* is the file's own attribute") {
    auto layer = read_tree(t.root());
    REQUIRE_MESSAGE(layer, layer.error().message);
    auto items = by_path(*layer);
    CHECK_FALSE(items.at("/d").opaque);
    // A container can set user.overlay.metacopy on its own trojan: it must still be
    // read and hashed as what it is.
    const UpperItem& trojan = items.at("/d/trojan");
    CHECK_FALSE(trojan.metacopy);
    REQUIRE(trojan.entry.sha256);
    CHECK(to_hex(*trojan.entry.sha256) == hex_of("evil bytes"));
    REQUIRE(trojan.entry.xattrs.size() == 1);
    CHECK(trojan.entry.xattrs[0].name == "user.overlay.metacopy");
    const auto& own = items.at("/d/own").entry.xattrs;
    REQUIRE(own.size() == 3);
    CHECK(own[0].name == "security.capability");
    CHECK(own[1].name == "trusted.overlay.note");
    CHECK(own[1].value == "kept");
    CHECK(own[2].name == "user.comment");
  }
  SUBCASE("rootless (user.overlay.*): the same attributes are overlayfs's") {
    auto layer = read_tree(t.root(), OverlayXattrs::user);
    REQUIRE_MESSAGE(layer, layer.error().message);
    auto items = by_path(*layer);
    CHECK(items.at("/d").opaque);
    CHECK(items.at("/d/trojan").metacopy);
    CHECK_FALSE(items.at("/d/trojan").entry.sha256); // its data is the lower file's
    CHECK(items.at("/d/trojan").entry.xattrs.empty());
  }
}

TEST_CASE("UpperDirReader: redirect, metacopy and unknown overlay features") {
  if (!running_as_root()) {
    MESSAGE("skipped: trusted.* attributes need root");
    return;
  }
  SUBCASE("redirect and metacopy are marks, metacopy data is not read") {
    UpperTree t;
    t.dir("renamed").xattr("renamed", "trusted.overlay.redirect", "/old");
    t.file("meta", std::string(64, '\0'), 04755).xattr("meta", "trusted.overlay.metacopy", "");
    t.finish();
    auto layer = read_tree(t.root());
    REQUIRE_MESSAGE(layer, layer.error().message);
    auto items = by_path(*layer);
    REQUIRE(items.at("/renamed").redirect);
    CHECK(*items.at("/renamed").redirect == "/old");
    CHECK(items.at("/meta").metacopy);
    CHECK_FALSE(items.at("/meta").entry.sha256);
    CHECK(items.at("/meta").entry.mode == 04755);
  }
  SUBCASE("an overlay attribute the reader does not know refuses the layer") {
    UpperTree t;
    t.file("f", "x").xattr("f", "trusted.overlay.whiteout", "");
    t.finish();
    auto layer = read_tree(t.root());
    REQUIRE_FALSE(layer);
    CHECK(layer.error().message.find(unknown_overlay_feature) != std::string::npos);
    CHECK(layer.error().message.find("trusted.overlay.whiteout") != std::string::npos);
  }
  SUBCASE("opaque=x (xattr whiteouts, lower layers only) refuses the layer") {
    UpperTree t;
    t.dir("d").xattr("d", "trusted.overlay.opaque", "x");
    t.finish();
    auto layer = read_tree(t.root());
    REQUIRE_FALSE(layer);
    CHECK(layer.error().message.find(unknown_overlay_feature) != std::string::npos);
  }
}

TEST_CASE("UpperDirReader: hardlinked files are read once, both names keep the content") {
  if (!running_as_root()) {
    MESSAGE("skipped");
    return;
  }
  UpperTree t;
  t.dir("bin").file("bin/a", "same inode", 0755).link("bin/a", "bin/b");
  t.finish();
  auto layer = read_tree(t.root());
  REQUIRE_MESSAGE(layer, layer.error().message);
  auto items = by_path(*layer);
  REQUIRE(items.at("/bin/a").entry.sha256);
  CHECK(items.at("/bin/a").entry.sha256 == items.at("/bin/b").entry.sha256);
  CHECK(items.at("/bin/b").entry.size == 10);
  CHECK(items.at("/bin/b").entry.mode == 0755);
}

TEST_CASE("UpperDirReader: a missing or non-directory upper is an input error naming it") {
  UpperDirReader missing("/nonexistent/cdrift-upper");
  auto st = missing.open();
  REQUIRE_FALSE(st);
  CHECK(st.error().kind == ErrorKind::input);
  CHECK(st.error().message.find("/nonexistent/cdrift-upper") != std::string::npos);
  UpperDirReader file("/etc/passwd");
  CHECK_FALSE(file.open());
}
