#include "cdrift/source/upper_dir.hpp"

#include "cdrift/source/dir_reader.hpp"
#include "cdrift/util/escape.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace cdrift {

namespace {

// The kernel's own bounds (XATTR_LIST_MAX, XATTR_SIZE_MAX): nothing larger exists.
constexpr std::size_t xattr_list_max = 65536;
constexpr std::size_t xattr_size_max = 65536;

FileType type_of(mode_t mode) {
  if (S_ISDIR(mode)) return FileType::dir;
  if (S_ISLNK(mode)) return FileType::symlink;
  if (S_ISCHR(mode)) return FileType::chardev;
  if (S_ISBLK(mode)) return FileType::blockdev;
  if (S_ISFIFO(mode)) return FileType::fifo;
  if (S_ISSOCK(mode)) return FileType::socket;
  return FileType::file;
}

// Overlay attributes that describe how the layer was made (file handles of the
// lower origin, "this dir holds copied-up entries", the layer's uuid, link counts
// for the inode index, the immutable/append flags overlayfs stores for itself):
// none changes what the merged view shows.
bool bookkeeping_attribute(std::string_view name) {
  static constexpr std::array<std::string_view, 6> names = {"origin", "impure", "uuid",
                                                            "nlink",  "upper",  "protattr"};
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The attributes images carry, as DirReader keeps them; SELinux labels and the
// like are the host's, not the image's.
bool image_attribute(std::string_view name) {
  return name.starts_with("security.capability") || name.starts_with("user.") ||
         name.starts_with("trusted.");
}

int open_noatime(int dir, const char* name, int flags) {
  // Reading must not move the layer's atimes: they are evidence too.
  int fd = ::openat(dir, name, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dir, name, flags);
  return fd;
}

} // namespace

UpperDirReader::UpperDirReader(std::string root, OverlayXattrs xattrs)
    : m_root(std::move(root)), m_shown(escape_for_terminal(m_root)), m_namespace(xattrs) {}

Status UpperDirReader::push_dir(Fd fd, std::string path) {
  if (m_stack.size() >= max_dir_depth) {
    return fail(ErrorKind::input, m_shown + ": directories nested deeper than " +
                                      std::to_string(max_dir_depth) + " levels at " +
                                      escape_for_terminal(path));
  }
  // The listing reads through its own descriptor (closedir closes it); `fd` stays
  // open for the *at() calls on the directory's entries.
  Fd listing(::dup(fd.get()));
  DIR* d = listing ? ::fdopendir(listing.get()) : nullptr;
  if (!d) {
    return fail(ErrorKind::input, m_shown + ": cannot list " +
                                      escape_for_terminal(path.empty() ? "/" : path) + ": " +
                                      std::strerror(errno));
  }
  listing.release(); // now the DIR's
  Level level;
  level.fd = std::move(fd);
  level.path = std::move(path);
  while (dirent* de = ::readdir(d)) {
    std::string n = de->d_name;
    if (n == "." || n == "..") continue;
    level.names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(level.names.rbegin(), level.names.rend());
  m_stack.push_back(std::move(level));
  return {};
}

// Splits the entry's attributes into the file's own and overlayfs's, which become
// marks. Overlay attributes of the file's own (a file whose xattr is literally named
// trusted.overlay.x) are stored escaped, as trusted.overlay.overlay.x.
Status UpperDirReader::read_xattrs(int fd, const std::string& rel, Member& out) {
  const std::string_view ns =
      m_namespace == OverlayXattrs::trusted ? "trusted.overlay." : "user.overlay.";
  m_xattr_names.resize(xattr_list_max);
  m_xattr_value.resize(xattr_size_max);
  ssize_t n = ::flistxattr(fd, m_xattr_names.data(), m_xattr_names.size());
  if (n < 0) {
    if (errno == ENOTSUP) return {};
    return fail(ErrorKind::input, m_shown + ": cannot list the attributes of " +
                                      escape_for_terminal(rel) + ": " + std::strerror(errno));
  }
  for (ssize_t i = 0; i < n;) {
    const std::string stored(m_xattr_names.data() + i);
    i += static_cast<ssize_t>(stored.size()) + 1;
    std::string name = stored;
    bool overlay_own = name.starts_with(ns);
    if (overlay_own && std::string_view(name).substr(ns.size()).starts_with("overlay.")) {
      name.erase(ns.size(), std::string_view("overlay.").size());
      overlay_own = false;
    }
    if (!overlay_own && !image_attribute(name)) continue;
    ssize_t len = ::fgetxattr(fd, stored.c_str(), m_xattr_value.data(), m_xattr_value.size());
    if (len < 0) {
      if (errno == ENODATA) continue; // removed while we read
      return fail(ErrorKind::input, m_shown + ": cannot read attribute " +
                                        escape_for_terminal(name) + " of " +
                                        escape_for_terminal(rel) + ": " + std::strerror(errno));
    }
    std::string value(m_xattr_value.data(), static_cast<std::size_t>(len));
    if (!overlay_own) {
      out.xattrs.push_back(Xattr{std::move(name), std::move(value)});
      continue;
    }
    std::string_view key = std::string_view(name).substr(ns.size());
    auto refuse = [&](std::string_view why) {
      return fail(ErrorKind::input, m_shown + ": " + std::string(unknown_overlay_feature) + ": " +
                                        escape_for_terminal(name) + " on " +
                                        escape_for_terminal(rel) + " (" + std::string(why) + ")");
    };
    if (key == "opaque") {
      // "y" hides the lower directory; "x" (kernel 6.7+) means it may hold
      // xattr whiteouts, which only lower layers may have.
      if (value != "y") return refuse("value \"" + escape_for_terminal(value) + "\"");
      if (out.type == FileType::dir) m_marks.opaque = true;
    } else if (key == "redirect") {
      if (value.empty()) return refuse("empty redirect");
      m_marks.redirect = std::move(value);
    } else if (key == "metacopy") {
      if (out.type == FileType::file) m_marks.metacopy = true;
    } else if (!bookkeeping_attribute(key)) {
      return refuse("not one this reader knows");
    }
  }
  std::sort(out.xattrs.begin(), out.xattrs.end(),
            [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return {};
}

Status UpperDirReader::open() {
  Fd fd(open_noatime(AT_FDCWD, m_root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd)
    return fail(ErrorKind::input,
                m_shown + ": cannot open the upper directory: " + std::strerror(errno));
  m_buffer.resize(1024 * 1024);
  return push_dir(std::move(fd), "");
}

Result<bool> UpperDirReader::next(Member& out) {
  m_file.reset();
  out = Member{};
  m_marks = OverlayMarks{};
  auto fill = [&](const struct statx& stx) {
    out.type = type_of(stx.stx_mode);
    out.mode = stx.stx_mode & 07777;
    out.uid = stx.stx_uid;
    out.gid = stx.stx_gid;
    out.mtime = stx.stx_mtime.tv_sec;
    m_marks.ctime = stx.stx_ctime.tv_sec;
    m_marks.btime = (stx.stx_mask & STATX_BTIME) ? stx.stx_btime.tv_sec : 0;
    m_marks.dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    m_marks.ino = stx.stx_ino;
    m_marks.nlink = stx.stx_nlink;
  };
  constexpr unsigned mask = STATX_BASIC_STATS | STATX_BTIME;
  if (!m_root_emitted) {
    m_root_emitted = true;
    struct statx stx;
    int root = m_stack.front().fd.get();
    if (::statx(root, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, mask, &stx) != 0)
      return fail(ErrorKind::input, m_shown + ": cannot stat: " + std::strerror(errno));
    out.name = "/";
    fill(stx);
    CDRIFT_TRY(read_xattrs(root, "/", out));
    return true;
  }
  while (!m_stack.empty()) {
    Level& top = m_stack.back();
    if (top.names.empty()) {
      m_stack.pop_back();
      continue;
    }
    std::string entry = std::move(top.names.back());
    top.names.pop_back();
    std::string rel = top.path + "/" + entry;
    struct statx stx;
    if (::statx(top.fd.get(), entry.c_str(),
                AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT, mask, &stx) != 0) {
      if (errno == ENOENT) continue; // removed while we walked: the container is running
      return fail(ErrorKind::input, m_shown + ": cannot stat " + escape_for_terminal(rel) + ": " +
                                        std::strerror(errno));
    }
    out.name = rel;
    fill(stx);
    auto changed = [&] {
      return fail(ErrorKind::input,
                  m_shown + ": " + escape_for_terminal(rel) + " changed type while being read");
    };
    if (out.type == FileType::symlink) {
      std::string target(4096, '\0');
      ssize_t n = ::readlinkat(top.fd.get(), entry.c_str(), target.data(), target.size());
      if (n < 0)
        return fail(ErrorKind::input, m_shown + ": cannot read link " + escape_for_terminal(rel) +
                                          ": " + std::strerror(errno));
      target.resize(static_cast<std::size_t>(n));
      out.link_name = std::move(target);
    } else if (out.type == FileType::chardev || out.type == FileType::blockdev) {
      // Never opened: opening a device node can do anything.
      out.dev_major = stx.stx_rdev_major;
      out.dev_minor = stx.stx_rdev_minor;
      // overlayfs's whiteout, whatever its mode and however many names share it.
      m_marks.whiteout = out.type == FileType::chardev && out.dev_major == 0 && out.dev_minor == 0;
    } else if (out.type == FileType::dir) {
      Fd fd(open_noatime(top.fd.get(), entry.c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd)
        return fail(ErrorKind::input, m_shown + ": cannot open " + escape_for_terminal(rel) + ": " +
                                          std::strerror(errno));
      struct stat fst;
      if (::fstat(fd.get(), &fst) != 0 || fst.st_ino != stx.stx_ino) return changed();
      CDRIFT_TRY(read_xattrs(fd.get(), rel, out));
      CDRIFT_TRY(push_dir(std::move(fd), rel)); // `top` is invalid after this
    } else if (out.type == FileType::file) {
      // O_NOFOLLOW|O_NONBLOCK: a file swapped for a link or a FIFO mid-walk fails
      // instead of leading us elsewhere or blocking.
      Fd fd(open_noatime(top.fd.get(), entry.c_str(),
                         O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!fd)
        return fail(ErrorKind::input, m_shown + ": cannot open " + escape_for_terminal(rel) + ": " +
                                          std::strerror(errno));
      struct stat fst;
      if (::fstat(fd.get(), &fst) != 0 || !S_ISREG(fst.st_mode) || fst.st_ino != stx.stx_ino)
        return changed();
      out.size = static_cast<std::uint64_t>(fst.st_size);
      m_file = std::move(fd);
      m_file_offset = 0;
      CDRIFT_TRY(read_xattrs(m_file.get(), rel, out));
      // A metadata-only copy-up holds no data of its own (a sparse file of the
      // right size): its content is the lower file's, so nothing is read here.
      if (m_marks.metacopy) m_file.reset();
    }
    return true;
  }
  return false;
}

Result<bool> UpperDirReader::next_block(const std::uint8_t*& data, std::size_t& size,
                                        std::int64_t& offset) {
  if (!m_file) return false;
  for (;;) {
    ssize_t n = ::read(m_file.get(), m_buffer.data(), m_buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::input, m_shown + ": read failed: " + std::strerror(errno));
    }
    if (n == 0) {
      m_file.reset();
      return false;
    }
    data = m_buffer.data();
    size = static_cast<std::size_t>(n);
    offset = static_cast<std::int64_t>(m_file_offset);
    m_file_offset += size;
    return true;
  }
}

} // namespace cdrift
