// containerd through `ctr`, its CLI: what cdrift asks (namespaces, tasks, a
// container's record, its image's target, its snapshot's parents and mounts) and
// how the answers are read. Why ctr and not the gRPC API: docs/architecture.md,
// "containerd". The parsers are pure functions over ctr's output so that they are
// tested without a daemon; ContainerdClient is the only part that spawns anything.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/source/content_store.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cdrift {

// "containerd:[NAMESPACE/]ID"'s location part; the namespace defaults to "default"
// (kubelet's is "k8s.io"). Both are containerd identifiers: [A-Za-z0-9]+ joined by
// single '.', '_' or '-', at most 76 characters; anything else is a usage error.
struct ContainerdRef {
  std::string ns = "default";
  std::string id;
};
Result<ContainerdRef> parse_containerd_ref(std::string_view text);
Status validate_containerd_identifier(std::string_view s, const std::string& what);

// The socket: --containerd-address, then $CONTAINERD_ADDRESS, then the default.
std::string containerd_address(const std::string& flag);
inline constexpr const char* default_containerd_address = "/run/containerd/containerd.sock";

// `ctr -n NS containers info ID` (JSON).
struct ContainerdContainer {
  ContainerdRef ref;
  std::string image; // the image reference the container was created from
  std::string snapshotter;
  std::string snapshot_key;
  std::string runtime; // "io.containerd.runc.v2"
  std::string created; // CreatedAt, RFC 3339
  std::map<std::string, std::string> labels;
  std::optional<KubernetesIdentity> kubernetes; // from the io.kubernetes.* labels
  bool sandbox = false;                         // io.cri-containerd.kind=sandbox: a pause container
  std::string user;                             // "uid:gid" of the spec's process
  std::vector<std::string> args;                // the spec's process args
};
Result<ContainerdContainer> parse_container_info(const std::string& text, const ContainerdRef& ref,
                                                 const std::string& what);

// The ContainerInfo a report shows for it (source, id, image, created, user, args,
// kubernetes).
ContainerInfo to_container_info(const ContainerdContainer& c, const std::string& source);

// `ctr -n NS tasks ls`: TASK PID STATUS.
struct ContainerdTask {
  std::string id;
  std::string pid;
  std::string status; // "RUNNING", "STOPPED", "PAUSED", "CREATED"
};
Result<std::vector<ContainerdTask>> parse_task_list(const std::string& text,
                                                    const std::string& what);

// `ctr namespaces ls -q`: one namespace per line, sorted.
Result<std::vector<std::string>> parse_namespace_list(const std::string& text,
                                                      const std::string& what);

// `ctr -n NS images ls`: REF TYPE DIGEST SIZE PLATFORMS LABELS; the row whose REF is
// exactly `name` (references have no spaces; SIZE has, so only the first three
// columns are read).
Result<ContentTarget> parse_image_target(const std::string& text, const std::string& name,
                                         const std::string& what);

// `ctr -n NS snapshots --snapshotter S info KEY` (JSON).
struct SnapshotInfo {
  std::string name;
  std::string parent; // "" at the bottom of the chain
  std::string kind;   // "Active", "Committed", "View"
};
Result<SnapshotInfo> parse_snapshot_info(const std::string& text, const std::string& what);

// `ctr -n NS snapshots --snapshotter S mounts TARGET KEY`: "mount -t overlay overlay
// TARGET -o index=off,workdir=W,upperdir=U,lowerdir=L1:L2" (or a bind mount for a
// snapshot without parents).
struct SnapshotMount {
  std::string type; // "overlay" or "bind"
  std::string upper_dir;
  std::vector<std::string> lower_dirs; // top first
};
Result<SnapshotMount> parse_snapshot_mounts(const std::string& text, const std::string& what);

// containerd's root directory from a snapshot directory below it
// (<root>/io.containerd.snapshotter.v1.<name>/snapshots/<n>/fs): where the content
// store is, without asking the daemon for its configuration.
Result<std::string> containerd_root_from_snapshot(const std::string& dir, const std::string& what);

// Chain IDs as containerd names the committed snapshots of an image's layers:
// chain(L0) = diff_id(L0), chain(Ln) = sha256(chain(Ln-1) + " " + diff_id(Ln)).
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

// The container's snapshot parents, nearest first (what walking `snapshots info`
// from the container's key gives), must be exactly the image's chain IDs, top
// layer first: the writable layer then sits on the very layers that were verified.
// A mismatch is an integrity error naming the first differing parent.
Status check_snapshot_chain(const std::vector<std::string>& parents,
                            const std::vector<std::string>& diff_ids, const std::string& what);

// The mount point of the overlay whose upperdir is `upper_dir`, from a
// /proc/self/mountinfo text: the task's merged rootfs
// (<state>/io.containerd.runtime.v2.task/NS/ID/rootfs), found without knowing
// containerd's state directory. Empty when no such mount is visible.
std::string find_overlay_mountpoint(const std::string& mountinfo, const std::string& upper_dir);

struct ContainerdOptions {
  std::string address;       // the socket
  std::string ctr_path;      // --runtime-path; empty: ctr from PATH
  int timeout_seconds = 600; // per ctr command
};

// Stateless (safe from two threads at once). Runs ctr with an argv (never a shell), `--address=`
// and `--namespace=` as single argv elements, names validated before they reach it, every call
// bounded by the timeout; a failing ctr is an ErrorKind::runtime error quoting its stderr.
class ContainerdClient {
public:
  explicit ContainerdClient(ContainerdOptions options) : m_options(std::move(options)) {}

  Result<std::vector<std::string>> namespaces() const;
  Result<std::vector<ContainerdTask>> tasks(const std::string& ns) const;
  Result<ContainerdContainer> container(const ContainerdRef& ref) const;
  Result<ContentTarget> image_target(const std::string& ns, const std::string& image) const;
  // The parent chain of `key`, nearest first (at most `limit` deep).
  Result<std::vector<std::string>> snapshot_parents(const std::string& ns,
                                                    const std::string& snapshotter,
                                                    const std::string& key,
                                                    std::size_t limit = 512) const;
  Result<SnapshotMount> snapshot_mount(const std::string& ns, const std::string& snapshotter,
                                       const std::string& key) const;

  const ContainerdOptions& options() const { return m_options; }

private:
  Result<std::string> run(const std::string& ns, std::vector<std::string> args,
                          const std::string& description) const;
  ContainerdOptions m_options;
};

} // namespace cdrift
