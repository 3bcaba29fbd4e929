// The steps of an audit that `run_audit` and `run_audit_all` share.
#pragma once

#include "cdrift/classify/suppress.hpp"
#include "cdrift/pipeline/audit.hpp"

#include <optional>

namespace cdrift {

// What suppresses and rates findings; the same for every container of one run.
struct AuditPolicy {
  RulePack rules;
  std::optional<Baseline> baseline;
  std::vector<IgnoreEntry> ignores;
};

Result<AuditPolicy> load_policy(const AuditRequest& request);

// Both sides as they will be read: the container's metadata from its runtime, its
// image when the request leaves it to the runtime, the config digest when known.
struct ResolvedSides {
  SourceSpec image;
  ContainerInfo container_info;
  std::string image_config_digest; // empty: unknown (never cached)
  std::string all_skip_reason;     // see RuntimeContainer
  // Runtime containers: where the runtime keeps the filesystem, and the config
  // digest of the image the container runs (whatever --image says).
  ContainerStorage storage;
  std::string container_image_digest;
};

Result<ResolvedSides> resolve_sides(const AuditRequest& request);

// Reads, diffs, classifies, suppresses. `image_in_memory`: an image already read
// in this run (skips cache and runtime); `image_out`, when not null, receives the
// image manifest for the next container of the same image.
Result<AuditReport> audit_sides(const AuditRequest& request, const ResolvedSides& sides,
                                const AuditPolicy& policy, const Manifest* image_in_memory,
                                Manifest* image_out);

} // namespace cdrift
