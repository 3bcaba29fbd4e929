#include "cdrift/source/blob_store.hpp"

#include "cdrift/source/tar_reader.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/path.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cdrift {

Result<std::string> BlobStore::read_document(const std::string& rel, std::size_t limit) {
  auto src = open(rel);
  if (!src) return fail(std::move(src).error());
  return read_all(**src, limit);
}

Result<std::string> clean_store_name(std::string_view raw, const std::string& store,
                                     const std::string& what) {
  if (raw.empty()) return fail(ErrorKind::input, store + ": " + what + " is empty");
  if (raw.starts_with("/"))
    return fail(ErrorKind::input, store + ": " + what + " \"" + escape_for_terminal(raw) +
                                      "\" is an absolute path, outside the archive");
  auto cleaned = clean_path(raw);
  if (!cleaned)
    return fail(ErrorKind::input, store + ": " + what + " \"" + escape_for_terminal(raw) +
                                      "\" points outside the archive");
  if (*cleaned == "/")
    return fail(ErrorKind::input, store + ": " + what + " names the archive root");
  return cleaned->substr(1);
}

namespace {

class DirStore : public BlobStore {
public:
  DirStore(Fd dirfd, std::string name) : m_dirfd(std::move(dirfd)), m_name(std::move(name)) {}

  bool exists(const std::string& rel) const override {
    struct stat st;
    return ::fstatat(m_dirfd.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  }

  Result<std::unique_ptr<ByteSource>> open(const std::string& rel) override {
    // Every component is opened without following symlinks: a layout is plain
    // files, and a link in it could point anywhere on the host.
    int fd = m_dirfd.get();
    std::size_t pos = 0;
    Fd owned; // the directory `fd` is, below the store's own
    while (true) {
      std::size_t slash = rel.find('/', pos);
      std::string part =
          rel.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
      bool last = slash == std::string::npos;
      int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? 0 : O_DIRECTORY);
      Fd next(::openat(fd, part.c_str(), flags));
      int err = errno;
      owned.reset();
      if (!next) {
        if (err == ENOENT)
          return fail(ErrorKind::input, m_name + ": missing " + escape_for_terminal(rel));
        if (err == ELOOP)
          return fail(ErrorKind::input, m_name + ": " + escape_for_terminal(rel) +
                                            " is a symlink; refusing to follow it");
        return fail(ErrorKind::input, m_name + ": cannot open " + escape_for_terminal(rel) + ": " +
                                          std::strerror(err));
      }
      if (last) {
        struct stat st;
        if (::fstat(next.get(), &st) != 0 || !S_ISREG(st.st_mode))
          return fail(ErrorKind::input,
                      m_name + ": " + escape_for_terminal(rel) + " is not a regular file");
        return std::unique_ptr<ByteSource>(
            std::make_unique<FdSource>(std::move(next), m_name + ": " + rel));
      }
      fd = next.get();
      owned = std::move(next);
      pos = slash + 1;
    }
  }

  const std::string& name() const override { return m_name; }

private:
  Fd m_dirfd;
  std::string m_name;
};

struct MemberInfo {
  FileType type = FileType::file;
  bool is_hardlink = false;
  std::string link; // clean relative target for hardlinks/symlinks
  std::uint64_t size = 0;
};

// Archive members are read by re-scanning the headers to the member (seeking past
// data), then streaming its data blocks: no offsets to trust, nothing copied out.
class TarMemberSource : public ByteSource {
public:
  TarMemberSource(int fd, std::string member, std::string name)
      : m_file(fd, name), m_reader(m_file, name), m_member(std::move(member)),
        m_name(std::move(name)) {}

  Status open() {
    CDRIFT_TRY(m_reader.open());
    Member m;
    for (;;) {
      auto more = m_reader.next(m);
      if (!more) return fail(std::move(more).error());
      if (!*more) return fail(ErrorKind::input, m_name + ": member vanished from the archive");
      auto cleaned = clean_path(m.name);
      if (cleaned && cleaned->substr(1) == m_member && !m.is_hardlink) return {};
    }
  }

  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override {
    std::size_t got = 0;
    while (got < cap) {
      if (m_avail == 0) {
        if (m_done) break;
        std::int64_t offset;
        auto more = m_reader.next_block(m_block, m_avail, offset);
        if (!more) return fail(std::move(more).error());
        if (!*more) {
          m_done = true;
          break;
        }
        if (static_cast<std::uint64_t>(offset) != m_pos)
          return fail(ErrorKind::input,
                      m_name + ": sparse archive members are not supported for image blobs");
      }
      std::size_t n = std::min(cap - got, m_avail);
      std::memcpy(buf + got, m_block, n);
      m_block += n;
      m_avail -= n;
      m_pos += n;
      got += n;
    }
    return got;
  }

