#include "classify/shell_history.hpp"

#include "cdrift/util/path.hpp"

#include <algorithm>
#include <array>
#include <unordered_set>

namespace cdrift {

namespace {

constexpr std::array<std::string_view, 13> history_names = {
    ".bash_history",      ".ash_history",    ".zsh_history",    ".zhistory",      ".sh_history",
    ".history",           "fish_history",    ".python_history", ".mysql_history", ".psql_history",
    ".node_repl_history", ".sqlite_history", ".viminfo",
};

// Shell word and redirection boundaries; '=' splits "of=/etc/passwd" (dd) too.
bool is_separator(char c) {
  return c != '\0' && std::string_view(" \t\r'\";|&<>()`=,").find(c) != std::string_view::npos;
}

void push(std::unordered_map<std::string, std::vector<std::uint32_t>>& map, const std::string& key,
          std::uint32_t idx) {
  auto& v = map[key];
  if (v.empty() || v.back() != idx) v.push_back(idx);
}

} // namespace

bool is_history_path(std::string_view path) {
  std::string_view name = base_name(path);
  return std::find(history_names.begin(), history_names.end(), name) != history_names.end();
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

void HistoryIndex::add_file(const std::string& file, std::string_view content) {
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

std::vector<HistoryIndex::Mention> HistoryIndex::mentions(std::string_view path,
                                                          bool removing_only) const {
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

std::vector<HistoryIndex::Mention>
HistoryIndex::removals_of_ancestors(std::string_view path) const {
  std::vector<Mention> out;
  for (std::string_view dir = parent_path(path); dir.size() > 1; dir = parent_path(dir)) {
    auto it = m_by_path.find(std::string(dir));
    if (it == m_by_path.end()) continue;
    for (std::uint32_t idx : it->second)
      if (m_lines[idx].removes) out.push_back({&m_lines[idx], true});
  }
  return out;
}

void HistoryIndex::index_line(Line line) {
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

} // namespace cdrift
