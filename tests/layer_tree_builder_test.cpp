// TreeBuilder (layer/tree_builder.cpp): the OCI image-spec layer rules (whiteouts,
// opaque directories, replacement, hardlinks, parents, escapes) and captures.
#include "layer_helpers.hpp"

#include <doctest/doctest.h>

using namespace cdrift;
using namespace cdrift::test;

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
