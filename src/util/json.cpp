#include "cdrift/util/json.hpp"

namespace cdrift {

std::string json_string(const nlohmann::json& j, const char* key, std::string fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::vector<std::string> json_string_list(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object()) return out;
  auto it = j.find(key);
  if (it != j.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::uint64_t json_u64(const nlohmann::json& j, const char* key, std::uint64_t fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : fallback;
}

bool json_bool(const nlohmann::json& j, const char* key, bool fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string describe_offset(std::string_view text, std::size_t offset) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

// Counts bracket depth outside strings; comments cannot hide brackets from the
// parser in a way that matters here, since this only rejects, never accepts.
static bool nesting_within(std::string_view text, int limit, std::size_t& where) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) {
        where = i;
        return false;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

Expected<nlohmann::json, JsonParseFailure> parse_json_bounded(std::string_view text,
                                                              JsonComments comments) {
  using Failure = JsonParseFailure;
  std::size_t where = 0;
  if (!nesting_within(text, max_json_depth, where))
    return Unexpected<Failure>(
        Failure{Failure::What::too_deep, where,
                "JSON nested deeper than " + std::to_string(max_json_depth) + " levels"});
  // nlohmann throws out_of_range for numbers beyond double range even when asked
  // not to throw, so every exception it raises is caught here.
  try {
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/true,
                                 comments == JsonComments::allow);
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 5: detail"
    std::string what = e.what();
    auto colon = what.find(": ");
    return Unexpected<Failure>(Failure{Failure::What::syntax, e.byte > 0 ? e.byte - 1 : 0,
                                       colon == std::string::npos ? what : what.substr(colon + 2)});
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    auto bracket = what.find("] ");
    return Unexpected<Failure>(Failure{
        Failure::What::other, 0, bracket == std::string::npos ? what : what.substr(bracket + 2)});
  }
}

Result<nlohmann::json> parse_json_document(std::string_view text, const std::string& name,
                                           JsonComments comments, ErrorKind kind) {
  auto doc = parse_json_bounded(text, comments);
  if (doc) return std::move(*doc);
  const JsonParseFailure& f = doc.error();
  switch (f.what) {
  case JsonParseFailure::What::too_deep:
    return fail(kind, name + ":" + describe_offset(text, f.offset) + ": " + f.detail);
  case JsonParseFailure::What::syntax:
    return fail(kind, name + ":" + describe_offset(text, f.offset) + ": invalid JSON");
  case JsonParseFailure::What::other:
    break;
  }
  return fail(kind, name + ": invalid JSON: " + f.detail);
}

} // namespace cdrift
