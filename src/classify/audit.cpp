#include "cdrift/classify/audit.hpp"

#include "cdrift/classify/fingerprint.hpp"
#include "cdrift/classify/packages.hpp"
#include "cdrift/classify/readonly_plan.hpp"
#include "cdrift/util/glob.hpp"
#include "classify/context.hpp"
#include "classify/origin.hpp"

#include <algorithm>

namespace cdrift {

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    return a.change.path < b.change.path;
  });
}

AuditReport classify_diff(const Manifest& image, const Manifest& container, DiffResult diff,
                          const RulePack& rules, ContainerInfo container_info,
                          const ClassifyOptions& options) {
  AuditReport report;
  report.image_source = image.source;
  report.image = image.image;
  report.image_kind = image.kind;
  report.container_kind = container.kind;
  report.entries_image = image.entries.size();
  report.entries_container = container.entries.size();
  report.rule_sources = rules.sources;
  report.rules_sha256 = rules.sha256;
  report.touched = std::move(diff.touched);
  if (container_info.source.empty()) container_info.source = container.source;

  std::vector<Glob> ignore_globs;
  for (const auto& g : options.ignore_globs)
    ignore_globs.emplace_back(g);

  MatchContext bare{&image, &container, nullptr};
  std::vector<Change> kept;
  for (auto& c : diff.changes) {
    auto user = std::find_if(ignore_globs.begin(), ignore_globs.end(),
                             [&](const Glob& g) { return g.matches(c.path); });
    if (user != ignore_globs.end()) {
      report.ignored.push_back({c.path, "--ignore " + user->pattern()});
      continue;
    }
    if (const Rule* r = matching_ignore_rule(rules, c, bare)) {
      report.ignored.push_back({c.path, r->reason + " (" + r->id + ")"});
      continue;
    }
    kept.push_back(std::move(c));
  }

  std::vector<std::string> changed_paths;
  for (const auto& c : kept)
    changed_paths.push_back(c.path);
  PackageDb image_packages = PackageDb::from_captures(image.captures, &changed_paths);
  PackageDb container_packages = PackageDb::from_captures(container.captures, &changed_paths);
  OriginAnalyzer analyzer(
      OriginInputs{image, container, container_info, image_packages, container_packages, kept});
  if (!container_info.created_epoch) {
    container_info.created_epoch = analyzer.creation_time();
    container_info.created_evidence = analyzer.creation_evidence();
  }

  for (auto& c : kept) {
    Finding f;
    f.origin = analyzer.attribute(c);
    const PackageFacts facts = analyzer.package_facts(c);
    MatchContext ctx{&image, &container, &f.origin, &facts};
    apply_rules(rules, c, ctx, f);
    f.context = describe_context(c, image, image_packages, facts);
    f.change = std::move(c);
    f.fingerprint = compute_fingerprint(f);
    report.findings.push_back(std::move(f));
  }
  sort_findings(report.findings);
  report.container = std::move(container_info);
  for (const auto& w : image.warnings)
    report.warnings.push_back(w);
  for (const auto& w : container.warnings)
    report.warnings.push_back(w);
  // Before suppressions on purpose: a baselined write still needs its mount.
  report.read_only_plan = plan_read_only(report, image);
  return report;
}

} // namespace cdrift
