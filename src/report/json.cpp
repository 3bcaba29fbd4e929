#include "cdrift/report/json.hpp"

#include "cdrift/report/format.hpp"
#include "cdrift/util/build_info.hpp"
#include "cdrift/util/escape.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace cdrift {

namespace {

OrderedJson strings(const std::vector<std::string>& list) {
  OrderedJson out = OrderedJson::array();
  for (const std::string& s : list)
    out.push_back(utf8_lossy(s));
  return out;
}

OrderedJson rule_ref(const RuleRef& r, bool with_severity) {
  OrderedJson j;
  j["id"] = utf8_lossy(r.id);
  j["title"] = utf8_lossy(r.title);
  if (with_severity) j["severity"] = to_string(r.severity);
  j["tags"] = strings(r.tags);
  return j;
}

OrderedJson image_json(const AuditReport& report) {
  OrderedJson j;
  put_bytes(j, "source", report.image_source);
  j["kind"] = to_string(report.image_kind);
  OrderedJson layers = OrderedJson::array();
  if (report.image) {
    const ImageInfo& i = *report.image;
    if (!i.reference.empty()) j["reference"] = utf8_lossy(i.reference);
    if (!i.manifest_digest.empty()) j["manifest_digest"] = utf8_lossy(i.manifest_digest);
    if (!i.config_digest.empty()) j["config_digest"] = utf8_lossy(i.config_digest);
    if (!i.platform.empty()) j["platform"] = utf8_lossy(i.platform);
    for (const LayerInfo& l : i.layers) {
      OrderedJson layer;
      layer["digest"] = utf8_lossy(l.digest);
      layer["diff_id"] = utf8_lossy(l.diff_id);
      layer["verified"] = l.verified;
      layers.push_back(std::move(layer));
    }
  }
  j["layers"] = std::move(layers);
  return j;
}

OrderedJson container_json(const AuditReport& report) {
  const ContainerInfo& c = report.container;
  OrderedJson j;
  put_bytes(j, "source", c.source);
  j["kind"] = to_string(report.container_kind);
  auto put = [&](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = utf8_lossy(value);
  };
  put("id", c.id);
  put("name", c.name);
  put("image", c.image);
  put("created", c.created);
  put("started", c.started);
  if (!c.storage_driver.empty()) {
    OrderedJson storage;
    storage["driver"] = utf8_lossy(c.storage_driver);
    storage["upper_dir"] = utf8_lossy(c.upper_dir);
    j["storage"] = std::move(storage);
  }
  if (c.kubernetes) j["kubernetes"] = kubernetes_json(*c.kubernetes);
  return j;
}

OrderedJson summary_json(const AuditReport& report) {
  std::array<std::uint64_t, 5> by_severity{};
  std::array<std::uint64_t, 5> by_origin{};
  for (const Finding& f : report.findings) {
    ++by_severity[static_cast<std::size_t>(f.severity)];
    ++by_origin[static_cast<std::size_t>(f.origin.kind)];
  }
  OrderedJson j;
  j["entries_image"] = report.entries_image;
  j["entries_container"] = report.entries_container;
  j["findings"] = report.findings.size();
  OrderedJson sev;
  for (Severity s :
       {Severity::critical, Severity::high, Severity::medium, Severity::low, Severity::info})
    sev[std::string(to_string(s))] = by_severity[static_cast<std::size_t>(s)];
  j["by_severity"] = std::move(sev);
  OrderedJson origin;
  for (OriginKind o : {OriginKind::copied_in, OriginKind::shell_edit, OriginKind::package_manager,
                       OriginKind::runtime_write, OriginKind::unknown})
    origin[std::string(to_string(o))] = by_origin[static_cast<std::size_t>(o)];
  j["by_origin"] = std::move(origin);
  j["suppressed"] = report.suppressed.size();
  j["ignored"] = report.ignored.size();
  j["touched"] = report.touched.size();
  return j;
}

OrderedJson finding_json(const Finding& f) {
  OrderedJson j;
  j["fingerprint"] = fingerprint_of(f);
  OrderedJson change;
  put_change(change, f.change);
  // put_change leads with path/change; fingerprint stays first for readers.
  for (auto& [key, value] : change.items()) {
    if (key == "before" || key == "after") continue;
    j[key] = value;
  }
  if (change.contains("before")) j["before"] = change["before"];
  if (change.contains("after")) j["after"] = change["after"];
  j["severity"] = to_string(f.severity);
  j["score"] = std::round(std::clamp(f.score, 0.0, 10.0) * 10.0) / 10.0;
  j["rule"] = rule_ref(f.rule, false);
  OrderedJson others = OrderedJson::array();
  for (const RuleRef& r : f.other_rules)
    others.push_back(rule_ref(r, true));
  j["other_rules"] = std::move(others);
  OrderedJson origin;
  origin["kind"] = to_string(f.origin.kind);
  origin["confidence"] = to_string(f.origin.confidence);
  origin["evidence"] = strings(f.origin.evidence);
  j["origin"] = std::move(origin);
  OrderedJson context = OrderedJson::object();
  const FindingContext& c = f.context;
  if (c.layer) context["layer"] = *c.layer;
  if (!c.created_by.empty()) context["created_by"] = utf8_lossy(c.created_by);
  if (!c.package.empty()) context["package"] = utf8_lossy(c.package);
  if (!c.package_manager.empty()) context["package_manager"] = utf8_lossy(c.package_manager);
  if (c.package_checksum_ok) context["package_checksum_ok"] = *c.package_checksum_ok;
  j["context"] = std::move(context);
  if (!f.remediation.empty()) j["remediation"] = utf8_lossy(f.remediation);
  return j;
}

// Paths are lossy text only: the plan never holds a name JSON cannot carry exactly
// (such directories become notes instead), so lossy is exact here.
OrderedJson read_only_plan_json(const ReadOnlyPlan& plan) {
  OrderedJson j;
  j["ready"] = plan.ready;
  OrderedJson paths = OrderedJson::array();
  for (const WritablePath& w : plan.writable_paths)
    paths.push_back(utf8_lossy(w.path));
  j["writable_paths"] = std::move(paths);
  j["kubernetes"] = utf8_lossy(plan.kubernetes);
  j["docker_run"] = strings(plan.docker_run);
  j["notes"] = strings(plan.notes);
  return j;
}

} // namespace

