// Container runtimes (docker, podman, nerdctl) driven through their own CLIs,
// spawned with an argv (never a shell), their stdout streamed into the readers.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/layer/load.hpp"

#include <string>
#include <vector>

namespace cdrift {

struct RuntimeOptions {
  std::string runtime_path;  // --runtime-path: the CLI binary to run; empty: by name in PATH
  int timeout_seconds = 600; // per runtime command; a hung daemon gives an error, not a hang
};

// The LoadOptions::runtime hook: `docker:NAME` as a container → `docker export NAME`;
// `docker:REF` as an image → `docker save REF` (docker-archive).
RuntimeResolver make_runtime_resolver(const RuntimeOptions& options);

struct RuntimeContainer {
  ContainerInfo info;        // id, name, image, created, started, user, entrypoint, created_epoch
  SourceSpec image;          // the container's image by id ("docker:sha256:...")
  std::string config_digest; // "sha256:..." of the image config, for the manifest cache
};

// `docker inspect NAME` (or podman/nerdctl): validates the name first (no leading
// dash, no control characters), then resolves container metadata and its image.
Result<RuntimeContainer> inspect_container(const SourceSpec& container,
                                           const RuntimeOptions& options);

// The config digest of an image reference (`docker image inspect`), for the cache.
Result<std::string> inspect_image_digest(const SourceSpec& image, const RuntimeOptions& options);

// Names (or ids) of every running container of a runtime ("docker", "podman", "nerdctl").
Result<std::vector<std::string>> list_running_containers(const std::string& runtime,
                                                         const RuntimeOptions& options);

} // namespace cdrift
