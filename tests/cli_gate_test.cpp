// --fail-on: the one function both `audit` and `audit --all` gate with.
#include "cli/gate.hpp"

#include <doctest/doctest.h>
#include <vector>

using namespace cdrift;

namespace {

AuditReport report_with(std::vector<Severity> severities) {
  AuditReport r;
  for (Severity s : severities) {
    Finding f;
    f.severity = s;
    r.findings.push_back(f);
  }
  return r;
}

} // namespace

TEST_CASE("parse_fail_on: the five levels and never") {
  CHECK(parse_fail_on("critical") == FailOn::critical);
  CHECK(parse_fail_on("high") == FailOn::high);
  CHECK(parse_fail_on("medium") == FailOn::medium);
  CHECK(parse_fail_on("low") == FailOn::low);
  CHECK(parse_fail_on("info") == FailOn::info);
  CHECK(parse_fail_on("never") == FailOn::never);
  CHECK_FALSE(parse_fail_on("sometimes").has_value());
  CHECK_FALSE(parse_fail_on("").has_value());
}

TEST_CASE("gate: drift at or above the threshold, never below") {
  const AuditReport medium = report_with({Severity::low, Severity::medium});
  CHECK(gate(medium, FailOn::critical) == ExitStatus::success);
  CHECK(gate(medium, FailOn::high) == ExitStatus::success);
  CHECK(gate(medium, FailOn::medium) == ExitStatus::drift); // at: fails
  CHECK(gate(medium, FailOn::low) == ExitStatus::drift);
  CHECK(gate(medium, FailOn::info) == ExitStatus::drift);
  CHECK(gate(medium, FailOn::never) == ExitStatus::success); // never
  CHECK(gate(report_with({}), FailOn::info) == ExitStatus::success);
}

TEST_CASE("gate: suppressed findings do not fail the gate") {
  AuditReport r;
  SuppressedFinding s;
  s.finding.severity = Severity::critical;
  r.suppressed.push_back(s);
  CHECK(gate(r, FailOn::info) == ExitStatus::success);
}

TEST_CASE("gate: many reports fail when any one does") {
  std::vector<AuditReport> reports{report_with({Severity::info}), report_with({}),
                                   report_with({Severity::high})};
  CHECK(gate(reports, FailOn::high) == ExitStatus::drift);
  CHECK(gate(reports, FailOn::critical) == ExitStatus::success);
  CHECK(gate(std::vector<AuditReport>{}, FailOn::info) == ExitStatus::success);
  reports.pop_back();
  CHECK(gate(reports, FailOn::low) == ExitStatus::success);
}
