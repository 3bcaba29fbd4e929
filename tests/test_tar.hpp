// Tars built in memory from tables, with libarchive's write API, so the layer and
// source tests need no committed binaries. Header-only: tests/*_test.cpp include it.
#pragma once

#include "cdrift/manifest/entry.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace cdrift::test {

enum class TarFormat { pax, ustar, gnutar };
enum class Compress { none, gzip, zstd };

// One row of a tar table. Fluent setters keep tables short:
//   tfile("etc/passwd", "root:x:0:0::/root:/bin/sh\n").own(0, 0).perm(0644)
struct TarEntry {
  std::string name;
  FileType type = FileType::file;
  bool is_hardlink = false;
  std::uint32_t mode = 0644;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime = 1700000000;
  std::string content;
  std::string link; // symlink or hardlink target
  std::vector<Xattr> xattrs;
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;

  TarEntry& own(std::uint32_t u, std::uint32_t g) {
    uid = u;
    gid = g;
    return *this;
  }
  TarEntry& perm(std::uint32_t m) {
    mode = m;
    return *this;
  }
  TarEntry& at(std::int64_t t) {
    mtime = t;
    return *this;
  }
  TarEntry& xattr(std::string n, std::string v) {
    xattrs.push_back(Xattr{std::move(n), std::move(v)});
    return *this;
  }
};

inline TarEntry tfile(std::string name, std::string content = {}, std::uint32_t mode = 0644) {
  TarEntry e;
  e.name = std::move(name);
  e.content = std::move(content);
  e.mode = mode;
  return e;
}
inline TarEntry tdir(std::string name, std::uint32_t mode = 0755) {
  TarEntry e;
  e.name = std::move(name);
  e.type = FileType::dir;
  e.mode = mode;
  return e;
}
inline TarEntry tsymlink(std::string name, std::string target) {
  TarEntry e;
  e.name = std::move(name);
  e.type = FileType::symlink;
  e.mode = 0777;
  e.link = std::move(target);
  return e;
}
inline TarEntry thardlink(std::string name, std::string target) {
  TarEntry e;
  e.name = std::move(name);
  e.is_hardlink = true;
  e.link = std::move(target);
  return e;
}
inline TarEntry tdevice(std::string name, FileType type, std::uint32_t major, std::uint32_t minor) {
  TarEntry e;
  e.name = std::move(name);
  e.type = type;
  e.mode = 0600;
  e.dev_major = major;
  e.dev_minor = minor;
  return e;
}
inline TarEntry tfifo(std::string name) {
  TarEntry e;
  e.name = std::move(name);
  e.type = FileType::fifo;
  return e;
}

struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using WriterPtr = std::unique_ptr<archive, ArchiveWriteFree>;
using EntryPtr = std::unique_ptr<archive_entry, ArchiveEntryFree>;

// Test setup failures are bugs in the test, not outcomes: throw so doctest reports them.
inline void check_archive(archive* a, int r, const char* what) {
  if (r < ARCHIVE_WARN) {
    const char* msg = archive_error_string(a);
    throw std::runtime_error(std::string("test tar writer: ") + what + ": " + (msg ? msg : "?"));
  }
}

inline la_ssize_t append_to_string(archive*, void* out, const void* buf, size_t len) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), len);
  return static_cast<la_ssize_t>(len);
}

inline void add_compression(archive* a, Compress c) {
  if (c == Compress::gzip) check_archive(a, archive_write_add_filter_gzip(a), "gzip filter");
  if (c == Compress::zstd) check_archive(a, archive_write_add_filter_zstd(a), "zstd filter");
  // Like bsdtar, gzip(1) and Go's writers: no zero padding after the compressed
  // stream (libarchive pads the last block by default).
  if (c != Compress::none)
    check_archive(a, archive_write_set_bytes_in_last_block(a, 1), "last block");
}

inline mode_t ae_type(const TarEntry& t) {
  if (t.is_hardlink) return AE_IFREG;
  switch (t.type) {
  case FileType::file:
    return AE_IFREG;
  case FileType::dir:
    return AE_IFDIR;
  case FileType::symlink:
    return AE_IFLNK;
  case FileType::chardev:
    return AE_IFCHR;
  case FileType::blockdev:
    return AE_IFBLK;
  case FileType::fifo:
    return AE_IFIFO;
  case FileType::socket:
    return AE_IFSOCK;
  }
  return AE_IFREG;
}

inline void fill_entry(archive_entry* e, const TarEntry& t) {
  archive_entry_set_pathname(e, t.name.c_str());
  archive_entry_set_filetype(e, ae_type(t));
  archive_entry_set_perm(e, t.mode);
  archive_entry_set_uid(e, t.uid);
  archive_entry_set_gid(e, t.gid);
  archive_entry_set_mtime(e, t.mtime, 0);
  if (t.is_hardlink) {
    archive_entry_set_hardlink(e, t.link.c_str());
    archive_entry_set_size(e, 0);
  } else if (t.type == FileType::symlink) {
    archive_entry_set_symlink(e, t.link.c_str());
    archive_entry_set_size(e, 0);
  } else if (t.type == FileType::file) {
    archive_entry_set_size(e, static_cast<la_int64_t>(t.content.size()));
  } else {
    archive_entry_set_size(e, 0);
  }
  if (t.type == FileType::chardev || t.type == FileType::blockdev) {
    archive_entry_set_rdevmajor(e, t.dev_major);
    archive_entry_set_rdevminor(e, t.dev_minor);
  }
  for (const auto& x : t.xattrs)
    archive_entry_xattr_add_entry(e, x.name.c_str(), x.value.data(), x.value.size());
}

