// One function per command: each declares its options on its CLI11 subcommand
// (add_*), and runs (cmd_*): arguments -> request -> one pipeline call -> render
// -> exit status.
#pragma once

#include "cdrift/report/json.hpp"
#include "cdrift/report/text.hpp"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cdrift {

// What reads the two sides of an audit (audit and baseline).
struct AuditInputArgs {
  std::string image;
  std::string container;
  std::string platform;
  std::vector<std::string> ignore;
  std::vector<std::string> rules;
  std::vector<std::string> disabled;
  std::string runtime_path;
  std::string via = "auto"; // --via: auto, layer, export
  std::string inspect_file;
  int runtime_timeout = 600;
  std::string containerd_address;
  bool no_cache = false;
};

// How an audit is rendered and gated (audit only).
struct ReportArgs {
  std::string format = "text";
  std::string output_json, output_sarif, output_text;
  std::string fail_on = "high";
  std::string min_severity = "info";
  std::string color = "auto";
  bool show_touched = false;
  bool quiet = false;
  bool timestamp = false;
};

struct AuditArgs {
  AuditInputArgs input;
  ReportArgs report;
  std::string baseline;
  std::string ignore_file;
  std::string runtime;                 // with --all
  std::vector<std::string> namespaces; // containerd namespaces for --all
  bool all = false;
};

struct BaselineArgs {
  AuditInputArgs input;
  std::string output;
};

struct ManifestArgs {
  std::string source;
  std::string format = "jsonl";
  std::string output;
  std::string platform;
};

struct DiffArgs {
  std::string left, right;
  std::string format = "text";
  std::string color = "auto";
  std::string platform;
  bool show_touched = false;
};

struct RulesArgs {
  CLI::App* list = nullptr;
  CLI::App* lint = nullptr;
  CLI::App* test = nullptr;
  std::vector<std::string> extra;
  std::string dir;
};

struct CacheArgs {
  CLI::App* prune = nullptr;
};

// Shared option setup.
void add_input_options(CLI::App* cmd, AuditInputArgs& a);
void add_report_options(CLI::App* cmd, ReportArgs& a);
TextOptions text_options(const ReportArgs& a); // colour left at never
JsonOptions json_options(const ReportArgs& a);

CLI::App* add_audit_command(CLI::App& app, AuditArgs& a);
CLI::App* add_baseline_command(CLI::App& app, BaselineArgs& a);
CLI::App* add_manifest_command(CLI::App& app, ManifestArgs& a);
CLI::App* add_diff_command(CLI::App& app, DiffArgs& a);
CLI::App* add_rules_command(CLI::App& app, RulesArgs& a);
CLI::App* add_cache_command(CLI::App& app, CacheArgs& a);

int cmd_audit(const AuditArgs& a);
int cmd_audit_all(const AuditArgs& a);
int cmd_baseline(const BaselineArgs& a);
int cmd_manifest(const ManifestArgs& a);
int cmd_diff(const DiffArgs& a);
int cmd_rules(const RulesArgs& a);
int cmd_cache(const CacheArgs& a);

} // namespace cdrift
