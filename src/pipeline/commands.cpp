#include "cdrift/pipeline/commands.hpp"

#include "cdrift/layer/cache.hpp"
#include "cdrift/pipeline/audit.hpp"

namespace cdrift {

Result<Manifest> run_manifest(const ManifestRequest& request) {
  return load_manifest(request.source, Side::image, request.load);
}

Result<DiffOutcome> run_diff(const DiffRequest& request) {
  // The right side is compared, not audited: like `manifest`, any form is read.
  auto pair = load_pair(request.left, Side::image, request.right, Side::container, request.load);
  if (!pair) return fail(std::move(pair).error());
  DiffOutcome out;
  out.diff = diff_manifests(pair->first, pair->second);
  out.left_source = std::move(pair->first.source);
  out.right_source = std::move(pair->second.source);
  return out;
}

Result<RulesOutcome> run_rules(const RulesRequest& request) {
  std::vector<std::string> dirs{request.dir.empty() ? default_rules_dir() : request.dir};
  if (request.action == RulesAction::list)
    dirs.insert(dirs.end(), request.extra.begin(), request.extra.end());
  auto pack = load_rule_pack(dirs, {});
  if (!pack) return fail(std::move(pack).error());
  RulesOutcome out;
  out.pack = std::move(*pack);
  if (request.action == RulesAction::lint) out.problems = lint_rule_pack(out.pack);
  if (request.action == RulesAction::test) out.examples = test_rule_examples(out.pack);
  return out;
}

Result<std::size_t> run_cache_prune(ManifestCache& cache) {
  return cache.prune();
}

} // namespace cdrift
