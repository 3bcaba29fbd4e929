// The documents of `audit --all`: every audited container's report, then the
// containers that were skipped and why (docs/report.md, "audit --all").
#pragma once

#include "cdrift/pipeline/audit.hpp"
#include "cdrift/report/json.hpp"
#include "cdrift/report/text.hpp"

#include <string>

namespace cdrift {

// {"schema_version": "1", "reports": [report, ...], "skipped": [{container, reason}]}
// with each report exactly as `audit --format json` renders it, indented.
std::string render_all_json(const AuditAllOutcome& all, const JsonOptions& options);

// Each report's text, then a "skipped" section when any container was skipped.
std::string render_all_text(const AuditAllOutcome& all, const TextOptions& options);

} // namespace cdrift
