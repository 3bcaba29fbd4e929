// `cdrift diff A B`: the raw delta between two sources, without rules or origins.
#pragma once

#include "cdrift/diff/change.hpp"
#include "cdrift/report/text.hpp"

#include <string>

namespace cdrift {

std::string render_diff_text(const DiffResult& diff, const std::string& left,
                             const std::string& right, ColorMode color, TouchedMode touched);

// {"schema_version":"1","kind":"cdrift-diff",...}; pretty, trailing newline.
std::string render_diff_json(const DiffResult& diff, const std::string& left,
                             const std::string& right);

} // namespace cdrift
