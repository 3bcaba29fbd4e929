// The facts the origin analysis weighs, gathered once per audit: when the container
// was created (or a lower bound for "after the build"), the accounts it can name, the
// user the application runs as, its data directories, shell history, and an index of
// all changes. The weighing itself is in origin_weigh.cpp.
#include "classify/origin.hpp"

#include "cdrift/classify/timestamps.hpp"
#include "cdrift/util/path.hpp"
#include "classify/accounts.hpp"
#include "classify/evidence_text.hpp"
#include "classify/origin_state.hpp"
#include "classify/path_classes.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace cdrift {

using evidence::join_list;
using evidence::relative_to;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

std::optional<std::uint32_t> parse_u32(std::string_view s) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

const std::string* captured(const Manifest& m, std::string_view path) {
  auto it = m.captures.files.find(std::string(path));
  return it != m.captures.files.end() ? &it->second : nullptr;
}

} // namespace

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

// Without runtime metadata or a placeholder (podman export), the image still says
// when it was built: nothing written in the container can predate the config's
// created time or the newest file of the image itself.
void OriginAnalyzer::State::find_build_bound() {
  std::optional<std::int64_t> bound;
  if (in.image.image)
    if (auto t = parse_rfc3339(in.image.image->created)) {
      bound = *t;
      build_from = "the image config's created time";
    }
  std::int64_t newest = 0;
  for (const Entry& e : in.image.entries)
    newest = std::max(newest, e.mtime);
  if (newest > 0 && (!bound || newest > *bound)) {
    bound = newest;
    build_from = "the newest mtime in the image";
  }
  build_bound = bound;
}

std::string OriginAnalyzer::State::reference_phrase() const {
  if (creation)
    return "the container was " + creation_word + " (" + format_utc(*creation) + ", from " +
           creation_from + ")";
  return "the image was built (" + format_utc(*build_bound) + ", " + build_from + ")";
}

void OriginAnalyzer::State::load_accounts() {
  if (const std::string* passwd = captured(in.container, "/etc/passwd")) {
    have_passwd = true;
    for (const auto& a : parse_account_file(*passwd))
      if (a.id) uids.insert(*a.id);
  }
  if (const std::string* group = captured(in.container, "/etc/group")) {
    have_group = true;
    for (const auto& a : parse_account_file(*group))
      if (a.id) gids.insert(*a.id);
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
      auto accounts = parse_account_file(*passwd);
      auto it = std::find_if(accounts.begin(), accounts.end(),
                             [&](const AccountRecord& a) { return a.name == user && a.id; });
      if (it == accounts.end()) continue;
      run_uid = *it->id;
      run_gid = it->gid;
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
  auto ref = reference();
  if (!ref || !c.after) return false;
  if (c.after->mtime >= *ref) return false;
  return c.kind == ChangeKind::added || (c.before && c.before->mtime != c.after->mtime);
}

bool OriginAnalyzer::State::new_mtime(const Change& c) const {
  auto ref = reference();
  if (!ref || !c.after) return false;
  if (c.after->mtime < *ref) return false;
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

bool OriginAnalyzer::State::root_over_app_user(const Change& c) const {
  if (!c.after || !run_user_explicit || !run_uid || *run_uid == 0) return false;
  if (c.after->uid != 0) return false;
  return !c.before || c.before->uid != 0 || c.kind == ChangeKind::added || c.has(Field::content) ||
         c.has(Field::type);
}

std::string OriginAnalyzer::State::package_db_line() const {
  std::string line = "the package database changed (" + join_list(package_db_changes, 3) + ")";
  if (!packages.events().empty()) line += ": " + packages.summary(4);
  return line;
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
    if (auto ref = reference(); ref && c.after->mtime < *ref) continue;
    timeline.emplace_back(c.after->mtime, c.path);
  }
  std::sort(timeline.begin(), timeline.end());
  for (const auto& c : in.all_changes)
    if (is_package_db_path(c.path))
      package_db_changes.push_back(c.path + " " + std::string(to_string(c.kind)));
}

OriginAnalyzer::OriginAnalyzer(const OriginInputs& inputs)
    : m_state(std::make_unique<State>(inputs)) {
  m_state->find_creation_time();
  if (!m_state->creation) m_state->find_build_bound();
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

PackageFacts OriginAnalyzer::package_facts(const Change& change) const {
  return m_state->packages.facts(change);
}

} // namespace cdrift
