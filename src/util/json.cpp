#include "cdrift/util/json.hpp"

namespace cdrift {

std::string json_string(const nlohmann::json& j, const char* key, std::string fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
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

Result<nlohmann::json> parse_json_document(std::string_view text, const std::string& name,
                                           JsonComments comments, ErrorKind kind) {
  std::size_t where = 0;
  if (!nesting_within(text, max_json_depth, where))
    return fail(kind, name + ":" + describe_offset(text, where) + ": JSON nested deeper than " +
                          std::to_string(max_json_depth) + " levels");
  // nlohmann throws out_of_range for numbers beyond double range even when asked
  // not to throw, so every exception it raises is caught here.
  try {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/true,
                                               comments == JsonComments::allow);
    return doc;
  } catch (const nlohmann::json::parse_error& e) {
    return fail(kind,
                name + ":" + describe_offset(text, e.byte > 0 ? e.byte - 1 : 0) + ": invalid JSON");
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    auto bracket = what.find("] ");
    return fail(kind, name + ": invalid JSON: " +
                          (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
}

} // namespace cdrift
