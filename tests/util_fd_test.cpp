#include "cdrift/util/fd.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

using cdrift::Fd;

namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

} // namespace

TEST_CASE("fd: closes what it owns when it goes") {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(raw >= 0);
  {
    Fd fd(raw);
    CHECK(fd);
    CHECK(fd.get() == raw);
    CHECK(is_open(raw));
  }
  CHECK_FALSE(is_open(raw));
}

TEST_CASE("fd: moves hand ownership over exactly once") {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(raw >= 0);
  Fd a(raw);
  Fd b(std::move(a));
  CHECK_FALSE(a);
  CHECK(b.get() == raw);
  Fd c;
  c = std::move(b);
  CHECK_FALSE(b);
  CHECK(*c == raw);
  CHECK(is_open(raw));
  c = Fd();
  CHECK_FALSE(is_open(raw));
}

TEST_CASE("fd: release gives the descriptor away, reset replaces it") {
  int first = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int second = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(first >= 0);
  REQUIRE(second >= 0);
  Fd fd(first);
  fd.reset(second);
  CHECK_FALSE(is_open(first));
  CHECK(fd.get() == second);
  int mine = fd.release();
  CHECK_FALSE(fd);
  CHECK(is_open(mine));
  ::close(mine);
}

TEST_CASE("fd: close reports the result and leaves it empty") {
  Fd none;
  CHECK(none.close());
  int raw = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  REQUIRE(raw >= 0);
  Fd fd(raw);
  CHECK(fd.close());
  CHECK_FALSE(fd);
  CHECK_FALSE(is_open(raw));
}
