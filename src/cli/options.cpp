#include "cdrift/pipeline/runtime.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace cdrift {

void add_input_options(CLI::App* cmd, AuditInputArgs& a) {
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
  cmd->add_option("--runtime-timeout", a.runtime_timeout,
                  "Seconds a runtime command may stay silent before it is killed (default 600)")
      ->option_text("SECONDS")
      ->check(CLI::Range(1, 24 * 3600 * 365));
  cmd->add_option("--via", a.via,
                  "How a docker:/podman: container is read: auto (its overlay writable layer "
                  "when readable, else its export), layer, export")
      ->check(CLI::IsMember({"auto", "layer", "export"}));
  cmd->add_option("--inspect", a.inspect_file,
                  "Saved 'docker inspect' or 'podman inspect' output of the container (an export "
                  "or directory): its creation and start times, image id and user")
      ->option_text("FILE");
  cmd->add_flag("--no-cache", a.no_cache, "Do not read or write the image manifest cache");
  cmd->add_option(
      "--platform", a.platform,
      "Platform to pick from a multi-platform image (os/arch[/variant]); default: the host's");
  cmd->add_option("--rules", a.rules,
                  "Extra rule pack directory or file (repeatable; same id overrides)");
  cmd->add_option("--disable-rule", a.disabled, "Disable a rule by id (repeatable)");
  cmd->add_option("--ignore", a.ignore,
                  "Ignore paths matching GLOB ('**' spans directories; repeatable)");
}

void add_report_options(CLI::App* cmd, ReportArgs& a) {
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
}

TextOptions text_options(const ReportArgs& a) {
  TextOptions text;
  text.verbosity = a.quiet ? Verbosity::quiet : Verbosity::normal;
  text.touched = a.show_touched ? TouchedMode::show : TouchedMode::hide;
  text.min_severity = parse_severity(a.min_severity).value_or(Severity::info);
  return text;
}

JsonOptions json_options(const ReportArgs& a) {
  JsonOptions json;
  json.touched = a.show_touched ? TouchedMode::show : TouchedMode::hide;
  if (a.timestamp) json.timestamp = now_rfc3339();
  return json;
}

CLI::App* add_audit_command(CLI::App& app, AuditArgs& a) {
  auto* cmd = app.add_subcommand(
      "audit", "Audit a container against its image: findings with severity, origin and evidence");
  add_input_options(cmd, a.input);
  cmd->add_flag("--all", a.all, "Audit every running container of --runtime, one report each");
  auto names = registered_runtime_names();
  std::string listed;
  for (std::size_t i = 0; i < names.size(); ++i)
    listed += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  cmd->add_option("--runtime", a.runtime, "Runtime for --all: " + listed)
      ->check(CLI::IsMember(names));
  cmd->add_option(
      "--namespace", a.namespaces,
      "With --all --runtime containerd: only this namespace (repeatable; default: all)");
  add_report_options(cmd, a.report);
  cmd->add_option("--baseline", a.baseline, "Suppress the findings recorded in this baseline file");
  cmd->add_option("--ignore-file", a.ignore_file,
                  "Ignore file with {rule or path, reason, expires} entries (default: "
                  ".cdriftignore.json when present)");
  cmd->add_flag("--show-touched", a.report.show_touched,
                "Also list paths whose only change is their mtime");
  cmd->add_flag("-q,--quiet", a.report.quiet, "Print only the summary line (text)");
  cmd->add_flag("--timestamp", a.report.timestamp,
                "Record the audit time in JSON and SARIF (off: byte-identical reports)");
  return cmd;
}

CLI::App* add_baseline_command(CLI::App& app, BaselineArgs& a) {
  auto* cmd = app.add_subcommand(
      "baseline", "Record the current findings so later audits report only new ones");
  add_input_options(cmd, a.input);
  cmd->add_option("-o,--output", a.output, "Baseline file to write (atomically)")->required();
  return cmd;
}

} // namespace cdrift
