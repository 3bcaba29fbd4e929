// Pull-based byte streams. Image blobs, archive members, decompressors and digest
// checkers are all ByteSources stacked on one another, so every byte is read once.
#pragma once

#include "cdrift/util/error.hpp"
#include "cdrift/util/fd.hpp"
#include "cdrift/util/sha256.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace cdrift {

class ByteSource {
public:
  virtual ~ByteSource() = default;
  // Fills up to `cap` bytes; 0 means end of stream.
  virtual Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) = 0;
  // Names the stream in error messages ("layer 2 blob sha256:ab12...").
  virtual const std::string& name() const = 0;
  // Skips up to `n` bytes without reading them where the stream can seek; returns
  // how many were skipped (0: cannot skip, the caller reads instead).
  virtual std::uint64_t skip(std::uint64_t /*n*/) { return 0; }
  // Zero-copy variant of read() for sources that own their buffers: points `data`
  // at the next bytes (valid until the next call) and returns their count, 0 at
  // the end. Sources that cannot lend buffers say so with std::nullopt.
  virtual std::optional<Result<std::size_t>> read_view(const std::uint8_t*& /*data*/) {
    return std::nullopt;
  }
};

// A file descriptor read sequentially (a pipe, stdin, or a regular file), or a
// window [offset, offset+length) of a regular file read with pread.
class FdSource : public ByteSource {
public:
  // Reads `fd`, which stays the caller's.
  FdSource(int fd, std::string name);
  // Reads `fd` and closes it when done.
  FdSource(Fd fd, std::string name);
  FdSource(int fd, std::uint64_t offset, std::uint64_t length, std::string name);
  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override;
  const std::string& name() const override { return m_name; }
  std::uint64_t skip(std::uint64_t n) override;

private:
  Fd m_owned; // empty when borrowed
  int m_fd;
  bool m_window = false;
  bool m_seekable = false;
  std::uint64_t m_offset = 0;
  std::uint64_t m_size = 0;
  std::uint64_t m_remaining = 0;
  std::string m_name;
};

class MemorySource : public ByteSource {
public:
  MemorySource(std::string data, std::string name);
  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override;
  const std::string& name() const override { return m_name; }

private:
  std::string m_data;
  std::size_t m_pos = 0;
  std::string m_name;
};

// Replays a buffered prefix, then continues with the rest of the inner stream; how
// format detection peeks at a stream that cannot seek.
class PrefixSource : public ByteSource {
public:
  PrefixSource(std::string prefix, std::unique_ptr<ByteSource> rest);
  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override;
  const std::string& name() const override { return m_rest->name(); }

private:
  std::string m_prefix;
  std::size_t m_pos = 0;
  std::unique_ptr<ByteSource> m_rest;
};

// Hashes and counts every byte that passes through.
class DigestSource : public ByteSource {
public:
  explicit DigestSource(std::unique_ptr<ByteSource> inner);
  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override;
  std::optional<Result<std::size_t>> read_view(const std::uint8_t*& data) override;
  const std::string& name() const override { return m_inner->name(); }
  // Reads what is left so the digest covers the whole stream.
  Status drain();
  std::uint64_t bytes() const { return m_bytes; }
  Sha256Digest finish() { return m_hash.finish(); }

private:
  std::unique_ptr<ByteSource> m_inner;
  Sha256 m_hash;
  std::uint64_t m_bytes = 0;
};

// Reads at most `limit` bytes into a string; larger is an input error.
Result<std::string> read_all(ByteSource& src, std::size_t limit);

// Fills `buf` completely unless the stream ends first; returns the byte count.
Result<std::size_t> read_full(ByteSource& src, std::uint8_t* buf, std::size_t cap);

} // namespace cdrift
