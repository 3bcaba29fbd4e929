#include "cdrift/classify/origin.hpp"

#include "cdrift/util/path.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace cdrift {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string num(std::int64_t v) {
  return std::to_string(v);
}

// Export mtimes are attacker-controlled; differences must not overflow.
std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_sub_overflow(a, b, &out))
    return a < b ? std::numeric_limits<std::int64_t>::min()
                 : std::numeric_limits<std::int64_t>::max();
  return out;
}

std::string format_duration(std::int64_t seconds) {
  auto unit = [](std::int64_t n, const char* one, const char* many) {
    return num(n) + " " + (n == 1 ? one : many);
  };
  if (seconds < 120) return unit(seconds, "second", "seconds");
  if (seconds < 3600) return unit(seconds / 60, "minute", "minutes");
  if (seconds < 2 * 86400) {
    std::string out = unit(seconds / 3600, "hour", "hours");
    if (std::int64_t minutes = seconds % 3600 / 60) out += " " + unit(minutes, "minute", "minutes");
    return out;
  }
  return unit(seconds / 86400, "day", "days");
}

// "41 days before" / "18 minutes after" / "the same second as".
std::string relative_to(std::int64_t t, std::int64_t ref) {
  std::int64_t d = saturating_sub(t, ref);
  if (d == 0) return "the same second as";
  if (d < 0) {
    std::int64_t ad = d == std::numeric_limits<std::int64_t>::min()
                          ? std::numeric_limits<std::int64_t>::max()
                          : -d;
    return format_duration(ad) + " before";
  }
  return format_duration(d) + " after";
}

std::string owner_string(std::uint32_t uid, std::uint32_t gid) {
  return std::to_string(uid) + ":" + std::to_string(gid);
}

// History lines are quoted in evidence; keep them short, cut on a UTF-8 boundary.
std::string quote_line(std::string_view line) {
  constexpr std::size_t limit = 160;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
    line.remove_suffix(1);
  if (line.size() <= limit) return std::string(line);
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80)
    --cut;
  return std::string(line.substr(0, cut)) + "...";
}

std::string join_list(const std::vector<std::string>& items, std::size_t max_items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  if (items.size() > max_items)
    out += " and " + num(static_cast<std::int64_t>(items.size() - max_items)) + " more";
  return out;
}

constexpr std::array<std::string_view, 13> history_names = {
    ".bash_history",      ".ash_history",    ".zsh_history",    ".zhistory",      ".sh_history",
    ".history",           "fish_history",    ".python_history", ".mysql_history", ".psql_history",
    ".node_repl_history", ".sqlite_history", ".viminfo",
};

bool is_history_path(std::string_view path) {
  std::string_view name = base_name(path);
  return std::find(history_names.begin(), history_names.end(), name) != history_names.end();
}

// The runtime writes these when it creates or starts the container; they say when,
// not who, so they are neither evidence nor companions of an edit.
constexpr std::array<std::string_view, 6> placeholder_paths = {
    "/.dockerenv", "/run/.containerenv", "/etc/hostname",
    "/etc/hosts",  "/etc/resolv.conf",   "/dev/console"};

bool is_placeholder(std::string_view path) {
  return std::find(placeholder_paths.begin(), placeholder_paths.end(), path) !=
         placeholder_paths.end();
}

constexpr std::array<std::string_view, 7> standard_data_dirs = {
    "/tmp", "/var/tmp", "/var/log", "/var/cache", "/run", "/var/run", "/dev/shm"};

// Where a shell edit is an edit of the system rather than of application data.
constexpr std::array<std::string_view, 12> system_dirs = {
    "/etc",    "/bin", "/sbin", "/lib",  "/lib32",        "/lib64",
    "/libx32", "/usr", "/boot", "/root", "/var/lib/dpkg", "/var/spool/cron"};

bool is_system_path(std::string_view path) {
  for (auto d : system_dirs)
    if (path_within(path, d)) return true;
  return false;
}

// Top-level directories a WorkingDir or volume must not turn wholesale into "data".
constexpr std::array<std::string_view, 10> too_broad_for_data = {
    "/", "/usr", "/var", "/home", "/opt", "/srv", "/mnt", "/media", "/var/lib", "/usr/local"};

bool acceptable_data_dir(std::string_view dir) {
  if (dir.empty() || dir.front() != '/') return false;
  for (auto d : too_broad_for_data)
    if (dir == d) return false;
  // An application may run in /usr/src/app, but not in /etc or /usr/bin.
  for (auto d : {"/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr/bin",
                 "/usr/sbin", "/usr/lib", "/usr/libexec", "/usr/local/bin", "/usr/local/sbin",
                 "/usr/local/lib", "/boot", "/root", "/proc", "/sys", "/dev"})
    if (path_within(dir, d)) return false;
  return true;
}

bool is_package_db_path(std::string_view path) {
  if (path == "/var/lib/dpkg/status" || path == "/lib/apk/db/installed" ||
      path == "/usr/lib/apk/db/installed")
    return true;
  std::string_view dir = parent_path(path);
  if (dir == "/var/lib/dpkg/info" && (ends_with(path, ".list") || ends_with(path, ".md5sums")))
    return true;
  if (dir == "/var/lib/dpkg/status.d") return true;
  return path_within(path, "/var/lib/rpm") || path_within(path, "/usr/lib/sysimage/rpm");
}

