// The boundary between an audit and the container runtimes: what cdrift asks of a
// runtime (list, inspect, export, image, image digest) as one interface, and the
// runtimes one invocation may use. docker, podman and nerdctl are driven through
// their own CLIs (cli_runtime.cpp); another runtime is one more implementation
// and one line in the registry (runtime.cpp). Tests put an in-memory one in.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/layer/load.hpp"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

struct RuntimeOptions {
  std::string runtime_path;       // --runtime-path: the CLI binary to run; empty: by name in PATH
  int timeout_seconds = 600;      // --runtime-timeout: a runtime silent this long is killed
  std::string containerd_address; // --containerd-address; empty: the default
  std::vector<std::string> containerd_namespaces; // --namespace; empty: every namespace
};

// Where the runtime keeps the container's filesystem, as its inspect says
// (docker/podman `GraphDriver`). Read by nothing yet: the live writable-layer
// source reads the upper dir directly when the driver is an overlay.
struct ContainerStorage {
  std::string driver;                  // GraphDriver.Name: "overlay2", "overlay", "vfs", ...
  std::string upper_dir;               // GraphDriver.Data.UpperDir; empty: not an overlay
  std::vector<std::string> lower_dirs; // GraphDriver.Data.LowerDir split at ':', top first
};

struct RuntimeContainer {
  ContainerInfo info;        // id, name, image, created, started, user, entrypoint, created_epoch
  SourceSpec image;          // the container's image by id ("docker:sha256:...")
  std::string config_digest; // "sha256:..." of the image config, for the manifest cache
  ContainerStorage storage;
  // Non-empty for a container that is not a workload (a Kubernetes pod sandbox, the
  // pause container): `audit --all` notes it with this reason and moves on; an
  // audit that names it explicitly still audits it.
  std::string all_skip_reason;
};

// One container runtime. Every name handed to it has passed validate_runtime_name
// (no leading '-', no control characters, at most 256 bytes); implementations
// still pass it as one argv element after "--" (or one API field), never through
// a shell. The image and the container side load concurrently, so the calls may
// come from two threads at once: implementations keep no unguarded mutable state.
class Runtime {
public:
  virtual ~Runtime() = default;
  // "docker": the prefix of its sources (docker:NAME) and the --runtime value.
  virtual const std::string& name() const = 0;
  // Ids of the running containers, as the runtime prints them (the caller
  // validates, sorts and removes duplicates).
  virtual Result<std::vector<std::string>> list_running() const = 0;
  // Metadata, the image by config digest, and the storage of one container.
  virtual Result<RuntimeContainer> inspect(const std::string& container) const = 0;
  // The container's filesystem as a tar stream (form rootfs_tar: the container's
  // own files must never make it look like an image archive).
  virtual Result<RuntimeStream> open_export(const std::string& container) const = 0;
  // The image as an archive stream (docker-archive, OCI archive, ...).
  virtual Result<RuntimeStream> open_image(const std::string& image) const = 0;
  // "sha256:<hex>" of the image config of a reference, for the manifest cache.
  virtual Result<std::string> image_config_digest(const std::string& image) const = 0;
};

// The runtimes cdrift knows, in the order messages list them. Adding one: an
// implementation of Runtime plus its line in this table (runtime.cpp).
struct RuntimeRegistration {
  std::string_view name;
  std::unique_ptr<Runtime> (*make)(const RuntimeOptions&);
};
std::span<const RuntimeRegistration> registered_runtimes();
std::vector<std::string> registered_runtime_names();

// Container names, ids and image references as the runtimes spell them:
// [A-Za-z0-9][A-Za-z0-9_.:/@-]* or "sha256:<hex>", at most 256 bytes. `kind` is
// usage for what the user typed, runtime for what a runtime printed (a runtime
// that lists "--help" as a container misbehaved; the user did nothing wrong).
Status validate_runtime_name(std::string_view name, const std::string& what, ErrorKind kind);

// The runtimes one invocation may use, each created once. Its calls validate
// names before any runtime sees them; the resolver it hands out feeds
// LoadOptions::runtime (export for the container side, image for the image side).
class Runtimes {
public:
  Runtimes() = default;
  // Every registered runtime, with these options.
  static Runtimes registered(const RuntimeOptions& options);
  // Adds a runtime, replacing one of the same name (tests add fakes).
  void add(std::unique_ptr<Runtime> runtime);

  // A usage error naming the known runtimes when there is no such runtime.
  Result<const Runtime*> get(std::string_view name) const;

  // Sorted, unique, validated ids (a garbage id is a runtime error).
  Result<std::vector<std::string>> list_running(std::string_view runtime) const;
  Result<RuntimeContainer> inspect(const SourceSpec& container) const;
  Result<std::string> image_config_digest(const SourceSpec& image) const;
  // Shares the runtimes: it may outlive this object.
  RuntimeResolver resolver() const;

private:
  std::vector<std::shared_ptr<const Runtime>> m_runtimes;
};

} // namespace cdrift
