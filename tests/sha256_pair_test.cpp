// The paired SHA-256 engine (our SHA-NI compression) and Sha256::update_both(),
// checked against OpenSSL: known vectors, random splits, every offset combination
// update_both() can meet, reuse after finish() and moves.
#include "cdrift/util/sha256.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <random>
#include <string>
#include <vector>

using namespace cdrift;

namespace {

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string out(n, '\0');
  for (auto& c : out)
    c = static_cast<char>(rng() & 0xff);
  return out;
}

std::string hex(Sha256 h) {
  return to_hex(h.finish());
}

std::string openssl_hex(std::string_view data) {
  Sha256 h(Sha256Engine::openssl);
  h.update(data);
  return to_hex(h.finish());
}

std::string engine_name(Sha256Engine e) {
  return e == Sha256Engine::paired ? "paired" : "openssl";
}

void note_engine() {
  if (!Sha256::paired_available())
    MESSAGE("the paired SHA-256 engine is not available here (no SHA-NI or "
            "CDRIFT_SHA256=openssl): these checks exercise the OpenSSL fallback");
}

struct Vector {
  std::string message;
  const char* digest;
};

std::vector<Vector> nist_vectors() {
  return {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
       "nopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
}

} // namespace

TEST_CASE("sha256 pair: engine() says paired exactly when the CPU runs it") {
  note_engine();
  CHECK(Sha256().engine() == Sha256Engine::openssl);
  CHECK(Sha256(Sha256Engine::openssl).engine() == Sha256Engine::openssl);
  Sha256 paired(Sha256Engine::paired);
  CHECK(engine_name(paired.engine()) ==
        engine_name(Sha256::paired_available() ? Sha256Engine::paired : Sha256Engine::openssl));
  const char* choice = std::getenv("CDRIFT_SHA256");
  if (choice && std::string_view(choice) == "openssl") CHECK_FALSE(Sha256::paired_available());
  if (Sha256::paired_available()) CHECK(detail::sha256_native_supported());
}

