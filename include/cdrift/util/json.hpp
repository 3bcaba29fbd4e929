// Parsing JSON documents from untrusted inputs: bounded nesting (a deep document
// would exhaust the stack in recursive destructors) and one-line errors.
#pragma once

#include "cdrift/util/error.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

constexpr int max_json_depth = 128;

enum class JsonComments { reject, allow };

Result<nlohmann::json> parse_json_document(std::string_view text, const std::string& name,
                                           JsonComments comments = JsonComments::reject,
                                           ErrorKind kind = ErrorKind::input);

// The same bounded parse for callers with their own message style (rule files):
// what went wrong, where (a byte offset into `text`), and the parser's words.
struct JsonParseFailure {
  enum class What { too_deep, syntax, other } what = What::syntax;
  std::size_t offset = 0;
  std::string detail; // nlohmann's description without its "[json.exception...]" prefix
};
Expected<nlohmann::json, JsonParseFailure> parse_json_bounded(std::string_view text,
                                                              JsonComments comments);

// Typed lookups that never throw: a missing key or a value of another type gives
// the fallback (nlohmann's value() throws on a type mismatch, and input decides types).
std::string json_string(const nlohmann::json& j, const char* key, std::string fallback = {});
// The strings of an array member, skipping elements of other types; empty when the
// member is missing or not an array.
std::vector<std::string> json_string_list(const nlohmann::json& j, const char* key);
std::uint64_t json_u64(const nlohmann::json& j, const char* key, std::uint64_t fallback = 0);
bool json_bool(const nlohmann::json& j, const char* key, bool fallback = false);

// "line 3, column 14" for a byte offset.
std::string describe_offset(std::string_view text, std::size_t offset);

} // namespace cdrift
