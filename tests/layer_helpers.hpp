// Layers built in memory and applied with TreeBuilder, and lookups into the
// result: what the layer/ unit tests share.
#pragma once

#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/manifest/capture.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "cdrift/util/path.hpp"
#include "cdrift/util/sha256.hpp"
#include "test_tar.hpp"

#include <algorithm>
#include <cstring>
#include <doctest/doctest.h>
#include <string>
#include <vector>

namespace cdrift::test {

using Layer = std::vector<TarEntry>;

// Applies each table as one image layer, in order; layer i is named "layer i".
inline Result<Manifest> apply_layers(const std::vector<Layer>& layers,
                                     Whiteouts whiteouts = Whiteouts::apply,
                                     TarFormat format = TarFormat::pax) {
  TreeBuilder builder;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    std::string name = "layer " + std::to_string(i);
    MemorySource src(make_tar(layers[i], format), name);
    TarReader reader(src, name);
    CDRIFT_TRY(reader.open());
    CDRIFT_TRY(builder.apply(reader, static_cast<int>(i), whiteouts));
  }
  return builder.finish("test", SourceKind::rootfs_tar);
}

inline Manifest must_apply(const std::vector<Layer>& layers, Whiteouts whiteouts = Whiteouts::apply,
                           TarFormat format = TarFormat::pax) {
  auto m = apply_layers(layers, whiteouts, format);
  if (!m) FAIL("applying layers failed: " << m.error().message);
  return std::move(*m);
}

inline std::vector<std::string> paths(const Manifest& m) {
  std::vector<std::string> out;
  for (const auto& e : m.entries)
    out.push_back(e.path);
  return out;
}

inline std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& p : v)
    s += p + " ";
  return s;
}

// Invariants every applied tree must keep: sorted unique paths, a root, and
// every entry's parent present as a directory (no orphans).
inline void check_tree(const Manifest& m) {
  REQUIRE(!m.entries.empty());
  CHECK(m.entries.front().path == "/");
  CHECK(m.entries.front().type == FileType::dir);
  for (std::size_t i = 1; i < m.entries.size(); ++i) {
    const Entry& e = m.entries[i];
    INFO("entry " << e.path << " in tree: " << joined(paths(m)));
    CHECK(m.entries[i - 1].path < e.path);
    std::string parent(parent_path(e.path));
    const Entry* p = m.find(parent);
    CHECK_MESSAGE(p != nullptr, "parent " << parent << " missing");
    if (p) CHECK(p->type == FileType::dir);
  }
}

inline const Entry& get(const Manifest& m, const std::string& path) {
  const Entry* e = m.find(path);
  if (!e) FAIL("no entry " << path << " in " << joined(paths(m)));
  return *e;
}

inline bool has(const Manifest& m, const std::string& path) {
  return m.find(path) != nullptr;
}

inline std::string hex_of(const Entry& e) {
  return e.sha256 ? to_hex(*e.sha256) : std::string("(none)");
}

inline std::string xattr_list(const std::vector<Xattr>& xs) {
  std::string s;
  for (const auto& x : xs)
    s += x.name + "(" + std::to_string(x.value.size()) + " bytes) ";
  return s;
}

inline bool any_warning_contains(const Manifest& m, std::string_view text) {
  return std::any_of(m.warnings.begin(), m.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

} // namespace cdrift::test
