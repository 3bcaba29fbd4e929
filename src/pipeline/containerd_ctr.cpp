// Reading ctr's answers. ctr prints the daemon's records as JSON (containers info,
// snapshots info) or as tab-aligned tables (ls); neither is a documented contract, so
// every parser checks the shape it relies on and fails with a runtime error naming
// the command rather than guessing.
#include "cdrift/pipeline/containerd.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/json.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace cdrift {

namespace {

using nlohmann::json;

constexpr std::size_t max_identifier = 76; // containerd's identifiers.Validate

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
  }
  return out;
}

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string f;
  while (in >> f)
    out.push_back(std::move(f));
  return out;
}

Error shape_error(const std::string& what, const std::string& problem) {
  return Error{ErrorKind::runtime, what + ": unexpected output from ctr: " + problem};
}

const std::string* label(const std::map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? nullptr : &it->second;
}

} // namespace

Status validate_containerd_identifier(std::string_view s, const std::string& what) {
  bool ok = !s.empty() && s.size() <= max_identifier && is_alnum(s.front()) && is_alnum(s.back());
  for (std::size_t i = 0; ok && i < s.size(); ++i)
    if (!is_alnum(s[i])) ok = (s[i] == '.' || s[i] == '_' || s[i] == '-') && is_alnum(s[i + 1]);
  if (ok) return {};
  return fail(ErrorKind::usage,
              what + " \"" + escape_for_terminal(s) +
                  "\" is not a containerd identifier (letters and digits, joined by single . _ "
                  "or -, at most " +
                  std::to_string(max_identifier) + " characters)");
}

Result<ContainerdRef> parse_containerd_ref(std::string_view text) {
  ContainerdRef ref;
  std::string_view id = text;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    ref.ns = std::string(text.substr(0, slash));
    id = text.substr(slash + 1);
    CDRIFT_TRY(validate_containerd_identifier(ref.ns, "containerd:" + escape_for_terminal(text) +
                                                          ": namespace"));
  }
  CDRIFT_TRY(validate_containerd_identifier(id, "containerd:" + escape_for_terminal(text) +
                                                    ": container id"));
  ref.id = std::string(id);
  return ref;
}

std::string containerd_address(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("CONTAINERD_ADDRESS"); env && *env) return env;
  return default_containerd_address;
}

Result<ContainerdContainer> parse_container_info(const std::string& text, const ContainerdRef& ref,
                                                 const std::string& what) {
  auto doc = parse_json_document(text, what, JsonComments::reject, ErrorKind::runtime);
  if (!doc) return fail(std::move(doc).error());
  if (!doc->is_object()) return fail(shape_error(what, "not a JSON object"));
  ContainerdContainer c;
  c.ref = ref;
  if (json_string(*doc, "ID") != ref.id)
    return fail(shape_error(what, "the record's ID is \"" +
                                      escape_for_terminal(json_string(*doc, "ID")) + "\""));
  c.image = json_string(*doc, "Image");
  c.snapshotter = json_string(*doc, "Snapshotter");
  c.snapshot_key = json_string(*doc, "SnapshotKey");
  c.created = json_string(*doc, "CreatedAt");
  if (auto rt = doc->find("Runtime"); rt != doc->end() && rt->is_object())
    c.runtime = json_string(*rt, "Name");
  if (auto labels = doc->find("Labels"); labels != doc->end() && labels->is_object())
    for (auto it = labels->begin(); it != labels->end(); ++it)
      if (it->is_string()) c.labels[it.key()] = it->get<std::string>();
  if (auto spec = doc->find("Spec"); spec != doc->end() && spec->is_object())
    if (auto proc = spec->find("process"); proc != spec->end() && proc->is_object()) {
      if (auto user = proc->find("user"); user != proc->end() && user->is_object())
        c.user =
            std::to_string(json_u64(*user, "uid")) + ":" + std::to_string(json_u64(*user, "gid"));
      c.args = json_string_list(*proc, "args");
    }
  const std::string* kind = label(c.labels, "io.cri-containerd.kind");
  c.sandbox = kind && *kind == "sandbox";
  const std::string* ns = label(c.labels, "io.kubernetes.pod.namespace");
  const std::string* pod = label(c.labels, "io.kubernetes.pod.name");
  const std::string* name = label(c.labels, "io.kubernetes.container.name");
  const std::string* uid = label(c.labels, "io.kubernetes.pod.uid");
  if (ns || pod || name || uid)
    c.kubernetes =
        KubernetesIdentity{ns ? *ns : "", pod ? *pod : "", name ? *name : "", uid ? *uid : ""};
  if (c.image.empty()) return fail(shape_error(what, "the container has no image"));
  return c;
}

ContainerInfo to_container_info(const ContainerdContainer& c, const std::string& source) {
  ContainerInfo info;
  info.source = source;
  info.id = c.ref.id;
  info.image = c.image;
  info.created = c.created;
  info.user = c.user;
  info.entrypoint = c.args;
  info.kubernetes = c.kubernetes;
  return info;
}

