// A SIGINT, SIGTERM or SIGHUP while a report is being written leaves no temporary
// file beside the target, and the process still dies of the signal.
#include "cdrift/util/atomic_file.hpp"
#include "test_tar.hpp"

#include <csignal>
#include <dirent.h>
#include <doctest/doctest.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace cdrift;
using cdrift::test::TempDir;

namespace {

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string n = e->d_name; n != "." && n != "..") out.push_back(n);
    ::closedir(d);
  }
  return out;
}

// Runs `body` in a child process and returns its wait status.
template <typename F>
int in_child(F body) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

} // namespace

TEST_CASE("atomic file: a signal mid-write removes the temporary file, then kills") {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    CAPTURE(sig);
    TempDir dir;
    const std::string target = dir / "report.json";
    int status = in_child([&] {
      ::signal(sig, SIG_DFL);
      AtomicFile a(target);
      AtomicFile b(dir / "report.sarif"); // two at once, both cleaned
      if (!a.open() || !b.open() || !a.write("{\"partial\":") || !b.write("{")) ::_exit(10);
      ::raise(sig);
      ::_exit(11); // not reached: the handler re-raises with the default action
    });
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == sig);
    CHECK(names_in(dir.path()).empty());
  }
}

TEST_CASE("atomic file: a committed file survives a later signal; others are removed") {
  TempDir dir;
  int status = in_child([&] {
    ::signal(SIGTERM, SIG_DFL);
    if (!write_file_atomic(dir / "done.json", "{}\n")) ::_exit(10);
    AtomicFile pending(dir / "pending.json");
    if (!pending.open()) ::_exit(10);
    ::raise(SIGTERM);
    ::_exit(11);
  });
  CHECK(WIFSIGNALED(status));
  CHECK(names_in(dir.path()) == std::vector<std::string>{"done.json"});
}

TEST_CASE("atomic file: a signal that was ignored stays ignored (nohup)") {
  TempDir dir;
  int status = in_child([&] {
    ::signal(SIGHUP, SIG_IGN);
    AtomicFile a(dir / "report.json");
    if (!a.open() || !a.write("{}\n")) ::_exit(10);
    ::raise(SIGHUP);
    if (!a.commit()) ::_exit(12);
    ::_exit(0);
  });
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"report.json"});
}
