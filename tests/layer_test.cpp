// Layer application (OCI image-spec layer.md) over tars written by the test.
#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/manifest/capture.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "cdrift/util/path.hpp"
#include "cdrift/util/sha256.hpp"
#include "test_tar.hpp"

#include <algorithm>
#include <cstring>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace cdrift;
using namespace cdrift::test;

namespace {

using Layer = std::vector<TarEntry>;

// Applies each table as one image layer, in order; layer i is named "layer i".
Result<Manifest> apply_layers(const std::vector<Layer>& layers,
                              Whiteouts whiteouts = Whiteouts::apply,
                              TarFormat format = TarFormat::pax) {
  TreeBuilder builder;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    std::string name = "layer " + std::to_string(i);
    MemorySource src(make_tar(layers[i], format), name);
    TarReader reader(src, name);
    CDRIFT_TRY(reader.open());
    CDRIFT_TRY(builder.apply(reader, static_cast<int>(i), whiteouts));
  }
  return builder.finish("test", SourceKind::rootfs_tar);
}

Manifest must_apply(const std::vector<Layer>& layers, Whiteouts whiteouts = Whiteouts::apply,
                    TarFormat format = TarFormat::pax) {
  auto m = apply_layers(layers, whiteouts, format);
  if (!m) FAIL("applying layers failed: " << m.error().message);
  return std::move(*m);
}

std::vector<std::string> paths(const Manifest& m) {
  std::vector<std::string> out;
  for (const auto& e : m.entries)
    out.push_back(e.path);
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& p : v)
    s += p + " ";
  return s;
}

// Invariants every applied tree must keep: sorted unique paths, a root, and
// every entry's parent present as a directory (no orphans).
void check_tree(const Manifest& m) {
  REQUIRE(!m.entries.empty());
  CHECK(m.entries.front().path == "/");
  CHECK(m.entries.front().type == FileType::dir);
  for (std::size_t i = 1; i < m.entries.size(); ++i) {
    const Entry& e = m.entries[i];
    INFO("entry " << e.path << " in tree: " << joined(paths(m)));
    CHECK(m.entries[i - 1].path < e.path);
    std::string parent(parent_path(e.path));
    const Entry* p = m.find(parent);
    CHECK_MESSAGE(p != nullptr, "parent " << parent << " missing");
    if (p) CHECK(p->type == FileType::dir);
  }
}

const Entry& get(const Manifest& m, const std::string& path) {
  const Entry* e = m.find(path);
  if (!e) FAIL("no entry " << path << " in " << joined(paths(m)));
  return *e;
}

bool has(const Manifest& m, const std::string& path) {
  return m.find(path) != nullptr;
}

std::string hex_of(const Entry& e) {
  return e.sha256 ? to_hex(*e.sha256) : std::string("(none)");
}

std::string xattr_list(const std::vector<Xattr>& xs) {
  std::string s;
  for (const auto& x : xs)
    s += x.name + "(" + std::to_string(x.value.size()) + " bytes) ";
  return s;
}

bool any_warning_contains(const Manifest& m, std::string_view text) {
  return std::any_of(m.warnings.begin(), m.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

} // namespace

TEST_CASE("whiteout .wh.NAME hides a lower file and a lower directory subtree") {
  Layer lower = {tdir("etc"),       tfile("etc/a", "A"), tfile("etc/b", "B"),   tdir("d"),
                 tfile("d/x", "x"), tdir("d/sub"),       tfile("d/sub/y", "y"), tfile("keep", "k")};
  Layer upper = {tfile("etc/.wh.a"), tfile(".wh.d")};
  Manifest m = must_apply({lower, upper});
  check_tree(m);
  CHECK(joined(paths(m)) == "/ /etc /etc/b /keep ");
  // The whiteout markers themselves never appear.
  CHECK_FALSE(has(m, "/etc/.wh.a"));
  CHECK_FALSE(has(m, "/.wh.d"));
}

TEST_CASE("whiteout does not hide an entry of its own layer, in either tar order") {
  struct Case {
    const char* name;
    Layer upper;
  };
  std::vector<Case> cases = {
      {"file before whiteout", {tfile("f", "new"), tfile(".wh.f")}},
      {"file after whiteout", {tfile(".wh.f"), tfile("f", "new")}},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      Manifest m = must_apply({{tfile("f", "old")}, c.upper});
      check_tree(m);
      const Entry& f = get(m, "/f");
      CHECK(hex_of(f) == sha256_hex("new"));
      CHECK(f.layer == 1);
    }
  }
}

