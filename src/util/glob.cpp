// Globs match path components, so '*' can never swallow a '/' and a rule for
// "/etc/*" cannot be satisfied by "/etc/cron.d/job". '*' does match a leading dot:
// an attacker must not hide a file from a rule by naming it ".x".
#include "cdrift/util/glob.hpp"

#include <cstddef>

namespace cdrift {
namespace {

// The component of `s` starting at or after `pos` (leading '/' skipped; empty
// components such as in "//" are skipped too). False at the end of `s`.
bool next_component(std::string_view s, std::size_t pos, std::string_view& comp,
                    std::size_t& next) {
  while (pos < s.size() && s[pos] == '/')
    ++pos;
  if (pos >= s.size()) return false;
  std::size_t end = s.find('/', pos);
  if (end == std::string_view::npos) end = s.size();
  comp = s.substr(pos, end - pos);
  next = end;
  return true;
}

std::string_view last_component(std::string_view s) {
  while (!s.empty() && s.back() == '/')
    s.remove_suffix(1);
  std::size_t slash = s.rfind('/');
  return slash == std::string_view::npos ? s : s.substr(slash + 1);
}

// Matches a bracket expression starting at pat[pi] == '['. On success sets `next`
// past the closing ']'. A '[' with no closing ']' is a literal '['.
bool match_class(std::string_view pat, std::size_t pi, char c, bool& matched, std::size_t& next) {
  std::size_t i = pi + 1;
  bool negate = false;
  if (i < pat.size() && (pat[i] == '!' || pat[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  while (i < pat.size() && (pat[i] != ']' || first)) {
    first = false;
    unsigned char lo = static_cast<unsigned char>(pat[i]);
    if (pat[i] == '\\' && i + 1 < pat.size()) {
      ++i;
      lo = static_cast<unsigned char>(pat[i]);
    }
    unsigned char hi = lo;
    if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      i += 2;
      hi = static_cast<unsigned char>(pat[i]);
      if (pat[i] == '\\' && i + 1 < pat.size()) {
        ++i;
        hi = static_cast<unsigned char>(pat[i]);
      }
    }
    unsigned char uc = static_cast<unsigned char>(c);
    if (uc >= lo && uc <= hi) found = true;
    ++i;
  }
  if (i >= pat.size()) return false; // unterminated: not a class
  matched = found != negate;
  next = i + 1;
  return true;
}

// One component against one component pattern: '*', '?', '[...]', '\x'.
// Greedy with single-star backtracking, which is exact for these operators.
bool match_component(std::string_view pat, std::string_view s) {
  std::size_t pi = 0, si = 0;
  std::size_t star_pi = std::string_view::npos, star_si = 0;
  while (si < s.size()) {
    if (pi < pat.size()) {
      char pc = pat[pi];
      if (pc == '*') {
        while (pi < pat.size() && pat[pi] == '*')
          ++pi;
        star_pi = pi;
        star_si = si;
        continue;
      }
      if (pc == '?') {
        ++pi;
        ++si;
        continue;
      }
      if (pc == '[') {
        bool matched = false;
        std::size_t next = 0;
        if (match_class(pat, pi, s[si], matched, next)) {
          if (matched) {
            pi = next;
            ++si;
            continue;
          }
        } else if (s[si] == '[') {
          ++pi;
          ++si;
          continue;
        }
      } else {
        if (pc == '\\' && pi + 1 < pat.size()) pc = pat[pi + 1];
        if (pc == s[si]) {
          pi += pat[pi] == '\\' && pi + 1 < pat.size() ? 2 : 1;
          ++si;
          continue;
        }
      }
    }
    if (star_pi == std::string_view::npos) return false;
    pi = star_pi;
    si = ++star_si;
  }
  while (pi < pat.size() && pat[pi] == '*')
    ++pi;
  return pi == pat.size();
}

bool has_wildcard(std::string_view p) {
  for (char c : p)
    if (c == '*' || c == '?' || c == '[' || c == '\\') return true;
  return false;
}

// Component sequences, with "**" playing the role '*' plays inside a component.
// Works on positions, without splitting, because rules match every change.
bool match_components(std::string_view pat, std::string_view path) {
  constexpr std::size_t none = std::string_view::npos;
  std::size_t pp = 0, sp = 0;
  std::size_t star_pp = none, star_sp = 0;
  std::string_view pc, sc;
  std::size_t pp_next = 0, sp_next = 0;
  while (next_component(path, sp, sc, sp_next)) {
    if (next_component(pat, pp, pc, pp_next)) {
      if (pc == "**") {
        pp = pp_next;
        star_pp = pp;
        star_sp = sp;
        continue;
      }
      if (match_component(pc, sc)) {
        pp = pp_next;
        sp = sp_next;
        continue;
      }
    }
    if (star_pp == none) return false;
    // Let the last "**" swallow one more component and retry from there.
    pp = star_pp;
    std::string_view skipped;
    next_component(path, star_sp, skipped, star_sp);
    sp = star_sp;
  }
  while (next_component(pat, pp, pc, pp_next)) {
    if (pc != "**") return false;
    pp = pp_next;
  }
  return true;
}

} // namespace

Glob::Glob(std::string pattern) : m_pattern(std::move(pattern)) {}

bool Glob::matches(std::string_view path) const {
  return glob_match(m_pattern, path);
}

bool glob_match(std::string_view pattern, std::string_view path) {
  if (!has_wildcard(pattern)) {
    // Fast path for literal patterns: compare component-wise to ignore slashes.
    auto trim = [](std::string_view s) {
      while (s.size() > 1 && s.back() == '/')
        s.remove_suffix(1);
      return s;
    };
    if (trim(pattern) == trim(path)) return true;
  }
  // Cheap necessary conditions first: a pattern's first and last components, unless
  // "**", must match the path's first and last components. This rejects almost every
  // rule glob without the full alignment.
  std::string_view pc, sc;
  std::size_t next = 0;
  if (next_component(pattern, 0, pc, next) && pc != "**") {
    if (!next_component(path, 0, sc, next) || !match_component(pc, sc)) return false;
  }
  std::string_view pl = last_component(pattern);
  if (!pl.empty() && pl != "**") {
    std::string_view sl = last_component(path);
    if (sl.empty() || !match_component(pl, sl)) return false;
  }
  return match_components(pattern, path);
}

} // namespace cdrift
