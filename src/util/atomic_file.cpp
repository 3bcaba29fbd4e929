#include "cdrift/util/atomic_file.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace cdrift {

static std::string errno_text() {
  return std::strerror(errno);
}

// Temporary files that are still live, so that SIGINT, SIGTERM or SIGHUP during a
// write leaves nothing beside the target. The handler may run on any thread at
// any moment, so it touches only lock-free atomics and calls only unlink,
// sigaction and raise. A slot is free, being filled, live, or claimed: the
// handler claims a live slot before reading its path, and an owner releases its
// slot only if it is still live, so neither frees a path the other is reading.
namespace {

enum SlotState : int { slot_free, slot_filling, slot_live, slot_claimed };

struct TempSlot {
  std::atomic<int> state{slot_free};
  const char* path = nullptr; // written before `live`, read only after a claim
};

constexpr std::size_t temp_slots = 64;
std::array<TempSlot, temp_slots> g_temps;
constexpr std::array<int, 3> cleanup_signals{SIGINT, SIGTERM, SIGHUP};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void remove_temps_and_reraise(int sig) {
  for (auto& slot : g_temps) {
    int live = slot_live;
    if (slot.state.compare_exchange_strong(live, slot_claimed)) ::unlink(slot.path);
  }
  // Die of the signal, as if we had never caught it: the exit status says so.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);
}

// At every tracked open, not once: whoever set a disposition since (a test's
// child resetting to the default, a caller choosing to ignore) is respected.
void install_cleanup_handlers() {
  for (int sig : cleanup_signals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    // A signal someone chose to ignore (nohup) or to handle stays theirs.
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;
    struct sigaction sa {};
    sa.sa_handler = remove_temps_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (int other : cleanup_signals)
      sigaddset(&sa.sa_mask, other); // one cleanup at a time
    ::sigaction(sig, &sa, nullptr);
  }
}

// -1 when every slot is taken: the file is still written, only not cleaned up
// on a signal.
int track_temp(const char* path) {
  install_cleanup_handlers();
  for (std::size_t i = 0; i < g_temps.size(); ++i) {
    int expected = slot_free;
    if (g_temps[i].state.compare_exchange_strong(expected, slot_filling)) {
      g_temps[i].path = path;
      g_temps[i].state.store(slot_live, std::memory_order_release);
      return static_cast<int>(i);
    }
  }
  return -1;
}

void untrack_temp(int slot) {
  if (slot < 0) return;
  int live = slot_live;
  // A claimed slot belongs to a handler that is ending the process: leave it.
  if (g_temps[static_cast<std::size_t>(slot)].state.compare_exchange_strong(live, slot_filling)) {
    g_temps[static_cast<std::size_t>(slot)].path = nullptr;
    g_temps[static_cast<std::size_t>(slot)].state.store(slot_free, std::memory_order_release);
  }
}

} // namespace

AtomicFile::AtomicFile(std::string path) : m_path(std::move(path)) {}

AtomicFile::~AtomicFile() {
  m_fd.reset();
  if (!m_committed && !m_tmp.empty()) ::unlink(m_tmp.c_str());
  untrack_temp(m_slot);
}

Status AtomicFile::open() {
  // Devices and pipes (/dev/null, /dev/stdout, a FIFO) are written in place:
  // renaming over them would replace the device node with a regular file.
  struct stat st;
  if (::stat(m_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) return fail(ErrorKind::io, m_path + ": is a directory");
    m_fd.reset(::open(m_path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!m_fd) return fail(ErrorKind::io, m_path + ": cannot open: " + errno_text());
    m_direct = true;
    return {};
  }
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp.%08x", static_cast<unsigned>(rd()));
    m_tmp = m_path + suffix;
    // Tracked before it exists: a signal between the two must not leave it.
    m_slot = track_temp(m_tmp.c_str());
    m_fd.reset(::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (m_fd) return {};
    const int err = errno;
    untrack_temp(m_slot);
    m_slot = -1;
    errno = err;
    if (errno != EEXIST) break;
  }
  std::string why = errno_text();
  m_tmp.clear();
  return fail(ErrorKind::io, m_path + ": cannot create: " + why);
}

Status AtomicFile::write(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(m_fd.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::io, m_path + ": write failed: " + errno_text());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Status AtomicFile::commit() {
  if (m_direct) {
    m_committed = true;
    if (!m_fd.close()) return fail(ErrorKind::io, m_path + ": close failed: " + errno_text());
    return {};
  }
  if (::fsync(m_fd.get()) != 0 && errno != EINVAL)
    return fail(ErrorKind::io, m_path + ": fsync failed: " + errno_text());
  if (!m_fd.close()) return fail(ErrorKind::io, m_path + ": close failed: " + errno_text());
  if (::rename(m_tmp.c_str(), m_path.c_str()) != 0)
    return fail(ErrorKind::io, m_path + ": cannot rename into place: " + errno_text());
  m_committed = true;
  // After the rename: a signal before it still removes the temporary file.
  untrack_temp(m_slot);
  m_slot = -1;
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  AtomicFile f(path);
  CDRIFT_TRY(f.open());
  CDRIFT_TRY(f.write(data));
  return f.commit();
}

Result<std::string> read_small_file(const std::string& path, std::size_t limit,
                                    FollowSymlinks follow) {
  // O_NONBLOCK: opening a FIFO for reading blocks until a writer comes, forever.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  if (follow == FollowSymlinks::no) flags |= O_NOFOLLOW;
  Fd fd(::open(path.c_str(), flags));
  if (!fd) return fail(ErrorKind::input, path + ": cannot open: " + errno_text());
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return fail(ErrorKind::input, path + ": not a regular file");
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::input, path + ": read failed: " + errno_text());
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > limit)
      return fail(ErrorKind::input, path + ": larger than the " + std::to_string(limit) +
                                        "-byte limit for this kind of file");
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

} // namespace cdrift