TEST_CASE("whiteout of a directory keeps the same layer's children, in either tar order") {
  Layer lower = {tdir("d", 0700), tfile("d/old", "old")};
  struct Case {
    const char* name;
    Layer upper;
  };
  std::vector<Case> cases = {
      {"child before whiteout", {tfile("d/new", "new"), tfile(".wh.d")}},
      {"child after whiteout", {tfile(".wh.d"), tfile("d/new", "new")}},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      Manifest m = must_apply({lower, c.upper});
      check_tree(m); // /d must exist as the parent of /d/new
      CHECK_FALSE(has(m, "/d/old"));
      REQUIRE(has(m, "/d/new"));
      CHECK(hex_of(get(m, "/d/new")) == sha256_hex("new"));
      REQUIRE(has(m, "/d"));
      CHECK(get(m, "/d").type == FileType::dir);
    }
  }
}

TEST_CASE("opaque marker hides lower children of DIR, never the same layer's, in any order") {
  Layer lower = {tdir("d"),
                 tfile("d/a", "lower a"),
                 tdir("d/sub"),
                 tfile("d/sub/b", "b"),
                 tfile("d/c", "lower c"),
                 tdir("other"),
                 tfile("other/o", "o"),
                 tfile("dd", "sibling with a common prefix")};
  struct Case {
    const char* name;
    Layer upper;
  };
  std::vector<Case> cases = {
      {"marker first", {tfile("d/.wh..wh..opq"), tfile("d/c", "upper c"), tfile("d/n", "n")}},
      {"marker last", {tfile("d/c", "upper c"), tfile("d/n", "n"), tfile("d/.wh..wh..opq")}},
      {"marker between", {tfile("d/c", "upper c"), tfile("d/.wh..wh..opq"), tfile("d/n", "n")}},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      Manifest m = must_apply({lower, c.upper});
      check_tree(m);
      CHECK(joined(paths(m)) == "/ /d /d/c /d/n /dd /other /other/o ");
      CHECK(hex_of(get(m, "/d/c")) == sha256_hex("upper c"));
      CHECK(get(m, "/d/c").layer == 1);
      CHECK_FALSE(has(m, "/d/.wh..wh..opq"));
    }
  }
}

TEST_CASE("opaque marker keeps a same-layer entry below a lower subdirectory, in any order") {
  Layer lower = {tdir("d"), tdir("d/a"), tfile("d/a/old", "old")};
  std::vector<std::pair<const char*, Layer>> cases = {
      {"marker first", {tfile("d/.wh..wh..opq"), tfile("d/a/new", "new")}},
      {"marker last", {tfile("d/a/new", "new"), tfile("d/.wh..wh..opq")}},
  };
  for (const auto& [name, upper] : cases) {
    SUBCASE(name) {
      Manifest m = must_apply({lower, upper});
      check_tree(m); // /d/a must survive as the parent of /d/a/new
      CHECK_FALSE(has(m, "/d/a/old"));
      CHECK(has(m, "/d/a/new"));
    }
  }
}

TEST_CASE("opaque marker at the root hides every lower entry") {
  Manifest m =
      must_apply({{tdir("a"), tfile("a/x"), tfile("b")}, {tfile(".wh..wh..opq"), tfile("c")}});
  check_tree(m);
  CHECK(joined(paths(m)) == "/ /c ");
}

