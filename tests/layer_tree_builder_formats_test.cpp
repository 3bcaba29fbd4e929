// TreeBuilder (layer/tree_builder.cpp) over what tar formats carry: long and
// non-UTF-8 names, xattrs, large sizes, content digests, device nodes.
#include "layer_helpers.hpp"

#include <doctest/doctest.h>

using namespace cdrift;
using namespace cdrift::test;

TEST_CASE("long names in pax and gnutar; ustar splits at 255") {
  std::string dir150 = std::string(70, 'd') + "/" + std::string(79, 'e');
  std::string name150 = dir150 + "/file-" + std::string(20, 'f');
  std::string name300;
  for (int i = 0; i < 6; ++i)
    name300 += std::string(49, static_cast<char>('a' + i)) + "/";
  name300 += "leaf-" + std::string(40, 'z');
  REQUIRE(name150.size() > 100);
  REQUIRE(name300.size() > 255);
  std::string target300 = "/" + name300;
  for (TarFormat f : {TarFormat::pax, TarFormat::gnutar}) {
    INFO("format " << static_cast<int>(f));
    Manifest m = must_apply(
        {{tfile(name150, "150"), tfile(name300, "300"), tsymlink("longlink", target300)}},
        Whiteouts::apply, f);
    check_tree(m);
    CHECK(hex_of(get(m, "/" + name150)) == sha256_hex("150"));
    CHECK(hex_of(get(m, "/" + name300)) == sha256_hex("300"));
    CHECK(get(m, "/longlink").target == target300);
  }
  // ustar's prefix field holds up to 155 more bytes.
  Manifest m = must_apply({{tfile(name150, "150")}}, Whiteouts::apply, TarFormat::ustar);
  CHECK(has(m, "/" + name150));
}

TEST_CASE("non-UTF-8 names survive as raw bytes") {
  std::string raw = std::string("caf\xe9-\xff");
  Manifest m = must_apply({{tfile(raw, "x")}});
  CHECK(has(m, "/" + raw));
}

TEST_CASE("xattrs from PAX SCHILY.xattr headers") {
  // A file capability blob: cap_net_bind_service+ep (VFS_CAP_REVISION_2).
  std::string cap(
      "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  Manifest m = must_apply(
      {{tfile("bin/ping", "elf", 0755).xattr("user.note", "hi").xattr("security.capability", cap),
        tdir("d").xattr("user.dir", std::string("\0bin\xff", 5))}});
  // libarchive writes each xattr twice (LIBARCHIVE.xattr.* and SCHILY.xattr.*);
  // the entry must still list each name once, sorted by name.
  std::vector<Xattr> want_p = {{"security.capability", cap}, {"user.note", "hi"}};
  INFO("/bin/ping xattrs: " << xattr_list(get(m, "/bin/ping").xattrs));
  CHECK(get(m, "/bin/ping").xattrs == want_p);
  std::vector<Xattr> want_d = {{"user.dir", std::string("\0bin\xff", 5)}};
  CHECK(get(m, "/d").xattrs == want_d);
  // A hardlink carries its target's xattrs.
  Manifest m2 =
      must_apply({{tfile("a", "x").xattr("security.capability", cap)}, {thardlink("b", "a")}});
  CHECK(get(m2, "/b").xattrs == get(m2, "/a").xattrs);
  REQUIRE_FALSE(get(m2, "/b").xattrs.empty());
  CHECK(get(m2, "/b").xattrs.back().value == cap);
}

TEST_CASE("SCHILY.xattr alone (as Go's archive/tar writes it) gives one xattr per name") {
  // Hand-made pax header with only SCHILY.xattr records, like Docker/BuildKit layers.
  std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00", 8);
  auto record = [](const std::string& kv) {
    std::size_t len = kv.size() + 2; // " " and "\n"
    std::size_t digits = std::to_string(len).size();
    len += digits;
    if (std::to_string(len).size() != digits) ++len;
    return std::to_string(len) + " " + kv + "\n";
  };
  std::string pax = record("SCHILY.xattr.security.capability=" + cap);
  // Build: pax header member ('x') + file member, via libarchive's raw ustar writer
  // for the headers, then patch the pax member's type flag.
  std::string tar =
      make_tar({tfile("PaxHeaders/ping", pax), tfile("ping", "elf", 0755)}, TarFormat::ustar);
  // Patch the first header's type flag to 'x' and fix its checksum.
  tar[156] = 'x';
  std::memset(&tar[148], ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i)
    sum += static_cast<unsigned char>(tar[i]);
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  std::memcpy(&tar[148], chk, 7);
  tar[154] = '\0';
  tar[155] = ' ';
  MemorySource src(tar, "go layer");
  TarReader reader(src, "go layer");
  REQUIRE(reader.open());
  TreeBuilder builder;
  REQUIRE(builder.apply(reader, 0, Whiteouts::apply));
  Manifest m = builder.finish("t", SourceKind::rootfs_tar);
  std::vector<Xattr> want = {{"security.capability", cap}};
  CHECK(get(m, "/ping").xattrs == want);
  CHECK(hex_of(get(m, "/ping")) == sha256_hex("elf"));
}

