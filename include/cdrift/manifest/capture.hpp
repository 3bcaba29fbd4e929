// Which small files are kept in memory while they stream past, for the stages
// that read content (uid-0 accounts, package ownership, shell history). Bounded
// per file and in total so memory never grows with what an attacker writes.
#pragma once

#include <cstddef>
#include <string_view>

namespace cdrift {

constexpr std::size_t capture_file_limit = 4u << 20;   // larger files are not captured
constexpr std::size_t capture_total_limit = 64u << 20; // per manifest

// True for account databases (/etc/passwd, group, shadow, gshadow), package
// databases (dpkg status, info/*.list, info/*.md5sums, apk installed, ...) and shell
// history files (*/.bash_history, */.ash_history, ...).
bool wants_capture(std::string_view path);

} // namespace cdrift
