#include "pipeline/live_layer.hpp"

#include "cdrift/layer/overlay.hpp"
#include "cdrift/source/upper_dir.hpp"
#include "cdrift/util/escape.hpp"

#include <cstdlib>
#include <string_view>
#include <unistd.h>

namespace cdrift {

namespace {

// The overlay drivers whose upper dir this reader understands, by runtime.
bool overlay_driver(std::string_view runtime, std::string_view driver) {
  if (runtime == "docker") return driver == "overlay2";
  if (runtime == "podman") return driver == "overlay";
  return false;
}

// A daemon reached over the network reports paths on its own machine.
std::optional<std::string> remote_daemon(std::string_view runtime) {
  const char* var = runtime == "docker" ? "DOCKER_HOST" : "CONTAINER_HOST";
  const char* value = std::getenv(var);
  if (!value || !*value || std::string_view(value).starts_with("unix://")) return std::nullopt;
  return "remote daemon (" + std::string(var) + "=" + escape_for_terminal(value) + ")";
}

} // namespace

std::optional<std::string> writable_layer_obstacle(const std::string& runtime,
                                                   const ContainerStorage& storage) {
  if (runtime != "docker" && runtime != "podman")
    return escape_for_terminal(runtime) + " containers' writable layers are not read yet";
  if (storage.driver.empty()) return std::string("the runtime reports no storage driver");
  if (!overlay_driver(runtime, storage.driver))
    return escape_for_terminal(storage.driver) + " driver: not overlay storage";
  if (auto remote = remote_daemon(runtime)) return remote;
  if (::geteuid() != 0) return std::string("not root: upper dirs are readable by root only");
  if (storage.upper_dir.empty() || storage.upper_dir[0] != '/')
    return std::string("the runtime reports no upper dir");
  return std::nullopt;
}

Result<Manifest> read_writable_layer(const Manifest& image, const SourceSpec& container,
                                     const ContainerStorage& storage, Progress* progress) {
  // Rootful overlays (the only ones read here) keep their own attributes under
  // trusted.overlay.*, which a container cannot set through the overlay.
  UpperDirReader reader(storage.upper_dir, OverlayXattrs::trusted);
  if (auto opened = reader.open(); !opened)
    return fail(ErrorKind::runtime, "upper dir unreadable: " + opened.error().message);
  auto upper = read_upper_layer(reader, progress);
  if (!upper) return fail(std::move(upper).error());
  return apply_upper_layer(image, *upper, container.text, SourceKind::writable_layer);
}

} // namespace cdrift
