#include "cdrift/report/jsonl.hpp"

#include "cdrift/report/format.hpp"
#include "cdrift/report/json.hpp"
#include "cdrift/util/build_info.hpp"
#include "cdrift/util/escape.hpp"

namespace cdrift {

namespace {

constexpr const char* schema_version = "1";

// One line, no indentation; invalid UTF-8 cannot occur (every string went through
// utf8_lossy), but is replaced rather than thrown on, as in dump_json.
std::string line(const OrderedJson& value) {
  return value.dump(-1, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
}

OrderedJson head(const char* record, const JsonlOptions& options) {
  OrderedJson j;
  j["schema_version"] = schema_version;
  j["record"] = record;
  j["tool"] = {{"name", "cdrift"}, {"version", version_string}};
  if (options.timestamp) j["timestamp"] = utf8_lossy(*options.timestamp);
  return j;
}

// What identifies the image on every line: its source and digests, not the layer
// list (that is on the summary line, once per container).
OrderedJson image_identity(const OrderedJson& image) {
  OrderedJson j;
  for (const char* key : {"source", "source_b64", "reference", "manifest_digest", "config_digest"})
    if (image.contains(key)) j[key] = image[key];
  return j;
}

} // namespace

std::string render_jsonl(const AuditReport& report, const JsonlOptions& options) {
  const OrderedJson container = report_container_json(report);
  const OrderedJson image = report_image_json(report);
  const OrderedJson image_id = image_identity(image);
  std::string out;
  for (const Finding& f : report.findings) {
    OrderedJson j = head("finding", options);
    j["container"] = container;
    j["image"] = image_id;
    OrderedJson finding = report_finding_json(f);
    for (auto& [key, value] : finding.items())
      j[key] = std::move(value);
    out += line(j);
  }
  OrderedJson s = head("summary", options);
  s["container"] = container;
  s["image"] = image;
  s["rules"] = {{"sources", OrderedJson::array()}, {"sha256", utf8_lossy(report.rules_sha256)}};
  for (const std::string& src : report.rule_sources)
    s["rules"]["sources"].push_back(utf8_lossy(src));
  s["summary"] = report_summary_json(report);
  OrderedJson warnings = OrderedJson::array();
  for (const std::string& w : report.warnings)
    warnings.push_back(utf8_lossy(w));
  s["warnings"] = std::move(warnings);
  out += line(s);
  return out;
}

std::string render_jsonl_error(const std::string& container_source, const std::string& message,
                               int exit_status, const JsonlOptions& options) {
  OrderedJson j = head("error", options);
  OrderedJson container;
  put_bytes(container, "source", container_source);
  j["container"] = std::move(container);
  j["error"] = utf8_lossy(message);
  j["exit_status"] = exit_status;
  return line(j);
}

std::string render_jsonl_skipped(const std::string& container_source, const std::string& reason,
                                 const JsonlOptions& options) {
  OrderedJson j = head("skipped", options);
  OrderedJson container;
  put_bytes(container, "source", container_source);
  j["container"] = std::move(container);
  j["reason"] = utf8_lossy(reason);
  return line(j);
}

} // namespace cdrift
