#include "cdrift/classify/readonly_plan.hpp"

#include "cdrift/classify/finding.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/path.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>

namespace cdrift {

namespace {

// Directories whose content is state by nature: an image file rewritten there (a
// log the image ships empty, a pid file) is the application's state, not its
// configuration.
constexpr std::array<std::string_view, 8> state_roots = {
    "/tmp", "/var/tmp", "/run", "/var/run", "/dev/shm", "/var/log", "/var/cache", "/var/lib"};

// Tmp-like: nothing there outlives the process, so memory is the right medium.
constexpr std::array<std::string_view, 5> memory_roots = {"/tmp", "/var/tmp", "/run", "/var/run",
                                                          "/dev/shm"};

// Mounting over these would hide the system itself (or everything): a write there
// is a note for a person, never a mount.
constexpr std::array<std::string_view, 22> system_roots = {
    "/etc",          "/bin",           "/sbin",
    "/lib",          "/lib32",         "/lib64",
    "/libx32",       "/boot",          "/proc",
    "/sys",          "/usr/bin",       "/usr/sbin",
    "/usr/lib",      "/usr/lib32",     "/usr/lib64",
    "/usr/libx32",   "/usr/libexec",   "/usr/include",
    "/usr/share",    "/usr/local/bin", "/usr/local/sbin",
    "/usr/local/lib"};
constexpr std::array<std::string_view, 12> too_broad = {
    "/",    "/usr", "/usr/local", "/var",   "/var/lib", "/home",
    "/opt", "/srv", "/mnt",       "/media", "/dev",     "/root"};

constexpr std::size_t examples_shown = 5;

bool within_any(std::string_view path, const auto& roots) {
  return std::any_of(roots.begin(), roots.end(),
                     [&](std::string_view r) { return path_within(path, r); });
}

bool is_system_dir(std::string_view dir) {
  if (std::find(too_broad.begin(), too_broad.end(), dir) != too_broad.end()) return true;
  return within_any(dir, system_roots);
}

bool is_memory_dir(std::string_view dir) {
  std::string_view base = base_name(dir);
  return within_any(dir, memory_roots) || base == "tmp" || base == "temp" || base == ".tmp";
}

bool is_drift(OriginKind k) {
  return k == OriginKind::shell_edit || k == OriginKind::copied_in ||
         k == OriginKind::package_manager;
}

// A name the three outputs can carry exactly: YAML and JSON are Unicode, docker's
// -v and --tmpfs split on ':' (and --mount on ','), and a control character in a
// mount path is a trap for whoever copies the flags into a shell.
bool plain_name(std::string_view path) {
  if (!is_valid_utf8(path)) return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    auto c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f || c == ':' || c == ',') return false;
    // C1 controls are U+0080-U+009F, encoded C2 80 - C2 9F.
    if (c == 0xc2 && i + 1 < path.size() && static_cast<unsigned char>(path[i + 1]) < 0xa0)
      return false;
  }
  return true;
}

// The directory a write needs writable. Creating, replacing or removing an entry
// writes its parent; a directory the application created or changed is itself the
// mount (runtimes create missing mount points before the root turns read-only).
std::string write_dir(const Change& c) {
  if (c.kind != ChangeKind::deleted && c.after && c.after->type == FileType::dir) return c.path;
  return std::string(parent_path(c.path));
}

// chmod, chown or setcap of an image entry: nothing was created, so no mount is due.
bool metadata_only(const Change& c) {
  if (c.kind != ChangeKind::modified) return false;
  for (Field f : {Field::type, Field::content, Field::size, Field::target, Field::device})
    if (c.has(f)) return false;
  return true;
}

// A file the image shipped whose content the application replaced.
bool rewrote_image_file(const Change& c) {
  return c.kind == ChangeKind::modified && c.before && c.after &&
         c.before->type == FileType::file && c.after->type == FileType::file &&
         (c.has(Field::content) || c.has(Field::size));
}

// The first few paths, then how many more there are of `total` (default: all listed).
std::string example_list(const std::vector<std::string>& paths, std::size_t total = 0) {
  total = std::max(total, paths.size());
  std::string out;
  std::size_t shown = std::min(paths.size(), examples_shown);
  for (std::size_t i = 0; i < shown; ++i)
    out += (i ? ", " : "") + paths[i];
  if (total > shown) out += " and " + std::to_string(total - shown) + " more";
  return out;
}

