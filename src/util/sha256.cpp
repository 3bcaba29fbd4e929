#include "cdrift/util/sha256.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <openssl/evp.h>
#include <stdexcept>

namespace cdrift {

void Sha256::Free::operator()(evp_md_ctx_st* ctx) const {
  EVP_MD_CTX_free(ctx);
}

namespace {
constexpr std::array<std::uint32_t, 8> initial_state = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
} // namespace

bool Sha256::paired_available() {
  // CDRIFT_SHA256=openssl turns the paired engine off: the benchmark's baseline,
  // and a way out should a CPU misreport its features.
  static const bool available = [] {
    const char* choice = std::getenv("CDRIFT_SHA256");
    if (choice && std::string_view(choice) == "openssl") return false;
    return detail::sha256_native_supported();
  }();
  return available;
}

Sha256::Sha256(Sha256Engine engine) {
  m_engine = engine == Sha256Engine::paired && paired_available() ? Sha256Engine::paired
                                                                  : Sha256Engine::openssl;
  if (m_engine == Sha256Engine::paired)
    m_native.reset();
  else
    context();
}

Sha256::Sha256(Sha256&& other) noexcept
    : m_engine(other.m_engine), m_ctx(std::move(other.m_ctx)), m_native(other.m_native) {
  other.m_native.reset();
}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    m_engine = other.m_engine;
    m_ctx = std::move(other.m_ctx);
    m_native = other.m_native;
    other.m_native.reset();
  }
  return *this;
}

evp_md_ctx_st* Sha256::context() {
  if (!m_ctx) {
    m_ctx.reset(EVP_MD_CTX_new());
    // Failing to set up a digest context means the process is out of memory or
    // OpenSSL is broken: fatal, not an input problem.
    if (!m_ctx || EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
  }
  return m_ctx.get();
}

void Sha256::Native::reset() {
  h = initial_state;
  buffered = 0;
  length = 0;
}

void Sha256::Native::update(const std::uint8_t* data, std::size_t size) {
  length += size;
  if (buffered > 0) {
    std::size_t take = std::min(size, block.size() - buffered);
    std::memcpy(block.data() + buffered, data, take);
    buffered += take;
    data += take;
    size -= take;
    if (buffered < block.size()) return;
    detail::sha256_compress(h.data(), block.data(), 1);
    buffered = 0;
  }
  if (size >= 64) {
    detail::sha256_compress(h.data(), data, size / 64);
    data += size / 64 * 64;
    size %= 64;
  }
  if (size > 0) std::memcpy(block.data(), data, size);
  buffered = size;
}

Sha256Digest Sha256::Native::finish() {
  // FIPS 180-4 5.1.1: a 1 bit, zeros to 56 mod 64 bytes, the bit length big-endian.
  std::uint64_t bits = length * 8;
  block[buffered++] = 0x80;
  if (buffered > 56) {
    std::memset(block.data() + buffered, 0, block.size() - buffered);
    detail::sha256_compress(h.data(), block.data(), 1);
    buffered = 0;
  }
  std::memset(block.data() + buffered, 0, 56 - buffered);
  for (int i = 0; i < 8; ++i)
    block[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  detail::sha256_compress(h.data(), block.data(), 1);
  Sha256Digest out{};
  for (std::size_t i = 0; i < 8; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      out[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * j));
  reset();
  return out;
}

void Sha256::update(const void* data, std::size_t size) {
  if (size == 0) return;
  if (m_engine == Sha256Engine::openssl)
    EVP_DigestUpdate(context(), data, size);
  else
    m_native.update(static_cast<const std::uint8_t*>(data), size);
}

Sha256Digest Sha256::finish() {
  if (m_engine == Sha256Engine::paired) return m_native.finish();
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(context(), out.data(), &len);
  EVP_DigestInit_ex(context(), EVP_sha256(), nullptr);
  return out;
}

void Sha256::update_both(Sha256& a, Sha256& b, const void* data, std::size_t size) {
  auto* p = static_cast<const std::uint8_t*>(data);
  Native& x = a.m_native;
  Native& y = b.m_native;
  // Lockstep needs both native and at the same place in a block; otherwise (a
  // file starting mid-block of the stream, say) the two pass separately.
  if (a.m_engine != Sha256Engine::paired || b.m_engine != Sha256Engine::paired ||
      x.buffered != y.buffered || size < 64) {
    a.update(p, size);
    b.update(p, size);
    return;
  }
  if (x.buffered > 0) {
    std::size_t take = 64 - x.buffered;
    x.update(p, take);
    y.update(p, take);
    p += take;
    size -= take;
  }
  std::size_t blocks = size / 64;
  detail::sha256_compress_pair(x.h.data(), y.h.data(), p, blocks);
  x.length += blocks * 64;
  y.length += blocks * 64;
  p += blocks * 64;
  size %= 64;
  x.update(p, size);
  y.update(p, size);
}

Sha256Digest sha256_of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_sha256_hex(std::string_view hex, Sha256Digest& out) {
  if (hex.size() != 64) return false;
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

} // namespace cdrift
