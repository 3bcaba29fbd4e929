// TarReader with StreamDigest::sha256: the stream digest (a layer's diff_id) must
// cover every byte of the tar, padding after the end marker included, while file
// data is hashed for the file and the stream in one pass. Sources lend or copy
// their bytes in irregular chunks, can seek, and consumers skip file data.
#include "cdrift/layer/content.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "cdrift/source/threaded_source.hpp"
#include "cdrift/util/sha256.hpp"
#include "test_tar.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <doctest/doctest.h>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace cdrift;
using namespace cdrift::test;

namespace {

enum class Feed {
  lend, // read_view() hands out buffers of the source's own
  copy, // read() only
  seek, // read() and a skip() that really skips
};

std::string feed_name(Feed f) {
  switch (f) {
  case Feed::lend:
    return "lend";
  case Feed::copy:
    return "copy";
  case Feed::seek:
    return "seek";
  }
  return "?";
}

// Serves `data` in chunks whose sizes cycle through `chunks`. A lent buffer is a
// fresh allocation each time, scribbled over and freed at the next call: a reader
// that keeps using a stale block hashes garbage (or trips ASan).
class ChunkedSource : public ByteSource {
public:
  ChunkedSource(std::string data, std::vector<std::size_t> chunks, Feed feed)
      : m_data(std::move(data)), m_chunks(std::move(chunks)), m_feed(feed) {}

  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override {
    std::size_t n = std::min(cap, next_chunk());
    std::memcpy(buf, m_data.data() + m_pos, n);
    m_pos += n;
    m_bytes_read += n;
    return n;
  }

  std::optional<Result<std::size_t>> read_view(const std::uint8_t*& data) override {
    if (m_feed != Feed::lend) return std::nullopt;
    release_lent();
    std::size_t n = next_chunk();
    if (n == 0) return Result<std::size_t>(std::size_t{0});
    m_lent = std::make_unique<std::uint8_t[]>(n);
    m_lent_size = n;
    std::memcpy(m_lent.get(), m_data.data() + m_pos, n);
    m_pos += n;
    m_bytes_read += n;
    data = m_lent.get();
    return Result<std::size_t>(n);
  }

  std::uint64_t skip(std::uint64_t n) override {
    if (m_feed != Feed::seek) return 0;
    ++m_skip_calls;
    n = std::min<std::uint64_t>(n, m_data.size() - m_pos);
    m_pos += static_cast<std::size_t>(n);
    m_bytes_skipped += n;
    return n;
  }

  const std::string& name() const override { return m_name; }
  std::uint64_t skip_calls() const { return m_skip_calls; }
  std::uint64_t bytes_skipped() const { return m_bytes_skipped; }
  std::uint64_t bytes_read() const { return m_bytes_read; }

private:
  std::size_t next_chunk() {
    std::size_t want = m_chunks[m_chunk++ % m_chunks.size()];
    return std::min(want, m_data.size() - m_pos);
  }
  void release_lent() {
    if (m_lent) std::memset(m_lent.get(), 0xA5, m_lent_size);
    m_lent.reset();
    m_lent_size = 0;
  }

  std::string m_data;
  std::vector<std::size_t> m_chunks;
  Feed m_feed;
  std::size_t m_pos = 0;
  std::size_t m_chunk = 0;
  std::unique_ptr<std::uint8_t[]> m_lent;
  std::size_t m_lent_size = 0;
  std::uint64_t m_skip_calls = 0;
  std::uint64_t m_bytes_skipped = 0;
  std::uint64_t m_bytes_read = 0;
  std::string m_name = "chunked layer";
};

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string out(n, '\0');
  for (auto& c : out)
    c = static_cast<char>(rng() & 0xff);
  return out;
}

// A layer table: files of awkward sizes around the 512-byte tar block, a large and
// a >1 MiB one, directories, symlinks, a hardlink, and (where the format carries
// them) a long name and an xattr that need extended headers. `files` receives
// name -> content of every regular file.
struct Layer {
  std::vector<TarEntry> entries;
  std::map<std::string, std::string> files;
};

