// `--inspect FILE`: the saved output of `docker inspect NAME` or `podman inspect
// NAME`, so that an offline audit (an export and a saved image in CI) knows the same
// Created, StartedAt, Image and Config.User that a `docker:` audit asks the runtime for.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/util/error.hpp"

#include <optional>
#include <string>

namespace cdrift {

// Largest inspect document read; real ones are a few KB, a few hundred with many mounts.
constexpr std::size_t max_inspect_file_bytes = 8u << 20;

// Reads a container inspect document: a JSON array of exactly one container object
// (what both CLIs print) or that object alone. Fills id, name (without docker's
// leading '/'), image (podman's ImageName or Config.Image, else the image id),
// image_id ("sha256:..."), created, started, user, entrypoint, and created_epoch
// with created_evidence ("docker inspect file FILE: Created ..."). A file that cannot
// be read, is not JSON, or is not a container's inspect output (an image's inspect,
// an empty array, several containers) is ErrorKind::usage naming FILE: it is a bad
// option value, not bad audit input.
Result<ContainerInfo> read_inspect_file(const std::string& path);

// When the inspect names an image id and the loaded image's config digest differs:
// the warning for the report ("--inspect FILE: the container runs image sha256:...,
// not the image given (sha256:...); its times and user may not apply"). nullopt when
// they agree or either is unknown.
std::optional<std::string> inspect_image_mismatch(const ContainerInfo& inspected,
                                                  const std::string& inspect_path,
                                                  const std::string& image_config_digest);

} // namespace cdrift
