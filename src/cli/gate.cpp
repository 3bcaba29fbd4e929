#include "cli/gate.hpp"

namespace cdrift {

FailOn fail_on(Severity at) {
  switch (at) {
  case Severity::info:
    return FailOn::info;
  case Severity::low:
    return FailOn::low;
  case Severity::medium:
    return FailOn::medium;
  case Severity::high:
    return FailOn::high;
  case Severity::critical:
    return FailOn::critical;
  }
  return FailOn::info;
}

std::optional<FailOn> parse_fail_on(std::string_view text) {
  if (text == "never") return FailOn::never;
  if (auto s = parse_severity(text)) return fail_on(*s);
  return std::nullopt;
}

ExitStatus gate(const AuditReport& report, FailOn threshold) {
  if (threshold == FailOn::never) return ExitStatus::success;
  // Suppressed and ignored findings live in their own lists: accepted drift.
  for (const auto& f : report.findings)
    if (fail_on(f.severity) >= threshold) return ExitStatus::drift;
  return ExitStatus::success;
}

ExitStatus gate(std::span<const AuditReport> reports, FailOn threshold) {
  for (const auto& r : reports)
    if (gate(r, threshold) == ExitStatus::drift) return ExitStatus::drift;
  return ExitStatus::success;
}

} // namespace cdrift