Layer make_layer(std::mt19937& rng, TarFormat format, bool large = true) {
  Layer l;
  auto add_file = [&](std::string name, std::size_t size) {
    std::string content = random_bytes(rng, size);
    l.files[name] = content;
    l.entries.push_back(tfile(name, content));
  };
  l.entries.push_back(tdir("usr"));
  l.entries.push_back(tdir("usr/lib"));
  std::vector<std::size_t> sizes = {0, 1, 511, 512, 513, 4096, 63, 64, 65, 1025};
  if (large) {
    sizes.push_back(100000);
    sizes.push_back((1u << 20) + 3);
    sizes.push_back(3);
  }
  for (std::size_t i = 0; i < sizes.size(); ++i)
    add_file("usr/lib/f" + std::to_string(i) + "-" + std::to_string(sizes[i]), sizes[i]);
  l.entries.push_back(tsymlink("usr/lib/link", "f1-1"));
  l.entries.push_back(thardlink("usr/lib/hard", "usr/lib/f3-512"));
  l.entries.push_back(tdir("etc", 0700));
  add_file("etc/after-hardlink", 700);
  if (format != TarFormat::ustar) {
    std::string long_name = "etc/" + std::string(180, 'n') + "/long";
    l.entries.push_back(tdir("etc/" + std::string(180, 'n')));
    add_file(long_name, 2049);
  }
  if (format == TarFormat::pax) {
    std::string content = random_bytes(rng, 777);
    l.files["usr/bin-with-cap"] = content;
    l.entries.push_back(tfile("usr/bin-with-cap", content)
                            .xattr("security.capability", std::string("\x01\x00\x00\x02", 4)));
  }
  l.entries.push_back(tsymlink("etc/abs", "/usr/lib/f0-0"));
  add_file("z-last", 1);
  return l;
}

std::string format_name(TarFormat f) {
  switch (f) {
  case TarFormat::pax:
    return "pax";
  case TarFormat::ustar:
    return "ustar";
  case TarFormat::gnutar:
    return "gnutar";
  }
  return "?";
}

enum class Consume {
  all,       // every file read through ContentReader
  skip_some, // some files not read at all, some read for one block only
};

Sha256Engine expected_engine() {
  return Sha256::paired_available() ? Sha256Engine::paired : Sha256Engine::openssl;
}

// Reads every member of `src` (the bytes of `tar`) and checks each file's digest,
// then the stream digest and size after finish_stream().
void check_layer(ByteSource& src, const std::string& tar, const Layer& layer, Consume consume,
                 StreamDigest digest = StreamDigest::sha256) {
  TarReader reader(src, "layer", digest);
  REQUIRE(reader.open());
  CHECK(reader.file_hash_engine() ==
        (digest == StreamDigest::sha256 ? expected_engine() : Sha256Engine::openssl));
  ContentReader content;
  Member m;
  std::set<std::string> seen;
  std::size_t index = 0;
  for (;;) {
    auto more = reader.next(m);
    REQUIRE_MESSAGE(more, (more ? "" : more.error().message));
    if (!*more) break;
    if (m.type != FileType::file || m.is_hardlink) continue;
    INFO("file " << m.name << " (" << m.size << " bytes)");
    auto want = layer.files.find(m.name);
    REQUIRE(want != layer.files.end());
    CHECK(m.size == want->second.size());
    seen.insert(m.name);
    ++index;
    if (consume == Consume::skip_some && index % 3 == 1) continue; // data never touched
    if (consume == Consume::skip_some && index % 3 == 2) {
      // One block only, hashed like ContentReader would, then on to the next member.
      const std::uint8_t* data = nullptr;
      std::size_t size = 0;
      std::int64_t offset = 0;
      auto got = reader.next_block(data, size, offset);
      REQUIRE(got);
      if (!*got) {
        CHECK(want->second.empty());
        continue;
      }
      CHECK(offset == 0);
      REQUIRE(size <= want->second.size());
      Sha256 partial(reader.file_hash_engine());
      reader.hash_block(data, size, partial);
      CHECK(to_hex(partial.finish()) == sha256_hex(std::string_view(want->second).substr(0, size)));
      continue;
    }
    auto d = content.read(reader, m, CaptureWish::skip);
    REQUIRE_MESSAGE(d, (d ? "" : d.error().message));
    CHECK(d->size == want->second.size());
    CHECK(to_hex(d->sha256) == sha256_hex(want->second));
  }
  CHECK(seen.size() == layer.files.size());
  CHECK(reader.members() == layer.entries.size());
  auto finished = reader.finish_stream();
  REQUIRE_MESSAGE(finished, (finished ? "" : finished.error().message));
  // Bytes skipped by seeking count too, so the size is right either way.
  CHECK(reader.stream_bytes() == tar.size());
  if (digest == StreamDigest::sha256) CHECK(to_hex(reader.stream_digest()) == sha256_hex(tar));
}