namespace {

// A tar whose first member claims a huge size: header bytes, then zeros produced
// on demand (and skippable), then a normal tail. Nothing large is ever allocated.
class HugeMemberSource : public ByteSource {
public:
  HugeMemberSource(std::string header, std::uint64_t body, std::string tail)
      : m_header(std::move(header)), m_body((body + 511) / 512 * 512), m_tail(std::move(tail)) {}

  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override {
    std::uint64_t total = m_header.size() + m_body + m_tail.size();
    if (m_pos >= total) return std::size_t{0};
    std::size_t n;
    if (m_pos < m_header.size()) {
      n = std::min<std::uint64_t>(cap, m_header.size() - m_pos);
      std::memcpy(buf, m_header.data() + m_pos, n);
    } else if (m_pos < m_header.size() + m_body) {
      n = std::min<std::uint64_t>(cap, m_header.size() + m_body - m_pos);
      std::memset(buf, 0, n);
      m_zero_bytes_read += n;
    } else {
      std::uint64_t off = m_pos - m_header.size() - m_body;
      n = std::min<std::uint64_t>(cap, m_tail.size() - off);
      std::memcpy(buf, m_tail.data() + off, n);
    }
    m_pos += n;
    return n;
  }
  std::uint64_t skip(std::uint64_t n) override {
    std::uint64_t total = m_header.size() + m_body + m_tail.size();
    n = std::min(n, total - m_pos);
    m_pos += n;
    return n;
  }
  const std::string& name() const override { return m_name; }
  std::uint64_t zero_bytes_read() const { return m_zero_bytes_read; }

private:
  std::string m_header;
  std::uint64_t m_body;
  std::string m_tail;
  std::uint64_t m_pos = 0;
  std::uint64_t m_zero_bytes_read = 0;
  std::string m_name = "huge";
};

} // namespace

TEST_CASE("large sizes via pax are read exactly and skipped without reading") {
  const std::uint64_t size = 9ull << 30; // beyond ustar's 8 GiB
  std::string header = tar_header_only("big.img", size);
  REQUIRE(header.size() >= 1024); // pax extended header + ustar header
  HugeMemberSource src(header, size, make_tar({tfile("after", "tail")}));
  TarReader reader(src, "huge layer");
  REQUIRE(reader.open());
  Member m;
  auto more = reader.next(m);
  REQUIRE(more);
  REQUIRE(*more);
  CHECK(m.name == "big.img");
  CHECK(m.size == size);
  more = reader.next(m);
  REQUIRE(more);
  REQUIRE(*more);
  CHECK(m.name == "after");
  CHECK(m.size == 4);
  CHECK(src.zero_bytes_read() < (64u << 20)); // the body was skipped, not read
}

TEST_CASE("content SHA-256 and size are those of the file's bytes") {
  std::string big;
  big.reserve((1u << 20) + 7);
  for (std::size_t i = 0; i < (1u << 20) + 7; ++i)
    big.push_back(static_cast<char>(i * 31 % 251));
  struct Case {
    std::string content;
    std::string hex; // known vector, or empty: compare with sha256_of
  };
  std::vector<Case> cases = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {std::string("\0\0\0", 3), ""},
      {big, ""},
  };
  for (const auto& c : cases) {
    INFO("size " << c.content.size());
    for (TarFormat f : {TarFormat::pax, TarFormat::ustar, TarFormat::gnutar}) {
      Manifest m = must_apply({{tfile("f", c.content)}}, Whiteouts::apply, f);
      const Entry& e = get(m, "/f");
      CHECK(e.size == c.content.size());
      CHECK(hex_of(e) == (c.hex.empty() ? sha256_hex(c.content) : c.hex));
    }
  }
}

TEST_CASE("device nodes, fifos and ownership are carried through") {
  Manifest m = must_apply(
      {{tdevice("dev/null", FileType::chardev, 1, 3), tdevice("dev/sda", FileType::blockdev, 8, 0),
        tfifo("run/pipe"), tfile("home/u/f", "x").own(1000, 1001).perm(04755)}});
  check_tree(m);
  CHECK(get(m, "/dev/null").type == FileType::chardev);
  CHECK(get(m, "/dev/null").dev_major == 1);
  CHECK(get(m, "/dev/null").dev_minor == 3);
  CHECK(get(m, "/dev/sda").type == FileType::blockdev);
  CHECK(get(m, "/dev/sda").dev_major == 8);
  CHECK(get(m, "/run/pipe").type == FileType::fifo);
  const Entry& f = get(m, "/home/u/f");
  CHECK(f.uid == 1000);
  CHECK(f.gid == 1001);
  CHECK(f.mode == 04755);
}

TEST_CASE("the same tree parses identically from pax, ustar and gnutar") {
  Layer table = {tdir("etc", 0755).at(10),
                 tfile("etc/passwd", "root\n", 0644).at(11),
                 tsymlink("etc/mtab", "/proc/mounts"),
                 tdir("tmp", 01777),
                 tfile("usr/bin/su", "su", 04755).own(0, 0),
                 thardlink("usr/bin/su2", "usr/bin/su")};
  Manifest pax = must_apply({table}, Whiteouts::apply, TarFormat::pax);
  for (TarFormat f : {TarFormat::ustar, TarFormat::gnutar}) {
    Manifest other = must_apply({table}, Whiteouts::apply, f);
    REQUIRE(other.entries.size() == pax.entries.size());
    for (std::size_t i = 0; i < pax.entries.size(); ++i) {
      const Entry& a = pax.entries[i];
      const Entry& b = other.entries[i];
      INFO(a.path);
      CHECK(a.path == b.path);
      CHECK(a.type == b.type);
      CHECK(a.mode == b.mode);
      CHECK(a.uid == b.uid);
      CHECK(a.sha256 == b.sha256);
      CHECK(a.target == b.target);
      CHECK(a.mtime == b.mtime);
    }
  }
  CHECK(get(pax, "/tmp").mode == 01777);
  CHECK(get(pax, "/usr/bin/su2").mode == 04755);
}
