#include "pipeline/live_layer.hpp"

#include "cdrift/layer/overlay.hpp"
#include "cdrift/source/upper_dir.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/fd.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fcntl.h>
#include <string_view>
#include <unistd.h>

namespace cdrift {

namespace {

// The overlay drivers whose upper dir this reader understands, by runtime.
bool overlay_driver(std::string_view runtime, std::string_view driver) {
  if (runtime == "docker") return driver == "overlay2";
  if (runtime == "podman") return driver == "overlay";
  if (runtime == "containerd") return driver == "overlayfs"; // the snapshotter's name
  return false;
}

// A daemon reached over the network reports paths on its own machine.
std::optional<std::string> remote_daemon(std::string_view runtime) {
  // containerd is reached through a socket of this machine only (ctr --address).
  if (runtime == "containerd") return std::nullopt;
  const char* var = runtime == "docker" ? "DOCKER_HOST" : "CONTAINER_HOST";
  const char* value = std::getenv(var);
  if (!value || !*value || std::string_view(value).starts_with("unix://")) return std::nullopt;
  return "remote daemon (" + std::string(var) + "=" + escape_for_terminal(value) + ")";
}

// This process's /proc/self/status (a few KB); empty when it cannot be read.
std::string read_self_status() {
  Fd fd(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || out.size() > (1u << 20)) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

} // namespace

std::optional<std::uint64_t> effective_capabilities(std::string_view proc_status) {
  constexpr std::string_view key = "CapEff:";
  std::size_t at = 0;
  while (at < proc_status.size()) {
    std::size_t end = proc_status.find('\n', at);
    if (end == std::string_view::npos) end = proc_status.size();
    std::string_view line = proc_status.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(key)) continue;
    line.remove_prefix(key.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
      line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.remove_suffix(1);
    if (line.empty() || line.size() > 16) return std::nullopt;
    std::uint64_t mask = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), mask, 16);
    if (ec != std::errc() || ptr != line.data() + line.size()) return std::nullopt;
    return mask;
  }
  return std::nullopt;
}

bool has_cap_sys_admin(std::uint64_t cap_eff) {
  constexpr unsigned cap_sys_admin = 21;
  return (cap_eff >> cap_sys_admin) & 1u;
}

std::optional<std::string> writable_layer_obstacle(const std::string& runtime,
                                                   const ContainerStorage& storage) {
  if (runtime != "docker" && runtime != "podman" && runtime != "containerd")
    return escape_for_terminal(runtime) + " containers' writable layers are not read";
  if (storage.driver.empty()) return std::string("the runtime reports no storage driver");
  if (!overlay_driver(runtime, storage.driver))
    return escape_for_terminal(storage.driver) + (runtime == "containerd"
                                                      ? " snapshotter: not overlayfs"
                                                      : " driver: not overlay storage");
  if (auto remote = remote_daemon(runtime)) return remote;
  if (::geteuid() != 0) return std::string("not root: upper dirs are readable by root only");
  // A status that cannot be read or parsed is treated as no capability: reading an
  // opaque dir as merged would hide what the container deleted.
  auto caps = effective_capabilities(read_self_status());
  if (!caps || !has_cap_sys_admin(*caps))
    return std::string("no CAP_SYS_ADMIN: trusted.overlay.* attributes are invisible");
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
