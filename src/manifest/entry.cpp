#include "cdrift/manifest/entry.hpp"

#include <array>
#include <cstdio>

namespace cdrift {

namespace {

template <typename E, std::size_t N>
std::optional<E> parse_named(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

constexpr std::array<std::string_view, 7> file_type_names = {
    "file", "dir", "symlink", "chardev", "blockdev", "fifo", "socket"};

constexpr std::array<std::string_view, 11> content_class_names = {
    "none",        "empty",       "elf_executable", "elf_shared", "elf_relocatable", "script",
    "private_key", "certificate", "archive",        "text",       "binary"};

} // namespace

std::string_view to_string(FileType t) {
  return file_type_names[static_cast<std::size_t>(t)];
}

std::optional<FileType> parse_file_type(std::string_view s) {
  return parse_named<FileType>(file_type_names, s);
}

std::string_view to_string(ContentClass c) {
  return content_class_names[static_cast<std::size_t>(c)];
}

std::optional<ContentClass> parse_content_class(std::string_view s) {
  return parse_named<ContentClass>(content_class_names, s);
}

std::string format_mode(std::uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}

} // namespace cdrift