TEST_CASE("sha256 pair: NIST vectors on both engines, whole, byte by byte and paired") {
  note_engine();
  for (const auto& v : nist_vectors()) {
    INFO("message of " << v.message.size() << " bytes");
    for (Sha256Engine e : {Sha256Engine::openssl, Sha256Engine::paired}) {
      INFO("engine " << engine_name(e));
      Sha256 whole(e);
      whole.update(v.message);
      CHECK(to_hex(whole.finish()) == v.digest);

      // Small messages byte by byte; the million 'a' in 1000-byte pieces, so the
      // buffered tail and the bulk path both run.
      Sha256 pieces(e);
      std::size_t step = v.message.size() > 1000 ? 1000 : 1;
      for (std::size_t i = 0; i < v.message.size(); i += step)
        pieces.update(std::string_view(v.message).substr(i, step));
      CHECK(to_hex(pieces.finish()) == v.digest);
    }
    Sha256 a(Sha256Engine::paired), b(Sha256Engine::paired);
    Sha256::update_both(a, b, v.message.data(), v.message.size());
    CHECK(to_hex(a.finish()) == v.digest);
    CHECK(to_hex(b.finish()) == v.digest);
  }
  CHECK(to_hex(sha256_of("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("sha256 pair: random messages split at random points agree across engines") {
  note_engine();
  std::mt19937 rng(20240611);
  std::string all = random_bytes(rng, 5200);
  for (std::size_t len = 0; len <= 5200; len += (len < 300 ? 1 : 1 + rng() % 37)) {
    std::string_view msg = std::string_view(all).substr(0, len);
    // Different bytes each time: a prefix of one buffer would share blocks.
    all[rng() % all.size()] ^= static_cast<char>(1 + rng() % 255);
    INFO("length " << len);
    std::string want = to_hex(sha256_of(msg));
    CHECK(openssl_hex(msg) == want);

    Sha256 one_shot(Sha256Engine::paired);
    one_shot.update(msg.data(), msg.size());
    CHECK(to_hex(one_shot.finish()) == want);

    // Random cut points, zero-length pieces included.
    Sha256 split_paired(Sha256Engine::paired), split_openssl(Sha256Engine::openssl);
    std::size_t pos = 0;
    while (pos < len) {
      std::size_t piece = rng() % 5 == 0 ? 0 : rng() % (len - pos + 1);
      if (rng() % 3 == 0) piece = std::min<std::size_t>(len - pos, rng() % 130);
      split_paired.update(msg.data() + pos, piece);
      split_openssl.update(msg.data() + pos, piece);
      pos += piece;
    }
    CHECK(to_hex(split_paired.finish()) == want);
    CHECK(to_hex(split_openssl.finish()) == want);
  }
}

TEST_CASE("sha256 pair: update_both in lockstep and at different block offsets") {
  note_engine();
  std::mt19937 rng(7);
  const std::vector<std::size_t> sizes = {0,   1,   63, 64,  65, 4096 + 7, 2,    127,
                                          128, 129, 0,  191, 64, 1,        4096, 20011};
  // Prefix lengths put a and b at chosen offsets within a block before update_both.
  const std::vector<std::size_t> prefixes = {0, 1, 5, 55, 56, 63, 64, 65, 100, 128, 200};
  for (Sha256Engine ea : {Sha256Engine::paired, Sha256Engine::openssl}) {
    for (Sha256Engine eb : {Sha256Engine::paired, Sha256Engine::openssl}) {
      for (std::size_t pa : prefixes) {
        for (std::size_t pb : prefixes) {
          INFO("engines " << engine_name(ea) << "/" << engine_name(eb) << ", prefixes " << pa << "/"
                          << pb);
          // Different prefix bytes: the two states differ even at the same offset.
          std::string prefix_a = random_bytes(rng, pa);
          std::string prefix_b = random_bytes(rng, pb);
          Sha256 a(ea), b(eb);
          a.update(prefix_a);
          b.update(prefix_b);
          std::string fed;
          // A rotation of the size list so each pairing meets the pieces in another order.
          std::size_t start = rng() % sizes.size();
          for (std::size_t i = 0; i < sizes.size(); ++i) {
            std::string piece = random_bytes(rng, sizes[(start + i) % sizes.size()]);
            Sha256::update_both(a, b, piece.data(), piece.size());
            fed += piece;
          }
          CHECK(hex(std::move(a)) == openssl_hex(prefix_a + fed));
          CHECK(hex(std::move(b)) == openssl_hex(prefix_b + fed));
        }
      }
    }
  }
}

TEST_CASE("sha256 pair: update_both mixed with single updates, random operations") {
  note_engine();
  std::mt19937 rng(99);
  for (int round = 0; round < 300; ++round) {
    Sha256Engine ea = rng() % 4 == 0 ? Sha256Engine::openssl : Sha256Engine::paired;
    Sha256Engine eb = rng() % 4 == 0 ? Sha256Engine::openssl : Sha256Engine::paired;
    Sha256 a(ea), b(eb);
    std::string want_a, want_b;
    int ops = 1 + static_cast<int>(rng() % 12);
    for (int op = 0; op < ops; ++op) {
      std::size_t n;
      switch (rng() % 4) {
      case 0:
        n = rng() % 64;
        break;
      case 1:
        n = 64 * (rng() % 4) + rng() % 3;
        break;
      case 2:
        n = rng() % 700;
        break;
      default:
        n = rng() % 9000;
        break;
      }
      std::string piece = random_bytes(rng, n);
      switch (rng() % 4) {
      case 0:
        a.update(piece);
        want_a += piece;
        break;
      case 1:
        b.update(piece);
        want_b += piece;
        break;
      default:
        Sha256::update_both(a, b, piece.data(), piece.size());
        want_a += piece;
        want_b += piece;
        break;
      }
    }
    INFO("round " << round << ": " << want_a.size() << " and " << want_b.size() << " bytes");
    CHECK(hex(std::move(a)) == openssl_hex(want_a));
    CHECK(hex(std::move(b)) == openssl_hex(want_b));
  }
}

TEST_CASE("sha256 pair: hashers fed in lockstep stay independent afterwards") {
  // Two hashers with identical history in lockstep, then one goes on alone: the
  // lockstep pass must not have tied their states together.
  note_engine();
  std::mt19937 rng(3);
  std::string shared = random_bytes(rng, 64 * 40 + 17);
  std::string tail = random_bytes(rng, 333);
  Sha256 a(Sha256Engine::paired), b(Sha256Engine::paired);
  Sha256::update_both(a, b, shared.data(), shared.size());
  a.update(tail);
  CHECK(hex(std::move(a)) == openssl_hex(shared + tail));
  CHECK(hex(std::move(b)) == openssl_hex(shared));
}

TEST_CASE("sha256 pair: finish() resets the paired engine for reuse") {
  note_engine();
  std::mt19937 rng(11);
  std::string first = random_bytes(rng, 1000);
  std::string second = random_bytes(rng, 77);
  for (Sha256Engine e : {Sha256Engine::paired, Sha256Engine::openssl}) {
    INFO("engine " << engine_name(e));
    Sha256 h(e);
    h.update(first);
    CHECK(to_hex(h.finish()) == openssl_hex(first));
    // Nothing fed since finish(): the empty message.
    CHECK(to_hex(h.finish()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    h.update(second);
    CHECK(to_hex(h.finish()) == openssl_hex(second));
    h.update("abc");
    CHECK(to_hex(h.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
  // Reuse through update_both too: a finished hasher is back at offset 0, so it
  // pairs with a fresh one in lockstep.
  Sha256 a(Sha256Engine::paired), b(Sha256Engine::paired);
  a.update(first.data(), 37);
  CHECK(to_hex(a.finish()) == openssl_hex(std::string_view(first).substr(0, 37)));
  Sha256::update_both(a, b, first.data(), first.size());
  CHECK(to_hex(a.finish()) == openssl_hex(first));
  CHECK(to_hex(b.finish()) == openssl_hex(first));
  Sha256::update_both(a, b, second.data(), second.size());
  CHECK(to_hex(a.finish()) == openssl_hex(second));
  CHECK(to_hex(b.finish()) == openssl_hex(second));
}

TEST_CASE("sha256 pair: moved hashers keep their state and engine") {
  note_engine();
  std::mt19937 rng(5);
  std::string part1 = random_bytes(rng, 100);
  std::string part2 = random_bytes(rng, 5000);
  for (Sha256Engine e : {Sha256Engine::paired, Sha256Engine::openssl}) {
    INFO("engine " << engine_name(e));
    Sha256 original(e);
    Sha256Engine actual = original.engine();
    original.update(part1);
    Sha256 moved(std::move(original));
    CHECK(moved.engine() == actual);
    moved.update(part2);
    // The moved-from hasher is a fresh one of the same engine.
    CHECK(original.engine() == actual);
    original.update("abc");
    CHECK(to_hex(original.finish()) == openssl_hex("abc"));

    Sha256 assigned;
    assigned.update("discarded");
    assigned = std::move(moved);
    CHECK(assigned.engine() == actual);
    Sha256 partner(e);
    partner.update(part1);
    Sha256::update_both(assigned, partner, part2.data(), part2.size());
    CHECK(to_hex(assigned.finish()) == openssl_hex(part1 + part2 + part2));
    CHECK(to_hex(partner.finish()) == openssl_hex(part1 + part2));

    // A moved-from hasher given a new one works like new.
    original = Sha256(e);
    CHECK(original.engine() == actual);
    original.update(part2);
    CHECK(to_hex(original.finish()) == openssl_hex(part2));
  }
  // Hashers kept in a vector survive its reallocation (moves) mid-message.
  std::vector<Sha256> many;
  for (int i = 0; i < 20; ++i) {
    many.emplace_back(i % 2 ? Sha256Engine::paired : Sha256Engine::openssl);
    many.back().update(part1.data(), static_cast<std::size_t>(i));
  }
  for (int i = 0; i < 20; ++i) {
    many[static_cast<std::size_t>(i)].update(part2);
    CHECK(to_hex(many[static_cast<std::size_t>(i)].finish()) ==
          openssl_hex(part1.substr(0, static_cast<std::size_t>(i)) + part2));
  }
}

TEST_CASE("sha256 pair: the paired compression equals two single compressions") {
  note_engine();
  if (!detail::sha256_native_supported()) {
    MESSAGE("no SHA extensions: the native compression functions are not run");
    return;
  }
  std::mt19937 rng(17);
  for (std::size_t blocks = 0; blocks <= 9; ++blocks) {
    INFO(blocks << " blocks");
    std::string data = random_bytes(rng, 64 * blocks);
    const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
    std::uint32_t a[8], b[8], a1[8], b1[8];
    for (int i = 0; i < 8; ++i) {
      a[i] = a1[i] = static_cast<std::uint32_t>(rng());
      b[i] = b1[i] = static_cast<std::uint32_t>(rng());
    }
    detail::sha256_compress_pair(a, b, p, blocks);
    detail::sha256_compress(a1, p, blocks);
    detail::sha256_compress(b1, p, blocks);
    CHECK(std::vector<std::uint32_t>(a, a + 8) == std::vector<std::uint32_t>(a1, a1 + 8));
    CHECK(std::vector<std::uint32_t>(b, b + 8) == std::vector<std::uint32_t>(b1, b1 + 8));
    if (blocks == 0)
      CHECK(std::vector<std::uint32_t>(a, a + 8) != std::vector<std::uint32_t>(b, b + 8));
  }
  // Unaligned input: the loads must not assume alignment.
  std::string buf = random_bytes(rng, 64 * 3 + 1);
  std::string shifted = buf.substr(1);
  std::uint32_t s1[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::uint32_t s2[8];
  std::copy(s1, s1 + 8, s2);
  detail::sha256_compress(s1, reinterpret_cast<const std::uint8_t*>(buf.data()) + 1, 3);
  detail::sha256_compress(s2, reinterpret_cast<const std::uint8_t*>(shifted.data()), 3);
  CHECK(std::vector<std::uint32_t>(s1, s1 + 8) == std::vector<std::uint32_t>(s2, s2 + 8));
}
