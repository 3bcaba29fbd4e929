// Helpers behind rule conditions: account files, entrypoint resolution, glob checks.
#include "classify/accounts.hpp"
#include "classify/rule_internal.hpp"

#include <algorithm>

namespace cdrift::rule_detail {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t pos = s.find(sep, start);
    out.push_back(
        s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

// Lexically cleans an absolute path (no filesystem access; the image is not here).
std::string normalize(std::string_view p) {
  std::vector<std::string_view> parts;
  for (std::string_view c : split(p, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  std::string out;
  for (auto c : parts) {
    out += '/';
    out += c;
  }
  return out.empty() ? "/" : out;
}

std::string_view env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& kv : env)
    if (kv.size() > name.size() && kv.compare(0, name.size(), name) == 0 && kv[name.size()] == '=')
      return std::string_view(kv).substr(name.size() + 1);
  return {};
}

enum class Wrapper : std::uint8_t { none, exec_via_path, script_file };

// Programs that hand over to their first non-option argument.
Wrapper wrapper_kind(std::string_view program) {
  std::string_view base = program.substr(program.rfind('/') + 1);
  for (std::string_view p : {"tini", "dumb-init", "env", "busybox", "su-exec", "gosu"})
    if (base == p) return Wrapper::exec_via_path;
  for (std::string_view p :
       {"sh", "bash", "dash", "ash", "zsh", "ksh", "node", "perl", "ruby", "php"})
    if (base == p) return Wrapper::script_file;
  return base.starts_with("python") ? Wrapper::script_file : Wrapper::none;
}

// Candidate paths of one argv[0], resolved like execvp against the image's PATH.
void resolve_program(const Manifest& image, const ImageInfo& info, std::string_view program,
                     std::vector<std::string>& out, Wrapper how = Wrapper::exec_via_path) {
  if (program.empty()) return;
  std::vector<std::string> candidates;
  if (program[0] == '/') {
    candidates.push_back(normalize(program));
  } else if (program.find('/') != std::string_view::npos || how == Wrapper::script_file) {
    std::string wd = info.working_dir.empty() ? "/" : info.working_dir;
    candidates.push_back(normalize(wd + "/" + std::string(program)));
  } else {
    std::string_view path = env_value(info.env, "PATH");
    if (path.empty()) path = default_search_path;
    for (std::string_view dir : split(path, ':'))
      if (!dir.empty() && dir[0] == '/')
        candidates.push_back(normalize(std::string(dir) + "/" + std::string(program)));
  }
  // Follow the first candidate the image has through its symlinks, so a change to
  // the real binary behind /bin/sh -> busybox counts as an entrypoint change.
  for (const std::string& cand : candidates) {
    const Entry* e = find_entry(image, cand);
    if (!e) continue;
    std::string cur = cand;
    for (int hops = 0; hops < 8; ++hops) {
      if (std::find(out.begin(), out.end(), cur) == out.end()) out.push_back(cur);
      e = find_entry(image, cur);
      if (!e || e->type != FileType::symlink || e->target.empty()) break;
      std::string parent(cur.substr(0, cur.rfind('/')));
      cur = e->target[0] == '/' ? normalize(e->target) : normalize(parent + "/" + e->target);
    }
    return;
  }
  // Not in the image: keep the first candidate, the path the runtime would try.
  if (!candidates.empty() && std::find(out.begin(), out.end(), candidates[0]) == out.end())
    out.push_back(candidates[0]);
}

} // namespace

const Entry* find_entry(const Manifest& m, std::string_view path) {
  auto it = std::lower_bound(m.entries.begin(), m.entries.end(), path,
                             [](const Entry& e, std::string_view p) { return e.path < p; });
  return it != m.entries.end() && it->path == path ? &*it : nullptr;
}

std::vector<std::string> account_names(std::string_view content, bool uid0_only) {
  std::vector<std::string> names;
  for (AccountRecord& r : parse_account_file(content)) {
    // "0", "00" and "000" are all uid 0 to the C library.
    if (uid0_only && (r.id_field.empty() || !std::all_of(r.id_field.begin(), r.id_field.end(),
                                                         [](char c) { return c == '0'; })))
      continue;
    names.push_back(std::move(r.name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> entrypoint_paths(const Manifest& image) {
  std::vector<std::string> out;
  if (!image.image) return out;
  const ImageInfo& info = *image.image;
  std::vector<std::string> argv = info.entrypoint;
  argv.insert(argv.end(), info.cmd.begin(), info.cmd.end());
  if (argv.empty()) return out;
  resolve_program(image, info, argv[0], out);
  // Wrappers (a shell running a script, tini, env) hand over to the real program:
  // its first non-option argument is the entrypoint that matters.
  std::size_t i = 1;
  Wrapper how = wrapper_kind(argv[0]);
  while (how != Wrapper::none && i < argv.size()) {
    std::string_view arg = argv[i++];
    if (arg == "-c" || arg == "-e") break; // an inline script names no file
    if (arg.empty() || arg[0] == '-' || arg.find('=') != std::string_view::npos)
      continue; // options, and env's NAME=value
    resolve_program(image, info, arg, out, how);
    how = how == Wrapper::exec_via_path ? wrapper_kind(arg) : Wrapper::none;
  }
  // ENTRYPOINT ["/entrypoint.sh"] with CMD ["nginx", ...]: the script usually execs it.
  if (!info.entrypoint.empty() && !info.cmd.empty() && !info.cmd[0].empty() &&
      info.cmd[0][0] != '-')
    resolve_program(image, info, info.cmd[0], out);
  return out;
}

std::string glob_syntax_error(std::string_view p) {
  if (p.empty()) return "empty pattern";
  if (p.find('\0') != std::string_view::npos) return "contains a NUL byte";
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      if (i + 1 == p.size()) return "ends with a lone backslash";
      ++i;
    } else if (p[i] == '[') {
      std::size_t j = i + 1;
      if (j < p.size() && (p[j] == '!' || p[j] == '^')) ++j;
      if (j < p.size() && p[j] == ']') ++j; // a leading ']' is a member
      while (j < p.size() && p[j] != ']' && p[j] != '/')
        ++j;
      if (j >= p.size() || p[j] == '/') return "unterminated character class";
      i = j;
    }
  }
  if (p[0] != '/' && !p.starts_with("**")) return "must be absolute (start with '/' or '**')";
  return "";
}

std::string glob_never_matches(std::string_view p) {
  if (p.size() > 1 && p.back() == '/') return "ends with '/' but cleaned paths never do";
  if (p.find("//") != std::string_view::npos)
    return "has an empty component ('//') but cleaned paths never do";
  for (std::string_view c : split(p, '/')) {
    if (c == "." || c == "..") return "has a '.' or '..' component but cleaned paths never do";
    if (c.find("**") != std::string_view::npos && c != "**")
      return "uses '**' inside a component, where it means '*'";
  }
  return "";
}

} // namespace cdrift::rule_detail
