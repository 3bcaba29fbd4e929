#include "cdrift/classify/packages.hpp"

#include "cdrift/util/path.hpp"

#include <array>

namespace cdrift {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Calls fn(line) for every line, without the newline.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    fn(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// "libc6:amd64" -> "libc6": multiarch qualifiers name the same package for humans.
std::string_view strip_arch(std::string_view package) {
  return package.substr(0, package.find(':'));
}

// Top-level directories that usrmerge turns into symlinks into /usr.
constexpr std::array<std::string_view, 7> merged_dirs = {"bin",   "sbin",   "lib",   "lib32",
                                                         "lib64", "libx32", "libo32"};

// The other spelling of `path` under usrmerge, or "" when it has none.
std::string usrmerge_alias(std::string_view path) {
  for (auto d : merged_dirs) {
    std::string top = "/" + std::string(d);
    std::string usr = "/usr" + top;
    if (path == usr || starts_with(path, usr + "/"))
      return top + std::string(path.substr(usr.size()));
    if (path == top || starts_with(path, top + "/"))
      return usr + std::string(path.substr(top.size()));
  }
  return {};
}

std::string normalise(std::string_view raw) {
  std::string with_root;
  if (raw.empty() || raw.front() != '/') with_root = "/";
  with_root.append(raw);
  auto cleaned = clean_path(with_root);
  if (!cleaned || *cleaned == "/") return {};
  return std::move(cleaned).value();
}

} // namespace

std::uint32_t PackageDb::intern(std::string_view package) {
  std::string name(strip_arch(package));
  auto it = m_package_index.find(name);
  if (it != m_package_index.end()) return it->second;
  auto idx = static_cast<std::uint32_t>(m_packages.size());
  m_packages.push_back(name);
  m_package_index.emplace(std::move(name), idx);
  return idx;
}

// Database lines are almost always clean already ("/usr/bin/ls", "usr/bin/ls");
// those are looked up as they are, without building a string.
bool is_plain_path(std::string_view p) {
  if (p.empty() || p.back() == '/') return false;
  if (p.find("//") != std::string_view::npos) return false;
  for (std::size_t i = p.find('.'); i != std::string_view::npos; i = p.find('.', i + 1))
    if ((i == 0 || p[i - 1] == '/') &&
        (i + 1 == p.size() || p[i + 1] == '/' ||
         (p[i + 1] == '.' && (i + 2 == p.size() || p[i + 2] == '/'))))
      return false;
  return true;
}

void PackageDb::add(std::string_view raw_path, std::uint32_t package, bool checksum) {
  std::string_view path;
  std::string normalised;
  if (is_plain_path(raw_path) && raw_path.front() == '/') {
    path = raw_path;
  } else if (is_plain_path(raw_path)) {
    m_scratch.assign("/");
    m_scratch.append(raw_path);
    path = m_scratch;
  } else {
    normalised = normalise(raw_path);
    path = normalised;
  }
  if (path.empty()) return;
  if (m_wanted && !m_wanted->contains(path)) return;
  auto [it, inserted] = m_owner.try_emplace(std::string(path), Owned{package, checksum});
  // Directories are listed by many packages: the first (captures iterate in path
  // order, so the smallest package name) keeps them. A checksum recorded by the same
  // package under another file (a conffile hash in status) still counts.
  if (!inserted && it->second.package == package && checksum) it->second.checksum = true;
}

const PackageDb::Owned* PackageDb::lookup(std::string_view path) const {
  auto it = m_owner.find(std::string(path));
  if (it != m_owner.end()) return &it->second;
  std::string alias = usrmerge_alias(path);
  if (alias.empty()) return nullptr;
  it = m_owner.find(alias);
  return it != m_owner.end() ? &it->second : nullptr;
}

const std::string* PackageDb::owner(std::string_view path) const {
  const Owned* o = lookup(path);
  return o ? &m_packages[o->package] : nullptr;
}

bool PackageDb::has_checksum(std::string_view path) const {
  const Owned* o = lookup(path);
  return o && o->checksum;
}

const std::string* PackageDb::version(std::string_view package) const {
  auto it = m_versions.find(std::string(strip_arch(package)));
  return it != m_versions.end() ? &it->second : nullptr;
}

// Paragraphs of "Field: value" lines; continuation lines start with a space.
// Conffiles lines are " /etc/path <md5>[ obsolete]": dpkg keeps conffile hashes here,
// not in info/*.md5sums.
void PackageDb::parse_dpkg_status(std::string_view text) {
  std::string package, version, status;
  std::vector<std::string> conffiles;
  std::string field;
  auto flush = [&] {
    bool present = !package.empty() && status.find("not-installed") == std::string::npos &&
                   status.find("config-files") == std::string::npos;
    if (present) {
      std::uint32_t idx = intern(package);
      if (!version.empty()) m_versions[m_packages[idx]] = version;
      for (const auto& c : conffiles)
        add(c, idx, true);
    }
    package.clear();
    version.clear();
    status.clear();
    conffiles.clear();
    field.clear();
  };
  for_each_line(text, [&](std::string_view line) {
    if (trim(line).empty()) {
      flush();
      return;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (field != "Conffiles") return;
      std::string_view rest = trim(line);
      std::size_t sp = rest.find(' ');
      std::string_view path = rest.substr(0, sp);
      std::string_view hash = sp == std::string_view::npos ? "" : trim(rest.substr(sp + 1));
      if (!path.empty() && path.front() == '/' && !starts_with(hash, "newconffile"))
        conffiles.emplace_back(path);
      return;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    field = std::string(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (field == "Package")
      package = std::string(value);
    else if (field == "Version")
      version = std::string(value);
    else if (field == "Status")
      status = std::string(value);
  });
  flush();
}

void PackageDb::parse_dpkg_list(std::string_view package, std::string_view text) {
  std::uint32_t idx = intern(package);
  for_each_line(text, [&](std::string_view line) {
    line = trim(line);
    if (!line.empty()) add(line, idx, false);
  });
}

// "<32 hex>  usr/bin/ls": paths are relative to the root.
void PackageDb::parse_dpkg_md5sums(std::string_view package, std::string_view text) {
  std::uint32_t idx = intern(package);
  for_each_line(text, [&](std::string_view line) {
    if (line.size() < 34) return;
    std::size_t sp = line.find(' ');
    if (sp != 32) return;
    std::string_view path = trim(line.substr(sp));
    if (!path.empty()) add(path, idx, true);
  });
}

// apk's installed database: "P:name", "V:version", "F:dir" (relative), "R:file" in
// the last F, "Z:checksum" of the last R; packages separated by blank lines.
void PackageDb::parse_apk_installed(std::string_view text) {
  std::uint32_t idx = 0;
  bool have_package = false;
  std::string dir;
  std::string last_file;
  for_each_line(text, [&](std::string_view line) {
    if (line.size() < 2 || line[1] != ':') {
      if (trim(line).empty()) {
        have_package = false;
        dir.clear();
        last_file.clear();
      }
      return;
    }
    std::string_view value = line.substr(2);
    switch (line[0]) {
    case 'P':
      idx = intern(value);
      have_package = true;
      break;
    case 'V':
      if (have_package) m_versions[m_packages[idx]] = std::string(value);
      break;
    case 'F':
      if (!have_package) break;
      dir = std::string(value);
      last_file.clear();
      add(dir, idx, false);
      break;
    case 'R':
      if (!have_package) break;
      last_file = dir.empty() ? std::string(value) : dir + "/" + std::string(value);
      add(last_file, idx, false);
      break;
    case 'Z':
      if (have_package && !last_file.empty()) add(last_file, idx, true);
      break;
    default:
      break;
    }
  });
}

PackageDb PackageDb::from_captures(const Captures& captures,
                                   const std::vector<std::string>* paths) {
  PackageDb db;
  std::vector<std::string> aliases;
  std::unordered_set<std::string_view> wanted;
  if (paths) {
    for (const auto& p : *paths) {
      std::string alias = usrmerge_alias(p);
      if (!alias.empty()) aliases.push_back(std::move(alias));
    }
    wanted.insert(paths->begin(), paths->end());
    wanted.insert(aliases.begin(), aliases.end());
    db.m_wanted = &wanted;
  }
  bool dpkg = false;
  bool apk = false;
  for (const auto& [path, content] : captures.files) {
    std::string_view p = path;
    std::string_view dir = parent_path(p);
    std::string_view name = base_name(p);
    if (p == "/var/lib/dpkg/status") {
      db.parse_dpkg_status(content);
      dpkg = true;
    } else if (dir == "/var/lib/dpkg/info" && ends_with(name, ".list")) {
      db.parse_dpkg_list(name.substr(0, name.size() - 5), content);
      dpkg = true;
    } else if (dir == "/var/lib/dpkg/info" && ends_with(name, ".md5sums")) {
      db.parse_dpkg_md5sums(name.substr(0, name.size() - 8), content);
      dpkg = true;
    } else if (dir == "/var/lib/dpkg/status.d" && ends_with(name, ".md5sums")) {
      db.parse_dpkg_md5sums(name.substr(0, name.size() - 8), content);
      dpkg = true;
    } else if (dir == "/var/lib/dpkg/status.d") {
      db.parse_dpkg_status(content);
      dpkg = true;
    } else if (p == "/lib/apk/db/installed" || p == "/usr/lib/apk/db/installed") {
      db.parse_apk_installed(content);
      apk = true;
    }
  }
  db.m_manager = dpkg ? "dpkg" : apk ? "apk" : "";
  db.m_wanted = nullptr;
  db.m_scratch = std::string();
  return db;
}

} // namespace cdrift
