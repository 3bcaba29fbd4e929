#include "cdrift/pipeline/audit.hpp"

#include "cdrift/classify/suppress.hpp"

#include <optional>
#include <thread>

namespace cdrift {

Result<RulePack> load_rules(const std::vector<std::string>& extra_dirs,
                            const std::vector<std::string>& disabled) {
  std::vector<std::string> dirs{default_rules_dir()};
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  return load_rule_pack(dirs, disabled);
}

Result<std::pair<Manifest, Manifest>> load_pair(const SourceSpec& left, Side left_side,
                                                const SourceSpec& right, Side right_side,
                                                const LoadOptions& options,
                                                Progress* left_progress,
                                                Progress* right_progress) {
  std::optional<Result<Manifest>> a;
  LoadOptions left_options = options;
  left_options.progress = left_progress;
  LoadOptions right_options = options;
  right_options.progress = right_progress;
  // The two sides are independent until the diff: one core each.
  std::thread worker([&] { a.emplace(load_manifest(left, left_side, left_options)); });
  Result<Manifest> b = load_manifest(right, right_side, right_options);
  worker.join();
  if (!*a) return fail(std::move(*a).error());
  if (!b) return fail(std::move(b).error());
  return std::make_pair(std::move(**a), std::move(*b));
}

Result<AuditOutcome> run_audit(const AuditRequest& request) {
  AuditOutcome out;
  auto rules = load_rules(request.rule_dirs, request.disabled_rules);
  if (!rules) return fail(std::move(rules).error());
  out.rules = std::move(*rules);

  std::optional<Baseline> baseline;
  if (!request.baseline_file.empty()) {
    auto b = load_baseline(request.baseline_file);
    if (!b) return fail(std::move(b).error());
    baseline = std::move(*b);
  }
  std::vector<IgnoreEntry> ignores;
  if (!request.ignore_file.empty()) {
    auto i = load_ignore_file(request.ignore_file);
    if (!i) return fail(std::move(i).error());
    ignores = std::move(*i);
  }

  auto pair = load_pair(request.image, Side::image, request.container, Side::container,
                        request.load, request.image_progress, request.container_progress);
  if (!pair) return fail(std::move(pair).error());
  auto& [image, container] = *pair;
  DiffResult diff = diff_manifests(image, container);
  out.report = classify_diff(image, container, std::move(diff), out.rules,
                             request.container_info, request.classify);
  apply_suppressions(out.report, baseline ? &*baseline : nullptr, ignores, request.today);
  return out;
}

} // namespace cdrift
