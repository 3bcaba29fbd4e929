// Streaming SHA-256. OpenSSL EVP by default (it uses SHA-NI where the CPU has it).
//
// A layer's diff_id covers the whole tar stream and each file's digest covers a
// slice of that same stream, so a layer's content bytes are hashed twice. Hashing
// them twice one after the other leaves the SHA unit waiting on its own latency;
// two states fed the same blocks in lockstep run about 1.6x as fast as two passes
// on these CPUs (bench/sha_pair.cpp). OpenSSL has no API for that, hence the "paired"
// engine: our own SHA-NI compression, used only where update_both() can pair two
// hashers, checked against OpenSSL by the tests and the fuzz harnesses.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace cdrift {

using Sha256Digest = std::array<std::uint8_t, 32>;

enum class Sha256Engine {
  openssl,
  // SHA-NI compression that update_both() can interleave; falls back to OpenSSL
  // where the CPU lacks the SHA extensions.
  paired,
};

class Sha256 {
public:
  explicit Sha256(Sha256Engine engine = Sha256Engine::openssl);
  // A moved-from hasher is a fresh one of the same engine.
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;

  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Finishes and resets the hasher for reuse.
  Sha256Digest finish();
  // The engine actually in use (paired degrades to openssl without SHA-NI).
  Sha256Engine engine() const { return m_engine; }

  // Feeds the same bytes to both hashers, in one interleaved pass when both use
  // the paired engine and sit at the same offset within a block.
  static void update_both(Sha256& a, Sha256& b, const void* data, std::size_t size);
  // Whether this CPU runs the paired engine (x86-64 with the SHA extensions).
  static bool paired_available();

private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  // Native state, used when m_ctx is null.
  struct Native {
    std::array<std::uint32_t, 8> h{};
    std::array<std::uint8_t, 64> block{};
    std::size_t buffered = 0;
    std::uint64_t length = 0;
    void reset();
    void update(const std::uint8_t* data, std::size_t size);
    Sha256Digest finish();
  };
  evp_md_ctx_st* context();
  Sha256Engine m_engine;
  std::unique_ptr<evp_md_ctx_st, Free> m_ctx; // openssl engine, made on first use after a move
  Native m_native;
};

Sha256Digest sha256_of(std::string_view data);
std::string to_hex(const std::uint8_t* data, std::size_t size);
inline std::string to_hex(const Sha256Digest& d) {
  return to_hex(d.data(), d.size());
}
// Parses 64 lowercase or uppercase hex digits.
bool parse_sha256_hex(std::string_view hex, Sha256Digest& out);

namespace detail {
// SHA-256 compression of `blocks` 64-byte blocks into one state, or into two
// states from the same data in lockstep. Only on CPUs where paired_available().
void sha256_compress(std::uint32_t* state, const std::uint8_t* data, std::size_t blocks);
void sha256_compress_pair(std::uint32_t* a, std::uint32_t* b, const std::uint8_t* data,
                          std::size_t blocks);
bool sha256_native_supported();
} // namespace detail

} // namespace cdrift