// The pieces JSON Lines shares, so a finding reads the same in both formats.
OrderedJson report_image_json(const AuditReport& report) {
  return image_json(report);
}
OrderedJson report_container_json(const AuditReport& report) {
  return container_json(report);
}
OrderedJson report_summary_json(const AuditReport& report) {
  return summary_json(report);
}
OrderedJson report_finding_json(const Finding& finding) {
  return finding_json(finding);
}

std::string render_json(const AuditReport& report, const JsonOptions& options) {
  OrderedJson doc;
  doc["schema_version"] = "1";
  doc["tool"] = {{"name", "cdrift"}, {"version", version_string}};
  if (options.timestamp) doc["timestamp"] = utf8_lossy(*options.timestamp);
  doc["rules"] = {{"sources", strings(report.rule_sources)},
                  {"sha256", utf8_lossy(report.rules_sha256)}};
  doc["image"] = image_json(report);
  doc["container"] = container_json(report);
  doc["summary"] = summary_json(report);

  OrderedJson findings = OrderedJson::array();
  for (const Finding& f : report.findings)
    findings.push_back(finding_json(f));
  doc["findings"] = std::move(findings);

  OrderedJson ignored = OrderedJson::array();
  for (const IgnoredPath& i : report.ignored) {
    OrderedJson item;
    put_bytes(item, "path", i.path);
    item["reason"] = utf8_lossy(i.reason);
    ignored.push_back(std::move(item));
  }
  doc["ignored"] = std::move(ignored);

  OrderedJson suppressed = OrderedJson::array();
  for (const SuppressedFinding& s : report.suppressed) {
    OrderedJson item;
    item["fingerprint"] = fingerprint_of(s.finding);
    put_bytes(item, "path", s.finding.change.path);
    item["reason"] = utf8_lossy(s.reason);
    item["change"] = to_string(s.finding.change.kind);
    item["severity"] = to_string(s.finding.severity);
    item["rule"] = rule_ref(s.finding.rule, false);
    suppressed.push_back(std::move(item));
  }
  doc["suppressed"] = std::move(suppressed);
  doc["warnings"] = strings(report.warnings);
  doc["read_only_plan"] = read_only_plan_json(report.read_only_plan);

  if (options.touched == TouchedMode::show) {
    OrderedJson touched = OrderedJson::array();
    // Lossy only: touched paths are informational, not drift.
    for (const Change& c : report.touched)
      touched.push_back(utf8_lossy(c.path));
    doc["touched"] = std::move(touched);
  }
  return dump_json(doc);
}

} // namespace cdrift
