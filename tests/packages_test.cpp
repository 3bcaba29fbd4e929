#include "cdrift/classify/packages.hpp"
#include "cdrift/manifest/capture.hpp"
#include "classify/context.hpp"

#include <doctest/doctest.h>

using namespace cdrift;

namespace {

Captures debian_captures() {
  Captures c;
  c.files["/var/lib/dpkg/status"] = "Package: zlib1g\n"
                                    "Status: install ok installed\n"
                                    "Architecture: amd64\n"
                                    "Version: 1:1.2.13.dfsg-1\n"
                                    "Description: compression library - runtime\n"
                                    " zlib is a library implementing the deflate method\n"
                                    "\n"
                                    "Package: login\n"
                                    "Status: install ok installed\n"
                                    "Version: 1:4.13+dfsg1-1+b1\n"
                                    "Conffiles:\n"
                                    " /etc/login.defs 8a7f2a3e1c0b6a1e2f7d9c3b4a5e6f70\n"
                                    " /etc/pam.d/login 1c0b6a1e2f7d9c3b4a5e6f708a7f2a3e obsolete\n"
                                    " /etc/newthing newconffile\n"
                                    "Description: system login tools\n"
                                    "\n"
                                    "Package: oldpkg\n"
                                    "Status: deinstall ok config-files\n"
                                    "Version: 0.1\n"
                                    "Conffiles:\n"
                                    " /etc/oldpkg.conf 00000000000000000000000000000000\n";
  c.files["/var/lib/dpkg/info/zlib1g:amd64.list"] = "/.\n"
                                                    "/lib\n"
                                                    "/lib/x86_64-linux-gnu\n"
                                                    "/lib/x86_64-linux-gnu/libz.so.1.2.13\n"
                                                    "/usr/share/doc/zlib1g\n"
                                                    "/usr/share/doc/zlib1g/copyright\n"
                                                    "/lib/x86_64-linux-gnu/libz.so.1\n";
  c.files["/var/lib/dpkg/info/zlib1g:amd64.md5sums"] =
      "0f5c0c4e5f3a8d1b9e2c7a6b5d4c3b2a  lib/x86_64-linux-gnu/libz.so.1.2.13\n"
      "1f5c0c4e5f3a8d1b9e2c7a6b5d4c3b2a  usr/share/doc/zlib1g/copyright\n";
  c.files["/var/lib/dpkg/info/login.list"] =
      "/.\n/etc\n/etc/login.defs\n/etc/pam.d/login\n/usr/bin/login\n/bin/su\n";
  c.files["/var/lib/dpkg/info/login.md5sums"] = "2f5c0c4e5f3a8d1b9e2c7a6b5d4c3b2a  usr/bin/login\n"
                                                "3f5c0c4e5f3a8d1b9e2c7a6b5d4c3b2a  bin/su\n";
  c.files["/var/lib/dpkg/info/aaa-evil.list"] = "/../../../outside\n\n   \nrelative/path\n";
  c.files["/var/lib/dpkg/info/aaa-evil.md5sums"] = "short\nnot-a-hash  x\n";
  c.files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/bash\n";
  return c;
}

} // namespace

TEST_CASE("packages: dpkg status, lists and md5sums") {
  auto db = PackageDb::from_captures(debian_captures());
  CHECK(db.manager() == "dpkg");
  CHECK_FALSE(db.empty());

  REQUIRE(db.owner("/lib/x86_64-linux-gnu/libz.so.1.2.13"));
  CHECK(*db.owner("/lib/x86_64-linux-gnu/libz.so.1.2.13") == "zlib1g"); // ":amd64" dropped
  CHECK(db.has_checksum("/lib/x86_64-linux-gnu/libz.so.1.2.13"));
  CHECK_FALSE(db.has_checksum("/lib/x86_64-linux-gnu/libz.so.1")); // symlink: no md5sums line
  CHECK(*db.owner("/lib/x86_64-linux-gnu/libz.so.1") == "zlib1g");
  CHECK(db.has_checksum("/usr/share/doc/zlib1g/copyright"));

  // Conffiles carry their hash in status, not in md5sums.
  CHECK(*db.owner("/etc/login.defs") == "login");
  CHECK(db.has_checksum("/etc/login.defs"));
  CHECK(db.has_checksum("/etc/pam.d/login")); // obsolete, still hashed
  CHECK(db.has_checksum("/usr/bin/login"));

  // A package in config-files state owns nothing and has no version.
  CHECK(db.owner("/etc/oldpkg.conf") == nullptr);
  CHECK(db.version("oldpkg") == nullptr);

  REQUIRE(db.version("zlib1g"));
  CHECK(*db.version("zlib1g") == "1:1.2.13.dfsg-1");
  CHECK(*db.version("zlib1g:amd64") == "1:1.2.13.dfsg-1");
  CHECK(*db.version("login") == "1:4.13+dfsg1-1+b1");

  CHECK(db.owner("/etc/passwd") == nullptr);
  CHECK(db.owner("/") == nullptr); // "/." lines are not ownership of the root
  CHECK(db.owner("/outside") == nullptr);
  CHECK(db.owner("/relative/path") != nullptr); // dpkg paths are rooted even without "/"
}

