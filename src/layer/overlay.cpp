#include "cdrift/layer/overlay.hpp"

#include "cdrift/manifest/capture.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/path.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <utility>

namespace cdrift {

namespace {

std::string quoted(std::string_view raw) {
  return "\"" + escape_for_terminal(raw) + "\"";
}

std::string child_prefix(std::string_view dir) {
  return dir == "/" ? std::string("/") : std::string(dir) + "/";
}

Entry entry_of(const Member& m, std::string path, const OverlayMarks& marks) {
  Entry e;
  e.path = std::move(path);
  e.type = m.type;
  e.mode = m.mode;
  e.uid = m.uid;
  e.gid = m.gid;
  e.mtime = m.mtime;
  e.xattrs = m.xattrs;
  if (m.type == FileType::symlink) e.target = m.link_name;
  if (m.type == FileType::chardev || m.type == FileType::blockdev) {
    e.dev_major = m.dev_major;
    e.dev_minor = m.dev_minor;
  }
  e.ctime = marks.ctime;
  e.btime = marks.btime;
  return e;
}

void set_content(Entry& e, const DigestedContent& c) {
  e.size = c.size;
  e.sha256 = c.sha256;
  e.content_class = c.content_class;
  e.interpreter = c.interpreter;
}

void keep_capture(Captures& into, const std::string& path, const std::string& bytes) {
  if (!wants_capture(path) || into.bytes + bytes.size() > capture_total_limit) return;
  if (into.files.emplace(path, bytes).second) into.bytes += bytes.size();
}

// Walks the upper tree depth first, merging each upper directory with the lower
// directory overlayfs would look up under it.
class Merger {
public:
  Merger(const Manifest& image, const UpperLayer& upper) : m_image(image), m_upper(upper) {}

  Status index() {
    for (std::size_t i = 0; i < m_upper.items.size(); ++i) {
      const std::string& path = m_upper.items[i].entry.path;
      if (!m_by_path.emplace(path, i).second)
        return fail(ErrorKind::input, m_upper.source + ": duplicate entry " + quoted(path));
      if (path == "/") continue;
      auto parent = m_by_path.find(parent_path(path));
      if (parent == m_by_path.end() || m_upper.items[parent->second].entry.type != FileType::dir)
        return fail(ErrorKind::input,
                    m_upper.source + ": entry " + quoted(path) + " has no parent directory");
      m_children[parent->second].emplace(base_name(path), i);
    }
    return {};
  }

  Result<Manifest> run(std::string source, SourceKind kind) {
    CDRIFT_TRY(index());
    Manifest out;
    out.source = std::move(source);
    out.kind = kind;
    out.warnings = m_upper.warnings;
    // The root as the export's tree has it: see overlay.hpp.
    Entry root;
    root.path = "/";
    root.type = FileType::dir;
    root.mode = 0755;
    m_out.push_back(std::move(root));
    if (auto r = m_by_path.find(std::string_view("/")); r != m_by_path.end()) {
      if (m_upper.items[r->second].entry.type != FileType::dir)
        return fail(ErrorKind::input, m_upper.source + ": the upper root is not a directory");
      // An opaque upper root hides the whole image (overlayfs stops its lookup there).
      std::optional<std::string> lower;
      if (!m_upper.items[r->second].opaque) lower = "/";
      std::vector<Frame> stack{{"/", std::move(lower), r->second}};
      while (!stack.empty()) {
        Frame f = std::move(stack.back());
        stack.pop_back();
        CDRIFT_TRY(merge_dir(f, stack));
      }
    } else {
      copy_lower("/", "/", {});
    }
    std::sort(m_out.begin(), m_out.end(),
              [](const Entry& a, const Entry& b) { return a.path < b.path; });
    out.entries = std::move(m_out);
    out.captures = std::move(m_captures);
    return out;
  }

private:
  struct Frame {
    std::string view;                 // the directory's path in the merged view
    std::optional<std::string> lower; // the lower directory merged under it, if any
    std::size_t item;                 // the upper directory
  };
  using Children = std::map<std::string_view, std::size_t>;

  const Entry* lower_entry(const std::optional<std::string>& path) const {
    return path ? m_image.find(*path) : nullptr;
  }

  // Every lower entry below `lower` except those under names the upper directory
  // has (their lookup stops in the upper), moved to `view` (they differ only under
  // a redirect).
  void copy_lower(const std::string& view, const std::string& lower, const Children& shadowed) {
    std::string from = child_prefix(lower), to = child_prefix(view);
    const auto& entries = m_image.entries;
    auto it = std::lower_bound(entries.begin(), entries.end(), from,
                               [](const Entry& e, const std::string& p) { return e.path < p; });
    for (; it != entries.end() && it->path.starts_with(from); ++it) {
      std::string_view rest = std::string_view(it->path).substr(from.size());
      if (rest.empty()) continue;
      if (shadowed.count(rest.substr(0, rest.find('/')))) continue;
      Entry e = *it;
      e.path = to + std::string(rest);
      e.layer = -1;
      if (e.type == FileType::file)
        if (auto c = m_image.captures.files.find(it->path); c != m_image.captures.files.end())
          keep_capture(m_captures, e.path, c->second);
      m_out.push_back(std::move(e));
    }
  }

