#include "cdrift/cli/app.hpp"

#include "cdrift/classify/suppress.hpp"
#include "cdrift/layer/cache.hpp"
#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/manifest/mtree.hpp"
#include "cdrift/pipeline/audit.hpp"
#include "cdrift/pipeline/containerd.hpp"
#include "cdrift/pipeline/runtime.hpp"
#include "cdrift/report/diff_render.hpp"
#include "cdrift/report/json.hpp"
#include "cdrift/report/jsonl.hpp"
#include "cdrift/report/sarif.hpp"
#include "cdrift/report/text.hpp"
#include "cdrift/util/atomic_file.hpp"
#include "cdrift/util/build_info.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/exit_status.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <archive.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <optional>
#include <thread>
#include <unistd.h>

namespace cdrift {

namespace {

int status(ExitStatus s) {
  return static_cast<int>(s);
}

int report_error(const Error& e) {
  // Messages escape the input names they quote; this is the net for any that
  // slipped through, so an error is always one line with no terminal sequences.
  bool raw = !is_valid_utf8(e.message) ||
             std::any_of(e.message.begin(), e.message.end(),
                         [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  std::fprintf(stderr, "cdrift: %s\n",
               raw ? escape_for_terminal(e.message).c_str() : e.message.c_str());
  return status(exit_status_for(e.kind));
}

Status write_stdout(std::string_view data) {
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), stdout) != data.size())
    return fail(ErrorKind::io, "stdout: write failed");
  if (std::fflush(stdout) != 0) return fail(ErrorKind::io, "stdout: write failed");
  return {};
}

// Writes to FILE atomically, or to stdout when FILE is empty or "-".
Status emit(const std::string& file, std::string_view data) {
  if (file.empty() || file == "-") return write_stdout(data);
  return write_file_atomic(file, data);
}

std::string today_utc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string now_rfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string version_text() {
  std::string s = "cdrift ";
  s += version_string;
  s += " (commit ";
  s += git_commit;
  s += ")\n";
  s += archive_version_details();
  s += "\n";
  s += OpenSSL_version(OPENSSL_VERSION);
  s += "\n";
  return s;
}

// Progress on stderr, only for people watching a terminal; scripts and CI logs
// never see it.
class ProgressDisplay {
public:
  ProgressDisplay(Progress* image, Progress* container)
      : m_image(image), m_container(container), m_enabled(::isatty(2) == 1) {
    if (m_enabled) m_thread = std::thread([this] { loop(); });
  }
  ~ProgressDisplay() { stop(); }
  void stop() {
    if (!m_thread.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_done = true;
    }
    m_cv.notify_all();
    m_thread.join();
    if (m_shown) std::fprintf(stderr, "\r\033[K");
  }

private:
  static std::string side(const char* name, const Progress* p) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s %.1f MB, %llu entries", name,
                  static_cast<double>(p->bytes.load()) / 1e6,
                  static_cast<unsigned long long>(p->entries.load()));
    return buf;
  }
  void loop() {
    std::unique_lock<std::mutex> lock(m_mutex);
    // Short audits finish before anything is drawn.
    if (m_cv.wait_for(lock, std::chrono::milliseconds(500), [this] { return m_done; })) return;
    while (!m_done) {
      std::string line = "reading: " + side("image", m_image);
      if (m_container) line += " · " + side("container", m_container);
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      std::fflush(stderr);
      m_shown = true;
      m_cv.wait_for(lock, std::chrono::milliseconds(200), [this] { return m_done; });
    }
  }
  Progress* m_image;
  Progress* m_container;
  bool m_enabled;
  bool m_shown = false;
  bool m_done = false;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::thread m_thread;
};

ColorMode resolve_color(const std::string& choice) {
  if (choice == "always") return ColorMode::always;
  if (choice == "never") return ColorMode::never;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return ColorMode::never;
  return ::isatty(1) == 1 ? ColorMode::always : ColorMode::never;
}

