// The model: one filesystem entry as the image or the container has it.
#pragma once

#include "cdrift/util/sha256.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdrift {

enum class FileType : std::uint8_t { file, dir, symlink, chardev, blockdev, fifo, socket };

std::string_view to_string(FileType t);
std::optional<FileType> parse_file_type(std::string_view s);

// What a regular file's first bytes say it is; sniffed while it streams through the hasher.
enum class ContentClass : std::uint8_t {
  none, // not a regular file, or not sniffed
  empty,
  elf_executable,
  elf_shared,
  elf_relocatable, // .o files and kernel modules
  script,          // starts with "#!"; the interpreter is recorded
  private_key,     // PEM or OpenSSH private key
  certificate,
  archive, // zip/jar, tar, gzip, zstd, xz, bzip2
  text,
  binary,
};

std::string_view to_string(ContentClass c);
std::optional<ContentClass> parse_content_class(std::string_view s);

struct Xattr {
  std::string name;
  std::string value; // raw bytes
  bool operator==(const Xattr&) const = default;
};

struct Entry {
  std::string path; // clean absolute path, raw bytes (may be invalid UTF-8)
  FileType type = FileType::file;
  std::uint32_t mode = 0; // permission bits including setuid/setgid/sticky (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t size = 0;             // regular files only
  std::optional<Sha256Digest> sha256; // regular files only
  std::string target;                 // symlink target, raw bytes
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;
  std::int64_t mtime = 0;    // seconds since the epoch
  std::vector<Xattr> xattrs; // sorted by name
  int layer = -1;            // index of the image layer that last wrote it; -1 outside images
  ContentClass content_class = ContentClass::none;
  std::string interpreter; // for scripts: the shebang's program
  // Only a live writable layer has these (an export or a layer tar carries neither):
  // seconds since the epoch, 0 = unknown. Evidence for origin weighing, never compared
  // by the diff and not saved in manifests (a cached image never has them).
  std::int64_t ctime = 0; // last status change: chmod, chown, setcap, copy-up
  std::int64_t btime = 0; // birth (statx STATX_BTIME): when this inode was made
};

constexpr std::uint32_t mode_setuid = 04000;
constexpr std::uint32_t mode_setgid = 02000;
constexpr std::uint32_t mode_sticky = 01000;
constexpr std::uint32_t mode_other_write = 0002;

std::string format_mode(std::uint32_t mode); // "0644", "4755"

} // namespace cdrift
