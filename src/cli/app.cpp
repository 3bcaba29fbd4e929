#include "cli/app.hpp"

#include "cdrift/util/build_info.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

#include <archive.h>
#include <cstdio>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

namespace cdrift {

namespace {

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

} // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"cdrift: prove a container still matches its image, or show how it drifted"};
  app.require_subcommand(0, 1);
  app.footer("Exit codes: 0 no drift at or above --fail-on (or success), 1 drift found, 2 usage,\n"
             "configuration or rule error, 3 input, integrity or runtime error.\n"
             "See 'cdrift COMMAND --help' and docs/ for details.");
  bool show_version = false;
  app.add_flag("--version", show_version, "Print version, commit and library versions");

  ManifestArgs manifest_args;
  AuditArgs audit_args;
  DiffArgs diff_args;
  BaselineArgs baseline_args;
  RulesArgs rules_args;
  CacheArgs cache_args;
  auto* manifest = add_manifest_command(app, manifest_args);
  auto* audit = add_audit_command(app, audit_args);
  auto* diff = add_diff_command(app, diff_args);
  auto* baseline = add_baseline_command(app, baseline_args);
  auto* rules = add_rules_command(app, rules_args);
  auto* cache = add_cache_command(app, cache_args);

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
  if (*manifest) return cmd_manifest(manifest_args);
  if (*audit) return cmd_audit(audit_args);
  if (*diff) return cmd_diff(diff_args);
  if (*baseline) return cmd_baseline(baseline_args);
  if (*cache) return cmd_cache(cache_args);
  if (*rules) return cmd_rules(rules_args);
  std::fputs(app.help().c_str(), stdout);
  return status(ExitStatus::usage);
}

} // namespace cdrift
