// The pipeline functions behind the CLI's commands other than the audits
// (audit.hpp): one call each, so that cli/ only parses, renders and maps
// outcomes to exit statuses.
#pragma once

#include "cdrift/classify/rules.hpp"
#include "cdrift/diff/diff.hpp"
#include "cdrift/layer/load.hpp"

#include <string>
#include <vector>

namespace cdrift {

class ManifestCache;

// `cdrift manifest SRC`: one source to a verified manifest.
struct ManifestRequest {
  SourceSpec source;
  LoadOptions load;
};
Result<Manifest> run_manifest(const ManifestRequest& request);

// `cdrift diff LEFT RIGHT`: the raw comparison of two sources, read concurrently.
struct DiffRequest {
  SourceSpec left;
  SourceSpec right;
  LoadOptions load;
};
struct DiffOutcome {
  DiffResult diff;
  std::string left_source; // as the manifests name themselves
  std::string right_source;
};
Result<DiffOutcome> run_diff(const DiffRequest& request);

// `cdrift rules list|lint|test [DIR]`.
enum class RulesAction { list, lint, test };
struct RulesRequest {
  RulesAction action = RulesAction::list;
  std::string dir;                // empty: the shipped pack
  std::vector<std::string> extra; // list only: packs loaded after it
};
struct RulesOutcome {
  RulePack pack;
  std::vector<std::string> problems; // lint
  RuleTestResult examples;           // test
};
Result<RulesOutcome> run_rules(const RulesRequest& request);

// `cdrift cache prune`: how many entries were removed.
Result<std::size_t> run_cache_prune(ManifestCache& cache);

} // namespace cdrift
