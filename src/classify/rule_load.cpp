// Loading rule packs: strict, because a typo in a rule file must not silently turn
// a detection off. Every error names the file, the rule and the field.
#include "cdrift/util/escape.hpp"
#include "cdrift/util/json.hpp"
#include "cdrift/util/sha256.hpp"
#include "classify/rule_internal.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace cdrift {

using nlohmann::json;
using rule_detail::ErrorSite;
using rule_detail::load_error;

namespace {

constexpr std::size_t rule_file_limit = 8u << 20;

// A rule id is what users type into --disable-rule and suppression files.
bool valid_rule_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || !(id[0] >= 'A' && id[0] <= 'Z')) return false;
  bool dash = false;
  char prev = 0;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && prev == '-')) return false;
    dash = dash || c == '-';
    prev = c;
  }
  return dash && prev != '-';
}

std::string quote(std::string_view s) {
  return "\"" + escape_for_terminal(s) + "\"";
}

// Reads typed fields of one JSON object and rejects keys it does not know.
class FieldReader {
public:
  FieldReader(const json& obj, const ErrorSite& site, std::string prefix)
      : m_obj(obj), m_site(site), m_prefix(std::move(prefix)) {}

  Status only(std::initializer_list<std::string_view> known) const {
    for (auto it = m_obj.begin(); it != m_obj.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) == known.end())
        return fail(load_error(m_site, m_prefix + it.key(), "unknown field", "CDR-R007"));
    }
    return {};
  }

  bool has(const char* key) const { return m_obj.contains(key); }
  std::string field(const std::string& key) const { return m_prefix + key; }

  Status string(const char* key, std::string& out, bool required) const {
    auto it = m_obj.find(key);
    if (it == m_obj.end()) {
      if (required)
        return fail(load_error(m_site, field(key), "missing required field", "CDR-R005"));
      return {};
    }
    if (!it->is_string())
      return fail(load_error(m_site, field(key), "expected a string", "CDR-R006"));
    out = it->get<std::string>();
    if (required && out.empty())
      return fail(load_error(m_site, field(key), "must not be empty", "CDR-R005"));
    return {};
  }

  Status boolean(const char* key, std::optional<bool>& out) const {
    auto it = m_obj.find(key);
    if (it == m_obj.end()) return {};
    if (!it->is_boolean())
      return fail(load_error(m_site, field(key), "expected true or false", "CDR-R006"));
    out = it->get<bool>();
    return {};
  }

  Status strings(const char* key, std::vector<std::string>& out) const {
    auto it = m_obj.find(key);
    if (it == m_obj.end()) return {};
    if (!it->is_array())
      return fail(load_error(m_site, field(key), "expected an array of strings", "CDR-R006"));
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& v = (*it)[i];
      if (!v.is_string())
        return fail(load_error(m_site, field(key) + "[" + std::to_string(i) + "]",
                               "expected a string", "CDR-R006"));
      out.push_back(v.get<std::string>());
    }
    return {};
  }

  // A list of enum names, each parsed by `parse`.
  template <typename T, typename Parse>
  Status enums(const char* key, const char* what, Parse parse, std::vector<T>& out) const {
    std::vector<std::string> names;
    CDRIFT_TRY(strings(key, names));
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::optional<T> v = parse(names[i]);
      if (!v)
        return fail(load_error(m_site, field(key) + "[" + std::to_string(i) + "]",
                               std::string("unknown ") + what + " " + quote(names[i]), "CDR-R004"));
      if (std::find(out.begin(), out.end(), *v) == out.end()) out.push_back(*v);
    }
    return {};
  }

  const json& obj() const { return m_obj; }

private:
  const json& m_obj;
  const ErrorSite& m_site;
  std::string m_prefix;
};

std::optional<std::uint8_t> parse_mode_bit(std::string_view s) {
  if (s == "setuid") return bit_setuid;
  if (s == "setgid") return bit_setgid;
  if (s == "sticky") return bit_sticky;
  if (s == "world_writable") return bit_world_writable;
  if (s == "executable") return bit_executable;
  return std::nullopt;
}