TEST_CASE("replacement rules") {
  SUBCASE("directory over directory changes attributes only and keeps children") {
    Manifest m = must_apply(
        {{tdir("d", 0755).at(100), tfile("d/x", "x")}, {tdir("d", 0700).own(5, 6).at(200)}});
    check_tree(m);
    const Entry& d = get(m, "/d");
    CHECK(d.mode == 0700);
    CHECK(d.uid == 5);
    CHECK(d.gid == 6);
    CHECK(d.mtime == 200);
    CHECK(d.layer == 1);
    REQUIRE(has(m, "/d/x"));
    CHECK(get(m, "/d/x").layer == 0);
  }
  SUBCASE("file replaces directory: the subtree is gone") {
    Manifest m = must_apply({{tdir("d"), tfile("d/x"), tdir("d/s"), tfile("d/s/y"), tfile("d-b")},
                             {tfile("d", "now a file")}});
    check_tree(m);
    CHECK(joined(paths(m)) == "/ /d /d-b ");
    CHECK(get(m, "/d").type == FileType::file);
    CHECK(hex_of(get(m, "/d")) == sha256_hex("now a file"));
  }
  SUBCASE("symlink replaces directory: the subtree is gone") {
    Manifest m = must_apply({{tdir("d"), tfile("d/x")}, {tsymlink("d", "elsewhere")}});
    check_tree(m);
    CHECK(joined(paths(m)) == "/ /d ");
    CHECK(get(m, "/d").type == FileType::symlink);
  }
  SUBCASE("directory replaces file") {
    Manifest m = must_apply({{tfile("p", "file")}, {tdir("p", 0711), tfile("p/q", "q")}});
    check_tree(m);
    const Entry& p = get(m, "/p");
    CHECK(p.type == FileType::dir);
    CHECK(p.mode == 0711);
    CHECK_FALSE(p.sha256.has_value());
    CHECK(p.size == 0);
    CHECK(has(m, "/p/q"));
  }
  SUBCASE("symlink replaces file") {
    Manifest m = must_apply({{tfile("f", "content")}, {tsymlink("f", "/target")}});
    const Entry& f = get(m, "/f");
    CHECK(f.type == FileType::symlink);
    CHECK(f.target == "/target");
    CHECK_FALSE(f.sha256.has_value());
    CHECK(f.size == 0);
    CHECK(f.layer == 1);
  }
  SUBCASE("file replaces symlink") {
    Manifest m = must_apply({{tsymlink("f", "/target")}, {tfile("f", "x")}});
    const Entry& f = get(m, "/f");
    CHECK(f.type == FileType::file);
    CHECK(f.target.empty());
    CHECK(hex_of(f) == sha256_hex("x"));
  }
  SUBCASE("an entry below a regular file is an input error") {
    auto m = apply_layers({{tfile("f", "x")}, {tfile("f/child", "y")}});
    REQUIRE_FALSE(m);
    CHECK(m.error().kind == ErrorKind::input);
    CHECK(m.error().message.find("layer 1") != std::string::npos);
    CHECK(m.error().message.find("not a directory") != std::string::npos);
  }
}

TEST_CASE("hardlinks resolve to their target's content and metadata") {
  SUBCASE("within a layer") {
    Manifest m = must_apply({{tfile("a", "hello", 0750).own(7, 8).at(42), thardlink("b", "a")}});
    check_tree(m);
    const Entry& b = get(m, "/b");
    CHECK(b.type == FileType::file);
    CHECK(b.size == 5);
    CHECK(hex_of(b) == sha256_hex("hello"));
    CHECK(b.mode == 0750);
    CHECK(b.uid == 7);
    CHECK(b.gid == 8);
    CHECK(b.mtime == 42);
    CHECK(b.layer == 0);
  }
  SUBCASE("target in a lower layer") {
    Manifest m =
        must_apply({{tfile("lib/a", "lower", 0600).own(3, 3)}, {thardlink("bin/b", "lib/a")}});
    check_tree(m);
    const Entry& b = get(m, "/bin/b");
    CHECK(hex_of(b) == sha256_hex("lower"));
    CHECK(b.mode == 0600);
    CHECK(b.uid == 3);
    CHECK(b.layer == 1);
    CHECK(get(m, "/lib/a").layer == 0);
  }
  SUBCASE("link names are normalised like entry names") {
    Manifest m = must_apply({{tfile("./a/x", "data"), thardlink("./a/y", "/a//x")}});
    CHECK(hex_of(get(m, "/a/y")) == sha256_hex("data"));
  }
  SUBCASE("in ustar and gnutar formats too") {
    for (TarFormat f : {TarFormat::ustar, TarFormat::gnutar}) {
      Manifest m = must_apply({{tfile("a", "z"), thardlink("b", "a")}}, Whiteouts::apply, f);
      CHECK(hex_of(get(m, "/b")) == sha256_hex("z"));
    }
  }
  SUBCASE("a hardlink to nothing is an input error naming the layer and the entry") {
    auto m = apply_layers({{tfile("a")}, {thardlink("dangling-link", "no/such/target")}});
    REQUIRE_FALSE(m);
    CHECK(m.error().kind == ErrorKind::input);
    CHECK(m.error().message.find("layer 1") != std::string::npos);
    CHECK(m.error().message.find("dangling-link") != std::string::npos);
    CHECK(m.error().message.find("no/such/target") != std::string::npos);
  }
  SUBCASE("a hardlink to a whited-out lower file is an input error") {
    auto m = apply_layers({{tfile("a", "x")}, {tfile(".wh.a"), thardlink("b", "a")}});
    REQUIRE_FALSE(m);
    CHECK(m.error().kind == ErrorKind::input);
  }
  SUBCASE("a hardlink whose target lies below a symlinked directory") {
    // /bin -> usr/bin: a later layer's "bin/x" lands in /usr/bin/x, so a link to
    // "bin/x" in that layer means the same file (containerd resolves link targets
    // inside the root the same way).
    Manifest m = must_apply({{tdir("usr"), tdir("usr/bin"), tsymlink("bin", "usr/bin")},
                             {tfile("bin/x", "prog", 0755), thardlink("bin/y", "bin/x")}});
    check_tree(m);
    REQUIRE(has(m, "/usr/bin/y"));
    CHECK(hex_of(get(m, "/usr/bin/y")) == sha256_hex("prog"));
  }
}

