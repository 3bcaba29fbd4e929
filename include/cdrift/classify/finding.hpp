// A change explained: which rule rates it, how it probably got there, and where
// the original came from. One AuditReport is rendered as text, JSON and SARIF.
#pragma once

#include "cdrift/classify/readonly_plan.hpp"
#include "cdrift/diff/change.hpp"
#include "cdrift/manifest/manifest.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

enum class Severity : std::uint8_t { info, low, medium, high, critical };

std::string_view to_string(Severity s);
std::optional<Severity> parse_severity(std::string_view s);

enum class OriginKind : std::uint8_t {
  copied_in,
  shell_edit,
  package_manager,
  runtime_write,
  unknown
};

std::string_view to_string(OriginKind o); // "copied-in", "shell-edit", ...
std::optional<OriginKind> parse_origin_kind(std::string_view s);

enum class Confidence : std::uint8_t { low, medium, high };

std::string_view to_string(Confidence c);

struct Origin {
  OriginKind kind = OriginKind::unknown;
  Confidence confidence = Confidence::low;
  std::vector<std::string> evidence;
};

struct FindingContext {
  std::optional<int> layer;                // image layer that last wrote the path
  std::string created_by;                  // that layer's history step
  std::string package;                     // owning package per the image's package database
  std::string package_manager;             // "dpkg", "apk", "rpm"
  std::optional<bool> package_checksum_ok; // container content vs the package's checksum
};

struct RuleRef {
  std::string id;
  std::string title;
  Severity severity = Severity::info;
  std::vector<std::string> tags;
};

struct Finding {
  Change change;
  Severity severity = Severity::info;
  double score = 0.0; // 0.0-10.0
  RuleRef rule;
  std::vector<RuleRef> other_rules;
  Origin origin;
  FindingContext context;
  std::string remediation;
  std::string fingerprint;
};

struct SuppressedFinding {
  Finding finding;
  std::string reason;
};

// Who a container is in a Kubernetes cluster: the CRI labels kubelet puts on every
// container it creates (io.kubernetes.pod.namespace, .pod.name, .container.name,
// .pod.uid). Labels are set by whoever creates the container, so this names the
// workload for routing findings; it is not proof of anything.
struct KubernetesIdentity {
  std::string namespace_; // "namespace" in reports
  std::string pod;
  std::string container;
  std::string pod_uid;
};

struct ContainerInfo {
  std::string source;
  std::string id;
  std::string name;
  std::string image;
  std::string image_id; // "sha256:<config digest>" when the runtime or an inspect file says
  std::string created;  // RFC 3339, when known
  std::string started;
  std::string user;
  std::vector<std::string> entrypoint;
  std::optional<std::int64_t> created_epoch; // used for origin attribution
  std::string created_evidence;              // how created_epoch was found
  // Where the runtime keeps the container's filesystem (GraphDriver), when known.
  std::string storage_driver; // "overlay2", "overlay", "vfs", ...
  std::string upper_dir;      // the overlay's writable layer; empty: not an overlay
  std::optional<KubernetesIdentity> kubernetes; // when the runtime carries CRI labels
};

struct AuditReport {
  std::string image_source;
  std::optional<ImageInfo> image;
  SourceKind image_kind = SourceKind::oci_layout;
  ContainerInfo container;
  SourceKind container_kind = SourceKind::container_export;
  std::uint64_t entries_image = 0;
  std::uint64_t entries_container = 0;
  std::vector<std::string> rule_sources;
  std::string rules_sha256;
  std::vector<Finding> findings; // sorted by severity (desc) then path
  std::vector<Change> touched;
  std::vector<IgnoredPath> ignored;
  std::vector<SuppressedFinding> suppressed;
  std::vector<std::string> warnings;
  ReadOnlyPlan read_only_plan; // what the next container needs to run with a read-only root
};

} // namespace cdrift
