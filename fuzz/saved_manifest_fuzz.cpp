// libFuzzer: the saved-manifest reader (manifest:FILE sources, baselines). What it
// accepts must write back and read again to the same bytes.
#include "cdrift/layer/load.hpp"
#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/source/byte_source.hpp"

#include <cstdint>
#include <cstdio>
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
  MemorySource src(std::string(reinterpret_cast<const char*>(data), size), "saved.jsonl");
  auto m = read_saved_manifest(src);
  if (!m) return 0;
  std::string first = to_jsonl(*m);
  MemorySource again(first, "rewritten.jsonl");
  auto back = read_saved_manifest(again);
  if (!back) {
    std::fprintf(stderr, "round trip: rewritten manifest does not read back: %s\n",
                 back.error().message.c_str());
    std::abort();
  }
  if (to_jsonl(*back) != first) {
    std::fprintf(stderr, "round trip: rewritten manifest changed after reading it back\n");
    std::abort();
  }
  return 0;
}
