// SARIF 2.1.0 for code-scanning uploads (GitHub, GitLab, Azure DevOps).
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/report/json.hpp"

#include <cstddef>
#include <string>

namespace cdrift {

struct RulePack;

// GitHub rejects runs with more results than this; the most severe are kept.
constexpr std::size_t sarif_result_limit = 25000;

// `rules` supplies full rule documentation (description, remediation, references);
// it may be null, then the rule references carried by the findings are used.
std::string render_sarif(const AuditReport& report, const RulePack* rules,
                         const JsonOptions& options);

// Exposed for tests: the limit can be lowered to exercise truncation cheaply.
std::string render_sarif(const AuditReport& report, const RulePack* rules,
                         const JsonOptions& options, std::size_t result_limit);

} // namespace cdrift
