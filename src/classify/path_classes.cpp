#include "classify/path_classes.hpp"

#include "cdrift/util/path.hpp"

#include <algorithm>

namespace cdrift {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

constexpr std::array<std::string_view, 6> placeholder_paths = {
    "/.dockerenv", "/run/.containerenv", "/etc/hostname",
    "/etc/hosts",  "/etc/resolv.conf",   "/dev/console"};

constexpr std::array<std::string_view, 12> system_dirs = {
    "/etc",    "/bin", "/sbin", "/lib",  "/lib32",        "/lib64",
    "/libx32", "/usr", "/boot", "/root", "/var/lib/dpkg", "/var/spool/cron"};

// Top-level directories a WorkingDir or volume must not turn wholesale into "data".
constexpr std::array<std::string_view, 10> too_broad_for_data = {
    "/", "/usr", "/var", "/home", "/opt", "/srv", "/mnt", "/media", "/var/lib", "/usr/local"};

} // namespace

bool is_placeholder(std::string_view path) {
  return std::find(placeholder_paths.begin(), placeholder_paths.end(), path) !=
         placeholder_paths.end();
}

bool is_system_path(std::string_view path) {
  for (auto d : system_dirs)
    if (path_within(path, d)) return true;
  return false;
}

bool acceptable_data_dir(std::string_view dir) {
  if (dir.empty() || dir.front() != '/') return false;
  for (auto d : too_broad_for_data)
    if (dir == d) return false;
  // An application may run in /usr/src/app, but not in /etc or /usr/bin.
  for (auto d : {"/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr/bin",
                 "/usr/sbin", "/usr/lib", "/usr/libexec", "/usr/local/bin", "/usr/local/sbin",
                 "/usr/local/lib", "/boot", "/root", "/proc", "/sys", "/dev"})
    if (path_within(dir, d)) return false;
  return true;
}

bool is_package_db_path(std::string_view path) {
  if (path == "/var/lib/dpkg/status" || path == "/lib/apk/db/installed" ||
      path == "/usr/lib/apk/db/installed")
    return true;
  std::string_view dir = parent_path(path);
  if (dir == "/var/lib/dpkg/info" && (ends_with(path, ".list") || ends_with(path, ".md5sums")))
    return true;
  if (dir == "/var/lib/dpkg/status.d") return true;
  return path_within(path, "/var/lib/rpm") || path_within(path, "/usr/lib/sysimage/rpm");
}

bool is_package_bookkeeping(std::string_view path) {
  for (auto d :
       {"/var/lib/dpkg", "/var/lib/apt", "/var/cache/apt", "/var/log/apt", "/var/cache/debconf",
        "/lib/apk", "/usr/lib/apk", "/var/cache/apk", "/var/lib/rpm", "/usr/lib/sysimage/rpm",
        "/var/cache/dnf", "/var/cache/yum", "/var/lib/dnf", "/var/lib/yum"})
    if (path_within(path, d)) return true;
  return path == "/var/log/dpkg.log" || path == "/etc/apk/world" || path == "/etc/ld.so.cache" ||
         path == "/var/log/alternatives.log" || starts_with(path, "/var/log/dnf");
}

} // namespace cdrift
