#include "cdrift/pipeline/containerd.hpp"
#include "cdrift/source/process.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/sha256.hpp"

#include <algorithm>
#include <set>

namespace cdrift {

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  for (const std::string& d : diff_ids)
    out.push_back(out.empty() ? d : "sha256:" + to_hex(sha256_of(out.back() + " " + d)));
  return out;
}

Status check_snapshot_chain(const std::vector<std::string>& parents,
                            const std::vector<std::string>& diff_ids, const std::string& what) {
  std::vector<std::string> want = chain_ids(diff_ids);
  std::reverse(want.begin(), want.end()); // nearest parent = the top layer's chain
  if (parents.size() != want.size())
    return fail(ErrorKind::integrity,
                what + ": the snapshot has " + std::to_string(parents.size()) +
                    (parents.size() == 1 ? " parent" : " parents") + " but the image has " +
                    std::to_string(want.size()) + (want.size() == 1 ? " layer" : " layers") +
                    ": the container does not sit on this image's layers");
  for (std::size_t i = 0; i < want.size(); ++i)
    if (parents[i] != want[i])
      return fail(ErrorKind::integrity, what + ": snapshot parent " +
                                            escape_for_terminal(parents[i]) +
                                            " is not the chain ID " + want[i] + " of image layer " +
                                            std::to_string(want.size() - 1 - i) +
                                            ": the container does not sit on this image's layers");
  return {};
}

Result<std::string> ContainerdClient::run(const std::string& ns, std::vector<std::string> args,
                                          const std::string& description) const {
  // One argv element each: an address or namespace can never become another flag.
  std::vector<std::string> argv = {m_options.ctr_path.empty() ? "ctr" : m_options.ctr_path,
                                   "--address=" + m_options.address};
  if (!ns.empty()) argv.push_back("--namespace=" + ns);
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions p;
  p.description = description;
  p.timeout_seconds = m_options.timeout_seconds > 0 ? m_options.timeout_seconds : 600;
  return run_process(argv, p, 16u << 20);
}

Result<std::vector<std::string>> ContainerdClient::namespaces() const {
  auto out = run("", {"namespaces", "ls", "-q"}, "ctr namespaces ls");
  if (!out) return fail(std::move(out).error());
  return parse_namespace_list(*out, "ctr namespaces ls");
}

Result<std::vector<ContainerdTask>> ContainerdClient::tasks(const std::string& ns) const {
  CDRIFT_TRY(validate_containerd_identifier(ns, "namespace"));
  std::string what = "ctr -n " + ns + " tasks ls";
  auto out = run(ns, {"tasks", "ls"}, what);
  if (!out) return fail(std::move(out).error());
  return parse_task_list(*out, what);
}

Result<ContainerdContainer> ContainerdClient::container(const ContainerdRef& ref) const {
  CDRIFT_TRY(validate_containerd_identifier(ref.ns, "namespace"));
  CDRIFT_TRY(validate_containerd_identifier(ref.id, "container id"));
  std::string what = "ctr -n " + ref.ns + " containers info " + ref.id;
  auto out = run(ref.ns, {"containers", "info", "--", ref.id}, what);
  if (!out) return fail(std::move(out).error());
  return parse_container_info(*out, ref, what);
}

Result<ContentTarget> ContainerdClient::image_target(const std::string& ns,
                                                     const std::string& image) const {
  CDRIFT_TRY(validate_containerd_identifier(ns, "namespace"));
  // Listed whole and matched here: the image name is data, never a filter expression.
  std::string what = "ctr -n " + ns + " images ls";
  auto out = run(ns, {"images", "ls"}, what);
  if (!out) return fail(std::move(out).error());
  return parse_image_target(*out, image, what);
}

Result<std::vector<std::string>> ContainerdClient::snapshot_parents(const std::string& ns,
                                                                    const std::string& snapshotter,
                                                                    const std::string& key,
                                                                    std::size_t limit) const {
  CDRIFT_TRY(validate_containerd_identifier(ns, "namespace"));
  CDRIFT_TRY(validate_containerd_identifier(snapshotter, "snapshotter"));
  std::vector<std::string> parents;
  std::set<std::string> seen;
  std::string current = key;
  for (;;) {
    std::string what = "ctr -n " + ns + " snapshots info " + escape_for_terminal(current);
    // Keys are the container's key or chain IDs ("sha256:<hex>"), never an option.
    if (current.empty() || current.front() == '-')
      return fail(ErrorKind::runtime, what + ": not a snapshot key");
    auto out = run(ns, {"snapshots", "--snapshotter=" + snapshotter, "info", "--", current}, what);
    if (!out) return fail(std::move(out).error());
    auto info = parse_snapshot_info(*out, what);
    if (!info) return fail(std::move(info).error());
    if (info->parent.empty()) return parents;
    if (!seen.insert(info->parent).second || parents.size() >= limit)
      return fail(ErrorKind::runtime, what +
                                          ": the snapshot's parent chain loops or is deeper "
                                          "than " +
                                          std::to_string(limit));
    parents.push_back(info->parent);
    current = info->parent;
  }
}

Result<SnapshotMount> ContainerdClient::snapshot_mount(const std::string& ns,
                                                       const std::string& snapshotter,
                                                       const std::string& key) const {
  CDRIFT_TRY(validate_containerd_identifier(ns, "namespace"));
  CDRIFT_TRY(validate_containerd_identifier(snapshotter, "snapshotter"));
  if (key.empty() || key.front() == '-')
    return fail(ErrorKind::runtime,
                "containerd: snapshot key \"" + escape_for_terminal(key) + "\" is not usable");
  std::string what = "ctr -n " + ns + " snapshots mounts " + escape_for_terminal(key);
  // The target is only printed, never mounted: ctr writes the mount command out.
  auto out = run(ns, {"snapshots", "--snapshotter=" + snapshotter, "mounts", "--", "/", key}, what);
  if (!out) return fail(std::move(out).error());
  return parse_snapshot_mounts(*out, what);
}

} // namespace cdrift
