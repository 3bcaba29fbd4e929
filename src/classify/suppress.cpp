#include "cdrift/classify/suppress.hpp"

#include "cdrift/classify/fingerprint.hpp"
#include "cdrift/util/atomic_file.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/glob.hpp"
#include "cdrift/util/hex.hpp"
#include "cdrift/util/json.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

namespace cdrift {

namespace {

constexpr std::size_t baseline_size_limit = 256u << 20;

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool more_severe_first(const Finding& a, const Finding& b) {
  return std::tie(b.severity, a.change.path, a.rule.id) <
         std::tie(a.severity, b.change.path, b.rule.id);
}

// Names an entry for messages the way a user finds it in the file.
std::string describe_ignore(const IgnoreEntry& e) {
  std::string out = e.source + " entry " + std::to_string(e.index);
  if (!e.rule.empty()) out += " (rule " + escape_for_terminal(e.rule) + ")";
  if (!e.path_glob.empty()) out += " (path " + escape_for_terminal(e.path_glob) + ")";
  return out;
}

bool matches(const IgnoreEntry& e, const Finding& f) {
  if (!e.rule.empty() && !glob_match(e.rule, f.rule.id)) return false;
  if (!e.path_glob.empty() && !glob_match(e.path_glob, f.change.path)) return false;
  return true;
}

} // namespace

bool is_valid_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  auto num = [&](std::size_t pos, std::size_t n) {
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i)
      v = v * 10 + (d[i] - '0');
    return v;
  };
  int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1) return false;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int limit = days[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= limit;
}

Result<Baseline> load_baseline(const std::string& path) {
  auto text = read_small_file(path, baseline_size_limit);
  if (!text) return fail(ErrorKind::input, "baseline " + path + ": " + text.error().message);
  auto parsed =
      parse_json_document(*text, "baseline " + path, JsonComments::reject, ErrorKind::input);
  if (!parsed) return fail(parsed.error());
  const nlohmann::json& doc = *parsed;
  auto bad = [&](const std::string& what) {
    return fail(ErrorKind::input, "baseline " + path + ": " + what);
  };
  if (!doc.is_object()) return bad("expected a JSON object");
  if (json_string(doc, "kind") != "cdrift-baseline")
    return bad("\"kind\" is not \"cdrift-baseline\" (write one with `cdrift baseline`)");
  if (json_string(doc, "schema_version") != "1")
    return bad("unsupported \"schema_version\" (expected \"1\")");
  auto it = doc.find("findings");
  if (it == doc.end() || !it->is_array()) return bad("\"findings\" must be an array");
  Baseline baseline;
  baseline.source = path;
  std::size_t index = 0;
  for (const auto& item : *it) {
    const auto* fp =
        item.is_object() && item.contains("fingerprint") ? &item.at("fingerprint") : nullptr;
    if (!fp || !fp->is_string() || fp->get_ref<const std::string&>().size() < 16 ||
        !is_hex(fp->get_ref<const std::string&>(), HexCase::any))
      return bad("findings[" + std::to_string(index) + "] has no hex \"fingerprint\"");
    baseline.fingerprints.insert(lower(fp->get<std::string>()));
    ++index;
  }
  return baseline;
}