Status parse_globs(const FieldReader& r, const ErrorSite& site, const char* key,
                   std::vector<Glob>& out) {
  std::vector<std::string> patterns;
  CDRIFT_TRY(r.strings(key, patterns));
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    std::string why = rule_detail::glob_syntax_error(patterns[i]);
    if (!why.empty())
      return fail(load_error(site, r.field(key) + "[" + std::to_string(i) + "]",
                             "invalid glob " + quote(patterns[i]) + ": " + why, "CDR-R010"));
    out.emplace_back(patterns[i]);
  }
  return {};
}

Status parse_after(const json& j, const ErrorSite& site, AfterConstraint& out) {
  if (!j.is_object())
    return fail(load_error(site, "match.after", "expected an object", "CDR-R006"));
  FieldReader r(j, site, "match.after.");
  CDRIFT_TRY(r.only({"type", "size", "target", "empty"}));
  if (auto it = j.find("type"); it != j.end()) {
    if (!it->is_string())
      return fail(load_error(site, "match.after.type", "expected a string", "CDR-R006"));
    out.type = parse_file_type(it->get<std::string>());
    if (!out.type)
      return fail(load_error(site, "match.after.type",
                             "unknown type " + quote(it->get<std::string>()), "CDR-R004"));
  }
  if (auto it = j.find("size"); it != j.end()) {
    if (!it->is_number_unsigned())
      return fail(
          load_error(site, "match.after.size", "expected a non-negative integer", "CDR-R006"));
    out.size = it->get<std::uint64_t>();
  }
  if (auto it = j.find("target"); it != j.end()) {
    if (!it->is_string())
      return fail(load_error(site, "match.after.target", "expected a string", "CDR-R006"));
    out.target = it->get<std::string>();
    if (out.type && *out.type != FileType::symlink)
      return fail(
          load_error(site, "match.after.target", "a target needs type \"symlink\"", "CDR-R013"));
    out.type = FileType::symlink;
  }
  std::optional<bool> empty;
  CDRIFT_TRY(r.boolean("empty", empty));
  if (empty.value_or(false)) {
    if (out.type && *out.type != FileType::dir)
      return fail(
          load_error(site, "match.after.empty", "\"empty\" needs type \"dir\"", "CDR-R013"));
    out.type = FileType::dir;
    out.empty = true;
  }
  if (out.size && out.type && *out.type != FileType::file)
    return fail(load_error(site, "match.after.size", "a size needs type \"file\"", "CDR-R013"));
  return {};
}

Status parse_match(const json& j, const ErrorSite& site, RuleMatch& m) {
  if (!j.is_object()) return fail(load_error(site, "match", "expected an object", "CDR-R006"));
  FieldReader r(j, site, "match.");
  CDRIFT_TRY(r.only({"paths", "exclude_paths", "changes", "fields", "content_classes", "types",
                     "mode_added", "xattrs_added", "origins", "entrypoint", "checks", "after"}));
  CDRIFT_TRY(parse_globs(r, site, "paths", m.paths));
  CDRIFT_TRY(parse_globs(r, site, "exclude_paths", m.exclude_paths));
  CDRIFT_TRY(r.enums<ChangeKind>("changes", "change kind", parse_change_kind, m.changes));
  CDRIFT_TRY(r.enums<Field>("fields", "field", parse_field, m.fields));
  CDRIFT_TRY(r.enums<ContentClass>("content_classes", "content class", parse_content_class,
                                   m.content_classes));
  CDRIFT_TRY(r.enums<FileType>("types", "type", parse_file_type, m.types));
  std::vector<std::uint8_t> bits;
  CDRIFT_TRY(r.enums<std::uint8_t>("mode_added", "mode bit", parse_mode_bit, bits));
  for (std::uint8_t b : bits)
    m.mode_added |= b;
  CDRIFT_TRY(r.strings("xattrs_added", m.xattrs_added));
  CDRIFT_TRY(r.enums<OriginKind>("origins", "origin", parse_origin_kind, m.origins));
  CDRIFT_TRY(r.boolean("entrypoint", m.entrypoint));
  CDRIFT_TRY(r.enums<RuleCheck>("checks", "check", parse_rule_check, m.checks));
  if (auto it = j.find("after"); it != j.end()) {
    AfterConstraint a;
    CDRIFT_TRY(parse_after(*it, site, a));
    m.after = a;
  }
  for (std::size_t i = 0; i < m.xattrs_added.size(); ++i)
    if (m.xattrs_added[i].empty())
      return fail(load_error(site, "match.xattrs_added[" + std::to_string(i) + "]",
                             "must not be empty", "CDR-R005"));
  return {};
}

