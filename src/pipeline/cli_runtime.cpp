#include "pipeline/cli_runtime.hpp"

#include "cdrift/classify/timestamps.hpp"
#include "cdrift/source/process.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/hex.hpp"
#include "cdrift/util/json.hpp"

#include <algorithm>
#include <optional>

namespace cdrift {

namespace {

using nlohmann::json;

ProcessOptions process_options(std::string description, const RuntimeOptions& options) {
  ProcessOptions p;
  p.description = std::move(description);
  p.timeout_seconds = options.timeout_seconds > 0 ? options.timeout_seconds : 600;
  return p;
}

// `X inspect` prints a JSON array with one object per name.
Result<json> inspect_object(std::vector<std::string> argv, const std::string& description,
                            const RuntimeOptions& options) {
  auto out = run_process(argv, process_options(description, options));
  if (!out) return fail(std::move(out).error());
  auto doc = parse_json_document(*out, description, JsonComments::reject, ErrorKind::runtime);
  if (!doc) return fail(std::move(doc).error());
  if (doc->is_array() && doc->size() == 1 && (*doc)[0].is_object()) return (*doc)[0];
  if (doc->is_object()) return *doc;
  return fail(ErrorKind::runtime,
              description + ": expected one JSON object, got " +
                  (doc->is_array() ? std::to_string(doc->size()) + " array elements"
                                   : std::string(doc->type_name())));
}

std::string get_string(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return {};
    auto it = cur->find(key);
    if (it == cur->end()) return {};
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

// Docker reports a config digest "sha256:<hex>", podman the bare hex.
std::optional<std::string> normalize_digest(std::string id) {
  if (is_sha256_hex(id)) id = "sha256:" + id;
  if (id.size() == 71 && id.starts_with("sha256:") && is_sha256_hex(std::string_view(id).substr(7)))
    return id;
  return std::nullopt;
}

// Go's zero time ("0001-01-01T00:00:00Z") stands for "never".
bool is_zero_time(const std::string& s) {
  return s.empty() || s.starts_with("0001-01-01");
}

// GraphDriver.Data.LowerDir: the image layers (and docker's -init layer), top
// first, joined with ':'.
std::vector<std::string> split_lower_dirs(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t end = s.find(':', pos);
    if (end == std::string::npos) end = s.size();
    if (end > pos) out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// The three CLIs share their verbs and their inspect JSON; they differ in how
// they save an image.
class CliRuntime final : public Runtime {
public:
  CliRuntime(std::string name, RuntimeOptions options)
      : m_name(std::move(name)), m_options(std::move(options)) {}

  const std::string& name() const override { return m_name; }

  Result<std::vector<std::string>> list_running() const override {
    const std::string description = m_name + " ps";
    auto out =
        run_process({program(), "ps", "-q", "--no-trunc"}, process_options(description, m_options));
    if (!out) return fail(std::move(out).error());
    std::vector<std::string> ids;
    std::size_t pos = 0;
    while (pos < out->size()) {
      std::size_t end = out->find('\n', pos);
      if (end == std::string::npos) end = out->size();
      ids.push_back(out->substr(pos, end - pos));
      pos = end + 1;
    }
    return ids;
  }

  Result<RuntimeContainer> inspect(const std::string& container) const override {
    const std::string description = m_name + " inspect " + container;
    auto obj = inspect_object({program(), "inspect", "--type", "container", "--", container},
                              description, m_options);
    if (!obj) return fail(std::move(obj).error());
    return parse_container_inspect(*obj, m_name, container, description);
  }

  Result<RuntimeStream> open_export(const std::string& container) const override {
    RuntimeStream rs;
    rs.description = m_name + " export " + container;
    // Always a plain tree: the container's own files must not be able to make
    // the export look like an image archive (a /manifest.json at its root).
    rs.form = SourceKind::rootfs_tar;
    return spawn({program(), "export", "--", container}, std::move(rs));
  }

  Result<RuntimeStream> open_image(const std::string& image) const override {
    RuntimeStream rs;
    rs.description = m_name + " save " + image;
    if (m_name == "podman") {
      // docker-archive keeps layers uncompressed (no gzip work) and the config blob
      // as stored, so its digest is the image id the cache is keyed by.
      rs.form = SourceKind::docker_archive;
      return spawn({program(), "save", "--format", "docker-archive", "--", image}, std::move(rs));
    }
    // docker 20.10 writes the legacy layout, 25+ and nerdctl add an OCI layout.
    if (m_name == "docker") rs.form = SourceKind::docker_archive;
    return spawn({program(), "save", "--", image}, std::move(rs));
  }

  Result<std::string> image_config_digest(const std::string& image) const override {
    const std::string description = m_name + " image inspect " + image;
    auto obj = inspect_object({program(), "image", "inspect", "--", image}, description, m_options);
    if (!obj) return fail(std::move(obj).error());
    auto digest = normalize_digest(get_string(*obj, {"Id"}));
    if (!digest)
      return fail(ErrorKind::runtime, description + ": no image id in the inspect output");
    return *digest;
  }

private:
  std::string program() const {
    return m_options.runtime_path.empty() ? m_name : m_options.runtime_path;
  }
  Result<RuntimeStream> spawn(const std::vector<std::string>& argv, RuntimeStream rs) const {
    auto proc = ProcessSource::spawn(argv, process_options(rs.description, m_options));
    if (!proc) return fail(std::move(proc).error());
    rs.stream = std::move(*proc);
    return rs;
  }

  std::string m_name;
  RuntimeOptions m_options;
};

} // namespace

std::unique_ptr<Runtime> make_docker_runtime(const RuntimeOptions& options) {
  return std::make_unique<CliRuntime>("docker", options);
}

std::unique_ptr<Runtime> make_podman_runtime(const RuntimeOptions& options) {
  return std::make_unique<CliRuntime>("podman", options);
}

std::unique_ptr<Runtime> make_nerdctl_runtime(const RuntimeOptions& options) {
  return std::make_unique<CliRuntime>("nerdctl", options);
}

Result<RuntimeContainer> parse_container_inspect(const json& j, const std::string& runtime,
                                                 const std::string& container,
                                                 const std::string& description) {
  RuntimeContainer out;
  ContainerInfo& info = out.info;
  info.source = runtime + ":" + container;
  info.id = get_string(j, {"Id"});
  info.name = get_string(j, {"Name"});
  if (info.name.starts_with("/")) info.name.erase(0, 1); // docker's "/web"
  info.created = get_string(j, {"Created"});
  info.started = get_string(j, {"State", "StartedAt"});
  if (is_zero_time(info.created)) info.created.clear();
  if (is_zero_time(info.started)) info.started.clear();
  info.user = get_string(j, {"Config", "User"});
  if (auto cfg = j.find("Config"); cfg != j.end() && cfg->is_object()) {
    if (auto ep = cfg->find("Entrypoint"); ep != cfg->end()) {
      if (ep->is_array()) {
        info.entrypoint = json_string_list(*cfg, "Entrypoint");
      } else if (ep->is_string()) {
        // podman 4 joins the entrypoint with spaces; split it back (exact unless an
        // element itself held a space).
        std::string s = ep->get<std::string>();
        std::size_t pos = 0;
        while (pos < s.size()) {
          std::size_t end = s.find(' ', pos);
          if (end == std::string::npos) end = s.size();
          if (end > pos) info.entrypoint.push_back(s.substr(pos, end - pos));
          pos = end + 1;
        }
      }
    }
  }
  std::string image_name = get_string(j, {"ImageName"}); // podman
  if (image_name.empty()) image_name = get_string(j, {"Config", "Image"});

  auto digest = normalize_digest(get_string(j, {"Image"}));
  if (!digest)
    return fail(ErrorKind::runtime, description + ": no image id (\"Image\": \"" +
                                        escape_for_terminal(get_string(j, {"Image"})) +
                                        "\") in the inspect output");
  out.config_digest = *digest;
  info.image = image_name.empty() ? *digest : image_name;
  if (info.id.empty())
    return fail(ErrorKind::runtime, description + ": no container id in the inspect output");
  if (!info.created.empty()) {
    if (auto epoch = parse_rfc3339(info.created)) {
      info.created_epoch = *epoch;
      info.created_evidence = runtime + " inspect: Created " + info.created;
    }
  }
  // By id, not by the tag the container was started from: a tag may have moved.
  out.image.form = SourceKind::runtime;
  out.image.runtime = runtime;
  out.image.location = *digest;
  out.image.text = runtime + ":" + *digest;
  out.storage.driver = get_string(j, {"GraphDriver", "Name"});
  out.storage.upper_dir = get_string(j, {"GraphDriver", "Data", "UpperDir"});
  out.storage.lower_dirs = split_lower_dirs(get_string(j, {"GraphDriver", "Data", "LowerDir"}));
  return out;
}

} // namespace cdrift
