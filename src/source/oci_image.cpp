#include "cdrift/source/image.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/json.hpp"

#include <algorithm>
#include <set>
#include <sys/utsname.h>

namespace cdrift {

namespace {

using nlohmann::json;

constexpr std::size_t index_limit = 4u << 20;
constexpr std::size_t document_limit = 16u << 20;
constexpr int max_index_depth = 4;

const std::set<std::string, std::less<>> manifest_types = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json"};
const std::set<std::string, std::less<>> index_types = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json"};

struct Descriptor {
  std::string media_type;
  std::string digest;
  std::uint64_t size = 0;
  std::string platform; // "os/arch[/variant]" or ""
  std::string ref_name;
  bool attestation = false;
};

Result<Descriptor> parse_descriptor(const json& j, const std::string& where) {
  if (!j.is_object()) return fail(ErrorKind::input, where + ": descriptor is not an object");
  Descriptor d;
  d.media_type = json_string(j, "mediaType");
  d.digest = json_string(j, "digest");
  auto size = j.find("size");
  if (d.digest.empty()) return fail(ErrorKind::input, where + ": descriptor has no digest");
  if (size == j.end() || !size->is_number_unsigned())
    return fail(ErrorKind::input,
                where + ": descriptor " + escape_for_terminal(d.digest) + " has no valid size");
  d.size = size->get<std::uint64_t>();
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    d.platform = json_string(*p, "os") + "/" + json_string(*p, "architecture");
    std::string variant = json_string(*p, "variant");
    if (!variant.empty()) d.platform += "/" + variant;
  }
  if (auto a = j.find("annotations"); a != j.end() && a->is_object()) {
    d.ref_name = json_string(*a, "org.opencontainers.image.ref.name");
    if (json_string(*a, "vnd.docker.reference.type") == "attestation-manifest")
      d.attestation = true;
  }
  if (d.platform == "unknown/unknown") d.attestation = true;
  return d;
}

// Reads a small document and checks it against its descriptor before parsing it.
Result<json> read_verified(BlobStore& store, const Descriptor& d, const std::string& what) {
  auto path = blob_path(d.digest, store.name());
  if (!path) return fail(std::move(path).error());
  if (d.size > document_limit)
    return fail(ErrorKind::input, store.name() + ": " + what + " " + d.digest + " claims " +
                                      std::to_string(d.size) + " bytes, over the document limit");
  auto text = store.read_document(*path, document_limit);
  if (!text) return fail(std::move(text).error());
  if (text->size() != d.size)
    return fail(ErrorKind::integrity, store.name() + ": " + what + " " + d.digest + " has " +
                                          std::to_string(text->size()) +
                                          " bytes, descriptor says " + std::to_string(d.size));
  std::string actual = "sha256:" + to_hex(sha256_of(*text));
  if (actual != d.digest)
    return fail(ErrorKind::integrity, store.name() + ": " + what + " digest mismatch: expected " +
                                          d.digest + ", got " + actual);
  return parse_json_document(*text, store.name() + ": " + what + " " + d.digest);
}

bool platform_matches(const std::string& have, const std::string& want) {
  if (have == want) return true;
  // "linux/arm64" matches "linux/arm64/v8"; a wanted variant must match exactly.
  return have.starts_with(want + "/") && std::count(want.begin(), want.end(), '/') == 1;
}

Result<Descriptor> select_manifest(BlobStore& store, const json& index, const std::string& where,
                                   const ImageOptions& options, int depth) {
  auto manifests = index.find("manifests");
  if (manifests == index.end() || !manifests->is_array())
    return fail(ErrorKind::input, where + ": no \"manifests\" array");
  std::vector<Descriptor> candidates;
  for (std::size_t i = 0; i < manifests->size(); ++i) {
    auto d = parse_descriptor((*manifests)[i], where + ": manifests[" + std::to_string(i) + "]");
    if (!d) return fail(std::move(d).error());
    if (d->attestation) continue;
    candidates.push_back(std::move(*d));
  }
  if (candidates.empty()) return fail(ErrorKind::input, where + ": lists no image manifests");
  auto ref_list = [](const std::vector<Descriptor>& ds) {
    std::set<std::string> refs;
    for (const auto& d : ds)
      refs.insert(escape_for_terminal(d.ref_name.empty() ? d.digest : d.ref_name));
    std::string list;
    for (const auto& r : refs)
      list += (list.empty() ? "" : ", ") + r;
    return list;
  };
  if (depth == 0 && !options.ref.empty()) {
    std::vector<Descriptor> named;
    for (const auto& d : candidates)
      if (d.ref_name == options.ref || d.digest == options.ref) named.push_back(d);
    if (named.empty())
      return fail(ErrorKind::usage, where + ": no image named " + escape_for_terminal(options.ref) +
                                        "; available: " + ref_list(candidates));
    candidates = std::move(named);
  }

  std::string want = options.platform.empty() ? host_platform() : options.platform;
  std::vector<Descriptor> chosen;
  bool any_platform = std::any_of(candidates.begin(), candidates.end(),
                                  [](const Descriptor& d) { return !d.platform.empty(); });
  if (candidates.size() == 1 && options.platform.empty()) {
    chosen = candidates;
  } else if (any_platform) {
    for (const auto& d : candidates)
      if (platform_matches(d.platform, want)) chosen.push_back(d);
  } else {
    chosen = candidates;
  }
  if (chosen.empty()) {
    std::set<std::string> platforms;
    for (const auto& d : candidates)
      platforms.insert(d.platform.empty() ? "(none)" : d.platform);
    std::string list;
    for (const auto& p : platforms)
      list += (list.empty() ? "" : ", ") + p;
    return fail(ErrorKind::usage, where + ": no manifest for platform " + want +
                                      "; available: " + list + " (choose one with --platform)");
  }
  if (chosen.size() > 1)
    return fail(ErrorKind::usage, where + ": holds several images (" + ref_list(chosen) +
                                      "); pick one with oci:DIR:REF");
  Descriptor d = chosen.front();
  if (index_types.count(d.media_type)) {
    if (depth >= max_index_depth)
      return fail(ErrorKind::input,
                  where + ": image indexes nested deeper than " + std::to_string(max_index_depth));
    auto nested = read_verified(store, d, "image index");
    if (!nested) return fail(std::move(nested).error());
    return select_manifest(store, *nested, store.name() + ": index " + d.digest, options,
                           depth + 1);
  }
  if (!d.media_type.empty() && !manifest_types.count(d.media_type))
    return fail(ErrorKind::input,
                where + ": unsupported manifest media type " + escape_for_terminal(d.media_type));
  return d;
}

} // namespace

