// Rules are data (rules/*.json, see docs/rules.md): each says which changes it
// rates and how severely, or which changes are no drift at all (ignore rules such as
// the runtime's placeholders). This module loads packs, matches changes against
// them and picks one primary rule per finding.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/classify/package_events.hpp"
#include "cdrift/diff/change.hpp"
#include "cdrift/manifest/manifest.hpp"
#include "cdrift/util/error.hpp"
#include "cdrift/util/glob.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

enum class RuleAction : std::uint8_t { report, ignore };

// Content predicates that need code, named by a rule's match.checks.
enum class RuleCheck : std::uint8_t {
  new_uid0_account, // the container's account file has a uid-0 name the image's has not
  new_account,      // the container's account file has a name the image's has not
  // The package databases show the path's package installed, removed or upgraded, and
  // that package lists (or listed) the path: the package manager's own work.
  package_file,
  package_file_setid, // package_file, and the file is setuid or setgid now
  // The path is the package database or a package manager's bookkeeping, and the set
  // of installed packages changed.
  package_operation,
  owner_to_root, // the owner changed from another uid to root
};

std::string_view to_string(RuleAction a);
std::string_view to_string(RuleCheck c);
std::optional<RuleCheck> parse_rule_check(std::string_view s);

// What the container side must look like (used by ignore rules to recognise the
// runtime's placeholders; a placeholder with content is drift).
struct AfterConstraint {
  std::optional<FileType> type;
  std::optional<std::uint64_t> size;
  std::optional<std::string> target; // symlink target, exact
  bool empty = false; // directory: nothing below it that is new and not itself a placeholder
};

// Every present condition must hold (AND); a list holds when any element does (OR).
struct RuleMatch {
  std::vector<Glob> paths; // empty: any path
  std::vector<Glob> exclude_paths;
  std::vector<ChangeKind> changes;
  std::vector<Field> fields;                 // constrains `modified` changes only
  std::vector<ContentClass> content_classes; // of Change::current()
  std::vector<FileType> types;               // of Change::current()
  std::uint8_t mode_added = 0;               // ModeBit mask; any bit
  std::vector<std::string> xattrs_added;     // xattr names
  std::vector<OriginKind> origins;
  std::optional<bool> entrypoint;
  std::vector<RuleCheck> checks;
  std::optional<AfterConstraint> after;
};

struct MatchContext {
  const Manifest* image = nullptr;
  const Manifest* container = nullptr;
  const Origin* origin = nullptr;
  const PackageFacts* package = nullptr; // what the package databases say about the change
};

// One example change from a rule file, with the little world it needs.
struct RuleExample {
  bool expect_match = true;
  Change change;
  Manifest image;
  Manifest container;
  std::optional<Origin> origin;
  std::optional<PackageFacts> package;
};

struct Rule {
  std::string id;
  std::string title;
  std::string description;
  Severity severity = Severity::medium;
  RuleAction action = RuleAction::report;
  std::string reason; // ignore rules: why the path is no drift
  bool is_default = false;
  // "precedence": "evidence": when such a rule matches, it is the primary rule even over
  // more severe location rules. For rules whose checks establish how a change got
  // there (a package's own files), so that severity follows strongly evidenced origin.
  bool evidence_precedence = false;
  std::optional<double> score; // within the severity's band; else the band's default
  RuleMatch match;
  std::vector<std::string> tags;
  std::string remediation;
  std::vector<std::string> references;
  std::vector<RuleExample> examples;
  std::string source_file;
};

struct RulePack {
  std::vector<Rule> rules;
  std::vector<std::string> sources; // files, in load order
  std::string sha256;               // over the canonical content of all loaded files, in load order
};

// Loads every *.json in each directory (sorted by name) or each named file, in order.
// Duplicate ids within one directory are an error; a later entry overrides an earlier
// rule with the same id. Unknown ids in `disabled_ids` are an error. Errors are
// ErrorKind::rules, one line with a stable code ("... [CDR-R004]").
Result<RulePack> load_rule_pack(const std::vector<std::string>& dirs_or_files,
                                const std::vector<std::string>& disabled_ids);

// $CDRIFT_RULES_DIR, else the source tree's rules/ when it exists, else the installed one.
std::string default_rules_dir();

// Whether one rule's conditions hold (ignoring its action and is_default). The pack is
// needed by `after.empty`, which accepts placeholders below a placeholder directory.
bool rule_matches(const Rule& rule, const Change& change, const MatchContext& ctx,
                  const RulePack* pack = nullptr);

// Matching non-default report rules, primary first (see apply_rules for the order).
std::vector<const Rule*> matching_rules(const RulePack& pack, const Change& change,
                                        const MatchContext& ctx);
// The location-based fallback: the most specific matching default rule.
const Rule* matching_default_rule(const RulePack& pack, const Change& change,
                                  const MatchContext& ctx);
const Rule* matching_ignore_rule(const RulePack& pack, const Change& change,
                                 const MatchContext& ctx);

// Primary = most severe match (ties: more specific path glob, then id), among the
// matching "precedence": "evidence" rules when there are any; default
// rules only when nothing else matches. Fills rule, other_rules, severity, score and
// remediation of `out`.
void apply_rules(const RulePack& pack, const Change& change, const MatchContext& ctx, Finding& out);

RuleRef rule_ref(const Rule& rule);

struct RuleTestResult {
  int rules = 0;
  int examples = 0;
  int failures = 0;
  std::vector<std::string> messages;
};

// `cdrift rules test`: every example must (not) match its rule.
RuleTestResult test_rule_examples(const RulePack& pack);

// `cdrift rules lint`: findings beyond what loading rejects; "file: rule ID: ... [CDR-Lnnn]".
std::vector<std::string> lint_rule_pack(const RulePack& pack);

// `cdrift rules list`: id, severity, title, tags; sorted by id; terminal-safe.
std::string format_rule_list(const RulePack& pack);

} // namespace cdrift
