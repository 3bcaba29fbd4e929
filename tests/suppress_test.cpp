// Fingerprints, baselines and the ignore file.
#include "cdrift/classify/fingerprint.hpp"
#include "cdrift/classify/suppress.hpp"
#include "cdrift/report/json.hpp"
#include "cdrift/report/text.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

using namespace cdrift;

namespace {

Entry file(std::string path, std::string_view content, std::uint32_t mode = 0644) {
  Entry e;
  e.path = std::move(path);
  e.mode = mode;
  e.size = content.size();
  e.sha256 = sha256_of(content);
  e.mtime = 1700000000;
  return e;
}

Finding finding(std::string rule, Entry after, Severity severity = Severity::high,
                ChangeKind kind = ChangeKind::added) {
  Finding f;
  f.change.path = after.path;
  f.change.kind = kind;
  if (kind == ChangeKind::modified) {
    Entry before = after;
    before.sha256 = sha256_of("original");
    f.change.before = before;
    f.change.fields = {Field::content};
  }
  f.change.after = std::move(after);
  f.severity = severity;
  f.rule.id = std::move(rule);
  f.rule.severity = severity;
  return f;
}

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
  static int counter = 0;
  auto dir =
      std::filesystem::temp_directory_path() /
      ("cdrift-suppress-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

AuditReport report_of(std::vector<Finding> findings) {
  AuditReport r;
  r.findings = std::move(findings);
  return r;
}

} // namespace

TEST_CASE("fingerprints are stable and sensitive to the container's state") {
  Finding a = finding("CDR-BIN-001", file("/usr/bin/x", "payload", 0755));
  std::string fp = compute_fingerprint(a);
  CHECK(fp.size() == 32);
  CHECK(fp.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(compute_fingerprint(a) == fp);

  Finding later = a; // a re-run: timestamps and the image side may differ
  later.change.after->mtime += 3600;
  later.severity = Severity::critical;
  later.origin.kind = OriginKind::copied_in;
  later.origin.evidence = {"something new"};
  CHECK(compute_fingerprint(later) == fp);

  Finding content = finding("CDR-BIN-001", file("/usr/bin/x", "payload2", 0755));
  CHECK(compute_fingerprint(content) != fp);
  Finding mode = finding("CDR-BIN-001", file("/usr/bin/x", "payload", 04755));
  CHECK(compute_fingerprint(mode) != fp);
  Finding path = finding("CDR-BIN-001", file("/usr/bin/y", "payload", 0755));
  CHECK(compute_fingerprint(path) != fp);
  Finding rule = finding("CDR-BIN-002", file("/usr/bin/x", "payload", 0755));
  CHECK(compute_fingerprint(rule) != fp);
  Finding kind = finding("CDR-BIN-001", file("/usr/bin/x", "payload", 0755), Severity::high,
                         ChangeKind::modified);
  CHECK(compute_fingerprint(kind) != fp);
  Finding cap = a;
  cap.change.after->xattrs = {{"security.capability", "\x01"}};
  CHECK(compute_fingerprint(cap) != fp);

  Finding link = a;
  link.change.after->type = FileType::symlink;
  link.change.after->sha256.reset();
  link.change.after->target = "/a";
  Finding link2 = link;
  link2.change.after->target = "/b";
  CHECK(compute_fingerprint(link) != compute_fingerprint(link2));

  // Path bytes and rule id cannot be shifted into each other.
  Finding s1 = finding("A", file("/bc", "x"));
  Finding s2 = finding("A/", file("/c", "x"));
  s2.change.path = "bc";
  CHECK(compute_fingerprint(s1) != compute_fingerprint(s2));
}

TEST_CASE("baseline round trip suppresses exactly the recorded findings") {
  Finding kept = finding("CDR-ETC-001", file("/etc/app.conf", "v1"), Severity::medium);
  Finding bin = finding("CDR-BIN-001", file("/usr/bin/tool", "elf", 0755), Severity::critical);
  AuditReport before = report_of({bin, kept});
  assign_fingerprints(before);
  std::string text = render_baseline(before);
  auto doc = nlohmann::json::parse(text);
  CHECK(doc["kind"] == "cdrift-baseline");
  CHECK(doc["schema_version"] == "1");
  REQUIRE(doc["findings"].size() == 2);
  CHECK(doc["findings"][0]["path"] == "/etc/app.conf"); // sorted by path
  CHECK(doc["findings"][0]["rule"] == "CDR-ETC-001");
  CHECK(doc["findings"][0]["change"] == "added");
  CHECK(render_baseline(before) == text);

  auto path = temp_file(".cdrift-baseline.json", text);
  auto baseline = load_baseline(path.string());
  REQUIRE(baseline);
  CHECK(baseline->fingerprints.size() == 2);

  // Next run: the tool binary is unchanged, the config has new content (a new
  // finding), and a new file appeared.
  Finding changed = finding("CDR-ETC-001", file("/etc/app.conf", "v2"), Severity::medium);
  Finding fresh = finding("CDR-TMP-001", file("/tmp/x", "x"), Severity::low);
  AuditReport next = report_of({bin, changed, fresh});
  apply_suppressions(next, &*baseline, {}, "2024-06-01");
  REQUIRE(next.findings.size() == 2);
  CHECK(next.findings[0].change.path == "/etc/app.conf");
  CHECK(next.findings[1].change.path == "/tmp/x");
  REQUIRE(next.suppressed.size() == 1);
  CHECK(next.suppressed[0].finding.change.path == "/usr/bin/tool");
  CHECK(next.suppressed[0].reason == "baseline " + path.string());
  CHECK(next.warnings.empty());

  // Re-baselining keeps the suppressed finding too.
  auto again = nlohmann::json::parse(render_baseline(next));
  CHECK(again["findings"].size() == 3);

  // Suppressed findings stay visible in every format.
  auto json_report = nlohmann::json::parse(render_json(next, {}));
  CHECK(json_report["summary"]["suppressed"] == 1);
  CHECK(json_report["suppressed"][0]["path"] == "/usr/bin/tool");
  CHECK(render_text(next, {}).find("SUPPRESSED (1)") != std::string::npos);
  CHECK(render_summary_line(next).find("1 suppressed") != std::string::npos);
  std::filesystem::remove_all(path.parent_path());
}

TEST_CASE("malformed baselines are input errors") {
  for (const char* text :
       {"{", "[]", R"({"kind":"other","schema_version":"1","findings":[]})",
        R"({"kind":"cdrift-baseline","schema_version":"9","findings":[]})",
        R"({"kind":"cdrift-baseline","schema_version":"1","findings":[{}]})",
        R"({"kind":"cdrift-baseline","schema_version":"1","findings":[{"fingerprint":"zz"}]})"}) {
    auto path = temp_file("b.json", text);
    auto baseline = load_baseline(path.string());
    REQUIRE_FALSE(baseline);
    CHECK(baseline.error().kind == ErrorKind::input);
    CHECK(baseline.error().message.find(path.string()) != std::string::npos);
    std::filesystem::remove_all(path.parent_path());
  }
  auto missing = load_baseline("/nonexistent/cdrift-baseline.json");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::input);
}

TEST_CASE("ignore file: parsing and errors naming the entry") {
  auto ok = parse_ignore_file(R"({
    "schema_version": "1",
    // comments are allowed, as in rule packs
    "ignore": [
      {"rule": "CDR-TMP-*", "reason": "scratch space"},
      {"path": "/var/www/**", "reason": "deployed by the CMS", "expires": "2030-01-31"},
      {"rule": "CDR-ETC-001", "path": "/etc/app.conf", "reason": "managed by config agent"}
    ]})",
                              "ign.json");
  REQUIRE(ok);
  REQUIRE(ok->size() == 3);
  CHECK((*ok)[0].rule == "CDR-TMP-*");
  CHECK((*ok)[1].path_glob == "/var/www/**");
  CHECK((*ok)[1].expires == "2030-01-31");
  CHECK((*ok)[2].index == 2);
  CHECK(parse_ignore_file(R"([{"path": "/tmp/**", "reason": "r"}])", "list.json"));

  struct Bad {
    const char* text;
    const char* expect;
  };
  for (const Bad& bad :
       {Bad{R"([{"rule": "X", "reason": "ok"}, {"rule": "Y"}])", "entry 1: \"reason\" is required"},
        Bad{R"([{"rule": "X", "reason": "  "}])", "entry 0: \"reason\" is required"},
        Bad{R"([{"reason": "why"}])", "entry 0: needs a \"rule\" or a \"path\""},
        Bad{R"([{"rule": "X", "reason": "r", "expires": "2024-02-30"}])", "entry 0: \"expires\""},
        Bad{R"([{"rule": "X", "reason": "r", "expires": "tomorrow"}])", "entry 0: \"expires\""},
        Bad{R"([{"rule": "X", "reson": "typo"}])", "entry 0: unknown key \"reson\""},
        Bad{R"([{"path": "var/www", "reason": "r"}])", "entry 0: \"path\" must be an absolute"},
        Bad{R"({"ignore": {}})", "\"ignore\" must be a list"},
        Bad{R"({"entries": []})", "unknown key \"entries\""}, Bad{"not json", "invalid JSON"}}) {
    auto result = parse_ignore_file(bad.text, "my-ignore.json");
    REQUIRE_FALSE(result);
    CHECK(result.error().kind == ErrorKind::usage);
    INFO(result.error().message);
    CHECK(result.error().message.find("my-ignore.json") != std::string::npos);
    CHECK(result.error().message.find(bad.expect) != std::string::npos);
  }
  CHECK(is_valid_date("2024-02-29"));
  CHECK_FALSE(is_valid_date("2023-02-29"));
  CHECK_FALSE(is_valid_date("2024-13-01"));

  auto path = temp_file(".cdriftignore.json", R"([{"rule": "X"}])");
  auto from_file = load_ignore_file(path.string());
  REQUIRE_FALSE(from_file);
  CHECK(from_file.error().message.find(path.string()) != std::string::npos);
  std::filesystem::remove_all(path.parent_path());
  auto missing = load_ignore_file("/nonexistent/.cdriftignore.json");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::usage);
}

TEST_CASE("ignore entries suppress until they expire, then warn") {
  auto entries = parse_ignore_file(R"([
      {"rule": "CDR-TMP-*", "reason": "scratch space"},
      {"path": "/var/www/**", "reason": "deployed by the CMS", "expires": "2024-06-01"},
      {"rule": "CDR-ETC-001", "path": "/etc/app.conf", "reason": "config agent"}
    ])",
                                   "ign.json");
  REQUIRE(entries);
  auto make = [] {
    return report_of({finding("CDR-BIN-001", file("/usr/bin/x", "e"), Severity::critical),
                      finding("CDR-ETC-001", file("/etc/app.conf", "c"), Severity::medium),
                      finding("CDR-ETC-002", file("/etc/other.conf", "c"), Severity::medium),
                      finding("CDR-WEB-001", file("/var/www/html/a.php", "<?php"), Severity::high),
                      finding("CDR-TMP-001", file("/tmp/a", "a"), Severity::low)});
  };

  AuditReport before_expiry = make();
  apply_suppressions(before_expiry, nullptr, *entries, "2024-05-31");
  CHECK(before_expiry.warnings.empty());
  REQUIRE(before_expiry.findings.size() == 2);
  CHECK(before_expiry.findings[0].change.path == "/usr/bin/x");
  CHECK(before_expiry.findings[1].change.path == "/etc/other.conf");
  REQUIRE(before_expiry.suppressed.size() == 3);
  // Most severe first, like findings.
  CHECK(before_expiry.suppressed[0].finding.change.path == "/var/www/html/a.php");
  CHECK(before_expiry.suppressed[0].reason == "ignore ign.json[1]: deployed by the CMS");
  CHECK(before_expiry.suppressed[1].reason == "ignore ign.json[2]: config agent");
  CHECK(before_expiry.suppressed[2].reason == "ignore ign.json[0]: scratch space");
  for (const SuppressedFinding& s : before_expiry.suppressed)
    CHECK(s.finding.fingerprint == compute_fingerprint(s.finding));

  AuditReport on_expiry = make();
  apply_suppressions(on_expiry, nullptr, *entries, "2024-06-01");
  REQUIRE(on_expiry.warnings.size() == 1);
  CHECK(on_expiry.warnings[0].find("expired on 2024-06-01") != std::string::npos);
  CHECK(on_expiry.warnings[0].find("ign.json entry 1") != std::string::npos);
  CHECK(on_expiry.findings.size() == 3);
  CHECK(on_expiry.findings[2].change.path == "/var/www/html/a.php");
  CHECK(on_expiry.suppressed.size() == 2);
}
