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

// What a stream must hold at its end. Every tar writer ends with two zero
// blocks; a stream cut between two members looks complete to libarchive and
// hides everything after the cut.
enum class EndMarker {
  exact,    // exports: the marker, then zeros only (nothing another reader could unpack)
  required, // image layers: the marker; what follows is covered by the digests
  warn,     // a root filesystem given as the image side: a clean stop is a warning
};

class TarReader : public MemberStream {
public:
  // Reads the tar from `src` (already decompressed); `src` must outlive the reader.
  TarReader(ByteSource& src, std::string name, StreamDigest digest = StreamDigest::none,
            EndMarker end = EndMarker::required);
  ~TarReader() override;
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  Status open();
  Result<bool> next(Member& out) override;
  Result<bool> next_block(const std::uint8_t*& data, std::size_t& size,
                          std::int64_t& offset) override;
  const std::string& name() const override { return m_name; }
  std::uint64_t members() const { return m_members; }
  // Warnings about the stream as a whole (not about one entry).
  const std::vector<std::string>& warnings() const { return m_warnings; }

  // With StreamDigest::sha256, file data handed out by next_block() is hashed for
  // the file and for the stream in one interleaved pass (see Sha256::update_both).
  Sha256Engine file_hash_engine() const override;
  void hash_block(const std::uint8_t* data, std::size_t size, Sha256& file) override;
  // Reads the rest of the source (padding after the end marker included) into the
  // stream digest; then stream_digest() and stream_bytes() describe every byte.
  // What follows the end marker must be zeros (the record padding tar writers
  // add): anything else is a second archive that other readers may unpack. The
  // source is read to its end, so a decompressor checks its trailer (gzip CRC-32
  // and length, complete zstd frames).
  Status finish_stream();
  Sha256Digest stream_digest() { return m_stream_hash->finish(); }
  std::uint64_t stream_bytes() const { return m_stream_bytes; }

private:
  static la_ssize_t read_callback(archive*, void* self, const void** buffer);
  static la_int64_t skip_callback(archive*, void* self, la_int64_t request);
  Error archive_error(const std::string& what);
  // The raw bytes [from, to) of the stream if they are still at hand: in the
  // recorded header group or the block libarchive holds.
  bool raw_bytes(std::uint64_t from, std::uint64_t to, std::string& out) const;
  Status check_end_marker(std::uint64_t group_start, std::uint64_t end);
  // Corrects what libarchive does not read exactly (PAX names, GNU realsize) from
  // the raw header group, and decides what a libarchive warning means.
  Status read_exactly(std::uint64_t group_start, std::uint64_t data_start, Member& out,
                      const std::string& warning);
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
  std::uint64_t m_block_start = 0; // stream offset of m_block
  // The current header group's bytes from blocks libarchive has let go of, from
  // m_record_from on; bounded (libarchive's own limit is 1 MiB per header).
  bool m_recording = false;
  bool m_record_ok = true;
  std::uint64_t m_record_from = 0;
  std::string m_record;
  std::string m_raw; // reused scratch for re-read headers
  EndMarker m_end_policy;
  std::vector<std::string> m_warnings;
  bool m_in_entry = false;
  bool m_at_end = false;      // the end-of-archive marker was read
  std::uint64_t m_end_at = 0; // stream offset just past the marker
};

} // namespace cdrift
