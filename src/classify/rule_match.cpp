// Matching changes against rules and choosing the primary rule of a finding.
#include "classify/rule_internal.hpp"

#include <algorithm>
#include <cmath>

namespace cdrift {

using namespace rule_detail;

namespace {

enum class EmptyCheck : std::uint8_t { verify, assume };

template <typename T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Length of the longest of `globs` that matches `path`; -1 when none does.
int best_glob(const std::vector<Glob>& globs, std::string_view path) {
  int best = -1;
  for (const Glob& g : globs)
    if (static_cast<int>(g.pattern().size()) > best && g.matches(path))
      best = static_cast<int>(g.pattern().size());
  return best;
}

bool xattr_added(const Change& c, const std::string& name) {
  if (!c.after) return false;
  for (const Xattr& x : c.after->xattrs) {
    if (x.name != name) continue;
    if (!c.before) return true;
    for (const Xattr& y : c.before->xattrs)
      if (y.name == name) return y.value != x.value;
    return true;
  }
  return false;
}

// Content of a captured file, or nullptr.
const std::string* captured(const Manifest* m, const std::string& path) {
  if (!m) return nullptr;
  auto it = m->captures.files.find(path);
  return it == m->captures.files.end() ? nullptr : &it->second;
}

bool check_holds(RuleCheck check, const Change& c, const MatchContext& ctx) {
  switch (check) {
  case RuleCheck::package_file:
    return ctx.package && ctx.package->event;
  case RuleCheck::package_file_setid:
    return ctx.package && ctx.package->event && c.after && (c.after->mode & 06000) != 0;
  case RuleCheck::package_operation:
    return ctx.package && (ctx.package->database || ctx.package->bookkeeping);
  case RuleCheck::owner_to_root:
    return c.before && c.after && c.before->uid != 0 && c.after->uid == 0;
  case RuleCheck::new_uid0_account:
  case RuleCheck::new_account:
    break;
  }
  if (!c.after || c.after->type != FileType::file) return false;
  const std::string* now = captured(ctx.container, c.path);
  if (!now) return false;
  // Without the image's copy we can only compare when the image had no such file.
  const std::string* was = captured(ctx.image, c.path);
  if (!was && c.before && c.before->type == FileType::file) return false;
  bool uid0 = check == RuleCheck::new_uid0_account;
  std::vector<std::string> old_names = was ? account_names(*was, uid0) : std::vector<std::string>{};
  for (const std::string& name : account_names(*now, uid0))
    if (!contains(old_names, name)) return true;
  return false;
}

bool is_entrypoint(const Change& c, const MatchContext& ctx) {
  if (!ctx.image) return false;
  return contains(entrypoint_paths(*ctx.image), c.path);
}

bool after_holds(const AfterConstraint& a, const Change& c, const MatchContext& ctx,
                 const RulePack* pack, EmptyCheck empty);

// Every container entry below `dir` is one the image has too, or a placeholder that
// an ignore rule accepts by itself. Descendants of a nested placeholder directory
// are visited by this same loop, so nested "empty" constraints may be assumed.
bool dir_is_empty_placeholder(const std::string& dir, const MatchContext& ctx,
                              const RulePack* pack) {
  if (!ctx.container) return false;
  const auto& entries = ctx.container->entries;
  std::string prefix = dir == "/" ? "/" : dir + "/";
  auto it = std::lower_bound(entries.begin(), entries.end(), prefix,
                             [](const Entry& e, const std::string& p) { return e.path < p; });
  for (; it != entries.end() && it->path.starts_with(prefix); ++it) {
    if (it->path == dir) continue;
    if (ctx.image && find_entry(*ctx.image, it->path)) continue;
    if (!pack) return false;
    Change child;
    child.path = it->path;
    child.kind = ChangeKind::added;
    child.after = *it;
    child.mode_added = derive_mode_added(nullptr, &*it);
    bool accepted = false;
    for (const Rule& r : pack->rules) {
      if (r.action != RuleAction::ignore) continue;
      const RuleMatch& m = r.match;
      if (!m.changes.empty() && !contains(m.changes, ChangeKind::added)) continue;
      if (best_glob(m.paths, child.path) < 0 || best_glob(m.exclude_paths, child.path) >= 0)
        continue;
      if (m.after && !after_holds(*m.after, child, ctx, pack, EmptyCheck::assume)) continue;
      accepted = true;
      break;
    }
    if (!accepted) return false;
  }
  return true;
}

bool after_holds(const AfterConstraint& a, const Change& c, const MatchContext& ctx,
                 const RulePack* pack, EmptyCheck empty) {
  if (!c.after) return false;
  const Entry& e = *c.after;
  if (a.type && e.type != *a.type) return false;
  if (a.size && (e.type != FileType::file || e.size != *a.size)) return false;
  if (a.target && e.target != *a.target) return false;
  if (a.empty && empty == EmptyCheck::verify && !dir_is_empty_placeholder(c.path, ctx, pack))
    return false;
  return true;
}

// -1: no match; otherwise the specificity (longest matching path glob, 0 if none).
int match_score(const Rule& rule, const Change& c, const MatchContext& ctx, const RulePack* pack) {
  const RuleMatch& m = rule.match;
  if (!m.changes.empty() && !contains(m.changes, c.kind)) return -1;
  if (m.changes.empty() && c.kind == ChangeKind::touched)
    return -1; // mtime alone is not drift unless a rule asks for it
  const Entry& cur = c.current();
  if (!m.types.empty() && !contains(m.types, cur.type)) return -1;
  if (!m.content_classes.empty() && !contains(m.content_classes, cur.content_class)) return -1;
  if (!m.fields.empty() && c.kind == ChangeKind::modified) {
    bool any = std::any_of(m.fields.begin(), m.fields.end(), [&](Field f) { return c.has(f); });
    if (!any) return -1;
  }
  if (m.mode_added) {
    std::uint8_t added = c.mode_added | derive_mode_added(c.before ? &*c.before : nullptr,
                                                          c.after ? &*c.after : nullptr);
    if (!(added & m.mode_added)) return -1;
  }
  int specificity = 0;
  if (!m.paths.empty()) {
    specificity = best_glob(m.paths, c.path);
    if (specificity < 0) return -1;
  }
  if (!m.exclude_paths.empty() && best_glob(m.exclude_paths, c.path) >= 0) return -1;
  if (!m.xattrs_added.empty() &&
      std::none_of(m.xattrs_added.begin(), m.xattrs_added.end(),
                   [&](const std::string& n) { return xattr_added(c, n); }))
    return -1;
  if (!m.origins.empty() && !(ctx.origin && contains(m.origins, ctx.origin->kind))) return -1;
  if (m.entrypoint && is_entrypoint(c, ctx) != *m.entrypoint) return -1;
  if (!m.checks.empty() && std::none_of(m.checks.begin(), m.checks.end(),
                                        [&](RuleCheck k) { return check_holds(k, c, ctx); }))
    return -1;
  if (m.after && !after_holds(*m.after, c, ctx, pack, EmptyCheck::verify)) return -1;
  return specificity;
}

struct Candidate {
  const Rule* rule;
  int specificity;
};

// Rules that rate by evidenced origin first; then most severe; then the more specific
// glob; then id, for determinism.
bool primary_before(const Candidate& a, const Candidate& b) {
  if (a.rule->evidence_precedence != b.rule->evidence_precedence)
    return a.rule->evidence_precedence;
  if (a.rule->severity != b.rule->severity) return a.rule->severity > b.rule->severity;
  if (a.rule->is_default != b.rule->is_default) return !a.rule->is_default;
  if (a.specificity != b.specificity) return a.specificity > b.specificity;
  return a.rule->id < b.rule->id;
}

// Default rules are about location: the most specific glob decides.
bool default_before(const Candidate& a, const Candidate& b) {
  if (a.specificity != b.specificity) return a.specificity > b.specificity;
  if (a.rule->severity != b.rule->severity) return a.rule->severity > b.rule->severity;
  return a.rule->id < b.rule->id;
}

// A rule's own score, else the middle of its band (the lower quarter for default rules,
// which only say where a change is); each further matching rule adds corroboration.
double score_of(const Rule& primary, std::size_t others) {
  auto [lo, hi] = rule_detail::score_band(primary.severity);
  double base = primary.score        ? *primary.score
                : primary.is_default ? lo + (hi - lo) / 4.0
                                     : (lo + hi) / 2.0;
  double s = std::min(hi, base + 0.2 * static_cast<double>(others));
  return std::round(s * 10.0) / 10.0;
}

const Rule& fallback_rule() {
  static const Rule rule = [] {
    Rule r;
    r.id = "CDR-DEFAULT";
    r.title = "Change not covered by any rule";
    r.description = "No rule of the loaded packs, not even a default rule, matched this change.";
    r.severity = Severity::low;
    r.is_default = true;
    r.remediation = "Review the change; add a rule for it if it matters.";
    return r;
  }();
  return rule;
}

} // namespace

bool rule_matches(const Rule& rule, const Change& change, const MatchContext& ctx,
                  const RulePack* pack) {
  return match_score(rule, change, ctx, pack) >= 0;
}

std::vector<const Rule*> matching_rules(const RulePack& pack, const Change& change,
                                        const MatchContext& ctx) {
  std::vector<Candidate> found;
  for (const Rule& r : pack.rules) {
    if (r.action != RuleAction::report || r.is_default) continue;
    int s = match_score(r, change, ctx, &pack);
    if (s >= 0) found.push_back({&r, s});
  }
  std::sort(found.begin(), found.end(), primary_before);
  std::vector<const Rule*> out;
  for (auto& c : found)
    out.push_back(c.rule);
  return out;
}

const Rule* matching_default_rule(const RulePack& pack, const Change& change,
                                  const MatchContext& ctx) {
  std::optional<Candidate> best;
  for (const Rule& r : pack.rules) {
    if (r.action != RuleAction::report || !r.is_default) continue;
    int s = match_score(r, change, ctx, &pack);
    if (s >= 0 && (!best || default_before({&r, s}, *best))) best = Candidate{&r, s};
  }
  return best ? best->rule : nullptr;
}

const Rule* matching_ignore_rule(const RulePack& pack, const Change& change,
                                 const MatchContext& ctx) {
  std::optional<Candidate> best;
  for (const Rule& r : pack.rules) {
    if (r.action != RuleAction::ignore) continue;
    int s = match_score(r, change, ctx, &pack);
    if (s >= 0 &&
        (!best || s > best->specificity || (s == best->specificity && r.id < best->rule->id)))
      best = Candidate{&r, s};
  }
  return best ? best->rule : nullptr;
}

RuleRef rule_ref(const Rule& rule) {
  return RuleRef{rule.id, rule.title, rule.severity, rule.tags};
}

void apply_rules(const RulePack& pack, const Change& change, const MatchContext& ctx,
                 Finding& out) {
  std::vector<const Rule*> rules = matching_rules(pack, change, ctx);
  const Rule* primary = nullptr;
  if (!rules.empty())
    primary = rules.front();
  else
    primary = matching_default_rule(pack, change, ctx);
  if (!primary) primary = &fallback_rule();
  out.rule = rule_ref(*primary);
  out.other_rules.clear();
  for (std::size_t i = 1; i < rules.size(); ++i)
    out.other_rules.push_back(rule_ref(*rules[i]));
  out.severity = primary->severity;
  out.score = score_of(*primary, out.other_rules.size());
  out.remediation = primary->remediation;
}

} // namespace cdrift
