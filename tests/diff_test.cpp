// diff_manifests over manifests built from entry tables.
#include "cdrift/diff/diff.hpp"
#include "cdrift/util/sha256.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <functional>
#include <string>
#include <vector>

using namespace cdrift;

namespace {

Entry file(std::string path, std::string_view content = "x", std::uint32_t mode = 0644) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::file;
  e.mode = mode;
  e.size = content.size();
  e.sha256 = sha256_of(content);
  e.mtime = 1000;
  return e;
}

Entry dir(std::string path, std::uint32_t mode = 0755) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::dir;
  e.mode = mode;
  e.mtime = 1000;
  return e;
}

Entry slink(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::symlink;
  e.mode = 0777;
  e.target = std::move(target);
  e.mtime = 1000;
  return e;
}

Entry device(std::string path, FileType type, std::uint32_t major, std::uint32_t minor) {
  Entry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = 0600;
  e.dev_major = major;
  e.dev_minor = minor;
  e.mtime = 1000;
  return e;
}

Manifest manifest(std::vector<Entry> entries) {
  Manifest m;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  m.entries = std::move(entries);
  return m;
}

std::string describe(const std::vector<Change>& changes) {
  std::string s;
  for (const auto& c : changes) {
    s += std::string(to_string(c.kind)) + " " + c.path;
    for (Field f : c.fields)
      s += " " + std::string(to_string(f));
    if (c.subtree_entries) s += " +" + std::to_string(c.subtree_entries);
    s += "; ";
  }
  return s;
}

} // namespace

TEST_CASE("identical manifests: no changes") {
  Manifest a = manifest({dir("/"), dir("/etc"), file("/etc/passwd"), slink("/bin", "usr/bin")});
  DiffResult d = diff_manifests(a, a);
  CHECK(d.changes.empty());
  CHECK(d.touched.empty());
  Manifest empty;
  CHECK(diff_manifests(empty, empty).changes.empty());
}

TEST_CASE("added and deleted entries") {
  Manifest before = manifest({dir("/"), file("/gone", "g"), file("/same")});
  Manifest after = manifest({dir("/"), file("/same"), file("/new", "n", 0755)});
  DiffResult d = diff_manifests(before, after);
  CHECK(describe(d.changes) == "deleted /gone; added /new; ");
  REQUIRE(d.changes.size() == 2);
  const Change& gone = d.changes[0];
  CHECK(gone.before.has_value());
  CHECK_FALSE(gone.after.has_value());
  CHECK(gone.current().path == "/gone");
  const Change& added = d.changes[1];
  CHECK_FALSE(added.before.has_value());
  REQUIRE(added.after.has_value());
  CHECK(added.mode_added == bit_executable);
}

TEST_CASE("modified: each field, in canonical order") {
  struct Case {
    const char* name;
    Entry before;
    std::function<void(Entry&)> mutate;
    std::vector<Field> fields;
  };
  std::vector<Case> cases = {
      {"content, same size",
       file("/f", "aaaa"),
       [](Entry& e) { e.sha256 = sha256_of("bbbb"); },
       {Field::content}},
      {"content and size",
       file("/f", "aaaa"),
       [](Entry& e) {
         e.sha256 = sha256_of("aaaaa");
         e.size = 5;
       },
       {Field::content, Field::size}},
      {"size only (same digest claimed)",
       file("/f", "aaaa"),
       [](Entry& e) { e.size = 9; },
       {Field::size}},
      {"type file to dir",
       file("/f", "a", 0755),
       [](Entry& e) {
         e.type = FileType::dir;
         e.sha256.reset();
         e.size = 0;
       },
       {Field::type}},
      {"type dir to symlink",
       dir("/d"),
       [](Entry& e) {
         e.type = FileType::symlink;
         e.target = "/x";
       },
       {Field::type}},
      {"mode", file("/f"), [](Entry& e) { e.mode = 0600; }, {Field::mode}},
      {"uid", file("/f"), [](Entry& e) { e.uid = 1000; }, {Field::uid}},
      {"gid", file("/f"), [](Entry& e) { e.gid = 50; }, {Field::gid}},
      {"symlink target", slink("/l", "/a"), [](Entry& e) { e.target = "/b"; }, {Field::target}},
      {"symlink mode is not a change", slink("/l", "/a"), [](Entry& e) { e.mode = 0755; }, {}},
      {"xattrs added",
       file("/f"),
       [](Entry& e) {
         e.xattrs = {{"security.capability", "\x01"}};
       },
       {Field::xattrs}},
      {"xattr value", file("/f"), [](Entry& e) { e.xattrs[0].value = "other"; }, {Field::xattrs}},
      {"device numbers",
       device("/dev/x", FileType::chardev, 1, 3),
       [](Entry& e) { e.dev_minor = 5; },
       {Field::device}},
      {"block device major",
       device("/dev/b", FileType::blockdev, 8, 0),
       [](Entry& e) { e.dev_major = 9; },
       {Field::device}},
      {"several at once",
       file("/f", "a"),
       [](Entry& e) {
         e.uid = 1;
         e.mode = 0777;
         e.sha256 = sha256_of("b");
         e.gid = 2;
       },
       {Field::content, Field::mode, Field::uid, Field::gid}},
      {"layer and content class are not fields",
       file("/f"),
       [](Entry& e) {
         e.layer = 3;
         e.content_class = ContentClass::text;
       },
       {}},
  };
  cases[11].before.xattrs = {{"user.a", "v"}};
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      Entry after = c.before;
      c.mutate(after);
      CHECK(changed_fields(c.before, after) == c.fields);
      DiffResult d = diff_manifests(manifest({dir("/"), c.before}), manifest({dir("/"), after}));
      if (c.fields.empty()) {
        CHECK(d.changes.empty());
      } else {
        REQUIRE(d.changes.size() == 1);
        CHECK(d.changes[0].kind == ChangeKind::modified);
        CHECK(d.changes[0].fields == c.fields);
        for (Field f : c.fields)
          CHECK(d.changes[0].has(f));
        REQUIRE(d.changes[0].before);
        REQUIRE(d.changes[0].after);
        CHECK(d.changes[0].current().path == c.before.path);
      }
    }
  }
}

