// Shared between the rule engine's source files; not part of the public API.
#pragma once

#include "cdrift/classify/rules.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdrift::rule_detail {

// Where a load error happened: "rules/x.json: rule CDR-X-001: field "match.paths[2]"".
struct ErrorSite {
  std::string file;
  std::string rule; // id, or "#3" before the id is known; empty for file-level errors
};

Error load_error(const ErrorSite& site, std::string_view field, std::string_view message,
                 std::string_view code);

// Parses a rule's "examples" object into `out`.
Status parse_examples(const nlohmann::json& j, const ErrorSite& site,
                      std::vector<RuleExample>& out);

// The score range of a severity (critical 9.0-10.0 ... info 0.0), as SARIF's
// security-severity expects.
std::pair<double, double> score_band(Severity s);

// Octal mode strings as rules and examples write them ("0755", "4755").
bool parse_mode_string(std::string_view s, std::uint32_t& out);

// Syntax errors that make a glob meaningless (empty, unterminated class, ...); "" if fine.
std::string glob_syntax_error(std::string_view pattern);
// Reasons a well-formed glob can never match a clean absolute path; "" if it can.
std::string glob_never_matches(std::string_view pattern);

// ModeBit set: special bits `after` has that `before` had not (before may be absent).
std::uint8_t derive_mode_added(const Entry* before, const Entry* after);

// Names of accounts in a passwd/group/shadow style file; uid0 only with uid field "0...".
std::vector<std::string> account_names(std::string_view content, bool uid0_only);

// Paths of the image's entrypoint/cmd program (resolved via PATH and symlinks).
std::vector<std::string> entrypoint_paths(const Manifest& image);

// Binary search in a manifest sorted by path bytes (independent of Manifest::find).
const Entry* find_entry(const Manifest& m, std::string_view path);

constexpr std::string_view default_search_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

} // namespace cdrift::rule_detail