// Files a package manager run writes besides the ones its packages list.
bool is_package_bookkeeping(std::string_view path) {
  for (auto d :
       {"/var/lib/dpkg", "/var/lib/apt", "/var/cache/apt", "/var/log/apt", "/var/cache/debconf",
        "/lib/apk", "/usr/lib/apk", "/var/cache/apk", "/var/lib/rpm", "/usr/lib/sysimage/rpm",
        "/var/cache/dnf", "/var/cache/yum", "/var/lib/dnf", "/var/lib/yum"})
    if (path_within(path, d)) return true;
  return path == "/var/log/dpkg.log" || path == "/etc/apk/world" || path == "/etc/ld.so.cache" ||
         path == "/var/log/alternatives.log" || starts_with(path, "/var/log/dnf");
}

// npm packs every file with this mtime (1985-10-26 08:15:00 UTC) and keeps it on install.
constexpr std::int64_t npm_fixed_mtime = 499162500;

std::optional<std::uint32_t> parse_u32(std::string_view s) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_colon(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    std::size_t c = line.find(':');
    out.push_back(line.substr(0, c));
    if (c == std::string_view::npos) break;
    line.remove_prefix(c + 1);
  }
  return out;
}

struct Account {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

// name -> ids from passwd ("name:x:uid:gid:...") or group ("name:x:gid:members").
std::unordered_map<std::string, Account> parse_accounts(std::string_view text, bool is_group) {
  std::unordered_map<std::string, Account> out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;
    auto f = split_colon(line);
    if (f.size() < 3 || f[0].empty()) continue;
    auto id = parse_u32(f[2]);
    if (!id) continue;
    Account a;
    if (is_group) {
      a.gid = *id;
    } else {
      a.uid = *id;
      if (f.size() > 3)
        if (auto g = parse_u32(f[3])) a.gid = *g;
    }
    out.emplace(std::string(f[0]), a);
  }
  return out;
}

const std::string* captured(const Manifest& m, std::string_view path) {
  auto it = m.captures.files.find(std::string(path));
  return it != m.captures.files.end() ? &it->second : nullptr;
}

// Shell history, indexed once by the paths and file names its lines mention.
class HistoryIndex {
public:
  struct Line {
    std::string file;
    std::size_t number = 0;
    std::string_view text;
    bool removes = false; // rm, unlink, shred, rmdir, mv, find -delete
  };
  struct Mention {
    const Line* line;
    bool full_path;
  };

  void add_file(const std::string& file, std::string_view content) {
    std::size_t number = 0;
    while (!content.empty()) {
      std::size_t nl = content.find('\n');
      std::string_view text = content.substr(0, nl);
      content.remove_prefix(nl == std::string_view::npos ? content.size() : nl + 1);
      ++number;
      if (text.empty()) continue;
      index_line(Line{file, number, text, false});
    }
  }

  std::vector<Mention> mentions(std::string_view path, bool removing_only) const {
    std::vector<Mention> out;
    std::unordered_set<std::uint32_t> seen;
    auto collect = [&](const auto& map, const std::string& key, bool full) {
      auto it = map.find(key);
      if (it == map.end()) return;
      for (std::uint32_t idx : it->second) {
        if (removing_only && !m_lines[idx].removes) continue;
        if (seen.insert(idx).second) out.push_back({&m_lines[idx], full});
      }
    };
    collect(m_by_path, std::string(path), true);
    std::string_view name = base_name(path);
    // Two-letter names ("ls", "sh") would match half of any history.
    if (name.size() >= 3) collect(m_by_name, std::string(name), false);
    return out;
  }

  // Lines that remove an ancestor directory or a glob in it ("rm -rf /var/log/*").
  std::vector<Mention> removals_of_ancestors(std::string_view path) const {
    std::vector<Mention> out;
    for (std::string_view dir = parent_path(path); dir.size() > 1; dir = parent_path(dir)) {
      auto it = m_by_path.find(std::string(dir));
      if (it == m_by_path.end()) continue;
      for (std::uint32_t idx : it->second)
        if (m_lines[idx].removes) out.push_back({&m_lines[idx], true});
    }
    return out;
  }

  bool empty() const { return m_lines.empty(); }

private:
  // Shell word and redirection boundaries; '=' splits "of=/etc/passwd" (dd) too.
  static bool is_separator(char c) {
    return c != '\0' && std::string_view(" \t\r'\";|&<>()`=,").find(c) != std::string_view::npos;
  }

