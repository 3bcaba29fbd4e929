#include "cdrift/pipeline/audit.hpp"

#include "audit_steps.hpp"
#include "cdrift/layer/cache.hpp"
#include "cdrift/util/escape.hpp"

#include <optional>
#include <thread>

namespace cdrift {

namespace {

std::string runtime_prefixes() {
  auto names = registered_runtime_names();
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i] + ":";
  return out;
}

LoadOptions load_options(const AuditRequest& request) {
  LoadOptions options = request.load;
  // The audited container never gets to say it is an image (see Detection).
  options.detection = Detection::container_tree;
  if (!options.runtime && request.runtimes) options.runtime = request.runtimes->resolver();
  return options;
}

} // namespace

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

Result<AuditPolicy> load_policy(const AuditRequest& request) {
  AuditPolicy policy;
  auto rules = load_rules(request.rule_dirs, request.disabled_rules);
  if (!rules) return fail(std::move(rules).error());
  policy.rules = std::move(*rules);
  if (!request.baseline_file.empty()) {
    auto b = load_baseline(request.baseline_file);
    if (!b) return fail(std::move(b).error());
    policy.baseline = std::move(*b);
  }
  if (!request.ignore_file.empty()) {
    auto i = load_ignore_file(request.ignore_file);
    if (!i) return fail(std::move(i).error());
    policy.ignores = std::move(*i);
  }
  return policy;
}

Result<ResolvedSides> resolve_sides(const AuditRequest& request) {
  ResolvedSides sides;
  sides.image = request.image;
  const bool image_given = !request.image.location.empty() || !request.image.text.empty();
  const bool runtime_container = request.container.form == SourceKind::runtime;
  if (!image_given && !runtime_container)
    return fail(ErrorKind::usage, "--image is required unless --container names a " +
                                      runtime_prefixes() + " container");
  if ((runtime_container || request.image.form == SourceKind::runtime) && !request.runtimes)
    return fail(ErrorKind::usage, escape_for_terminal(runtime_container ? request.container.text
                                                                        : request.image.text) +
                                      ": container runtimes are not available here");
  if (runtime_container) {
    // The runtime knows the container's image by id, which a moved tag cannot fake.
    auto inspected = request.runtimes->inspect(request.container);
    if (!inspected) return fail(std::move(inspected).error());
    sides.container_info = std::move(inspected->info);
    if (!image_given) {
      sides.image = std::move(inspected->image);
      sides.image_config_digest = std::move(inspected->config_digest);
    }
  } else if (request.image.form == SourceKind::runtime && request.cache) {
    // Only worth a runtime call when the cache could use the answer.
    auto digest = request.runtimes->image_config_digest(request.image);
    if (!digest) return fail(std::move(digest).error());
    sides.image_config_digest = std::move(*digest);
  }
  return sides;
}

// The cache policy. The cache serves images that a runtime names by config
// digest: its content store has verified them, and `docker save` is the
// expensive part. Image files given by path are always read and verified, so a
// corrupted or tampered blob on disk can never hide behind an earlier good read.
// A manifest from the cache and one read fresh give byte-identical reports: both
// are named by the image source as given (docker:sha256:...), not by the command
// that happened to read it.
Result<AuditReport> audit_sides(const AuditRequest& request, const ResolvedSides& sides,
                                const AuditPolicy& policy, const Manifest* image_in_memory,
                                Manifest* image_out) {
  const LoadOptions options = load_options(request);
  const bool cacheable = request.cache && sides.image.form == SourceKind::runtime &&
                         !sides.image_config_digest.empty();
  std::optional<Manifest> preloaded;
  if (!image_in_memory && cacheable) preloaded = request.cache->load(sides.image_config_digest);
  std::pair<Manifest, Manifest> loaded;
  if (image_in_memory || preloaded) {
    LoadOptions container_options = options;
    container_options.progress = request.container_progress;
    auto c = load_manifest(request.container, Side::container, container_options);
    if (!c) return fail(std::move(c).error());
    loaded.first = preloaded ? std::move(*preloaded) : *image_in_memory;
    loaded.second = std::move(*c);
  } else {
    auto pair = load_pair(sides.image, Side::image, request.container, Side::container, options,
                          request.image_progress, request.container_progress);
    if (!pair) return fail(std::move(pair).error());
    loaded = std::move(*pair);
    if (cacheable && loaded.first.image &&
        loaded.first.image->config_digest == sides.image_config_digest) {
      // A cache that cannot be written costs speed, not correctness.
      if (auto s = request.cache->store(sides.image_config_digest, loaded.first); !s)
        loaded.first.warnings.push_back(s.error().message);
    }
  }
  auto& [image, container] = loaded;
  if (sides.image.form == SourceKind::runtime) image.source = sides.image.text;
  DiffResult diff = diff_manifests(image, container);
  AuditReport report = classify_diff(image, container, std::move(diff), policy.rules,
                                     sides.container_info, request.classify);
  apply_suppressions(report, policy.baseline ? &*policy.baseline : nullptr, policy.ignores,
                     request.today);
  if (image_out) *image_out = std::move(image);
  return report;
}

Result<AuditOutcome> run_audit(const AuditRequest& request) {
  auto sides = resolve_sides(request);
  if (!sides) return fail(std::move(sides).error());
  auto policy = load_policy(request);
  if (!policy) return fail(std::move(policy).error());
  auto report = audit_sides(request, *sides, *policy, nullptr, nullptr);
  if (!report) return fail(std::move(report).error());
  return AuditOutcome{std::move(*report), std::move(policy->rules)};
}

} // namespace cdrift
