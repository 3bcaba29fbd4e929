// docker, podman and nerdctl through their own CLIs: `ps`, `inspect`, `export`,
// `save`, `image inspect`, spawned with an argv and a stall timeout.
#pragma once

#include "cdrift/pipeline/runtime.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace cdrift {

std::unique_ptr<Runtime> make_docker_runtime(const RuntimeOptions& options);
std::unique_ptr<Runtime> make_podman_runtime(const RuntimeOptions& options);
std::unique_ptr<Runtime> make_nerdctl_runtime(const RuntimeOptions& options);

// The container object of `X inspect` (docker's shape, which podman and nerdctl
// share) to what an audit needs; `runtime` names the image source ("docker:").
Result<RuntimeContainer> parse_container_inspect(const nlohmann::json& j,
                                                 const std::string& runtime,
                                                 const std::string& container,
                                                 const std::string& description);

std::unique_ptr<Runtime> make_containerd_runtime(const RuntimeOptions& options);

} // namespace cdrift
