// JSON Lines for log pipelines, and the Kubernetes identity in every format: each
// line validated against docs/report-jsonl.schema.json, which must keep the
// definitions it shares with docs/report.schema.json identical.
#include "cdrift/classify/fingerprint.hpp"
#include "cdrift/report/json.hpp"
#include "cdrift/report/jsonl.hpp"
#include "cdrift/report/sarif.hpp"
#include "cdrift/report/text.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace cdrift;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string latin1_path = std::string("/opt/caf\xe9") + ".bin";

Entry file(std::string path, std::string content, std::uint32_t mode = 0644) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::file;
  e.mode = mode;
  e.size = content.size();
  e.sha256 = sha256_of(content);
  return e;
}

Finding finding(Change c, Severity s, std::string id) {
  Finding f;
  f.change = std::move(c);
  f.severity = s;
  f.score = s == Severity::critical ? 9.5 : 5.0;
  f.rule = RuleRef{std::move(id), "a rule", s, {"T1098"}};
  f.origin.kind = OriginKind::shell_edit;
  f.origin.confidence = Confidence::high;
  f.origin.evidence = {"mtime after the container started"};
  f.fingerprint = compute_fingerprint(f);
  return f;
}

AuditReport k8s_report() {
  AuditReport r;
  r.image_source = "containerd:k8s.io/web-0-app";
  r.image_kind = SourceKind::oci_layout;
  ImageInfo info;
  info.reference = "docker.io/library/app:1";
  info.manifest_digest = "sha256:" + std::string(64, 'a');
  info.config_digest = "sha256:" + std::string(64, 'b');
  info.layers = {{"sha256:" + std::string(64, 'c'), "sha256:" + std::string(64, 'd'),
                  "application/vnd.oci.image.layer.v1.tar+gzip", 100, true, "ADD rootfs /"}};
  r.image = info;
  r.container.source = "containerd:k8s.io/web-0-app";
  r.container.id = "web-0-app";
  r.container.image = "docker.io/library/app:1";
  r.container.kubernetes = KubernetesIdentity{"shop", "web-0", "app", "1111-2222"};
  r.container_kind = SourceKind::directory;
  r.entries_image = 10;
  r.entries_container = 12;
  r.rule_sources = {"rules/default.json"};
  r.rules_sha256 = std::string(64, 'e');
  Change passwd;
  passwd.path = "/etc/passwd";
  passwd.kind = ChangeKind::modified;
  passwd.fields = {Field::content, Field::size};
  passwd.before = file("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  passwd.after = file("/etc/passwd", "root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n");
  Change odd;
  odd.path = latin1_path;
  odd.kind = ChangeKind::added;
  odd.after = file(latin1_path, "x");
  r.findings = {finding(passwd, Severity::critical, "CDR-ACCT-001"),
                finding(odd, Severity::medium, "CDR-OPT-001")};
  r.warnings = {"a warning\x1b[2J"};
  return r;
}

std::vector<json> parse_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    REQUIRE(!line.empty());
    out.push_back(json::parse(line)); // throws (fails the test) on invalid JSON
  }
  return out;
}

std::string source_dir() {
  return CDRIFT_TEST_SOURCE_DIR;
}

json load(const std::string& rel) {
  std::ifstream in(source_dir() + "/" + rel);
  return json::parse(in);
}

