#include "cdrift/source/tar_reader.hpp"

#include "cdrift/util/escape.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>

namespace cdrift {

namespace {
// Large enough that libarchive hands out whole file bodies in few blocks, small
// enough to stay in cache and be reused for the whole stream.
constexpr std::size_t tar_buffer_size = 1024 * 1024;
} // namespace

TarReader::TarReader(ByteSource& src, std::string name, StreamDigest digest)
    : m_src(src), m_name(std::move(name)), m_archive(archive_read_new(), archive_read_free) {
  if (digest == StreamDigest::sha256) m_stream_hash.emplace(Sha256Engine::paired);
}

TarReader::~TarReader() = default;

Result<std::size_t> TarReader::next_source_block(const std::uint8_t*& data) {
  // Sources that own their buffers lend them: no copy between decompressor and parser.
  if (auto n = m_src.read_view(data)) return std::move(*n);
  if (m_buffer.empty()) m_buffer.resize(tar_buffer_size);
  data = m_buffer.data();
  return m_src.read(m_buffer.data(), m_buffer.size());
}

la_ssize_t TarReader::read_callback(archive*, void* self_ptr, const void** buffer) {
  auto* self = static_cast<TarReader*>(self_ptr);
  // libarchive is done with the previous block once it asks for the next one.
  self->finish_block();
  const std::uint8_t* view = nullptr;
  auto size = self->next_source_block(view);
  if (!size) {
    self->m_source_error = std::move(size).error();
    return -1;
  }
  self->m_block = view;
  self->m_block_size = *size;
  self->m_block_hashed = 0;
  *buffer = view;
  return static_cast<la_ssize_t>(*size);
}

la_int64_t TarReader::skip_callback(archive*, void* self_ptr, la_int64_t request) {
  auto* self = static_cast<TarReader*>(self_ptr);
  // A digested stream has to see every byte, so it is read, never seeked over.
  if (request <= 0 || self->m_stream_hash) return 0;
  std::uint64_t skipped = self->m_src.skip(static_cast<std::uint64_t>(request));
  self->m_stream_bytes += skipped;
  return static_cast<la_int64_t>(skipped);
}

void TarReader::finish_block() {
  if (m_stream_hash && m_block_hashed < m_block_size)
    m_stream_hash->update(m_block + m_block_hashed, m_block_size - m_block_hashed);
  m_stream_bytes += m_block_size;
  m_block = nullptr;
  m_block_size = m_block_hashed = 0;
}

Sha256Engine TarReader::file_hash_engine() const {
  return m_stream_hash ? m_stream_hash->engine() : Sha256Engine::openssl;
}

void TarReader::hash_block(const std::uint8_t* data, std::size_t size, Sha256& file) {
  // File data normally lies in the block libarchive holds, past what the stream
  // digest has seen; anything else (data libarchive copied to join two blocks)
  // goes to the file alone and reaches the stream digest with its block.
  auto at = reinterpret_cast<std::uintptr_t>(data);
  auto block = reinterpret_cast<std::uintptr_t>(m_block);
  if (!m_stream_hash || !m_block || at < block + m_block_hashed || at > block + m_block_size ||
      size > block + m_block_size - at) {
    file.update(data, size);
    return;
  }
  const std::uint8_t* hashed_to = m_block + m_block_hashed;
  m_stream_hash->update(hashed_to, static_cast<std::size_t>(data - hashed_to));
  Sha256::update_both(*m_stream_hash, file, data, size);
  m_block_hashed = static_cast<std::size_t>(data + size - m_block);
}

Status TarReader::finish_stream() {
  finish_block();
  for (;;) {
    const std::uint8_t* view = nullptr;
    auto size = next_source_block(view);
    if (!size) return fail(std::move(size).error());
    if (*size == 0) return {};
    if (m_stream_hash) m_stream_hash->update(view, *size);
    m_stream_bytes += *size;
  }
}

Error TarReader::archive_error(const std::string& what) {
  if (m_source_error) return *m_source_error;
  const char* msg = archive_error_string(m_archive.get());
  std::string text = msg ? msg : "unknown libarchive error";
  // libarchive says "Truncated tar archive" / "Damaged tar archive"; keep it, add where.
  return Error{ErrorKind::input, m_name + ": " + what + ": " + escape_for_terminal(text)};
}

Status TarReader::open() {
  if (!m_archive) return fail(ErrorKind::io, m_name + ": cannot allocate a tar reader");
  archive* a = m_archive.get();
  archive_read_support_format_tar(a);
  archive_read_set_callback_data(a, this);
  archive_read_set_read_callback(a, &TarReader::read_callback);
  archive_read_set_skip_callback(a, &TarReader::skip_callback);
  if (archive_read_open1(a) != ARCHIVE_OK) return fail(archive_error("not a readable tar archive"));
  return {};
}

static FileType file_type_of(mode_t type) {
  switch (type) {
  case AE_IFDIR:
    return FileType::dir;
  case AE_IFLNK:
    return FileType::symlink;
  case AE_IFCHR:
    return FileType::chardev;
  case AE_IFBLK:
    return FileType::blockdev;
  case AE_IFIFO:
    return FileType::fifo;
  case AE_IFSOCK:
    return FileType::socket;
  default:
    return FileType::file;
  }
}

Result<bool> TarReader::next(Member& out) {
  archive_entry* e = nullptr;
  int r = archive_read_next_header(m_archive.get(), &e);
  if (r == ARCHIVE_EOF) return false;
  if (r == ARCHIVE_FATAL || r == ARCHIVE_RETRY) {
    if (m_members == 0 && !m_source_error) return fail(archive_error("not a tar archive"));
    return fail(archive_error("after " + std::to_string(m_members) + " entries"));
  }
  ++m_members;
  const char* name = archive_entry_pathname(e);
  if (!name) name = archive_entry_pathname_utf8(e);
  if (!name)
    return fail(ErrorKind::input, m_name + ": entry " + std::to_string(m_members) + " has no name");
  out.name = name;
  out.type = file_type_of(archive_entry_filetype(e));
  const char* hl = archive_entry_hardlink(e);
  out.is_hardlink = hl != nullptr;
  out.link_name.clear();
  if (hl) {
    out.link_name = hl;
  } else if (out.type == FileType::symlink) {
    const char* t = archive_entry_symlink(e);
    if (!t) t = archive_entry_symlink_utf8(e);
    out.link_name = t ? t : "";
  }
  out.mode = static_cast<std::uint32_t>(archive_entry_perm(e)) & 07777u;
  la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  if (uid < 0 || gid < 0 || uid > 0xffffffffLL || gid > 0xffffffffLL)
    return fail(ErrorKind::input, m_name + ": entry \"" + escape_for_terminal(out.name) +
                                      "\" has an out-of-range owner");
  out.uid = static_cast<std::uint32_t>(uid);
  out.gid = static_cast<std::uint32_t>(gid);
  la_int64_t size = archive_entry_size(e);
  if (size < 0)
    return fail(ErrorKind::input,
                m_name + ": entry \"" + escape_for_terminal(out.name) + "\" has a negative size");
  out.size = static_cast<std::uint64_t>(size);
  out.mtime = archive_entry_mtime(e);
  out.dev_major = out.dev_minor = 0;
  if (out.type == FileType::chardev || out.type == FileType::blockdev) {
    out.dev_major = static_cast<std::uint32_t>(archive_entry_rdevmajor(e));
    out.dev_minor = static_cast<std::uint32_t>(archive_entry_rdevminor(e));
  }
  out.xattrs.clear();
  if (archive_entry_xattr_reset(e) > 0) {
    const char* xname;
    const void* value;
    size_t len;
    while (archive_entry_xattr_next(e, &xname, &value, &len) == ARCHIVE_OK)
      out.xattrs.push_back(Xattr{xname, std::string(static_cast<const char*>(value), len)});
    std::stable_sort(out.xattrs.begin(), out.xattrs.end(),
                     [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
    // libarchive reports an attribute once per pax record that carries it
    // (LIBARCHIVE.xattr.* and SCHILY.xattr.*): one name, one value.
    out.xattrs.erase(std::unique(out.xattrs.begin(), out.xattrs.end(),
                                 [](const Xattr& a, const Xattr& b) { return a.name == b.name; }),
                     out.xattrs.end());
  }
  return true;
}

Result<bool> TarReader::next_block(const std::uint8_t*& data, std::size_t& size,
                                   std::int64_t& offset) {
  const void* buf = nullptr;
  size_t len = 0;
  la_int64_t off = 0;
  int r = archive_read_data_block(m_archive.get(), &buf, &len, &off);
  if (r == ARCHIVE_EOF) {
    size = 0;
    return false;
  }
  if (r < ARCHIVE_WARN) return fail(archive_error("reading entry " + std::to_string(m_members)));
  data = static_cast<const std::uint8_t*>(buf);
  size = len;
  offset = off;
  return true;
}

} // namespace cdrift