std::string count_of(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// "/app/data" -> "app-data": a DNS-1123 label (Kubernetes) that is also a valid
// docker volume name (two characters at least), unique within the plan.
std::string volume_name(std::string_view dir, std::set<std::string>& taken) {
  std::string base;
  for (char ch : dir) {
    char c = ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep)
      base += c;
    else if (!base.empty() && base.back() != '-')
      base += '-';
  }
  while (!base.empty() && base.back() == '-')
    base.pop_back();
  if (base.size() < 2) base = base.empty() ? "data" : base + "-data";
  constexpr std::size_t max_label = 63;
  std::string name = base.substr(0, max_label);
  for (int n = 2; taken.count(name) || name.back() == '-'; ++n) {
    std::string suffix = "-" + std::to_string(n);
    std::string stem = base.substr(0, max_label - suffix.size());
    while (!stem.empty() && stem.back() == '-')
      stem.pop_back();
    name = stem + suffix;
  }
  taken.insert(name);
  return name;
}

// JSON string escaping is valid YAML double-quoted scalar escaping for the plain
// names the plan allows.
std::string yaml_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string kubernetes_yaml(const std::vector<WritablePath>& paths) {
  std::string y(read_only_yaml_head);
  if (paths.empty()) return y;
  y += "volumeMounts:\n";
  for (const WritablePath& w : paths)
    y += "  - name: " + w.volume + "\n    mountPath: " + yaml_quote(w.path) + "\n";
  y += "volumes:\n";
  for (const WritablePath& w : paths) {
    y += "  - name: " + w.volume + "\n";
    y += w.medium == VolumeMedium::memory ? "    emptyDir:\n      medium: Memory\n"
                                          : "    emptyDir: {}\n";
  }
  return y;
}

std::vector<std::string> docker_flags(const std::vector<WritablePath>& paths) {
  std::vector<std::string> flags = {"--read-only"};
  for (const WritablePath& w : paths) {
    if (w.medium == VolumeMedium::memory) {
      flags.insert(flags.end(), {"--tmpfs", w.path});
    } else {
      flags.insert(flags.end(), {"-v", w.volume + ":" + w.path});
    }
  }
  return flags;
}

bool runs_as_root(std::string_view user) {
  std::string_view name = user.substr(0, user.find(':'));
  return name.empty() || name == "root" || name == "0";
}

// Image entries strictly below `dir`, in path order (entries are sorted by bytes,
// and everything below "/a" starts with "/a/").
std::vector<std::string> shipped_below(const Manifest& image, const std::string& dir,
                                       std::size_t& count) {
  std::vector<std::string> shown;
  count = 0;
  std::string prefix = dir == "/" ? "/" : dir + "/";
  auto it = std::lower_bound(image.entries.begin(), image.entries.end(), prefix,
                             [](const Entry& e, const std::string& p) { return e.path < p; });
  for (; it != image.entries.end() && it->path.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (it->path == dir) continue;
    if (shown.size() < examples_shown) shown.push_back(it->path);
    ++count;
  }
  return shown;
}

struct Collected {
  std::map<std::string, std::vector<std::string>> dirs; // write dir -> paths written there
  std::vector<const Finding*> rewrites;                 // image files rewritten in place
  std::vector<std::string> metadata;                    // image entries chmod/chown'ed
  std::map<OriginKind, std::vector<std::string>> drift;
  std::vector<std::string> unknown;
};

Collected collect(const std::vector<Finding>& findings) {
  Collected c;
  for (const Finding& f : findings) {
    const Change& ch = f.change;
    if (is_drift(f.origin.kind)) {
      c.drift[f.origin.kind].push_back(ch.path);
    } else if (f.origin.kind != OriginKind::runtime_write) {
      c.unknown.push_back(ch.path);
    } else if (metadata_only(ch)) {
      c.metadata.push_back(ch.path);
    } else if (rewrote_image_file(ch) && !within_any(parent_path(ch.path), state_roots)) {
      c.rewrites.push_back(&f);
    } else {
      c.dirs[write_dir(ch)].push_back(ch.path);
    }
  }
  for (auto& [kind, paths] : c.drift)
    std::sort(paths.begin(), paths.end());
  std::sort(c.unknown.begin(), c.unknown.end());
  std::sort(c.metadata.begin(), c.metadata.end());
  std::sort(c.rewrites.begin(), c.rewrites.end(),
            [](const Finding* a, const Finding* b) { return a->change.path < b->change.path; });
  for (auto& [dir, paths] : c.dirs)
    std::sort(paths.begin(), paths.end());
  return c;
}

bool covered(std::string_view path, const std::set<std::string>& dirs) {
  for (std::string_view p = path; !p.empty(); p = parent_path(p))
    if (dirs.count(std::string(p))) return true;
  return false;
}

} // namespace