Result<Rule> parse_rule(const json& j, const std::string& file, std::size_t index) {
  ErrorSite site{file, "#" + std::to_string(index + 1)};
  if (!j.is_object()) return fail(load_error(site, "", "a rule must be a JSON object", "CDR-R003"));
  FieldReader r(j, site, "");
  Rule rule;
  rule.source_file = file;
  CDRIFT_TRY(r.string("id", rule.id, true));
  if (!valid_rule_id(rule.id))
    return fail(load_error(site, "id",
                           "invalid rule id " + quote(rule.id) +
                               " (expected upper-case words joined by '-', e.g. CDR-EXEC-001)",
                           "CDR-R009"));
  site.rule = rule.id;
  CDRIFT_TRY(
      r.only({"id", "title", "description", "severity", "action", "reason", "default", "score",
              "match", "tags", "remediation", "references", "examples", "precedence"}));
  CDRIFT_TRY(r.string("title", rule.title, true));
  CDRIFT_TRY(r.string("description", rule.description, false));

  std::string action = "report";
  CDRIFT_TRY(r.string("action", action, false));
  if (action == "report")
    rule.action = RuleAction::report;
  else if (action == "ignore")
    rule.action = RuleAction::ignore;
  else
    return fail(load_error(site, "action", "unknown action " + quote(action), "CDR-R004"));

  std::string severity;
  CDRIFT_TRY(r.string("severity", severity, rule.action == RuleAction::report));
  if (!severity.empty()) {
    auto s = parse_severity(severity);
    if (!s)
      return fail(load_error(site, "severity", "unknown severity " + quote(severity), "CDR-R004"));
    rule.severity = *s;
  } else {
    rule.severity = Severity::info;
  }

  std::string precedence;
  CDRIFT_TRY(r.string("precedence", precedence, false));
  if (precedence == "evidence")
    rule.evidence_precedence = true;
  else if (!precedence.empty())
    return fail(load_error(site, "precedence",
                           "unknown precedence " + quote(precedence) + " (expected \"evidence\")",
                           "CDR-R004"));

  CDRIFT_TRY(r.string("reason", rule.reason, false));
  std::optional<bool> is_default;
  CDRIFT_TRY(r.boolean("default", is_default));
  rule.is_default = is_default.value_or(false);
  if (rule.action == RuleAction::ignore) {
    if (rule.reason.empty())
      return fail(load_error(site, "reason", "an ignore rule needs a reason", "CDR-R005"));
    if (rule.is_default)
      return fail(
          load_error(site, "default", "an ignore rule cannot be a default rule", "CDR-R013"));
  } else if (!rule.reason.empty()) {
    return fail(load_error(site, "reason", "only ignore rules have a reason", "CDR-R013"));
  }

  if (auto it = j.find("score"); it != j.end()) {
    if (!it->is_number()) return fail(load_error(site, "score", "expected a number", "CDR-R006"));
    double v = it->get<double>();
    auto [lo, hi] = rule_detail::score_band(rule.severity);
    if (v < lo || v > hi) {
      std::ostringstream msg;
      msg << "score " << v << " is outside the " << to_string(rule.severity) << " band " << lo
          << "-" << hi;
      return fail(load_error(site, "score", msg.str(), "CDR-R011"));
    }
    rule.score = v;
  }

  auto m = j.find("match");
  if (m == j.end()) return fail(load_error(site, "match", "missing required field", "CDR-R005"));
  CDRIFT_TRY(parse_match(*m, site, rule.match));
  if (rule.action == RuleAction::ignore && rule.match.paths.empty())
    return fail(load_error(site, "match.paths", "an ignore rule must name its paths", "CDR-R013"));

  CDRIFT_TRY(r.strings("tags", rule.tags));
  CDRIFT_TRY(r.string("remediation", rule.remediation, false));
  CDRIFT_TRY(r.strings("references", rule.references));
  if (auto it = j.find("examples"); it != j.end())
    CDRIFT_TRY(rule_detail::parse_examples(*it, site, rule.examples));
  return rule;
}