TEST_CASE("implicit parent directories are created 0755 root:root") {
  Manifest m = must_apply({{tfile("a/b/c/file", "x").own(1000, 1000)}});
  check_tree(m);
  CHECK(joined(paths(m)) == "/ /a /a/b /a/b/c /a/b/c/file ");
  for (const char* p : {"/a", "/a/b", "/a/b/c"}) {
    INFO(p);
    const Entry& e = get(m, p);
    CHECK(e.type == FileType::dir);
    CHECK(e.mode == 0755);
    CHECK(e.uid == 0);
    CHECK(e.gid == 0);
  }
  // An explicit entry for an implicit parent later in the same layer sets its
  // attributes and is not a duplicate.
  Manifest m2 = must_apply({{tfile("a/f"), tdir("a", 0700).own(2, 2)}});
  CHECK(get(m2, "/a").mode == 0700);
  CHECK(get(m2, "/a").uid == 2);
  CHECK(m2.warnings.empty());
}

TEST_CASE("entry names normalise to one clean absolute path") {
  struct Case {
    std::string raw;
    std::string clean;
  };
  std::vector<Case> cases = {
      {"a", "/a"},      {"./a", "/a"},        {"/a", "/a"},     {"a/", "/a"},
      {"//a", "/a"},    {"./a/", "/a"},       {"a//b", "/a/b"}, {"./a/./b", "/a/b"},
      {"a/../b", "/b"}, {"a/b/../c", "/a/c"}, {"././x", "/x"},
  };
  for (const auto& c : cases) {
    INFO("raw name " << c.raw);
    bool dir = c.raw.ends_with("/");
    Manifest m = must_apply({{dir ? tdir(c.raw) : tfile(c.raw, "x")}});
    check_tree(m);
    CHECK(has(m, c.clean));
    CHECK(m.entries.back().path == c.clean);
  }
  SUBCASE("the \"./\" root entry sets the root's attributes") {
    Manifest m = must_apply({{tdir("./", 0700).own(0, 0).at(77), tfile("./x")}});
    check_tree(m);
    CHECK(joined(paths(m)) == "/ /x ");
    CHECK(get(m, "/").mode == 0700);
    CHECK(get(m, "/").mtime == 77);
  }
  SUBCASE("different spellings of one path in one layer are one entry") {
    Manifest m = must_apply({{tfile("./a", "first"), tfile("/a", "second"), tfile("a", "third")}});
    CHECK(joined(paths(m)) == "/ /a ");
    CHECK(hex_of(get(m, "/a")) == sha256_hex("third"));
  }
}

TEST_CASE("names escaping the root with .. are rejected as malicious") {
  for (const char* raw : {"../x", "a/../../x", "/../etc/passwd", "./../x", ".."}) {
    INFO(raw);
    auto m = apply_layers({{tfile("ok")}, {tfile(raw, "evil")}});
    REQUIRE_FALSE(m);
    CHECK(m.error().kind == ErrorKind::input);
    CHECK(m.error().message.find("layer 1") != std::string::npos);
    CHECK(m.error().message.find("..") != std::string::npos);
  }
  SUBCASE("a hardlink target escaping the root is rejected too") {
    auto m = apply_layers({{tfile("a"), thardlink("b", "../../etc/shadow")}});
    REQUIRE_FALSE(m);
    CHECK(m.error().kind == ErrorKind::input);
  }
}

