// The saved manifest (docs/manifest.md): a header line, then one JSON object per
// entry in path byte order. It is also a source: a saved manifest reads back into
// the same Manifest, captures included.
#pragma once

#include "cdrift/manifest/manifest.hpp"
#include "cdrift/util/error.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace cdrift {

constexpr const char* manifest_format_version = "1";

// One entry as JSON: the saved manifest's line and the reports' before/after share
// this shape. `Json` is nlohmann::json (sorted keys) or ordered_json (field order).
template <typename Json>
Json entry_json(const Entry& e);
extern template nlohmann::json entry_json<nlohmann::json>(const Entry&);
extern template nlohmann::ordered_json entry_json<nlohmann::ordered_json>(const Entry&);

inline nlohmann::json entry_to_json(const Entry& e) {
  return entry_json<nlohmann::json>(e);
}
Result<Entry> entry_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json image_info_to_json(const ImageInfo& info);
ImageInfo image_info_from_json(const nlohmann::json& j);

// Calls `sink` with successive chunks of the document (streams large manifests).
void write_manifest_jsonl(const Manifest& m, const std::function<void(std::string_view)>& sink);

// Reads line by line; `next_line` returns false at the end.
Result<Manifest> read_manifest_jsonl(const std::function<Result<bool>(std::string&)>& next_line,
                                     const std::string& name);

// True when the first bytes look like our saved manifest header.
bool looks_like_saved_manifest(std::string_view head);

} // namespace cdrift
