// Streaming SHA-256 over OpenSSL EVP (uses SHA-NI where the CPU has it).
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

class Sha256 {
public:
  Sha256();
  Sha256(Sha256&&) noexcept = default;
  Sha256& operator=(Sha256&&) noexcept = default;

  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Finishes and resets the hasher for reuse.
  Sha256Digest finish();

private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> m_ctx;
};

Sha256Digest sha256_of(std::string_view data);
std::string to_hex(const std::uint8_t* data, std::size_t size);
inline std::string to_hex(const Sha256Digest& d) {
  return to_hex(d.data(), d.size());
}
// Parses 64 lowercase or uppercase hex digits.
bool parse_sha256_hex(std::string_view hex, Sha256Digest& out);

} // namespace cdrift
