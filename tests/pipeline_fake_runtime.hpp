// An in-memory container runtime for the pipeline tests: containers, images and
// exports are tars built in memory (test_tar.hpp); it counts what it was asked
// and can make a container vanish between the listing and its inspect or export.
#pragma once

#include "cdrift/pipeline/runtime.hpp"
#include "cdrift/source/byte_source.hpp"
#include "test_tar.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

namespace cdrift::test {

// A `docker save` archive (legacy layout) of the given layers.
struct FakeImage {
  std::string archive;
  std::string config_digest; // "sha256:<hex>"
};

inline FakeImage make_docker_archive(const std::vector<std::string>& layers,
                                     const std::string& tag = "demo:1") {
  nlohmann::json diff_ids = nlohmann::json::array();
  for (const auto& l : layers)
    diff_ids.push_back("sha256:" + sha256_hex(l));
  nlohmann::json config = {{"architecture", "amd64"},
                           {"os", "linux"},
                           {"created", "2024-01-01T00:00:00Z"},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  const std::string config_text = config.dump();
  const std::string config_hex = sha256_hex(config_text);
  nlohmann::json layer_names = nlohmann::json::array();
  std::vector<TarEntry> members;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    std::string id = sha256_hex("layer" + std::to_string(i) + layers[i]);
    members.push_back(tdir(id));
    members.push_back(tfile(id + "/layer.tar", layers[i]));
    layer_names.push_back(id + "/layer.tar");
  }
  members.push_back(tfile(config_hex + ".json", config_text));
  nlohmann::json manifest = nlohmann::json::array(
      {{{"Config", config_hex + ".json"}, {"RepoTags", {tag}}, {"Layers", layer_names}}});
  members.push_back(tfile("manifest.json", manifest.dump()));
  return FakeImage{make_tar(members), "sha256:" + config_hex};
}

struct FakeContainer {
  std::string id;
  std::string name;
  std::string image_digest; // config digest of its image
  std::string export_tar;
  ContainerStorage storage;
};

struct FakeRuntimeState {
  std::mutex mutex;
  std::vector<std::string> listing; // what `ps` prints, garbage included when asked
  std::map<std::string, FakeContainer> containers;
  std::map<std::string, std::string> images; // config digest -> archive
  std::set<std::string> vanish_before_inspect;
  std::set<std::string> vanish_before_export;
  int inspects = 0, exports = 0, saves = 0, digests = 0;
};

// Registered under "docker" by default so that docker:NAME sources reach it.
class FakeRuntime final : public Runtime {
public:
  explicit FakeRuntime(std::shared_ptr<FakeRuntimeState> state, std::string name = "docker")
      : m_state(std::move(state)), m_name(std::move(name)) {}

  const std::string& name() const override { return m_name; }

  Result<std::vector<std::string>> list_running() const override {
    std::lock_guard<std::mutex> lock(m_state->mutex);
    return m_state->listing;
  }

  Result<RuntimeContainer> inspect(const std::string& container) const override {
    std::lock_guard<std::mutex> lock(m_state->mutex);
    ++m_state->inspects;
    const FakeContainer* c = find(container);
    if (!c || m_state->vanish_before_inspect.count(c->id))
      return fail(ErrorKind::runtime,
                  m_name + " inspect " + container + ": Error: No such container: " + container);
    RuntimeContainer out;
    out.info.source = m_name + ":" + container;
    out.info.id = c->id;
    out.info.name = c->name;
    out.info.image = c->image_digest;
    out.info.created = "2024-05-01T10:00:00Z";
    out.info.created_epoch = 1714557600;
    out.info.created_evidence = m_name + " inspect: Created 2024-05-01T10:00:00Z";
    out.config_digest = c->image_digest;
    out.image.form = SourceKind::runtime;
    out.image.runtime = m_name;
    out.image.location = c->image_digest;
    out.image.text = m_name + ":" + c->image_digest;
    out.storage = c->storage;
    return out;
  }

  Result<RuntimeStream> open_export(const std::string& container) const override {
    std::lock_guard<std::mutex> lock(m_state->mutex);
    ++m_state->exports;
    const FakeContainer* c = find(container);
    if (!c || m_state->vanish_before_export.count(c->id))
      return fail(ErrorKind::runtime,
                  m_name + " export " + container + ": Error: No such container: " + container);
    RuntimeStream rs;
    rs.description = m_name + " export " + container;
    rs.form = SourceKind::rootfs_tar;
    rs.stream = std::make_unique<MemorySource>(c->export_tar, rs.description);
    return rs;
  }

  Result<RuntimeStream> open_image(const std::string& image) const override {
    std::lock_guard<std::mutex> lock(m_state->mutex);
    ++m_state->saves;
    auto it = m_state->images.find(image);
    if (it == m_state->images.end())
      return fail(ErrorKind::runtime, m_name + " save " + image + ": no such image");
    RuntimeStream rs;
    rs.description = m_name + " save " + image;
    rs.form = SourceKind::docker_archive;
    rs.stream = std::make_unique<MemorySource>(it->second, rs.description);
    return rs;
  }

  Result<std::string> image_config_digest(const std::string& image) const override {
    std::lock_guard<std::mutex> lock(m_state->mutex);
    ++m_state->digests;
    if (m_state->images.count(image)) return image;
    return fail(ErrorKind::runtime, m_name + " image inspect " + image + ": no such image");
  }

private:
  const FakeContainer* find(const std::string& key) const {
    for (const auto& [id, c] : m_state->containers)
      if (id == key || c.name == key) return &c;
    return nullptr;
  }
  std::shared_ptr<FakeRuntimeState> m_state;
  std::string m_name;
};

} // namespace cdrift::test
