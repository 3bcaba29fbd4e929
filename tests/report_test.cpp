// Renderers of the one report model: JSON (validated against docs/report.schema.json),
// SARIF (validated by scripts/validate-sarif.sh), text and the raw diff.
#include "cdrift/classify/fingerprint.hpp"
#include "cdrift/classify/rules.hpp"
#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/report/diff_render.hpp"
#include "cdrift/report/format.hpp"
#include "cdrift/report/json.hpp"
#include "cdrift/report/sarif.hpp"
#include "cdrift/report/text.hpp"
#include "cdrift/util/build_info.hpp"
#include "cdrift/util/escape.hpp"

#include <algorithm>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>
#include <tuple>
#include <unistd.h>

using namespace cdrift;
using nlohmann::json;

namespace {

Sha256Digest digest_of(std::string_view content) {
  return sha256_of(content);
}

Entry file_entry(std::string path, std::string_view content, std::uint32_t mode = 0644,
                 std::uint32_t uid = 0) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::file;
  e.mode = mode;
  e.uid = uid;
  e.gid = uid;
  e.size = content.size();
  e.sha256 = digest_of(content);
  e.mtime = 1700000000;
  e.layer = 1;
  e.content_class = ContentClass::text;
  return e;
}

Entry dir_entry(std::string path) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::dir;
  e.mode = 0755;
  e.layer = 0;
  return e;
}

Entry link_entry(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::symlink;
  e.mode = 0777;
  e.target = std::move(target);
  return e;
}

Finding make_finding(Change change, Severity severity, std::string rule_id, std::string title) {
  Finding f;
  f.change = std::move(change);
  f.severity = severity;
  f.score = severity == Severity::critical ? 9.5 : severity == Severity::high ? 8.0 : 3.0;
  f.rule = RuleRef{std::move(rule_id), std::move(title), severity, {"T1543", "persistence"}};
  f.origin.kind = OriginKind::shell_edit;
  f.origin.confidence = Confidence::high;
  f.origin.evidence = {"mtime is after the container was created",
                       "/root/.ash_history mentions passwd"};
  f.remediation = "Rebuild the image instead of editing the container.";
  return f;
}

Change modified(Entry before, Entry after, std::vector<Field> fields) {
  Change c;
  c.path = after.path;
  c.kind = ChangeKind::modified;
  c.before = std::move(before);
  c.after = std::move(after);
  c.fields = std::move(fields);
  return c;
}

Change added(Entry after) {
  Change c;
  c.path = after.path;
  c.kind = ChangeKind::added;
  c.after = std::move(after);
  return c;
}

Change deleted(Entry before, std::uint64_t subtree = 0) {
  Change c;
  c.path = before.path;
  c.kind = ChangeKind::deleted;
  c.before = std::move(before);
  c.subtree_entries = subtree;
  return c;
}

const std::string evil_path = std::string("/tmp/evil\x1b[31mred\nforged line");
const std::string latin1_path = std::string("/opt/caf\xe9") + ".bin"; // not UTF-8

