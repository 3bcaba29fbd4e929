#include "cdrift/source/tar_reader.hpp"

#include "cdrift/util/escape.hpp"
#include "source/tar_header.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>

namespace cdrift {

namespace {
// Large enough that libarchive hands out whole file bodies in few blocks, small
// enough to stay in cache and be reused for the whole stream.
constexpr std::size_t tar_buffer_size = 1024 * 1024;
// A header group is at most a few special headers of 1 MiB each (libarchive's limit).
constexpr std::size_t record_limit = 8u << 20;

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}
} // namespace

TarReader::TarReader(ByteSource& src, std::string name, StreamDigest digest, EndMarker end)
    : m_src(src), m_name(std::move(name)), m_archive(archive_read_new(), archive_read_free),
      m_end_policy(end) {
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
  self->m_block_start = self->m_stream_bytes;
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
  // While libarchive reads a header group, keep what it lets go of: the group is
  // read again from these bytes once libarchive has parsed it.
  if (m_recording && m_record_ok && m_block_size > 0) {
    std::uint64_t end = m_block_start + m_block_size;
    if (end > m_record_from) {
      std::uint64_t from = std::max(m_block_start, m_record_from);
      if (from != m_record_from + m_record.size() || m_record.size() + (end - from) > record_limit)
        m_record_ok = false;
      else
        m_record.append(reinterpret_cast<const char*>(m_block) + (from - m_block_start),
                        static_cast<std::size_t>(end - from));
    }
  }
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
  bool warned = false;
  auto after_marker = [&]() -> Status {
    std::string what =
        m_name + ": holds data after the tar end-of-archive marker (a second archive?)";
    if (m_end_policy == EndMarker::exact) return fail(ErrorKind::input, what);
    if (m_end_policy == EndMarker::warn && !warned)
      m_warnings.push_back(what + "; read up to the marker");
    warned = true;
    return {};
  };
  if (m_at_end && m_block) {
    std::string rest;
    if (raw_bytes(m_end_at, m_block_start + m_block_size, rest) && !all_zero(rest))
      CDRIFT_TRY(after_marker());
  }
  finish_block();
  for (;;) {
    const std::uint8_t* view = nullptr;
    auto size = next_source_block(view);
    if (!size) return fail(std::move(size).error());
    if (*size == 0) return {};
    if (m_at_end && !warned &&
        !all_zero(std::string_view(reinterpret_cast<const char*>(view), *size)))
      CDRIFT_TRY(after_marker());
    if (m_stream_hash) m_stream_hash->update(view, *size);
    m_stream_bytes += *size;
  }
}

bool TarReader::raw_bytes(std::uint64_t from, std::uint64_t to, std::string& out) const {
  out.clear();
  if (to < from) return false;
  std::uint64_t pos = from;
  std::uint64_t record_end = m_record_from + m_record.size();
  if (m_record_ok && pos >= m_record_from && pos < record_end) {
    std::uint64_t e = std::min(to, record_end);
    out.append(m_record, static_cast<std::size_t>(pos - m_record_from),
               static_cast<std::size_t>(e - pos));
    pos = e;
  }
  if (pos == to) return true;
  if (!m_block || pos < m_block_start || to > m_block_start + m_block_size) return false;
  out.append(reinterpret_cast<const char*>(m_block) + (pos - m_block_start),
             static_cast<std::size_t>(to - pos));
  return true;
}

Status TarReader::check_end_marker(std::uint64_t group_start, std::uint64_t end) {
  // libarchive ends quietly where the stream ends at a block boundary: a tar cut
  // between two members reads as complete. Every tar writer ends with two zero
  // blocks; without them the archive was cut.
  std::string group;
  bool available = raw_bytes(group_start, end, group);
  if (available && ends_with_marker(group)) return {};
  std::string what = m_name + ": ends without the tar end-of-archive marker after " +
                     std::to_string(m_members) + " entries (truncated?)";
  // Only a clean stop (nothing, or zeros, where the marker belongs) may pass
  // with a warning; a header libarchive skipped to get there is garbage.
  if (m_end_policy != EndMarker::warn || !available || !all_zero(group))
    return fail(ErrorKind::input, what);
  m_warnings.push_back(what);
  return {};
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
  // libarchive reads the first blocks while it opens: the first header group may
  // already lie in blocks it let go of.
  m_recording = true;
  m_record_from = 0;
  int r = archive_read_open1(a);
  m_recording = false;
  if (r != ARCHIVE_OK) return fail(archive_error("not a readable tar archive"));
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
  if (m_at_end) return false;
  archive* a = m_archive.get();
  if (m_in_entry) {
    // Past the previous member's data and padding: the next header group starts here.
    m_in_entry = false;
    if (archive_read_data_skip(a) < ARCHIVE_WARN)
      return fail(archive_error("after " + std::to_string(m_members) + " entries"));
  }
  auto group_start = static_cast<std::uint64_t>(archive_filter_bytes(a, 0));
  // Bytes recorded earlier (while libarchive opened the stream) stay when they
  // run up to the block it holds; otherwise recording starts afresh here.
  if (m_record_ok && group_start >= m_record_from &&
      m_record_from + m_record.size() == m_block_start && group_start <= m_block_start) {
    m_record.erase(0, static_cast<std::size_t>(group_start - m_record_from));
    m_record_from = group_start;
  } else {
    m_record.clear();
    m_record_ok = true;
    m_record_from = group_start;
  }
  m_recording = true;
  archive_entry* e = nullptr;
  int r = archive_read_next_header(a, &e);
  m_recording = false;
  auto data_start = static_cast<std::uint64_t>(archive_filter_bytes(a, 0));
  if (r == ARCHIVE_EOF) {
    if (m_source_error) return fail(*m_source_error);
    CDRIFT_TRY(check_end_marker(group_start, data_start));
    m_at_end = true;
    m_end_at = data_start;
    return false;
  }
  if (r == ARCHIVE_FATAL || r == ARCHIVE_RETRY) {
    if (m_members == 0 && !m_source_error) return fail(archive_error("not a tar archive"));
    return fail(archive_error("after " + std::to_string(m_members) + " entries"));
  }
  m_in_entry = true;
  ++m_members;
  std::string warning;
  if (r == ARCHIVE_WARN) {
    const char* msg = archive_error_string(a);
    warning = msg ? msg : "unknown libarchive warning";
  }
  out.warnings.clear();
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
  out.sparse = archive_entry_sparse_count(e) > 0;
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
  CDRIFT_TRY(read_exactly(group_start, data_start, out, warning));
  return true;
}

