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

namespace {

// What the upper-dir reader records for an entry of a live writable layer.
Entry live(Entry e, std::int64_t btime, std::int64_t ctime) {
  e.btime = btime;
  e.ctime = ctime;
  return e;
}

Entry& entry_of(Manifest& m, std::string_view path) {
  auto it = std::find_if(m.entries.begin(), m.entries.end(),
                         [&](const Entry& e) { return e.path == path; });
  REQUIRE(it != m.entries.end());
  return *it;
}

} // namespace

TEST_CASE("origin weights: live layer, made and dated in one go, is a copy (docker cp)") {
  auto scenario = [](bool from_layer) {
    auto s = std::make_unique<Scenario>();
    Entry e = file("/usr/local/bin/tool", "x", created - 400 * day, 0, 0, 0755);
    s->add(from_layer ? live(e, created + 30, created + 30) : e);
    return s;
  };
  auto layer = scenario(true);
  Origin o = layer->origin("/usr/local/bin/tool");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(has_line(o,
                 "is before the container was created, but its ctime 2023-02-14 09:12:30 UTC "
                 "is after it (its birth time 2023-02-14 09:12:30 UTC is the same second as it)"));
  CHECK(has_line(o, "made and dated in one go"));
  // The line is among the verdict's: it weighs for the copy.
  CHECK(o.evidence[1].find("ctime cannot be set") != std::string::npos);
  auto exported = scenario(false);
  Origin e = exported->origin("/usr/local/bin/tool");
  CHECK(e.kind == OriginKind::copied_in);
  CHECK_FALSE(has_line(e, "ctime"));
  CHECK(e.evidence.size() + 1 == o.evidence.size());
}

TEST_CASE("origin weights: live layer, an edit dated back later with no chmod is timestomping") {
  // sed -i replaced /etc/motd (its directory changed), then touch -d dated it back.
  auto scenario = [](bool from_layer) {
    auto s = std::make_unique<Scenario>();
    entry_of(s->container, "/etc").mtime = created + 30;
    Entry e = file("/etc/motd", "owned\n", created - 400 * day);
    s->modify(from_layer ? live(e, created + 30, created + 300) : e, {Field::content, Field::size});
    return s;
  };
  auto exported = scenario(false);
  CHECK(exported->origin("/etc/motd").kind == OriginKind::copied_in);
  auto layer = scenario(true);
  Origin o = layer->origin("/etc/motd");
  CHECK(o.kind == OriginKind::shell_edit);
  CHECK(o.confidence == Confidence::medium);
  CHECK(has_line(o, "but its ctime 2023-02-14 09:17:00 UTC is after it and 4 minutes after its "
                    "birth time 2023-02-14 09:12:30 UTC: its times were set after it was written"));
  CHECK(has_line(o, "no mode or owner change explains the later ctime"));
}

TEST_CASE("origin weights: live layer, an added file dated later than its birth weighs both") {
  Scenario s;
  s.add(live(file("/usr/local/bin/stomped", "x", created - 400 * day, 0, 0, 0755), created + 30,
             created + 200));
  Origin o = s.origin("/usr/local/bin/stomped");
  // A copy followed by a chmod or mv fits as well as a touch -d: the copy keeps its lead.
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(o.confidence == Confidence::low);
  CHECK(has_line(o, "or a later chmod, chown or mv changed it"));
}

TEST_CASE("origin weights: live layer, a big copy may take its time to be dated") {
  Scenario s;
  Entry big = file("/usr/local/bin/big", "x", created - 400 * day, 0, 0, 0755);
  big.size = 800ull << 20; // 100 s to write at the slowest rate allowed
  s.add(live(big, created + 30, created + 120));
  Origin o = s.origin("/usr/local/bin/big");
  CHECK(o.kind == OriginKind::copied_in);
  CHECK(has_line(o, "made and dated in one go"));
}

TEST_CASE("origin weights: live layer, rewritten in place and dated back at once") {
  Scenario s;
  s.modify(live(file("/usr/bin/find", "trojan", created - 400 * day, 0, 0, 0755), created + 30,
                created + 31),
           {Field::content});
  Origin o = s.origin("/usr/bin/find");
  CHECK(o.kind == OriginKind::shell_edit); // the directory row decides, as on an export
  CHECK(has_line(o, "rewritten and dated back in one go"));
}

TEST_CASE("origin weights: live layer without a birth time, or dated before the container") {
  Scenario s;
  s.add(live(file("/usr/local/bin/a", "x", created - 400 * day), 0, created + 30));
  s.add(live(file("/usr/local/bin/b", "x", created - 400 * day), created - 10, created - 10));
  Origin a = s.origin("/usr/local/bin/a");
  CHECK(a.kind == OriginKind::copied_in);
  CHECK(a.confidence == Confidence::medium);
  CHECK(has_line(a, "the mtime was set back (touch -d/-r) or kept by a copy"));
  Origin b = s.origin("/usr/local/bin/b");
  CHECK_FALSE(has_line(b, "ctime"));
}

TEST_CASE("origin weights: live layer, a chmod's ctime dates it in the running container") {
  auto scenario = [](bool from_layer) {
    auto s = std::make_unique<Scenario>();
    Entry e = file("/usr/bin/find", "find-binary", build_time, 0, 0, 04755);
    s->modify(from_layer ? live(e, created + 120, created + 120) : e, {Field::mode});
    return s;
  };
  auto exported = scenario(false);
  Origin e = exported->origin("/usr/bin/find");
  CHECK(e.kind == OriginKind::shell_edit);
  CHECK(e.confidence == Confidence::low);
  CHECK(has_line(e, "leave no time trace"));
  auto layer = scenario(true);
  Origin o = layer->origin("/usr/bin/find");
  CHECK(o.kind == OriginKind::shell_edit);
  CHECK(o.confidence == Confidence::medium);
  CHECK(has_line(o, "its ctime 2023-02-14 09:14:00 UTC is 2 minutes after the container was "
                    "created: the change (mode 0755 -> 4755) was made in the running container"));
  CHECK_FALSE(has_line(o, "leave no time trace"));
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