  const std::string& name() const override { return m_name; }

private:
  FdSource m_file;
  TarReader m_reader;
  std::string m_member;
  std::string m_name;
  const std::uint8_t* m_block = nullptr;
  std::size_t m_avail = 0;
  std::uint64_t m_pos = 0;
  bool m_done = false;
};

class TarStore : public BlobStore {
public:
  TarStore(Fd fd, std::string name) : m_fd(std::move(fd)), m_name(std::move(name)) {}

  Status index() {
    FdSource file(m_fd.get(), m_name);
    TarReader reader(file, m_name);
    CDRIFT_TRY(reader.open());
    Member m;
    for (;;) {
      auto more = reader.next(m);
      if (!more) return fail(std::move(more).error());
      if (!*more) break;
      auto cleaned = clean_path(m.name);
      if (!cleaned) return fail(with_context(std::move(cleaned).error(), m_name));
      if (*cleaned == "/") continue;
      MemberInfo info;
      info.type = m.type;
      info.is_hardlink = m.is_hardlink;
      info.size = m.size;
      if (m.is_hardlink) {
        auto t = clean_path(m.link_name);
        if (!t) return fail(with_context(std::move(t).error(), m_name));
        info.link = t->substr(1);
      } else if (m.type == FileType::symlink) {
        // Relative to the member's directory, resolved inside the archive only.
        std::string dir(parent_path(*cleaned));
        std::string joined = m.link_name.starts_with("/") ? m.link_name : dir + "/" + m.link_name;
        auto t = clean_path(joined);
        info.link = t ? t->substr(1) : std::string();
      }
      m_members[cleaned->substr(1)] = std::move(info);
    }
    if (lseek(m_fd.get(), 0, SEEK_SET) < 0)
      return fail(ErrorKind::input, m_name + ": cannot seek: " + std::strerror(errno));
    return {};
  }

  bool exists(const std::string& rel) const override { return m_members.count(rel) != 0; }

  Result<std::unique_ptr<ByteSource>> open(const std::string& rel) override {
    std::string current = rel;
    for (int hops = 0; hops < 16; ++hops) {
      auto it = m_members.find(current);
      if (it == m_members.end())
        return fail(ErrorKind::input, m_name + ": missing member " + escape_for_terminal(rel));
      const MemberInfo& info = it->second;
      if (info.is_hardlink || info.type == FileType::symlink) {
        if (info.link.empty())
          return fail(ErrorKind::input, m_name + ": member " + escape_for_terminal(current) +
                                            " links outside the archive");
        current = info.link;
        continue;
      }
      if (info.type != FileType::file)
        return fail(ErrorKind::input,
                    m_name + ": member " + escape_for_terminal(current) + " is not a regular file");
      auto src = std::make_unique<TarMemberSource>(m_fd.get(), current, m_name + ": " + rel);
      CDRIFT_TRY(src->open());
      return std::unique_ptr<ByteSource>(std::move(src));
    }
    return fail(ErrorKind::input,
                m_name + ": member " + escape_for_terminal(rel) + " is part of a link loop");
  }

  const std::string& name() const override { return m_name; }

private:
  Fd m_fd;
  std::string m_name;
  std::map<std::string, MemberInfo> m_members;
};

} // namespace

Result<std::unique_ptr<BlobStore>> open_dir_store(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail(ErrorKind::input, dir + ": cannot open directory: " + std::strerror(errno));
  return std::unique_ptr<BlobStore>(
      std::make_unique<DirStore>(std::move(fd), escape_for_terminal(dir)));
}

Result<std::unique_ptr<BlobStore>> open_tar_store(Fd fd, const std::string& name) {
  auto store = std::make_unique<TarStore>(std::move(fd), name);
  CDRIFT_TRY(store->index());
  return std::unique_ptr<BlobStore>(std::move(store));
}

} // namespace cdrift
