#include "cdrift/manifest/capture.hpp"

#include "cdrift/util/path.hpp"

#include <array>

namespace cdrift {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Not /etc/shadow or /etc/gshadow: captures travel in saved manifests, and password
// hashes must never leave the container that way.
constexpr std::array<std::string_view, 9> exact_paths = {
    "/etc/passwd",
    "/etc/group",
    "/etc/os-release",
    "/usr/lib/os-release", // /etc/os-release is usually a symlink to it
    "/var/lib/dpkg/status",
    "/lib/apk/db/installed",
    "/usr/lib/apk/db/installed", // usr-merged Alpine
    "/etc/apk/world",
    "/var/lib/dpkg/diversions",
};

// Shell, REPL and editor histories: the traces an interactive session leaves behind.
// .viminfo records the files vim edited and the commands typed in it.
constexpr std::array<std::string_view, 13> history_names = {
    ".bash_history",      ".ash_history",    ".zsh_history",    ".zhistory",      ".sh_history",
    ".history",           "fish_history",    ".python_history", ".mysql_history", ".psql_history",
    ".node_repl_history", ".sqlite_history", ".viminfo",
};

} // namespace

bool wants_capture(std::string_view path) {
  for (auto p : exact_paths)
    if (path == p) return true;

  std::string_view dir = parent_path(path);
  std::string_view name = base_name(path);
  // Which package owns a path and the checksums it shipped (not the rpm database:
  // it is a binary sqlite/bdb file, and large).
  if (dir == "/var/lib/dpkg/info" && (ends_with(name, ".list") || ends_with(name, ".md5sums")))
    return true;
  // Distroless images have no status file and no .list files, only one status
  // paragraph and one .md5sums file per package here.
  if (dir == "/var/lib/dpkg/status.d") return true;

  for (auto h : history_names)
    if (name == h) return true;
  return false;
}

} // namespace cdrift
