// BSD mtree text, as libarchive's and the BSDs' mtree tools read it.
#pragma once

#include "cdrift/manifest/manifest.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace cdrift {

// Paths are written "./etc/passwd" with characters outside [!-~] and '#', '=',
// '\\' escaped as \ooo octal, as bsdtar writes them.
std::string mtree_escape(std::string_view path);
void write_manifest_mtree(const Manifest& m, const std::function<void(std::string_view)>& sink);

} // namespace cdrift