struct LoadedFile {
  std::string path;
  std::string canonical;
  std::vector<Rule> rules;
};

Result<LoadedFile> load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(ErrorKind::rules, escape_for_terminal(path) + ": cannot read rule file [CDR-R001]");
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > rule_file_limit)
      return fail(ErrorKind::rules,
                  escape_for_terminal(path) + ": rule file larger than 8 MiB [CDR-R001]");
  }
  if (in.bad())
    return fail(ErrorKind::rules, escape_for_terminal(path) + ": read error [CDR-R001]");

  // The bounded parser: a rule file nested deeper than any real one is refused
  // before recursion could exhaust the stack.
  auto parsed = parse_json_bounded(text, JsonComments::allow);
  if (!parsed) {
    const JsonParseFailure& f = parsed.error();
    if (f.what == JsonParseFailure::What::other)
      // Numbers beyond double range and the like: a syntax problem to the user.
      return fail(ErrorKind::rules, escape_for_terminal(path) + ": JSON error: " +
                                        escape_for_terminal(f.detail) + " [CDR-R002]");
    return fail(ErrorKind::rules,
                escape_for_terminal(path) + ":" + describe_offset(text, f.offset) + ": " +
                    (f.what == JsonParseFailure::What::too_deep ? "" : "JSON syntax error: ") +
                    escape_for_terminal(f.detail) + " [CDR-R002]");
  }
  json doc = std::move(*parsed);

  ErrorSite file_site{path, ""};
  if (!doc.is_object())
    return fail(load_error(file_site, "", "a rule file must be a JSON object {\"rules\": [...]}",
                           "CDR-R003"));
  FieldReader top(doc, file_site, "");
  CDRIFT_TRY(top.only({"pack", "description", "rules"}));
  std::string ignored;
  CDRIFT_TRY(top.string("pack", ignored, false));
  CDRIFT_TRY(top.string("description", ignored, false));
  auto rules = doc.find("rules");
  if (rules == doc.end())
    return fail(load_error(file_site, "rules", "missing required field", "CDR-R005"));
  if (!rules->is_array())
    return fail(load_error(file_site, "rules", "expected an array of rules", "CDR-R003"));

  LoadedFile out;
  out.path = path;
  out.canonical = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  for (std::size_t i = 0; i < rules->size(); ++i) {
    auto rule = parse_rule((*rules)[i], path, i);
    if (!rule) return fail(std::move(rule).error());
    out.rules.push_back(std::move(*rule));
  }
  return out;
}

// The files of one --rules argument: a file, or a directory's *.json sorted by name.
Result<std::vector<std::string>> files_of(const std::string& arg) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(arg, ec);
  if (ec || !fs::exists(status))
    return fail(ErrorKind::rules,
                escape_for_terminal(arg) + ": no such rule file or directory [CDR-R001]");
  if (!fs::is_directory(status)) return std::vector<std::string>{arg};
  std::vector<std::string> names;
  for (fs::directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() > 5 && name.ends_with(".json") && name[0] != '.' && it->is_regular_file(ec))
      names.push_back(name);
  }
  if (ec)
    return fail(ErrorKind::rules, escape_for_terminal(arg) +
                                      ": cannot list directory: " + ec.message() + " [CDR-R001]");
  if (names.empty())
    return fail(ErrorKind::rules,
                escape_for_terminal(arg) + ": no rule files (*.json) in directory [CDR-R001]");
  std::sort(names.begin(), names.end());
  std::string dir = arg;
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  std::vector<std::string> files;
  for (auto& n : names)
    files.push_back(dir == "/" ? "/" + n : dir + "/" + n);
  return files;
}

} // namespace

namespace rule_detail {

std::pair<double, double> score_band(Severity s) {
  switch (s) {
  case Severity::critical:
    return {9.0, 10.0};
  case Severity::high:
    return {7.0, 8.9};
  case Severity::medium:
    return {4.0, 6.9};
  case Severity::low:
    return {0.1, 3.9};
  case Severity::info:
    break;
  }
  return {0.0, 0.0};
}

Error load_error(const ErrorSite& site, std::string_view field, std::string_view message,
                 std::string_view code) {
  std::string s = escape_for_terminal(site.file) + ":";
  if (!site.rule.empty()) s += " rule " + escape_for_terminal(site.rule) + ":";
  if (!field.empty()) s += " field \"" + escape_for_terminal(field) + "\":";
  s += " ";
  s += message;
  s += " [";
  s += code;
  s += "]";
  return Error{ErrorKind::rules, std::move(s)};
}

} // namespace rule_detail

