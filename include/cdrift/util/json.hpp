// Parsing JSON documents from untrusted inputs: bounded nesting (a deep document
// would exhaust the stack in recursive destructors) and one-line errors.
#pragma once

#include "cdrift/util/error.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace cdrift {

constexpr int max_json_depth = 128;

enum class JsonComments { reject, allow };

Result<nlohmann::json> parse_json_document(std::string_view text, const std::string& name,
                                           JsonComments comments = JsonComments::reject,
                                           ErrorKind kind = ErrorKind::input);

// "line 3, column 14" for a byte offset.
std::string describe_offset(std::string_view text, std::size_t offset);

} // namespace cdrift
