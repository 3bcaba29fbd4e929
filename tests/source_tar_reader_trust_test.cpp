// What an audit may trust about a tar (issue 13): a stream cut at any member
// boundary is refused, names are bytes (NFC and NFD are two files), libarchive's
// leniencies that lose data are refused, and the raw header decides where
// libarchive reads it differently (GNU realsize on a plain file).
#include "cdrift/diff/diff.hpp"
#include "cdrift/layer/load.hpp"
#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "source/tar_header.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <string>
#include <vector>

using namespace cdrift;
using namespace cdrift::test;

namespace {

const std::string nfc = "caf\xc3\xa9";  // café, U+00E9
const std::string nfd = "cafe\xcc\x81"; // cafe + U+0301

std::vector<TarEntry> export_table() {
  return {tdir("./"),
          tdir("etc"),
          tfile("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
          tfile("etc/" + std::string(120, 'l') + "/long", "long name, PAX header\n"),
          tsymlink("etc/mtab", "/proc/mounts"),
          thardlink("etc/passwd-", "etc/passwd"),
          tfile("usr/bin/backdoor", std::string(3000, 'x'), 04755)};
}

// Offsets of every header in a tar, and of its end-of-archive marker.
struct Layout {
  std::vector<std::size_t> headers;
  std::vector<bool>
      member_start; // the first header of a member (not after a PAX or long-name header)
  std::size_t marker = 0;
};

Layout layout_of(const std::string& tar) {
  Layout l;
  std::size_t off = 0;
  while (off + 512 <= tar.size()) {
    std::string_view h(tar.data() + off, 512);
    if (all_zero(h)) {
      l.marker = off;
      return l;
    }
    l.member_start.push_back(l.headers.empty() ||
                             std::string_view("xLK").find(tar[l.headers.back() + 156]) ==
                                 std::string_view::npos);
    l.headers.push_back(off);
    auto size = tar_number(h.substr(124, 12));
    REQUIRE(size);
    off += 512 + (*size + 511) / 512 * 512;
  }
  FAIL("no end marker");
  return l;
}

Result<Manifest> read_export(const std::string& bytes, const std::string& name,
                             EndMarker end = EndMarker::exact) {
  MemorySource src(bytes, name);
  TarReader reader(src, name, StreamDigest::none, end);
  CDRIFT_TRY(reader.open());
  TreeBuilder builder;
  CDRIFT_TRY(builder.apply(reader, -1, Whiteouts::literal));
  CDRIFT_TRY(reader.finish_stream());
  Manifest m = builder.finish(name, SourceKind::container_export);
  for (const auto& w : reader.warnings())
    m.warnings.push_back(w);
  return m;
}

std::string temp_file(const std::string& bytes) {
  std::string path = std::filesystem::temp_directory_path() /
                     ("cdrift-trust-" + std::to_string(::getpid()) + ".tar");
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size()));
  return path;
}

Result<Manifest> load_export_file(const std::string& bytes) {
  std::string path = temp_file(bytes);
  auto m = load_manifest(parse_source_spec(path), Side::container, LoadOptions{});
  std::filesystem::remove(path);
  return m;
}

bool has_path(const Manifest& m, const std::string& p) {
  for (const auto& e : m.entries)
    if (e.path == p) return true;
  return false;
}

// A ustar header by hand, for what libarchive's writer will not produce.
std::string raw_header(const std::string& name, char type, std::uint64_t size) {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  h.replace(100, 7, "0000644");
  h.replace(108, 7, "0000000");
  h.replace(116, 7, "0000000");
  char field[16];
  std::snprintf(field, sizeof field, "%011llo", static_cast<unsigned long long>(size));
  h.replace(124, 11, field);
  h.replace(136, 11, "14741201000");
  h[156] = type;
  h.replace(257, 6, std::string("ustar\0", 6));
  h.replace(263, 2, "00");
  return h;
}

void set_checksum(std::string& h) {
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h)
    sum += c;
  char field[16];
  std::snprintf(field, sizeof field, "%06o", sum);
  h.replace(148, 6, field);
  h[154] = '\0';
  h[155] = ' ';
}

std::string pad_block(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

} // namespace

