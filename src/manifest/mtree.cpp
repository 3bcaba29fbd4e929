#include "cdrift/manifest/mtree.hpp"

#include <cstdio>

namespace cdrift {

std::string mtree_escape(std::string_view path) {
  std::string out;
  out.reserve(path.size() + 2);
  for (unsigned char c : path) {
    if (c <= ' ' || c > '~' || c == '#' || c == '=' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

static std::string_view mtree_type(FileType t) {
  switch (t) {
  case FileType::file:
    return "file";
  case FileType::dir:
    return "dir";
  case FileType::symlink:
    return "link";
  case FileType::chardev:
    return "char";
  case FileType::blockdev:
    return "block";
  case FileType::fifo:
    return "fifo";
  case FileType::socket:
    return "socket";
  }
  return "file";
}

void write_manifest_mtree(const Manifest& m, const std::function<void(std::string_view)>& sink) {
  std::string chunk = "#mtree\n";
  char buf[128];
  for (const auto& e : m.entries) {
    chunk += e.path == "/" ? std::string(".") : "." + mtree_escape(e.path);
    chunk += " type=";
    chunk += mtree_type(e.type);
    std::snprintf(buf, sizeof buf, " mode=%o uid=%u gid=%u", e.mode & 07777u, e.uid, e.gid);
    chunk += buf;
    if (e.type == FileType::file) {
      std::snprintf(buf, sizeof buf, " size=%llu", static_cast<unsigned long long>(e.size));
      chunk += buf;
    }
    if (e.type == FileType::symlink) chunk += " link=" + mtree_escape(e.target);
    if (e.type == FileType::chardev || e.type == FileType::blockdev) {
      std::snprintf(buf, sizeof buf, " device=native,%u,%u", e.dev_major, e.dev_minor);
      chunk += buf;
    }
    if (e.sha256) chunk += " sha256digest=" + to_hex(*e.sha256);
    std::snprintf(buf, sizeof buf, " time=%lld.000000000", static_cast<long long>(e.mtime));
    chunk += buf;
    chunk += '\n';
    if (chunk.size() > (1u << 20)) {
      sink(chunk);
      chunk.clear();
    }
  }
  if (!chunk.empty()) sink(chunk);
}

} // namespace cdrift