  void index_line(Line line) {
    auto idx = static_cast<std::uint32_t>(m_lines.size());
    std::vector<std::pair<std::string_view, bool>> tokens; // token, in command position
    bool command_position = true;
    std::string_view rest = line.text;
    while (!rest.empty()) {
      std::size_t i = 0;
      while (i < rest.size() && is_separator(rest[i])) {
        if (rest[i] == ';' || rest[i] == '|' || rest[i] == '&' || rest[i] == '(' || rest[i] == '`')
          command_position = true;
        ++i;
      }
      std::size_t j = i;
      while (j < rest.size() && !is_separator(rest[j]))
        ++j;
      if (j > i) {
        tokens.emplace_back(rest.substr(i, j - i), command_position);
        command_position = false;
      }
      rest.remove_prefix(j);
    }
    for (auto [token, command] : tokens) {
      std::string_view name = base_name(token);
      if (name == "rm" || name == "unlink" || name == "shred" || name == "rmdir" || name == "mv" ||
          token == "-delete")
        line.removes = true;
    }
    m_lines.push_back(std::move(line));
    for (auto [token, command] : tokens) {
      // "/var/log/*" and "/etc/" name the directory.
      while (!token.empty() && token.back() == '*')
        token.remove_suffix(1);
      while (token.size() > 1 && token.back() == '/')
        token.remove_suffix(1);
      if (token.empty()) continue;
      if (token.front() == '/') {
        if (auto clean = clean_path(token); clean && *clean != "/") push(m_by_path, *clean, idx);
      }
      // A bare command name ("sed -i ...") is not a mention of /usr/bin/sed.
      if (command && token.find('/') == std::string_view::npos) continue;
      std::string_view name = base_name(token);
      if (!name.empty() && name != "." && name != "..") push(m_by_name, std::string(name), idx);
    }
  }

  static void push(std::unordered_map<std::string, std::vector<std::uint32_t>>& map,
                   const std::string& key, std::uint32_t idx) {
    auto& v = map[key];
    if (v.empty() || v.back() != idx) v.push_back(idx);
  }

  std::vector<Line> m_lines;
  std::unordered_map<std::string, std::vector<std::uint32_t>> m_by_path;
  std::unordered_map<std::string, std::vector<std::uint32_t>> m_by_name;
};

Confidence confidence_for(int level) {
  if (level <= 0) return Confidence::low;
  if (level == 1) return Confidence::medium;
  return Confidence::high;
}

} // namespace

