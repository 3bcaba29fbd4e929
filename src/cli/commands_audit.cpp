#include "cdrift/classify/suppress.hpp"
#include "cdrift/layer/cache.hpp"
#include "cdrift/pipeline/audit.hpp"
#include "cdrift/pipeline/containerd.hpp"
#include "cdrift/report/jsonl.hpp"
#include "cdrift/report/sarif.hpp"
#include "cdrift/util/escape.hpp"
#include "cli/all_render.hpp"
#include "cli/commands.hpp"
#include "cli/gate.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <unistd.h>

namespace cdrift {

namespace {

// The runtimes and the cache one invocation uses; the request points into it.
struct AuditContext {
  Runtimes runtimes;
  std::optional<ManifestCache> cache;
  AuditRequest request;
};

void fill_request(const AuditInputArgs& a, AuditContext& ctx,
                  const std::vector<std::string>& namespaces = {}) {
  RuntimeOptions options;
  options.runtime_path = a.runtime_path;
  options.timeout_seconds = a.runtime_timeout;
  options.containerd_address = a.containerd_address;
  options.containerd_namespaces = namespaces;
  ctx.runtimes = Runtimes::registered(options);
  if (!a.no_cache) ctx.cache.emplace();
  AuditRequest& r = ctx.request;
  if (!a.container.empty()) r.container = parse_source_spec(a.container);
  if (!a.image.empty()) r.image = parse_source_spec(a.image);
  r.runtimes = &ctx.runtimes;
  r.cache = ctx.cache ? &*ctx.cache : nullptr;
  r.via = parse_container_via(a.via).value_or(ContainerVia::automatic);
  r.load.image.platform = a.platform;
  r.rule_dirs = a.rules;
  r.disabled_rules = a.disabled;
  r.classify.ignore_globs = a.ignore;
  r.inspect_file = a.inspect_file;
  if (::access(".cdriftignore.json", F_OK) == 0) r.ignore_file = ".cdriftignore.json";
  r.today = today_utc();
}

void fill_request(const AuditArgs& a, AuditContext& ctx) {
  fill_request(a.input, ctx, a.namespaces);
  ctx.request.baseline_file = a.baseline;
  if (!a.ignore_file.empty()) ctx.request.ignore_file = a.ignore_file;
}

// CDRIFT_DEBUG_CACHE: whether the image manifest came from the cache, for tests
// and for people wondering why an audit was fast or slow.
void debug_cache(const AuditContext& ctx, const AuditReport& report) {
  const char* debug = std::getenv("CDRIFT_DEBUG_CACHE");
  if (!debug || !*debug || !ctx.cache) return;
  std::string digest = report.image ? report.image->config_digest : std::string("?");
  std::fprintf(stderr, "cdrift: image manifest cache: %s %s (%s)\n",
               ctx.cache->hits() > 0 ? "hit" : "miss", digest.c_str(), ctx.cache->dir().c_str());
}

Result<AuditOutcome> audit_with_progress(AuditRequest request) {
  Progress image_progress, container_progress;
  request.image_progress = &image_progress;
  request.container_progress = &container_progress;
  ProgressDisplay display(&image_progress, &container_progress);
  auto out = run_audit(request);
  display.stop();
  return out;
}

JsonlOptions jsonl_options(const JsonOptions& json) {
  return JsonlOptions{json.timestamp};
}

// With --format jsonl a failed audit is also a record on stdout, so that the log
// pipeline sees the container that could not be audited.
int audit_failed(const AuditArgs& a, const std::string& source, const Error& e) {
  if (a.report.format == "jsonl")
    (void)write_stdout(render_jsonl_error(source, e.message,
                                          static_cast<int>(exit_status_for(e.kind)),
                                          jsonl_options(json_options(a.report))));
  return report_error(e);
}

} // namespace

// A run that audited nothing it was asked to is not a clean run; containers the
// runtime says are no workload (pod sandboxes) were never asked for.
int all_status(const AuditArgs& a, const AuditAllOutcome& all) {
  std::size_t failed = 0;
  for (const auto& skipped : all.skipped)
    failed += skipped.note ? 0 : 1;
  if (all.reports.empty() && failed > 0)
    return report_error(Error{ErrorKind::runtime, "--all: none of the " + std::to_string(failed) +
                                                      " running containers could be audited"});
  return status(gate(all.reports, *parse_fail_on(a.report.fail_on)));
}

int cmd_audit(const AuditArgs& a) {
  if (a.all) return cmd_audit_all(a);
  if (a.input.container.empty())
    return report_error(
        Error{ErrorKind::usage, "--container is required (or --all --runtime NAME)"});
  if (!a.namespaces.empty())
    return report_error(Error{ErrorKind::usage, "--namespace goes with --all --runtime "
                                                "containerd; one container is "
                                                "containerd:NAMESPACE/ID"});
  AuditContext ctx;
  fill_request(a, ctx);
  auto outcome = audit_with_progress(ctx.request);
  if (!outcome) return audit_failed(a, a.input.container, outcome.error());
  debug_cache(ctx, outcome->report);
  const AuditReport& report = outcome->report;
  const RulePack& rules = outcome->rules;

  TextOptions text = text_options(a.report);
  const JsonOptions json = json_options(a.report);
  if (!a.report.output_json.empty())
    if (auto s = emit(a.report.output_json, render_json(report, json)); !s)
      return report_error(s.error());
  if (!a.report.output_sarif.empty())
    if (auto s = emit(a.report.output_sarif, render_sarif(report, &rules, json)); !s)
      return report_error(s.error());
  if (!a.report.output_text.empty()) {
    TextOptions file_text = text;
    file_text.color = a.report.color == "always" ? ColorMode::always : ColorMode::never;
    if (auto s = emit(a.report.output_text, render_text(report, file_text)); !s)
      return report_error(s.error());
  }
  std::string out;
  if (a.report.format == "json") {
    out = render_json(report, json);
  } else if (a.report.format == "sarif") {
    out = render_sarif(report, &rules, json);
  } else if (a.report.format == "jsonl") {
    out = render_jsonl(report, jsonl_options(json));
  } else {
    text.color = resolve_color(a.report.color);
    out = render_text(report, text);
  }
  if (auto s = write_stdout(out); !s) return report_error(s.error());
  print_warnings(report.warnings);
  return status(gate(report, *parse_fail_on(a.report.fail_on)));
}

// Every running container of one runtime, one report each.
int cmd_audit_all(const AuditArgs& a) {
  if (a.runtime.empty())
    return report_error(
        Error{ErrorKind::usage, "--all needs --runtime docker|podman|nerdctl|containerd"});
  if (!a.namespaces.empty() && a.runtime != "containerd")
    return report_error(Error{ErrorKind::usage, "--namespace needs --runtime containerd"});
  for (const auto& ns : a.namespaces)
    if (auto v = validate_containerd_identifier(ns, "--namespace"); !v)
      return report_error(v.error());
  if (a.report.format == "jsonl" &&
      (!a.report.output_json.empty() || !a.report.output_text.empty()))
    return report_error(Error{ErrorKind::usage, "--all --format jsonl writes stdout only"});
  if (!a.input.container.empty() || !a.input.image.empty())
    return report_error(Error{
        ErrorKind::usage, "--all audits every running container; drop --image and --container"});
  if (a.report.format == "sarif" || !a.report.output_sarif.empty())
    return report_error(Error{ErrorKind::usage, "--all writes text or JSON (one report per "
                                                "container); SARIF takes one container at a time"});
  AuditContext ctx;
  fill_request(a, ctx);
  AuditAllRequest request{a.runtime, ctx.request};
  Progress image_progress, container_progress;
  request.each.image_progress = &image_progress;
  request.each.container_progress = &container_progress;
  ProgressDisplay display(&image_progress, &container_progress);
  auto all = run_audit_all(request);
  display.stop();
  if (!all) return audit_failed(a, a.runtime + " (--all)", all.error());

  const JsonOptions json = json_options(a.report);
  if (a.report.format == "jsonl") {
    std::string lines;
    for (const auto& report : all->reports)
      lines += render_jsonl(report, jsonl_options(json));
    for (const auto& skipped : all->skipped)
      lines += render_jsonl_skipped(skipped.container, skipped.reason, jsonl_options(json));
    if (auto s = write_stdout(lines); !s) return report_error(s.error());
    return all_status(a, *all);
  }
  const TextOptions text = text_options(a.report);
  const std::string json_doc = render_all_json(*all, json);
  if (!a.report.output_json.empty())
    if (auto s = emit(a.report.output_json, json_doc); !s) return report_error(s.error());
  if (!a.report.output_text.empty())
    if (auto s = emit(a.report.output_text, render_all_text(*all, text)); !s)
      return report_error(s.error());
  TextOptions shown = text;
  shown.color = resolve_color(a.report.color);
  if (auto s = write_stdout(a.report.format == "json" ? json_doc : render_all_text(*all, shown));
      !s)
    return report_error(s.error());
  for (const auto& skipped : all->skipped)
    std::fprintf(stderr, "cdrift: %s %s: %s\n", skipped.note ? "note: skipped" : "warning: skipped",
                 escape_for_terminal(skipped.container).c_str(),
                 escape_for_terminal(skipped.reason).c_str());
  return all_status(a, *all);
}

int cmd_baseline(const BaselineArgs& a) {
  if (a.input.container.empty())
    return report_error(Error{ErrorKind::usage, "--container is required"});
  AuditContext ctx;
  fill_request(a.input, ctx);
  auto outcome = audit_with_progress(ctx.request);
  if (!outcome) return report_error(outcome.error());
  if (auto s = emit(a.output, render_baseline(outcome->report)); !s) return report_error(s.error());
  std::fprintf(stderr, "cdrift: recorded %zu findings in %s\n", outcome->report.findings.size(),
               escape_for_terminal(a.output).c_str());
  return status(ExitStatus::success);
}

} // namespace cdrift
