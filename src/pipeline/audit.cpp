#include "cdrift/pipeline/audit.hpp"

#include "cdrift/classify/suppress.hpp"
#include "cdrift/layer/cache.hpp"

#include <optional>
#include <thread>

namespace cdrift {

Result<RulePack> load_rules(const std::vector<std::string>& extra_dirs,
                            const std::vector<std::string>& disabled) {
  const std::string builtin = default_rules_dir();
  std::vector<std::string> dirs{builtin};
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  auto pack = load_rule_pack(dirs, disabled);
  if (!pack) return pack;
  // Reports name the shipped pack by file, not by where this checkout or install
  // lives, so the same audit gives byte-identical reports on every machine.
  for (auto& source : pack->sources)
    if (source.starts_with(builtin + "/")) source = "builtin:" + source.substr(builtin.size() + 1);
  return pack;
}

Result<std::pair<Manifest, Manifest>> load_pair(const SourceSpec& left, Side left_side,
                                                const SourceSpec& right, Side right_side,
                                                const LoadOptions& options, Progress* left_progress,
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

Result<AuditOutcome> run_audit(const AuditRequest& original) {
  AuditRequest request = original;
  // The audited container never gets to say it is an image (see Detection).
  request.load.detection = Detection::container_tree;
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

  // The cache serves images that a runtime names by digest: its content store has
  // verified them, and `docker save` is the expensive part. Image files given by
  // path are always read and verified, so a corrupted or tampered blob on disk
  // can never hide behind an earlier good read.
  const bool cacheable = request.load.cache && request.image.form == SourceForm::runtime &&
                         !request.image_config_digest.empty();
  std::optional<Manifest> preloaded;
  if (!request.image_manifest && cacheable)
    preloaded = request.load.cache->load(request.image_config_digest);
  std::pair<Manifest, Manifest> loaded;
  if (request.image_manifest || preloaded) {
    LoadOptions options = request.load;
    options.progress = request.container_progress;
    auto c = load_manifest(request.container, Side::container, options);
    if (!c) return fail(std::move(c).error());
    loaded.first = preloaded ? std::move(*preloaded) : *request.image_manifest;
    if (preloaded) loaded.first.source = request.image.text;
    loaded.second = std::move(*c);
  } else {
    auto pair = load_pair(request.image, Side::image, request.container, Side::container,
                          request.load, request.image_progress, request.container_progress);
    if (!pair) return fail(std::move(pair).error());
    loaded = std::move(*pair);
    if (cacheable && loaded.first.image &&
        loaded.first.image->config_digest == request.image_config_digest) {
      // A cache that cannot be written costs speed, not correctness.
      if (auto s = request.load.cache->store(request.image_config_digest, loaded.first); !s)
        loaded.first.warnings.push_back(s.error().message);
    }
  }
  auto& [image, container] = loaded;
  DiffResult diff = diff_manifests(image, container);
  out.report = classify_diff(image, container, std::move(diff), out.rules, request.container_info,
                             request.classify);
  apply_suppressions(out.report, baseline ? &*baseline : nullptr, ignores, request.today);
  out.image = std::move(image);
  return out;
}

} // namespace cdrift
