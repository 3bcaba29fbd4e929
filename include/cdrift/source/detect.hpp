// What a stream holds, decided from its first bytes: an image archive (OCI or
// docker save) or something else. Only sniffing: nothing here parses a whole tar.
#pragma once

#include "cdrift/source/byte_source.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cdrift {

// How much of a stream detection reads ahead, and how many tar headers within it
// it looks at.
constexpr std::size_t detect_peek_size = 1024 * 1024;
constexpr int detect_peek_headers = 16;

// True when a tar's first headers (within `head`) name image-archive members
// (manifest.json, index.json, oci-layout, blobs/, <digest>/layer.tar, ...).
bool looks_like_image_archive(std::string_view head);

// A member name only an image archive holds. A bare hex-named directory is not
// one: any container can make one.
bool is_image_archive_member(std::string_view name);

// A tar header's octal field, leniently: leading spaces and NULs skipped, stops at
// the first other non-digit. Sniffing only; tar_number() is the strict reader.
std::uint64_t parse_octal(std::string_view field);

// Up to `size` bytes from the front of `src` (fewer at its end).
Result<std::string> peek(ByteSource& src, std::size_t size);

} // namespace cdrift
