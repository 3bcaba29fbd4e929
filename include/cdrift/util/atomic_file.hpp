// Reports and caches are written to a temporary file beside the target and renamed
// over it on commit, so a reader never sees half a file.
#pragma once

#include "cdrift/util/error.hpp"

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
  int m_fd = -1;
  bool m_committed = false;
  bool m_direct = false; // a device or pipe: written in place, never renamed over
};

// One-shot helper: write `data` to `path` atomically.
Status write_file_atomic(const std::string& path, std::string_view data);
// Reads a small file (documents, rule packs) with a size limit.
Result<std::string> read_small_file(const std::string& path, std::size_t limit);

} // namespace cdrift