// Each line as its own document through scripts/validate-json.py.
int validate_lines(const std::string& text) {
  auto dir = fs::temp_directory_path() / ("cdrift-jsonl-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::istringstream in(text);
  std::string line, files;
  for (int i = 0; std::getline(in, line); ++i) {
    auto path = dir / ("line" + std::to_string(i) + ".json");
    std::ofstream(path, std::ios::binary) << line << "\n";
    files += " '" + path.string() + "'";
  }
  std::string cmd = "python3 '" + source_dir() + "/scripts/validate-json.py' --schema '" +
                    source_dir() + "/docs/report-jsonl.schema.json'" + files;
  int status = std::system(cmd.c_str());
  fs::remove_all(dir);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

TEST_CASE("jsonl: one line per finding, then the container's summary") {
  AuditReport r = k8s_report();
  std::string out = render_jsonl(r, {});
  CHECK(out.back() == '\n');
  auto lines = parse_lines(out);
  REQUIRE(lines.size() == 3);
  for (std::size_t i = 0; i < 2; ++i) {
    const json& f = lines[i];
    CHECK(f["record"] == "finding");
    CHECK(f["schema_version"] == "1");
    CHECK(f["container"]["source"] == "containerd:k8s.io/web-0-app");
    CHECK(f["container"]["id"] == "web-0-app");
    CHECK(f["container"]["kubernetes"] == json({{"namespace", "shop"},
                                                {"pod", "web-0"},
                                                {"container", "app"},
                                                {"pod_uid", "1111-2222"}}));
    CHECK(f["image"]["manifest_digest"] == "sha256:" + std::string(64, 'a'));
    CHECK(f["image"]["config_digest"] == "sha256:" + std::string(64, 'b'));
    CHECK(!f["image"].contains("layers"));
    CHECK(f["fingerprint"] == r.findings[i].fingerprint);
    CHECK(!f.contains("timestamp"));
  }
  CHECK(lines[0]["severity"] == "critical");
  CHECK(lines[0]["path"] == "/etc/passwd");
  CHECK(lines[0]["rule"]["id"] == "CDR-ACCT-001");
  CHECK(lines[0]["origin"]["kind"] == "shell-edit");
  CHECK(lines[1]["severity"] == "medium");
  CHECK(lines[1].contains("path_b64"));
  const json& s = lines[2];
  CHECK(s["record"] == "summary");
  CHECK(s["summary"]["findings"] == 2);
  CHECK(s["summary"]["by_severity"]["critical"] == 1);
  CHECK(s["image"]["layers"][0]["verified"] == true);
  CHECK(s["container"]["kubernetes"]["pod"] == "web-0");
  CHECK(s["warnings"][0] == "a warning\x1b[2J"); // JSON escapes it; no raw ESC in the stream
  CHECK(out.find('\x1b') == std::string::npos);
  // A finding's fields are those of the JSON report's findings[], in the same order.
  json full = json::parse(render_json(r, {}));
  for (auto& [key, value] : full["findings"][0].items())
    CHECK(lines[0][key] == value);
  CHECK(validate_lines(out) == 0);
}

TEST_CASE("jsonl: no findings is one summary line; timestamps on every line on request") {
  AuditReport r = k8s_report();
  r.findings.clear();
  r.container.kubernetes.reset();
  auto lines = parse_lines(render_jsonl(r, {std::string("2026-12-03T12:00:00Z")}));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["record"] == "summary");
  CHECK(lines[0]["timestamp"] == "2026-12-03T12:00:00Z");
  CHECK(!lines[0]["container"].contains("kubernetes"));
  CHECK(validate_lines(render_jsonl(r, {std::string("2026-12-03T12:00:00Z")})) == 0);
  CHECK(render_jsonl(r, {}) == render_jsonl(r, {})); // deterministic
}

TEST_CASE("jsonl: a container that could not be audited is an error line") {
  std::string line = render_jsonl_error("containerd:k8s.io/gone", "ctr: not found\n", 3, {});
  auto lines = parse_lines(line);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["record"] == "error");
  CHECK(lines[0]["container"]["source"] == "containerd:k8s.io/gone");
  CHECK(lines[0]["exit_status"] == 3);
  CHECK(validate_lines(line) == 0);
  CHECK(validate_lines(R"({"schema_version":"1","record":"finding"})") != 0);
}

TEST_CASE("jsonl: its schema shares report.schema.json's definitions unchanged") {
  json report = load("docs/report.schema.json");
  json lines = load("docs/report-jsonl.schema.json");
  for (auto& [name, def] : report["$defs"].items()) {
    if (name == "audit_all") continue; // the --all envelope is not a line
    INFO(name);
    CHECK(lines["$defs"][name] == def);
  }
  // Generated: scripts/gen-jsonl-schema.py --check fails when the file is stale.
  std::string cmd = "python3 '" + source_dir() + "/scripts/gen-jsonl-schema.py' --check";
  CHECK(std::system(cmd.c_str()) == 0);
  for (const char* part : {"tool", "rules", "image", "container", "summary"}) {
    INFO(part);
    CHECK(lines["$defs"][part] == report["properties"][part]);
  }
  for (auto& [key, def] : report["$defs"]["finding"]["properties"].items()) {
    INFO(key);
    CHECK(lines["$defs"]["finding_record"]["properties"][key] == def);
  }
}

TEST_CASE("kubernetes identity: JSON container, text header, SARIF result properties") {
  AuditReport r = k8s_report();
  json j = json::parse(render_json(r, {}));
  CHECK(j["container"]["kubernetes"] == json({{"namespace", "shop"},
                                              {"pod", "web-0"},
                                              {"container", "app"},
                                              {"pod_uid", "1111-2222"}}));
  std::string text = render_text(r, {});
  CHECK(text.find("pod        shop/web-0 container app (uid 1111-2222)\n") != std::string::npos);
  json sarif = json::parse(render_sarif(r, nullptr, {}));
  for (const json& result : sarif["runs"][0]["results"])
    CHECK(result["properties"]["kubernetes"]["pod"] == "web-0");

  r.container.kubernetes = KubernetesIdentity{"", "web\x1b[31m", "", ""};
  text = render_text(r, {});
  CHECK(text.find("pod        ?/web\\x1b[31m container ?\n") != std::string::npos);
  j = json::parse(render_json(r, {}));
  CHECK(j["container"]["kubernetes"]["namespace"] == "");

  r.container.kubernetes.reset();
  CHECK(render_text(r, {}).find("pod  ") == std::string::npos);
  CHECK(!json::parse(render_json(r, {}))["container"].contains("kubernetes"));
}
