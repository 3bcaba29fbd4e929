// Paths inside images and containers are attacker-controlled bytes. Every one is
// cleaned to a single absolute form before it is used as a key.
#pragma once

#include "cdrift/util/error.hpp"

#include <string>
#include <string_view>

namespace cdrift {

// "./a//b/", "/a/b", "a/b/." all become "/a/b"; "" and "." become "/".
// A ".." component that would climb above the root is an error (a malicious entry);
// one that stays inside ("a/../b") is resolved lexically.
Result<std::string> clean_path(std::string_view raw);

// "/a/b" -> "/a"; "/a" -> "/"; "/" -> "".
std::string_view parent_path(std::string_view path);
// "/a/b" -> "b"; "/" -> "".
std::string_view base_name(std::string_view path);
// True when `path` equals `dir` or lies below it ("/a" contains "/a/b" but not "/ab").
bool path_within(std::string_view path, std::string_view dir);

} // namespace cdrift