// The tar (optionally compressed) holding `entries` in table order.
inline std::string make_tar(const std::vector<TarEntry>& entries, TarFormat format = TarFormat::pax,
                            Compress compress = Compress::none) {
  std::string out;
  WriterPtr a(archive_write_new());
  archive* w = a.get();
  switch (format) {
  case TarFormat::pax:
    check_archive(w, archive_write_set_format_pax_restricted(w), "pax");
    break;
  case TarFormat::ustar:
    check_archive(w, archive_write_set_format_ustar(w), "ustar");
    break;
  case TarFormat::gnutar:
    check_archive(w, archive_write_set_format_gnutar(w), "gnutar");
    break;
  }
  add_compression(w, compress);
  check_archive(w, archive_write_open(w, &out, nullptr, append_to_string, nullptr), "open");
  for (const auto& t : entries) {
    EntryPtr e(archive_entry_new());
    fill_entry(e.get(), t);
    check_archive(w, archive_write_header(w, e.get()), ("header " + t.name).c_str());
    if (!t.is_hardlink && t.type == FileType::file && !t.content.empty()) {
      la_ssize_t n = archive_write_data(w, t.content.data(), t.content.size());
      if (n != static_cast<la_ssize_t>(t.content.size())) check_archive(w, ARCHIVE_FATAL, "data");
    }
  }
  check_archive(w, archive_write_close(w), "close");
  return out;
}

// `data` as one gzip member or one zstd frame (libarchive's raw format).
inline std::string compress_bytes(const std::string& data, Compress compress) {
  if (compress == Compress::none) return data;
  std::string out;
  WriterPtr a(archive_write_new());
  archive* w = a.get();
  check_archive(w, archive_write_set_format_raw(w), "raw");
  add_compression(w, compress);
  check_archive(w, archive_write_open(w, &out, nullptr, append_to_string, nullptr), "open");
  EntryPtr e(archive_entry_new());
  archive_entry_set_pathname(e.get(), "data");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  check_archive(w, archive_write_header(w, e.get()), "raw header");
  if (!data.empty()) archive_write_data(w, data.data(), data.size());
  check_archive(w, archive_write_close(w), "close");
  return out;
}

// The header blocks (pax extended header + ustar header) of a member claiming
// `size` bytes, without the data: a test can stream the body lazily.
inline std::string tar_header_only(const std::string& name, std::uint64_t size) {
  std::string out;
  bool capturing = true;
  struct Sink {
    std::string* out;
    bool* capturing;
  } sink{&out, &capturing};
  auto cb = [](archive*, void* p, const void* buf, size_t len) -> la_ssize_t {
    auto* s = static_cast<Sink*>(p);
    if (!*s->capturing) return -1; // refuse the padding libarchive would write on close
    s->out->append(static_cast<const char*>(buf), len);
    return static_cast<la_ssize_t>(len);
  };
  WriterPtr a(archive_write_new());
  archive* w = a.get();
  check_archive(w, archive_write_set_format_pax_restricted(w), "pax");
  check_archive(w, archive_write_set_bytes_per_block(w, 0), "unblocked");
  check_archive(w, archive_write_open(w, &sink, nullptr, cb, nullptr), "open");
  EntryPtr e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_mtime(e.get(), 1700000000, 0);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
  check_archive(w, archive_write_header(w, e.get()), "header");
  capturing = false;
  return out;
}

inline std::string sha256_hex(std::string_view data) {
  return to_hex(sha256_of(data));
}

// A temporary directory removed (recursively) at scope exit.
class TempDir {
public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cdrift-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    m_path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return m_path; }
  std::string operator/(std::string_view rel) const { return m_path + "/" + std::string(rel); }

private:
  std::string m_path;
};

// Raw tar pieces for members libarchive will not write (hostile sizes, sparse
// maps): a 512-byte ustar header with a valid checksum.
inline std::string ustar_header(const std::string& name, std::uint64_t size, char type = '0') {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  auto octal = [&](std::size_t at, std::size_t width, std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llo", static_cast<int>(width - 1),
                  static_cast<unsigned long long>(v));
    h.replace(at, width - 1, buf);
  };
  octal(100, 8, 0644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 1700000000);
  h[156] = type;
  h.replace(257, 8,
            std::string("ustar\0"
                        "00",
                        8));
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h)
    sum += c;
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  h.replace(148, 6, chk);
  h[154] = '\0';
  h[155] = ' ';
  return h;
}

inline std::string padded(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

// A pax extended header ('x') with the given "key=value" records.
inline std::string pax_header(const std::vector<std::string>& records) {
  std::string body;
  for (const auto& r : records) {
    std::string rec = " " + r + "\n";
    std::size_t len = rec.size();
    while (std::to_string(len).size() + rec.size() != len)
      len = std::to_string(len).size() + rec.size();
    body += std::to_string(len) + rec;
  }
  return ustar_header("././@PaxHeader", body.size(), 'x') + padded(body);
}

} // namespace cdrift::test
