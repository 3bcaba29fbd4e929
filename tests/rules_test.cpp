#include "cdrift/classify/rules.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <random>

using namespace cdrift;

namespace {

const std::string shipped_dir = CDRIFT_TEST_SOURCE_DIR "/rules";

const RulePack& shipped() {
  static const RulePack pack = [] {
    auto p = load_rule_pack({shipped_dir}, {});
    if (!p) FAIL("shipped pack failed to load: " << p.error().message);
    return std::move(*p);
  }();
  return pack;
}

class TempDir {
public:
  TempDir() {
    std::random_device rd;
    m_path = std::filesystem::temp_directory_path() /
             ("cdrift-rules-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = m_path / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path() const { return m_path.string(); }

private:
  std::filesystem::path m_path;
};

// A minimal valid rule with one field replaced by `patch` (a JSON fragment).
std::string rule_json(const std::string& id, const std::string& severity,
                      const std::string& match = R"({"paths": ["/etc/x"]})",
                      const std::string& extra = "") {
  return R"({"id": ")" + id + R"(", "title": "t )" + id + R"(", "severity": ")" + severity +
         R"(", "match": )" + match + extra + "}";
}

std::string pack_json(const std::vector<std::string>& rules) {
  std::string s = "{\"rules\": [";
  for (std::size_t i = 0; i < rules.size(); ++i)
    s += (i ? ",\n" : "\n") + rules[i];
  return s + "\n]}\n";
}

Entry file_entry(const std::string& path, std::uint64_t size, ContentClass cls = ContentClass::text,
                 std::uint32_t mode = 0644) {
  Entry e;
  e.path = path;
  e.type = FileType::file;
  e.size = size;
  e.mode = mode;
  e.content_class = size == 0 ? ContentClass::empty : cls;
  return e;
}

Entry dir_entry(const std::string& path, std::uint32_t mode = 0755) {
  Entry e;
  e.path = path;
  e.type = FileType::dir;
  e.mode = mode;
  return e;
}

Change added(const Entry& e) {
  Change c;
  c.path = e.path;
  c.kind = ChangeKind::added;
  c.after = e;
  return c;
}

Change modified(const Entry& before, const Entry& after, std::vector<Field> fields) {
  Change c;
  c.path = after.path;
  c.kind = ChangeKind::modified;
  c.before = before;
  c.after = after;
  c.fields = std::move(fields);
  return c;
}

Manifest manifest_of(std::vector<Entry> entries) {
  Manifest m;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  m.entries = std::move(entries);
  return m;
}

} // namespace

TEST_CASE("rules: the shipped pack loads with at least 40 report rules") {
  const RulePack& pack = shipped();
  int report = 0, defaults = 0, ignore = 0;
  for (const Rule& r : pack.rules) {
    if (r.action == RuleAction::ignore)
      ++ignore;
    else if (r.is_default)
      ++defaults;
    else
      ++report;
  }
  CHECK(report >= 40);
  CHECK(defaults >= 5);
  CHECK(ignore >= 8);
  CHECK(pack.sha256.size() == 64);
  CHECK(pack.sources.size() >= 5);
  CHECK(std::any_of(pack.sources.begin(), pack.sources.end(),
                    [](const std::string& s) { return s.ends_with("runtime-placeholders.json"); }));
  // The same files give the same digest.
  auto again = load_rule_pack({shipped_dir}, {});
  REQUIRE(again);
  CHECK(again->sha256 == pack.sha256);
}

TEST_CASE("rules: every shipped example passes and the pack lints clean") {
  const RulePack& pack = shipped();
  RuleTestResult res = test_rule_examples(pack);
  for (const auto& m : res.messages)
    FAIL_CHECK(m);
  CHECK(res.failures == 0);
  CHECK(res.rules == static_cast<int>(pack.rules.size()));
  CHECK(res.examples >= 2 * res.rules);
  for (const Rule& r : pack.rules) {
    bool m = false, n = false;
    for (const auto& ex : r.examples)
      (ex.expect_match ? m : n) = true;
    CHECK_MESSAGE((m && n), r.id << " needs match and no_match examples");
  }
  std::vector<std::string> lint = lint_rule_pack(pack);
  for (const auto& l : lint)
    FAIL_CHECK(l);
}

