// From drift to immutability: which directories a container needs writable so that
// the next one can run with a read-only root filesystem (Kubernetes
// readOnlyRootFilesystem, docker/podman --read-only). Judgment over the findings,
// so it lives with the classification (see docs/readonly.md).
#pragma once

#include "cdrift/manifest/manifest.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

struct AuditReport;

// Memory for tmp-like directories (emptyDir medium: Memory, docker --tmpfs);
// disk for data (emptyDir on the node's disk, a docker named volume).
enum class VolumeMedium : std::uint8_t { disk, memory };

struct WritablePath {
  std::string path;   // a directory, raw bytes (always valid UTF-8 without controls, see notes)
  std::string volume; // DNS-1123 label, valid as a Kubernetes and a docker volume name
  VolumeMedium medium = VolumeMedium::disk;
};

// The snippet's start, and all of it when nothing needs a mount.
inline constexpr std::string_view read_only_yaml_head =
    "# Merge securityContext and volumeMounts into the container, volumes into the pod spec.\n"
    "securityContext:\n"
    "  readOnlyRootFilesystem: true\n";

// Defaults to the plan of a container that wrote nothing, so that a report built
// without classify_diff (tests, tools) still carries a valid one.
struct ReadOnlyPlan {
  // True only when the container wrote nothing at all: the switch can be flipped
  // with no mount. Any write (the application's, drift, or of unknown origin) makes
  // it false; writable_paths and notes then say what to do.
  bool ready = true;
  std::vector<WritablePath> writable_paths;           // sorted by path bytes, none inside another
  std::string kubernetes{read_only_yaml_head};        // YAML snippet, trailing newline
  std::vector<std::string> docker_run{"--read-only"}; // then one flag pair per path
  std::vector<std::string> notes;                     // decisions left to a person; raw bytes
};

// Computed from report.findings (before suppressions: a baselined write is still a
// write) and report.ignored (runtime placeholders are not writes; --ignore'd paths
// are named in a note), with the image manifest to see what an emptyDir would hide
// and report.container.user (else the image's USER) to know who must write there.
ReadOnlyPlan plan_read_only(const AuditReport& report, const Manifest& image);

} // namespace cdrift