struct AuditArgs {
  std::string image;
  std::string container;
  std::string format = "text";
  std::string output_json, output_sarif, output_text;
  std::string fail_on = "high";
  std::string min_severity = "info";
  std::string color = "auto";
  std::string platform;
  std::string baseline;
  std::string ignore_file;
  std::vector<std::string> ignore;
  std::vector<std::string> rules;
  std::vector<std::string> disabled;
  std::string runtime_path;
  std::string runtime; // with --all
  std::string containerd_address;
  std::vector<std::string> namespaces; // containerd namespaces for --all
  bool all = false;
  bool no_cache = false;
  bool show_touched = false;
  bool quiet = false;
  bool timestamp = false;
};

void add_audit_options(CLI::App* cmd, AuditArgs& a, bool with_outputs) {
  cmd->add_option(
      "--image", a.image,
      "Image source: OCI layout dir, oci-archive, docker-archive, rootfs tar or dir, saved "
      "manifest, docker:REF, podman:REF (optional with a docker:/podman: container)");
  cmd->add_option("--container", a.container,
                  "Container source: export tar (- for stdin, gzip ok), directory, saved manifest, "
                  "docker:NAME, podman:NAME, nerdctl:NAME, containerd:[NAMESPACE/]ID");
  cmd->add_option("--containerd-address", a.containerd_address,
                  "containerd socket (default: $CONTAINERD_ADDRESS, else "
                  "/run/containerd/containerd.sock)");
  cmd->add_option("--runtime-path", a.runtime_path,
                  "Container runtime CLI to run instead of docker/podman/nerdctl from PATH");
  cmd->add_flag("--no-cache", a.no_cache, "Do not read or write the image manifest cache");
  cmd->add_option(
      "--platform", a.platform,
      "Platform to pick from a multi-platform image (os/arch[/variant]); default: the host's");
  cmd->add_option("--rules", a.rules,
                  "Extra rule pack directory or file (repeatable; same id overrides)");
  cmd->add_option("--disable-rule", a.disabled, "Disable a rule by id (repeatable)");
  cmd->add_option("--ignore", a.ignore,
                  "Ignore paths matching GLOB ('**' spans directories; repeatable)");
  if (!with_outputs) return;
  cmd->add_flag("--all", a.all, "Audit every running container of --runtime, one report each");
  cmd->add_option("--runtime", a.runtime,
                  "Runtime for --all: docker, podman, nerdctl or containerd")
      ->check(CLI::IsMember(registered_runtime_names()));
  cmd->add_option(
      "--namespace", a.namespaces,
      "With --all --runtime containerd: only this namespace (repeatable; default: all)");
  cmd->add_option("--format", a.format, "Report on stdout: text, json, sarif or jsonl")
      ->check(CLI::IsMember({"text", "json", "sarif", "jsonl"}));
  cmd->add_option("--output-json", a.output_json,
                  "Also write the JSON report to FILE (atomically)");
  cmd->add_option("--output-sarif", a.output_sarif,
                  "Also write the SARIF report to FILE (atomically)");
  cmd->add_option("--output-text", a.output_text,
                  "Also write the text report to FILE (atomically)");
  cmd->add_option("--fail-on", a.fail_on,
                  "Exit 1 when an unsuppressed finding is at or above: critical, high, medium, "
                  "low, info, never")
      ->check(CLI::IsMember({"critical", "high", "medium", "low", "info", "never"}));
  cmd->add_option("--min-severity", a.min_severity,
                  "Hide findings below this level from the text report (still counted)")
      ->check(CLI::IsMember({"critical", "high", "medium", "low", "info"}));
  cmd->add_option("--color", a.color,
                  "Colour in the text report: auto, always, never (NO_COLOR respected)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--baseline", a.baseline, "Suppress the findings recorded in this baseline file");
  cmd->add_option("--ignore-file", a.ignore_file,
                  "Ignore file with {rule or path, reason, expires} entries (default: "
                  ".cdriftignore.json when present)");
  cmd->add_flag("--show-touched", a.show_touched,
                "Also list paths whose only change is their mtime");
  cmd->add_flag("-q,--quiet", a.quiet, "Print only the summary line (text)");
  cmd->add_flag("--timestamp", a.timestamp,
                "Record the audit time in JSON and SARIF (off: byte-identical reports)");
}