std::string render_baseline(const AuditReport& report) {
  struct Row {
    std::string path, fingerprint, rule, change;
    bool operator<(const Row& o) const {
      return std::tie(path, fingerprint, rule) < std::tie(o.path, o.fingerprint, o.rule);
    }
  };
  std::vector<Row> rows;
  auto add = [&](const Finding& f) {
    rows.push_back({f.change.path, f.fingerprint.empty() ? compute_fingerprint(f) : f.fingerprint,
                    f.rule.id, std::string(to_string(f.change.kind))});
  };
  for (const Finding& f : report.findings)
    add(f);
  for (const SuppressedFinding& s : report.suppressed)
    add(s.finding);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const Row& a, const Row& b) { return a.fingerprint == b.fingerprint; }),
             rows.end());

  nlohmann::ordered_json doc;
  doc["schema_version"] = "1";
  doc["kind"] = "cdrift-baseline";
  auto& list = doc["findings"] = nlohmann::ordered_json::array();
  for (const Row& r : rows) {
    nlohmann::ordered_json item;
    item["fingerprint"] = r.fingerprint;
    item["path"] = utf8_lossy(r.path);
    if (!is_valid_utf8(r.path)) item["path_b64"] = base64_encode(r.path);
    item["rule"] = utf8_lossy(r.rule);
    item["change"] = r.change;
    list.push_back(std::move(item));
  }
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<std::vector<IgnoreEntry>> parse_ignore_file(std::string_view text,
                                                   const std::string& source) {
  auto parsed =
      parse_json_document(text, "ignore file " + source, JsonComments::allow, ErrorKind::usage);
  if (!parsed) return fail(parsed.error());
  const nlohmann::json& doc = *parsed;
  auto bad = [&](const std::string& what) {
    return fail(ErrorKind::usage, "ignore file " + source + ": " + what);
  };
  // Either a bare list of entries or {"schema_version": "1", "ignore": [...]}.
  const nlohmann::json* list = &doc;
  if (doc.is_object()) {
    for (const auto& [key, value] : doc.items()) {
      if (key != "schema_version" && key != "ignore")
        return bad("unknown key \"" + escape_for_terminal(key) +
                   "\" (expected \"schema_version\" and \"ignore\")");
      (void)value;
    }
    if (doc.contains("schema_version") && doc.at("schema_version") != "1")
      return bad("unsupported \"schema_version\" (expected \"1\")");
    if (!doc.contains("ignore")) return bad("missing \"ignore\" list");
    list = &doc.at("ignore");
  }
  if (!list->is_array()) return bad("\"ignore\" must be a list of entries");

  std::vector<IgnoreEntry> entries;
  std::size_t index = 0;
  for (const auto& item : *list) {
    auto bad_entry = [&](const std::string& what) {
      return bad("entry " + std::to_string(index) + ": " + what);
    };
    if (!item.is_object()) return bad_entry("expected an object");
    IgnoreEntry e;
    e.source = source;
    e.index = index;
    for (const auto& [key, value] : item.items()) {
      if (key != "rule" && key != "path" && key != "reason" && key != "expires")
        return bad_entry("unknown key \"" + escape_for_terminal(key) +
                         "\" (expected rule, path, reason, expires)");
      if (!value.is_string()) return bad_entry("\"" + key + "\" must be a string");
      const auto& s = value.get_ref<const std::string&>();
      if (key == "rule") e.rule = s;
      if (key == "path") e.path_glob = s;
      if (key == "reason") e.reason = s;
      if (key == "expires") e.expires = s;
    }
    if (e.rule.empty() && e.path_glob.empty())
      return bad_entry("needs a \"rule\" or a \"path\" glob (or both)");
    if (!e.path_glob.empty() && e.path_glob[0] != '/' && e.path_glob.rfind("**", 0) != 0)
      return bad_entry("\"path\" must be an absolute glob such as \"/var/www/**\"");
    bool blank_reason = std::all_of(e.reason.begin(), e.reason.end(),
                                    [](char c) { return c == ' ' || c == '\t' || c == '\n'; });
    if (blank_reason) return bad_entry("\"reason\" is required: say why this drift is accepted");
    if (e.expires && !is_valid_date(*e.expires))
      return bad_entry("\"expires\" must be a date YYYY-MM-DD, got \"" +
                       escape_for_terminal(*e.expires) + "\"");
    entries.push_back(std::move(e));
    ++index;
  }
  return entries;
}

Result<std::vector<IgnoreEntry>> load_ignore_file(const std::string& path) {
  auto text = read_small_file(path, 16u << 20);
  if (!text) return fail(ErrorKind::usage, "ignore file " + path + ": " + text.error().message);
  return parse_ignore_file(*text, path);
}

void apply_suppressions(AuditReport& report, const Baseline* baseline,
                        const std::vector<IgnoreEntry>& ignore, std::string_view today) {
  assign_fingerprints(report);

  std::vector<const IgnoreEntry*> active;
  for (const IgnoreEntry& e : ignore) {
    // ISO dates compare correctly as strings; expiring "on" the date matches Snyk's
    // and Trivy's reading of an expiry.
    if (e.expires && std::string_view(*e.expires) <= today) {
      report.warnings.push_back("ignore entry expired on " + *e.expires + " and no longer " +
                                "suppresses: " + describe_ignore(e));
      continue;
    }
    active.push_back(&e);
  }

  std::vector<Finding> kept;
  kept.reserve(report.findings.size());
  for (Finding& f : report.findings) {
    std::string reason;
    if (baseline && baseline->fingerprints.count(lower(f.fingerprint)))
      reason = "baseline " + baseline->source;
    else
      for (const IgnoreEntry* e : active)
        if (matches(*e, f)) {
          reason = "ignore " + e->source + "[" + std::to_string(e->index) + "]: " + e->reason;
          break;
        }
    if (reason.empty())
      kept.push_back(std::move(f));
    else
      report.suppressed.push_back({std::move(f), std::move(reason)});
  }
  report.findings = std::move(kept);
  std::stable_sort(report.suppressed.begin(), report.suppressed.end(),
                   [](const SuppressedFinding& a, const SuppressedFinding& b) {
                     return more_severe_first(a.finding, b.finding);
                   });
}

} // namespace cdrift