ReadOnlyPlan plan_read_only(const AuditReport& report, const Manifest& image) {
  ReadOnlyPlan plan;
  Collected c = collect(report.findings);
  std::vector<std::string> user_ignored;
  for (const IgnoredPath& i : report.ignored)
    if (i.reason.rfind("--ignore ", 0) == 0) user_ignored.push_back(i.path);
  std::sort(user_ignored.begin(), user_ignored.end());
  plan.ready = report.findings.empty() && user_ignored.empty();

  if (!c.drift.empty()) {
    std::vector<std::string> all;
    std::string counts;
    for (const auto& [kind, paths] : c.drift) {
      counts += (counts.empty() ? "" : ", ") + std::to_string(paths.size()) + " " +
                std::string(to_string(kind));
      all.insert(all.end(), paths.begin(), paths.end());
    }
    std::sort(all.begin(), all.end());
    plan.notes.push_back("drift: " + count_of(all.size(), "change", "changes") + " (" + counts +
                         ") that the application did not make: " + example_list(all) +
                         "; drift is fixed by redeploying from the image (or rebuilding the "
                         "image with the change), never by mounting, so none of these is a "
                         "writable path");
  }
  if (!c.unknown.empty())
    plan.notes.push_back(count_of(c.unknown.size(), "change", "changes") +
                         " of unknown origin, left out of the plan: " + example_list(c.unknown) +
                         "; if the application makes them, their directories need a mount too; "
                         "if not, they are drift: redeploy");

  // Candidate directories: system ones become notes, names no output can carry
  // exactly become notes, the rest are kept unless a kept ancestor covers them.
  std::set<std::string> kept;
  for (const auto& [dir, paths] : c.dirs) {
    if (is_system_dir(dir)) {
      plan.notes.push_back("the application wrote " + example_list(paths) + " straight into " +
                           dir + (dir == "/" ? " (the root)" : ", a system directory") +
                           ": not a mount, since one would hide what the image ships there; "
                           "make it write into a directory of its own, or mount single files "
                           "from a ConfigMap");
    } else if (!plain_name(dir)) {
      plan.notes.push_back("the application wrote under " + dir +
                           ", a name with control characters, ':' or ',' or invalid UTF-8 that "
                           "no YAML snippet or docker flag can carry exactly: rename it, or "
                           "mount a parent directory by hand");
    } else {
      kept.insert(dir);
    }
  }
  std::set<std::string> tops;
  std::set<std::string> names;
  for (const std::string& dir : kept) {
    if (covered(parent_path(dir), kept)) continue;
    tops.insert(dir);
    plan.writable_paths.push_back({dir, volume_name(dir, names),
                                   is_memory_dir(dir) ? VolumeMedium::memory : VolumeMedium::disk});
  }

  for (const Finding* f : c.rewrites) {
    const std::string& path = f->change.path;
    if (covered(parent_path(path), tops)) continue; // hidden by that mount: the note below says so
    plan.notes.push_back("the application rewrote " + path +
                         ", a file from the image, in place: a read-only root refuses that; "
                         "mount the file it should have from a ConfigMap (or bake it into the "
                         "image)");
  }

  std::vector<std::string> metadata;
  for (const std::string& path : c.metadata)
    if (!covered(path, tops)) metadata.push_back(path);
  if (!metadata.empty())
    plan.notes.push_back("the application changed the mode, owner or xattrs of " +
                         example_list(metadata) +
                         " from the image in place: a read-only root refuses chmod and chown, "
                         "so set them in the image (RUN chmod/chown, COPY --chown)");

  const std::string user = !report.container.user.empty() ? report.container.user
                           : image.image                  ? image.image->user
                                                          : std::string();
  for (const WritablePath& w : plan.writable_paths) {
    std::size_t count = 0;
    auto shown = shipped_below(image, w.path, count);
    if (count > 0)
      plan.notes.push_back("the image ships " + count_of(count, "entry", "entries") + " under " +
                           w.path + " (" + example_list(shown, count) +
                           "), which an emptyDir or a tmpfs there would hide: copy them in with an "
                           "init container, or mount a subdirectory instead");
    const Entry* e = image.find(w.path);
    if (!e && w.medium == VolumeMedium::disk && !runs_as_root(user))
      plan.notes.push_back(w.path +
                           " is not in the image (the application created it): a new "
                           "docker or podman volume there is owned by root, which " +
                           user +
                           " cannot write; create the directory in the image owned by that user "
                           "(a Kubernetes emptyDir is world-writable)");
  }
  if (!user_ignored.empty())
    plan.notes.push_back(
        count_of(user_ignored.size(), "change", "changes") +
        " left out by --ignore are not in the plan: " + example_list(user_ignored) +
        "; a read-only root refuses them too if the application makes them");

  plan.kubernetes = kubernetes_yaml(plan.writable_paths);
  plan.docker_run = docker_flags(plan.writable_paths);
  return plan;
}

} // namespace cdrift