std::string host_platform() {
  struct utsname u;
  std::string arch = "amd64";
  if (uname(&u) == 0) {
    std::string m = u.machine;
    if (m == "x86_64")
      arch = "amd64";
    else if (m == "aarch64" || m == "arm64")
      arch = "arm64";
    else if (m.starts_with("armv7"))
      arch = "arm/v7";
    else if (m.starts_with("armv6"))
      arch = "arm/v6";
    else if (m == "i686" || m == "i386")
      arch = "386";
    else
      arch = m; // ppc64le, s390x, riscv64 share their names
  }
  return "linux/" + arch;
}

void read_image_config(const nlohmann::json& config, ImageInfo& info) {
  info.platform = json_string(config, "os") + "/" + json_string(config, "architecture");
  std::string variant = json_string(config, "variant");
  if (!variant.empty()) info.platform += "/" + variant;
  info.created = json_string(config, "created");
  if (auto c = config.find("config"); c != config.end() && c->is_object()) {
    info.user = json_string(*c, "User");
    info.working_dir = json_string(*c, "WorkingDir");
    info.entrypoint = json_string_list(*c, "Entrypoint");
    info.cmd = json_string_list(*c, "Cmd");
    info.env = json_string_list(*c, "Env");
    if (auto v = c->find("Volumes"); v != c->end() && v->is_object())
      for (auto it = v->begin(); it != v->end(); ++it)
        info.volumes.push_back(it.key());
  }
  if (auto h = config.find("history"); h != config.end() && h->is_array())
    for (const auto& step : *h) {
      if (!step.is_object()) continue;
      HistoryStep s;
      s.created_by = json_string(step, "created_by");
      auto e = step.find("empty_layer");
      s.empty_layer = e != step.end() && e->is_boolean() && e->get<bool>();
      info.history.push_back(std::move(s));
    }
}

