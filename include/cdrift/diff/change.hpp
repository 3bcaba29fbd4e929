// The diff is plain data sorted by path; reporters decide how it looks.
#pragma once

#include "cdrift/manifest/entry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

enum class ChangeKind : std::uint8_t { added, modified, deleted, touched };

std::string_view to_string(ChangeKind k);
std::optional<ChangeKind> parse_change_kind(std::string_view s);

// The fields a `modified` change lists, in this canonical order.
enum class Field : std::uint8_t { type, content, size, mode, uid, gid, target, xattrs, device };

std::string_view to_string(Field f);
std::optional<Field> parse_field(std::string_view s);

// Special permission bits that a change turned on (mode_added).
enum ModeBit : std::uint8_t {
  bit_setuid = 1,
  bit_setgid = 2,
  bit_sticky = 4,
  bit_world_writable = 8, // o+w on anything but a symlink
  bit_executable = 16,    // any x bit on a regular file
};

struct Change {
  std::string path;
  ChangeKind kind = ChangeKind::modified;
  std::vector<Field> fields;         // modified: what changed, canonical order
  std::optional<Entry> before;       // image side (absent for added)
  std::optional<Entry> after;        // container side (absent for deleted)
  std::uint8_t mode_added = 0;       // ModeBit set: bits the container has that the image had not
  std::uint64_t subtree_entries = 0; // deleted directory: entries below it that went with it

  bool has(Field f) const;
  // The entry as the container has it, else as the image had it.
  const Entry& current() const { return after ? *after : *before; }
};

struct IgnoredPath {
  std::string path;
  std::string reason; // e.g. "runtime placeholder: docker /etc/hostname (rule CDR-IGN-...)"
};

struct DiffResult {
  std::vector<Change> changes; // added/modified/deleted, sorted by path bytes
  std::vector<Change> touched; // mtime-only changes, sorted by path bytes
};

} // namespace cdrift
