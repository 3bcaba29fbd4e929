// Layers and exports arrive plain, gzip- or zstd-compressed; media types lie, so
// the magic bytes decide.
#pragma once

#include "cdrift/source/byte_source.hpp"

#include <string_view>

namespace cdrift {

enum class Compression { none, gzip, zstd, unsupported };

Compression detect_compression(std::string_view head);
std::string_view to_string(Compression c);

// Wraps `inner` in the decompressor its first bytes call for (peeking without
// losing them). xz/bzip2 are reported as unsupported input.
Result<std::unique_ptr<ByteSource>> open_decompressed(std::unique_ptr<ByteSource> inner,
                                                      Compression* detected = nullptr);

} // namespace cdrift
