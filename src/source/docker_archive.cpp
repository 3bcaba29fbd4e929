#include "cdrift/source/image.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/json.hpp"

namespace cdrift {

namespace {
constexpr std::size_t document_limit = 16u << 20;
}

Result<ImagePlan> read_docker_archive(std::unique_ptr<BlobStore> store, const ImageOptions& options,
                                      ArchiveIndex index) {
  // Docker 25+ writes an OCI layout beside manifest.json; it carries manifest
  // digests, so it is the better source when present, unless the user named the
  // docker-archive form, which is manifest.json.
  if (index == ArchiveIndex::prefer_oci && store->exists("oci-layout") &&
      store->exists("index.json"))
    return read_oci_image(std::move(store), SourceKind::docker_archive, options);

  ImagePlan plan;
  plan.kind = SourceKind::docker_archive;
  plan.store = std::move(store);
  BlobStore& s = *plan.store;
  auto text = s.read_document("manifest.json", document_limit);
  if (!text) return fail(std::move(text).error());
  auto doc = parse_json_document(*text, s.name() + ": manifest.json");
  if (!doc) return fail(std::move(doc).error());
  if (!doc->is_array() || doc->empty() || !(*doc)[0].is_object())
    return fail(ErrorKind::input, s.name() + ": manifest.json is not a non-empty array of images");
  if (doc->size() > 1)
    plan.warnings.push_back(s.name() + ": holds " + std::to_string(doc->size()) +
                            " images; auditing the first");
  const auto& image = (*doc)[0];
  auto config_name = image.find("Config");
  if (config_name == image.end() || !config_name->is_string())
    return fail(ErrorKind::input, s.name() + ": manifest.json has no Config");
  auto config_member = clean_store_name(config_name->get<std::string>(), s.name(), "Config");
  if (!config_member) return fail(std::move(config_member).error());
  auto config_text = s.read_document(*config_member, document_limit);
  if (!config_text) return fail(std::move(config_text).error());
  plan.info.config_digest = "sha256:" + to_hex(sha256_of(*config_text));
  // The config's name is its digest in every docker save format: check it.
  std::string_view stem = *config_member;
  if (stem.starts_with("blobs/sha256/")) stem.remove_prefix(13);
  if (stem.ends_with(".json")) stem.remove_suffix(5);
  Sha256Digest named;
  if (parse_sha256_hex(stem, named) && "sha256:" + to_hex(named) != plan.info.config_digest)
    return fail(ErrorKind::integrity, s.name() + ": config " + *config_member +
                                          " does not match the digest in its name (got " +
                                          plan.info.config_digest + ")");
  auto config = parse_json_document(*config_text, s.name() + ": " + *config_member);
  if (!config) return fail(std::move(config).error());
  if (!config->is_object()) return fail(ErrorKind::input, s.name() + ": config is not an object");

  read_image_config(*config, plan.info);
  ImageInfo& info = plan.info;
  std::vector<std::string> diff_ids;
  if (auto r = config->find("rootfs"); r != config->end() && r->is_object())
    diff_ids = json_string_list(*r, "diff_ids");
  auto tags = json_string_list(image, "RepoTags");
  if (!tags.empty()) info.reference = tags.front();

  auto layers = image.find("Layers");
  if (layers == image.end() || !layers->is_array())
    return fail(ErrorKind::input, s.name() + ": manifest.json has no Layers array");
  if (layers->size() != diff_ids.size())
    return fail(ErrorKind::integrity, s.name() + ": manifest.json lists " +
                                          std::to_string(layers->size()) +
                                          " layers but the config's rootfs.diff_ids has " +
                                          std::to_string(diff_ids.size()));
  for (std::size_t i = 0; i < layers->size(); ++i) {
    if (!(*layers)[i].is_string())
      return fail(ErrorKind::input,
                  s.name() + ": manifest.json Layers[" + std::to_string(i) + "] is not a string");
    auto member =
        clean_store_name((*layers)[i].get<std::string>(), s.name(), "layer " + std::to_string(i));
    if (!member) return fail(std::move(member).error());
    if (!s.exists(*member))
      return fail(ErrorKind::input, s.name() + ": layer " + std::to_string(i) + " member " +
                                        escape_for_terminal(*member) + " is missing");
    LayerPlan lp;
    lp.member = *member;
    lp.diff_id = diff_ids[i];
    // Members named by digest (blobs/sha256/<hex>, <hex>.tar) are checked against it.
    std::string_view name = lp.member;
    if (name.starts_with("blobs/sha256/")) name.remove_prefix(13);
    if (name.ends_with(".tar")) name.remove_suffix(4);
    Sha256Digest d;
    if (parse_sha256_hex(name, d)) lp.digest = "sha256:" + to_hex(d);
    plan.layers.push_back(std::move(lp));
  }
  return plan;
}

} // namespace cdrift
