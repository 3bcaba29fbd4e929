// libFuzzer: one image layer as it arrives in a blob (plain, gzip or zstd tar)
// through the decompressor, the tar reader and the layer applier; a manifest that
// comes out must survive the saved-manifest round trip byte for byte. The layer is
// read twice, with and without the stream digest (diff_id) that shares its pass
// with the file hashes: both must give the same manifest, and the stream digest
// must equal a plain SHA-256 of the decompressed bytes. And completeness: when a
// plain tar reads as a complete export, every cut of it at a block boundary up
// to its end-of-archive marker (a member boundary, inside a member, half the
// marker) must be refused.
#include "cdrift/layer/load.hpp"
#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "source/tar_header.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace cdrift;

namespace {

std::string to_jsonl(const Manifest& m) {
  std::string out;
  write_manifest_jsonl(m, [&](std::string_view chunk) { out.append(chunk); });
  return out;
}

std::unique_ptr<ByteSource> open_layer(const std::uint8_t* data, std::size_t size) {
  auto raw = std::make_unique<MemorySource>(std::string(reinterpret_cast<const char*>(data), size),
                                            "layer 0 blob");
  auto src = open_decompressed(std::move(raw));
  return src ? std::move(*src) : nullptr;
}

bool reads_as_export(std::string_view tar) {
  MemorySource src(std::string(tar), "export");
  TarReader reader(src, "export", StreamDigest::none, EndMarker::exact);
  if (!reader.open()) return false;
  TreeBuilder builder;
  return builder.apply(reader, -1, Whiteouts::literal) && reader.finish_stream();
}

void check_cuts_refused(std::string_view tar) {
  if (tar.size() < 1024 || !reads_as_export(tar)) return;
  std::size_t last = tar.find_last_not_of('\0');
  if (last == std::string_view::npos) return;
  // The marker starts at or after the block holding the last non-zero byte.
  std::size_t bound = std::min(tar.size() - 1, (last / 512 + 1) * 512 + 512);
  int checked = 0;
  for (std::size_t cut = bound / 512 * 512; cut > 0 && checked < 16; cut -= 512, ++checked) {
    if (reads_as_export(tar.substr(0, cut))) {
      std::fprintf(stderr, "completeness: a cut at %zu of %zu bytes reads as complete\n", cut,
                   tar.size());
      std::abort();
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (detect_compression(input.substr(0, 8)) == Compression::none) check_cuts_refused(input);
  auto src = open_layer(data, size);
  if (!src) return 0;
  TarReader reader(*src, "layer 0");
  if (!reader.open()) return 0;
  TreeBuilder builder;
  if (!builder.apply(reader, 0, Whiteouts::apply)) return 0;
  Manifest m = builder.finish("fuzz", SourceKind::rootfs_tar);

  // Whatever names a layer holds, the saved manifest must read back to the same bytes.
  std::string first = to_jsonl(m);
  MemorySource saved(first, "saved manifest");
  auto back = read_saved_manifest(saved);
  if (!back) {
    std::fprintf(stderr, "round trip: written manifest does not read back: %s\n",
                 back.error().message.c_str());
    std::abort();
  }
  if (to_jsonl(*back) != first) {
    std::fprintf(stderr, "round trip: saved manifest changed after reading it back\n");
    std::abort();
  }

  // The whole decompressed stream, plainly: the reference for the stream digest.
  // It may fail where the tar did not (a truncated gzip after the end marker).
  auto plain = open_layer(data, size);
  Sha256 whole;
  std::uint64_t bytes = 0;
  bool plain_ok = true;
  std::vector<std::uint8_t> buf(64 * 1024);
  for (;;) {
    auto n = plain->read(buf.data(), buf.size());
    if (!n) {
      plain_ok = false;
      break;
    }
    if (*n == 0) break;
    whole.update(buf.data(), *n);
    bytes += *n;
  }

  // The same layer with its stream digested alongside the file hashes.
  auto again = open_layer(data, size);
  TarReader digested(*again, "layer 0", StreamDigest::sha256);
  if (!digested.open()) std::abort();
  TreeBuilder builder2;
  if (!builder2.apply(digested, 0, Whiteouts::apply)) {
    std::fprintf(stderr, "stream digest: the layer failed to apply with its digest on\n");
    std::abort();
  }
  if (to_jsonl(builder2.finish("fuzz", SourceKind::rootfs_tar)) != first) {
    std::fprintf(stderr, "stream digest: file digests differ when the stream is digested too\n");
    std::abort();
  }
  if (static_cast<bool>(digested.finish_stream()) != plain_ok) {
    std::fprintf(stderr, "stream digest: reading to the end disagrees with a plain read\n");
    std::abort();
  }
  if (plain_ok &&
      (digested.stream_digest() != whole.finish() || digested.stream_bytes() != bytes)) {
    std::fprintf(stderr, "stream digest: differs from SHA-256 of the decompressed layer\n");
    std::abort();
  }
  return 0;
}
