// DirReader (source/dir_reader.cpp): a root filesystem on the host.
#include "cdrift/layer/load.hpp"
#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/source/dir_reader.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "source_helpers.hpp"
#include "test_tar.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <sys/stat.h>
#include <unistd.h>

using namespace cdrift;
using namespace cdrift::test;

// ---- directories on the host ------------------------------------------------

namespace {

void set_mtime(const std::string& path, std::int64_t t) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(t);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0);
}

Result<Manifest> walk(const std::string& root) {
  DirReader reader(root);
  CDRIFT_TRY(reader.open());
  TreeBuilder builder;
  CDRIFT_TRY(builder.apply(reader, -1, Whiteouts::literal));
  return builder.finish(root, SourceKind::directory);
}

} // namespace

TEST_CASE("DirReader gives the same manifest as a tar of the same tree") {
  TempDir outer;
  std::string root = outer / "root";
  REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  write_file(outer / "outside-secret", "host secret");
  std::uint32_t uid = ::getuid(), gid = ::getgid();

  // path, type, mode, content or link target, mtime
  struct Node {
    std::string path;
    FileType type;
    std::uint32_t mode;
    std::string data;
    std::int64_t mtime;
  };
  std::vector<Node> nodes = {
      {"etc", FileType::dir, 0755, "", 1000},
      {"etc/passwd", FileType::file, 0644, "root:x:0:0::/root:/bin/sh\n", 1001},
      {"etc/empty", FileType::file, 0600, "", 1002},
      {"bin", FileType::dir, 0711, "", 1003},
      {"bin/tool", FileType::file, 04755, pattern(70000), 1004},
      {"a", FileType::dir, 0755, "", 1005},
      {"a/b", FileType::dir, 0700, "", 1006},
      {"a/b/c", FileType::dir, 0755, "", 1007},
      {"a/b/c/deep", FileType::file, 0640, "deep", 1008},
      {"link-abs", FileType::symlink, 0777, "/etc/shadow", 1009},
      {"link-out", FileType::symlink, 0777, "../outside-secret", 1010},
      {"link-root", FileType::symlink, 0777, "/", 1011},
      {"a/dirlink", FileType::symlink, 0777, "..", 1012},
      {"fifo", FileType::fifo, 0644, "", 1013},
      {"name with space", FileType::file, 0644, "s", 1014},
      {".wh.literal", FileType::file, 0644, "w", 1015},
  };
  for (const auto& n : nodes) {
    std::string p = root + "/" + n.path;
    switch (n.type) {
    case FileType::dir:
      REQUIRE(::mkdir(p.c_str(), 0700) == 0);
      break;
    case FileType::file:
      write_file(p, n.data);
      break;
    case FileType::symlink:
      REQUIRE(::symlink(n.data.c_str(), p.c_str()) == 0);
      break;
    case FileType::fifo:
      REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
      break;
    default:
      FAIL("unexpected type");
    }
    if (n.type != FileType::symlink) REQUIRE(::chmod(p.c_str(), n.mode) == 0);
  }
  REQUIRE(::chmod(root.c_str(), 0751) == 0);
  // Times last: creating children moves a directory's mtime.
  for (const auto& n : nodes)
    set_mtime(root + "/" + n.path, n.mtime);
  set_mtime(root, 999);

  std::vector<TarEntry> table = {tdir("./", 0751).own(uid, gid).at(999)};
  for (const auto& n : nodes) {
    TarEntry e;
    switch (n.type) {
    case FileType::dir:
      e = tdir("./" + n.path + "/", n.mode);
      break;
    case FileType::file:
      e = tfile("./" + n.path, n.data, n.mode);
      break;
    case FileType::symlink:
      e = tsymlink("./" + n.path, n.data);
      break;
    default:
      e = tfifo("./" + n.path);
      e.mode = n.mode;
      break;
    }
    table.push_back(e.own(uid, gid).at(n.mtime));
  }

  // A FIFO in the tree must not block the walk.
  auto walked = std::async(std::launch::async, [&] { return walk(root); });
  if (walked.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    int fd = ::open((root + "/fifo").c_str(), O_RDWR | O_NONBLOCK); // release a blocked reader
    walked.wait();
    if (fd >= 0) ::close(fd);
    FAIL("DirReader blocked on a FIFO");
  }
  auto from_dir = walked.get();
  REQUIRE_MESSAGE(from_dir, (from_dir ? "" : from_dir.error().message));

  MemorySource src(make_tar(table), "tree.tar");
  TarReader reader(src, "tree.tar");
  REQUIRE(reader.open());
  TreeBuilder builder;
  REQUIRE(builder.apply(reader, -1, Whiteouts::literal));
  Manifest from_tar = builder.finish("tree.tar", SourceKind::rootfs_tar);

  CHECK(paths_of(*from_dir) == paths_of(from_tar));
  REQUIRE(from_dir->entries.size() == nodes.size() + 1);
  REQUIRE(from_dir->entries.size() == from_tar.entries.size());
  for (std::size_t i = 0; i < from_tar.entries.size(); ++i) {
    const Entry& d = from_dir->entries[i];
    const Entry& t = from_tar.entries[i];
    INFO(t.path);
    CHECK(d.path == t.path);
    CHECK(d.type == t.type);
    CHECK(d.mode == t.mode);
    CHECK(d.uid == t.uid);
    CHECK(d.gid == t.gid);
    CHECK(d.size == t.size);
    CHECK(d.sha256 == t.sha256);
    CHECK(d.target == t.target);
    CHECK(d.mtime == t.mtime);
    CHECK(d.xattrs == t.xattrs);
    CHECK(d.layer == t.layer);
    CHECK(d.content_class == t.content_class);
  }
  CHECK(from_dir->captures.files == from_tar.captures.files);
  // Links are recorded, never followed: nothing below them, nothing from outside.
  CHECK(from_dir->find("/link-out")->type == FileType::symlink);
  CHECK(from_dir->find("/link-out")->target == "../outside-secret");
  CHECK(from_dir->find("/link-root")->type == FileType::symlink);
  for (const auto& e : from_dir->entries) {
    CHECK_FALSE(e.path.starts_with("/link-root/"));
    CHECK_FALSE(e.path.starts_with("/a/dirlink/"));
    if (e.sha256) CHECK(to_hex(*e.sha256) != sha256_hex("host secret"));
  }
  CHECK(from_dir->find("/fifo")->type == FileType::fifo);
}

TEST_CASE("DirReader on a missing directory is an input error naming it") {
  TempDir outer;
  auto m = walk(outer / "nope");
  REQUIRE_FALSE(m);
  CHECK(m.error().kind == ErrorKind::input);
  CHECK(contains(m.error().message, "nope"));
}