const std::vector<std::vector<std::size_t>>& chunk_patterns() {
  static const std::vector<std::vector<std::size_t>> patterns = {
      {1000, 4099, 65536 + 17, 1},
      {512},
      {3u << 20},
      {1, 1, 2, 1, 3, 1000, 7, 511, 64 * 1024},
      {10240, 1, 333},
  };
  return patterns;
}

std::string pattern_name(const std::vector<std::size_t>& p) {
  std::string s;
  for (auto n : p)
    s += std::to_string(n) + " ";
  return s;
}

} // namespace

TEST_CASE("tar digest: lent and copied chunks, every format, trailing zero padding") {
  std::mt19937 rng(1234);
  for (TarFormat format : {TarFormat::pax, TarFormat::gnutar, TarFormat::ustar}) {
    Layer layer = make_layer(rng, format);
    std::string tar = make_tar(layer.entries, format) + std::string(10240, '\0');
    for (Feed feed : {Feed::lend, Feed::copy}) {
      for (const auto& pattern : chunk_patterns()) {
        INFO(format_name(format) << ", " << feed_name(feed) << ", chunks "
                                 << pattern_name(pattern));
        ChunkedSource src(tar, pattern, feed);
        check_layer(src, tar, layer, Consume::all);
        CHECK(src.bytes_read() == tar.size());
      }
    }
  }
}

TEST_CASE("tar digest: one byte at a time") {
  std::mt19937 rng(77);
  for (TarFormat format : {TarFormat::pax, TarFormat::gnutar}) {
    Layer layer = make_layer(rng, format, false);
    std::string tar = make_tar(layer.entries, format) + std::string(1000, '\0');
    for (Feed feed : {Feed::lend, Feed::copy}) {
      INFO(format_name(format) << ", " << feed_name(feed));
      ChunkedSource src(tar, {1}, feed);
      check_layer(src, tar, layer, Consume::all);
      ChunkedSource again(tar, {1}, feed);
      check_layer(again, tar, layer, Consume::skip_some);
    }
  }
}

TEST_CASE("tar digest: file data the consumer skips still reaches the stream digest") {
  std::mt19937 rng(4321);
  for (TarFormat format : {TarFormat::pax, TarFormat::gnutar, TarFormat::ustar}) {
    Layer layer = make_layer(rng, format);
    std::string tar = make_tar(layer.entries, format) + std::string(10240, '\0');
    for (Feed feed : {Feed::lend, Feed::copy, Feed::seek}) {
      for (const auto& pattern : chunk_patterns()) {
        INFO(format_name(format) << ", " << feed_name(feed) << ", chunks "
                                 << pattern_name(pattern));
        ChunkedSource src(tar, pattern, feed);
        check_layer(src, tar, layer, Consume::skip_some);
        CHECK(src.skip_calls() == 0);
        CHECK(src.bytes_read() == tar.size());
      }
    }
  }
}

TEST_CASE("tar digest: a source that can seek is read, never skipped") {
  std::mt19937 rng(99);
  Layer layer = make_layer(rng, TarFormat::pax);
  std::string tar = make_tar(layer.entries, TarFormat::pax) + std::string(10240, '\0');

  // Control: without a stream digest, skipped file data is seeked over, so the
  // source's skip() is reachable and the check below means something.
  {
    ChunkedSource src(tar, {4096}, Feed::seek);
    TarReader reader(src, "layer");
    REQUIRE(reader.open());
    CHECK(reader.file_hash_engine() == Sha256Engine::openssl);
    Member m;
    for (;;) {
      auto more = reader.next(m);
      REQUIRE(more);
      if (!*more) break;
    }
    CHECK(src.skip_calls() > 0);
    CHECK(src.bytes_skipped() > 0);
  }

  ChunkedSource src(tar, {4096}, Feed::seek);
  TarReader reader(src, "layer", StreamDigest::sha256);
  REQUIRE(reader.open());
  Member m;
  for (;;) {
    auto more = reader.next(m);
    REQUIRE(more);
    if (!*more) break;
  }
  REQUIRE(reader.finish_stream());
  CHECK(src.skip_calls() == 0);
  CHECK(src.bytes_skipped() == 0);
  CHECK(src.bytes_read() == tar.size());
  CHECK(reader.stream_bytes() == tar.size());
  CHECK(to_hex(reader.stream_digest()) == sha256_hex(tar));

  // And the seekable source read fully, with every file.
  ChunkedSource all(tar, {1000, 4099, 65536 + 17, 1}, Feed::seek);
  check_layer(all, tar, layer, Consume::all);
  CHECK(all.skip_calls() == 0);
}

