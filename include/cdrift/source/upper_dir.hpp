// An overlay filesystem's upper directory: a running container's writable layer
// (docker overlay2, podman overlay) read in place. It holds only what the container
// changed, so reading it costs in proportion to the changes, not to the image.
//
// The directory is attacker-controlled like any export: it is walked as DirReader
// walks a tree (every directory opened relative to its parent with O_NOFOLLOW, no
// symlink ever followed, device nodes never opened, names kept as bytes, the same
// depth bound), and what overlayfs encodes in it comes out of band, never as names:
// a file called ".wh.x" stays a file called ".wh.x".
#pragma once

#include "cdrift/source/member_stream.hpp"
#include "cdrift/util/fd.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cdrift {

// Which xattr namespace the overlay mount keeps its own attributes in. Rootful
// mounts use trusted.overlay.* (a container cannot set those through the overlay);
// rootless ones (mount option userxattr) use user.overlay.*. In the other namespace
// the same names are the file's own attributes and mean nothing to overlayfs: a
// container that sets user.overlay.metacopy on a rootful layer must not make its
// trojan read as the image's content.
enum class OverlayXattrs { trusted, user };

// What overlayfs encodes in an upper-dir entry beyond its plain metadata.
struct OverlayMarks {
  bool whiteout = false; // character device 0/0: the name is deleted from the lower layers
  bool opaque = false;   // directory with <ns>.overlay.opaque=y: lower entries below are hidden
  bool metacopy = false; // regular file copied up for its metadata only: data stays below
  std::optional<std::string> redirect; // <ns>.overlay.redirect: where the lower object is
  std::int64_t ctime = 0;              // seconds, from statx
  std::int64_t btime = 0;              // 0 when the filesystem does not record births
  std::uint64_t dev = 0;               // regular files: several names may share an inode
  std::uint64_t ino = 0;
  std::uint64_t nlink = 1;
};

// A refusal with this text in its message means: the layer uses an overlayfs
// feature this reader does not know, so its view cannot be trusted; read the export.
constexpr std::string_view unknown_overlay_feature = "unknown overlay feature";

class UpperDirReader : public MemberStream {
public:
  explicit UpperDirReader(std::string root, OverlayXattrs xattrs = OverlayXattrs::trusted);
  UpperDirReader(const UpperDirReader&) = delete;
  UpperDirReader& operator=(const UpperDirReader&) = delete;

  Status open();
  // Members are named "/" for the upper root, then "/a", "/a/b", ..., a directory
  // always before what it holds. Overlay xattrs are removed from Member::xattrs
  // and described by marks(); an overlay xattr this reader does not know fails the
  // walk with `unknown_overlay_feature` in the message.
  Result<bool> next(Member& out) override;
  Result<bool> next_block(const std::uint8_t*& data, std::size_t& size,
                          std::int64_t& offset) override;
  const std::string& name() const override { return m_shown; }
  const OverlayMarks& marks() const { return m_marks; }

private:
  struct Level {
    Fd fd;
    std::string path;               // relative to the root, "" for the root
    std::vector<std::string> names; // sorted, consumed from the back
  };
  Status push_dir(Fd fd, std::string path);
  Status read_xattrs(int fd, const std::string& rel, Member& out);

  std::string m_root;
  std::string m_shown; // escaped for messages
  OverlayXattrs m_namespace;
  std::vector<Level> m_stack;
  bool m_root_emitted = false;
  Fd m_file; // the regular file next() stopped at, read by next_block()
  std::uint64_t m_file_offset = 0;
  std::vector<std::uint8_t> m_buffer;
  std::vector<char> m_xattr_names;
  std::vector<char> m_xattr_value;
  OverlayMarks m_marks;
};

} // namespace cdrift
