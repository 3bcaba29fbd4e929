#include "pipeline/inspect_file.hpp"

#include "cdrift/classify/timestamps.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/fd.hpp"
#include "cdrift/util/hex.hpp"
#include "cdrift/util/json.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace cdrift {

namespace {

using nlohmann::json;

Result<std::string> read_small_file(const std::string& path, const std::string& what) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f) return fail(ErrorKind::usage, what + ": cannot open: " + std::strerror(errno));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::usage, what + ": cannot read: " + std::strerror(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_inspect_file_bytes)
      return fail(ErrorKind::usage, what + ": larger than " +
                                        std::to_string(max_inspect_file_bytes >> 20) +
                                        " MiB, not an inspect document");
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

const json* member(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string text(const json& j, std::initializer_list<const char*> path) {
  const json* v = member(j, path);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// Docker writes "sha256:<hex>", podman the bare hex.
std::string normalize_digest(const std::string& id) {
  if (is_sha256_hex(id)) return "sha256:" + id;
  if (id.size() == 71 && id.starts_with("sha256:") && is_sha256_hex(std::string_view(id).substr(7)))
    return id;
  return {};
}

bool zero_time(const std::string& s) {
  return s.empty() || s.starts_with("0001-01-01");
}

} // namespace

Result<ContainerInfo> read_inspect_file(const std::string& path) {
  const std::string what = "--inspect " + escape_for_terminal(path);
  auto content = read_small_file(path, what);
  if (!content) return fail(std::move(content).error());
  auto doc = parse_json_document(*content, what, JsonComments::reject, ErrorKind::usage);
  if (!doc) return fail(std::move(doc).error());
  const json* obj = &*doc;
  if (obj->is_array()) {
    if (obj->size() != 1)
      return fail(ErrorKind::usage,
                  what + ": expected the inspect output of one container, found an array of " +
                      std::to_string(obj->size()));
    obj = &(*obj)[0];
  }
  if (!obj->is_object())
    return fail(ErrorKind::usage, what + ": not a docker or podman inspect document");
  const json& j = *obj;
  // A container's inspect has its image and a state; an image's has neither
  // (it has RootFS and RepoTags instead).
  const json* state = member(j, {"State"});
  const std::string image_field = text(j, {"Image"});
  if (text(j, {"Id"}).empty() || image_field.empty() || !state || !state->is_object())
    return fail(ErrorKind::usage,
                what + ": not the inspect output of a container (needs Id, Image and State; "
                       "an image's inspect has none of Image and State)");

  const bool podman = member(j, {"ImageName"}) || member(j, {"OCIRuntime"});
  const std::string runtime = podman ? "podman" : "docker";
  ContainerInfo info;
  info.id = text(j, {"Id"});
  info.name = text(j, {"Name"});
  if (info.name.starts_with("/")) info.name.erase(0, 1);
  info.image_id = normalize_digest(image_field);
  std::string image_name = text(j, {"ImageName"});
  if (image_name.empty()) image_name = text(j, {"Config", "Image"});
  info.image = !image_name.empty()     ? image_name
               : info.image_id.empty() ? image_field
                                       : info.image_id;
  info.created = text(j, {"Created"});
  info.started = text(j, {"State", "StartedAt"});
  if (zero_time(info.created)) info.created.clear();
  if (zero_time(info.started)) info.started.clear();
  info.user = text(j, {"Config", "User"});
  if (const json* ep = member(j, {"Config", "Entrypoint"})) {
    if (ep->is_array()) {
      for (const auto& a : *ep)
        if (a.is_string()) info.entrypoint.push_back(a.get<std::string>());
    } else if (ep->is_string()) {
      // podman 4 joins the entrypoint with spaces.
      std::string s = ep->get<std::string>();
      for (std::size_t pos = 0; pos < s.size();) {
        std::size_t end = s.find(' ', pos);
        if (end == std::string::npos) end = s.size();
        if (end > pos) info.entrypoint.push_back(s.substr(pos, end - pos));
        pos = end + 1;
      }
    }
  }
  if (!info.created.empty()) {
    auto epoch = parse_rfc3339(info.created);
    if (!epoch)
      return fail(ErrorKind::usage, what + ": Created \"" + escape_for_terminal(info.created) +
                                        "\" is not an RFC 3339 time");
    info.created_epoch = *epoch;
    info.created_evidence =
        runtime + " inspect file " + escape_for_terminal(path) + ": Created " + info.created;
  }
  return info;
}

std::optional<std::string> inspect_image_mismatch(const ContainerInfo& inspected,
                                                  const std::string& inspect_path,
                                                  const std::string& image_config_digest) {
  if (inspected.image_id.empty() || image_config_digest.empty()) return std::nullopt;
  const std::string given = normalize_digest(image_config_digest);
  if (given.empty() || given == inspected.image_id) return std::nullopt;
  return "--inspect " + escape_for_terminal(inspect_path) + ": the container runs image " +
         inspected.image_id + ", not the image given (" + given +
         "); its creation time and user may not apply to this audit";
}

} // namespace cdrift