TEST_CASE("trust: an export cut at any member boundary or in its end marker is refused") {
  for (TarFormat format : {TarFormat::pax, TarFormat::gnutar}) {
    std::string tar = make_tar(export_table(), format);
    Layout l = layout_of(tar);
    REQUIRE(l.headers.size() >= export_table().size());
    std::vector<std::size_t> cuts = l.headers;
    cuts.push_back(l.marker);       // every member, no marker
    cuts.push_back(l.marker + 512); // half a marker
    std::size_t refused = 0;
    for (std::size_t i = 0; i < cuts.size(); ++i) {
      std::size_t cut = cuts[i];
      bool boundary = i >= l.headers.size() || l.member_start[i];
      INFO("cut at " << cut << " of " << tar.size());
      std::string part = tar.substr(0, cut);
      auto direct = read_export(part, "export.tar");
      CHECK_FALSE(direct);
      auto file = part.empty() ? direct : load_export_file(part);
      REQUIRE_FALSE(file);
      CHECK(file.error().kind == ErrorKind::input);
      if (cut != 0 && boundary && !direct) {
        CHECK(direct.error().message.find("export.tar: ends without the tar end-of-archive marker "
                                          "after ") == 0);
        CHECK(direct.error().message.ends_with(" entries (truncated?)"));
      }
      refused += !direct && !file;
    }
    CHECK(refused == cuts.size());
    auto full = read_export(tar, "export.tar");
    REQUIRE_MESSAGE(full, (full ? "" : full.error().message));
    CHECK(has_path(*full, "/usr/bin/backdoor"));
    auto full_file = load_export_file(tar);
    REQUIRE_MESSAGE(full_file, (full_file ? "" : full_file.error().message));
    CHECK(has_path(*full_file, "/usr/bin/backdoor"));
  }
}

TEST_CASE("trust: the cut message counts the entries read") {
  std::string tar = make_tar(export_table(), TarFormat::ustar);
  Layout l = layout_of(tar);
  auto m = read_export(tar.substr(0, l.headers[3]), "stdin");
  REQUIRE_FALSE(m);
  CHECK(m.error().message ==
        "stdin: ends without the tar end-of-archive marker after 3 entries (truncated?)");
}

TEST_CASE("trust: empty exports, data after the marker, gzip without its trailer") {
  auto empty = load_export_file(std::string(1024, '\0'));
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message.find("holds no entry besides the root") != std::string::npos);
  auto root_only = load_export_file(make_tar({tdir("./")}));
  REQUIRE_FALSE(root_only);
  CHECK(root_only.error().kind == ErrorKind::input);

  std::string tar = make_tar(export_table());
  auto junk = read_export(tar + pad_block("second archive"), "export.tar");
  REQUIRE_FALSE(junk);
  CHECK(junk.error().message.find("after the tar end-of-archive marker") != std::string::npos);
  CHECK(read_export(tar + std::string(10240, '\0'), "export.tar"));

  std::string gz = compress_bytes(tar, Compress::gzip);
  REQUIRE(load_export_file(gz));
  auto cut = load_export_file(gz.substr(0, gz.size() - 8));
  REQUIRE_FALSE(cut);
  CHECK(cut.error().kind == ErrorKind::input);
  std::string zst = compress_bytes(tar, Compress::zstd);
  REQUIRE(load_export_file(zst));
  CHECK_FALSE(load_export_file(zst.substr(0, zst.size() - 3)));
}

TEST_CASE("trust: a root filesystem on the image side without its marker reads with a warning") {
  std::string tar = make_tar(export_table());
  auto m = read_export(tar.substr(0, layout_of(tar).marker), "rootfs.tar", EndMarker::warn);
  REQUIRE(m);
  bool warned = false;
  for (const auto& w : m->warnings)
    warned |= w.find("ends without the tar end-of-archive marker") != std::string::npos;
  CHECK(warned);
  // Garbage where the marker belongs is never a clean stop.
  std::string garbage = tar.substr(0, layout_of(tar).marker) + raw_header("x", 'V', 0);
  CHECK_FALSE(read_export(garbage, "rootfs.tar", EndMarker::warn));
}

TEST_CASE("trust: zstd streams that start with a skippable frame") {
  std::string tar = make_tar(export_table());
  std::string skippable("\x50\x2a\x4d\x18\x04\x00\x00\x00"
                        "abcd",
                        12);
  CHECK(detect_compression(skippable) == Compression::zstd);
  auto m = load_export_file(skippable + compress_bytes(tar, Compress::zstd));
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  CHECK(has_path(*m, "/usr/bin/backdoor"));
}