TEST_CASE("packages: usrmerge aliases resolve both ways") {
  auto db = PackageDb::from_captures(debian_captures());
  // Listed as /lib/..., found under /usr/lib/... in a merged image.
  REQUIRE(db.owner("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"));
  CHECK(*db.owner("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13") == "zlib1g");
  CHECK(db.has_checksum("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"));
  CHECK(*db.owner("/usr/bin/su") == "login");
  // Listed as /usr/bin/login, looked up as /bin/login.
  REQUIRE(db.owner("/bin/login"));
  CHECK(*db.owner("/bin/login") == "login");
  // /usr/share has no unmerged twin.
  CHECK(db.owner("/share/doc/zlib1g/copyright") == nullptr);
  // "/library" is not "/lib".
  CHECK(db.owner("/usr/library/x86_64-linux-gnu/libz.so.1") == nullptr);
}

TEST_CASE("packages: shared directories keep one deterministic owner") {
  Captures c;
  c.files["/var/lib/dpkg/info/bbb.list"] = "/usr\n/usr/bin\n/usr/bin/b\n";
  c.files["/var/lib/dpkg/info/aaa.list"] = "/usr\n/usr/bin\n/usr/bin/a\n";
  auto db = PackageDb::from_captures(c);
  CHECK(*db.owner("/usr/bin") == "aaa");
  CHECK(*db.owner("/usr/bin/b") == "bbb");
  CHECK(db.version("aaa") == nullptr);
}

