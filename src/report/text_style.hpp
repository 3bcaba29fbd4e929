// ANSI styling for the text renderers; a no-op unless colour was asked for.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/report/text.hpp"

#include <string>
#include <string_view>

namespace cdrift {

class Style {
public:
  explicit Style(ColorMode mode) : m_on(mode == ColorMode::always) {}

  std::string bold(std::string_view s) const { return wrap("1", s); }
  std::string warn(std::string_view s) const { return wrap("33", s); }
  std::string added(std::string_view s) const { return wrap("32", s); }
  std::string deleted(std::string_view s) const { return wrap("31", s); }
  std::string modified(std::string_view s) const { return wrap("33", s); }
  std::string severity(Severity level, std::string_view s) const {
    switch (level) {
    case Severity::critical:
      return wrap("1;35", s);
    case Severity::high:
      return wrap("1;31", s);
    case Severity::medium:
      return wrap("33", s);
    case Severity::low:
      return wrap("36", s);
    case Severity::info:
      return wrap("2", s);
    }
    return std::string(s);
  }

private:
  std::string wrap(std::string_view code, std::string_view s) const {
    if (!m_on) return std::string(s);
    return "\x1b[" + std::string(code) + "m" + std::string(s) + "\x1b[0m";
  }
  bool m_on;
};

} // namespace cdrift
