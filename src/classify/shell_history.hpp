// Shell history files a container's shells leave behind, indexed by the paths and
// file names their lines mention: evidence that someone worked in the container.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cdrift {

// .bash_history, .ash_history, .python_history, .viminfo, ... (by file name).
bool is_history_path(std::string_view path);

// A history line as evidence: trailing blanks cut, at most 160 bytes, cut on a UTF-8
// boundary.
std::string quote_line(std::string_view line);

class HistoryIndex {
public:
  struct Line {
    std::string file;
    std::size_t number = 0;
    std::string_view text; // into the content given to add_file, which must outlive the index
    bool removes = false;  // rm, unlink, shred, rmdir, mv, find -delete
  };
  struct Mention {
    const Line* line;
    bool full_path;
  };

  void add_file(const std::string& file, std::string_view content);
  // Lines naming `path` in full, then lines naming its file name (3 bytes or more).
  std::vector<Mention> mentions(std::string_view path, bool removing_only) const;
  // Lines that remove an ancestor directory or a glob in it ("rm -rf /var/log/*").
  std::vector<Mention> removals_of_ancestors(std::string_view path) const;
  bool empty() const { return m_lines.empty(); }

private:
  void index_line(Line line);

  std::vector<Line> m_lines;
  std::unordered_map<std::string, std::vector<std::uint32_t>> m_by_path;
  std::unordered_map<std::string, std::vector<std::uint32_t>> m_by_name;
};

} // namespace cdrift