TEST_CASE("trust: names are bytes: NFC and NFD are two files in layers and exports") {
  for (bool nfc_first : {true, false}) {
    INFO("NFC first: " << nfc_first);
    std::vector<TarEntry> t = {tdir("./"), tfile(nfc_first ? nfc : nfd, "first"),
                               tfile(nfc_first ? nfd : nfc, "second")};
    std::string tar = make_tar(t, TarFormat::pax);
    for (Whiteouts w : {Whiteouts::apply, Whiteouts::literal}) {
      MemorySource src(tar, "layer");
      TarReader reader(src, "layer");
      REQUIRE(reader.open());
      TreeBuilder builder;
      REQUIRE(builder.apply(reader, w == Whiteouts::apply ? 0 : -1, w));
      Manifest m = builder.finish("t", SourceKind::rootfs_tar);
      CHECK(has_path(m, "/" + nfc));
      CHECK(has_path(m, "/" + nfd));
      CHECK(m.warnings.empty());
    }
  }
  // Both sides of a diff: the image has café in NFC, the container in NFD.
  auto image = read_export(make_tar({tdir("./"), tfile(nfc, "x")}), "image");
  auto container = read_export(make_tar({tdir("./"), tfile(nfd, "x")}), "container");
  REQUIRE(image);
  REQUIRE(container);
  DiffResult d = diff_manifests(*image, *container);
  REQUIRE(d.changes.size() == 2);
  CHECK(d.changes[0].path == "/" + nfd); // U+0065 sorts before U+00E9's lead byte
  CHECK(d.changes[0].kind == ChangeKind::added);
  CHECK(d.changes[1].path == "/" + nfc);
  CHECK(d.changes[1].kind == ChangeKind::deleted);
  // Symlink targets too.
  auto links = read_export(make_tar({tdir("./"), tsymlink("l", nfd)}), "links");
  REQUIRE(links);
  for (const auto& e : links->entries)
    if (e.path == "/l") CHECK(e.target == nfd);
}

TEST_CASE("trust: a hardlink to a directory and an empty whiteout are refused") {
  auto hl = read_export(make_tar({tdir("./"), tdir("etc"), thardlink("x", "etc")}), "export");
  REQUIRE_FALSE(hl);
  CHECK(hl.error().message.find("a directory") != std::string::npos);
  MemorySource src(make_tar({tdir("etc"), tfile("etc/.wh.")}), "layer 0");
  TarReader reader(src, "layer 0");
  REQUIRE(reader.open());
  TreeBuilder builder;
  auto st = builder.apply(reader, 0, Whiteouts::apply);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("names no entry") != std::string::npos);
}

TEST_CASE("trust: PAX records that cannot be read exactly are refused") {
  auto pax_member = [](const std::string& records, const std::string& name) {
    std::string x = raw_header("PaxHeader", 'x', records.size());
    set_checksum(x);
    std::string h = raw_header(name, '0', 2);
    set_checksum(h);
    return x + pad_block(records) + h + pad_block("hi") + std::string(1024, '\0');
  };
  // A record without its newline: libarchive drops it and uses the ustar name.
  std::string no_nl = "30 path=real/name/of/the/file";
  CHECK_FALSE(read_export(pax_member(no_nl, "decoy"), "export"));
  // A record after which a NUL hides more: refused, not silently truncated.
  std::string good = "17 path=realname\n";
  auto ok = read_export(pax_member(good, "decoy"), "export");
  REQUIRE_MESSAGE(ok, (ok ? "" : ok.error().message));
  CHECK(has_path(*ok, "/realname"));
  // An unknown key that is malformed and last changes nothing read: a warning.
  auto lenient = read_export(pax_member(good + "4 x=", "decoy"), "export");
  REQUIRE_MESSAGE(lenient, (lenient ? "" : lenient.error().message));
  CHECK(has_path(*lenient, "/realname"));
  CHECK_FALSE(lenient->warnings.empty());
}

TEST_CASE("trust: GNU realsize counts for sparse members only") {
  std::string h = raw_header("file.log", '0', 14);
  h.replace(257, 8, std::string("ustar  \0", 8));
  h.replace(483, 11, "00000004200"); // 2176: garbage on a plain file
  set_checksum(h);
  std::string tar = h + pad_block("fourteen bytes") + std::string(1024, '\0');
  auto m = read_export(tar, "export");
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  bool found = false;
  for (const auto& e : m->entries)
    if (e.path == "/file.log") {
      found = true;
      CHECK(e.size == 14);
    }
  CHECK(found);
}
