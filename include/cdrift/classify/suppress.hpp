// Baselines and the ignore file: accepted drift that should not fail a CI gate,
// yet stays listed in every report as suppressed.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/util/error.hpp"

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

struct Baseline {
  std::string source; // the file it was read from, named in suppression reasons
  std::set<std::string> fingerprints;
};

// ErrorKind::input (exit 3) when the file is unreadable or not a cdrift baseline.
Result<Baseline> load_baseline(const std::string& path);

// {"schema_version":"1","kind":"cdrift-baseline","findings":[...]} of every finding,
// suppressed ones included (re-baselining must not forget them); sorted, trailing newline.
std::string render_baseline(const AuditReport& report);

struct IgnoreEntry {
  std::string rule;      // rule id glob ("CDR-TMP-*"); empty: any rule
  std::string path_glob; // path glob ("/var/www/**"); empty: any path
  std::string reason;
  std::optional<std::string> expires; // YYYY-MM-DD; the entry stops suppressing on that day
  std::string source;                 // file it came from, for warnings
  std::size_t index = 0;              // position in that file's list
};

// ErrorKind::usage (exit 2) on bad entries (no reason, no rule and no path, a bad
// date, unknown keys), naming the file and the entry index.
Result<std::vector<IgnoreEntry>> load_ignore_file(const std::string& path);
// The same over text already read (tests, stdin).
Result<std::vector<IgnoreEntry>> parse_ignore_file(std::string_view text,
                                                   const std::string& source);

// Moves suppressed findings from report.findings into report.suppressed with the
// reason "baseline <file>" or "ignore <file>[i]: <reason>", and adds a warning for
// each expired ignore entry (which no longer suppresses). `today` is YYYY-MM-DD.
// Fingerprints are assigned first where missing.
void apply_suppressions(AuditReport& report, const Baseline* baseline,
                        const std::vector<IgnoreEntry>& ignore, std::string_view today);

// True for a real calendar date written as YYYY-MM-DD.
bool is_valid_date(std::string_view date);

} // namespace cdrift
