// The whole audit as one call: what the CLI's audit, baseline and `audit --all`
// commands run. Image and container are read at the same time, one per core.
#pragma once

#include "cdrift/classify/audit.hpp"
#include "cdrift/classify/rules.hpp"
#include "cdrift/diff/diff.hpp"
#include "cdrift/layer/load.hpp"
#include "cdrift/layer/progress.hpp"
#include "cdrift/pipeline/runtime.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

class ManifestCache;

// --via: how a runtime container's filesystem is read.
enum class ContainerVia {
  automatic, // its writable layer when that can be read, else its export (with a warning why)
  layer,     // its writable layer only: an error when that cannot be read
  export_tar // its export, as `docker export` streams it
};
// "auto", "layer", "export".
std::optional<ContainerVia> parse_container_via(std::string_view text);

struct AuditRequest {
  // Empty (no location): the container's own image, by the config digest its
  // runtime reports (the container must then be a runtime name).
  SourceSpec image;
  SourceSpec container;
  LoadOptions load; // load.runtime: taken from `runtimes` when empty
  // The runtimes docker:/podman:/... names go to; null: such names are refused.
  const Runtimes* runtimes = nullptr;
  // Image manifests by config digest (see "the cache policy" in audit.cpp);
  // null: no cache (--no-cache).
  ManifestCache* cache = nullptr;
  ContainerVia via = ContainerVia::automatic; // runtime containers only
  std::vector<std::string> rule_dirs;         // extra packs after the default one
  std::vector<std::string> disabled_rules;
  ClassifyOptions classify;
  std::string baseline_file; // empty: none
  std::string ignore_file;   // empty: none
  std::string today;         // YYYY-MM-DD, for ignore-file expiry
  // --inspect: a saved `docker inspect`/`podman inspect` of the container, so an
  // offline audit (export + saved image) gets the runtime's times, image id and user.
  std::string inspect_file;
  Progress* image_progress = nullptr;
  Progress* container_progress = nullptr;
};

struct AuditOutcome {
  AuditReport report;
  RulePack rules;
};

Result<RulePack> load_rules(const std::vector<std::string>& extra_dirs,
                            const std::vector<std::string>& disabled);

// Loads both sides concurrently; the first error (image side first) wins.
Result<std::pair<Manifest, Manifest>> load_pair(const SourceSpec& left, Side left_side,
                                                const SourceSpec& right, Side right_side,
                                                const LoadOptions& options,
                                                Progress* left_progress = nullptr,
                                                Progress* right_progress = nullptr);

Result<AuditOutcome> run_audit(const AuditRequest& request);

// `audit --all`: every running container of one runtime, each against its own
// image, each distinct image read once.
struct AuditAllRequest {
  std::string runtime; // "docker", "podman", ...
  AuditRequest each;   // everything but image and container, which come from the runtime
};

// A listed container that could not be audited because its runtime failed for
// it (typically: it was removed between the listing and its inspect or export),
// or that its runtime says is no workload (a pod sandbox: all_skip_reason).
struct SkippedContainer {
  std::string container; // "docker:<id>"
  std::string reason;    // the runtime's error or note, one line
  bool note = false;     // not a failure: the runtime says it is no workload
};

struct AuditAllOutcome {
  std::vector<AuditReport> reports; // by container id
  std::vector<SkippedContainer> skipped;
  RulePack rules;
};

// Fails as a whole only when the listing fails or an audit fails for a reason
// other than the runtime (a rule pack, an image that does not verify, a hostile
// export): those are never skipped quietly.
Result<AuditAllOutcome> run_audit_all(const AuditAllRequest& request);

} // namespace cdrift
