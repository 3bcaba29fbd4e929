// A child process's stdout as a ByteSource: how runtime CLIs (`docker export`,
// `podman save`) stream straight into the readers. The program is spawned with an
// argv (never a shell) in its own process group; stderr is kept (bounded) for the
// error message; a stall beyond the timeout kills the group; the exit status is
// checked at end of stream; the child is always reaped.
#pragma once

#include "cdrift/source/byte_source.hpp"
#include "cdrift/util/fd.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace cdrift {

struct ProcessOptions {
  // "docker export web": names the command in messages and as the stream's name.
  std::string description;
  // With no output for this long the process group is killed and reading fails.
  int timeout_seconds = 600;
  // How much of stderr is kept for the error message.
  std::size_t stderr_limit = 4096;
};

class ProcessSource : public ByteSource {
public:
  // argv[0] is looked up in PATH unless it contains a slash. A program that does not
  // exist fails here with ErrorKind::runtime ("docker: not found in PATH ...").
  static Result<std::unique_ptr<ProcessSource>> spawn(const std::vector<std::string>& argv,
                                                      ProcessOptions options);
  ~ProcessSource() override; // kills the process group if still running, reaps the child
  ProcessSource(const ProcessSource&) = delete;
  ProcessSource& operator=(const ProcessSource&) = delete;

  // 0 only after the child exited with status 0; a non-zero exit, a signal or a
  // timeout is an ErrorKind::runtime error quoting the first line of its stderr.
  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override;
  const std::string& name() const override { return m_options.description; }

  // Everything kept from stderr so far (at most stderr_limit bytes).
  const std::string& stderr_text() const { return m_stderr; }
  pid_t pid() const { return m_pid; }

private:
  ProcessSource(pid_t pid, Fd out, Fd err, ProcessOptions options);
  Status wait_for_output(); // until stdout is readable or at EOF
  Status finish();          // stderr drained, child reaped, status checked
  void kill_and_reap();
  Error failure(const std::string& what) const;

  pid_t m_pid = -1;
  Fd m_out;
  Fd m_err;
  bool m_reaped = false;
  bool m_done = false;
  std::optional<Error> m_error;
  ProcessOptions m_options;
  std::string m_stderr;
  std::chrono::steady_clock::time_point m_deadline;
};

// Runs a command to completion and returns its stdout (at most `stdout_limit`
// bytes; more is an error): for small answers such as `docker inspect`.
Result<std::string> run_process(const std::vector<std::string>& argv, ProcessOptions options,
                                std::size_t stdout_limit = 16u << 20);

// The first non-empty line of a runtime's stderr, escaped for a terminal and
// shortened; what error messages quote.
std::string first_stderr_line(const std::string& stderr_text);

} // namespace cdrift
