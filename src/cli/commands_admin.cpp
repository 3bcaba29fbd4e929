#include "cdrift/layer/cache.hpp"
#include "cdrift/pipeline/commands.hpp"
#include "cdrift/util/escape.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

#include <cstdio>

namespace cdrift {

CLI::App* add_rules_command(CLI::App& app, RulesArgs& a) {
  auto* cmd = app.add_subcommand("rules", "List, lint or test rule packs");
  cmd->require_subcommand(1);
  a.list = cmd->add_subcommand("list", "List the rules in effect");
  a.list->add_option("--rules", a.extra, "Extra rule pack directory or file");
  a.lint = cmd->add_subcommand("lint", "Load a rule pack and check it for mistakes");
  a.lint->add_option("DIR", a.dir, "Rule pack (default: the shipped pack)");
  a.test = cmd->add_subcommand("test", "Run every rule's must-match and must-not-match examples");
  a.test->add_option("DIR", a.dir, "Rule pack (default: the shipped pack)");
  return cmd;
}

CLI::App* add_cache_command(CLI::App& app, CacheArgs& a) {
  auto* cmd = app.add_subcommand("cache", "Manage the image manifest cache");
  cmd->require_subcommand(1);
  a.prune = cmd->add_subcommand("prune", "Remove every cached image manifest");
  return cmd;
}

int cmd_rules(const RulesArgs& a) {
  RulesRequest request;
  request.action = *a.list ? RulesAction::list : *a.lint ? RulesAction::lint : RulesAction::test;
  request.dir = a.dir;
  request.extra = a.extra;
  auto outcome = run_rules(request);
  if (!outcome) return report_error(outcome.error());
  switch (request.action) {
  case RulesAction::list: {
    auto s = write_stdout(format_rule_list(outcome->pack));
    return s ? status(ExitStatus::success) : report_error(s.error());
  }
  case RulesAction::lint:
    for (const auto& p : outcome->problems)
      std::fprintf(stderr, "%s\n", p.c_str());
    std::printf("%zu rules, %zu problems\n", outcome->pack.rules.size(), outcome->problems.size());
    return status(outcome->problems.empty() ? ExitStatus::success : ExitStatus::usage);
  case RulesAction::test: {
    const RuleTestResult& r = outcome->examples;
    for (const auto& msg : r.messages)
      std::fprintf(stderr, "%s\n", msg.c_str());
    std::printf("rules: %d rules, %d examples, %d passed, %d failed\n", r.rules, r.examples,
                r.examples - r.failures, r.failures);
    return status(r.failures == 0 ? ExitStatus::success : ExitStatus::usage);
  }
  }
  return status(ExitStatus::internal);
}

int cmd_cache(const CacheArgs& a) {
  if (!*a.prune) return status(ExitStatus::usage); // require_subcommand(1) guarantees one
  ManifestCache store;
  auto removed = run_cache_prune(store);
  if (!removed) return report_error(removed.error());
  std::printf("removed %zu cached image manifests from %s\n", *removed,
              escape_for_terminal(store.dir()).c_str());
  return status(ExitStatus::success);
}

} // namespace cdrift
