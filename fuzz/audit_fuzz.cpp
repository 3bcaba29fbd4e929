// libFuzzer: the whole audit on a pair of small trees. The input is split in two
// (a 4-byte little-endian length, then the image layer, then the container export);
// each part is a tar stream, plain or compressed. Both are applied, diffed,
// classified with the shipped rule pack and rendered as text, JSON and SARIF.
#include "cdrift/classify/audit.hpp"
#include "cdrift/classify/rules.hpp"
#include "cdrift/diff/diff.hpp"
#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/report/json.hpp"
#include "cdrift/report/sarif.hpp"
#include "cdrift/report/text.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "cdrift/util/json.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

using namespace cdrift;

namespace {

const RulePack& shipped_rules() {
  static const RulePack pack = [] {
    auto p = load_rule_pack({CDRIFT_SOURCE_RULES_DIR}, {});
    if (!p) {
      std::fprintf(stderr, "audit_fuzz: cannot load the shipped rules: %s\n",
                   p.error().message.c_str());
      std::abort();
    }
    return std::move(*p);
  }();
  return pack;
}

std::optional<Manifest> tree_of(std::string bytes, const std::string& name, int layer,
                                Whiteouts whiteouts, SourceKind kind) {
  auto src = open_decompressed(std::make_unique<MemorySource>(std::move(bytes), name));
  if (!src) return std::nullopt;
  TarReader reader(**src, name);
  if (!reader.open()) return std::nullopt;
  TreeBuilder builder;
  if (!builder.apply(reader, layer, whiteouts)) return std::nullopt;
  return builder.finish(name, kind);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)shipped_rules(); // loaded once, before the first input
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  std::uint32_t split =
      static_cast<std::uint32_t>(data[0]) | static_cast<std::uint32_t>(data[1]) << 8 |
      static_cast<std::uint32_t>(data[2]) << 16 | static_cast<std::uint32_t>(data[3]) << 24;
  const char* body = reinterpret_cast<const char*>(data + 4);
  std::size_t rest = size - 4;
  std::size_t first = split % (rest + 1);

  auto image =
      tree_of(std::string(body, first), "image layer", 0, Whiteouts::apply, SourceKind::oci_layout);
  if (!image) return 0;
  image->image = ImageInfo{};
  image->image->user = "app";
  image->image->entrypoint = {"/usr/bin/tool"};
  image->image->layers.push_back(LayerInfo{});
  image->image->history.push_back(HistoryStep{"RUN apt-get install -y tool", false});
  auto container = tree_of(std::string(body + first, rest - first), "container export", -1,
                           Whiteouts::literal, SourceKind::container_export);
  if (!container) return 0;

  const RulePack& rules = shipped_rules();
  DiffResult diff = diff_manifests(*image, *container);
  ContainerInfo info;
  info.source = "container export";
  info.created_epoch = 1710000000;
  AuditReport report =
      classify_diff(*image, *container, std::move(diff), rules, info, ClassifyOptions{});
  TextOptions text;
  text.touched = TouchedMode::show;
  // Input strings reach a terminal only escaped: without colour, no ESC at all.
  std::string plain = render_text(report, text);
  if (plain.find('\x1b') != std::string::npos || plain.find('\r') != std::string::npos) {
    std::fprintf(stderr, "audit_fuzz: raw control character in the text report\n");
    std::abort();
  }
  text.color = ColorMode::always;
  (void)render_text(report, text);
  JsonOptions json;
  json.touched = TouchedMode::show;
  if (!parse_json_bounded(render_json(report, json), JsonComments::reject)) {
    std::fprintf(stderr, "audit_fuzz: the JSON report does not parse\n");
    std::abort();
  }
  if (!parse_json_bounded(render_sarif(report, &rules, json), JsonComments::reject)) {
    std::fprintf(stderr, "audit_fuzz: the SARIF report does not parse\n");
    std::abort();
  }
  return 0;
}