TEST_CASE("packages: distroless status.d") {
  Captures c;
  c.files["/var/lib/dpkg/status.d/libssl3"] =
      "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nStatus: install ok installed\n";
  c.files["/var/lib/dpkg/status.d/libssl3.md5sums"] =
      "4f5c0c4e5f3a8d1b9e2c7a6b5d4c3b2a  usr/lib/x86_64-linux-gnu/libssl.so.3\n";
  auto db = PackageDb::from_captures(c);
  CHECK(db.manager() == "dpkg");
  REQUIRE(db.owner("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
  CHECK(*db.owner("/usr/lib/x86_64-linux-gnu/libssl.so.3") == "libssl3");
  CHECK(db.has_checksum("/lib/x86_64-linux-gnu/libssl.so.3"));
  CHECK(*db.version("libssl3") == "3.0.11-1~deb12u2");
}

TEST_CASE("packages: apk installed database") {
  Captures c;
  c.files["/lib/apk/db/installed"] = "C:Q1abc=\n"
                                     "P:musl\n"
                                     "V:1.2.4-r2\n"
                                     "A:x86_64\n"
                                     "F:lib\n"
                                     "R:ld-musl-x86_64.so.1\n"
                                     "a:0:0:755\n"
                                     "Z:Q1zB2S6Yk4cV9o3Jk=\n"
                                     "R:libc.musl-x86_64.so.1\n"
                                     "\n"
                                     "P:busybox\n"
                                     "V:1.36.1-r5\n"
                                     "F:bin\n"
                                     "R:busybox\n"
                                     "Z:Q1qq=\n"
                                     "F:etc\n"
                                     "R:securetty\n"
                                     "Z:Q1rr=\n";
  auto db = PackageDb::from_captures(c);
  CHECK(db.manager() == "apk");
  CHECK(*db.owner("/lib/ld-musl-x86_64.so.1") == "musl");
  CHECK(db.has_checksum("/lib/ld-musl-x86_64.so.1"));
  CHECK(*db.owner("/lib/libc.musl-x86_64.so.1") == "musl");
  CHECK_FALSE(db.has_checksum("/lib/libc.musl-x86_64.so.1")); // no Z: line
  CHECK(*db.owner("/lib") == "musl");
  CHECK(*db.owner("/bin/busybox") == "busybox");
  CHECK(*db.owner("/etc/securetty") == "busybox");
  CHECK(db.has_checksum("/etc/securetty"));
  CHECK(*db.version("busybox") == "1.36.1-r5");
  CHECK(*db.version("musl") == "1.2.4-r2");
}

TEST_CASE("packages: nothing captured") {
  Captures c;
  c.files["/etc/passwd"] = "root:x:0:0::/root:/bin/sh\n";
  auto db = PackageDb::from_captures(c);
  CHECK(db.empty());
  CHECK(db.manager().empty());
  CHECK(db.owner("/bin/sh") == nullptr);
  CHECK_FALSE(db.has_checksum("/bin/sh"));
}

TEST_CASE("capture: which files are kept") {
  CHECK(wants_capture("/etc/passwd"));
  CHECK(wants_capture("/etc/group"));
  // Password hashes are never captured: captures are written into saved manifests.
  CHECK_FALSE(wants_capture("/etc/shadow"));
  CHECK_FALSE(wants_capture("/etc/gshadow"));
  CHECK(wants_capture("/etc/os-release"));
  CHECK(wants_capture("/var/lib/dpkg/status"));
  CHECK(wants_capture("/var/lib/dpkg/info/libc6:amd64.list"));
  CHECK(wants_capture("/var/lib/dpkg/info/libc6:amd64.md5sums"));
  CHECK(wants_capture("/var/lib/dpkg/status.d/libssl3"));
  CHECK(wants_capture("/lib/apk/db/installed"));
  CHECK(wants_capture("/root/.bash_history"));
  CHECK(wants_capture("/root/.ash_history"));
  CHECK(wants_capture("/home/app/.zsh_history"));
  CHECK(wants_capture("/root/.local/share/fish/fish_history"));
  CHECK(wants_capture("/root/.python_history"));
  CHECK(wants_capture("/root/.viminfo"));

  CHECK_FALSE(wants_capture("/etc/passwd-"));
  CHECK_FALSE(wants_capture("/etc/passwd.bak"));
  CHECK_FALSE(wants_capture("/var/lib/dpkg/info/libc6:amd64.postinst"));
  CHECK_FALSE(wants_capture("/var/lib/dpkg/info/sub/x.list"));
  CHECK_FALSE(wants_capture("/var/lib/rpm/rpmdb.sqlite"));
  CHECK_FALSE(wants_capture("/root/bash_history"));
  CHECK_FALSE(wants_capture("/usr/bin/ls"));
  CHECK_FALSE(wants_capture("/"));
}

namespace {

Entry file_entry(std::string path, std::string content, int layer) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::file;
  e.mode = 0644;
  e.size = content.size();
  e.sha256 = sha256_of(content);
  e.layer = layer;
  return e;
}

Manifest debian_image() {
  Manifest m;
  m.captures = debian_captures();
  ImageInfo info;
  LayerInfo l0;
  l0.created_by = "/bin/sh -c #(nop) ADD file:abc in / ";
  LayerInfo l1;
  l1.created_by = "RUN /bin/sh -c apt-get install -y login";
  info.layers = {l0, l1};
  m.image = info;
  m.entries.push_back(file_entry("/usr/bin/login", "login v1", 1));
  m.entries.push_back(file_entry("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "zlib", 0));
  return m;
}

} // namespace

TEST_CASE("context: layer, created_by, package and checksum") {
  Manifest image = debian_image();
  auto db = PackageDb::from_captures(image.captures);

  Change mod;
  mod.path = "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13";
  mod.kind = ChangeKind::modified;
  mod.fields = {Field::content};
  mod.before = *image.find(mod.path);
  mod.after = file_entry(mod.path, "zlib with a backdoor", -1);
  auto ctx = describe_context(mod, image, db);
  REQUIRE(ctx.layer);
  CHECK(*ctx.layer == 0);
  CHECK(ctx.created_by == "/bin/sh -c #(nop) ADD file:abc in / ");
  CHECK(ctx.package == "zlib1g");
  CHECK(ctx.package_manager == "dpkg");
  REQUIRE(ctx.package_checksum_ok);
  CHECK_FALSE(*ctx.package_checksum_ok);

  // Mode-only change: content still the packaged content.
  Change chmod;
  chmod.path = "/usr/bin/login";
  chmod.kind = ChangeKind::modified;
  chmod.fields = {Field::mode};
  chmod.before = *image.find(chmod.path);
  chmod.after = chmod.before;
  chmod.after->mode = 04755;
  ctx = describe_context(chmod, image, db);
  CHECK(*ctx.layer == 1);
  CHECK(ctx.created_by == "RUN /bin/sh -c apt-get install -y login");
  CHECK(ctx.package == "login");
  REQUIRE(ctx.package_checksum_ok);
  CHECK(*ctx.package_checksum_ok);

  // Replaced by a symlink, or deleted: no longer the packaged file.
  Change to_link = chmod;
  to_link.fields = {Field::type};
  to_link.after->type = FileType::symlink;
  to_link.after->sha256.reset();
  to_link.after->target = "/tmp/x";
  CHECK(describe_context(to_link, image, db).package_checksum_ok == false);
  Change del;
  del.path = "/usr/bin/login";
  del.kind = ChangeKind::deleted;
  del.before = *image.find(del.path);
  ctx = describe_context(del, image, db);
  CHECK(ctx.package == "login");
  // A deleted file has no content left to match its package's checksum.
  CHECK_FALSE(ctx.package_checksum_ok.has_value());

  // Added file: no layer, no package, no checksum verdict.
  Change add;
  add.path = "/usr/local/bin/tool";
  add.kind = ChangeKind::added;
  add.after = file_entry(add.path, "x", -1);
  ctx = describe_context(add, image, db);
  CHECK_FALSE(ctx.layer);
  CHECK(ctx.created_by.empty());
  CHECK(ctx.package.empty());
  CHECK_FALSE(ctx.package_checksum_ok);

  // A layer index the image config does not describe: layer kept, no created_by.
  Change odd = mod;
  odd.before->layer = 7;
  ctx = describe_context(odd, image, db);
  CHECK(*ctx.layer == 7);
  CHECK(ctx.created_by.empty());
}

namespace {

// debian_captures() plus lines a restricted database must treat exactly like the
// full one: unclean paths ("/./usr//bin/odd", relative "usr/bin/rel", trailing "/",
// ".."), a file listed by two packages, one listed under both usrmerge spellings,
// and an apk-less, dpkg-only world.
Captures restricted_captures() {
  Captures c = debian_captures();
  c.files["/var/lib/dpkg/status"] += "\n"
                                     "Package: odd\n"
                                     "Status: install ok installed\n"
                                     "Version: 2.0-1\n"
                                     "Conffiles:\n"
                                     " /etc/odd//odd.conf 4a7f2a3e1c0b6a1e2f7d9c3b4a5e6f70\n"
                                     "\n";
  c.files["/var/lib/dpkg/info/odd.list"] = "/.\n"
                                           "/usr/bin/odd\n"
                                           "usr/bin/rel\n"
                                           "/usr/./share/odd/\n"
                                           "/usr/share/odd/../odd/data\n"
                                           "/usr/share/odd/sub/../listed-only\n"
                                           "./usr/share/odd/dot-only\n"
                                           "/usr/share/odd/.hidden\n"
                                           "/usr/share/odd/...\n"
                                           "/sbin/oddctl\n"
                                           "/usr/sbin/oddctl\n"
                                           "/etc/odd/odd.conf\n"
                                           "/usr/lib/x86_64-linux-gnu/libz.so.1\n";
  c.files["/var/lib/dpkg/info/odd.md5sums"] =
      "5f5c0c4e5f3a8d1b9e2c7a6b5d4c3b2a  /./usr//bin/odd\n"
      "6f5c0c4e5f3a8d1b9e2c7a6b5d4c3b2a  usr/bin/rel\n"
      "7f5c0c4e5f3a8d1b9e2c7a6b5d4c3b2a  ./usr/share/odd/data\n"
      "8f5c0c4e5f3a8d1b9e2c7a6b5d4c3b2a  usr/sbin/oddctl\n";
  return c;
}

// Every path a query might name: owned ones under either usrmerge spelling,
// conffiles, directories, unowned ones, and ones only the odd lines spell.
std::vector<std::string> probe_paths() {
  return {"/lib/x86_64-linux-gnu/libz.so.1.2.13",
          "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
          "/lib/x86_64-linux-gnu/libz.so.1",
          "/usr/lib/x86_64-linux-gnu/libz.so.1",
          "/lib/x86_64-linux-gnu",
          "/usr/lib/x86_64-linux-gnu",
          "/lib",
          "/usr/lib",
          "/usr/share/doc/zlib1g/copyright",
          "/share/doc/zlib1g/copyright",
          "/bin/su",
          "/usr/bin/su",
          "/usr/bin/login",
          "/bin/login",
          "/etc/login.defs",
          "/etc/pam.d/login",
          "/etc/newthing",
          "/etc/oldpkg.conf",
          "/etc/passwd",
          "/etc",
          "/usr/bin/odd",
          "/bin/odd",
          "/usr/bin/rel",
          "/bin/rel",
          "/usr/share/odd",
          "/usr/share/odd/data",
          "/usr/share/odd/listed-only",
          "/usr/share/odd/dot-only",
          "/usr/share/odd/.hidden",
          "/usr/share/odd/...",
          "/sbin/oddctl",
          "/usr/sbin/oddctl",
          "/etc/odd/odd.conf",
          "/relative/path",
          "/outside",
          "/usr/local/bin/nobody",
          "/",
          ""};
}

std::string owner_or_none(const PackageDb& db, std::string_view path) {
  const std::string* o = db.owner(path);
  return o ? *o : "<none>";
}

// The restricted db must answer like the full one for every path it was built for.
void check_same_answers(const PackageDb& full, const PackageDb& restricted,
                        const std::vector<std::string>& wanted) {
  CHECK(restricted.manager() == full.manager());
  for (const auto& p : wanted) {
    INFO("path " << p);
    CHECK(owner_or_none(restricted, p) == owner_or_none(full, p));
    CHECK(restricted.has_checksum(p) == full.has_checksum(p));
  }
  for (const char* pkg : {"zlib1g", "zlib1g:amd64", "login", "odd", "oldpkg", "nosuch"}) {
    INFO("package " << pkg);
    const std::string* a = full.version(pkg);
    const std::string* b = restricted.version(pkg);
    CHECK((a == nullptr) == (b == nullptr));
    if (a && b) CHECK(*a == *b);
  }
}

} // namespace

TEST_CASE("packages: a db restricted to some paths answers for them like the full db") {
  Captures c = restricted_captures();
  auto full = PackageDb::from_captures(c);
  // The full db itself, so the comparison below compares real answers.
  REQUIRE(full.owner("/usr/bin/odd"));
  CHECK(*full.owner("/usr/bin/odd") == "odd");
  CHECK(full.has_checksum("/usr/bin/odd"));
  CHECK(full.has_checksum("/bin/odd"));
  REQUIRE(full.owner("/usr/bin/rel"));
  CHECK(full.has_checksum("/usr/bin/rel"));
  CHECK(*full.owner("/usr/share/odd") == "odd");
  CHECK(full.has_checksum("/usr/share/odd/data"));
  // List lines only (no md5sums twin), so only their own normalisation finds them.
  CHECK(owner_or_none(full, "/usr/share/odd/listed-only") == "odd");
  CHECK(owner_or_none(full, "/usr/share/odd/sub/../listed-only") == "<none>");
  CHECK(owner_or_none(full, "/usr/share/odd/dot-only") == "odd");
  CHECK(owner_or_none(full, "/usr/share/odd/.hidden") == "odd");
  CHECK(owner_or_none(full, "/usr/share/odd/...") == "odd");
  CHECK(full.has_checksum("/etc/odd/odd.conf")); // conffile spelled "/etc/odd//odd.conf"
  CHECK(*full.owner("/usr/lib/x86_64-linux-gnu/libz.so.1") == "odd"); // exact spelling first
  CHECK(*full.owner("/lib/x86_64-linux-gnu/libz.so.1") == "zlib1g");
  CHECK(*full.version("odd") == "2.0-1");

  const auto all = probe_paths();
  SUBCASE("every probe wanted") {
    auto restricted = PackageDb::from_captures(c, &all);
    check_same_answers(full, restricted, all);
  }
  SUBCASE("each probe alone") {
    for (const auto& p : all) {
      INFO("only " << p);
      std::vector<std::string> one = {p};
      auto restricted = PackageDb::from_captures(c, &one);
      check_same_answers(full, restricted, one);
    }
  }
  SUBCASE("the usrmerge spelling the database does not use") {
    // Asked as /usr/..., listed as /lib/... (and the other way round).
    std::vector<std::string> wanted = {"/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "/usr/bin/su",
                                       "/bin/login", "/bin/odd", "/sbin/oddctl"};
    auto restricted = PackageDb::from_captures(c, &wanted);
    check_same_answers(full, restricted, wanted);
    REQUIRE(restricted.owner("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"));
    CHECK(*restricted.owner("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13") == "zlib1g");
    CHECK(restricted.has_checksum("/usr/bin/su"));
    CHECK(*restricted.owner("/bin/odd") == "odd");
    CHECK(restricted.has_checksum("/bin/odd"));
  }
}

TEST_CASE("packages: a restricted db knows nothing of owned paths it was not asked about") {
  Captures c = restricted_captures();
  auto full = PackageDb::from_captures(c);
  std::vector<std::string> wanted = {"/bin/su", "/etc/login.defs", "/usr/local/bin/nobody",
                                     "/usr/bin/odd"};
  auto restricted = PackageDb::from_captures(c, &wanted);
  check_same_answers(full, restricted, wanted);
  CHECK(restricted.manager() == "dpkg");
  CHECK(*restricted.owner("/usr/bin/su") == "login"); // the alias of a wanted path
  CHECK(restricted.owner("/usr/local/bin/nobody") == nullptr);
  for (const char* other :
       {"/usr/bin/login", "/bin/login", "/lib/x86_64-linux-gnu/libz.so.1.2.13",
        "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "/etc/pam.d/login", "/usr/bin/rel",
        "/usr/share/odd/data", "/etc/odd/odd.conf", "/relative/path", "/etc", "/lib"}) {
    INFO("not asked: " << other);
    CHECK(full.owner(other) != nullptr);
    CHECK(restricted.owner(other) == nullptr);
    CHECK_FALSE(restricted.has_checksum(other));
  }
  // Package versions do not depend on the paths asked about.
  REQUIRE(restricted.version("zlib1g"));
  CHECK(*restricted.version("zlib1g") == "1:1.2.13.dfsg-1");

  std::vector<std::string> none;
  auto nothing = PackageDb::from_captures(c, &none);
  CHECK(nothing.empty());
  CHECK(nothing.manager() == "dpkg");
  CHECK(nothing.owner("/bin/su") == nullptr);
  CHECK(*nothing.version("login") == "1:4.13+dfsg1-1+b1");
}

TEST_CASE("packages: a restricted apk db answers like the full one") {
  Captures c;
  c.files["/lib/apk/db/installed"] = "P:musl\n"
                                     "V:1.2.4-r2\n"
                                     "F:lib\n"
                                     "R:ld-musl-x86_64.so.1\n"
                                     "Z:Q1zB2S6Yk4cV9o3Jk=\n"
                                     "R:libc.musl-x86_64.so.1\n"
                                     "\n"
                                     "P:busybox\n"
                                     "V:1.36.1-r5\n"
                                     "F:bin\n"
                                     "R:busybox\n"
                                     "Z:Q1qq=\n"
                                     "F:usr/./bin\n"
                                     "R:odd\n"
                                     "Z:Q1ss=\n";
  auto full = PackageDb::from_captures(c);
  std::vector<std::string> wanted = {"/lib/ld-musl-x86_64.so.1",
                                     "/usr/lib/libc.musl-x86_64.so.1",
                                     "/usr/bin/busybox",
                                     "/usr/bin/odd",
                                     "/bin/odd",
                                     "/lib",
                                     "/etc/nothing"};
  auto restricted = PackageDb::from_captures(c, &wanted);
  CHECK(restricted.manager() == "apk");
  CHECK(full.has_checksum("/usr/bin/odd"));
  CHECK(*full.owner("/usr/bin/busybox") == "busybox");
  for (const auto& p : wanted) {
    INFO("path " << p);
    CHECK(owner_or_none(restricted, p) == owner_or_none(full, p));
    CHECK(restricted.has_checksum(p) == full.has_checksum(p));
  }
  CHECK(full.owner("/bin") != nullptr);
  CHECK(restricted.owner("/bin") == nullptr);
  CHECK(*restricted.version("busybox") == "1.36.1-r5");
}
