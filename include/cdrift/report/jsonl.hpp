// JSON Lines for log pipelines (Fluent Bit, Vector, Logstash → Elasticsearch, Splunk):
// one compact object per line, each complete on its own, so a shipper can cut the
// stream anywhere between lines and every event still names its container, pod,
// image and severity. Schema: docs/report-jsonl.schema.json.
#pragma once

#include "cdrift/classify/finding.hpp"

#include <optional>
#include <string>

namespace cdrift {

struct JsonlOptions {
  // RFC 3339, stamped on every line; only with --timestamp (byte-identical output
  // otherwise). Shippers add their own ingest time either way.
  std::optional<std::string> timestamp;
};

// One "finding" line per unsuppressed finding (in report order: most severe first),
// then one "summary" line for the container. The summary comes last so that a
// reader knows a container's records are complete when it arrives.
std::string render_jsonl(const AuditReport& report, const JsonlOptions& options);

// One "error" line for a container that could not be audited (in --all, the others
// go on): without it the container would silently vanish from the log stream.
std::string render_jsonl_error(const std::string& container_source, const std::string& message,
                               int exit_status, const JsonlOptions& options);

// One "skipped" line for a listed container --all did not audit: a pod sandbox
// (pause container), or one that went away between the listing and its audit.
std::string render_jsonl_skipped(const std::string& container_source, const std::string& reason,
                                 const JsonlOptions& options);

} // namespace cdrift
