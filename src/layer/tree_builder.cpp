#include "cdrift/layer/tree_builder.hpp"

#include "cdrift/manifest/capture.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/path.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace cdrift {

namespace {

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";
constexpr int max_symlink_hops = 40;

std::string quoted(std::string_view raw) {
  return "\"" + escape_for_terminal(raw) + "\"";
}

std::string child_prefix(const std::string& dir) {
  return dir == "/" ? "/" : dir + "/";
}

} // namespace

TreeBuilder::TreeBuilder(Progress* progress) : m_progress(progress), m_reader(progress) {
  Node root;
  root.entry.path = "/";
  root.entry.type = FileType::dir;
  root.entry.mode = 0755;
  m_nodes.insert(std::move(root));
}

void TreeBuilder::drop_capture(const std::string& path) {
  if (auto c = m_captures.files.find(path); c != m_captures.files.end()) {
    m_captures.bytes -= c->second.size();
    m_captures.files.erase(c);
  }
}

void TreeBuilder::remove_subtree(const std::string& dir, int below_layer, bool include_self) {
  std::string prefix = child_prefix(dir);
  std::vector<std::string> survivors;
  auto it = m_nodes.lower_bound(prefix);
  while (it != m_nodes.end() && it->entry.path.compare(0, prefix.size(), prefix) == 0) {
    if (it->entry.layer < below_layer) {
      drop_capture(it->entry.path);
      it = m_nodes.erase(it);
    } else {
      survivors.push_back(it->entry.path);
      ++it;
    }
  }
  if (include_self && dir != "/") {
    auto self = m_nodes.find(dir);
    if (self != m_nodes.end() && self->entry.layer < below_layer) {
      drop_capture(dir);
      m_nodes.erase(self);
    }
  }
  // Entries this layer already wrote below a hidden directory stay, whatever the
  // tar order; the directories above them become this layer's implicit parents.
  for (const auto& path : survivors)
    ensure_parents(path, below_layer);
}

// Parent components that are symlinks inside the tree are followed inside the tree
// (like a chroot: ".." stops at the root), as container runtimes do when they
// unpack; the host filesystem is never consulted.
Result<std::string> TreeBuilder::resolve_parent(const std::string& path, const std::string& what) {
  // Every entry in the tree has only directories above it (replacing a directory
  // drops its subtree), so an existing directory parent means nothing to resolve.
  // That keeps deep trees linear instead of walking every component again.
  if (auto parent = m_nodes.find(parent_path(path));
      parent != m_nodes.end() && parent->entry.type == FileType::dir)
    return path;
  std::string current = path;
  for (int hops = 0; hops <= max_symlink_hops; ++hops) {
    std::size_t pos = 1;
    bool restarted = false;
    while (true) {
      std::size_t slash = current.find('/', pos);
      if (slash == std::string::npos) return current; // reached the last component
      std::string prefix = current.substr(0, slash);
      auto it = m_nodes.find(prefix);
      if (it == m_nodes.end()) return current; // implicit parents get created
      const Entry& e = it->entry;
      if (e.type == FileType::dir) {
        pos = slash + 1;
        continue;
      }
      if (e.type != FileType::symlink)
        return fail(ErrorKind::input, what + ": entry " + quoted(path) + " lies below " +
                                          quoted(prefix) + ", which is not a directory");
      std::string base =
          e.target.starts_with("/") ? e.target : std::string(parent_path(prefix)) + "/" + e.target;
      // Clamp ".." at the root instead of rejecting: the link is data, not an escape.
      std::string clamped;
      {
        std::vector<std::string_view> parts;
        std::string_view b = base;
        std::size_t i = 0;
        while (i <= b.size()) {
          std::size_t j = b.find('/', i);
          if (j == std::string_view::npos) j = b.size();
          auto part = b.substr(i, j - i);
          if (part == "..") {
            if (!parts.empty()) parts.pop_back();
          } else if (!part.empty() && part != ".") {
            parts.push_back(part);
          }
          i = j + 1;
        }
        for (auto p : parts)
          clamped += "/" + std::string(p);
        if (clamped.empty()) clamped = "/";
      }
      current = (clamped == "/" ? "" : clamped) + current.substr(slash);
      restarted = true;
      break;
    }
    if (!restarted) return current;
  }
  return fail(ErrorKind::input, what + ": entry " + quoted(path) +
                                    " lies below a symlink loop (more than " +
                                    std::to_string(max_symlink_hops) + " links)");
}

void TreeBuilder::ensure_parents(const std::string& path, int layer) {
  std::string_view parent = parent_path(path);
  std::vector<std::string_view> missing;
  while (!parent.empty() && m_nodes.find(parent) == m_nodes.end()) {
    missing.push_back(parent);
    parent = parent_path(parent);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    Node n;
    n.entry.path = std::string(*it);
    n.entry.type = FileType::dir;
    n.entry.mode = 0755;
    n.entry.layer = layer;
    m_nodes.insert(std::move(n));
  }
}

Status TreeBuilder::read_content(MemberStream& members, const Member& m, Entry& e) {
  DigestedContent read_here;
  const DigestedContent* content = members.digested();
  if (!content) {
    auto r = m_reader.read(members, m, capture_wish(m));
    if (!r) return fail(std::move(r).error());
    read_here = std::move(*r);
    content = &read_here;
  }
  e.size = content->size;
  e.sha256 = content->sha256;
  e.content_class = content->content_class;
  e.interpreter = content->interpreter;
  // Captures are keyed by where the file landed (parents resolved), and bounded.
  bool capture = content->captured && wants_capture(e.path) &&
                 m_captures.bytes + content->captured->size() <= capture_total_limit;
  drop_capture(e.path);
  if (capture) {
    m_captures.bytes += content->captured->size();
    m_captures.files[e.path] = *content->captured;
  }
  return {};
}

