#include "cdrift/diff/change.hpp"

#include <algorithm>
#include <array>

namespace cdrift {

namespace {
constexpr std::array<std::string_view, 4> change_kind_names = {"added", "modified", "deleted",
                                                               "touched"};
constexpr std::array<std::string_view, 9> field_names = {
    "type", "content", "size", "mode", "uid", "gid", "target", "xattrs", "device"};
} // namespace

std::string_view to_string(ChangeKind k) {
  return change_kind_names[static_cast<std::size_t>(k)];
}

std::optional<ChangeKind> parse_change_kind(std::string_view s) {
  for (std::size_t i = 0; i < change_kind_names.size(); ++i)
    if (change_kind_names[i] == s) return static_cast<ChangeKind>(i);
  return std::nullopt;
}

std::string_view to_string(Field f) {
  return field_names[static_cast<std::size_t>(f)];
}

std::optional<Field> parse_field(std::string_view s) {
  for (std::size_t i = 0; i < field_names.size(); ++i)
    if (field_names[i] == s) return static_cast<Field>(i);
  return std::nullopt;
}

bool Change::has(Field f) const {
  return std::find(fields.begin(), fields.end(), f) != fields.end();
}

} // namespace cdrift