// A report exercising every shape a finding can take, in the renderers' order.
AuditReport sample_report() {
  AuditReport r;
  r.image_source = "fixtures/out/alpine-oci";
  r.image_kind = SourceKind::oci_layout;
  ImageInfo info;
  info.reference = "example/app:1.0";
  info.manifest_digest = "sha256:" + std::string(64, 'a');
  info.config_digest = "sha256:" + std::string(64, 'b');
  info.layers = {{"sha256:" + std::string(64, 'c'), "sha256:" + std::string(64, 'd'),
                  "application/vnd.oci.image.layer.v1.tar+gzip", 100, true, "ADD rootfs /"}};
  r.image = info;
  r.container.source = "fixtures/out/export.tar";
  r.container.name = "web";
  r.container_kind = SourceKind::container_export;
  r.entries_image = 120;
  r.entries_container = 124;
  r.rule_sources = {"rules/default.json"};
  r.rules_sha256 = std::string(64, 'e');

  auto passwd_before = file_entry("/etc/passwd", std::string(839, 'p'));
  auto passwd_after = file_entry("/etc/passwd", std::string(869, 'q'));
  passwd_after.layer = -1;
  Finding passwd =
      make_finding(modified(passwd_before, passwd_after, {Field::content, Field::size}),
                   Severity::critical, "CDR-ACCT-001", "New uid-0 account in /etc/passwd");
  passwd.context.layer = 1;
  passwd.context.created_by = "RUN adduser app";
  passwd.context.package = "base-files";
  passwd.context.package_manager = "dpkg";
  passwd.context.package_checksum_ok = false;

  auto su_before = file_entry("/usr/bin/helper", "ELF", 0755);
  auto su_after = file_entry("/usr/bin/helper", "ELF", 04755, 1000);
  Change su_change = modified(su_before, su_after, {Field::mode, Field::uid, Field::gid});
  su_change.mode_added = bit_setuid;
  Finding setuid = make_finding(su_change, Severity::critical, "CDR-PERM-001", "setuid bit added");
  setuid.other_rules = {RuleRef{"CDR-BIN-010", "System binary changed", Severity::high, {}}};

  Finding link = make_finding(
      modified(link_entry("/etc/alt", "/a"), link_entry("/etc/alt", "/b"), {Field::target}),
      Severity::high, "CDR-LINK-001", "Symlink retargeted");

  auto drop = file_entry(evil_path, "payload", 0755, 1000);
  Finding evil = make_finding(added(drop), Severity::high, "CDR-DROP-\x1b[0m", "Dropped\x07 file");
  evil.origin.evidence = {"history line: \x1b]0;pwned\x07"};

  Finding odd = make_finding(added(file_entry(latin1_path, "x")), Severity::medium, "CDR-OPT-001",
                             "File added under /opt");

  Finding logs = make_finding(deleted(dir_entry("/var/log/nginx"), 12), Severity::low,
                              "CDR-LOG-002", "Log directory deleted");
  logs.origin.kind = OriginKind::unknown;
  logs.origin.confidence = Confidence::low;
  logs.origin.evidence.clear();

  r.findings = {passwd, setuid, link, evil, odd, logs};
  std::sort(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(b.severity, a.change.path) < std::tie(a.severity, b.change.path);
  });

  Finding accepted = make_finding(added(file_entry("/srv/app/config.yml", "k: v")),
                                  Severity::medium, "CDR-APP-001", "App config added");
  accepted.fingerprint = compute_fingerprint(accepted);
  r.suppressed = {{accepted, "baseline .cdrift-baseline.json"}};
  r.ignored = {{"/etc/hostname", "runtime placeholder: docker /etc/hostname"},
               {"/.dockerenv", "runtime placeholder: docker /.dockerenv"}};
  Change touched;
  touched.path = "/etc";
  touched.kind = ChangeKind::touched;
  r.touched = {touched};
  r.warnings = {"layer 0 has no history step\x1b[2J"};
  for (Finding& f : r.findings)
    f.fingerprint = compute_fingerprint(f);
  return r;
}

