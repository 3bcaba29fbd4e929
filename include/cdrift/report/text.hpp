// The human report of an audit: grouped by severity, every input string escaped.
#pragma once

#include "cdrift/classify/finding.hpp"

#include <string>

namespace cdrift {

enum class ColorMode { never, always }; // the CLI resolves auto / NO_COLOR / isatty
enum class Verbosity { normal, quiet };
enum class TouchedMode { hide, show };

struct TextOptions {
  ColorMode color = ColorMode::never;
  Verbosity verbosity = Verbosity::normal;
  TouchedMode touched = TouchedMode::hide;
  Severity min_severity = Severity::info; // hides lower findings; the summary still counts them
};

std::string render_text(const AuditReport& report, const TextOptions& options);

// "12 findings: 2 critical, 3 high, 4 medium, 2 low, 1 info · 4 ignored · 1 suppressed"
// (no trailing newline).
std::string render_summary_line(const AuditReport& report);

} // namespace cdrift