  // Where overlayfs looks for the lower object of `item` (a directory or a metacopy
  // file) whose parent's lower directory is `parent_lower`.
  Result<std::optional<std::string>> lower_of(const UpperItem& item,
                                              const std::optional<std::string>& parent_lower) {
    const std::string& path = item.entry.path;
    if (!item.redirect) {
      if (!parent_lower) return std::optional<std::string>();
      return std::optional<std::string>(child_prefix(*parent_lower) + std::string(base_name(path)));
    }
    const std::string& r = *item.redirect;
    auto bad = [&](std::string_view why) {
      return fail(ErrorKind::input, m_upper.source + ": " + std::string(unknown_overlay_feature) +
                                        ": redirect " + quoted(r) + " of " + quoted(path) + " " +
                                        std::string(why));
    };
    if (r.starts_with("/")) {
      auto cleaned = clean_path(r);
      if (!cleaned) return bad("leaves the root");
      return std::optional<std::string>(std::move(*cleaned));
    }
    // A relative redirect is a name in the parent's lower directory.
    if (r.find('/') != std::string::npos || r == "." || r == "..")
      return bad("is not a name in its parent directory");
    if (!parent_lower) return std::optional<std::string>();
    return std::optional<std::string>(child_prefix(*parent_lower) + r);
  }

  Status merge_dir(const Frame& f, std::vector<Frame>& stack) {
    static const Children none;
    auto kids = m_children.find(f.item);
    const Children& children = kids == m_children.end() ? none : kids->second;
    if (f.lower) copy_lower(f.view, *f.lower, children);
    for (const auto& [name, index] : children) {
      const UpperItem& item = m_upper.items[index];
      if (item.whiteout) continue; // the lower name and its subtree are gone
      std::string view = child_prefix(f.view) + std::string(name);
      Entry e = item.entry;
      e.path = view;
      e.layer = -1;
      if (e.type == FileType::dir) {
        std::optional<std::string> lower;
        if (!item.opaque) {
          auto l = lower_of(item, f.lower);
          if (!l) return fail(std::move(l).error());
          if (const Entry* le = lower_entry(*l); le && le->type == FileType::dir) lower = *l;
        }
        m_out.push_back(std::move(e));
        stack.push_back(Frame{std::move(view), std::move(lower), index});
        continue;
      }
      if (e.type == FileType::file && item.metacopy) {
        auto l = lower_of(item, f.lower);
        if (!l) return fail(std::move(l).error());
        const Entry* data = lower_entry(*l);
        if (!data || data->type != FileType::file)
          return fail(ErrorKind::input, m_upper.source + ": metacopy file " +
                                            quoted(item.entry.path) +
                                            " has no regular file below it in the image");
        e.size = data->size;
        e.sha256 = data->sha256;
        e.content_class = data->content_class;
        e.interpreter = data->interpreter;
        if (auto c = m_image.captures.files.find(data->path); c != m_image.captures.files.end())
          keep_capture(m_captures, view, c->second);
      } else if (e.type == FileType::file) {
        if (auto c = m_upper.captures.files.find(item.entry.path);
            c != m_upper.captures.files.end())
          keep_capture(m_captures, view, c->second);
      }
      m_out.push_back(std::move(e));
    }
    return {};
  }

  const Manifest& m_image;
  const UpperLayer& m_upper;
  std::unordered_map<std::string_view, std::size_t> m_by_path;
  std::unordered_map<std::size_t, Children> m_children;
  std::vector<Entry> m_out;
  Captures m_captures;
};

} // namespace

Result<UpperLayer> read_upper_layer(UpperDirReader& reader, Progress* progress) {
  UpperLayer out;
  out.source = reader.name();
  ContentReader content(progress);
  // Names of one inode (a hardlink copied up with both its names) are read once.
  std::map<std::pair<std::uint64_t, std::uint64_t>, DigestedContent> inodes;
  Member m;
  for (;;) {
    auto more = reader.next(m);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    const OverlayMarks& marks = reader.marks();
    auto path = clean_path(m.name);
    if (!path) return fail(with_context(std::move(path).error(), out.source));
    UpperItem item;
    item.entry = entry_of(m, std::move(*path), marks);
    item.whiteout = marks.whiteout;
    item.opaque = marks.opaque;
    item.metacopy = marks.metacopy;
    item.redirect = marks.redirect;
    if (m.type == FileType::file && !marks.metacopy) {
      auto key = std::make_pair(marks.dev, marks.ino);
      auto seen = marks.nlink > 1 ? inodes.find(key) : inodes.end();
      if (seen == inodes.end()) {
        auto c = content.read(reader, m, capture_wish(m));
        if (!c) return fail(std::move(c).error());
        if (marks.nlink > 1)
          seen = inodes.emplace(key, std::move(*c)).first;
        else {
          set_content(item.entry, *c);
          if (c->captured) keep_capture(out.captures, item.entry.path, *c->captured);
        }
      }
      if (seen != inodes.end()) {
        set_content(item.entry, seen->second);
        if (seen->second.captured)
          keep_capture(out.captures, item.entry.path, *seen->second.captured);
      }
    }
    if (progress) progress->entries.fetch_add(1, std::memory_order_relaxed);
    out.items.push_back(std::move(item));
  }
  return out;
}

Result<Manifest> apply_upper_layer(const Manifest& image, const UpperLayer& upper,
                                   std::string source, SourceKind kind) {
  return Merger(image, upper).run(std::move(source), kind);
}

} // namespace cdrift
