#include "cdrift/classify/finding.hpp"

#include <array>

namespace cdrift {

namespace {
constexpr std::array<std::string_view, 5> severity_names = {"info", "low", "medium", "high",
                                                            "critical"};
constexpr std::array<std::string_view, 5> origin_names = {
    "copied-in", "shell-edit", "package-manager", "runtime-write", "unknown"};
constexpr std::array<std::string_view, 3> confidence_names = {"low", "medium", "high"};
} // namespace

std::string_view to_string(Severity s) {
  return severity_names[static_cast<std::size_t>(s)];
}

std::optional<Severity> parse_severity(std::string_view s) {
  for (std::size_t i = 0; i < severity_names.size(); ++i)
    if (severity_names[i] == s) return static_cast<Severity>(i);
  return std::nullopt;
}

std::string_view to_string(OriginKind o) {
  return origin_names[static_cast<std::size_t>(o)];
}

std::optional<OriginKind> parse_origin_kind(std::string_view s) {
  for (std::size_t i = 0; i < origin_names.size(); ++i)
    if (origin_names[i] == s) return static_cast<OriginKind>(i);
  return std::nullopt;
}

std::string_view to_string(Confidence c) {
  return confidence_names[static_cast<std::size_t>(c)];
}

} // namespace cdrift
