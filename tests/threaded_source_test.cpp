#include "cdrift/source/threaded_source.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <string>

using namespace cdrift;

namespace {

// Hands out its data in small pieces, then optionally fails: the producer thread
// must assemble chunks and deliver everything before the error.
class Trickle : public ByteSource {
public:
  Trickle(std::string data, bool fail_at_end) : m_data(std::move(data)), m_fail(fail_at_end) {}
  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override {
    if (m_pos == m_data.size()) {
      if (m_fail) return fail(ErrorKind::input, "trickle: truncated gzip stream");
      return std::size_t{0};
    }
    std::size_t n = std::min({cap, std::size_t{7}, m_data.size() - m_pos});
    std::copy_n(m_data.data() + m_pos, n, buf);
    m_pos += n;
    return n;
  }
  const std::string& name() const override { return m_name; }

private:
  std::string m_data;
  bool m_fail;
  std::size_t m_pos = 0;
  std::string m_name = "trickle";
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>(i * 131 + i / 7);
  return s;
}

} // namespace

TEST_CASE("ThreadedSource delivers the inner stream unchanged, through views and reads") {
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{4096}, std::size_t{100000}}) {
    CAPTURE(size);
    std::string data = pattern(size);
    SUBCASE("read_view") {
      ThreadedSource src(std::make_unique<Trickle>(data, false), 1000, 3);
      std::string got;
      const std::uint8_t* view = nullptr;
      for (;;) {
        auto n = src.read_view(view);
        REQUIRE(n.has_value());
        REQUIRE(*n);
        if (**n == 0) break;
        got.append(reinterpret_cast<const char*>(view), **n);
      }
      CHECK(got == data);
    }
    SUBCASE("read into small buffers") {
      ThreadedSource src(std::make_unique<Trickle>(data, false), 1000, 2);
      std::string got;
      std::uint8_t buf[333];
      for (;;) {
        auto n = src.read(buf, sizeof buf);
        REQUIRE(n);
        if (*n == 0) break;
        got.append(reinterpret_cast<const char*>(buf), *n);
      }
      CHECK(got == data);
    }
  }
}

TEST_CASE("ThreadedSource reports the inner error after the data before it") {
  std::string data = pattern(5000);
  ThreadedSource src(std::make_unique<Trickle>(data, true), 1024, 3);
  DigestSource digest(
      std::make_unique<ThreadedSource>(std::make_unique<Trickle>(data, true), 1024, 3));
  std::string got;
  std::uint8_t buf[4096];
  for (;;) {
    auto n = src.read(buf, sizeof buf);
    if (!n) {
      CHECK(n.error().message.find("truncated") != std::string::npos);
      break;
    }
    REQUIRE(*n != 0); // the stream must not look complete
    got.append(reinterpret_cast<const char*>(buf), *n);
  }
  CHECK(got == data);
  auto drained = digest.drain();
  CHECK_FALSE(drained);
  CHECK(digest.bytes() == data.size());
}

TEST_CASE("ThreadedSource can be destroyed before its stream ends") {
  // The producer blocks on a full ring; the destructor must wake and join it.
  ThreadedSource src(std::make_unique<Trickle>(pattern(1u << 20), false), 4096, 2);
  const std::uint8_t* view = nullptr;
  auto n = src.read_view(view);
  REQUIRE(n.has_value());
  CHECK(**n == 4096);
}