TEST_CASE("mode_added: special bits a change turned on") {
  struct Case {
    const char* name;
    Entry before;
    std::uint32_t after_mode;
    FileType after_type;
    std::uint8_t expected;
  };
  std::vector<Case> cases = {
      {"setuid", file("/f", "x", 0755), 04755, FileType::file, bit_setuid},
      {"setgid", file("/f", "x", 0755), 02755, FileType::file, bit_setgid},
      {"sticky on a directory", dir("/d", 0777), 01777, FileType::dir, bit_sticky},
      {"world writable file", file("/f", "x", 0644), 0646, FileType::file, bit_world_writable},
      {"world writable directory", dir("/d", 0755), 0757, FileType::dir, bit_world_writable},
      {"executable file", file("/f", "x", 0644), 0744, FileType::file, bit_executable},
      {"group exec only", file("/f", "x", 0644), 0654, FileType::file, bit_executable},
      {"already executable", file("/f", "x", 0755), 0711, FileType::file, 0},
      {"bits removed", file("/f", "x", 06777), 0644, FileType::file, 0},
      {"directory x bits are not executable", dir("/d", 0644), 0755, FileType::dir, 0},
      {"setuid and exec at once", file("/f", "x", 0644), 04755, FileType::file,
       bit_setuid | bit_executable},
      {"dir becomes executable file", dir("/d", 0755), 0755, FileType::file, bit_executable},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      Entry after = c.before;
      after.mode = c.after_mode;
      after.type = c.after_type;
      if (after.type == FileType::file && !after.sha256) after.sha256 = sha256_of("");
      CHECK(static_cast<int>(mode_bits_added(&c.before, after)) == static_cast<int>(c.expected));
      DiffResult d = diff_manifests(manifest({c.before}), manifest({after}));
      REQUIRE(d.changes.size() == 1);
      CHECK(static_cast<int>(d.changes[0].mode_added) == static_cast<int>(c.expected));
    }
  }
  SUBCASE("symlinks are never world writable") {
    Entry l = slink("/l", "/x");
    CHECK(mode_bits_added(nullptr, l) == 0);
  }
  SUBCASE("added entries report the bits they have") {
    CHECK(mode_bits_added(nullptr, file("/f", "x", 06757)) ==
          (bit_setuid | bit_setgid | bit_world_writable | bit_executable));
    CHECK(mode_bits_added(nullptr, dir("/tmp", 01777)) == (bit_sticky | bit_world_writable));
  }
}

TEST_CASE("an mtime-only change is touched, never drift") {
  Entry f = file("/f");
  Entry d = dir("/d");
  Entry f2 = f, d2 = d;
  f2.mtime = 5000;
  d2.mtime = 6000;
  DiffResult r = diff_manifests(manifest({dir("/"), d, f}), manifest({dir("/"), d2, f2}));
  CHECK(r.changes.empty());
  REQUIRE(r.touched.size() == 2);
  CHECK(r.touched[0].path == "/d");
  CHECK(r.touched[0].kind == ChangeKind::touched);
  CHECK(r.touched[1].path == "/f");
  CHECK(r.touched[1].fields.empty());
  // mtime together with a real change: modified only, not also touched.
  f2.uid = 7;
  DiffResult r2 = diff_manifests(manifest({f}), manifest({f2}));
  CHECK(describe(r2.changes) == "modified /f uid; ");
  CHECK(r2.touched.empty());
}

