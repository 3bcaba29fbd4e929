// Layers and exports arrive plain, gzip- or zstd-compressed; media types lie, so
// the magic bytes decide.
#pragma once

#include "cdrift/source/byte_source.hpp"

#include <string_view>

namespace cdrift {

enum class Compression { none, gzip, zstd, unsupported };

Compression detect_compression(std::string_view head);
std::string_view to_string(Compression c);

// A stream whose first bytes were peeked to tell its compression; reading it
// replays them.
struct SniffedStream {
  Compression compression = Compression::none;
  std::unique_ptr<ByteSource> stream;
};
Result<SniffedStream> sniff_compression(std::unique_ptr<ByteSource> inner);
// The decompressed view of a stream compressed with `c` (itself for none);
// xz/bzip2 are reported as unsupported input.
Result<std::unique_ptr<ByteSource>> decompressor_for(Compression c,
                                                     std::unique_ptr<ByteSource> stream);

// Wraps `inner` in the decompressor its first bytes call for (peeking without
// losing them). xz/bzip2 are reported as unsupported input.
Result<std::unique_ptr<ByteSource>> open_decompressed(std::unique_ptr<ByteSource> inner,
                                                      Compression* detected = nullptr);

} // namespace cdrift
