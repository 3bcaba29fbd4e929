#include "cdrift/source/process.hpp"

#include "cdrift/util/escape.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace cdrift {

namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  Fd read_end, write_end;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    return true;
  }
};

struct SpawnActions {
  posix_spawn_file_actions_t actions;
  SpawnActions() { posix_spawn_file_actions_init(&actions); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions); }
};

struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { posix_spawnattr_init(&attr); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    return std::string("killed by signal ") +
           (name ? std::string("SIG") + name : std::to_string(WTERMSIG(status)));
  }
  return "status " + std::to_string(status);
}

} // namespace

std::string first_stderr_line(const std::string& stderr_text) {
  std::size_t pos = 0;
  while (pos < stderr_text.size()) {
    std::size_t end = stderr_text.find('\n', pos);
    if (end == std::string::npos) end = stderr_text.size();
    std::string_view line(stderr_text.data() + pos, end - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
      line.remove_prefix(1);
    if (!line.empty()) {
      constexpr std::size_t max_len = 300;
      std::string out = escape_for_terminal(line.substr(0, max_len));
      if (line.size() > max_len) out += "...";
      return out;
    }
    pos = end + 1;
  }
  return {};
}

Result<std::unique_ptr<ProcessSource>> ProcessSource::spawn(const std::vector<std::string>& argv,
                                                            ProcessOptions options) {
  if (argv.empty() || argv[0].empty())
    return fail(ErrorKind::usage, options.description + ": no program to run");
  if (options.description.empty()) options.description = escape_for_terminal(argv[0]);
  Pipe out, err;
  if (!out.open() || !err.open())
    return fail(ErrorKind::io,
                options.description + ": cannot create a pipe: " + std::strerror(errno));

  SpawnActions fa;
  // The pipe ends are close-on-exec; dup2 onto 1 and 2 clears the flag on the
  // copies, so a process spawned concurrently by another thread inherits nothing.
  posix_spawn_file_actions_addopen(&fa.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa.actions, out.write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&fa.actions, err.write_end.get(), 2);

  SpawnAttr sa;
  // Own process group: a timeout kills the CLI and whatever it started. Default
  // signal dispositions (SIGPIPE above all: a reader that stops early must end the
  // writer, not leave it spinning on EPIPE) and an empty mask, whatever ours are.
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2})
    sigaddset(&defaults, sig);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&sa.attr, &defaults);
  posix_spawnattr_setsigmask(&sa.attr, &empty);
  posix_spawnattr_setpgroup(&sa.attr, 0);
  posix_spawnattr_setflags(&sa.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const bool has_slash = argv[0].find('/') != std::string::npos;
  pid_t pid = -1;
  int rc = has_slash ? ::posix_spawn(&pid, args[0], &fa.actions, &sa.attr, args.data(), environ)
                     : ::posix_spawnp(&pid, args[0], &fa.actions, &sa.attr, args.data(), environ);
  if (rc != 0) {
    std::string prog = escape_for_terminal(argv[0]);
    if (!has_slash && rc == ENOENT)
      return fail(ErrorKind::runtime,
                  prog + ": not found in PATH (install it or pass --runtime-path)");
    return fail(ErrorKind::runtime, prog + ": cannot run: " + std::strerror(rc));
  }
  // Only the child writes; our copies would keep the pipes from ever reaching EOF.
  out.write_end.reset();
  err.write_end.reset();
  for (int fd : {out.read_end.get(), err.read_end.get()})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<ProcessSource>(
      new ProcessSource(pid, std::move(out.read_end), std::move(err.read_end), std::move(options)));
}

ProcessSource::ProcessSource(pid_t pid, Fd out, Fd err, ProcessOptions options)
    : m_pid(pid), m_out(std::move(out)), m_err(std::move(err)), m_options(std::move(options)) {
  m_deadline = Clock::now() + std::chrono::seconds(m_options.timeout_seconds);
}

ProcessSource::~ProcessSource() {
  // Closed before the kill, as a reader that stops early would.
  m_out.reset();
  m_err.reset();
  if (!m_reaped) kill_and_reap();
}

void ProcessSource::kill_and_reap() {
  if (m_reaped || m_pid <= 0) return;
  // The child is not reaped yet, so its pid (and group id) cannot have been reused.
  ::kill(-m_pid, SIGKILL);
  ::kill(m_pid, SIGKILL);
  int status = 0;
  while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
  }
  m_reaped = true;
}

