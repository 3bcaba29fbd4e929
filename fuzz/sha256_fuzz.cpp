// libFuzzer: the paired SHA-256 engine against OpenSSL. The input is cut into
// pieces (sizes taken from its own bytes); one hasher gets a private prefix so the
// two sit at different or equal offsets within a block, then every piece goes
// through update_both(). Both digests must equal OpenSSL's over the same bytes.
#include "cdrift/util/sha256.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace cdrift;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t prefix = data[0] % 130; // 0..129: none, inside, across blocks
  const std::uint8_t stride = data[1];
  data += 2;
  size -= 2;

  Sha256 stream(Sha256Engine::paired), file(Sha256Engine::paired);
  Sha256 stream_ref, file_ref;
  std::size_t used = std::min(prefix, size);
  stream.update(data, used);
  stream_ref.update(data, used);
  for (std::size_t pos = used, piece = 0; pos < size; ++piece) {
    // Piece sizes from 0 to a few blocks, driven by the input.
    std::size_t n = (data[pos] ^ (stride * piece)) % 300;
    n = std::min(n, size - pos);
    Sha256::update_both(stream, file, data + pos, n);
    stream_ref.update(data + pos, n);
    file_ref.update(data + pos, n);
    pos += n == 0 ? 1 : n;
    if (n == 0) { // a zero-size piece, then the byte it pointed at goes in alone
      Sha256::update_both(stream, file, data + pos - 1, 1);
      stream_ref.update(data + pos - 1, 1);
      file_ref.update(data + pos - 1, 1);
    }
  }
  if (stream.finish() != stream_ref.finish() || file.finish() != file_ref.finish()) {
    std::fprintf(stderr, "paired SHA-256 differs from OpenSSL\n");
    std::abort();
  }
  // One-shot, paired engine alone.
  Sha256 one(Sha256Engine::paired);
  one.update(data, size);
  if (one.finish() != sha256_of(std::string_view(reinterpret_cast<const char*>(data), size))) {
    std::fprintf(stderr, "paired SHA-256 one-shot differs from OpenSSL\n");
    std::abort();
  }
  return 0;
}