std::string_view to_string(RuleAction a) {
  return a == RuleAction::ignore ? "ignore" : "report";
}

std::string_view to_string(RuleCheck c) {
  switch (c) {
  case RuleCheck::new_uid0_account:
    return "new_uid0_account";
  case RuleCheck::new_account:
    return "new_account";
  case RuleCheck::package_file:
    return "package_file";
  case RuleCheck::package_file_setid:
    return "package_file_setid";
  case RuleCheck::package_operation:
    return "package_operation";
  case RuleCheck::owner_to_root:
    return "owner_to_root";
  }
  return "unknown";
}

std::optional<RuleCheck> parse_rule_check(std::string_view s) {
  if (s == "new_uid0_account") return RuleCheck::new_uid0_account;
  if (s == "new_account") return RuleCheck::new_account;
  if (s == "package_file") return RuleCheck::package_file;
  if (s == "package_file_setid") return RuleCheck::package_file_setid;
  if (s == "package_operation") return RuleCheck::package_operation;
  if (s == "owner_to_root") return RuleCheck::owner_to_root;
  return std::nullopt;
}

Result<RulePack> load_rule_pack(const std::vector<std::string>& dirs_or_files,
                                const std::vector<std::string>& disabled_ids) {
  RulePack pack;
  Sha256 hasher;
  std::map<std::string, std::size_t> index; // id -> position in pack.rules
  for (const std::string& arg : dirs_or_files) {
    auto files = files_of(arg);
    if (!files) return fail(std::move(files).error());
    std::map<std::string, std::string> seen_here; // id -> file, within this argument
    for (const std::string& path : *files) {
      auto loaded = load_file(path);
      if (!loaded) return fail(std::move(loaded).error());
      hasher.update(loaded->canonical);
      hasher.update("\n", 1);
      pack.sources.push_back(path);
      for (Rule& rule : loaded->rules) {
        auto [dup, inserted] = seen_here.emplace(rule.id, path);
        if (!inserted)
          return fail(load_error(
              ErrorSite{path, rule.id}, "id",
              "duplicate rule id (also in " + escape_for_terminal(dup->second) + ")", "CDR-R008"));
        if (auto it = index.find(rule.id); it != index.end()) {
          pack.rules[it->second] = std::move(rule); // a later pack overrides
        } else {
          index.emplace(rule.id, pack.rules.size());
          pack.rules.push_back(std::move(rule));
        }
      }
    }
  }
  for (const std::string& id : disabled_ids) {
    if (!index.count(id))
      return fail(ErrorKind::rules, "--disable-rule: no rule with id " + quote(id) +
                                        " in the loaded packs [CDR-R014]");
  }
  if (!disabled_ids.empty()) {
    std::set<std::string> off(disabled_ids.begin(), disabled_ids.end());
    std::erase_if(pack.rules, [&](const Rule& r) { return off.count(r.id) > 0; });
  }
  pack.sha256 = to_hex(hasher.finish());
  return pack;
}

std::string default_rules_dir() {
  if (const char* env = std::getenv("CDRIFT_RULES_DIR"); env && *env) return env;
  std::error_code ec;
  // An installed binary uses the rules installed beside it (<prefix>/bin/cdrift →
  // <prefix>/share/cdrift/rules), wherever the prefix was moved to.
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = exe.parent_path().parent_path() / "share" / "cdrift" / "rules";
    if (std::filesystem::is_directory(beside, ec)) return beside.string();
  }
#ifdef CDRIFT_SOURCE_RULES_DIR
  // Run from a build tree: the checkout's own rules.
  if (std::filesystem::is_directory(CDRIFT_SOURCE_RULES_DIR, ec)) return CDRIFT_SOURCE_RULES_DIR;
#endif
#ifdef CDRIFT_INSTALLED_RULES_DIR
  return CDRIFT_INSTALLED_RULES_DIR;
#else
  return "/usr/local/share/cdrift/rules";
#endif
}

} // namespace cdrift