TEST_CASE("tar digest: trailing bytes, no padding and an empty tar") {
  std::mt19937 rng(5);
  Layer layer = make_layer(rng, TarFormat::pax, false);
  std::string bare = make_tar(layer.entries, TarFormat::pax);
  std::vector<std::string> tars = {
      bare,
      bare + std::string(10240, '\0'),
      bare + std::string(10240, '\0') + random_bytes(rng, 3001), // junk after the end marker
      bare + std::string(1, '\0'),
  };
  for (std::size_t i = 0; i < tars.size(); ++i) {
    for (Feed feed : {Feed::lend, Feed::copy}) {
      INFO("variant " << i << ", " << feed_name(feed));
      ChunkedSource src(tars[i], {1000, 4099, 65536 + 17, 1}, feed);
      check_layer(src, tars[i], layer, Consume::all);
    }
  }

  Layer empty;
  std::string empty_tar = make_tar({}) + std::string(512, '\0');
  for (Feed feed : {Feed::lend, Feed::copy}) {
    INFO("empty tar, " << feed_name(feed));
    ChunkedSource src(empty_tar, {700}, feed);
    check_layer(src, empty_tar, empty, Consume::all);
  }
}

TEST_CASE("tar digest: without a stream digest files hash with openssl and stay right") {
  std::mt19937 rng(8);
  Layer layer = make_layer(rng, TarFormat::pax);
  std::string tar = make_tar(layer.entries, TarFormat::pax);
  for (Feed feed : {Feed::lend, Feed::copy, Feed::seek}) {
    INFO(feed_name(feed));
    ChunkedSource src(tar, {1000, 4099, 65536 + 17, 1}, feed);
    check_layer(src, tar, layer, Consume::all, StreamDigest::none);
    ChunkedSource skipping(tar, {1000, 4099, 65536 + 17, 1}, feed);
    check_layer(skipping, tar, layer, Consume::skip_some, StreamDigest::none);
  }
  // The default MemberStream answer, for streams that do not digest themselves.
  MemorySource mem(tar, "plain");
  TarReader plain(mem, "plain");
  CHECK(plain.file_hash_engine() == Sha256Engine::openssl);
  TarReader digesting(mem, "digesting", StreamDigest::sha256);
  CHECK(digesting.file_hash_engine() == expected_engine());
}

TEST_CASE("tar digest: compressed layers through the decompressors and read-ahead threads") {
  std::mt19937 rng(2024);
  Layer layer = make_layer(rng, TarFormat::pax);
  std::string tar = make_tar(layer.entries, TarFormat::pax) + std::string(10240, '\0');
  for (Compress compress : {Compress::none, Compress::gzip, Compress::zstd}) {
    for (std::size_t chunk : {std::size_t{1000}, std::size_t{1} << 20}) {
      INFO("compression " << static_cast<int>(compress) << ", read-ahead chunk " << chunk);
      std::string blob = compress_bytes(tar, compress);
      auto sniffed = sniff_compression(
          std::make_unique<ChunkedSource>(blob, std::vector<std::size_t>{4099, 17}, Feed::lend));
      REQUIRE(sniffed);
      std::unique_ptr<ByteSource> stream = std::move(sniffed->stream);
      if (compress != Compress::none) {
        auto inflated = decompressor_for(
            sniffed->compression, std::make_unique<ThreadedSource>(std::move(stream), chunk, 3));
        REQUIRE(inflated);
        stream = std::make_unique<ThreadedSource>(std::move(*inflated), chunk, 3);
      }
      check_layer(*stream, tar, layer, Consume::all);
    }
  }
}

