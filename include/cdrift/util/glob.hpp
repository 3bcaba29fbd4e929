// Path globs as users write them in rules and --ignore: '*' and '?' stay within one
// component, '**' spans any number of components (including none), '[...]' classes.
#pragma once

#include <string>
#include <string_view>

namespace cdrift {

class Glob {
public:
  explicit Glob(std::string pattern);
  bool matches(std::string_view path) const;
  const std::string& pattern() const { return m_pattern; }

private:
  std::string m_pattern;
};

bool glob_match(std::string_view pattern, std::string_view path);

} // namespace cdrift
