// `cdrift rules test|lint|list`: keeping rule packs honest.
#include "cdrift/util/escape.hpp"
#include "classify/rule_internal.hpp"

#include <algorithm>
#include <set>

namespace cdrift {

using namespace rule_detail;

namespace {

std::string describe(const Change& c) {
  std::string s(to_string(c.kind));
  s += " ";
  s += escape_for_terminal(c.path);
  if (!c.fields.empty()) {
    s += " [";
    for (std::size_t i = 0; i < c.fields.size(); ++i) {
      if (i) s += ",";
      s += to_string(c.fields[i]);
    }
    s += "]";
  }
  return s;
}

std::string where(const Rule& r) {
  return escape_for_terminal(r.source_file) + ": rule " + escape_for_terminal(r.id) + ": ";
}

// MITRE ATT&CK enterprise technique ids: T1234 or T1234.001.
bool is_attack_id(std::string_view t) {
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (t.size() < 5 || t[0] != 'T' || !digits(t.substr(1, 4))) return false;
  if (t.size() == 5) return true;
  return t.size() == 9 && t[5] == '.' && digits(t.substr(6, 3));
}

bool looks_like_attack_id(std::string_view t) {
  return t.size() >= 2 && (t[0] == 'T' || t[0] == 't') && t[1] >= '0' && t[1] <= '9';
}

std::string pad(std::string s, std::size_t width) {
  // Width in bytes is good enough: ids, severities and tags are ASCII.
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

} // namespace

RuleTestResult test_rule_examples(const RulePack& pack) {
  RuleTestResult res;
  for (const Rule& rule : pack.rules) {
    ++res.rules;
    int n_match = 0, n_no_match = 0;
    for (const RuleExample& ex : rule.examples) {
      ++res.examples;
      int index = ex.expect_match ? n_match++ : n_no_match++;
      MatchContext ctx{&ex.image, &ex.container, ex.origin ? &*ex.origin : nullptr,
                       ex.package ? &*ex.package : nullptr};
      bool got = rule_matches(rule, ex.change, ctx, &pack);
      std::string label = std::string(ex.expect_match ? "match" : "no_match") + "[" +
                          std::to_string(index) + "] (" + describe(ex.change) + ")";
      if (got != ex.expect_match) {
        ++res.failures;
        res.messages.push_back(where(rule) + "example " + label +
                               (ex.expect_match ? " does not match" : " matches"));
        continue;
      }
      // A report example that an ignore rule swallows could never become a finding.
      if (ex.expect_match && rule.action == RuleAction::report) {
        if (const Rule* ign = matching_ignore_rule(pack, ex.change, ctx)) {
          ++res.failures;
          res.messages.push_back(where(rule) + "example " + label + " is ignored by rule " +
                                 escape_for_terminal(ign->id));
        }
      }
    }
  }
  return res;
}

std::vector<std::string> lint_rule_pack(const RulePack& pack) {
  std::vector<std::string> out;
  std::set<std::string> titles;
  for (const Rule& r : pack.rules) {
    const std::string at = where(r);
    const RuleMatch& m = r.match;
    bool report = r.action == RuleAction::report;
    bool has_attack = false;
    for (const std::string& t : r.tags) {
      if (is_attack_id(t))
        has_attack = true;
      else if (looks_like_attack_id(t))
        out.push_back(at + "tag \"" + escape_for_terminal(t) +
                      "\" is not a MITRE ATT&CK technique id (T1234 or T1234.001) [CDR-L002]");
    }
    if (report && !r.is_default && r.severity >= Severity::high && !has_attack)
      out.push_back(at + std::string(to_string(r.severity)) +
                    " rule has no MITRE ATT&CK technique tag [CDR-L001]");
    bool has_match = false, has_no_match = false;
    for (const RuleExample& ex : r.examples)
      (ex.expect_match ? has_match : has_no_match) = true;
    if (!has_match) out.push_back(at + "no \"match\" example [CDR-L003]");
    if (!has_no_match) out.push_back(at + "no \"no_match\" example [CDR-L003]");
    if (report && r.remediation.empty()) out.push_back(at + "no remediation [CDR-L004]");
    if (r.description.empty()) out.push_back(at + "no description [CDR-L005]");
    for (const auto* globs : {&m.paths, &m.exclude_paths})
      for (const Glob& g : *globs) {
        std::string why = glob_never_matches(g.pattern());
        if (!why.empty())
          out.push_back(at + "glob \"" + escape_for_terminal(g.pattern()) + "\" " + why +
                        " [CDR-L006]");
        for (const Glob& p : m.paths)
          if (globs == &m.exclude_paths && p.pattern() == g.pattern())
            out.push_back(at + "glob \"" + escape_for_terminal(g.pattern()) +
                          "\" is both included and excluded [CDR-L006]");
      }
    for (const std::string& ref : r.references)
      if (!ref.starts_with("https://") && !ref.starts_with("http://"))
        out.push_back(at + "reference \"" + escape_for_terminal(ref) +
                      "\" is not an http(s) URL [CDR-L007]");
    if (!m.content_classes.empty() && !m.types.empty() &&
        std::find(m.types.begin(), m.types.end(), FileType::file) == m.types.end())
      out.push_back(at + "content_classes only apply to regular files, but types excludes "
                         "\"file\" [CDR-L008]");
    if (!m.fields.empty() && !m.changes.empty() &&
        std::find(m.changes.begin(), m.changes.end(), ChangeKind::modified) == m.changes.end())
      out.push_back(at + "fields only constrain modified changes, but changes excludes "
                         "\"modified\" [CDR-L008]");
    if ((m.after || !m.xattrs_added.empty() || m.mode_added) && m.changes.size() == 1 &&
        m.changes[0] == ChangeKind::deleted)
      out.push_back(at + "after, xattrs_added and mode_added need a container side, but the "
                         "rule only matches deletions [CDR-L008]");
    if (!report && !m.after)
      for (const Glob& g : m.paths)
        if (g.pattern().find('*') != std::string::npos)
          out.push_back(at + "ignore rule with wildcard \"" + escape_for_terminal(g.pattern()) +
                        "\" and no \"after\" constraint hides any content there [CDR-L009]");
    bool empty_match = m.paths.empty() && m.changes.empty() && m.fields.empty() &&
                       m.content_classes.empty() && m.types.empty() && !m.mode_added &&
                       m.xattrs_added.empty() && m.origins.empty() && !m.entrypoint &&
                       m.checks.empty() && !m.after;
    if (report && !r.is_default && empty_match)
      out.push_back(at + "matches every change; make it a default rule [CDR-L010]");
    if (report && !titles.insert(r.title).second)
      out.push_back(at + "title \"" + escape_for_terminal(r.title) +
                    "\" is used by another rule [CDR-L011]");
  }
  return out;
}

std::string format_rule_list(const RulePack& pack) {
  std::vector<const Rule*> rules;
  for (const Rule& r : pack.rules)
    rules.push_back(&r);
  std::sort(rules.begin(), rules.end(), [](const Rule* a, const Rule* b) { return a->id < b->id; });
  struct Row {
    std::string id, severity, kind, title, tags;
  };
  std::vector<Row> rows{{"ID", "SEVERITY", "KIND", "TITLE", "TAGS"}};
  int n_report = 0, n_default = 0, n_ignore = 0;
  for (const Rule* r : rules) {
    Row row;
    row.id = escape_for_terminal(r->id);
    row.severity = r->action == RuleAction::ignore ? "-" : std::string(to_string(r->severity));
    row.kind = r->action == RuleAction::ignore ? "ignore" : r->is_default ? "default" : "report";
    (r->action == RuleAction::ignore ? n_ignore : r->is_default ? n_default : n_report)++;
    row.title = escape_for_terminal(r->title);
    for (std::size_t i = 0; i < r->tags.size(); ++i)
      row.tags += (i ? "," : "") + escape_for_terminal(r->tags[i]);
    rows.push_back(std::move(row));
  }
  std::size_t w_id = 0, w_sev = 0, w_kind = 0, w_title = 0;
  for (const Row& row : rows) {
    w_id = std::max(w_id, row.id.size());
    w_sev = std::max(w_sev, row.severity.size());
    w_kind = std::max(w_kind, row.kind.size());
    w_title = std::max(w_title, row.title.size());
  }
  std::string out;
  for (const Row& row : rows) {
    std::string line = pad(row.id, w_id) + "  " + pad(row.severity, w_sev) + "  " +
                       pad(row.kind, w_kind) + "  " + pad(row.title, w_title) + "  " + row.tags;
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + "\n";
  }
  out += std::to_string(rules.size()) + " rules: " + std::to_string(n_report) + " report, " +
         std::to_string(n_default) + " default, " + std::to_string(n_ignore) + " ignore\n";
  return out;
}

} // namespace cdrift
