#include "cdrift/pipeline/runtime.hpp"

#include "cdrift/util/escape.hpp"
#include "cdrift/util/hex.hpp"
#include "pipeline/cli_runtime.hpp"

#include <algorithm>
#include <array>

namespace cdrift {

namespace {

constexpr std::size_t max_name_length = 256;

// The registry: a new runtime is one more line here.
const std::array<RuntimeRegistration, 4> registry{{
    {"docker", &make_docker_runtime},
    {"podman", &make_podman_runtime},
    {"nerdctl", &make_nerdctl_runtime},
    {"containerd", &make_containerd_runtime},
}};

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string known_names(const std::vector<std::shared_ptr<const Runtime>>& runtimes) {
  std::string out;
  for (std::size_t i = 0; i < runtimes.size(); ++i) {
    if (i) out += i + 1 == runtimes.size() ? " or " : ", ";
    out += runtimes[i]->name();
  }
  return out.empty() ? "none" : out;
}

} // namespace

std::span<const RuntimeRegistration> registered_runtimes() {
  return registry;
}

std::vector<std::string> registered_runtime_names() {
  std::vector<std::string> names;
  for (const auto& r : registry)
    names.emplace_back(r.name);
  return names;
}

// Nothing that a CLI could read as an option (leading '-'), nothing that forges
// lines or escapes in messages. The name still travels as one argv element after
// "--": no shell ever sees it.
Status validate_runtime_name(std::string_view name, const std::string& what, ErrorKind kind) {
  if (name.empty()) return fail(kind, what + ": empty name");
  if (name.size() > max_name_length)
    return fail(kind,
                what + ": name longer than " + std::to_string(max_name_length) + " characters");
  if (name.starts_with("sha256:") && is_hex(name.substr(7), HexCase::lower) &&
      name.size() <= 7 + 64)
    return {};
  bool ok = is_alnum(name[0]);
  for (char c : name)
    if (!(is_alnum(c) || c == '_' || c == '.' || c == ':' || c == '/' || c == '@' || c == '-'))
      ok = false;
  if (!ok)
    return fail(
        kind,
        what + ": \"" + escape_for_terminal(name) +
            "\" is not a valid container or image name (allowed: letters, digits and _ . : / @ -, "
            "starting with a letter or digit)");
  return {};
}

Runtimes Runtimes::registered(const RuntimeOptions& options) {
  Runtimes r;
  for (const auto& reg : registry)
    r.add(reg.make(options));
  return r;
}

void Runtimes::add(std::unique_ptr<Runtime> runtime) {
  std::shared_ptr<const Runtime> shared(std::move(runtime));
  for (auto& r : m_runtimes)
    if (r->name() == shared->name()) {
      r = std::move(shared);
      return;
    }
  m_runtimes.push_back(std::move(shared));
}

Result<const Runtime*> Runtimes::get(std::string_view name) const {
  for (const auto& r : m_runtimes)
    if (r->name() == name) return r.get();
  return fail(ErrorKind::usage, "unknown container runtime \"" + escape_for_terminal(name) +
                                    "\" (expected " + known_names(m_runtimes) + ")");
}

Result<std::vector<std::string>> Runtimes::list_running(std::string_view runtime) const {
  auto rt = get(runtime);
  if (!rt) return fail(std::move(rt).error());
  const std::string description = std::string(runtime) + " ps";
  auto listed = (*rt)->list_running();
  if (!listed) return fail(std::move(listed).error());
  std::vector<std::string> ids;
  for (auto& line : *listed) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    if (line.empty()) continue;
    // Printed by the runtime, so a bad one is the runtime misbehaving (exit 3).
    CDRIFT_TRY(validate_runtime_name(line, description, ErrorKind::runtime));
    ids.push_back(std::move(line));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Result<RuntimeContainer> Runtimes::inspect(const SourceSpec& container) const {
  auto rt = get(container.runtime);
  if (!rt) return fail(std::move(rt).error());
  CDRIFT_TRY(validate_runtime_name(container.location, escape_for_terminal(container.text),
                                   ErrorKind::usage));
  auto out = (*rt)->inspect(container.location);
  if (out && !container.text.empty()) out->info.source = container.text;
  return out;
}

Result<std::string> Runtimes::image_config_digest(const SourceSpec& image) const {
  auto rt = get(image.runtime);
  if (!rt) return fail(std::move(rt).error());
  CDRIFT_TRY(
      validate_runtime_name(image.location, escape_for_terminal(image.text), ErrorKind::usage));
  return (*rt)->image_config_digest(image.location);
}

RuntimeResolver Runtimes::resolver() const {
  // A copy (shared runtimes): the resolver may outlive this object.
  return [self = *this](const SourceSpec& spec, Side side) -> Result<RuntimeStream> {
    auto rt = self.get(spec.runtime);
    if (!rt) return fail(std::move(rt).error());
    CDRIFT_TRY(
        validate_runtime_name(spec.location, escape_for_terminal(spec.text), ErrorKind::usage));
    return side == Side::container ? (*rt)->open_export(spec.location)
                                   : (*rt)->open_image(spec.location);
  };
}

} // namespace cdrift
