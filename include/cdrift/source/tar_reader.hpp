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

class TarReader : public MemberStream {
public:
  // Reads the tar from `src` (already decompressed); `src` must outlive the reader.
  TarReader(ByteSource& src, std::string name);
  ~TarReader() override;
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  Status open();
  Result<bool> next(Member& out) override;
  Result<bool> next_block(const std::uint8_t*& data, std::size_t& size,
                          std::int64_t& offset) override;
  const std::string& name() const override { return m_name; }
  std::uint64_t members() const { return m_members; }

private:
  static la_ssize_t read_callback(archive*, void* self, const void** buffer);
  static la_int64_t skip_callback(archive*, void* self, la_int64_t request);
  Error archive_error(const std::string& what);

  ByteSource& m_src;
  std::string m_name;
  std::unique_ptr<archive, int (*)(archive*)> m_archive;
  std::vector<std::uint8_t> m_buffer;
  std::optional<Error> m_source_error;
  std::uint64_t m_members = 0;
};

} // namespace cdrift
