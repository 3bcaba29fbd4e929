// Applies member streams (image layers in order, or one export/rootfs/directory)
// to an in-memory tree, following the OCI image-spec layer rules, and yields the
// manifest. Nothing is ever written to disk.
#pragma once

#include "cdrift/layer/content.hpp"
#include "cdrift/manifest/manifest.hpp"
#include "cdrift/source/member_stream.hpp"

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

enum class Whiteouts {
  apply,   // image layers: .wh.NAME and .wh..wh..opq hide lower layers' entries
  literal, // exports and directories: a file named .wh.x is just a file
};

class TreeBuilder {
public:
  explicit TreeBuilder(Progress* progress = nullptr);

  // `layer` is the image layer index, or -1 for a container or plain tree.
  Status apply(MemberStream& members, int layer, Whiteouts whiteouts);

  std::size_t size() const { return m_nodes.size(); }
  // Moves the tree out as a manifest sorted by path bytes.
  Manifest finish(std::string source, SourceKind kind);

private:
  // The entry's own path is the key: storing it once keeps per-entry memory down
  // (millions of entries in big trees). Set elements are const; the fields that
  // change in place are mutable, never the path.
  struct Node {
    mutable Entry entry;
    mutable int explicit_layer = -2; // layer that named it; implicit parents keep -2
  };
  struct ByPath {
    using is_transparent = void;
    bool operator()(const Node& a, const Node& b) const { return a.entry.path < b.entry.path; }
    bool operator()(const Node& a, std::string_view b) const { return a.entry.path < b; }
    bool operator()(std::string_view a, const Node& b) const { return a < b.entry.path; }
  };
  using Map = std::set<Node, ByPath>;

  Status apply_member(MemberStream& members, Member& m, int layer, Whiteouts whiteouts);
  Result<std::string> resolve_parent(const std::string& path, const std::string& what);
  void ensure_parents(const std::string& path, int layer);
  void drop_capture(const std::string& path);
  void remove_subtree(const std::string& dir, int below_layer, bool include_self);
  Status read_content(MemberStream& members, const Member& m, Entry& e);

  Map m_nodes;
  Captures m_captures;
  std::vector<std::string> m_warnings;
  Progress* m_progress;
  ContentReader m_reader;
};

} // namespace cdrift
