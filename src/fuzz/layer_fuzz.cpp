// libFuzzer: one image layer as it arrives in a blob (plain, gzip or zstd tar)
// through the decompressor, the tar reader and the layer applier; a manifest that
// comes out must survive the saved-manifest round trip byte for byte.
#include "cdrift/layer/load.hpp"
#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/tar_reader.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace cdrift;

namespace {

std::string to_jsonl(const Manifest& m) {
  std::string out;
  write_manifest_jsonl(m, [&](std::string_view chunk) { out.append(chunk); });
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto raw = std::make_unique<MemorySource>(std::string(reinterpret_cast<const char*>(data), size),
                                            "layer 0 blob");
  auto src = open_decompressed(std::move(raw));
  if (!src) return 0;
  TarReader reader(**src, "layer 0");
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
  return 0;
}
