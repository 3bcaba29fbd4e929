#include "cdrift/source/content_store.hpp"

#include "cdrift/util/escape.hpp"

#include <nlohmann/json.hpp>
#include <set>

namespace cdrift {

namespace {

// What containerd accepts as an image record's target and the OCI reader can read.
const std::set<std::string, std::less<>> target_types = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json"};

// Documents above this are refused by the OCI reader too; checked here first so an
// oversized "manifest" is not read twice.
constexpr std::size_t target_limit = 16u << 20;

class ContentStore : public BlobStore {
public:
  ContentStore(std::unique_ptr<BlobStore> blobs, std::string name, std::string index)
      : m_blobs(std::move(blobs)), m_name(std::move(name)), m_index(std::move(index)) {}

  bool exists(const std::string& rel) const override {
    if (rel == "oci-layout" || rel == "index.json") return true;
    return m_blobs->exists(rel);
  }

  Result<std::unique_ptr<ByteSource>> open(const std::string& rel) override {
    if (rel == "oci-layout")
      return std::unique_ptr<ByteSource>(std::make_unique<MemorySource>(
          R"({"imageLayoutVersion":"1.0.0"})", m_name + ": oci-layout"));
    if (rel == "index.json")
      return std::unique_ptr<ByteSource>(
          std::make_unique<MemorySource>(m_index, m_name + ": image record"));
    // Only blobs: nothing else in the directory (ingest/, temporary files) is content.
    if (!rel.starts_with("blobs/sha256/"))
      return fail(ErrorKind::input, m_name + ": no such blob " + escape_for_terminal(rel));
    return m_blobs->open(rel);
  }

  const std::string& name() const override { return m_name; }

private:
  std::unique_ptr<BlobStore> m_blobs;
  std::string m_name;
  std::string m_index;
};

} // namespace

std::string content_store_dir(const std::string& containerd_root) {
  std::string root = containerd_root;
  while (root.size() > 1 && root.back() == '/')
    root.pop_back();
  return root + "/io.containerd.content.v1.content";
}

Result<std::unique_ptr<BlobStore>> open_content_store(const std::string& content_dir,
                                                      const ContentTarget& target) {
  std::string name = "containerd content store " + escape_for_terminal(content_dir);
  std::string what = name + ": image " + escape_for_terminal(target.name);
  if (!target_types.count(target.media_type))
    return fail(ErrorKind::input, what + ": unsupported target media type \"" +
                                      escape_for_terminal(target.media_type) + "\"");
  auto path = blob_path(target.digest, what);
  if (!path) return fail(std::move(path).error());
  auto dir = open_dir_store(content_dir);
  if (!dir) return fail(ErrorKind::input, name + ": " + dir.error().message);
  if (!(*dir)->exists(*path))
    return fail(ErrorKind::input,
                what + ": target " + target.digest + " is not in the content store");
  // The size only frames the document for the reader; the digest check that
  // follows (read_verified) is what makes the bytes the record's.
  auto doc = (*dir)->read_document(*path, target_limit);
  if (!doc) return fail(std::move(doc).error());
  nlohmann::json descriptor = {
      {"mediaType", target.media_type}, {"digest", target.digest}, {"size", doc->size()}};
  if (!target.name.empty())
    descriptor["annotations"] = {{"org.opencontainers.image.ref.name", target.name}};
  nlohmann::json index = {{"schemaVersion", 2}, {"manifests", {descriptor}}};
  return std::unique_ptr<BlobStore>(std::make_unique<ContentStore>(
      std::move(*dir), std::move(name),
      index.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

Result<ImagePlan> read_content_store_image(const std::string& content_dir,
                                           const ContentTarget& target,
                                           const ImageOptions& options) {
  auto store = open_content_store(content_dir, target);
  if (!store) return fail(std::move(store).error());
  return read_oci_image(std::move(*store), SourceKind::oci_layout, options);
}

} // namespace cdrift
