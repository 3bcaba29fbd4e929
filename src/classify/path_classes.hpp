// What a path is, for the origin analysis: a runtime placeholder, a system path, an
// application data directory, a package manager's database or bookkeeping.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cdrift {

// The runtime writes these when it creates or starts the container; they say when,
// not who, so they are neither evidence nor companions of an edit.
bool is_placeholder(std::string_view path);

// Where applications write at run time whatever the image says: temp, logs, caches, run.
constexpr std::array<std::string_view, 7> standard_data_dirs = {
    "/tmp", "/var/tmp", "/var/log", "/var/cache", "/run", "/var/run", "/dev/shm"};

// Where a shell edit is an edit of the system rather than of application data.
bool is_system_path(std::string_view path);

// Whether a WorkingDir or volume may count as application data: not "/" or a
// top-level tree, not inside system directories.
bool acceptable_data_dir(std::string_view dir);

// The database that says which packages are installed (dpkg status and lists, apk
// installed, rpm).
bool is_package_db_path(std::string_view path);

// Files a package manager run writes besides the ones its packages list.
bool is_package_bookkeeping(std::string_view path);

// npm packs every file with this mtime (1985-10-26 08:15:00 UTC) and keeps it on install.
constexpr std::int64_t npm_fixed_mtime = 499162500;

} // namespace cdrift
