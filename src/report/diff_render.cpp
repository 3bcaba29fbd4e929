#include "cdrift/report/diff_render.hpp"

#include "cdrift/report/format.hpp"
#include "cdrift/util/build_info.hpp"
#include "cdrift/util/escape.hpp"
#include "report/text_style.hpp"

#include <array>

namespace cdrift {

namespace {

std::string diff_summary(const std::array<std::size_t, 3>& counts, std::size_t touched) {
  std::size_t n = counts[0] + counts[1] + counts[2];
  std::string out = std::to_string(n) + (n == 1 ? " change" : " changes");
  if (n > 0)
    out += ": " + std::to_string(counts[0]) + " added, " + std::to_string(counts[1]) +
           " modified, " + std::to_string(counts[2]) + " deleted";
  out += " \xC2\xB7 " + std::to_string(touched) + " touched";
  return out;
}

std::string line_for(const Change& c, const Style& style) {
  std::string kind(to_string(c.kind));
  std::string label = kind;
  label.append(kind.size() < 8 ? 8 - kind.size() : 0, ' ');
  switch (c.kind) {
  case ChangeKind::added:
    label = style.added(label);
    break;
  case ChangeKind::deleted:
    label = style.deleted(label);
    break;
  default:
    label = style.modified(label);
    break;
  }
  std::string out = "  " + label + "  " + escape_for_terminal(c.path);
  std::string detail;
  if (c.kind == ChangeKind::modified) detail = describe_fields(c);
  if (c.kind == ChangeKind::added && c.after) detail = describe_entry(*c.after);
  if (c.kind == ChangeKind::deleted && c.before) {
    detail = std::string(to_string(c.before->type));
    if (c.subtree_entries > 0)
      detail += " (and " + std::to_string(c.subtree_entries) +
                (c.subtree_entries == 1 ? " entry below)" : " entries below)");
  }
  if (!mode_bit_names(c.mode_added).empty()) {
    std::string bits;
    for (const std::string& b : mode_bit_names(c.mode_added))
      bits += (bits.empty() ? "" : ",") + b;
    detail += (detail.empty() ? "" : " ") + std::string("[+") + bits + "]";
  }
  if (!detail.empty()) out += "  " + detail;
  return out + "\n";
}

} // namespace

std::string render_diff_text(const DiffResult& diff, const std::string& left,
                             const std::string& right, ColorMode color, TouchedMode touched) {
  Style style(color);
  std::string out = style.bold("cdrift " + std::string(version_string) + " diff") + "\n";
  out += "left   " + escape_for_terminal(left) + "\n";
  out += "right  " + escape_for_terminal(right) + "\n";

  std::array<std::size_t, 3> counts{};
  const std::array<ChangeKind, 3> order = {ChangeKind::added, ChangeKind::modified,
                                           ChangeKind::deleted};
  for (std::size_t k = 0; k < order.size(); ++k) {
    std::string lines;
    for (const Change& c : diff.changes)
      if (c.kind == order[k]) {
        lines += line_for(c, style);
        ++counts[k];
      }
    if (counts[k] == 0) continue;
    std::string title(to_string(order[k]));
    for (char& ch : title)
      ch = static_cast<char>(ch - 'a' + 'A');
    out += "\n" + style.bold(title + " (" + std::to_string(counts[k]) + ")") + "\n" + lines;
  }
  if (diff.changes.empty()) out += "\nNo differences.\n";
  if (touched == TouchedMode::show && !diff.touched.empty()) {
    out += "\n" + style.bold("TOUCHED, mtime only (" + std::to_string(diff.touched.size()) + ")") +
           "\n";
    for (const Change& c : diff.touched)
      out += "  " + escape_for_terminal(c.path) + "\n";
  }
  out += "\n" + style.bold(diff_summary(counts, diff.touched.size())) + "\n";
  return out;
}

std::string render_diff_json(const DiffResult& diff, const std::string& left,
                             const std::string& right) {
  OrderedJson doc;
  doc["schema_version"] = "1";
  doc["kind"] = "cdrift-diff";
  doc["tool"] = {{"name", "cdrift"}, {"version", version_string}};
  OrderedJson l, r;
  put_bytes(l, "source", left);
  put_bytes(r, "source", right);
  doc["left"] = std::move(l);
  doc["right"] = std::move(r);
  std::array<std::size_t, 3> counts{};
  OrderedJson changes = OrderedJson::array();
  for (const Change& c : diff.changes) {
    if (c.kind != ChangeKind::touched) ++counts[static_cast<std::size_t>(c.kind)];
    OrderedJson item;
    put_change(item, c);
    changes.push_back(std::move(item));
  }
  doc["summary"] = {{"changes", diff.changes.size()},
                    {"added", counts[0]},
                    {"modified", counts[1]},
                    {"deleted", counts[2]},
                    {"touched", diff.touched.size()}};
  doc["changes"] = std::move(changes);
  OrderedJson touched = OrderedJson::array();
  for (const Change& c : diff.touched) {
    OrderedJson item;
    put_bytes(item, "path", c.path);
    touched.push_back(std::move(item));
  }
  doc["touched"] = std::move(touched);
  return dump_json(doc);
}

} // namespace cdrift
