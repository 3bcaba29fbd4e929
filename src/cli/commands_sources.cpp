#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/manifest/mtree.hpp"
#include "cdrift/pipeline/commands.hpp"
#include "cdrift/report/diff_render.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"

namespace cdrift {

CLI::App* add_manifest_command(CLI::App& app, ManifestArgs& a) {
  auto* cmd = app.add_subcommand(
      "manifest", "Print the filesystem manifest of an image, export, directory or saved manifest");
  cmd->add_option("SRC", a.source, "Source (see 'audit --help' for the forms)")->required();
  cmd->add_option("--format", a.format, "jsonl (default) or mtree")
      ->check(CLI::IsMember({"jsonl", "mtree"}));
  cmd->add_option("-o,--output", a.output, "Write to FILE (atomically) instead of stdout");
  cmd->add_option("--platform", a.platform, "Platform to pick from a multi-platform image");
  return cmd;
}

CLI::App* add_diff_command(CLI::App& app, DiffArgs& a) {
  auto* cmd = app.add_subcommand(
      "diff", "Raw comparison of any two sources (images, exports, directories, manifests)");
  cmd->add_option("LEFT", a.left, "Reference source")->required();
  cmd->add_option("RIGHT", a.right, "Compared source")->required();
  cmd->add_option("--format", a.format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--color", a.color, "auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--platform", a.platform, "Platform to pick from multi-platform images");
  cmd->add_flag("--show-touched", a.show_touched, "Also list mtime-only changes");
  return cmd;
}

int cmd_manifest(const ManifestArgs& a) {
  ManifestRequest request;
  request.source = parse_source_spec(a.source);
  request.load.image.platform = a.platform;
  Progress progress;
  request.load.progress = &progress;
  ProgressDisplay display(&progress, nullptr);
  auto m = run_manifest(request);
  display.stop();
  if (!m) return report_error(m.error());
  std::string out;
  auto sink = [&](std::string_view chunk) { out.append(chunk); };
  if (a.format == "mtree")
    write_manifest_mtree(*m, sink);
  else
    write_manifest_jsonl(*m, sink);
  if (auto s = emit(a.output, out); !s) return report_error(s.error());
  print_warnings(m->warnings);
  return status(ExitStatus::success);
}

int cmd_diff(const DiffArgs& a) {
  DiffRequest request;
  request.left = parse_source_spec(a.left);
  request.right = parse_source_spec(a.right);
  request.load.image.platform = a.platform;
  auto result = run_diff(request);
  if (!result) return report_error(result.error());
  std::string out = a.format == "json"
                        ? render_diff_json(result->diff, result->left_source, result->right_source)
                        : render_diff_text(result->diff, result->left_source, result->right_source,
                                           resolve_color(a.color),
                                           a.show_touched ? TouchedMode::show : TouchedMode::hide);
  if (auto s = write_stdout(out); !s) return report_error(s.error());
  return status(result->diff.changes.empty() ? ExitStatus::success : ExitStatus::drift);
}

} // namespace cdrift