struct RuntimeContext {
  Runtimes runtimes;
  std::optional<ManifestCache> cache;
};

RuntimeContext make_runtime_context(const AuditArgs& a) {
  RuntimeOptions options;
  options.runtime_path = a.runtime_path;
  options.containerd_address = a.containerd_address;
  options.containerd_namespaces = a.namespaces;
  RuntimeContext rt{Runtimes::registered(options), std::nullopt};
  if (!a.no_cache) rt.cache.emplace();
  return rt;
}

AuditRequest make_request(const AuditArgs& a, RuntimeContext& rt) {
  AuditRequest r;
  r.container = parse_source_spec(a.container);
  if (!a.image.empty()) r.image = parse_source_spec(a.image);
  r.runtimes = &rt.runtimes;
  r.cache = rt.cache ? &*rt.cache : nullptr;
  r.load.image.platform = a.platform;
  r.rule_dirs = a.rules;
  r.disabled_rules = a.disabled;
  r.classify.ignore_globs = a.ignore;
  r.baseline_file = a.baseline;
  r.ignore_file = a.ignore_file;
  if (r.ignore_file.empty() && ::access(".cdriftignore.json", F_OK) == 0)
    r.ignore_file = ".cdriftignore.json";
  r.today = today_utc();
  return r;
}

