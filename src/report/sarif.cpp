#include "cdrift/report/sarif.hpp"

#include "cdrift/classify/rules.hpp"
#include "cdrift/report/format.hpp"
#include "cdrift/util/build_info.hpp"
#include "cdrift/util/escape.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

namespace cdrift {

namespace {

constexpr const char* information_uri = "https://github.com/cdrift/cdrift";
constexpr const char* root_base_id = "CONTAINERROOT";
constexpr const char* fingerprint_key = "cdrift/v1";

const char* level_for(Severity s) {
  switch (s) {
  case Severity::critical:
  case Severity::high:
    return "error";
  case Severity::medium:
    return "warning";
  case Severity::low:
  case Severity::info:
    return "note";
  }
  return "note";
}

// GitHub maps security-severity to its own labels: >= 9.0 critical, 7.0-8.9 high,
// 4.0-6.9 medium, 0.1-3.9 low. Info rules carry none: they are not vulnerabilities.
std::optional<std::string> security_severity(Severity s, std::optional<double> score) {
  static const std::map<Severity, std::pair<double, double>> bands = {
      {Severity::critical, {9.0, 10.0}},
      {Severity::high, {7.0, 8.9}},
      {Severity::medium, {4.0, 6.9}},
      {Severity::low, {0.1, 3.9}}};
  static const std::map<Severity, double> defaults = {{Severity::critical, 9.5},
                                                      {Severity::high, 8.0},
                                                      {Severity::medium, 5.5},
                                                      {Severity::low, 2.0}};
  auto band = bands.find(s);
  if (band == bands.end()) return std::nullopt;
  double value =
      score ? std::clamp(*score, band->second.first, band->second.second) : defaults.at(s);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", value);
  return std::string(buf);
}

// RFC 3986: everything but unreserved characters and '/' is percent-encoded byte by
// byte, so any path bytes (spaces, '%', ':', '#', invalid UTF-8) survive in the URI.
std::string relative_uri(std::string_view path) {
  while (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  if (path.empty()) return "./";
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// "ModifiedSystemBinary" from a title, for SARIF's optional rule name.
std::string pascal_name(std::string_view title, std::string_view fallback) {
  std::string out;
  bool upper = true;
  for (char c : title) {
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum) {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out = "Rule" + out;
  return out.empty() ? std::string(fallback) : out;
}

struct RuleDoc {
  std::string id, title, description, remediation;
  Severity severity = Severity::info;
  std::optional<double> score;
  std::vector<std::string> tags, references;
};

RuleDoc rule_doc(const Finding& f, const std::map<std::string, const Rule*>& pack_rules) {
  RuleDoc d;
  auto it = pack_rules.find(f.rule.id);
  if (it != pack_rules.end()) {
    const Rule& r = *it->second;
    d = {r.id, r.title, r.description, r.remediation, r.severity, r.score, r.tags, r.references};
  } else {
    d.id = f.rule.id;
    d.title = f.rule.title;
    d.severity = f.rule.severity;
    d.tags = f.rule.tags;
    d.remediation = f.remediation;
  }
  if (d.title.empty()) d.title = d.id;
  if (d.description.empty()) d.description = d.title;
  return d;
}

OrderedJson rule_json(const RuleDoc& d) {
  std::string text = d.description;
  std::string markdown = "**" + d.title + "**\n\n" + d.description;
  if (!d.remediation.empty()) {
    text += "\n\nRemediation: " + d.remediation;
    markdown += "\n\n**Remediation:** " + d.remediation;
  }
  if (!d.tags.empty()) {
    std::string joined;
    for (const std::string& t : d.tags)
      joined += (joined.empty() ? "" : ", ") + t;
    text += "\n\nTags: " + joined;
    markdown += "\n\n**Tags:** " + joined;
  }
  if (!d.references.empty()) {
    text += "\n\nReferences:";
    markdown += "\n\n**References:**\n";
    for (const std::string& r : d.references) {
      text += "\n- " + r;
      markdown += "\n- " + r;
    }
  }

  OrderedJson j;
  j["id"] = utf8_lossy(d.id);
  j["name"] = pascal_name(d.title, d.id);
  j["shortDescription"] = {{"text", utf8_lossy(d.title)}};
  j["fullDescription"] = {{"text", utf8_lossy(d.description)}};
  for (const std::string& r : d.references)
    if (r.rfind("https://", 0) == 0 || r.rfind("http://", 0) == 0) {
      j["helpUri"] = utf8_lossy(r);
      break;
    }
  j["help"] = {{"text", utf8_lossy(text)}, {"markdown", utf8_lossy(markdown)}};
  j["defaultConfiguration"] = {{"level", level_for(d.severity)}};
  OrderedJson props;
  OrderedJson tags = OrderedJson::array();
  // GitHub only shows security-severity for rules tagged "security".
  tags.push_back("security");
  for (const std::string& t : d.tags)
    if (t != "security") tags.push_back(utf8_lossy(t));
  props["tags"] = std::move(tags);
  if (auto s = security_severity(d.severity, d.score)) props["security-severity"] = *s;
  // Drift is observed, not inferred: a reported change did happen.
  props["precision"] = "high";
  props["problem.severity"] = d.severity >= Severity::high     ? "error"
                              : d.severity == Severity::medium ? "warning"
                                                               : "recommendation";
  j["properties"] = std::move(props);
  return j;
}

std::string result_message(const Finding& f) {
  const Change& c = f.change;
  std::string msg = std::string(to_string(c.kind)) + " " + escape_for_terminal(c.path);
  std::string fields = describe_fields(c);
  if (!fields.empty()) msg += " (" + fields + ")";
  if (c.kind == ChangeKind::added && c.after) msg += " (" + describe_entry(*c.after) + ")";
  if (c.kind == ChangeKind::deleted && c.subtree_entries > 0)
    msg += " (and " + std::to_string(c.subtree_entries) + " entries below)";
  msg += ": " + escape_for_terminal(f.rule.title.empty() ? f.rule.id : f.rule.title) + ".";
  msg += " Origin: " + std::string(to_string(f.origin.kind)) + " (" +
         std::string(to_string(f.origin.confidence)) + " confidence)";
  if (!f.origin.evidence.empty()) {
    msg += ": ";
    for (std::size_t i = 0; i < f.origin.evidence.size(); ++i)
      msg += (i ? "; " : "") + escape_for_terminal(f.origin.evidence[i]);
  }
  msg += ".";
  const FindingContext& ctx = f.context;
  std::vector<std::string> parts;
  if (ctx.layer) {
    std::string layer = "layer " + std::to_string(*ctx.layer);
    if (!ctx.created_by.empty()) layer += " (" + escape_for_terminal(ctx.created_by) + ")";
    parts.push_back(layer);
  }
  if (!ctx.package.empty()) parts.push_back("package " + escape_for_terminal(ctx.package));
  if (ctx.package_checksum_ok && !*ctx.package_checksum_ok)
    parts.push_back("no longer matches its package");
  if (!parts.empty()) {
    msg += " Context: ";
    for (std::size_t i = 0; i < parts.size(); ++i)
      msg += (i ? ", " : "") + parts[i];
    msg += ".";
  }
  return msg;
}

struct Candidate {
  const Finding* finding;
  const std::string* suppression; // null when not suppressed
};

} // namespace

std::string render_sarif(const AuditReport& report, const RulePack* rules,
                         const JsonOptions& options) {
  return render_sarif(report, rules, options, sarif_result_limit);
}

std::string render_sarif(const AuditReport& report, const RulePack* rules,
                         const JsonOptions& options, std::size_t result_limit) {
  std::map<std::string, const Rule*> pack_rules;
  if (rules)
    for (const Rule& r : rules->rules)
      pack_rules[r.id] = &r;

  // Unsuppressed before suppressed, then most severe first, so that the cap drops
  // what matters least.
  std::vector<Candidate> all;
  for (const Finding& f : report.findings)
    all.push_back({&f, nullptr});
  for (const SuppressedFinding& s : report.suppressed)
    all.push_back({&s.finding, &s.reason});
  std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    auto key = [](const Candidate& c) {
      return std::make_tuple(c.suppression != nullptr, -static_cast<int>(c.finding->severity),
                             std::string_view(c.finding->change.path),
                             std::string_view(c.finding->rule.id));
    };
    return key(a) < key(b);
  });
  std::size_t dropped = all.size() > result_limit ? all.size() - result_limit : 0;
  std::map<std::string, std::size_t> dropped_by_severity;
  for (std::size_t i = all.size() - dropped; i < all.size(); ++i)
    ++dropped_by_severity[std::string(to_string(all[i].finding->severity))];
  all.resize(all.size() - dropped);

  // Rules referenced by the kept results, sorted by id; ruleIndex points into it.
  std::map<std::string, RuleDoc> docs;
  for (const Candidate& c : all)
    if (!docs.count(c.finding->rule.id))
      docs.emplace(c.finding->rule.id, rule_doc(*c.finding, pack_rules));
  std::map<std::string, std::size_t> rule_index;
  OrderedJson rules_json = OrderedJson::array();
  for (const auto& [id, doc] : docs) {
    rule_index[id] = rules_json.size();
    rules_json.push_back(rule_json(doc));
  }

  OrderedJson results = OrderedJson::array();
  for (const Candidate& c : all) {
    const Finding& f = *c.finding;
    OrderedJson r;
    r["ruleId"] = utf8_lossy(f.rule.id);
    r["ruleIndex"] = rule_index.at(f.rule.id);
    r["level"] = level_for(f.severity);
    r["message"] = {{"text", result_message(f)}};
    OrderedJson artifact;
    artifact["uri"] = relative_uri(f.change.path);
    artifact["uriBaseId"] = root_base_id;
    OrderedJson location;
    location["physicalLocation"] = {{"artifactLocation", std::move(artifact)}};
    r["locations"] = OrderedJson::array({std::move(location)});
    r["partialFingerprints"] = {{fingerprint_key, fingerprint_of(f)}};
    if (c.suppression)
      r["suppressions"] = OrderedJson::array({{{"kind", "external"},
                                               {"status", "accepted"},
                                               {"justification", utf8_lossy(*c.suppression)}}});
    OrderedJson props;
    props["severity"] = to_string(f.severity);
    props["score"] = std::round(std::clamp(f.score, 0.0, 10.0) * 10.0) / 10.0;
    props["change"] = to_string(f.change.kind);
    if (!f.change.fields.empty()) {
      OrderedJson fields = OrderedJson::array();
      for (Field field : f.change.fields)
        fields.push_back(to_string(field));
      props["fields"] = std::move(fields);
    }
    props["origin"] = to_string(f.origin.kind);
    props["confidence"] = to_string(f.origin.confidence);
    if (!is_valid_utf8(f.change.path)) props["path_b64"] = base64_encode(f.change.path);
    // Per result, not only per run: code-scanning UIs and log shippers see results alone.
    if (report.container.kubernetes)
      props["kubernetes"] = kubernetes_json(*report.container.kubernetes);
    r["properties"] = std::move(props);
    results.push_back(std::move(r));
  }

  OrderedJson driver;
  driver["name"] = "cdrift";
  driver["fullName"] = std::string("cdrift container drift auditor ") + version_string;
  driver["version"] = version_string;
  driver["semanticVersion"] = version_string;
  driver["informationUri"] = information_uri;
  driver["rules"] = std::move(rules_json);

  OrderedJson invocation;
  invocation["executionSuccessful"] = true;
  if (options.timestamp) invocation["endTimeUtc"] = utf8_lossy(*options.timestamp);
  if (!report.warnings.empty()) {
    OrderedJson notes = OrderedJson::array();
    for (const std::string& w : report.warnings)
      notes.push_back({{"level", "warning"}, {"message", {{"text", escape_for_terminal(w)}}}});
    invocation["toolExecutionNotifications"] = std::move(notes);
  }

  OrderedJson run;
  run["tool"] = {{"driver", std::move(driver)}};
  run["invocations"] = OrderedJson::array({std::move(invocation)});
  run["originalUriBaseIds"] = {
      {root_base_id,
       {{"uri", "file:///"},
        {"description", {{"text", "The root of the container's filesystem."}}}}}};
  run["results"] = std::move(results);
  run["columnKind"] = "unicodeCodePoints";
  OrderedJson props;
  props["imageSource"] = utf8_lossy(report.image_source);
  props["containerSource"] = utf8_lossy(report.container.source);
  if (!report.rules_sha256.empty()) props["rulesSha256"] = utf8_lossy(report.rules_sha256);
  props["findings"] = report.findings.size();
  props["suppressed"] = report.suppressed.size();
  props["ignored"] = report.ignored.size();
  props["resultLimit"] = result_limit;
  props["droppedResults"] = dropped;
  if (dropped) {
    props["droppedBySeverity"] = dropped_by_severity;
    props["truncationNote"] = "This run lists the " + std::to_string(all.size()) +
                              " most severe of " + std::to_string(all.size() + dropped) +
                              " results (code-scanning limit); the JSON report has all.";
  }
  // SARIF has no place for advice about the whole run but its property bag; the
  // same plan as the JSON report's read_only_plan, under SARIF's camelCase.
  const ReadOnlyPlan& plan = report.read_only_plan;
  OrderedJson ro;
  ro["ready"] = plan.ready;
  OrderedJson paths = OrderedJson::array();
  for (const WritablePath& w : plan.writable_paths)
    paths.push_back(utf8_lossy(w.path));
  ro["writablePaths"] = std::move(paths);
  ro["kubernetes"] = utf8_lossy(plan.kubernetes);
  OrderedJson flags = OrderedJson::array();
  for (const std::string& f : plan.docker_run)
    flags.push_back(utf8_lossy(f));
  ro["dockerRun"] = std::move(flags);
  OrderedJson notes = OrderedJson::array();
  for (const std::string& n : plan.notes)
    notes.push_back(utf8_lossy(n));
  ro["notes"] = std::move(notes);
  props["readOnlyPlan"] = std::move(ro);
  run["properties"] = std::move(props);

  OrderedJson doc;
  doc["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  doc["version"] = "2.1.0";
  doc["runs"] = OrderedJson::array({std::move(run)});
  return dump_json(doc);
}

} // namespace cdrift
