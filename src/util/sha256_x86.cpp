// SHA-256 compression with the x86 SHA extensions (FIPS 180-4 section 6.2.2, the
// state kept as ABEF/CDGH register pairs as SHA256RNDS2 wants it). The paired form
// shares the message schedule between two states over the same data, so the two
// dependency chains of SHA256RNDS2 overlap instead of waiting on each other.
#include "cdrift/util/sha256.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <immintrin.h>

#define CDRIFT_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

namespace cdrift::detail {

namespace {

alignas(16) constexpr std::uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

struct State {
  __m128i abef;
  __m128i cdgh;
};

CDRIFT_SHA_TARGET inline State load_state(const std::uint32_t* h) {
  __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));
  __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));
  abcd = _mm_shuffle_epi32(abcd, 0xB1); // CDAB
  efgh = _mm_shuffle_epi32(efgh, 0x1B); // HGFE
  return {_mm_alignr_epi8(abcd, efgh, 8), _mm_blend_epi16(efgh, abcd, 0xF0)};
}

CDRIFT_SHA_TARGET inline void store_state(const State& s, std::uint32_t* h) {
  __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

// Message words W[4i..4i+3] of one block, big-endian loads then the schedule.
CDRIFT_SHA_TARGET inline __m128i schedule(__m128i* w, int i, const std::uint8_t* data) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  if (i < 4) {
    w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * i)),
                            byte_swap);
  } else {
    __m128i t = _mm_sha256msg1_epu32(w[i - 4], w[i - 3]);
    t = _mm_add_epi32(t, _mm_alignr_epi8(w[i - 1], w[i - 2], 4));
    w[i] = _mm_sha256msg2_epu32(t, w[i - 1]);
  }
  return _mm_add_epi32(w[i],
                       _mm_load_si128(reinterpret_cast<const __m128i*>(round_constants + 4 * i)));
}

CDRIFT_SHA_TARGET inline void four_rounds(State& s, __m128i wk) {
  s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);
  s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

} // namespace

CDRIFT_SHA_TARGET void sha256_compress(std::uint32_t* state, const std::uint8_t* data,
                                       std::size_t blocks) {
  State s = load_state(state);
  for (; blocks > 0; --blocks, data += 64) {
    const State saved = s;
    __m128i w[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      four_rounds(s, schedule(w, i, data));
    s.abef = _mm_add_epi32(s.abef, saved.abef);
    s.cdgh = _mm_add_epi32(s.cdgh, saved.cdgh);
  }
  store_state(s, state);
}

CDRIFT_SHA_TARGET void sha256_compress_pair(std::uint32_t* a, std::uint32_t* b,
                                            const std::uint8_t* data, std::size_t blocks) {
  State s = load_state(a);
  State t = load_state(b);
  for (; blocks > 0; --blocks, data += 64) {
    const State saved_s = s;
    const State saved_t = t;
    __m128i w[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      __m128i wk = schedule(w, i, data);
      __m128i wk_high = _mm_shuffle_epi32(wk, 0x0E);
      // Written out rather than two four_rounds() calls so each SHA256RNDS2 of one
      // state sits between two of the other's.
      s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);
      t.cdgh = _mm_sha256rnds2_epu32(t.cdgh, t.abef, wk);
      s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, wk_high);
      t.abef = _mm_sha256rnds2_epu32(t.abef, t.cdgh, wk_high);
    }
    s.abef = _mm_add_epi32(s.abef, saved_s.abef);
    s.cdgh = _mm_add_epi32(s.cdgh, saved_s.cdgh);
    t.abef = _mm_add_epi32(t.abef, saved_t.abef);
    t.cdgh = _mm_add_epi32(t.cdgh, saved_t.cdgh);
  }
  store_state(s, a);
  store_state(t, b);
}

bool sha256_native_supported() {
  static const bool supported = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    bool ssse3 = ecx & (1u << 9), sse41 = ecx & (1u << 19);
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    bool sha = ebx & (1u << 29);
    return ssse3 && sse41 && sha;
  }();
  return supported;
}

} // namespace cdrift::detail

#else

namespace cdrift::detail {
// Other architectures hash with OpenSSL only; these are never reached because
// sha256_native_supported() says no.
void sha256_compress(std::uint32_t*, const std::uint8_t*, std::size_t) {}
void sha256_compress_pair(std::uint32_t*, std::uint32_t*, const std::uint8_t*, std::size_t) {}
bool sha256_native_supported() {
  return false;
}
} // namespace cdrift::detail

#endif
