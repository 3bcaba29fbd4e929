// A sequence of filesystem entries with their data: a tar stream (layer, export,
// rootfs tar) or a directory walked on the host. The layer applier consumes both.
#pragma once

#include "cdrift/manifest/entry.hpp"
#include "cdrift/util/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cdrift {

struct Member {
  std::string name; // raw, as stored (may be "./x", "/x", "x/")
  FileType type = FileType::file;
  bool is_hardlink = false;
  std::string link_name; // hardlink target (raw) or symlink target
  std::uint32_t mode = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;
  std::vector<Xattr> xattrs;
  // A sparse file's data blocks leave holes (read as zeros up to `size`); any
  // other file's size is what its data holds.
  bool sparse = false;
  // What the reader read leniently but exactly (e.g. a PAX name that is not
  // UTF-8, taken as bytes): carried into the manifest's warnings.
  std::vector<std::string> warnings;
};

// A regular file's content as the hasher saw it: what a layer scan computes ahead
// of time, so layers can be read concurrently and applied in order.
struct DigestedContent {
  std::uint64_t size = 0;
  Sha256Digest sha256{};
  ContentClass content_class = ContentClass::none;
  std::string interpreter;
  std::optional<std::string> captured; // the bytes, when the file is one to capture
};

class MemberStream {
public:
  virtual ~MemberStream() = default;
  // False at the end.
  virtual Result<bool> next(Member& out) = 0;
  // The current member's data block by block; false at its end. `offset` is where
  // the block belongs in the file (sparse members leave gaps, read as zeros).
  virtual Result<bool> next_block(const std::uint8_t*& data, std::size_t& size,
                                  std::int64_t& offset) = 0;
  virtual const std::string& name() const = 0;
  // The current member's content already read and hashed, if this stream did
  // that (a scanned layer); null when next_block() must be used.
  virtual const DigestedContent* digested() const { return nullptr; }
  // How file data from next_block() is hashed: a stream that digests itself too
  // (a layer) feeds both digests in one pass.
  virtual Sha256Engine file_hash_engine() const { return Sha256Engine::openssl; }
  virtual void hash_block(const std::uint8_t* data, std::size_t size, Sha256& file) {
    file.update(data, size);
  }
};

} // namespace cdrift