void debug_cache(const RuntimeContext& rt, const AuditReport& report) {
  const char* debug = std::getenv("CDRIFT_DEBUG_CACHE");
  if (!debug || !*debug || !rt.cache) return;
  std::string digest = report.image ? report.image->config_digest : std::string("?");
  std::fprintf(stderr, "cdrift: image manifest cache: %s %s (%s)\n",
               rt.cache->hits() > 0 ? "hit" : "miss", digest.c_str(), rt.cache->dir().c_str());
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

int cmd_audit_all(const AuditArgs& a);

JsonlOptions jsonl_options(const JsonOptions& json) {
  return JsonlOptions{json.timestamp};
}

// With --format jsonl a failed audit is also a record on stdout, so the log
// pipeline sees the container that could not be audited.
int audit_failed(const AuditArgs& a, const std::string& source, const Error& e) {
  if (a.format == "jsonl")
    (void)write_stdout(render_jsonl_error(
        source, e.message, static_cast<int>(exit_status_for(e.kind)),
        JsonlOptions{a.timestamp ? std::optional<std::string>(now_rfc3339()) : std::nullopt}));
  return report_error(e);
}

int cmd_audit(const AuditArgs& a) {
  if (a.all) return cmd_audit_all(a);
  if (a.container.empty())
    return report_error(
        Error{ErrorKind::usage, "--container is required (or --all --runtime NAME)"});
  if (!a.namespaces.empty())
    return report_error(Error{ErrorKind::usage, "--namespace goes with --all --runtime "
                                                "containerd; one container is "
                                                "containerd:NAMESPACE/ID"});
  RuntimeContext rt = make_runtime_context(a);
  auto outcome = audit_with_progress(make_request(a, rt));
  if (!outcome) return audit_failed(a, a.container, outcome.error());
  debug_cache(rt, outcome->report);
  const AuditReport& report = outcome->report;
  const RulePack& rules = outcome->rules;

  TextOptions text;
  text.verbosity = a.quiet ? Verbosity::quiet : Verbosity::normal;
  text.touched = a.show_touched ? TouchedMode::show : TouchedMode::hide;
  text.min_severity = *parse_severity(a.min_severity);
  JsonOptions json;
  json.touched = text.touched;
  if (a.timestamp) json.timestamp = now_rfc3339();

  if (!a.output_json.empty()) {
    if (auto s = emit(a.output_json, render_json(report, json)); !s) return report_error(s.error());
  }
  if (!a.output_sarif.empty()) {
    if (auto s = emit(a.output_sarif, render_sarif(report, &rules, json)); !s)
      return report_error(s.error());
  }
  if (!a.output_text.empty()) {
    TextOptions file_text = text;
    file_text.color = a.color == "always" ? ColorMode::always : ColorMode::never;
    if (auto s = emit(a.output_text, render_text(report, file_text)); !s)
      return report_error(s.error());
  }
  std::string out;
  if (a.format == "json") {
    out = render_json(report, json);
  } else if (a.format == "sarif") {
    out = render_sarif(report, &rules, json);
  } else if (a.format == "jsonl") {
    out = render_jsonl(report, jsonl_options(json));
  } else {
    text.color = resolve_color(a.color);
    out = render_text(report, text);
  }
  if (auto s = write_stdout(out); !s) return report_error(s.error());
  for (const auto& w : report.warnings)
    std::fprintf(stderr, "cdrift: warning: %s\n", escape_for_terminal(w).c_str());

  if (a.fail_on == "never") return status(ExitStatus::success);
  Severity threshold = *parse_severity(a.fail_on);
  for (const auto& f : report.findings)
    if (f.severity >= threshold) return status(ExitStatus::drift);
  return status(ExitStatus::success);
}

// Every running container of one runtime, one report each; each distinct image
// is read once (in memory here, and through the on-disk cache across runs).
int cmd_audit_all(const AuditArgs& a) {
  if (a.runtime.empty())
    return report_error(
        Error{ErrorKind::usage, "--all needs --runtime docker|podman|nerdctl|containerd"});
  if (a.format == "jsonl" && (!a.output_json.empty() || !a.output_text.empty()))
    return report_error(Error{ErrorKind::usage, "--all --format jsonl writes stdout only"});
  if (!a.namespaces.empty() && a.runtime != "containerd")
    return report_error(Error{ErrorKind::usage, "--namespace needs --runtime containerd"});
  for (const auto& ns : a.namespaces)
    if (auto v = validate_containerd_identifier(ns, "--namespace"); !v)
      return report_error(v.error());
  if (!a.container.empty() || !a.image.empty())
    return report_error(Error{
        ErrorKind::usage, "--all audits every running container; drop --image and --container"});
  if (a.format == "sarif" || !a.output_sarif.empty())
    return report_error(Error{ErrorKind::usage, "--all writes text or JSON (one report per "
                                                "container); SARIF takes one container at a time"});
  RuntimeContext rt = make_runtime_context(a);
  AuditAllRequest request{a.runtime, make_request(a, rt)};
  Progress image_progress, container_progress;
  request.each.image_progress = &image_progress;
  request.each.container_progress = &container_progress;
  ProgressDisplay display(&image_progress, &container_progress);
  auto all = run_audit_all(request);
  display.stop();
  if (!all) return audit_failed(a, a.runtime + " (--all)", all.error());
  const std::vector<AuditReport>& outcomes = all->reports;
  JsonOptions json;
  if (a.timestamp) json.timestamp = now_rfc3339();
  if (a.format == "jsonl") {
    std::string lines;
    for (const auto& o : outcomes)
      lines += render_jsonl(o, jsonl_options(json));
    for (const auto& sk : all->skipped)
      lines += render_jsonl_skipped(sk.container, sk.reason, jsonl_options(json));
    if (auto s = write_stdout(lines); !s) return report_error(s.error());
  } else {
    for (const auto& sk : all->skipped)
      std::fprintf(stderr, "cdrift: skipped %s: %s\n", escape_for_terminal(sk.container).c_str(),
                   escape_for_terminal(sk.reason).c_str());
  }
  json.touched = a.show_touched ? TouchedMode::show : TouchedMode::hide;
  std::string json_doc = "[";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    std::string one = render_json(outcomes[i], json);
    while (!one.empty() && one.back() == '\n')
      one.pop_back();
    json_doc += (i ? ",\n" : "\n") + one;
  }
  json_doc += outcomes.empty() ? "]\n" : "\n]\n";
  TextOptions text;
  text.verbosity = a.quiet ? Verbosity::quiet : Verbosity::normal;
  text.touched = a.show_touched ? TouchedMode::show : TouchedMode::hide;
  text.min_severity = *parse_severity(a.min_severity);
  auto text_doc = [&](ColorMode color) {
    TextOptions t = text;
    t.color = color;
    std::string out;
    for (const auto& o : outcomes)
      out += render_text(o, t) + "\n";
    if (outcomes.empty()) out = "no running containers\n";
    return out;
  };
  if (a.format != "jsonl") {
    if (!a.output_json.empty())
      if (auto s = emit(a.output_json, json_doc); !s) return report_error(s.error());
    if (!a.output_text.empty())
      if (auto s = emit(a.output_text, text_doc(ColorMode::never)); !s)
        return report_error(s.error());
    auto s = write_stdout(a.format == "json" ? json_doc : text_doc(resolve_color(a.color)));
    if (!s) return report_error(s.error());
  }
  if (a.fail_on == "never") return status(ExitStatus::success);
  Severity threshold = *parse_severity(a.fail_on);
  for (const auto& o : outcomes)
    for (const auto& f : o.findings)
      if (f.severity >= threshold) return status(ExitStatus::drift);
  return status(ExitStatus::success);
}

} // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"cdrift: prove a container still matches its image, or show how it drifted"};
  app.require_subcommand(0, 1);
  app.footer("Exit codes: 0 no drift at or above --fail-on (or success), 1 drift found, 2 usage,\n"
             "configuration or rule error, 3 input, integrity or runtime error.\n"
             "See 'cdrift COMMAND --help' and docs/ for details.");
  bool show_version = false;
  app.add_flag("--version", show_version, "Print version, commit and library versions");

  // manifest
  std::string m_src, m_format = "jsonl", m_output, m_platform;
  auto* manifest = app.add_subcommand(
      "manifest", "Print the filesystem manifest of an image, export, directory or saved manifest");
  manifest->add_option("SRC", m_src, "Source (see 'audit --help' for the forms)")->required();
  manifest->add_option("--format", m_format, "jsonl (default) or mtree")
      ->check(CLI::IsMember({"jsonl", "mtree"}));
  manifest->add_option("-o,--output", m_output, "Write to FILE (atomically) instead of stdout");
  manifest->add_option("--platform", m_platform, "Platform to pick from a multi-platform image");

  // audit
  AuditArgs audit_args;
  auto* audit = app.add_subcommand(
      "audit", "Audit a container against its image: findings with severity, origin and evidence");
  add_audit_options(audit, audit_args, true);

  // diff
  std::string d_left, d_right, d_format = "text", d_color = "auto", d_platform;
  bool d_touched = false;
  auto* diff = app.add_subcommand(
      "diff", "Raw comparison of any two sources (images, exports, directories, manifests)");
  diff->add_option("LEFT", d_left, "Reference source")->required();
  diff->add_option("RIGHT", d_right, "Compared source")->required();
  diff->add_option("--format", d_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  diff->add_option("--color", d_color, "auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  diff->add_option("--platform", d_platform, "Platform to pick from multi-platform images");
  diff->add_flag("--show-touched", d_touched, "Also list mtime-only changes");

  // baseline
  AuditArgs base_args;
  std::string base_output;
  auto* baseline = app.add_subcommand(
      "baseline", "Record the current findings so later audits report only new ones");
  add_audit_options(baseline, base_args, false);
  baseline->add_option("-o,--output", base_output, "Baseline file to write (atomically)")
      ->required();

  // rules
  auto* rules = app.add_subcommand("rules", "List, lint or test rule packs");
  rules->require_subcommand(1);
  std::vector<std::string> r_extra;
  auto* rules_list = rules->add_subcommand("list", "List the rules in effect");
  rules_list->add_option("--rules", r_extra, "Extra rule pack directory or file");
  std::string r_dir;
  auto* rules_lint = rules->add_subcommand("lint", "Load a rule pack and check it for mistakes");
  rules_lint->add_option("DIR", r_dir, "Rule pack (default: the shipped pack)");
  auto* rules_test =
      rules->add_subcommand("test", "Run every rule's must-match and must-not-match examples");
  rules_test->add_option("DIR", r_dir, "Rule pack (default: the shipped pack)");

  // cache
  auto* cache = app.add_subcommand("cache", "Manage the image manifest cache");
  cache->require_subcommand(1);
  auto* cache_prune = cache->add_subcommand("prune", "Remove every cached image manifest");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cdrift: %s (see 'cdrift --help')\n", e.what());
    return status(ExitStatus::usage);
  }

  if (show_version) {
    auto s = write_stdout(version_text());
    return s ? status(ExitStatus::success) : report_error(s.error());
  }

  if (*manifest) {
    LoadOptions options;
    options.image.platform = m_platform;
    Progress progress;
    options.progress = &progress;
    ProgressDisplay display(&progress, nullptr);
    auto m = load_manifest(parse_source_spec(m_src), Side::image, options);
    display.stop();
    if (!m) return report_error(m.error());
    std::string out;
    auto sink = [&](std::string_view chunk) { out.append(chunk); };
    if (m_format == "mtree")
      write_manifest_mtree(*m, sink);
    else
      write_manifest_jsonl(*m, sink);
    if (auto s = emit(m_output, out); !s) return report_error(s.error());
    for (const auto& w : m->warnings)
      std::fprintf(stderr, "cdrift: warning: %s\n", escape_for_terminal(w).c_str());
    return status(ExitStatus::success);
  }

  if (*audit) return cmd_audit(audit_args);

  if (*diff) {
    LoadOptions options;
    options.image.platform = d_platform;
    auto pair = load_pair(parse_source_spec(d_left), Side::image, parse_source_spec(d_right),
                          Side::container, options);
    if (!pair) return report_error(pair.error());
    DiffResult result = diff_manifests(pair->first, pair->second);
    std::string out = d_format == "json"
                          ? render_diff_json(result, pair->first.source, pair->second.source)
                          : render_diff_text(result, pair->first.source, pair->second.source,
                                             resolve_color(d_color),
                                             d_touched ? TouchedMode::show : TouchedMode::hide);
    if (auto s = write_stdout(out); !s) return report_error(s.error());
    return status(result.changes.empty() ? ExitStatus::success : ExitStatus::drift);
  }

  if (*baseline) {
    if (base_args.container.empty())
      return report_error(Error{ErrorKind::usage, "--container is required"});
    RuntimeContext rt = make_runtime_context(base_args);
    auto outcome = audit_with_progress(make_request(base_args, rt));
    if (!outcome) return report_error(outcome.error());
    if (auto s = emit(base_output, render_baseline(outcome->report)); !s)
      return report_error(s.error());
    std::fprintf(stderr, "cdrift: recorded %zu findings in %s\n", outcome->report.findings.size(),
                 escape_for_terminal(base_output).c_str());
    return status(ExitStatus::success);
  }

  if (*cache_prune) {
    ManifestCache store;
    auto removed = store.prune();
    if (!removed) return report_error(removed.error());
    std::printf("removed %zu cached image manifests from %s\n", *removed,
                escape_for_terminal(store.dir()).c_str());
    return status(ExitStatus::success);
  }

  if (*rules) {
    std::vector<std::string> dirs;
    if (!r_dir.empty())
      dirs.push_back(r_dir);
    else
      dirs.push_back(default_rules_dir());
    if (*rules_list) dirs.insert(dirs.end(), r_extra.begin(), r_extra.end());
    auto pack = load_rule_pack(dirs, {});
    if (!pack) return report_error(pack.error());
    if (*rules_list) {
      auto s = write_stdout(format_rule_list(*pack));
      return s ? status(ExitStatus::success) : report_error(s.error());
    }
    if (*rules_lint) {
      auto problems = lint_rule_pack(*pack);
      for (const auto& p : problems)
        std::fprintf(stderr, "%s\n", p.c_str());
      std::printf("%zu rules, %zu problems\n", pack->rules.size(), problems.size());
      return status(problems.empty() ? ExitStatus::success : ExitStatus::usage);
    }
    auto result = test_rule_examples(*pack);
    for (const auto& msg : result.messages)
      std::fprintf(stderr, "%s\n", msg.c_str());
    std::printf("rules: %d rules, %d examples, %d passed, %d failed\n", result.rules,
                result.examples, result.examples - result.failures, result.failures);
    return status(result.failures == 0 ? ExitStatus::success : ExitStatus::usage);
  }

  std::fputs(app.help().c_str(), stdout);
  return status(ExitStatus::usage);
}

} // namespace cdrift