std::string format_utc(std::int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  char buf[64];
  if (gmtime_r(&t, &tm) == nullptr ||
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    return "@" + num(epoch);
  return buf;
}

struct OriginAnalyzer::State {
  explicit State(const OriginInputs& i) : in(i) {}

  OriginInputs in;

  std::optional<std::int64_t> creation;
  std::string creation_word = "created"; // podman's placeholders date the start
  std::string creation_from;             // "/.dockerenv", "runtime metadata"
  std::string creation_evidence;

  bool have_passwd = false;
  bool have_group = false;
  std::unordered_set<std::uint32_t> uids;
  std::unordered_set<std::uint32_t> gids;

  std::optional<std::uint32_t> run_uid;
  std::optional<std::uint32_t> run_gid;
  std::string run_user_desc; // "the image's USER app (uid 1000)"
  bool run_user_explicit = false;

  std::vector<std::pair<std::string, std::string>> data_dirs; // dir, why it is one

  HistoryIndex history;
  std::vector<std::string> history_changes; // "/root/.ash_history was added"

  std::vector<std::string> package_db_changes; // "/var/lib/dpkg/status modified"

  // Everything below is copied out of all_changes, so a caller may move the changes
  // away (into findings) while it keeps attributing.
  std::unordered_set<std::string> present_changed; // added or modified paths

  std::unordered_map<std::string, std::string> sed_leftovers; // dir -> leftover path
  std::vector<std::pair<std::int64_t, std::string>> timeline;

  struct TreeCount {
    std::uint64_t total = 0;
    std::uint64_t signalled = 0;
  };
  std::unordered_map<std::string, TreeCount> added_dirs;

  void find_creation_time();
  void load_accounts();
  void resolve_user();
  void collect_data_dirs();
  void load_history();
  void index_changes();

  const std::pair<std::string, std::string>* data_dir_of(std::string_view path) const;
  std::string creation_phrase() const {
    return "the container was " + creation_word + " (" + format_utc(*creation) + ", from " +
           creation_from + ")";
  }
  bool old_mtime(const Change& c) const;
  bool foreign_uid(const Change& c) const;
  bool foreign_gid(const Change& c) const;
  bool new_mtime(const Change& c) const;

  struct Signals {
    int count = 0;
    bool named = false; // history names the path, or editor/sed leftovers sit beside it
    std::vector<std::string> evidence;
  };
  Signals copy_signals(const Change& c) const;
  Signals shell_traces(const Change& c) const;
  std::optional<Origin> package_origin(const Change& c, std::vector<std::string>& notes) const;
  std::string package_db_line() const {
    return "the package database changed (" + join_list(package_db_changes, 3) + ")";
  }
  void add_owner_checks(const Change& c, std::vector<std::string>& evidence) const;
  Origin attribute_deleted(const Change& c) const;
};

void OriginAnalyzer::State::find_creation_time() {
  if (in.container_info.created_epoch) {
    creation = *in.container_info.created_epoch;
    creation_from = in.container_info.created_evidence.empty() ? "runtime metadata"
                                                               : in.container_info.created_evidence;
    creation_evidence = "container created " + format_utc(*creation) + ", from " + creation_from;
    return;
  }
  struct Placeholder {
    std::string_view path;
    std::string_view word;
    std::string_view why;
  };
  constexpr std::array<Placeholder, 4> candidates = {{
      {"/.dockerenv", "created", "docker writes it when it creates the container"},
      {"/run/.containerenv", "started",
       "podman writes it when the container starts; changes made before a restart may predate it"},
      {"/etc/hostname", "created", "the runtime's empty placeholder, written at creation or start"},
      {"/etc/hosts", "created", "the runtime's empty placeholder, written at creation or start"},
  }};
  for (const auto& p : candidates) {
    const Entry* e = in.container.find(p.path);
    if (!e || e->type != FileType::file || e->mtime <= 0) continue;
    const Entry* orig = in.image.find(p.path);
    if (orig && orig->mtime == e->mtime) continue; // the image's own file, not a placeholder
    // hostname/hosts only count when they are the runtime's empty stand-ins.
    if ((p.path == "/etc/hostname" || p.path == "/etc/hosts") && e->size != 0) continue;
    creation = e->mtime;
    creation_word = std::string(p.word);
    creation_from = std::string(p.path);
    creation_evidence = "container " + creation_word + " " + format_utc(e->mtime) +
                        ", from the mtime of " + std::string(p.path) + " (" + std::string(p.why) +
                        ")";
    return;
  }
  creation_evidence = "container creation time unknown: no runtime metadata and no "
                      "/.dockerenv, /run/.containerenv or empty /etc/hostname placeholder in the "
                      "export, so mtimes could not be compared with it";
}

void OriginAnalyzer::State::load_accounts() {
  if (const std::string* passwd = captured(in.container, "/etc/passwd")) {
    have_passwd = true;
    for (const auto& [name, a] : parse_accounts(*passwd, false))
      uids.insert(a.uid);
  }
  if (const std::string* group = captured(in.container, "/etc/group")) {
    have_group = true;
    for (const auto& [name, a] : parse_accounts(*group, true))
      gids.insert(a.gid);
  }
  uids.insert(0); // root needs no entry to be the runtime's own
  gids.insert(0);
}

void OriginAnalyzer::State::resolve_user() {
  std::string spec;
  std::string whose;
  if (!in.container_info.user.empty()) {
    spec = in.container_info.user;
    whose = "the container's user";
    run_user_explicit = true;
  } else if (in.image.image && !in.image.image->user.empty()) {
    spec = in.image.image->user;
    whose = "the image's USER";
    run_user_explicit = true;
  }
  if (spec.empty()) {
    run_uid = 0;
    run_gid = 0;
    run_user_desc = "root, the default user (the image sets no USER)";
    return;
  }
  std::string_view s = spec;
  std::string_view user = s.substr(0, s.find(':'));
  std::string_view group = s.find(':') == std::string_view::npos ? "" : s.substr(s.find(':') + 1);
  if (auto id = parse_u32(user)) {
    run_uid = *id;
  } else {
    for (const Manifest* m : {&in.image, &in.container}) {
      const std::string* passwd = captured(*m, "/etc/passwd");
      if (!passwd) continue;
      auto accounts = parse_accounts(*passwd, false);
      auto it = accounts.find(std::string(user));
      if (it == accounts.end()) continue;
      run_uid = it->second.uid;
      run_gid = it->second.gid;
      break;
    }
  }
  if (!group.empty()) {
    if (auto id = parse_u32(group)) run_gid = *id;
  }
  run_user_desc = whose + " " + spec;
  if (run_uid)
    run_user_desc += " (uid " + std::to_string(*run_uid) + ")";
  else
    run_user_desc += " (no entry in /etc/passwd, uid unknown)";
}

void OriginAnalyzer::State::collect_data_dirs() {
  for (auto d : standard_data_dirs)
    data_dirs.emplace_back(std::string(d), "an application data directory");
  if (!in.image.image) return;
  for (const auto& v : in.image.image->volumes) {
    auto clean = clean_path(v);
    if (clean && acceptable_data_dir(*clean))
      data_dirs.emplace_back(*clean, "a volume the image declares");
  }
  if (!in.image.image->working_dir.empty()) {
    auto clean = clean_path(in.image.image->working_dir);
    if (clean && acceptable_data_dir(*clean))
      data_dirs.emplace_back(*clean, "the image's working directory");
  }
}

const std::pair<std::string, std::string>*
OriginAnalyzer::State::data_dir_of(std::string_view path) const {
  for (const auto& d : data_dirs)
    if (path_within(path, d.first)) return &d;
  return nullptr;
}

void OriginAnalyzer::State::load_history() {
  // Only history the container added or changed speaks about the container's life;
  // a history file the image shipped speaks about its build.
  for (const auto& [path, content] : in.container.captures.files) {
    if (!is_history_path(path)) continue;
    const std::string* before = captured(in.image, path);
    if (before && *before == content) continue;
    history.add_file(path, content);
  }
  for (const auto& c : in.all_changes) {
    if (!is_history_path(c.path) || !c.after || c.after->type != FileType::file) continue;
    if (c.kind == ChangeKind::added)
      history_changes.push_back(c.path + " was added");
    else if (c.kind == ChangeKind::modified && (c.has(Field::content) || c.has(Field::size)))
      history_changes.push_back(c.path + " changed");
  }
}

bool OriginAnalyzer::State::old_mtime(const Change& c) const {
  if (!creation || !c.after) return false;
  if (c.after->mtime >= *creation) return false;
  return c.kind == ChangeKind::added || (c.before && c.before->mtime != c.after->mtime);
}

bool OriginAnalyzer::State::new_mtime(const Change& c) const {
  if (!creation || !c.after) return false;
  if (c.after->mtime < *creation) return false;
  return c.kind == ChangeKind::added || (c.before && c.before->mtime != c.after->mtime);
}

// An owner is foreign when the container cannot name it and the container's own
// process does not run as it; only a changed owner counts (the image may ship files
// with numeric owners of its own).
bool OriginAnalyzer::State::foreign_uid(const Change& c) const {
  if (!have_passwd || !c.after) return false;
  if (c.before && c.before->uid == c.after->uid) return false;
  if (run_uid && *run_uid == c.after->uid) return false;
  return uids.count(c.after->uid) == 0;
}

bool OriginAnalyzer::State::foreign_gid(const Change& c) const {
  if (!have_group || !c.after) return false;
  if (c.before && c.before->gid == c.after->gid) return false;
  if (run_gid && *run_gid == c.after->gid) return false;
  return gids.count(c.after->gid) == 0;
}

void OriginAnalyzer::State::index_changes() {
  for (const auto& c : in.all_changes) {
    if (c.after && c.kind != ChangeKind::deleted) present_changed.insert(c.path);
    if (c.kind == ChangeKind::added && c.after) {
      std::string_view name = base_name(c.path);
      // sed -i writes ./sedXXXXXX and renames it; one left behind means it died midway.
      if (name.size() == 9 && starts_with(name, "sed"))
        sed_leftovers.emplace(std::string(parent_path(c.path)), c.path);
    }
  }
  std::unordered_set<std::string_view> own_copy_signal;
  for (const auto& c : in.all_changes) {
    if (!c.after || c.kind == ChangeKind::deleted) continue;
    if (old_mtime(c) || foreign_uid(c) || foreign_gid(c)) own_copy_signal.insert(c.path);
    if (c.kind == ChangeKind::added && c.after->type == FileType::dir)
      added_dirs.emplace(c.path, TreeCount{});
  }
  for (const auto& c : in.all_changes) {
    if (c.kind != ChangeKind::added || !c.after) continue;
    const bool signalled = own_copy_signal.count(c.path) != 0;
    for (std::string_view p = c.path; p.size() > 1; p = parent_path(p)) {
      auto it = added_dirs.find(std::string(p));
      if (it == added_dirs.end()) continue;
      ++it->second.total;
      if (signalled) ++it->second.signalled;
    }
  }
  for (const auto& c : in.all_changes) {
    if (!c.after || c.after->type == FileType::dir || c.kind == ChangeKind::deleted) continue;
    if (c.kind == ChangeKind::modified && c.before && c.before->mtime == c.after->mtime) continue;
    if (is_placeholder(c.path) || data_dir_of(c.path)) continue;
    if (creation && c.after->mtime < *creation) continue;
    timeline.emplace_back(c.after->mtime, c.path);
  }
  std::sort(timeline.begin(), timeline.end());
  for (const auto& c : in.all_changes)
    if (is_package_db_path(c.path))
      package_db_changes.push_back(c.path + " " + std::string(to_string(c.kind)));
}

void OriginAnalyzer::State::add_owner_checks(const Change& c,
                                             std::vector<std::string>& evidence) const {
  if (!c.after) return;
  const std::string owner = owner_string(c.after->uid, c.after->gid);
  if (!have_passwd)
    evidence.push_back("no /etc/passwd captured from the container: owner " + owner +
                       " could not be checked");
  else if (c.before && c.before->uid == c.after->uid && c.before->gid == c.after->gid)
    evidence.push_back("owner " + owner + " is unchanged from the image");
  else if (!foreign_uid(c) && !foreign_gid(c))
    evidence.push_back("owner " + owner +
                       " is known to the container's /etc/passwd and /etc/group: no sign of a "
                       "copy that kept a host owner");
}

OriginAnalyzer::State::Signals OriginAnalyzer::State::copy_signals(const Change& c) const {
  Signals s;
  if (old_mtime(c)) {
    ++s.count;
    std::string line = "mtime " + format_utc(c.after->mtime) + " is " +
                       relative_to(c.after->mtime, *creation) + " " + creation_phrase();
    if (c.before) line += ", and differs from the image's " + format_utc(c.before->mtime);
    s.evidence.push_back(line + ": a copy keeps its source's mtime");
  }
  const bool fu = foreign_uid(c);
  const bool fg = foreign_gid(c);
  if (fu || fg) {
    ++s.count;
    std::string line;
    if (fu && fg)
      line = "owner " + owner_string(c.after->uid, c.after->gid) +
             " has no entry in the container's /etc/passwd or /etc/group";
    else if (fu)
      line = "owner uid " + std::to_string(c.after->uid) +
             " has no entry in the container's /etc/passwd";
    else
      line = "group gid " + std::to_string(c.after->gid) +
             " has no entry in the container's /etc/group";
    s.evidence.push_back(line + " (docker cp keeps the host's owner)");
  }
  // The topmost added directory above (or at) this path.
  std::string_view top;
  for (std::string_view p = c.path; p.size() > 1; p = parent_path(p))
    if (added_dirs.count(std::string(p))) top = p;
  if (!top.empty()) {
    const auto& t = added_dirs.at(std::string(top));
    if (t.signalled >= 2 && t.signalled * 2 >= t.total) {
      ++s.count;
      s.evidence.push_back("part of " + std::string(top) + ", an added tree where " +
                           std::to_string(t.signalled) + " of " + std::to_string(t.total) +
                           " entries carry copy signals (old mtime or foreign owner)");
    }
  }
  return s;
}

OriginAnalyzer::State::Signals OriginAnalyzer::State::shell_traces(const Change& c) const {
  Signals s;
  if (!history_changes.empty() && !is_history_path(c.path)) {
    ++s.count;
    s.evidence.push_back("shell history " + join_list(history_changes, 2) +
                         " (an interactive shell ran in the container)");
  }
  if (!is_history_path(c.path)) {
    auto mentions = history.mentions(c.path, false);
    if (!mentions.empty()) {
      ++s.count;
      s.named = true;
      // Full-path mentions first: they are the stronger evidence.
      std::stable_sort(mentions.begin(), mentions.end(),
                       [](const auto& a, const auto& b) { return a.full_path && !b.full_path; });
      for (std::size_t i = 0; i < mentions.size() && i < 2; ++i) {
        const auto& m = mentions[i];
        std::string named = m.full_path ? c.path : std::string(base_name(c.path));
        s.evidence.push_back(m.line->file + " line " + std::to_string(m.line->number) +
                             " mentions " + named + ": " + quote_line(m.line->text));
      }
    }
  }
  {
    std::string dir(parent_path(c.path));
    std::string name(base_name(c.path));
    std::string prefix = dir == "/" ? "/" : dir + "/";
    std::vector<std::string> found;
    for (const std::string& cand :
         {prefix + "." + name + ".swp", prefix + "." + name + ".swo", prefix + "." + name + ".swx",
          prefix + name + "~", prefix + "#" + name + "#", prefix + ".#" + name,
          prefix + name + ".bak", prefix + name + ".orig", prefix + name + ".save",
          prefix + name + "-"}) {
      if (present_changed.count(cand)) found.push_back(cand);
    }
    if (auto it = sed_leftovers.find(dir); it != sed_leftovers.end() && it->second != c.path)
      found.push_back(it->second + " (sed -i's temporary file)");
    if (!found.empty()) {
      ++s.count;
      s.named = true;
      s.evidence.push_back("editor or sed leftovers beside it: " + join_list(found, 3));
    }
  }
  if (c.after && c.after->type != FileType::dir && !data_dir_of(c.path) &&
      c.after->mtime > std::numeric_limits<std::int64_t>::min() + 60 &&
      c.after->mtime < std::numeric_limits<std::int64_t>::max() - 60 &&
      (!creation || c.after->mtime >= *creation)) {
    const std::int64_t m = c.after->mtime;
    auto it = std::lower_bound(timeline.begin(), timeline.end(), m - 59,
                               [](const auto& e, std::int64_t t) { return e.first < t; });
    std::vector<std::string> near;
    for (; it != timeline.end() && it->first <= m + 59; ++it)
      if (it->second != c.path) near.emplace_back(it->second);
    if (!near.empty()) {
      ++s.count;
      s.evidence.push_back(std::to_string(near.size()) +
                           (near.size() == 1 ? " other change" : " other changes") +
                           " within the same minute: " + join_list(near, 3));
    }
  }
  return s;
}

std::optional<Origin> OriginAnalyzer::State::package_origin(const Change& c,
                                                            std::vector<std::string>& notes) const {
  if (c.after && c.after->mtime == npm_fixed_mtime && c.kind != ChangeKind::deleted &&
      (c.kind == ChangeKind::added || (c.before && c.before->mtime != c.after->mtime))) {
    Origin o{OriginKind::package_manager, Confidence::medium, {}};
    o.evidence.push_back("mtime " + format_utc(npm_fixed_mtime) +
                         " is the fixed timestamp npm gives every file it unpacks");
    return o;
  }
  if (package_db_changes.empty()) return std::nullopt;
  const std::string manager(in.container_packages.manager().empty()
                                ? in.image_packages.manager()
                                : in.container_packages.manager());
  if (is_package_db_path(c.path) || is_package_bookkeeping(c.path)) {
    Origin o{OriginKind::package_manager, Confidence::medium, {}};
    o.evidence.push_back(c.path + " is package-manager bookkeeping");
    o.evidence.push_back(package_db_line());
    return o;
  }
  auto ver = [](const std::string* v) { return v ? *v : std::string("version unknown"); };
  if (c.kind == ChangeKind::deleted) {
    const std::string* ipkg = in.image_packages.owner(c.path);
    if (!ipkg) return std::nullopt;
    const std::string* cpkg = in.container_packages.owner(c.path);
    const std::string* iver = in.image_packages.version(*ipkg);
    const std::string* cver = in.container_packages.version(*ipkg);
    if (cpkg && *cpkg == *ipkg && (!iver || !cver || *iver == *cver)) {
      notes.push_back("the package database changed, but " + manager + " still lists it under " +
                      *ipkg + ": no package removal explains the deletion");
      return std::nullopt;
    }
    Origin o{OriginKind::package_manager, Confidence::medium, {}};
    o.evidence.push_back(package_db_line());
    if (!cver) {
      o.confidence = Confidence::high;
      o.evidence.push_back("package " + *ipkg + " (" + ver(iver) +
                           "), which listed it in the image, is no longer installed");
    } else {
      o.evidence.push_back("package " + *ipkg + " went from " + ver(iver) + " to " + *cver +
                           " and no longer lists it");
    }
    return o;
  }
  const std::string* cpkg = in.container_packages.owner(c.path);
  if (!cpkg) return std::nullopt;
  const std::string* ipkg = in.image_packages.owner(c.path);
  const std::string* cver = in.container_packages.version(*cpkg);
  const std::string* iver = in.image_packages.version(*cpkg);
  Origin o{OriginKind::package_manager, Confidence::high, {}};
  o.evidence.push_back(package_db_line());
  if (!ipkg || *ipkg != *cpkg) {
    o.evidence.push_back("the container's " + manager + " database lists it under package " +
                         *cpkg + " (" + ver(cver) + "); the image's did not" +
                         (ipkg ? " (it listed it under " + *ipkg + ")" : std::string()));
    return o;
  }
  if (cver && iver && *cver != *iver) {
    o.evidence.push_back("package " + *cpkg + " went from " + *iver + " in the image to " + *cver +
                         " in the container, and lists it");
    return o;
  }
  if (!cver || !iver) {
    o.confidence = Confidence::low;
    o.evidence.push_back("listed under package " + *cpkg +
                         " in both databases; its versions are not recorded, so an upgrade "
                         "cannot be confirmed");
    return o;
  }
  notes.push_back("the package database changed, but package " + *cpkg + " is still at " + *cver +
                  ": installing packages does not explain this change");
  return std::nullopt;
}

Origin OriginAnalyzer::State::attribute_deleted(const Change& c) const {
  std::vector<std::string> notes;
  if (auto o = package_origin(c, notes)) return *o;

  std::vector<std::string> context;
  // Removing an entry updates its directory's mtime.
  if (const Entry* parent = in.container.find(parent_path(c.path))) {
    if (creation && parent->mtime >= *creation)
      context.push_back("its directory " + parent->path + " was last modified " +
                        format_utc(parent->mtime) + ", " + relative_to(parent->mtime, *creation) +
                        " " + creation_phrase());
  }

  auto removals = history.mentions(c.path, true);
  auto above = history.removals_of_ancestors(c.path);
  if (!removals.empty() || !above.empty()) {
    Origin o{OriginKind::shell_edit, Confidence::medium, {}};
    bool full = false;
    for (const auto& m : removals)
      full = full || m.full_path;
    if (full) o.confidence = Confidence::high;
    std::size_t shown = 0;
    for (const auto* list : {&removals, &above}) {
      for (const auto& m : *list) {
        if (shown++ == 2) break;
        o.evidence.push_back(m.line->file + " line " + std::to_string(m.line->number) +
                             " removes it: " + quote_line(m.line->text));
      }
    }
    o.evidence.insert(o.evidence.end(), context.begin(), context.end());
    o.evidence.insert(o.evidence.end(), notes.begin(), notes.end());
    return o;
  }
  Origin o;
  o.evidence.push_back(history.empty() ? "no shell history added or changed in the container"
                                       : "no line of the container's shell history removes it");
  if (package_db_changes.empty()) o.evidence.push_back("the package database did not change");
  o.evidence.insert(o.evidence.end(), context.begin(), context.end());
  o.evidence.insert(o.evidence.end(), notes.begin(), notes.end());
  if (!creation) o.evidence.push_back(creation_evidence);
  return o;
}

OriginAnalyzer::OriginAnalyzer(const OriginInputs& inputs)
    : m_state(std::make_unique<State>(inputs)) {
  m_state->find_creation_time();
  m_state->load_accounts();
  m_state->resolve_user();
  m_state->collect_data_dirs();
  m_state->load_history();
  m_state->index_changes();
}

OriginAnalyzer::~OriginAnalyzer() = default;
OriginAnalyzer::OriginAnalyzer(OriginAnalyzer&&) noexcept = default;
OriginAnalyzer& OriginAnalyzer::operator=(OriginAnalyzer&&) noexcept = default;

std::optional<std::int64_t> OriginAnalyzer::creation_time() const {
  return m_state->creation;
}

std::string OriginAnalyzer::creation_evidence() const {
  return m_state->creation_evidence;
}

Origin OriginAnalyzer::attribute(const Change& c) const {
  const State& s = *m_state;
  if (c.kind == ChangeKind::deleted || !c.after) return s.attribute_deleted(c);
  const Entry& after = *c.after;

  std::vector<std::string> notes;
  if (auto o = s.package_origin(c, notes)) return *o;

  auto copy = s.copy_signals(c);
  if (copy.count > 0) {
    Origin o{OriginKind::copied_in, copy.count >= 2 ? Confidence::high : Confidence::medium,
             std::move(copy.evidence)};
    o.evidence.insert(o.evidence.end(), notes.begin(), notes.end());
    return o;
  }

  // The history file itself: a shell wrote it when an interactive session ended.
  if (is_history_path(c.path) && after.type == FileType::file) {
    std::vector<std::string> lead;
    lead.push_back(c.path + " is a shell history file, written when an interactive shell exits");
    if (s.new_mtime(c))
      lead.push_back("mtime " + format_utc(after.mtime) + " is " +
                     relative_to(after.mtime, *s.creation) + " " + s.creation_phrase());
    Origin o{OriginKind::shell_edit, s.new_mtime(c) ? Confidence::high : Confidence::medium,
             std::move(lead)};
    o.evidence.insert(o.evidence.end(), notes.begin(), notes.end());
    return o;
  }

  auto traces = s.shell_traces(c);
  const auto* data = s.data_dir_of(c.path);
  const bool meta_only = c.kind == ChangeKind::modified && c.before && !c.has(Field::content) &&
                         !c.has(Field::type) && !c.has(Field::size) && !c.has(Field::target) &&
                         c.before->mtime == after.mtime;
  auto finish = [&](OriginKind kind, Confidence conf, std::vector<std::string> lead) {
    Origin o{kind, conf, std::move(lead)};
    o.evidence.insert(o.evidence.end(), traces.evidence.begin(), traces.evidence.end());
    o.evidence.insert(o.evidence.end(), notes.begin(), notes.end());
    return o;
  };
  const bool named = traces.named;

  if (meta_only) {
    std::vector<std::string> lead;
    std::string what;
    if (c.has(Field::mode))
      what = "mode " + format_mode(c.before->mode) + " -> " + format_mode(after.mode);
    if (c.has(Field::uid) || c.has(Field::gid))
      what += std::string(what.empty() ? "" : ", ") + "owner " +
              owner_string(c.before->uid, c.before->gid) + " -> " +
              owner_string(after.uid, after.gid);
    if (c.has(Field::xattrs)) what += std::string(what.empty() ? "" : ", ") + "xattrs";
    lead.push_back("only metadata changed (" + what +
                   "); content and mtime are the image's, and chmod/chown/setcap leave no "
                   "time trace");
    if (is_system_path(c.path)) {
      lead.push_back(c.path + " is a system path, outside any application data directory");
      return finish(OriginKind::shell_edit, confidence_for(traces.count - 1), std::move(lead));
    }
    if (data) {
      lead.push_back("under " + data->first + ", " + data->second);
      return finish(OriginKind::runtime_write, Confidence::low, std::move(lead));
    }
    if (traces.count > 0) return finish(OriginKind::shell_edit, Confidence::low, std::move(lead));
    lead.push_back("not a system path, not under an application data directory, no shell traces");
    return finish(OriginKind::unknown, Confidence::low, std::move(lead));
  }

  std::vector<std::string> lead;
  if (s.new_mtime(c))
    lead.push_back("mtime " + format_utc(after.mtime) + " is " +
                   relative_to(after.mtime, *s.creation) + " " + s.creation_phrase());

  if (data && !named) {
    Origin o{OriginKind::runtime_write, Confidence::low, std::move(lead)};
    o.evidence.push_back("under " + data->first + ", " + data->second);
    int level = 0;
    if (s.run_uid && after.uid == *s.run_uid) {
      ++level;
      o.evidence.push_back("owned by uid " + std::to_string(after.uid) + ", " + s.run_user_desc);
      if (s.new_mtime(c) || !s.creation) ++level;
    } else {
      o.evidence.push_back("owner " + owner_string(after.uid, after.gid) +
                           " is not the user the application runs as: " + s.run_user_desc);
    }
    o.confidence = level >= 2   ? Confidence::high
                   : level == 1 ? Confidence::medium
                                : Confidence::low;
    o.evidence.insert(o.evidence.end(), notes.begin(), notes.end());
    return o;
  }

  if (s.new_mtime(c)) {
    if (data)
      lead.push_back("under " + data->first + ", " + data->second +
                     ", but shell history or leftovers name it");
    else
      lead.push_back("outside the application's data directories");
    s.add_owner_checks(c, lead);
    return finish(OriginKind::shell_edit, confidence_for(traces.count), std::move(lead));
  }

  if (!s.creation) {
    lead.push_back(s.creation_evidence);
    if (named)
      return finish(OriginKind::shell_edit, confidence_for(traces.count - 1), std::move(lead));
    s.add_owner_checks(c, lead);
    if (traces.evidence.empty() && s.history.empty())
      lead.push_back("no shell history added or changed in the container");
    return finish(OriginKind::unknown, Confidence::low, std::move(lead));
  }

  // Content changed yet the mtime is still the image's: restored with touch -r, or
  // written by a tool that preserves timestamps.
  if (c.before && c.before->mtime == after.mtime)
    lead.push_back("content changed but the mtime is still the image's (" +
                   format_utc(after.mtime) +
                   "): restored with touch -r or a timestamp-keeping tool");
  s.add_owner_checks(c, lead);
  if (named)
    return finish(OriginKind::shell_edit, confidence_for(traces.count - 1), std::move(lead));
  if (data) lead.push_back("under " + data->first + ", " + data->second);
  if (s.package_db_changes.empty()) lead.push_back("the package database did not change");
  return finish(OriginKind::unknown, Confidence::low, std::move(lead));
}

} // namespace cdrift