TEST_CASE("a directory that merely contains changes is not reported") {
  Manifest before = manifest({dir("/"), dir("/etc"), file("/etc/passwd", "a")});
  Entry etc = dir("/etc");
  etc.mtime = 99999;
  Manifest after = manifest({dir("/"), etc, file("/etc/passwd", "b"), file("/etc/new")});
  DiffResult d = diff_manifests(before, after);
  CHECK(describe(d.changes) == "added /etc/new; modified /etc/passwd content; ");
  REQUIRE(d.touched.size() == 1);
  CHECK(d.touched[0].path == "/etc");
}

TEST_CASE("a deleted directory is reported once with the size of its subtree") {
  // Byte order traps: "/a-b" and "/a.c" sort between "/a" and "/a/x"; "/ab" after.
  Manifest before =
      manifest({dir("/"), dir("/a"), file("/a/x"), dir("/a/y"), file("/a/y/z"), dir("/a/y/w"),
                dir("/a-b"), file("/a-b/q"), file("/a.c"), file("/ab"), file("/a0")});
  Manifest after = manifest({dir("/"), dir("/a-b"), file("/a.c"), file("/ab"), file("/a0")});
  DiffResult d = diff_manifests(before, after);
  CHECK(describe(d.changes) == "deleted /a +4; deleted /a-b/q; ");
  REQUIRE(d.changes.size() == 2);
  CHECK(d.changes[0].subtree_entries == 4);
  CHECK(d.changes[1].subtree_entries == 0);

  SUBCASE("a deleted directory inside a kept one") {
    Manifest b =
        manifest({dir("/"), dir("/etc"), file("/etc/hosts"), dir("/etc/ssl"), dir("/etc/ssl/certs"),
                  file("/etc/ssl/certs/ca.pem"), file("/etc/ssl-keep")});
    Manifest a = manifest({dir("/"), dir("/etc"), file("/etc/hosts"), file("/etc/ssl-keep")});
    DiffResult r = diff_manifests(b, a);
    CHECK(describe(r.changes) == "deleted /etc/ssl +2; ");
  }
  SUBCASE("an empty deleted directory") {
    DiffResult r = diff_manifests(manifest({dir("/"), dir("/empty")}), manifest({dir("/")}));
    CHECK(describe(r.changes) == "deleted /empty; ");
  }
  SUBCASE("deleted files without a deleted parent are each reported") {
    DiffResult r = diff_manifests(manifest({dir("/"), dir("/d"), file("/d/1"), file("/d/2")}),
                                  manifest({dir("/"), dir("/d")}));
    CHECK(describe(r.changes) == "deleted /d/1; deleted /d/2; ");
  }
}

TEST_CASE("an added directory and every entry inside it are reported") {
  Manifest before = manifest({dir("/")});
  Manifest after = manifest({dir("/"), dir("/new"), file("/new/a"), dir("/new/b"),
                             file("/new/b/c", "c", 04755), file("/new-file")});
  DiffResult d = diff_manifests(before, after);
  CHECK(describe(d.changes) ==
        "added /new; added /new-file; added /new/a; added /new/b; added /new/b/c; ");
  const Change* c = nullptr;
  for (const auto& ch : d.changes)
    if (ch.path == "/new/b/c") c = &ch;
  REQUIRE(c);
  CHECK(c->mode_added == (bit_setuid | bit_executable));
}

TEST_CASE("changes are sorted by path bytes across kinds") {
  Manifest before = manifest({dir("/"), file("/z"), dir("/a"), file("/a/1"), file("/a-1"),
                              file("/\xc3\xa9"), file("/B", "b")});
  Manifest after = manifest({dir("/"), file("/a-1", "changed"), file("/a0"), file("/\xc3\xa9", "e"),
                             file("/B", "B"), file("/_"), file("/\x7f")});
  DiffResult d = diff_manifests(before, after);
  std::vector<std::string> got;
  for (const auto& c : d.changes)
    got.push_back(c.path);
  CHECK(std::is_sorted(got.begin(), got.end()));
  CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());
  CHECK(describe(d.changes) == "modified /B content; added /_; deleted /a +1; modified /a-1 "
                               "content size; added /a0; deleted /z; "
                               "added /\x7f; modified /\xc3\xa9 content; ");
}
