#include "cli/all_render.hpp"

#include "cdrift/util/escape.hpp"

#include <nlohmann/json.hpp>

namespace cdrift {

namespace {

// JSON strings hold no raw newlines, so indenting line by line is exact.
void append_indented(std::string& out, std::string_view doc, std::string_view indent) {
  while (!doc.empty() && doc.back() == '\n')
    doc.remove_suffix(1);
  std::size_t pos = 0;
  while (pos <= doc.size()) {
    std::size_t end = doc.find('\n', pos);
    if (end == std::string_view::npos) end = doc.size();
    out += indent;
    out += doc.substr(pos, end - pos);
    if (end < doc.size()) out += '\n';
    pos = end + 1;
  }
}

std::string json_text(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

std::string render_all_json(const AuditAllOutcome& all, const JsonOptions& options) {
  std::string out = "{\n  \"schema_version\": \"1\",\n  \"reports\": [";
  for (std::size_t i = 0; i < all.reports.size(); ++i) {
    out += i ? ",\n" : "\n";
    append_indented(out, render_json(all.reports[i], options), "    ");
  }
  out += all.reports.empty() ? "],\n" : "\n  ],\n";
  out += "  \"skipped\": [";
  for (std::size_t i = 0; i < all.skipped.size(); ++i) {
    out += i ? ",\n" : "\n";
    out += "    {\n      \"container\": " + json_text(all.skipped[i].container) +
           ",\n      \"reason\": " + json_text(all.skipped[i].reason) + "\n    }";
  }
  out += all.skipped.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string render_all_text(const AuditAllOutcome& all, const TextOptions& options) {
  std::string out;
  for (const auto& r : all.reports)
    out += render_text(r, options) + "\n";
  if (all.reports.empty() && all.skipped.empty()) out = "no running containers\n";
  if (!all.skipped.empty()) {
    const std::size_t n = all.skipped.size();
    out += "skipped " + std::to_string(n) + " of " + std::to_string(n + all.reports.size()) +
           " running containers (not audited: the runtime failed for " + (n == 1 ? "it" : "them") +
           "):\n";
    for (const auto& s : all.skipped)
      out += "  " + escape_for_terminal(s.container) + ": " + escape_for_terminal(s.reason) + "\n";
  }
  return out;
}

} // namespace cdrift
