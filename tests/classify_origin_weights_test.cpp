// One test per row of docs/origin.md's weights table that origin_test.cpp does not
// already cover, plus the shared account parser and the package events.
#include "cdrift/classify/package_events.hpp"
#include "cdrift/classify/rules.hpp"
#include "classify/accounts.hpp"
#include "origin_scenario.hpp"

#include <doctest/doctest.h>

using namespace cdrift;
using namespace origin_test;

TEST_CASE("origin weights: an ELF rewritten in place and dated back is timestomping") {
  Scenario s;
  s.modify(file("/usr/bin/find", "trojan", created - 400 * day, 0, 0, 0755), {Field::content});
  Origin o = s.origin("/usr/bin/find");
  CHECK(o.kind == OriginKind::shell_edit);
  CHECK(has_line(o, "did not change, so the file was rewritten in place and its mtime set back"));
  CHECK(has_line(o, "400 days before the container was created"));
}

TEST_CASE("origin weights: the same old mtime with the directory changed is a copy") {
  Scenario s;
  auto& usr_bin = *std::find_if(s.container.entries.begin(), s.container.entries.end(),
                                [](const Entry& e) { return e.path == "/usr/bin"; });
  usr_bin.mtime = created + 30; // docker cp replaced the entry: the directory is "now"
  s.modify(file("/usr/bin/find", "trojan", created - 400 * day, 0, 0, 0755), {Field::content});
  Origin o = s.origin("/usr/bin/find");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(o.confidence == Confidence::medium);
  CHECK(has_line(o, "a copy keeps its source's mtime"));
}

namespace {

// A podman export: no placeholder dates the container, the image says when it was built.
void podman_export(Scenario& s) {
  s.container.entries.erase(std::find_if(s.container.entries.begin(), s.container.entries.end(),
                                         [](const Entry& e) { return e.path == "/.dockerenv"; }));
}

} // namespace

TEST_CASE("origin weights: without a creation time, the build bounds the mtimes") {
  Scenario s;
  podman_export(s);
  s.add(file("/usr/local/bin/tool", "x", build_time - 3 * day, 0, 0, 0755));
  s.modify(file("/etc/motd", "owned\n", build_time + 5 * day), {Field::content, Field::size});
  s.finish();
  CHECK_FALSE(s.analyzer->creation_time());
  Origin o = s.origin("/usr/local/bin/tool");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(has_line(o, "3 days before the image was built"));
  CHECK(has_line(o, "the newest mtime in the image"));
  o = s.origin("/etc/motd");
  CHECK(o.kind == OriginKind::shell_edit);
  CHECK(has_line(o, "5 days after the image was built"));
  CHECK(has_line(o, "compared with when the image was built instead"));
}

TEST_CASE("origin weights: the image config's created time is a bound too") {
  Scenario s;
  podman_export(s);
  s.image.image->created = "2023-02-01T00:00:00Z"; // later than every file of the image
  s.add(file("/usr/local/bin/tool", "x", build_time + day, 0, 0, 0755));
  Origin o = s.origin("/usr/local/bin/tool");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(has_line(o, "the image config's created time"));
}

TEST_CASE("origin weights: an mtime much older than its directory's change is a copy signature") {
  Scenario s;
  podman_export(s);
  for (auto& e : s.image.entries)
    e.mtime = 0; // no build bound either: only the directory speaks
  s.container.entries = s.image.entries;
  auto& etc = *std::find_if(s.container.entries.begin(), s.container.entries.end(),
                            [](const Entry& e) { return e.path == "/etc"; });
  etc.mtime = created + 3600;
  s.add(file("/etc/tool.conf", "x", created - 2 * day, 1234, 5678));
  Origin o = s.origin("/etc/tool.conf");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(o.confidence == Confidence::high); // and a foreign owner
  CHECK(has_line(o, "its directory's change"));
}

TEST_CASE("origin weights: root writes in data directories of an image without USER") {
  Scenario s;
  s.image.image->user.clear();
  s.add(file("/var/log/new.log", "x", created + 50));
  Origin o = s.origin("/var/log/new.log");
  CHECK(o.kind == OriginKind::runtime_write);
  CHECK(o.confidence == Confidence::medium);
  CHECK(has_line(o, "root, the default user"));
}

TEST_CASE("origin weights: content changed with the image's mtime kept") {
  Scenario s;
  s.modify(file("/etc/motd", "owned\n", build_time), {Field::content, Field::size});
  Origin o = s.origin("/etc/motd");
  CHECK(has_line(o, "restored with touch -r"));
  CHECK(o.kind == OriginKind::unknown); // one weak signal names no origin
}

TEST_CASE("origin weights: a copied file into a data directory as root is not the app") {
  Scenario s;
  s.add(file("/tmp/kit.tar", "x", created - 5 * day)); // podman cp: 0:0, old mtime
  Origin o = s.origin("/tmp/kit.tar");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(has_line(o, "is root, which the application cannot be"));
}

