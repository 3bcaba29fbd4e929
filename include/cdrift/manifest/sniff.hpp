// Content classes from a file's first bytes, cheap enough to run on every file
// while it streams through the hasher.
#pragma once

#include "cdrift/manifest/entry.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace cdrift {

// How many leading bytes sniff_content() wants to see (it copes with fewer).
constexpr std::size_t sniff_prefix_size = 512;

// `head` is the file's first min(size, sniff_prefix_size) bytes; `total_size` the
// file's size. Sets `interpreter` for scripts ("/bin/sh", "/usr/bin/env python3").
ContentClass sniff_content(const std::uint8_t* head, std::size_t head_size,
                           std::uint64_t total_size, std::string& interpreter);

} // namespace cdrift
