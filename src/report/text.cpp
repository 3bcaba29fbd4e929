#include "cdrift/report/text.hpp"

#include "cdrift/report/format.hpp"
#include "cdrift/util/build_info.hpp"
#include "cdrift/util/escape.hpp"
#include "report/text_style.hpp"

#include <array>

namespace cdrift {

namespace {

constexpr std::array<Severity, 5> most_severe_first = {
    Severity::critical, Severity::high, Severity::medium, Severity::low, Severity::info};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

// What follows the path on a finding's first line: the changed fields, the new
// entry, or the size of a deleted subtree.
std::string change_detail(const Change& c) {
  switch (c.kind) {
  case ChangeKind::modified:
    return describe_fields(c);
  case ChangeKind::added:
    return c.after ? describe_entry(*c.after) : std::string();
  case ChangeKind::deleted: {
    std::string out = c.before ? std::string(to_string(c.before->type)) : std::string();
    if (c.subtree_entries > 0)
      out += " (and " + std::to_string(c.subtree_entries) +
             (c.subtree_entries == 1 ? " entry below)" : " entries below)");
    return out;
  }
  case ChangeKind::touched:
    return "mtime";
  }
  return {};
}

void header(std::string& out, const AuditReport& r, const Style& style) {
  out += style.bold("cdrift " + std::string(version_string) + " audit") + "\n";
  out += "image      " + std::string(to_string(r.image_kind)) + " " +
         escape_for_terminal(r.image_source);
  if (r.image && !r.image->reference.empty())
    out += " (" + escape_for_terminal(r.image->reference) + ")";
  out += "\n";
  if (r.image) {
    const ImageInfo& i = *r.image;
    if (!i.manifest_digest.empty())
      out += "           manifest " + escape_for_terminal(i.manifest_digest) + "\n";
    if (!i.config_digest.empty())
      out += "           config   " + escape_for_terminal(i.config_digest) + "\n";
    if (!i.layers.empty()) {
      std::size_t verified = 0;
      for (const LayerInfo& l : i.layers)
        verified += l.verified ? 1 : 0;
      out += "           " + std::to_string(i.layers.size()) +
             (i.layers.size() == 1 ? " layer, " : " layers, ") +
             (verified == i.layers.size() ? std::string("all verified")
                                          : std::to_string(verified) + " verified") +
             "\n";
    }
  }
  const ContainerInfo& c = r.container;
  out += "container  " + std::string(to_string(r.container_kind)) + " " +
         escape_for_terminal(c.source);
  if (!c.name.empty()) out += " name " + escape_for_terminal(c.name);
  if (!c.id.empty()) out += " id " + escape_for_terminal(c.id.substr(0, 12));
  out += "\n";
  if (c.kubernetes) out += "pod        " + describe_kubernetes(*c.kubernetes) + "\n";
  if (!c.created.empty()) out += "           created " + escape_for_terminal(c.created) + "\n";
  out += "entries    image " + std::to_string(r.entries_image) + ", container " +
         std::to_string(r.entries_container) + "\n";
  if (!r.rule_sources.empty() || !r.rules_sha256.empty()) {
    out += "rules      " + std::to_string(r.rule_sources.size()) +
           (r.rule_sources.size() == 1 ? " file" : " files");
    if (!r.rules_sha256.empty())
      out += ", sha256 " + escape_for_terminal(r.rules_sha256.substr(0, 16));
    out += "\n";
  }
}

void finding(std::string& out, const Finding& f, const Style& style) {
  const Change& c = f.change;
  std::string first = "  " + style.severity(f.severity, pad(to_string(f.severity), 8)) + "  " +
                      pad(to_string(c.kind), 8) + "  " + style.bold(escape_for_terminal(c.path));
  std::string detail = change_detail(c);
  if (!detail.empty()) first += "  " + detail;
  out += first + "\n";

  const std::string indent = "            ";
  out += indent + "rule     " + escape_for_terminal(f.rule.id);
  if (!f.rule.title.empty()) out += "  " + escape_for_terminal(f.rule.title);
  out += "\n";
  for (const RuleRef& other : f.other_rules)
    out += indent + "also     " + escape_for_terminal(other.id) + " (" +
           std::string(to_string(other.severity)) + ")  " + escape_for_terminal(other.title) + "\n";
  out += indent + "origin   " + std::string(to_string(f.origin.kind)) + " (" +
         std::string(to_string(f.origin.confidence)) + " confidence)\n";
  for (const std::string& e : f.origin.evidence)
    out += indent + "           - " + escape_for_terminal(e) + "\n";

  const FindingContext& ctx = f.context;
  std::string context;
  auto add = [&](const std::string& part) { context += (context.empty() ? "" : "; ") + part; };
  if (ctx.layer) {
    std::string layer = "layer " + std::to_string(*ctx.layer);
    if (!ctx.created_by.empty()) layer += ": " + escape_for_terminal(ctx.created_by);
    add(layer);
  }
  if (!ctx.package.empty()) {
    std::string package = "package " + escape_for_terminal(ctx.package);
    if (!ctx.package_manager.empty())
      package += " (" + escape_for_terminal(ctx.package_manager) + ")";
    add(package);
  }
  if (ctx.package_checksum_ok) {
    if (*ctx.package_checksum_ok)
      add("matches its package");
    else
      add(style.warn("no longer matches its package"));
  }
  if (!context.empty()) out += indent + "context  " + context + "\n";
  if (!f.remediation.empty())
    out += indent + "fix      " + escape_for_terminal(f.remediation) + "\n";
}

// A docker argument as a POSIX shell reads it back: plan paths may hold spaces.
std::string shell_word(std::string_view arg) {
  bool plain = !arg.empty();
  for (char c : arg)
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string_view("_-./:=@%+,").find(c) != std::string_view::npos);
  if (plain) return std::string(arg);
  std::string out = "'";
  for (char c : arg)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void read_only_section(std::string& out, const ReadOnlyPlan& plan, const Style& style) {
  out += "\n" + style.bold("To run this container read-only:") + " ";
  if (plan.ready) {
    out += "it wrote nothing, so nothing needs a mount (docker run --read-only; Kubernetes "
           "readOnlyRootFilesystem: true)\n";
    return;
  }
  if (plan.writable_paths.empty()) {
    out += "no directory to mount, see the notes\n";
  } else {
    std::string dirs;
    for (const WritablePath& w : plan.writable_paths)
      dirs += (dirs.empty() ? "" : ", ") + escape_for_terminal(w.path);
    out += "make " + dirs + " writable\n";
  }
  out += "  docker run";
  for (const std::string& flag : plan.docker_run)
    out += " " + escape_for_terminal(shell_word(flag));
  out += " IMAGE\n  Kubernetes (container spec; volumes go to the pod spec):\n";
  std::string_view yaml = plan.kubernetes;
  while (!yaml.empty()) {
    auto nl = yaml.find('\n');
    std::string_view line = yaml.substr(0, nl);
    if (line.empty() || line.front() != '#') out += "    " + escape_for_terminal(line) + "\n";
    yaml.remove_prefix(nl == std::string_view::npos ? yaml.size() : nl + 1);
  }
  for (const std::string& n : plan.notes)
    out += "  note: " + escape_for_terminal(n) + "\n";
}

} // namespace

std::string render_summary_line(const AuditReport& r) {
  std::array<std::size_t, 5> counts{};
  for (const Finding& f : r.findings)
    ++counts[static_cast<std::size_t>(f.severity)];
  std::size_t n = r.findings.size();
  std::string out = std::to_string(n) + (n == 1 ? " finding" : " findings");
  if (n > 0) {
    out += ":";
    for (std::size_t i = 0; i < most_severe_first.size(); ++i) {
      Severity s = most_severe_first[i];
      out += (i ? ", " : " ") + std::to_string(counts[static_cast<std::size_t>(s)]) + " " +
             std::string(to_string(s));
    }
  }
  out += " \xC2\xB7 " + std::to_string(r.ignored.size()) + " ignored";
  out += " \xC2\xB7 " + std::to_string(r.suppressed.size()) + " suppressed";
  return out;
}

std::string render_text(const AuditReport& r, const TextOptions& options) {
  Style style(options.color);
  if (options.verbosity == Verbosity::quiet) return render_summary_line(r) + "\n";

  std::string out;
  header(out, r, style);

  std::size_t hidden = 0;
  for (Severity s : most_severe_first) {
    std::vector<const Finding*> group;
    for (const Finding& f : r.findings)
      if (f.severity == s) group.push_back(&f);
    if (group.empty()) continue;
    if (s < options.min_severity) {
      hidden += group.size();
      continue;
    }
    out += "\n" +
           style.severity(s, upper(to_string(s)) + " (" + std::to_string(group.size()) + ")") +
           "\n";
    // Findings arrive sorted by severity then path; keep that order within the group.
    for (const Finding* f : group)
      finding(out, *f, style);
  }
  if (r.findings.empty()) out += "\nNo drift.\n";
  if (hidden > 0)
    out += "\n" + std::to_string(hidden) + (hidden == 1 ? " finding" : " findings") + " below " +
           std::string(to_string(options.min_severity)) + " not shown (--min-severity)\n";

  if (!r.suppressed.empty()) {
    out += "\n" + style.bold("SUPPRESSED (" + std::to_string(r.suppressed.size()) + ")") + "\n";
    for (const SuppressedFinding& s : r.suppressed)
      out += "  " + pad(to_string(s.finding.severity), 8) + "  " +
             pad(to_string(s.finding.change.kind), 8) + "  " +
             escape_for_terminal(s.finding.change.path) + "  " +
             escape_for_terminal(s.finding.rule.id) + "  (" + escape_for_terminal(s.reason) + ")\n";
  }
  if (!r.ignored.empty()) {
    out += "\n" + style.bold("IGNORED (" + std::to_string(r.ignored.size()) + ")") + "\n";
    for (const IgnoredPath& i : r.ignored)
      out += "  " + escape_for_terminal(i.path) + "  (" + escape_for_terminal(i.reason) + ")\n";
  }
  if (options.touched == TouchedMode::show && !r.touched.empty()) {
    out +=
        "\n" + style.bold("TOUCHED, mtime only (" + std::to_string(r.touched.size()) + ")") + "\n";
    for (const Change& c : r.touched)
      out += "  " + escape_for_terminal(c.path) + "\n";
  }
  if (!r.warnings.empty()) {
    out += "\n" + style.warn("WARNINGS (" + std::to_string(r.warnings.size()) + ")") + "\n";
    for (const std::string& w : r.warnings)
      out += "  " + escape_for_terminal(w) + "\n";
  }
  read_only_section(out, r.read_only_plan, style);
  out += "\n" + style.bold(render_summary_line(r)) + "\n";
  return out;
}

} // namespace cdrift