Error ProcessSource::failure(const std::string& what) const {
  std::string line = first_stderr_line(m_stderr);
  std::string msg = m_options.description + ": ";
  msg += line.empty() ? what : line + " (" + what + ")";
  return Error{ErrorKind::runtime, std::move(msg)};
}

// Reads what stderr has now, keeping the first stderr_limit bytes; the rest is
// read and dropped so a chatty child never blocks on a full pipe.
static void drain_stderr(Fd& fd, std::string& kept, std::size_t limit) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      std::size_t room = limit > kept.size() ? limit - kept.size() : 0;
      kept.append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) fd.reset();
    return; // EAGAIN: nothing more for now
  }
}

Status ProcessSource::wait_for_output() {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - Clock::now());
    if (left.count() <= 0) {
      kill_and_reap();
      return fail(failure("timed out after " + std::to_string(m_options.timeout_seconds) +
                          " s without output; process killed"));
    }
    pollfd fds[2] = {{m_out.get(), POLLIN, 0}, {m_err.get(), POLLIN, 0}};
    int n = ::poll(fds, m_err ? 2 : 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::io, m_options.description + ": poll failed: " + std::strerror(errno));
    }
    if (m_err && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      drain_stderr(m_err, m_stderr, m_options.stderr_limit);
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) return {};
  }
}

Status ProcessSource::finish() {
  // stdout is at EOF; wait for the exit, still draining stderr (a grandchild may
  // keep stderr open, so its EOF is not awaited).
  int status = 0;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (m_err) drain_stderr(m_err, m_stderr, m_options.stderr_limit);
    pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) break;
    if (r < 0 && errno != EINTR) {
      m_reaped = true; // not ours any more (someone else reaped it)
      return fail(ErrorKind::runtime,
                  m_options.description + ": lost track of the process: " + std::strerror(errno));
    }
    if (Clock::now() >= m_deadline) {
      kill_and_reap();
      return fail(failure("timed out after " + std::to_string(m_options.timeout_seconds) +
                          " s waiting for it to exit; process killed"));
    }
    if (m_err) {
      pollfd p = {m_err.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(pause.count()));
    } else {
      std::this_thread::sleep_for(pause);
    }
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  m_reaped = true;
  if (m_err) drain_stderr(m_err, m_stderr, m_options.stderr_limit);
  m_err.reset();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return fail(failure(describe_status(status)));
}

Result<std::size_t> ProcessSource::read(std::uint8_t* buf, std::size_t cap) {
  if (m_error) return fail(*m_error);
  if (m_done || cap == 0) return std::size_t{0};
  for (;;) {
    ssize_t n = ::read(m_out.get(), buf, cap);
    if (n > 0) {
      // A stall, not the total run time, is what the timeout bounds: a big
      // export may take long but keeps producing bytes.
      m_deadline = Clock::now() + std::chrono::seconds(m_options.timeout_seconds);
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      m_out.reset();
      auto s = finish();
      if (!s) {
        m_error = s.error();
        return fail(s.error());
      }
      m_done = true;
      return std::size_t{0};
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      m_error =
          Error{ErrorKind::io, m_options.description + ": read failed: " + std::strerror(errno)};
      kill_and_reap();
      return fail(*m_error);
    }
    auto s = wait_for_output();
    if (!s) {
      m_error = s.error();
      return fail(s.error());
    }
  }
}

Result<std::string> run_process(const std::vector<std::string>& argv, ProcessOptions options,
                                std::size_t stdout_limit) {
  auto proc = ProcessSource::spawn(argv, std::move(options));
  if (!proc) return fail(std::move(proc).error());
  std::string out;
  std::uint8_t buf[16384];
  for (;;) {
    auto n = (*proc)->read(buf, sizeof buf);
    if (!n) return fail(std::move(n).error());
    if (*n == 0) break;
    if (out.size() + *n > stdout_limit)
      return fail(ErrorKind::runtime, (*proc)->name() + ": output larger than " +
                                          std::to_string(stdout_limit) + " bytes");
    out.append(reinterpret_cast<const char*>(buf), *n);
  }
  return out;
}

} // namespace cdrift
