// Hashing throughput on this machine: OpenSSL's SHA-256, cdrift's paired engine on
// one stream, and update_both() feeding two digests from the same bytes (what a
// layer's diff_id and its files' digests do). Compute only: a 1 MiB buffer stays in
// cache and is hashed over and over.
//   build/cdrift_sha_bench [MIB]      default 512 MiB per measurement
#include "cdrift/util/sha256.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace cdrift;

namespace {

template <typename Fn>
double seconds(Fn&& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 512;
  std::vector<std::uint8_t> buf(1 << 20);
  for (std::size_t i = 0; i < buf.size(); ++i)
    buf[i] = static_cast<std::uint8_t>(i * 131 + (i >> 9));
  const double bytes = static_cast<double>(mib) * buf.size();

  Sha256Digest sink{};
  auto one = [&](Sha256Engine engine) {
    Sha256 h(engine);
    double s = seconds([&] {
      for (std::size_t i = 0; i < mib; ++i)
        h.update(buf.data(), buf.size());
    });
    sink[0] ^= h.finish()[0];
    return bytes / s / 1e6;
  };
  auto both = [&] {
    Sha256 a(Sha256Engine::paired), b(Sha256Engine::paired);
    double s = seconds([&] {
      for (std::size_t i = 0; i < mib; ++i)
        Sha256::update_both(a, b, buf.data(), buf.size());
    });
    sink[0] ^= a.finish()[0] ^ b.finish()[0];
    return 2 * bytes / s / 1e6;
  };
  double openssl = one(Sha256Engine::openssl);
  double single = one(Sha256Engine::paired);
  double paired = both();
  std::printf("sha256 (MB/s of digested bytes, %zu MiB each):\n", mib);
  std::printf("  openssl EVP, one stream:              %6.0f\n", openssl);
  std::printf("  paired engine, one stream:            %6.0f%s\n", single,
              Sha256::paired_available() ? "" : "  (no SHA extensions: this is OpenSSL)");
  std::printf("  paired engine, two digests in step:   %6.0f   = %.2f x openssl\n", paired,
              paired / openssl);
  volatile std::uint8_t observed = sink[0]; // keeps the digests, hence the work, live
  (void)observed;
  return 0;
}