TEST_CASE("entries below a symlinked parent land inside the tree at the link's target") {
  struct Case {
    const char* name;
    std::string target;
  };
  std::vector<Case> cases = {
      {"relative link", "usr/bin"},
      {"absolute link", "/usr/bin"},
      {"link climbing above the root is clamped", "../../../usr/bin"},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      Manifest m = must_apply(
          {{tdir("usr"), tdir("usr/bin"), tsymlink("bin", c.target)}, {tfile("bin/x", "x", 0755)}});
      check_tree(m);
      CHECK(has(m, "/usr/bin/x"));
      CHECK_FALSE(has(m, "/bin/x"));
      CHECK(get(m, "/bin").type == FileType::symlink);
      CHECK(get(m, "/usr/bin/x").layer == 1);
    }
  }
  SUBCASE("a whiteout below a symlinked parent hides the link target's entry") {
    Manifest m = must_apply(
        {{tdir("usr/bin"), tfile("usr/bin/x"), tsymlink("bin", "usr/bin")}, {tfile("bin/.wh.x")}});
    check_tree(m);
    CHECK_FALSE(has(m, "/usr/bin/x"));
    CHECK(has(m, "/bin"));
  }
  SUBCASE("chained links") {
    Manifest m = must_apply(
        {{tdir("real"), tsymlink("l1", "l2"), tsymlink("l2", "real")}, {tfile("l1/f", "f")}});
    check_tree(m);
    CHECK(has(m, "/real/f"));
  }
}

TEST_CASE("symlink loops in parents are an error, not a hang") {
  std::vector<std::pair<const char*, Layer>> cases = {
      {"two links", {tsymlink("a", "b"), tsymlink("b", "a")}},
      {"self link", {tsymlink("a", "a")}},
      {"absolute self link", {tsymlink("a", "/a")}},
      {"link to its own child", {tsymlink("a", "a/b")}},
  };
  for (const auto& [name, lower] : cases) {
    SUBCASE(name) {
      auto m = apply_layers({lower, {tfile("a/x", "x")}});
      REQUIRE_FALSE(m);
      CHECK(m.error().kind == ErrorKind::input);
      CHECK(m.error().message.find("layer 1") != std::string::npos);
    }
  }
}

TEST_CASE("duplicate entries in one layer: the last wins, with a warning") {
  Manifest m = must_apply({{tfile("f", "one", 0600), tfile("f", "two", 0644)}});
  CHECK(hex_of(get(m, "/f")) == sha256_hex("two"));
  CHECK(get(m, "/f").mode == 0644);
  CHECK(any_warning_contains(m, "duplicate"));
  CHECK(any_warning_contains(m, "/f"));
  // The same path in two layers is a replacement, not a duplicate.
  Manifest m2 = must_apply({{tfile("f", "one")}, {tfile("f", "two")}});
  CHECK(m2.warnings.empty());
}

TEST_CASE("long names in pax and gnutar; ustar splits at 255") {
  std::string dir150 = std::string(70, 'd') + "/" + std::string(79, 'e');
  std::string name150 = dir150 + "/file-" + std::string(20, 'f');
  std::string name300;
  for (int i = 0; i < 6; ++i)
    name300 += std::string(49, static_cast<char>('a' + i)) + "/";
  name300 += "leaf-" + std::string(40, 'z');
  REQUIRE(name150.size() > 100);
  REQUIRE(name300.size() > 255);
  std::string target300 = "/" + name300;
  for (TarFormat f : {TarFormat::pax, TarFormat::gnutar}) {
    INFO("format " << static_cast<int>(f));
    Manifest m = must_apply(
        {{tfile(name150, "150"), tfile(name300, "300"), tsymlink("longlink", target300)}},
        Whiteouts::apply, f);
    check_tree(m);
    CHECK(hex_of(get(m, "/" + name150)) == sha256_hex("150"));
    CHECK(hex_of(get(m, "/" + name300)) == sha256_hex("300"));
    CHECK(get(m, "/longlink").target == target300);
  }
  // ustar's prefix field holds up to 155 more bytes.
  Manifest m = must_apply({{tfile(name150, "150")}}, Whiteouts::apply, TarFormat::ustar);
  CHECK(has(m, "/" + name150));
}

TEST_CASE("non-UTF-8 names survive as raw bytes") {
  std::string raw = std::string("caf\xe9-\xff");
  Manifest m = must_apply({{tfile(raw, "x")}});
  CHECK(has(m, "/" + raw));
}

