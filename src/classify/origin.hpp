// How a change probably got into the container: copied in (docker/podman cp), edited
// from a shell (docker exec), installed by a package manager, written by the
// application at runtime, or unknown, with human-readable evidence lines.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/classify/package_events.hpp"
#include "cdrift/classify/packages.hpp"
#include "cdrift/classify/timestamps.hpp"
#include "cdrift/diff/change.hpp"
#include "cdrift/manifest/manifest.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cdrift {

// Everything referenced must outlive the OriginAnalyzer built from it.
struct OriginInputs {
  const Manifest& image;
  const Manifest& container;
  // created_epoch (with created_evidence) from runtime metadata, when known; the
  // user the container runs as, when the runtime says.
  const ContainerInfo& container_info;
  const PackageDb& image_packages;
  const PackageDb& container_packages;
  // The whole diff: other changes are evidence too (history files, editor
  // leftovers, whole copied trees, changes in the same minute, package databases).
  const std::vector<Change>& all_changes;
};

// Computes the per-audit facts once (container creation time, the container's known
// uids and gids, the image USER, data directories, shell history) and then
// attributes each change in constant-ish time.
class OriginAnalyzer {
public:
  explicit OriginAnalyzer(const OriginInputs& inputs);
  ~OriginAnalyzer();
  OriginAnalyzer(OriginAnalyzer&&) noexcept;
  OriginAnalyzer& operator=(OriginAnalyzer&&) noexcept;

  Origin attribute(const Change& change) const;

  // From container_info.created_epoch, else the mtime of a runtime placeholder in
  // the container (/.dockerenv, /run/.containerenv, /etc/hostname).
  std::optional<std::int64_t> creation_time() const;
  // Where creation_time() came from, e.g. "from /.dockerenv (docker writes it when
  // it creates the container)"; says what was looked for when unknown.
  std::string creation_evidence() const;

  // What the package databases say about a change: its package, and the install,
  // removal or upgrade of that package that explains it (see package_events.hpp).
  PackageFacts package_facts(const Change& change) const;

  // The per-audit facts (src/classify/origin_state.hpp); public so the weighing's
  // helpers can take it, opaque to everyone else.
  struct State;

private:
  std::unique_ptr<State> m_state;
};

} // namespace cdrift
