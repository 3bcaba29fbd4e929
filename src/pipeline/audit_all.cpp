#include "pipeline/audit_steps.hpp"

#include <map>

namespace cdrift {

// Every running container of one runtime, one report each. Each distinct image
// is read once: in memory here, and through the on-disk cache across runs.
//
// Containers come and go while we work: one removed between the listing and its
// inspect or export fails with a runtime error, and is skipped (with the
// runtime's message as the reason) so that it cannot discard every other
// container's result. Any other failure (rules, an image that does not verify, a
// hostile export) fails the whole run: skipping those would let a container hide
// from the audit by breaking it.
Result<AuditAllOutcome> run_audit_all(const AuditAllRequest& request) {
  if (!request.each.runtimes)
    return fail(ErrorKind::usage, "--all: container runtimes are not available here");
  auto ids = request.each.runtimes->list_running(request.runtime);
  if (!ids) return fail(std::move(ids).error());
  AuditAllOutcome out;
  if (ids->empty()) return out;
  auto policy = load_policy(request.each);
  if (!policy) return fail(std::move(policy).error());

  std::map<std::string, Manifest> images; // by config digest
  for (const auto& id : *ids) {
    AuditRequest one = request.each;
    one.image = SourceSpec{};
    one.container = parse_source_spec(request.runtime + ":" + id);
    // parse_source_spec knows the built-in prefixes only; the listing's runtime
    // decides, whatever its name.
    one.container.form = SourceKind::runtime;
    one.container.runtime = request.runtime;
    one.container.location = id;
    auto skip = [&](const Error& e) {
      out.skipped.push_back(SkippedContainer{one.container.text, e.message});
    };
    auto sides = resolve_sides(one);
    if (!sides) {
      if (sides.error().kind != ErrorKind::runtime) return fail(std::move(sides).error());
      skip(sides.error());
      continue;
    }
    if (!sides->all_skip_reason.empty()) {
      out.skipped.push_back(SkippedContainer{one.container.text, sides->all_skip_reason, true});
      continue;
    }
    const std::string& digest = sides->image_config_digest;
    auto known = digest.empty() ? images.end() : images.find(digest);
    Manifest image;
    const bool keep = !digest.empty() && known == images.end();
    auto report =
        audit_sides(one, *sides, *policy, known != images.end() ? &known->second : nullptr,
                    keep ? &image : nullptr);
    if (!report) {
      if (report.error().kind != ErrorKind::runtime) return fail(std::move(report).error());
      skip(report.error());
      continue;
    }
    if (keep) images.emplace(digest, std::move(image));
    out.reports.push_back(std::move(*report));
  }
  out.rules = std::move(policy->rules);
  return out;
}

} // namespace cdrift
