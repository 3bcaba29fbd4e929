// Reports and caches are written to a temporary file beside the target and renamed
// over it on commit, so a reader never sees half a file. A SIGINT, SIGTERM or
// SIGHUP while one is open removes the temporary file before the process dies of
// the signal (unless that signal was ignored or handled when the file was opened).
#pragma once

#include "cdrift/util/error.hpp"
#include "cdrift/util/fd.hpp"

#include <string>
#include <string_view>

namespace cdrift {

class AtomicFile {
public:
  explicit AtomicFile(std::string path);
  ~AtomicFile(); // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  Status open();
  Status write(std::string_view data);
  Status commit();
  const std::string& path() const { return m_path; }

private:
  std::string m_path;
  std::string m_tmp;
  Fd m_fd;
  bool m_committed = false;
  bool m_direct = false; // a device or pipe: written in place, never renamed over
  int m_slot = -1;       // in the table a SIGINT/SIGTERM/SIGHUP handler cleans up
};

// One-shot helper: write `data` to `path` atomically.
Status write_file_atomic(const std::string& path, std::string_view data);
enum class FollowSymlinks { yes, no };
// Reads a small regular file (documents, cache entries) with a size limit. Opened
// non-blocking, so a FIFO or a device in its place is an error, never a hang.
Result<std::string> read_small_file(const std::string& path, std::size_t limit,
                                    FollowSymlinks follow = FollowSymlinks::yes);

} // namespace cdrift
