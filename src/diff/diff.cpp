#include "cdrift/diff/diff.hpp"

#include "cdrift/util/path.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace cdrift {

namespace {

std::uint8_t special_bits(const Entry& e) {
  std::uint8_t bits = 0;
  if (e.mode & mode_setuid) bits |= bit_setuid;
  if (e.mode & mode_setgid) bits |= bit_setgid;
  if (e.mode & mode_sticky) bits |= bit_sticky;
  if ((e.mode & mode_other_write) && e.type != FileType::symlink) bits |= bit_world_writable;
  if ((e.mode & 0111) && e.type == FileType::file) bits |= bit_executable;
  return bits;
}

} // namespace

std::uint8_t mode_bits_added(const Entry* before, const Entry& after) {
  std::uint8_t had = before ? special_bits(*before) : 0;
  std::uint8_t has = special_bits(after);
  // A file that was not a regular file before gains executability, too.
  if (before && before->type != FileType::file) had &= static_cast<std::uint8_t>(~bit_executable);
  return static_cast<std::uint8_t>(has & ~had);
}

std::vector<Field> changed_fields(const Entry& a, const Entry& b) {
  std::vector<Field> f;
  if (a.type != b.type) {
    f.push_back(Field::type);
  } else {
    if (a.type == FileType::file) {
      if (a.sha256 != b.sha256) f.push_back(Field::content);
      if (a.size != b.size) f.push_back(Field::size);
    }
  }
  if ((a.mode & 07777) != (b.mode & 07777) && a.type != FileType::symlink &&
      b.type != FileType::symlink)
    f.push_back(Field::mode);
  if (a.uid != b.uid) f.push_back(Field::uid);
  if (a.gid != b.gid) f.push_back(Field::gid);
  if (a.type == b.type && a.type == FileType::symlink && a.target != b.target)
    f.push_back(Field::target);
  if (a.xattrs != b.xattrs) f.push_back(Field::xattrs);
  if (a.type == b.type && (a.type == FileType::chardev || a.type == FileType::blockdev) &&
      (a.dev_major != b.dev_major || a.dev_minor != b.dev_minor))
    f.push_back(Field::device);
  return f;
}

DiffResult diff_manifests(const Manifest& before, const Manifest& after) {
  DiffResult out;
  std::vector<Change> deleted;
  const auto& A = before.entries;
  const auto& B = after.entries;
  std::size_t i = 0, j = 0;
  while (i < A.size() || j < B.size()) {
    if (j == B.size() || (i < A.size() && A[i].path < B[j].path)) {
      Change c;
      c.path = A[i].path;
      c.kind = ChangeKind::deleted;
      c.before = A[i];
      deleted.push_back(std::move(c));
      ++i;
    } else if (i == A.size() || B[j].path < A[i].path) {
      Change c;
      c.path = B[j].path;
      c.kind = ChangeKind::added;
      c.after = B[j];
      c.mode_added = mode_bits_added(nullptr, B[j]);
      out.changes.push_back(std::move(c));
      ++j;
    } else {
      auto fields = changed_fields(A[i], B[j]);
      if (!fields.empty() || A[i].mtime != B[j].mtime) {
        Change c;
        c.path = A[i].path;
        c.before = A[i];
        c.after = B[j];
        if (fields.empty()) {
          c.kind = ChangeKind::touched;
          out.touched.push_back(std::move(c));
        } else {
          c.kind = ChangeKind::modified;
          c.fields = std::move(fields);
          c.mode_added = mode_bits_added(&A[i], B[j]);
          out.changes.push_back(std::move(c));
        }
      }
      ++i;
      ++j;
    }
  }
  // Fold each deleted subtree into its top-most deleted directory. Byte order
  // does not keep a subtree contiguous ("/a-b" sorts between "/a" and "/a/x"), but
  // a parent always sorts before its children, so each entry's top is its
  // parent's top, found with one lookup even in absurdly deep trees.
  std::unordered_map<std::string_view, std::size_t> deleted_dirs; // path -> index
  std::vector<std::size_t> top(deleted.size());
  std::vector<bool> folded(deleted.size(), false);
  for (std::size_t k = 0; k < deleted.size(); ++k) {
    top[k] = k;
    auto parent = deleted_dirs.find(parent_path(deleted[k].path));
    if (parent != deleted_dirs.end()) {
      top[k] = top[parent->second];
      folded[k] = true;
      ++deleted[top[k]].subtree_entries;
    }
    if (deleted[k].before->type == FileType::dir) deleted_dirs.emplace(deleted[k].path, k);
  }
  for (std::size_t k = 0; k < deleted.size(); ++k)
    if (!folded[k]) out.changes.push_back(std::move(deleted[k]));
  std::sort(out.changes.begin(), out.changes.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });
  return out;
}

} // namespace cdrift
