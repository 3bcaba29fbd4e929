// --fail-on: the exit status an audit's findings give. One place, so that a
// single audit and `audit --all` cannot disagree about what fails a CI job.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/util/exit_status.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace cdrift {

// The --fail-on threshold: a severity, or never.
enum class FailOn : std::uint8_t { info, low, medium, high, critical, never };

FailOn fail_on(Severity at);
// "critical" ... "info", or "never"; nullopt for anything else.
std::optional<FailOn> parse_fail_on(std::string_view text);

// drift when an unsuppressed finding is at or above the threshold, else success.
ExitStatus gate(const AuditReport& report, FailOn threshold);
ExitStatus gate(std::span<const AuditReport> reports, FailOn threshold);

} // namespace cdrift