TEST_CASE("xattrs from PAX SCHILY.xattr headers") {
  // A file capability blob: cap_net_bind_service+ep (VFS_CAP_REVISION_2).
  std::string cap(
      "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  Manifest m = must_apply(
      {{tfile("bin/ping", "elf", 0755).xattr("user.note", "hi").xattr("security.capability", cap),
        tdir("d").xattr("user.dir", std::string("\0bin\xff", 5))}});
  // libarchive writes each xattr twice (LIBARCHIVE.xattr.* and SCHILY.xattr.*);
  // the entry must still list each name once, sorted by name.
  std::vector<Xattr> want_p = {{"security.capability", cap}, {"user.note", "hi"}};
  INFO("/bin/ping xattrs: " << xattr_list(get(m, "/bin/ping").xattrs));
  CHECK(get(m, "/bin/ping").xattrs == want_p);
  std::vector<Xattr> want_d = {{"user.dir", std::string("\0bin\xff", 5)}};
  CHECK(get(m, "/d").xattrs == want_d);
  // A hardlink carries its target's xattrs.
  Manifest m2 =
      must_apply({{tfile("a", "x").xattr("security.capability", cap)}, {thardlink("b", "a")}});
  CHECK(get(m2, "/b").xattrs == get(m2, "/a").xattrs);
  REQUIRE_FALSE(get(m2, "/b").xattrs.empty());
  CHECK(get(m2, "/b").xattrs.back().value == cap);
}

TEST_CASE("SCHILY.xattr alone (as Go's archive/tar writes it) gives one xattr per name") {
  // Hand-made pax header with only SCHILY.xattr records, like Docker/BuildKit layers.
  std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00", 8);
  auto record = [](const std::string& kv) {
    std::size_t len = kv.size() + 2; // " " and "\n"
    std::size_t digits = std::to_string(len).size();
    len += digits;
    if (std::to_string(len).size() != digits) ++len;
    return std::to_string(len) + " " + kv + "\n";
  };
  std::string pax = record("SCHILY.xattr.security.capability=" + cap);
  // Build: pax header member ('x') + file member, via libarchive's raw ustar writer
  // for the headers, then patch the pax member's type flag.
  std::string tar =
      make_tar({tfile("PaxHeaders/ping", pax), tfile("ping", "elf", 0755)}, TarFormat::ustar);
  // Patch the first header's type flag to 'x' and fix its checksum.
  tar[156] = 'x';
  std::memset(&tar[148], ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i)
    sum += static_cast<unsigned char>(tar[i]);
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  std::memcpy(&tar[148], chk, 7);
  tar[154] = '\0';
  tar[155] = ' ';
  MemorySource src(tar, "go layer");
  TarReader reader(src, "go layer");
  REQUIRE(reader.open());
  TreeBuilder builder;
  REQUIRE(builder.apply(reader, 0, Whiteouts::apply));
  Manifest m = builder.finish("t", SourceKind::rootfs_tar);
  std::vector<Xattr> want = {{"security.capability", cap}};
  CHECK(get(m, "/ping").xattrs == want);
  CHECK(hex_of(get(m, "/ping")) == sha256_hex("elf"));
}

namespace {

// A tar whose first member claims a huge size: header bytes, then zeros produced
// on demand (and skippable), then a normal tail. Nothing large is ever allocated.
class HugeMemberSource : public ByteSource {
public:
  HugeMemberSource(std::string header, std::uint64_t body, std::string tail)
      : m_header(std::move(header)), m_body((body + 511) / 512 * 512), m_tail(std::move(tail)) {}

  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override {
    std::uint64_t total = m_header.size() + m_body + m_tail.size();
    if (m_pos >= total) return std::size_t{0};
    std::size_t n;
    if (m_pos < m_header.size()) {
      n = std::min<std::uint64_t>(cap, m_header.size() - m_pos);
      std::memcpy(buf, m_header.data() + m_pos, n);
    } else if (m_pos < m_header.size() + m_body) {
      n = std::min<std::uint64_t>(cap, m_header.size() + m_body - m_pos);
      std::memset(buf, 0, n);
      m_zero_bytes_read += n;
    } else {
      std::uint64_t off = m_pos - m_header.size() - m_body;
      n = std::min<std::uint64_t>(cap, m_tail.size() - off);
      std::memcpy(buf, m_tail.data() + off, n);
    }
    m_pos += n;
    return n;
  }
  std::uint64_t skip(std::uint64_t n) override {
    std::uint64_t total = m_header.size() + m_body + m_tail.size();
    n = std::min(n, total - m_pos);
    m_pos += n;
    return n;
  }
  const std::string& name() const override { return m_name; }
  std::uint64_t zero_bytes_read() const { return m_zero_bytes_read; }

private:
  std::string m_header;
  std::uint64_t m_body;
  std::string m_tail;
  std::uint64_t m_pos = 0;
  std::uint64_t m_zero_bytes_read = 0;
  std::string m_name = "huge";
};

} // namespace