Result<std::string> blob_path(const std::string& digest, const std::string& store) {
  Sha256Digest d;
  if (!digest.starts_with("sha256:") || !parse_sha256_hex(std::string_view(digest).substr(7), d))
    return fail(ErrorKind::input, store + ": unsupported or malformed digest \"" +
                                      escape_for_terminal(digest) +
                                      "\" (only sha256 is supported)");
  return "blobs/sha256/" + to_hex(d);
}

// Fills the plan from a manifest and its config; shared by OCI layouts and the OCI
// layout inside Docker 25+ archives.
static Status plan_from_manifest(ImagePlan& plan, const Descriptor& md) {
  BlobStore& store = *plan.store;
  auto manifest = read_verified(store, md, "manifest");
  if (!manifest) return fail(std::move(manifest).error());
  plan.info.manifest_digest = md.digest;
  if (!md.ref_name.empty()) plan.info.reference = md.ref_name;
  auto cfg = manifest->find("config");
  if (cfg == manifest->end())
    return fail(ErrorKind::input, store.name() + ": manifest " + md.digest + " has no config");
  auto cd = parse_descriptor(*cfg, store.name() + ": manifest config");
  if (!cd) return fail(std::move(cd).error());
  auto config = read_verified(store, *cd, "config");
  if (!config) return fail(std::move(config).error());
  plan.info.config_digest = cd->digest;
  read_image_config(*config, plan.info);
  std::vector<std::string> diff_ids;
  if (auto r = config->find("rootfs"); r != config->end() && r->is_object())
    diff_ids = json_string_list(*r, "diff_ids");
  auto layers = manifest->find("layers");
  if (layers == manifest->end() || !layers->is_array())
    return fail(ErrorKind::input,
                store.name() + ": manifest " + md.digest + " has no layers array");
  if (layers->size() != diff_ids.size())
    return fail(ErrorKind::integrity, store.name() + ": manifest lists " +
                                          std::to_string(layers->size()) +
                                          " layers but the config's rootfs.diff_ids has " +
                                          std::to_string(diff_ids.size()));
  for (std::size_t i = 0; i < layers->size(); ++i) {
    auto ld = parse_descriptor((*layers)[i], store.name() + ": layers[" + std::to_string(i) + "]");
    if (!ld) return fail(std::move(ld).error());
    auto path = blob_path(ld->digest, store.name());
    if (!path) return fail(std::move(path).error());
    if (!store.exists(*path))
      return fail(ErrorKind::input, store.name() + ": layer " + std::to_string(i) + " blob " +
                                        ld->digest + " is missing");
    if (ld->media_type.find("tar") == std::string::npos && !ld->media_type.empty())
      return fail(ErrorKind::input, store.name() + ": layer " + std::to_string(i) +
                                        " has unsupported media type " +
                                        escape_for_terminal(ld->media_type));
    LayerPlan lp;
    lp.member = *path;
    lp.digest = ld->digest;
    lp.size = ld->size;
    lp.diff_id = diff_ids[i];
    lp.media_type = ld->media_type;
    plan.layers.push_back(std::move(lp));
  }
  return {};
}

Result<ImagePlan> read_oci_image(std::unique_ptr<BlobStore> store, SourceKind kind,
                                 const ImageOptions& options) {
  ImagePlan plan;
  plan.kind = kind;
  plan.store = std::move(store);
  BlobStore& s = *plan.store;
  if (!s.exists("oci-layout"))
    return fail(ErrorKind::input, s.name() + ": not an OCI image layout (no oci-layout file)");
  auto layout_text = s.read_document("oci-layout", 4096);
  if (!layout_text) return fail(std::move(layout_text).error());
  auto layout = parse_json_document(*layout_text, s.name() + ": oci-layout");
  if (!layout) return fail(std::move(layout).error());
  if (!layout->is_object() || json_string(*layout, "imageLayoutVersion").empty())
    return fail(ErrorKind::input, s.name() + ": oci-layout has no imageLayoutVersion");
  auto index_text = s.read_document("index.json", index_limit);
  if (!index_text) return fail(std::move(index_text).error());
  auto index = parse_json_document(*index_text, s.name() + ": index.json");
  if (!index) return fail(std::move(index).error());
  if (!index->is_object())
    return fail(ErrorKind::input, s.name() + ": index.json is not an object");
  auto md = select_manifest(s, *index, s.name() + ": index.json", options, 0);
  if (!md) return fail(std::move(md).error());
  CDRIFT_TRY(plan_from_manifest(plan, *md));
  return plan;
}

} // namespace cdrift
