#include "cdrift/pipeline/audit.hpp"

#include "cdrift/layer/cache.hpp"
#include "cdrift/util/escape.hpp"
#include "pipeline/audit_steps.hpp"
#include "pipeline/inspect_file.hpp"
#include "pipeline/live_layer.hpp"

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

std::optional<ContainerVia> parse_container_via(std::string_view text) {
  if (text == "auto") return ContainerVia::automatic;
  if (text == "layer") return ContainerVia::layer;
  if (text == "export") return ContainerVia::export_tar;
  return std::nullopt;
}

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
  if (request.via == ContainerVia::layer && !runtime_container)
    return fail(ErrorKind::usage, "--via layer reads a running container's writable layer: "
                                  "--container must name a " +
                                      runtime_prefixes() + " container");
  if ((runtime_container || request.image.form == SourceKind::runtime) && !request.runtimes)
    return fail(ErrorKind::usage, escape_for_terminal(runtime_container ? request.container.text
                                                                        : request.image.text) +
                                      ": container runtimes are not available here");
  if (!request.inspect_file.empty()) {
    // A live container's runtime answers for itself; a saved inspect beside it could
    // only contradict the runtime.
    if (runtime_container)
      return fail(ErrorKind::usage, "--inspect " + escape_for_terminal(request.inspect_file) +
                                        ": " + escape_for_terminal(request.container.text) +
                                        " is inspected by its runtime; --inspect is for exports "
                                        "and directories");
    auto inspected = read_inspect_file(request.inspect_file);
    if (!inspected) return fail(std::move(inspected).error());
    sides.container_info = std::move(*inspected);
  }
  if (runtime_container) {
    // The runtime knows the container's image by id, which a moved tag cannot fake.
    auto inspected = request.runtimes->inspect(request.container);
    if (!inspected) return fail(std::move(inspected).error());
    sides.container_info = std::move(inspected->info);
    sides.all_skip_reason = std::move(inspected->all_skip_reason);
    sides.container_info.storage_driver = inspected->storage.driver;
    sides.container_info.upper_dir = inspected->storage.upper_dir;
    sides.storage = inspected->storage;
    sides.container_image_digest = inspected->config_digest;
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
//
// The container side. A runtime container on overlay storage is read from its
// writable layer applied over the image (the overlay's lower layers are that
// image), which costs what the container changed; anything else, or a layer that
// cannot be read, goes through the runtime's export. The two give the same
// findings: docker's placeholders live in its -init layer, outside the view, and
// the runtime-placeholder ignore rules drop them from an export.
Result<AuditReport> audit_sides(const AuditRequest& request, const ResolvedSides& sides,
                                const AuditPolicy& policy, const Manifest* image_in_memory,
                                Manifest* image_out) {
  const LoadOptions options = load_options(request);
  const bool cacheable = request.cache && sides.image.form == SourceKind::runtime &&
                         !sides.image_config_digest.empty();
  std::optional<Manifest> owned_image; // what this call read (cache or fresh)
  if (!image_in_memory && cacheable) owned_image = request.cache->load(sides.image_config_digest);
  auto store = [&](Manifest& image) {
    if (cacheable && image.image && image.image->config_digest == sides.image_config_digest) {
      // A cache that cannot be written costs speed, not correctness.
      if (auto s = request.cache->store(sides.image_config_digest, image); !s)
        image.warnings.push_back(s.error().message);
    }
  };
  auto current_image = [&]() -> const Manifest* {
    return image_in_memory ? image_in_memory : owned_image ? &*owned_image : nullptr;
  };

  std::optional<Manifest> container;
  std::string fallback; // why the writable layer was not read
  if (request.container.form == SourceKind::runtime && request.via != ContainerVia::export_tar) {
    std::optional<std::string> why =
        writable_layer_obstacle(request.container.runtime, sides.storage);
    if (!why && !current_image()) {
      LoadOptions image_options = options;
      image_options.progress = request.image_progress;
      auto m = load_manifest(sides.image, Side::image, image_options);
      if (!m) return fail(std::move(m).error());
      owned_image = std::move(*m);
      store(*owned_image);
    }
    const Manifest* image = current_image();
    // The lower layers are the container's own image: against another image the
    // view would be neither the container's nor that image's.
    if (!why && (!image->image || image->image->config_digest != sides.container_image_digest))
      why = "--image is not the image the container runs (" +
            escape_for_terminal(sides.container_image_digest) + ")";
    if (!why) {
      auto view =
          read_writable_layer(*image, request.container, sides.storage, request.container_progress);
      if (view)
        container = std::move(*view);
      else
        why = view.error().message;
    }
    if (why) {
      if (request.via == ContainerVia::layer)
        return fail(ErrorKind::input,
                    escape_for_terminal(request.container.text) +
                        ": cannot read the writable layer (--via layer): " + *why);
      fallback = escape_for_terminal(request.container.text) +
                 ": read through the export, not the writable layer: " + *why;
    }
  }

  if (!container) {
    if (current_image()) {
      LoadOptions container_options = options;
      container_options.progress = request.container_progress;
      auto c = load_manifest(request.container, Side::container, container_options);
      if (!c) return fail(std::move(c).error());
      container = std::move(*c);
    } else {
      auto pair = load_pair(sides.image, Side::image, request.container, Side::container, options,
                            request.image_progress, request.container_progress);
      if (!pair) return fail(std::move(pair).error());
      owned_image = std::move(pair->first);
      container = std::move(pair->second);
      store(*owned_image);
    }
    if (!fallback.empty()) container->warnings.insert(container->warnings.begin(), fallback);
  }
  if (owned_image && sides.image.form == SourceKind::runtime)
    owned_image->source = sides.image.text;
  const Manifest& image = *current_image();
  DiffResult diff = diff_manifests(image, *container);
  AuditReport report = classify_diff(image, *container, std::move(diff), policy.rules,
                                     sides.container_info, request.classify);
  if (!request.inspect_file.empty() && image.image)
    if (auto w = inspect_image_mismatch(sides.container_info, request.inspect_file,
                                        image.image->config_digest))
      report.warnings.push_back(std::move(*w));
  apply_suppressions(report, policy.baseline ? &*policy.baseline : nullptr, policy.ignores,
                     request.today);
  if (image_out) *image_out = owned_image ? std::move(*owned_image) : image;
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