TEST_CASE("large sizes via pax are read exactly and skipped without reading") {
  const std::uint64_t size = 9ull << 30; // beyond ustar's 8 GiB
  std::string header = tar_header_only("big.img", size);
  REQUIRE(header.size() >= 1024); // pax extended header + ustar header
  HugeMemberSource src(header, size, make_tar({tfile("after", "tail")}));
  TarReader reader(src, "huge layer");
  REQUIRE(reader.open());
  Member m;
  auto more = reader.next(m);
  REQUIRE(more);
  REQUIRE(*more);
  CHECK(m.name == "big.img");
  CHECK(m.size == size);
  more = reader.next(m);
  REQUIRE(more);
  REQUIRE(*more);
  CHECK(m.name == "after");
  CHECK(m.size == 4);
  CHECK(src.zero_bytes_read() < (64u << 20)); // the body was skipped, not read
}

TEST_CASE("the layer index is recorded per entry") {
  Manifest m = must_apply({{tfile("a"), tfile("b"), tdir("d")},
                           {tfile("b", "b1"), tdir("d", 0700)},
                           {tfile("c/new"), tfile("d/x")}});
  check_tree(m);
  CHECK(get(m, "/a").layer == 0);
  CHECK(get(m, "/b").layer == 1);
  CHECK(get(m, "/d").layer == 1);
  CHECK(get(m, "/c").layer == 2); // implicit parent made by layer 2
  CHECK(get(m, "/c/new").layer == 2);
  CHECK(get(m, "/d/x").layer == 2);
}

TEST_CASE("Whiteouts::literal keeps .wh. names as plain files") {
  TreeBuilder builder;
  MemorySource s0(make_tar({tfile("x", "x"), tdir("d"), tfile("d/y", "y")}), "tree");
  TarReader r0(s0, "tree");
  REQUIRE(r0.open());
  REQUIRE(builder.apply(r0, -1, Whiteouts::literal));
  MemorySource s1(make_tar({tfile(".wh.x", "marker"), tfile("d/.wh..wh..opq")}), "tree2");
  TarReader r1(s1, "tree2");
  REQUIRE(r1.open());
  REQUIRE(builder.apply(r1, -1, Whiteouts::literal));
  Manifest m = builder.finish("export", SourceKind::container_export);
  check_tree(m);
  CHECK(joined(paths(m)) == "/ /.wh.x /d /d/.wh..wh..opq /d/y /x ");
  CHECK(hex_of(get(m, "/.wh.x")) == sha256_hex("marker"));
  CHECK(get(m, "/x").layer == -1);
}

TEST_CASE("content SHA-256 and size are those of the file's bytes") {
  std::string big;
  big.reserve((1u << 20) + 7);
  for (std::size_t i = 0; i < (1u << 20) + 7; ++i)
    big.push_back(static_cast<char>(i * 31 % 251));
  struct Case {
    std::string content;
    std::string hex; // known vector, or empty: compare with sha256_of
  };
  std::vector<Case> cases = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {std::string("\0\0\0", 3), ""},
      {big, ""},
  };
  for (const auto& c : cases) {
    INFO("size " << c.content.size());
    for (TarFormat f : {TarFormat::pax, TarFormat::ustar, TarFormat::gnutar}) {
      Manifest m = must_apply({{tfile("f", c.content)}}, Whiteouts::apply, f);
      const Entry& e = get(m, "/f");
      CHECK(e.size == c.content.size());
      CHECK(hex_of(e) == (c.hex.empty() ? sha256_hex(c.content) : c.hex));
    }
  }
}

TEST_CASE("device nodes, fifos and ownership are carried through") {
  Manifest m = must_apply(
      {{tdevice("dev/null", FileType::chardev, 1, 3), tdevice("dev/sda", FileType::blockdev, 8, 0),
        tfifo("run/pipe"), tfile("home/u/f", "x").own(1000, 1001).perm(04755)}});
  check_tree(m);
  CHECK(get(m, "/dev/null").type == FileType::chardev);
  CHECK(get(m, "/dev/null").dev_major == 1);
  CHECK(get(m, "/dev/null").dev_minor == 3);
  CHECK(get(m, "/dev/sda").type == FileType::blockdev);
  CHECK(get(m, "/dev/sda").dev_major == 8);
  CHECK(get(m, "/run/pipe").type == FileType::fifo);
  const Entry& f = get(m, "/home/u/f");
  CHECK(f.uid == 1000);
  CHECK(f.gid == 1001);
  CHECK(f.mode == 04755);
}