Status TreeBuilder::apply(MemberStream& members, int layer, Whiteouts whiteouts) {
  Member m;
  for (;;) {
    auto more = members.next(m);
    if (!more) return fail(std::move(more).error());
    if (!*more) return {};
    CDRIFT_TRY(apply_member(members, m, layer, whiteouts));
    if (m_progress) m_progress->entries.fetch_add(1, std::memory_order_relaxed);
  }
}

Status TreeBuilder::apply_member(MemberStream& members, Member& m, int layer, Whiteouts whiteouts) {
  const std::string& what = members.name();
  for (auto& w : m.warnings)
    m_warnings.push_back(std::move(w));
  auto cleaned = clean_path(m.name);
  if (!cleaned) return fail(with_context(std::move(cleaned).error(), what));
  std::string path = std::move(*cleaned);

  if (path != "/") {
    auto resolved = resolve_parent(path, what);
    if (!resolved) return fail(std::move(resolved).error());
    path = std::move(*resolved);
  }

  std::string_view base = base_name(path);
  if (whiteouts == Whiteouts::apply && base.starts_with(whiteout_prefix)) {
    std::string dir(parent_path(path));
    if (base == opaque_marker) {
      // Hides everything the lower layers put in dir; this layer's own entries stay,
      // whether they come before or after the marker in the tar.
      remove_subtree(dir, layer, /*include_self=*/false);
    } else if (base == whiteout_prefix) {
      // The image spec: a whiteout naming nothing is an error.
      return fail(ErrorKind::input, what + ": whiteout " + quoted(path) + " names no entry");
    } else if (base.starts_with(".wh..wh.")) {
      m_warnings.push_back(what + ": ignored AUFS metadata entry " + quoted(path));
    } else {
      std::string hidden = child_prefix(dir) + std::string(base.substr(whiteout_prefix.size()));
      remove_subtree(hidden, layer, /*include_self=*/true);
    }
    return {};
  }

  Entry e;
  e.path = path;
  e.layer = layer;
  if (m.is_hardlink) {
    auto target = clean_path(m.link_name);
    if (!target) return fail(with_context(std::move(target).error(), what));
    // The link names its target the way the entry itself is named: through the
    // same in-tree symlinked parents.
    if (*target != "/") {
      auto resolved = resolve_parent(*target, what);
      if (!resolved) return fail(std::move(resolved).error());
      target = std::move(*resolved);
    }
    auto it = m_nodes.find(*target);
    if (it == m_nodes.end())
      return fail(ErrorKind::input, what + ": hardlink " + quoted(path) + " points to " +
                                        quoted(*target) + ", which does not exist");
    if (it->entry.type == FileType::dir)
      return fail(ErrorKind::input, what + ": hardlink " + quoted(path) + " points to " +
                                        quoted(*target) + ", a directory");
    if (*target == path) return {}; // a link to itself changes nothing
    // A hardlink shares its target's inode: content and metadata both.
    Entry copy = it->entry;
    copy.path = path;
    copy.layer = layer;
    e = std::move(copy);
  } else {
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
    if (m.type == FileType::file) CDRIFT_TRY(read_content(members, m, e));
  }

  if (path == "/") {
    if (e.type != FileType::dir)
      return fail(ErrorKind::input, what + ": the root entry is not a directory");
    const Node& root = *m_nodes.find(std::string_view("/"));
    e.layer = layer;
    root.entry = std::move(e);
    root.explicit_layer = layer;
    return {};
  }

  if (m.is_hardlink) {
    // The link shares the target's content, so it shares its captured bytes too.
    auto target = clean_path(m.link_name);
    if (target && *target != "/")
      if (auto resolved = resolve_parent(*target, what)) target = std::move(*resolved);
    auto c = target ? m_captures.files.find(*target) : m_captures.files.end();
    if (c != m_captures.files.end() && m_captures.bytes + c->second.size() <= capture_total_limit) {
      std::string copy = c->second;
      drop_capture(path);
      m_captures.bytes += copy.size();
      m_captures.files[path] = std::move(copy);
    } else {
      drop_capture(path);
    }
  } else if (e.type != FileType::file) {
    drop_capture(path);
  }

  auto it = m_nodes.find(path);
  if (it != m_nodes.end()) {
    const Node& old = *it;
    if (old.explicit_layer == layer)
      m_warnings.push_back(what + ": duplicate entry " + quoted(path) + " (the last one wins)");
    // Anything but dir-over-dir replaces the old entry and whatever was below it.
    if (old.entry.type == FileType::dir && e.type != FileType::dir)
      remove_subtree(path, std::numeric_limits<int>::max(), /*include_self=*/false);
    old.entry = std::move(e);
    old.explicit_layer = layer;
    return {};
  }
  ensure_parents(path, layer);
  Node n;
  n.entry = std::move(e);
  n.explicit_layer = layer;
  m_nodes.insert(std::move(n));
  return {};
}

Manifest TreeBuilder::finish(std::string source, SourceKind kind) {
  Manifest out;
  out.source = std::move(source);
  out.kind = kind;
  out.entries.reserve(m_nodes.size());
  while (!m_nodes.empty())
    out.entries.push_back(std::move(m_nodes.extract(m_nodes.begin()).value().entry));
  out.captures = std::move(m_captures);
  out.warnings = std::move(m_warnings);
  return out;
}

} // namespace cdrift