TEST_CASE("rules: a failing example is reported by rules test") {
  TempDir dir;
  std::string rule = rule_json("CDR-T-001", "low", R"({"paths": ["/etc/x"]})",
                               R"(, "examples": {"match": [{"path": "/etc/y", "change": "added"}],
                                   "no_match": [{"path": "/etc/x", "change": "added"}]})");
  auto pack = load_rule_pack({dir.write("a.json", pack_json({rule}))}, {});
  REQUIRE(pack);
  RuleTestResult res = test_rule_examples(*pack);
  CHECK(res.examples == 2);
  CHECK(res.failures == 2);
  REQUIRE(res.messages.size() == 2);
  CHECK(res.messages[0].find("rule CDR-T-001: example match[0] (added /etc/y) does not match") !=
        std::string::npos);
  CHECK(res.messages[1].find("no_match[0] (added /etc/x) matches") != std::string::npos);
}

TEST_CASE("rules: load errors carry file, rule, field and a stable code") {
  TempDir dir;
  auto load_one = [&](const std::string& name, const std::string& text) {
    std::string path = dir.write(name, text);
    auto r = load_rule_pack({path}, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::rules);
    return std::make_pair(path, r.error().message);
  };

  SUBCASE("JSON syntax error gives line and column") {
    auto [path, msg] =
        load_one("bad.json", "// comment\n{\"rules\": [\n  {\"id\": \"A-1\",, }\n]}\n");
    CHECK(msg.starts_with(path + ":3:16: JSON syntax error"));
    CHECK(msg.ends_with("[CDR-R002]"));
  }
  SUBCASE("a rule file nested 200 levels deep is refused by the bounded parser") {
    std::string deep = "{\"rules\": [" + std::string(200, '[') + std::string(200, ']') + "]}\n";
    auto [path, msg] = load_one("deep.json", deep);
    CHECK(msg.starts_with(path + ":1:"));
    CHECK(msg.find("nested deeper than") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.ends_with("[CDR-R002]"));
  }
  SUBCASE("unknown severity") {
    auto [path, msg] = load_one("sev.json", pack_json({rule_json("CDR-EXEC-001", "urgent")}));
    CHECK(msg ==
          path + ": rule CDR-EXEC-001: field \"severity\": unknown severity \"urgent\" [CDR-R004]");
  }
  SUBCASE("missing id names the rule by index") {
    auto [path, msg] =
        load_one("noid.json", pack_json({rule_json("CDR-A-001", "low"),
                                         R"({"title": "x", "severity": "low", "match": {}})"}));
    CHECK(msg == path + ": rule #2: field \"id\": missing required field [CDR-R005]");
  }
  SUBCASE("invalid id") {
    auto [path, msg] = load_one("badid.json", pack_json({rule_json("cdr exec", "low")}));
    CHECK(msg.find("field \"id\": invalid rule id \"cdr exec\"") != std::string::npos);
    CHECK(msg.ends_with("[CDR-R009]"));
  }
  SUBCASE("bad glob") {
    auto [path, msg] = load_one(
        "glob.json", pack_json({rule_json("CDR-A-001", "low", R"({"paths": ["/etc/[ab"]})")}));
    CHECK(msg.starts_with(path + ": rule CDR-A-001: field \"match.paths[0]\": invalid glob"));
    CHECK(msg.ends_with("[CDR-R010]"));
    auto [p2, msg2] = load_one(
        "glob2.json", pack_json({rule_json("CDR-A-001", "low", R"({"paths": ["etc/x"]})")}));
    CHECK(msg2.ends_with("[CDR-R010]"));
  }
  SUBCASE("unknown field in match") {
    auto [path, msg] =
        load_one("field.json", pack_json({rule_json("CDR-A-001", "low", R"({"pathz": ["/x"]})")}));
    CHECK(msg == path + ": rule CDR-A-001: field \"match.pathz\": unknown field [CDR-R007]");
  }
  SUBCASE("unknown enum value in a list") {
    auto [path, msg] = load_one(
        "enum.json",
        pack_json({rule_json("CDR-A-001", "low", R"({"changes": ["added", "renamed"]})")}));
    CHECK(msg ==
          path + ": rule CDR-A-001: field \"match.changes[1]\": unknown change kind \"renamed\" "
                 "[CDR-R004]");
  }
  SUBCASE("wrong type") {
    auto [path, msg] =
        load_one("type.json", pack_json({rule_json("CDR-A-001", "low", R"({"paths": "/x"})")}));
    CHECK(msg.ends_with("[CDR-R006]"));
    CHECK(msg.find("match.paths") != std::string::npos);
  }
  SUBCASE("ignore rule without a reason") {
    auto [path, msg] =
        load_one("ign.json", pack_json({R"({"id": "CDR-I-001", "title": "x", "action": "ignore",
                                   "match": {"paths": ["/x"]}})"}));
    CHECK(msg ==
          path + ": rule CDR-I-001: field \"reason\": an ignore rule needs a reason [CDR-R005]");
  }
  SUBCASE("score outside the severity band") {
    auto [path, msg] = load_one(
        "score.json", pack_json({rule_json("CDR-A-001", "low", R"({})", R"(, "score": 9.5)")}));
    CHECK(msg.ends_with("[CDR-R011]"));
  }
  SUBCASE("bad example") {
    auto [path, msg] = load_one(
        "ex.json", pack_json({rule_json(
                       "CDR-A-001", "low", R"({})",
                       R"(, "examples": {"match": [{"path": "/x", "after": {"mode": "999"}}]})")}));
    CHECK(msg.find("field \"examples.match[0].after.mode\"") != std::string::npos);
    CHECK(msg.ends_with("[CDR-R012]"));
  }
  SUBCASE("top level is not a rule file") {
    auto [path, msg] = load_one("top.json", "[1, 2]");
    CHECK(msg.ends_with("[CDR-R003]"));
  }
}

TEST_CASE("rules: duplicate ids within one directory are an error") {
  TempDir dir;
  dir.write("a.json", pack_json({rule_json("CDR-A-001", "low")}));
  std::string b = dir.write("b.json", pack_json({rule_json("CDR-A-001", "high")}));
  auto r = load_rule_pack({dir.path()}, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.starts_with(b + ": rule CDR-A-001: field \"id\": duplicate rule id"));
  CHECK(r.error().message.ends_with("[CDR-R008]"));
}

TEST_CASE("rules: missing directory and empty directory") {
  TempDir dir;
  auto r = load_rule_pack({dir.path()}, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.ends_with("[CDR-R001]"));
  auto r2 = load_rule_pack({dir.path() + "/nope"}, {});
  REQUIRE_FALSE(r2);
  CHECK(r2.error().kind == ErrorKind::rules);
}

TEST_CASE("rules: a later pack overrides a rule with the same id") {
  TempDir base, extra;
  base.write("a.json", pack_json({rule_json("CDR-A-001", "low"), rule_json("CDR-A-002", "low")}));
  std::string over = extra.write(
      "z.json", pack_json({rule_json("CDR-A-001", "critical", R"({"paths": ["/etc/y"]})")}));
  auto first = load_rule_pack({base.path()}, {});
  auto pack = load_rule_pack({base.path(), extra.path()}, {});
  REQUIRE(first);
  REQUIRE(pack);
  REQUIRE(pack->rules.size() == 2);
  CHECK(pack->rules[0].id == "CDR-A-001");
  CHECK(pack->rules[0].severity == Severity::critical);
  CHECK(pack->rules[0].source_file == over);
  CHECK(pack->rules[0].match.paths.at(0).pattern() == "/etc/y");
  CHECK(pack->sources.size() == 2);
  CHECK(pack->sha256 != first->sha256);
}

TEST_CASE("rules: disabled ids are removed; unknown ones are an error") {
  auto pack = load_rule_pack({shipped_dir}, {"CDR-BIN-001", "CDR-IGN-003"});
  REQUIRE(pack);
  CHECK(pack->rules.size() == shipped().rules.size() - 2);
  for (const Rule& r : pack->rules) {
    CHECK(r.id != "CDR-BIN-001");
    CHECK(r.id != "CDR-IGN-003");
  }
  Entry ls = file_entry("/usr/bin/ls", 100, ContentClass::elf_executable, 0755);
  Entry ls2 = ls;
  ls2.size = 200;
  Finding f;
  apply_rules(*pack, modified(ls, ls2, {Field::content, Field::size}), {}, f);
  CHECK(f.rule.id != "CDR-BIN-001");

  auto bad = load_rule_pack({shipped_dir}, {"CDR-NOPE-999"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("CDR-NOPE-999") != std::string::npos);
  CHECK(bad.error().message.ends_with("[CDR-R014]"));
}

TEST_CASE("rules: the most severe match is primary; defaults only when nothing else matches") {
  TempDir dir;
  std::string text = pack_json({
      rule_json("CDR-A-001", "medium", R"({"paths": ["/etc/**"]})"),
      rule_json("CDR-A-002", "high", R"({"paths": ["/etc/ssh/*"], "changes": ["modified"]})"),
      rule_json("CDR-A-003", "high",
                R"({"paths": ["/etc/ssh/sshd_config"], "changes": ["modified"]})"),
      rule_json("CDR-D-001", "critical", R"({"paths": ["/**"]})", R"(, "default": true)"),
      rule_json("CDR-D-002", "info", R"({"paths": ["/var/log/**"]})", R"(, "default": true)"),
  });
  auto pack = load_rule_pack({dir.write("p.json", text)}, {});
  REQUIRE(pack);

  Entry a = file_entry("/etc/ssh/sshd_config", 10);
  Entry b = file_entry("/etc/ssh/sshd_config", 11);
  Change c = modified(a, b, {Field::content, Field::size});
  auto matches = matching_rules(*pack, c, {});
  REQUIRE(matches.size() == 3);
  CHECK(matches[0]->id == "CDR-A-003"); // high, more specific glob than A-002
  CHECK(matches[1]->id == "CDR-A-002");
  CHECK(matches[2]->id == "CDR-A-001");
  Finding f;
  apply_rules(*pack, c, {}, f);
  CHECK(f.rule.id == "CDR-A-003");
  CHECK(f.severity == Severity::high);
  REQUIRE(f.other_rules.size() == 2);
  CHECK(f.other_rules[0].id == "CDR-A-002");
  CHECK(f.other_rules[1].id == "CDR-A-001");
  CHECK(f.score >= 7.0);
  CHECK(f.score <= 8.9);

  // Only the medium rule: the critical default is not used.
  Finding g;
  apply_rules(*pack, added(file_entry("/etc/motd", 5)), {}, g);
  CHECK(g.rule.id == "CDR-A-001");
  CHECK(g.severity == Severity::medium);
  CHECK(g.other_rules.empty());

  // Nothing but defaults: the most specific default decides.
  Finding h;
  apply_rules(*pack, added(file_entry("/var/log/app.log", 5)), {}, h);
  CHECK(h.rule.id == "CDR-D-002");
  CHECK(h.severity == Severity::info);
  CHECK(h.score == 0.0);
  Finding k;
  apply_rules(*pack, added(file_entry("/data/x", 5)), {}, k);
  CHECK(k.rule.id == "CDR-D-001");
  CHECK(k.score >= 9.0);
}

TEST_CASE("rules: shipped pack rates typical changes") {
  const RulePack& pack = shipped();
  auto rate = [&](const Change& c, const MatchContext& ctx = {}) {
    Finding f;
    apply_rules(pack, c, ctx, f);
    return f;
  };
  Entry ls = file_entry("/usr/bin/ls", 100, ContentClass::elf_executable, 0755);
  Entry ls2 = ls;
  ls2.size = 120;
  Finding f = rate(modified(ls, ls2, {Field::content, Field::size}));
  CHECK(f.rule.id == "CDR-BIN-001");
  CHECK(f.severity == Severity::critical);
  CHECK(std::find(f.rule.tags.begin(), f.rule.tags.end(), "T1554") != f.rule.tags.end());
  CHECK_FALSE(f.remediation.empty());

  Entry suid = ls;
  suid.mode = 04755;
  f = rate(modified(ls, suid, {Field::mode}));
  CHECK(f.rule.id == "CDR-PERM-001");
  CHECK(f.severity == Severity::critical);

  f = rate(added(file_entry("/tmp/cache.json", 40)));
  CHECK(f.rule.id == "CDR-DEF-007");
  CHECK(f.severity == Severity::low);

  Entry log1 = file_entry("/var/log/app.log", 40);
  Entry log2 = file_entry("/var/log/app.log", 80);
  f = rate(modified(log1, log2, {Field::content, Field::size}));
  CHECK(f.rule.id == "CDR-DEF-008");
  CHECK(f.severity == Severity::info);

  f = rate(added(file_entry("/usr/share/doc/x", 40)));
  CHECK(f.rule.id == "CDR-DEF-001");
  CHECK(f.severity == Severity::medium);

  Entry php = file_entry("/var/www/html/up/x.php", 30);
  f = rate(added(php));
  CHECK(f.rule.id == "CDR-WEB-001");
  CHECK(f.severity == Severity::critical);
  CHECK_FALSE(f.other_rules.empty()); // static-content rule matches too
}

TEST_CASE("rules: runtime placeholders are ignored only while they look like one") {
  const RulePack& pack = shipped();
  Manifest image = manifest_of({dir_entry("/etc"), file_entry("/etc/hostname", 7)});

  // Docker export: the image's hostname shows up emptied, mode 0755.
  Entry empty_host = file_entry("/etc/hostname", 0, ContentClass::empty, 0755);
  Manifest container = manifest_of({dir_entry("/etc"), empty_host});
  MatchContext ctx{&image, &container, nullptr};
  Change emptied = modified(*image.find("/etc/hostname"), empty_host,
                            {Field::content, Field::size, Field::mode});
  const Rule* ign = matching_ignore_rule(pack, emptied, ctx);
  REQUIRE(ign);
  CHECK(ign->id == "CDR-IGN-003");
  CHECK_FALSE(ign->reason.empty());

  // Same path with content: drift.
  Entry full_host = file_entry("/etc/hostname", 12, ContentClass::text, 0644);
  CHECK(matching_ignore_rule(
            pack, modified(*image.find("/etc/hostname"), full_host, {Field::content, Field::size}),
            ctx) == nullptr);
  Entry hosts = file_entry("/etc/hosts", 30);
  CHECK(matching_ignore_rule(pack, added(hosts), ctx) == nullptr);
  Finding f;
  apply_rules(pack, added(hosts), ctx, f);
  CHECK(f.rule.id == "CDR-NET-001");

  // /.dockerenv, /etc/mtab and an empty /proc are placeholders.
  CHECK(matching_ignore_rule(pack, added(file_entry("/.dockerenv", 0, ContentClass::empty, 0755)),
                             ctx));
  Entry mtab;
  mtab.path = "/etc/mtab";
  mtab.type = FileType::symlink;
  mtab.target = "/proc/mounts";
  CHECK(matching_ignore_rule(pack, added(mtab), ctx));
  mtab.target = "/tmp/mounts";
  CHECK_FALSE(matching_ignore_rule(pack, added(mtab), ctx));

  Entry proc = dir_entry("/proc", 0755);
  Manifest clean = manifest_of({proc, dir_entry("/sys")});
  MatchContext clean_ctx{&image, &clean, nullptr};
  CHECK(matching_ignore_rule(pack, added(proc), clean_ctx));

  // Something below /proc: neither it nor /proc itself is ignored.
  Entry evil = file_entry("/proc/evil", 10, ContentClass::elf_executable, 0755);
  Manifest dirty = manifest_of({proc, evil});
  MatchContext dirty_ctx{&image, &dirty, nullptr};
  CHECK(matching_ignore_rule(pack, added(evil), dirty_ctx) == nullptr);
  CHECK(matching_ignore_rule(pack, added(proc), dirty_ctx) == nullptr);
  Finding g;
  apply_rules(pack, added(evil), dirty_ctx, g);
  CHECK(g.severity >= Severity::medium);

  // Without the container manifest an "empty" directory cannot be confirmed.
  CHECK(matching_ignore_rule(pack, added(proc), {}) == nullptr);

  // Podman's /run holding only .containerenv is a placeholder; with a pid file it is not.
  Entry run = dir_entry("/run");
  Entry cenv = file_entry("/run/.containerenv", 0, ContentClass::empty, 0755);
  Manifest podman = manifest_of({run, cenv});
  MatchContext podman_ctx{&image, &podman, nullptr};
  CHECK(matching_ignore_rule(pack, added(run), podman_ctx));
  CHECK(matching_ignore_rule(pack, added(cenv), podman_ctx));
  Manifest podman2 = manifest_of({run, cenv, file_entry("/run/x.pid", 2)});
  MatchContext podman2_ctx{&image, &podman2, nullptr};
  CHECK_FALSE(matching_ignore_rule(pack, added(run), podman2_ctx));
}

TEST_CASE("rules: a user --ignore glob as a constructed rule") {
  RulePack pack;
  Rule r;
  r.id = "USER-IGNORE-1";
  r.title = "--ignore /srv/cache/**";
  r.action = RuleAction::ignore;
  r.reason = "--ignore /srv/cache/**";
  r.match.paths.emplace_back("/srv/cache/**");
  pack.rules.push_back(r);
  CHECK(matching_ignore_rule(pack, added(file_entry("/srv/cache/a/b", 1)), {}));
  CHECK_FALSE(matching_ignore_rule(pack, added(file_entry("/srv/data", 1)), {}));
}

TEST_CASE("rules: new_uid0_account compares the captured account files") {
  const RulePack& pack = shipped();
  const std::string before_text = "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001::/srv:/bin/sh\n";
  Entry before = file_entry("/etc/passwd", before_text.size());
  auto run = [&](const std::string& after_text) {
    Entry after = file_entry("/etc/passwd", after_text.size());
    Manifest image = manifest_of({before});
    image.captures.files["/etc/passwd"] = before_text;
    Manifest container = manifest_of({after});
    container.captures.files["/etc/passwd"] = after_text;
    Finding f;
    apply_rules(pack, modified(before, after, {Field::content, Field::size}),
                MatchContext{&image, &container, nullptr}, f);
    return f;
  };
  Finding f = run(before_text + "toor:x:0:0::/root:/bin/sh\n");
  CHECK(f.rule.id == "CDR-ACCT-001");
  CHECK(f.severity == Severity::critical);
  CHECK(std::any_of(f.other_rules.begin(), f.other_rules.end(),
                    [](const RuleRef& r) { return r.id == "CDR-ACCT-003"; }));

  // An existing account moved to uid "00" counts too.
  f = run("root:x:0:0:root:/root:/bin/sh\napp:x:00:1001::/srv:/bin/sh\n");
  CHECK(f.rule.id == "CDR-ACCT-001");

  // A new ordinary account is high, not critical.
  f = run(before_text + "bob:x:1002:1002::/home/bob:/bin/sh\n");
  CHECK(f.rule.id == "CDR-ACCT-002");
  CHECK(f.severity == Severity::high);

  // A shell change is an account database change only.
  f = run("root:x:0:0:root:/root:/bin/bash\napp:x:1001:1001::/srv:/bin/sh\n");
  CHECK(f.rule.id == "CDR-ACCT-003");

  // Without captures the check cannot decide, so it does not fire.
  Entry after = file_entry("/etc/passwd", 100);
  Finding g;
  apply_rules(pack, modified(before, after, {Field::content, Field::size}), {}, g);
  CHECK(g.rule.id == "CDR-ACCT-003");
}

TEST_CASE("rules: entrypoint resolution follows PATH, symlinks and wrapper scripts") {
  const RulePack& pack = shipped();
  Entry sh;
  sh.path = "/bin/sh";
  sh.type = FileType::symlink;
  sh.target = "busybox";
  Entry busybox = file_entry("/bin/busybox", 800000, ContentClass::elf_executable, 0755);
  Entry script = file_entry("/docker-entrypoint.sh", 300, ContentClass::script, 0755);
  Entry nginx = file_entry("/usr/sbin/nginx", 900000, ContentClass::elf_executable, 0755);
  Manifest image = manifest_of({sh, busybox, script, nginx});
  ImageInfo info;
  info.entrypoint = {"/docker-entrypoint.sh"};
  info.cmd = {"nginx", "-g", "daemon off;"};
  image.image = info;
  Manifest container = image;
  MatchContext ctx{&image, &container, nullptr};

  auto entrypoint_hit = [&](const Entry& e) {
    Entry e2 = e;
    e2.size += 1;
    auto rules = matching_rules(pack, modified(e, e2, {Field::content, Field::size}), ctx);
    return std::any_of(rules.begin(), rules.end(),
                       [](const Rule* r) { return r->id == "CDR-BIN-005"; });
  };
  CHECK(entrypoint_hit(script));
  CHECK(entrypoint_hit(nginx));
  CHECK_FALSE(entrypoint_hit(busybox));

  image.image->entrypoint = {"/bin/sh", "-c", "exec nginx"};
  image.image->cmd.clear();
  CHECK(entrypoint_hit(busybox)); // /bin/sh -> busybox
  CHECK_FALSE(entrypoint_hit(script));
}

TEST_CASE("rules: rules list is sorted by id with severity and tags") {
  std::string list = format_rule_list(shipped());
  CHECK(list.starts_with("ID "));
  auto acct = list.find("\nCDR-ACCT-001 ");
  auto bin = list.find("\nCDR-BIN-001 ");
  REQUIRE(acct != std::string::npos);
  REQUIRE(bin != std::string::npos);
  CHECK(acct < bin);
  auto line_end = list.find('\n', bin + 1);
  std::string line = list.substr(bin + 1, line_end - bin - 1);
  CHECK(line.find("critical") != std::string::npos);
  CHECK(line.find("T1554") != std::string::npos);
  CHECK(list.find("ignore") != std::string::npos);
  CHECK(list.find(" rules: ") != std::string::npos);
}

TEST_CASE("rules: lint reports weak rules") {
  TempDir dir;
  std::string text = pack_json({
      rule_json("CDR-L-001", "critical", R"({"paths": ["/etc/x/"]})", R"(, "tags": ["T15"])"),
  });
  auto pack = load_rule_pack({dir.write("l.json", text)}, {});
  REQUIRE(pack);
  auto lint = lint_rule_pack(*pack);
  auto has = [&](const char* code) {
    return std::any_of(lint.begin(), lint.end(),
                       [&](const std::string& s) { return s.find(code) != std::string::npos; });
  };
  CHECK(has("[CDR-L001]")); // critical without ATT&CK id
  CHECK(has("[CDR-L002]")); // malformed technique id
  CHECK(has("[CDR-L003]")); // no examples
  CHECK(has("[CDR-L004]")); // no remediation
  CHECK(has("[CDR-L006]")); // trailing slash never matches
  CHECK(lint.front().find("rule CDR-L-001: ") != std::string::npos);
}

TEST_CASE("rules: default_rules_dir honours CDRIFT_RULES_DIR") {
  const char* old = std::getenv("CDRIFT_RULES_DIR");
  std::string saved = old ? old : "";
  setenv("CDRIFT_RULES_DIR", "/some/where", 1);
  CHECK(default_rules_dir() == "/some/where");
  unsetenv("CDRIFT_RULES_DIR");
  CHECK_FALSE(default_rules_dir().empty());
  if (old) setenv("CDRIFT_RULES_DIR", saved.c_str(), 1);
}