TEST_CASE("captures: wanted files are kept with exact content and dropped when hidden") {
  const std::string passwd = "root:x:0:0:root:/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n";
  const std::string group = "root:x:0:\n";
  REQUIRE(wants_capture("/etc/passwd"));
  REQUIRE_FALSE(wants_capture("/etc/motd"));

  SUBCASE("present with exact content; unwanted files are not captured") {
    Manifest m = must_apply(
        {{tfile("etc/passwd", passwd), tfile("etc/group", group), tfile("etc/motd", "hi")}});
    CHECK(m.captures.files.size() == 2);
    CHECK(m.captures.files.at("/etc/passwd") == passwd);
    CHECK(m.captures.files.at("/etc/group") == group);
    CHECK(m.captures.bytes == passwd.size() + group.size());
  }
  SUBCASE("a later layer's content replaces the capture") {
    Manifest m = must_apply({{tfile("etc/passwd", "old\n")}, {tfile("./etc/passwd", passwd)}});
    CHECK(m.captures.files.at("/etc/passwd") == passwd);
    CHECK(m.captures.bytes == passwd.size());
  }
  std::vector<std::pair<const char*, Layer>> hiding = {
      {"whiteout of the file", {tfile("etc/.wh.passwd")}},
      {"whiteout of the directory", {tfile(".wh.etc")}},
      {"opaque directory", {tfile("etc/.wh..wh..opq"), tfile("etc/hosts")}},
      {"directory replaced by a file", {tfile("etc", "file now")}},
      {"file replaced by a symlink", {tsymlink("etc/passwd", "/elsewhere")}},
      {"file replaced by a directory", {tdir("etc/passwd")}},
  };
  for (const auto& [name, upper] : hiding) {
    SUBCASE(name) {
      Manifest m = must_apply({{tdir("etc"), tfile("etc/passwd", passwd)}, upper});
      CHECK(m.captures.files.count("/etc/passwd") == 0);
      CHECK(m.captures.bytes == 0);
    }
  }
  SUBCASE("whiteout in the same layer as the file does not drop it") {
    Manifest m = must_apply(
        {{tfile("etc/passwd", "lower\n")}, {tfile("etc/.wh.passwd"), tfile("etc/passwd", passwd)}});
    CHECK(m.captures.files.at("/etc/passwd") == passwd);
  }
  SUBCASE("a hardlink at a wanted path shares the captured content") {
    Manifest m = must_apply({{tfile("root/.bash_history", "ls\n")},
                             {thardlink("home/u/.bash_history", "root/.bash_history")}});
    CHECK(m.captures.files.at("/root/.bash_history") == "ls\n");
    CHECK(m.captures.files.at("/home/u/.bash_history") == "ls\n");
  }
  SUBCASE("every captured path is an entry of the tree") {
    Manifest m = must_apply({{tdir("etc"), tfile("etc/passwd", passwd), tfile("etc/group", group)},
                             {tfile("etc/.wh.group"), tfile("etc/shadow", "root:*::0:::::\n")}});
    for (const auto& [path, content] : m.captures.files) {
      INFO(path);
      REQUIRE(has(m, path));
      CHECK(hex_of(get(m, path)) == sha256_hex(content));
    }
    // /etc/passwd only: group was whited out, shadow is never captured.
    CHECK(m.captures.files.size() == 1);
    CHECK(m.captures.files.count("/etc/shadow") == 0);
  }
}

TEST_CASE("the same tree parses identically from pax, ustar and gnutar") {
  Layer table = {tdir("etc", 0755).at(10),
                 tfile("etc/passwd", "root\n", 0644).at(11),
                 tsymlink("etc/mtab", "/proc/mounts"),
                 tdir("tmp", 01777),
                 tfile("usr/bin/su", "su", 04755).own(0, 0),
                 thardlink("usr/bin/su2", "usr/bin/su")};
  Manifest pax = must_apply({table}, Whiteouts::apply, TarFormat::pax);
  for (TarFormat f : {TarFormat::ustar, TarFormat::gnutar}) {
    Manifest other = must_apply({table}, Whiteouts::apply, f);
    REQUIRE(other.entries.size() == pax.entries.size());
    for (std::size_t i = 0; i < pax.entries.size(); ++i) {
      const Entry& a = pax.entries[i];
      const Entry& b = other.entries[i];
      INFO(a.path);
      CHECK(a.path == b.path);
      CHECK(a.type == b.type);
      CHECK(a.mode == b.mode);
      CHECK(a.uid == b.uid);
      CHECK(a.sha256 == b.sha256);
      CHECK(a.target == b.target);
      CHECK(a.mtime == b.mtime);
    }
  }
  CHECK(get(pax, "/tmp").mode == 01777);
  CHECK(get(pax, "/usr/bin/su2").mode == 04755);
}
