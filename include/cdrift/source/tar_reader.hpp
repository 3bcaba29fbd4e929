// Tar parsing stays with libarchive; bytes reach it through our own ByteSource
// stack (decompression and digests are ours), via libarchive's callback interface.
#pragma once

#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/member_stream.hpp"

#include <archive.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cdrift {

// Whether the reader also digests the whole stream it parses (a layer's diff_id).
enum class StreamDigest { none, sha256 };

class TarReader : public MemberStream {
public:
  // Reads the tar from `src` (already decompressed); `src` must outlive the reader.
  TarReader(ByteSource& src, std::string name, StreamDigest digest = StreamDigest::none);
  ~TarReader() override;
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  Status open();
  Result<bool> next(Member& out) override;
  Result<bool> next_block(const std::uint8_t*& data, std::size_t& size,
                          std::int64_t& offset) override;
  const std::string& name() const override { return m_name; }
  std::uint64_t members() const { return m_members; }

  // With StreamDigest::sha256, file data handed out by next_block() is hashed for
  // the file and for the stream in one interleaved pass (see Sha256::update_both).
  Sha256Engine file_hash_engine() const override;
  void hash_block(const std::uint8_t* data, std::size_t size, Sha256& file) override;
  // Reads the rest of the source (padding after the end marker included) into the
  // stream digest; then stream_digest() and stream_bytes() describe every byte.
  Status finish_stream();
  Sha256Digest stream_digest() { return m_stream_hash->finish(); }
  std::uint64_t stream_bytes() const { return m_stream_bytes; }

private:
  static la_ssize_t read_callback(archive*, void* self, const void** buffer);
  static la_int64_t skip_callback(archive*, void* self, la_int64_t request);
  Error archive_error(const std::string& what);
  // The source's next block, lent or copied into m_buffer; 0 at the end.
  Result<std::size_t> next_source_block(const std::uint8_t*& data);
  // Hashes what is left of the block libarchive holds, before it is replaced.
  void finish_block();

  ByteSource& m_src;
  std::string m_name;
  std::unique_ptr<archive, int (*)(archive*)> m_archive;
  std::vector<std::uint8_t> m_buffer;
  std::optional<Error> m_source_error;
  std::uint64_t m_members = 0;
  std::optional<Sha256> m_stream_hash;
  std::uint64_t m_stream_bytes = 0;
  // The block last handed to libarchive, and how much of it the stream digest has.
  const std::uint8_t* m_block = nullptr;
  std::size_t m_block_size = 0;
  std::size_t m_block_hashed = 0;
};

} // namespace cdrift