TEST_CASE("tar digest: sparse members, holes hashed for the file only") {
  std::mt19937 rng(31337);
  std::string d1 = random_bytes(rng, 1000), d2 = random_bytes(rng, 1500), d3 = random_bytes(rng, 3);
  // Real content: d1 at 0, d2 at 5000, d3 at 9000, then a hole to 12000.
  std::string real(12000, '\0');
  real.replace(0, d1.size(), d1);
  real.replace(5000, d2.size(), d2);
  real.replace(9000, d3.size(), d3);
  std::string stored = d1 + d2 + d3;
  Layer layer;
  layer.files["sparse-0.1"] = real;
  layer.files["sparse-1.0"] = real;
  layer.files["plain"] = random_bytes(rng, 700);
  layer.entries.resize(3); // member count only
  // PAX 0.1: the map in the extended header. PAX 1.0: the map in the data, in
  // decimal lines padded to a block, read by libarchive before the file's data.
  std::string map_block = padded("3\n0\n1000\n5000\n1500\n9000\n3\n");
  std::string tar = pax_header({"GNU.sparse.size=12000", "GNU.sparse.numblocks=3",
                                "GNU.sparse.map=0,1000,5000,1500,9000,3"}) +
                    ustar_header("sparse-0.1", stored.size()) + padded(stored) +
                    pax_header({"GNU.sparse.major=1", "GNU.sparse.minor=0",
                                "GNU.sparse.name=sparse-1.0", "GNU.sparse.realsize=12000"}) +
                    ustar_header("GNUSparseFile.0/sparse-1.0", map_block.size() + stored.size()) +
                    map_block + padded(stored) + ustar_header("plain", 700) +
                    padded(layer.files["plain"]) + std::string(1024, '\0') +
                    std::string(4096, '\0');
  for (Feed feed : {Feed::lend, Feed::copy}) {
    for (const auto& pattern :
         {std::vector<std::size_t>{1}, std::vector<std::size_t>{1000, 4099, 65536 + 17, 1},
          std::vector<std::size_t>{100, 7}, std::vector<std::size_t>{1 << 20}}) {
      INFO(feed_name(feed) << ", chunks " << pattern_name(pattern));
      ChunkedSource src(tar, pattern, feed);
      check_layer(src, tar, layer, Consume::all);
      ChunkedSource skipping(tar, pattern, feed);
      check_layer(skipping, tar, layer, Consume::skip_some);
    }
  }
}

TEST_CASE("tar digest: bytes from outside the current block go to the file alone") {
  // Sparse holes and data libarchive copied to join blocks are not in the block the
  // stream digest walks: they must reach the file's hash and never the stream's.
  std::mt19937 rng(404);
  std::string content = random_bytes(rng, 3000);
  std::string tar = make_tar({tfile("a", content), tfile("b", "bee")}) + std::string(512, '\0');
  for (Feed feed : {Feed::lend, Feed::copy}) {
    INFO(feed_name(feed));
    ChunkedSource src(tar, {4096}, feed);
    TarReader reader(src, "layer", StreamDigest::sha256);
    REQUIRE(reader.open());
    Member m;
    REQUIRE(*reader.next(m));
    REQUIRE(m.name == "a");
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
    std::int64_t offset = 0;
    REQUIRE(*reader.next_block(data, size, offset));
    REQUIRE(size > 0);
    REQUIRE(size <= content.size());
    std::string foreign = random_bytes(rng, 300);
    Sha256 file(reader.file_hash_engine());
    reader.hash_block(reinterpret_cast<const std::uint8_t*>(foreign.data()), foreign.size(), file);
    reader.hash_block(data, size, file);
    CHECK(to_hex(file.finish()) == sha256_hex(foreign + content.substr(0, size)));
    for (;;) {
      auto more = reader.next(m);
      REQUIRE(more);
      if (!*more) break;
    }
    REQUIRE(reader.finish_stream());
    CHECK(reader.stream_bytes() == tar.size());
    CHECK(to_hex(reader.stream_digest()) == sha256_hex(tar));
  }
}