TEST_CASE("accounts: one parser for origin and rules; CR and NIS lines") {
  auto r = parse_account_file("root:x:0:0:root:/root:/bin/sh\r\n"
                              "+::::::\n-baduser\n+@admins\n# comment\n\n"
                              "app:x:1001:1001::/srv:/bin/sh\r\n"
                              "odd:x:abc\n:x:5:5\n");
  REQUIRE(r.size() == 3);
  CHECK(r[0].name == "root");
  CHECK(*r[0].id == 0);
  CHECK(*r[0].gid == 0);
  CHECK(r[1].name == "app");
  CHECK(*r[1].gid == 1001); // the \r is not part of the last field read
  CHECK(r[2].name == "odd");
  CHECK_FALSE(r[2].id);
  // group lines
  auto g = parse_account_file("wheel:x:10:root,app\r\n");
  REQUIRE(g.size() == 1);
  CHECK(*g[0].id == 10);
}

TEST_CASE("package events: installed, removed, upgraded, and the facts of a path") {
  Captures img, ctr;
  img.files["/var/lib/dpkg/status"] =
      "Package: demo\nStatus: install ok installed\nVersion: 1.0\n\n"
      "Package: zlib1g\nStatus: install ok installed\nVersion: 1.2\n";
  img.files["/var/lib/dpkg/info/demo.list"] = "/etc/pam.d/demo\n/usr/bin/demo\n";
  img.files["/var/lib/dpkg/info/zlib1g.list"] = "/usr/lib/libz.so.1\n";
  ctr.files["/var/lib/dpkg/status"] =
      "Package: tool\nStatus: install ok installed\nVersion: 2.0\n\n"
      "Package: zlib1g\nStatus: install ok installed\nVersion: 1.3\n";
  ctr.files["/var/lib/dpkg/info/tool.list"] = "/usr/bin/tool\n";
  ctr.files["/var/lib/dpkg/info/zlib1g.list"] = "/usr/lib/libz.so.1\n";
  PackageDb idb = PackageDb::from_captures(img);
  PackageDb cdb = PackageDb::from_captures(ctr);
  PackageEvents ev(idb, cdb);
  REQUIRE(ev.events().size() == 3);
  CHECK(ev.summary(8) == "installed tool 2.0, upgraded zlib1g 1.2 -> 1.3, removed demo 1.0");
  CHECK(ev.summary(1) == "installed tool 2.0 and 2 more");

  Change del;
  del.path = "/etc/pam.d/demo";
  del.kind = ChangeKind::deleted;
  del.before = file("/etc/pam.d/demo", "x", build_time);
  auto f = ev.facts(del);
  CHECK(f.package == "demo");
  REQUIRE(f.event);
  CHECK(f.event->action == PackageAction::removed);

  Change add;
  add.path = "/usr/bin/tool";
  add.kind = ChangeKind::added;
  add.after = file("/usr/bin/tool", "x", created, 0, 0, 04755);
  f = ev.facts(add);
  CHECK(f.package == "tool"); // from the container's own database
  REQUIRE(f.event);
  Rule setid;
  setid.match.checks = {RuleCheck::package_file_setid};
  MatchContext ctx{nullptr, nullptr, nullptr, &f};
  CHECK(rule_matches(setid, add, ctx));

  Change status;
  status.path = "/var/lib/dpkg/status";
  status.kind = ChangeKind::modified;
  status.fields = {Field::content};
  status.before = file(status.path, "a", build_time);
  status.after = file(status.path, "b", created);
  CHECK(ev.facts(status).database);

  // A file of a package that did not change is not the package manager's work.
  Change edit;
  edit.path = "/etc/pam.d/demo";
  edit.kind = ChangeKind::modified;
  edit.fields = {Field::content};
  edit.before = file(edit.path, "a", build_time);
  edit.after = file(edit.path, "b", created);
  PackageEvents none(idb, idb);
  CHECK(none.events().empty());
  CHECK_FALSE(none.facts(edit).event);
}

TEST_CASE("rules: an evidence-precedence rule is primary over a more severe location rule") {
  Rule pam;
  pam.id = "T-PAM";
  pam.severity = Severity::high;
  pam.match.paths = {Glob("/etc/pam.d/**")};
  Rule pkg;
  pkg.id = "T-PKG";
  pkg.severity = Severity::low;
  pkg.evidence_precedence = true;
  pkg.match.checks = {RuleCheck::package_file};
  RulePack pack;
  pack.rules = {pam, pkg};
  Change del;
  del.path = "/etc/pam.d/demo";
  del.kind = ChangeKind::deleted;
  del.before = file(del.path, "x", build_time);
  PackageEvent removed{PackageAction::removed, "demo", "1.0", ""};
  PackageFacts facts;
  facts.package = "demo";
  facts.event = &removed;
  Finding f;
  apply_rules(pack, del, MatchContext{nullptr, nullptr, nullptr, &facts}, f);
  CHECK(f.rule.id == "T-PKG");
  CHECK(f.severity == Severity::low);
  REQUIRE(f.other_rules.size() == 1);
  CHECK(f.other_rules[0].id == "T-PAM");
  // Without the package evidence the location decides as before.
  Finding g;
  apply_rules(pack, del, MatchContext{}, g);
  CHECK(g.rule.id == "T-PAM");
  CHECK(g.severity == Severity::high);
}