Result<std::vector<ContainerdTask>> parse_task_list(const std::string& text,
                                                    const std::string& what) {
  auto lines = lines_of(text);
  if (lines.empty() || fields_of(lines[0]) != std::vector<std::string>{"TASK", "PID", "STATUS"})
    return fail(shape_error(what, "no \"TASK PID STATUS\" header"));
  std::vector<ContainerdTask> out;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto f = fields_of(lines[i]);
    if (f.empty()) continue;
    if (f.size() != 3) return fail(shape_error(what, "line " + std::to_string(i + 1)));
    out.push_back({f[0], f[1], f[2]});
  }
  std::sort(out.begin(), out.end(),
            [](const ContainerdTask& a, const ContainerdTask& b) { return a.id < b.id; });
  return out;
}

Result<std::vector<std::string>> parse_namespace_list(const std::string& text,
                                                      const std::string& what) {
  std::vector<std::string> out;
  for (const std::string& line : lines_of(text)) {
    if (line.empty()) continue;
    CDRIFT_TRY(validate_containerd_identifier(line, what + ": namespace"));
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<ContentTarget> parse_image_target(const std::string& text, const std::string& name,
                                         const std::string& what) {
  auto lines = lines_of(text);
  auto header = lines.empty() ? std::vector<std::string>() : fields_of(lines[0]);
  if (header.size() < 3 || header[0] != "REF" || header[1] != "TYPE" || header[2] != "DIGEST")
    return fail(shape_error(what, "no \"REF TYPE DIGEST\" header"));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto f = fields_of(lines[i]);
    if (f.size() < 3 || f[0] != name) continue;
    return ContentTarget{name, f[1], f[2]};
  }
  return fail(ErrorKind::runtime, what + ": image " + escape_for_terminal(name) +
                                      " is not in containerd's image store (deleted after the "
                                      "container was created?)");
}

Result<SnapshotInfo> parse_snapshot_info(const std::string& text, const std::string& what) {
  auto doc = parse_json_document(text, what, JsonComments::reject, ErrorKind::runtime);
  if (!doc) return fail(std::move(doc).error());
  if (!doc->is_object() || !doc->contains("Name"))
    return fail(shape_error(what, "not a snapshot record"));
  return SnapshotInfo{json_string(*doc, "Name"), json_string(*doc, "Parent"),
                      json_string(*doc, "Kind")};
}

Result<SnapshotMount> parse_snapshot_mounts(const std::string& text, const std::string& what) {
  auto lines = lines_of(text);
  std::vector<std::string> mounts;
  for (const std::string& l : lines)
    if (!l.empty()) mounts.push_back(l);
  if (mounts.size() != 1)
    return fail(shape_error(what, "expected one mount, got " + std::to_string(mounts.size())));
  const std::string& line = mounts.front();
  // "mount -t TYPE SOURCE TARGET -o OPTIONS": options come last, joined by commas.
  auto f = fields_of(line);
  if (f.size() != 7 || f[0] != "mount" || f[1] != "-t" || f[5] != "-o")
    return fail(shape_error(what, "\"" + escape_for_terminal(line) + "\""));
  SnapshotMount m;
  m.type = f[2];
  std::vector<std::string> options;
  std::istringstream in(f[6]);
  std::string opt;
  while (std::getline(in, opt, ','))
    options.push_back(opt);
  if (m.type == "overlay") {
    for (const std::string& o : options) {
      if (o.starts_with("upperdir=")) m.upper_dir = o.substr(9);
      if (o.starts_with("lowerdir=")) {
        std::istringstream dirs(o.substr(9));
        std::string d;
        while (std::getline(dirs, d, ':'))
          m.lower_dirs.push_back(d);
      }
    }
  } else if (m.type == "bind") {
    // A snapshot without parents: the directory itself is the writable layer.
    m.upper_dir = f[3];
  } else {
    return fail(ErrorKind::runtime, what + ": the snapshot is a " + escape_for_terminal(m.type) +
                                        " mount; only overlay (and bind) snapshots are read");
  }
  if (!m.upper_dir.starts_with("/"))
    return fail(shape_error(what, "no absolute upperdir in \"" + escape_for_terminal(line) + "\""));
  return m;
}

Result<std::string> containerd_root_from_snapshot(const std::string& dir, const std::string& what) {
  const std::string marker = "/io.containerd.snapshotter.v1.";
  auto pos = dir.rfind(marker);
  if (pos == std::string::npos || pos == 0)
    return fail(ErrorKind::runtime, what + ": cannot tell containerd's root from snapshot dir " +
                                        escape_for_terminal(dir));
  return dir.substr(0, pos);
}

std::string find_overlay_mountpoint(const std::string& mountinfo, const std::string& upper_dir) {
  // Fields: id parent maj:min root mountpoint options [optional...] - fstype source
  // superoptions; spaces, tabs, newlines and backslashes in paths are octal escapes.
  auto unescape = [](const std::string& s) {
    auto oct = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 3 < s.size() && oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3])) {
        out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
        i += 3;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  for (const std::string& line : lines_of(mountinfo)) {
    auto f = fields_of(line);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4) continue;
    if (*(dash + 1) != "overlay") continue;
    std::istringstream in(*(dash + 3));
    std::string opt;
    while (std::getline(in, opt, ','))
      if (opt.starts_with("upperdir=") && unescape(opt.substr(9)) == upper_dir)
        return unescape(f[4]);
  }
  return {};
}

} // namespace cdrift
