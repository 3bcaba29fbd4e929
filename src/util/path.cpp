#include "cdrift/util/path.hpp"

#include "cdrift/util/escape.hpp"

#include <vector>

namespace cdrift {

Result<std::string> clean_path(std::string_view raw) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i <= raw.size()) {
    std::size_t j = raw.find('/', i);
    if (j == std::string_view::npos) j = raw.size();
    std::string_view part = raw.substr(i, j - i);
    if (part.empty() || part == ".") {
      // skip: "//", "./", trailing "/"
    } else if (part == "..") {
      if (parts.empty())
        return fail(ErrorKind::input,
                    "entry \"" + escape_for_terminal(raw) + "\" escapes the root with '..'");
      parts.pop_back();
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  out.reserve(raw.size() + 1);
  for (auto p : parts) {
    out.push_back('/');
    out.append(p);
  }
  if (out.empty()) out = "/";
  return out;
}

std::string_view parent_path(std::string_view path) {
  if (path.size() <= 1) return {};
  auto pos = path.rfind('/');
  if (pos == 0) return path.substr(0, 1);
  return path.substr(0, pos);
}

std::string_view base_name(std::string_view path) {
  auto pos = path.rfind('/');
  return pos == std::string_view::npos ? path : path.substr(pos + 1);
}

bool path_within(std::string_view path, std::string_view dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  if (path.size() < dir.size() || path.substr(0, dir.size()) != dir) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

} // namespace cdrift
