// A root filesystem on the host, walked without following any symlink: every
// directory is opened relative to its parent with O_NOFOLLOW, so a link planted in
// the tree (even swapped in while we walk) can never lead outside it.
#pragma once

#include "cdrift/source/member_stream.hpp"
#include "cdrift/util/fd.hpp"

#include <memory>
#include <string>
#include <vector>

namespace cdrift {

constexpr std::size_t max_dir_depth = 2048;

class DirReader : public MemberStream {
public:
  explicit DirReader(std::string root);
  DirReader(const DirReader&) = delete;
  DirReader& operator=(const DirReader&) = delete;

  Status open();
  Result<bool> next(Member& out) override;
  Result<bool> next_block(const std::uint8_t*& data, std::size_t& size,
                          std::int64_t& offset) override;
  const std::string& name() const override { return m_shown; }

private:
  struct Level {
    Fd fd;
    std::string path;               // relative to the root, "" for the root
    std::vector<std::string> names; // sorted, consumed from the back
  };
  Status push_dir(Fd fd, std::string path);

  std::string m_root;
  std::string m_shown; // escaped for messages
  std::vector<Level> m_stack;
  bool m_root_emitted = false;
  Fd m_file; // the regular file next() stopped at, read by next_block()
  std::uint64_t m_file_offset = 0;
  std::vector<std::uint8_t> m_buffer;
};

} // namespace cdrift