Status TarReader::read_exactly(std::uint64_t group_start, std::uint64_t data_start, Member& out,
                               const std::string& warning) {
  auto where = [&] {
    return m_name + ": entry " + std::to_string(m_members) + " (\"" +
           escape_for_terminal(out.name) + "\")";
  };
  std::string& raw = m_raw;
  if (data_start < group_start + 512 || !raw_bytes(group_start, group_start + 512, raw))
    return fail(ErrorKind::input, where() + ": its header could not be read again exactly");
  char first_type = raw[156];
  bool special = first_type == 'x' || first_type == 'X' || first_type == 'g' || first_type == 'L' ||
                 first_type == 'K' || first_type == 'A' || first_type == 'V';
  bool pax_name = false, pax_link = false;
  int pax_headers = 0;
  std::string lenient;
  if (special) {
    if (!raw_bytes(group_start, data_start, raw))
      return fail(ErrorKind::input, where() + ": its header group is too large to read exactly");
    TarHeaderGroup group = parse_header_group(raw);
    if (group.pax && !group.problem.empty())
      return fail(ErrorKind::input, where() + ": " + group.problem);
    // libarchive hands PAX names over normalised to NFC: the bytes decide here.
    auto exact = [&](const std::optional<std::string>& mine, std::string& theirs,
                     const char* what) -> Status {
      if (!mine || *mine == theirs) return {};
      // A malformed record makes libarchive skip the names altogether.
      if (mine->find('\0') != std::string::npos || (is_ascii(*mine) && group.lenient.empty()))
        return fail(ErrorKind::input, where() + ": its PAX " + what + " reads as \"" +
                                          escape_for_terminal(*mine) + "\"; libarchive read \"" +
                                          escape_for_terminal(theirs) + "\"");
      theirs = *mine;
      return {};
    };
    CDRIFT_TRY(exact(group.path, out.name, "path"));
    pax_name = group.path.has_value();
    pax_headers = group.pax_headers;
    lenient = group.lenient;
    if (out.is_hardlink || out.type == FileType::symlink) {
      CDRIFT_TRY(exact(group.linkpath, out.link_name, "linkpath"));
      pax_link = group.linkpath.has_value();
    }
  }
  // libarchive 3.6 takes a GNU header's "realsize" field as the size of any
  // member; it belongs to sparse members only. Other members hold what their
  // size field says.
  if (out.type == FileType::file && !out.sparse && !out.is_hardlink) {
    if (!raw_bytes(data_start - 512, data_start, raw))
      return fail(ErrorKind::input, where() + ": its header could not be read again exactly");
    if (raw.compare(257, 8, std::string_view("ustar  \0", 8)) == 0 && raw[483] != '\0' &&
        raw[156] != 'S') {
      auto size = tar_number(std::string_view(raw).substr(124, 12));
      if (!size) return fail(ErrorKind::input, where() + ": has an unreadable size field");
      out.size = *size;
    }
  }
  if (warning.empty()) return {};
  // A warning about an entry never passes silently: what was still read exactly
  // (a name that is not UTF-8 but was taken as bytes, an owner name cdrift does
  // not use) is carried into the report; anything else is refused.
  bool exact_anyway = (warning.starts_with("Pathname can't be converted") && pax_name) ||
                      // With several PAX headers, libarchive applies the last one's records once
                      // per header and trips over its own edits; every header parsed cleanly above.
                      (warning.find("malformed pax extended attribute") != std::string::npos &&
                       (pax_headers > 1 || !lenient.empty())) ||
                      (warning.starts_with("Linkname can't be converted") && pax_link) ||
                      warning.starts_with("Uname can't be converted") ||
                      warning.starts_with("Gname can't be converted");
  if (!exact_anyway) return fail(ErrorKind::input, where() + ": " + escape_for_terminal(warning));
  out.warnings.push_back(where() + ": " +
                         (lenient.empty() ? escape_for_terminal(warning) + " (read as bytes)"
                                          : escape_for_terminal(lenient)));
  return {};
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
