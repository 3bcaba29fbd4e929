// Overlay upper dirs built on disk by the tests, as overlayfs writes them: whiteouts
// are character devices 0/0 (mknod, so root only), opaque and redirected
// directories carry trusted.overlay.* attributes. Header-only, for the source and
// layer tests.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace cdrift::test {

inline bool running_as_root() {
  return ::geteuid() == 0;
}

class UpperTree {
public:
  UpperTree() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cdrift-upper-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    m_base = tmpl;
    m_root = m_base + "/upper";
    REQUIRE(::mkdir(m_root.c_str(), 0755) == 0);
  }
  ~UpperTree() {
    std::error_code ec;
    std::filesystem::remove_all(m_base, ec);
  }
  UpperTree(const UpperTree&) = delete;
  UpperTree& operator=(const UpperTree&) = delete;

  const std::string& root() const { return m_root; }
  // A path beside the upper dir, outside it.
  std::string outside(const std::string& name) const { return m_base + "/" + name; }
  std::string at(const std::string& rel) const { return m_root + "/" + rel; }

  UpperTree& dir(const std::string& rel, std::uint32_t mode = 0755, std::int64_t mtime = 1700000000,
                 std::uint32_t uid = 0, std::uint32_t gid = 0) {
    REQUIRE(::mkdir(at(rel).c_str(), 0700) == 0);
    meta(rel, mode, mtime, uid, gid);
    return *this;
  }
  UpperTree& file(const std::string& rel, const std::string& content, std::uint32_t mode = 0644,
                  std::int64_t mtime = 1700000000, std::uint32_t uid = 0, std::uint32_t gid = 0) {
    int fd = ::open(at(rel).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::close(fd);
    meta(rel, mode, mtime, uid, gid);
    return *this;
  }
  UpperTree& whiteout(const std::string& rel) {
    REQUIRE(::mknod(at(rel).c_str(), S_IFCHR | 0000, makedev(0, 0)) == 0);
    return *this;
  }
  // Another name for an existing inode (overlayfs shares one whiteout inode among
  // many names; a copied-up hardlink keeps both names on one inode).
  UpperTree& link(const std::string& existing, const std::string& rel) {
    REQUIRE(::link(at(existing).c_str(), at(rel).c_str()) == 0);
    return *this;
  }
  UpperTree& symlink(const std::string& rel, const std::string& target,
                     std::int64_t mtime = 1700000000) {
    REQUIRE(::symlink(target.c_str(), at(rel).c_str()) == 0);
    m_times.emplace_back(rel, mtime);
    return *this;
  }
  UpperTree& xattr(const std::string& rel, const std::string& name, const std::string& value) {
    REQUIRE(::lsetxattr(at(rel).c_str(), name.c_str(), value.data(), value.size(), 0) == 0);
    return *this;
  }
  UpperTree& opaque(const std::string& rel) { return xattr(rel, "trusted.overlay.opaque", "y"); }

  // Times last, deepest first: creating an entry moves its directory's mtime.
  void finish() {
    for (auto it = m_times.rbegin(); it != m_times.rend(); ++it) {
      struct timespec ts[2];
      ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(it->second);
      ts[0].tv_nsec = ts[1].tv_nsec = 0;
      REQUIRE(::utimensat(AT_FDCWD, at(it->first).c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0);
    }
  }

private:
  void meta(const std::string& rel, std::uint32_t mode, std::int64_t mtime, std::uint32_t uid,
            std::uint32_t gid) {
    REQUIRE(::lchown(at(rel).c_str(), uid, gid) == 0);
    REQUIRE(::chmod(at(rel).c_str(), mode) == 0);
    m_times.emplace_back(rel, mtime);
  }

  std::string m_base;
  std::string m_root;
  std::vector<std::pair<std::string, std::int64_t>> m_times;
};

} // namespace cdrift::test
