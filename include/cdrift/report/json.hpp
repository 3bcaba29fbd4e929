// The machine report of an audit (schema_version "1", docs/report.schema.json).
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/report/format.hpp"
#include "cdrift/report/text.hpp"

#include <optional>
#include <string>

namespace cdrift {

struct JsonOptions {
  // RFC 3339; only with --timestamp, so that reports are byte-identical by default.
  std::optional<std::string> timestamp;
  TouchedMode touched = TouchedMode::hide; // list mtime-only paths in "touched"
};

// Pretty-printed (2 spaces), trailing newline, deterministic.
std::string render_json(const AuditReport& report, const JsonOptions& options);

// The report's "image", "container" and "summary" objects and one "findings[]"
// element, for renderers that must say the same thing in another shape (JSON Lines).
OrderedJson report_image_json(const AuditReport& report);
OrderedJson report_container_json(const AuditReport& report);
OrderedJson report_summary_json(const AuditReport& report);
OrderedJson report_finding_json(const Finding& finding);

} // namespace cdrift
