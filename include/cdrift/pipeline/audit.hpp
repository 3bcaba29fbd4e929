// The whole audit as one call: what the CLI's audit, diff and baseline commands
// run. Image and container are read at the same time, one per core.
#pragma once

#include "cdrift/classify/audit.hpp"
#include "cdrift/classify/rules.hpp"
#include "cdrift/diff/diff.hpp"
#include "cdrift/layer/load.hpp"

#include <string>
#include <vector>

namespace cdrift {

struct AuditRequest {
  SourceSpec image;
  SourceSpec container;
  LoadOptions load;
  std::vector<std::string> rule_dirs; // extra packs after the default one
  std::vector<std::string> disabled_rules;
  ClassifyOptions classify;
  std::string baseline_file;    // empty: none
  std::string ignore_file;      // empty: none
  std::string today;            // YYYY-MM-DD, for ignore-file expiry
  ContainerInfo container_info; // what a runtime told us, if anything
  Progress* image_progress = nullptr;
  Progress* container_progress = nullptr;
  // Known before reading the image (from a runtime's inspect): lets a cached image
  // manifest stand in without even asking the runtime for the image.
  std::string image_config_digest;
  // Set by callers auditing many containers: the image is already in memory.
  const Manifest* image_manifest = nullptr;
};

struct AuditOutcome {
  AuditReport report;
  RulePack rules;
  Manifest image; // kept so callers auditing many containers read each image once
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

} // namespace cdrift