std::filesystem::path temp_dir() {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("cdrift-report-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  std::filesystem::create_directories(dir);
  return dir;
}

void write(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

int run(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string source_dir() {
  return CDRIFT_TEST_SOURCE_DIR;
}

int validate_json_report(const std::string& text) {
  auto dir = temp_dir();
  write(dir / "report.json", text);
  int rc = run("python3 '" + source_dir() + "/scripts/validate-json.py' '" +
               (dir / "report.json").string() + "'");
  std::filesystem::remove_all(dir);
  return rc;
}

// 0 valid, 1 invalid, 2 validator unavailable (no npm / no network): the e2e test and
// scripts/test.sh insist on it; here a missing tool only warns.
int validate_sarif(const std::string& text) {
  auto dir = temp_dir();
  write(dir / "report.sarif", text);
  int rc = run("'" + source_dir() + "/scripts/validate-sarif.sh' '" +
               (dir / "report.sarif").string() + "' >'" + (dir / "log").string() + "' 2>&1");
  if (rc != 0) {
    std::ifstream in(dir / "log");
    std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (rc == 2)
      MESSAGE("SARIF validator unavailable, skipped: " << log);
    else
      MESSAGE(log);
  }
  std::filesystem::remove_all(dir);
  return rc;
}

RulePack sample_pack() {
  RulePack pack;
  Rule rule;
  rule.id = "CDR-ACCT-001";
  rule.title = "New uid-0 account in /etc/passwd";
  rule.description = "A second root account is a classic persistence trick.";
  rule.severity = Severity::critical;
  rule.tags = {"T1136.001"};
  rule.remediation = "Remove the account and rebuild the image.";
  rule.references = {"https://attack.mitre.org/techniques/T1136/001/"};
  pack.rules.push_back(rule);
  return pack;
}

} // namespace

TEST_CASE("json report: fields, order and non-UTF-8 names") {
  AuditReport r = sample_report();
  std::string text = render_json(r, {});
  REQUIRE(text.back() == '\n');
  CHECK(text.rfind("{\n  \"schema_version\": \"1\",\n", 0) == 0);
  json doc = json::parse(text);

  CHECK(doc["tool"]["name"] == "cdrift");
  CHECK(doc["tool"]["version"] == version_string);
  CHECK_FALSE(doc.contains("timestamp"));
  CHECK(doc["rules"]["sha256"] == std::string(64, 'e'));
  CHECK(doc["image"]["manifest_digest"] == r.image->manifest_digest);
  CHECK(doc["image"]["layers"][0]["verified"] == true);
  CHECK(doc["container"]["name"] == "web");
  CHECK_FALSE(doc["container"].contains("id"));

  const json& s = doc["summary"];
  CHECK(s["findings"] == 6);
  CHECK(s["by_severity"]["critical"] == 2);
  CHECK(s["by_severity"]["high"] == 2);
  CHECK(s["by_severity"]["medium"] == 1);
  CHECK(s["by_severity"]["low"] == 1);
  CHECK(s["by_severity"]["info"] == 0);
  CHECK(s["by_origin"]["shell-edit"] == 5);
  CHECK(s["by_origin"]["unknown"] == 1);
  CHECK(s["suppressed"] == 1);
  CHECK(s["ignored"] == 2);

  const json& f = doc["findings"];
  REQUIRE(f.size() == 6);
  std::vector<std::string> order;
  for (const json& x : f)
    order.push_back(x["path"]);
  CHECK(order[0] == "/etc/passwd");
  CHECK(order[1] == "/usr/bin/helper");
  CHECK(order[2] == "/etc/alt");
  CHECK(order[5] == "/var/log/nginx");

  const json& passwd = f[0];
  CHECK(passwd["change"] == "modified");
  CHECK(passwd["fields"] == json::array({"content", "size"}));
  CHECK(passwd["before"]["size"] == 839);
  CHECK(passwd["after"]["size"] == 869);
  CHECK(passwd["before"]["mode"] == "0644");
  CHECK(passwd["after"]["sha256"] == to_hex(digest_of(std::string(869, 'q'))));
  CHECK(passwd["severity"] == "critical");
  CHECK(passwd["score"] == 9.5);
  CHECK(passwd["rule"]["id"] == "CDR-ACCT-001");
  CHECK(passwd["origin"]["kind"] == "shell-edit");
  CHECK(passwd["origin"]["evidence"].size() == 2);
  CHECK(passwd["context"]["layer"] == 1);
  CHECK(passwd["context"]["package_checksum_ok"] == false);
  CHECK(passwd["fingerprint"] == r.findings[0].fingerprint);

  CHECK(f[1]["mode_added"] == json::array({"setuid"}));
  CHECK(f[1]["other_rules"][0]["severity"] == "high");
  CHECK(f[2]["after"]["target"] == "/b");

  const json* latin = nullptr;
  const json* evil = nullptr;
  for (const json& x : f) {
    if (x.contains("path_b64")) latin = &x;
    if (x["path"] == utf8_lossy(evil_path)) evil = &x;
  }
  REQUIRE(latin);
  REQUIRE(evil);
  std::string raw;
  REQUIRE(base64_decode((*latin)["path_b64"].get<std::string>(), raw));
  CHECK(raw == latin1_path);
  CHECK((*latin)["path"] == "/opt/caf\xEF\xBF\xBD.bin");
  CHECK((*latin)["after"]["path_b64"] == (*latin)["path_b64"]);
  CHECK_FALSE(latin->contains("before"));
  CHECK((*evil)["rule"]["id"] == "CDR-DROP-\x1b[0m"); // JSON escapes it; the value is exact

  const json& logs = f[5];
  CHECK(logs["subtree_entries"] == 12);
  CHECK_FALSE(logs.contains("after"));

  CHECK(doc["suppressed"][0]["reason"] == "baseline .cdrift-baseline.json");
  CHECK(doc["suppressed"][0]["fingerprint"] == r.suppressed[0].finding.fingerprint);
  CHECK(doc["ignored"].size() == 2);
  CHECK(doc["warnings"].size() == 1);
  CHECK_FALSE(doc.contains("touched"));

  CHECK(render_json(r, {}) == text); // deterministic
  CHECK(validate_json_report(text) == 0);
}

TEST_CASE("json report: timestamp and touched only on request; empty report is valid") {
  AuditReport r = sample_report();
  JsonOptions options;
  options.timestamp = "2024-05-01T12:00:00Z";
  options.touched = TouchedMode::show;
  json doc = json::parse(render_json(r, options));
  CHECK(doc["timestamp"] == "2024-05-01T12:00:00Z");
  CHECK(doc["touched"] == json::array({"/etc"}));
  CHECK(validate_json_report(doc.dump()) == 0);

  AuditReport empty;
  empty.image_source = "img.tar";
  empty.image_kind = SourceKind::rootfs_tar;
  empty.container.source = "dir/";
  empty.container_kind = SourceKind::directory;
  std::string text = render_json(empty, {});
  json e = json::parse(text);
  CHECK(e["findings"].empty());
  CHECK(e["summary"]["findings"] == 0);
  CHECK(e["image"]["layers"].empty());
  CHECK(validate_json_report(text) == 0);
}

TEST_CASE("json schema rejects a report that breaks it") {
  json doc = json::parse(render_json(sample_report(), {}));
  doc["findings"][0]["severity"] = "catastrophic";
  CHECK(validate_json_report(doc.dump()) == 1);
  doc = json::parse(render_json(sample_report(), {}));
  doc["findings"][0].erase("before"); // a modified finding needs both sides
  CHECK(validate_json_report(doc.dump()) == 1);
}

TEST_CASE("report entries use the saved manifest's field names") {
  Entry e = file_entry(latin1_path, "abc", 04755);
  e.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02", 4)}};
  e.interpreter = "/bin/sh";
  Entry dev;
  dev.path = "/dev/null2";
  dev.type = FileType::chardev;
  dev.mode = 0666;
  dev.dev_major = 1;
  dev.dev_minor = 3;
  for (const Entry& x : {e, dev, link_entry("/l", std::string("/t\xff", 3)), dir_entry("/d")}) {
    json ours = json::parse(report_entry_json(x).dump());
    json manifest = entry_to_json(x);
    CHECK(ours == manifest);
  }
}

TEST_CASE("text report: grouping, fields, context and escaping") {
  AuditReport r = sample_report();
  std::string text = render_text(r, {});

  // No raw control characters from input reach the terminal.
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\x07') == std::string::npos);
  CHECK(text.find("/tmp/evil\\x1b[31mred\\nforged line") != std::string::npos);
  for (std::size_t pos = 0; (pos = text.find('\n', pos)) != std::string::npos; ++pos)
    CHECK(text.compare(pos + 1, 11, "forged line") != 0);
  CHECK(text.find("/opt/caf\\xe9.bin") != std::string::npos);

  auto critical = text.find("CRITICAL (2)");
  auto high = text.find("HIGH (2)");
  auto medium = text.find("MEDIUM (1)");
  auto low = text.find("LOW (1)");
  REQUIRE(critical != std::string::npos);
  CHECK(critical < high);
  CHECK(high < medium);
  CHECK(medium < low);
  CHECK(text.find("INFO (") == std::string::npos);
  CHECK(text.find("/etc/passwd") < text.find("/usr/bin/helper"));

  CHECK(text.find("modified  /etc/passwd  content size 839\xE2\x86\x92"
                  "869") != std::string::npos);
  CHECK(text.find("mode 0755\xE2\x86\x92"
                  "4755 uid 0\xE2\x86\x92"
                  "1000 gid 0\xE2\x86\x92"
                  "1000") != std::string::npos);
  CHECK(text.find("target /a\xE2\x86\x92/b") != std::string::npos);
  CHECK(text.find("/var/log/nginx  dir (and 12 entries below)") != std::string::npos);
  CHECK(text.find("rule     CDR-ACCT-001  New uid-0 account in /etc/passwd") != std::string::npos);
  CHECK(text.find("also     CDR-BIN-010 (high)") != std::string::npos);
  CHECK(text.find("origin   shell-edit (high confidence)") != std::string::npos);
  CHECK(text.find("- /root/.ash_history mentions passwd") != std::string::npos);
  CHECK(text.find("context  layer 1: RUN adduser app; package base-files (dpkg); no longer matches "
                  "its package") != std::string::npos);
  CHECK(text.find("fix      Rebuild the image") != std::string::npos);
  CHECK(text.find("image      oci_layout fixtures/out/alpine-oci (example/app:1.0)") !=
        std::string::npos);
  CHECK(text.find("manifest sha256:aaaa") != std::string::npos);
  CHECK(text.find("1 layer, all verified") != std::string::npos);
  CHECK(text.find("entries    image 120, container 124") != std::string::npos);
  CHECK(text.find("SUPPRESSED (1)") != std::string::npos);
  CHECK(text.find("/srv/app/config.yml  CDR-APP-001  (baseline .cdrift-baseline.json)") !=
        std::string::npos);
  CHECK(text.find("IGNORED (2)") != std::string::npos);
  CHECK(text.find("layer 0 has no history step\\x1b[2J") != std::string::npos);
  CHECK(text.find("TOUCHED") == std::string::npos);

  std::string summary = render_summary_line(r);
  CHECK(summary == "6 findings: 2 critical, 2 high, 1 medium, 1 low, 0 info \xC2\xB7 2 ignored "
                   "\xC2\xB7 1 suppressed");
  CHECK(text.size() > summary.size());
  CHECK(text.compare(text.size() - summary.size() - 1, summary.size(), summary) == 0);
}

TEST_CASE("text report: quiet, min-severity, colour and touched") {
  AuditReport r = sample_report();
  TextOptions quiet;
  quiet.verbosity = Verbosity::quiet;
  CHECK(render_text(r, quiet) == render_summary_line(r) + "\n");

  TextOptions high_only;
  high_only.min_severity = Severity::high;
  std::string text = render_text(r, high_only);
  CHECK(text.find("MEDIUM") == std::string::npos);
  CHECK(text.find("/var/log/nginx") == std::string::npos);
  CHECK(text.find("2 findings below high not shown") != std::string::npos);
  CHECK(text.find("6 findings: 2 critical") != std::string::npos); // still counted

  TextOptions colour;
  colour.color = ColorMode::always;
  colour.touched = TouchedMode::show;
  std::string coloured = render_text(r, colour);
  CHECK(coloured.find("\x1b[1;35mCRITICAL (2)\x1b[0m") != std::string::npos);
  CHECK(coloured.find("TOUCHED, mtime only (1)") != std::string::npos);
  // The path's own escape sequence is still neutralised inside coloured output.
  CHECK(coloured.find("\x1b[31mred") == std::string::npos);

  AuditReport empty;
  CHECK(render_summary_line(empty) == "0 findings \xC2\xB7 0 ignored \xC2\xB7 0 suppressed");
  CHECK(render_text(empty, {}).find("No drift.") != std::string::npos);
}

TEST_CASE("sarif report: structure, levels, uris and fingerprints") {
  AuditReport r = sample_report();
  RulePack pack = sample_pack();
  std::string text = render_sarif(r, &pack, {});
  CHECK(render_sarif(r, &pack, {}) == text);
  json doc = json::parse(text);
  CHECK(doc["version"] == "2.1.0");
  REQUIRE(doc["runs"].size() == 1);
  const json& run = doc["runs"][0];
  const json& driver = run["tool"]["driver"];
  CHECK(driver["name"] == "cdrift");
  CHECK(driver["version"] == version_string);
  CHECK(driver["informationUri"].get<std::string>().rfind("https://", 0) == 0);
  CHECK(run["originalUriBaseIds"]["CONTAINERROOT"]["uri"] == "file:///");

  const json& rules = driver["rules"];
  std::vector<std::string> ids;
  for (const json& rule : rules)
    ids.push_back(rule["id"]);
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(ids.size() == 7); // six findings' rules plus the suppressed one

  const json& results = run["results"];
  REQUIRE(results.size() == 7);
  for (const json& result : results)
    CHECK(rules[result["ruleIndex"].get<std::size_t>()]["id"] == result["ruleId"]);

  const json& first = results[0];
  CHECK(first["ruleId"] == "CDR-ACCT-001");
  CHECK(first["level"] == "error");
  CHECK(first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "etc/passwd");
  CHECK(first["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] ==
        "CONTAINERROOT");
  CHECK(first["partialFingerprints"]["cdrift/v1"] == r.findings[0].fingerprint);
  CHECK(first["properties"]["origin"] == "shell-edit");
  CHECK(first["properties"]["change"] == "modified");
  std::string message = first["message"]["text"];
  CHECK(message.find("modified /etc/passwd (content size 839") == 0);
  CHECK(message.find("no longer matches its package") != std::string::npos);

  // The pack's documentation wins over the finding's short rule reference.
  const json& acct = rules[first["ruleIndex"].get<std::size_t>()];
  CHECK(acct["fullDescription"]["text"] == "A second root account is a classic persistence trick.");
  CHECK(acct["help"]["markdown"].get<std::string>().find("**Remediation:** Remove the account") !=
        std::string::npos);
  CHECK(acct["helpUri"] == "https://attack.mitre.org/techniques/T1136/001/");
  CHECK(acct["properties"]["security-severity"] == "9.5");
  CHECK(acct["properties"]["tags"] == json::array({"security", "T1136.001"}));

  std::map<std::string, std::string> level_by_rule, severity_by_rule;
  for (const json& rule : rules) {
    if (rule["properties"].contains("security-severity"))
      severity_by_rule[rule["id"]] = rule["properties"]["security-severity"];
  }
  for (const json& result : results)
    level_by_rule[result["ruleId"]] = result["level"];
  CHECK(level_by_rule["CDR-LINK-001"] == "error");
  CHECK(level_by_rule["CDR-OPT-001"] == "warning");
  CHECK(level_by_rule["CDR-LOG-002"] == "note");
  CHECK(severity_by_rule["CDR-LINK-001"] == "8.0");
  CHECK(severity_by_rule["CDR-LOG-002"] == "2.0");

  bool saw_latin = false, saw_evil = false;
  for (const json& result : results) {
    std::string uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    if (uri == "opt/caf%E9.bin") saw_latin = true;
    if (uri == "tmp/evil%1B%5B31mred%0Aforged%20line") {
      saw_evil = true;
      CHECK(result["message"]["text"].get<std::string>().find('\x1b') == std::string::npos);
    }
  }
  CHECK(saw_latin);
  CHECK(saw_evil);

  const json& last = results.back();
  CHECK(last["ruleId"] == "CDR-APP-001");
  CHECK(last["suppressions"][0]["kind"] == "external");
  CHECK(last["suppressions"][0]["justification"] == "baseline .cdrift-baseline.json");
  CHECK(run["properties"]["droppedResults"] == 0);
  CHECK(run["invocations"][0]["toolExecutionNotifications"].size() == 1);

  CHECK(validate_sarif(text) != 1);
}

TEST_CASE("sarif report: without a rule pack, empty, and with a timestamp") {
  AuditReport r = sample_report();
  JsonOptions options;
  options.timestamp = "2024-05-01T12:00:00Z";
  json doc = json::parse(render_sarif(r, nullptr, options));
  const json& run = doc["runs"][0];
  CHECK(run["invocations"][0]["endTimeUtc"] == "2024-05-01T12:00:00Z");
  for (const json& rule : run["tool"]["driver"]["rules"]) {
    CHECK_FALSE(rule["shortDescription"]["text"].get<std::string>().empty());
    CHECK(rule["fullDescription"]["text"] == rule["shortDescription"]["text"]);
  }
  AuditReport empty;
  std::string text = render_sarif(empty, nullptr, {});
  CHECK(json::parse(text)["runs"][0]["results"].empty());
  CHECK(validate_sarif(text) != 1);
}

TEST_CASE("sarif report: the result cap keeps the most severe and says so") {
  AuditReport r = sample_report();
  json doc = json::parse(render_sarif(r, nullptr, {}, 3));
  const json& run = doc["runs"][0];
  const json& results = run["results"];
  REQUIRE(results.size() == 3);
  CHECK(results[0]["ruleId"] == "CDR-ACCT-001");
  CHECK(results[1]["ruleId"] == "CDR-PERM-001");
  CHECK(results[2]["level"] == "error");
  CHECK(run["properties"]["droppedResults"] == 4);
  CHECK(run["properties"]["droppedBySeverity"]["medium"] == 2); // incl. the suppressed one
  CHECK(run["properties"]["droppedBySeverity"]["low"] == 1);
  CHECK(run["properties"]["resultLimit"] == 3);
  CHECK(run["tool"]["driver"]["rules"].size() == 3); // only rules of kept results
  CHECK(run["properties"]["truncationNote"].get<std::string>().find("3 most severe of 7") !=
        std::string::npos);
}

TEST_CASE("diff rendering: text groups and json") {
  DiffResult diff;
  diff.changes = {modified(file_entry("/etc/passwd", std::string(839, 'p')),
                           file_entry("/etc/passwd", std::string(869, 'q')),
                           {Field::content, Field::size}),
                  added(file_entry("/root/.ash_history", "ls")),
                  deleted(dir_entry("/var/cache/apk"), 3), added(file_entry(evil_path, "x"))};
  std::sort(diff.changes.begin(), diff.changes.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });
  Change t;
  t.path = "/etc";
  t.kind = ChangeKind::touched;
  diff.touched = {t};

  std::string text =
      render_diff_text(diff, "left.tar", "right\x1b.tar", ColorMode::never, TouchedMode::hide);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find("right  right\\x1b.tar") != std::string::npos);
  auto a = text.find("ADDED (2)");
  auto m = text.find("MODIFIED (1)");
  auto d = text.find("DELETED (1)");
  REQUIRE(a != std::string::npos);
  CHECK(a < m);
  CHECK(m < d);
  CHECK(text.find("modified  /etc/passwd  content size 839\xE2\x86\x92"
                  "869") != std::string::npos);
  CHECK(text.find("/var/cache/apk  dir (and 3 entries below)") != std::string::npos);
  CHECK(text.find("4 changes: 2 added, 1 modified, 1 deleted \xC2\xB7 1 touched") !=
        std::string::npos);
  CHECK(text.find("TOUCHED") == std::string::npos);
  CHECK(render_diff_text(diff, "l", "r", ColorMode::never, TouchedMode::show).find("  /etc\n") !=
        std::string::npos);

  json doc = json::parse(render_diff_json(diff, "left.tar", "right.tar"));
  CHECK(doc["kind"] == "cdrift-diff");
  CHECK(doc["summary"]["added"] == 2);
  CHECK(doc["summary"]["touched"] == 1);
  REQUIRE(doc["changes"].size() == 4);
  CHECK(doc["changes"][0]["path"] == "/etc/passwd");
  CHECK(doc["changes"][0]["fields"] == json::array({"content", "size"}));
  CHECK(doc["touched"][0]["path"] == "/etc");
}
