// containerd as a Runtime: `containerd:[NAMESPACE/]ID`. The image comes from
// containerd's content store, read in place from the image record's target digest;
// the container's snapshot must sit on that image's layers (chain IDs), so its
// upper dir is the container's writable layer over exactly that image, and the
// audit reads it (live_layer.hpp). The task's mounted root filesystem is the
// "export": read with --via export, or when the layer cannot be read.
#include "cdrift/classify/timestamps.hpp"
#include "cdrift/pipeline/containerd.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/util/escape.hpp"
#include "pipeline/cli_runtime.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <mutex>

namespace cdrift {

namespace {

constexpr std::size_t mountinfo_limit = 64u << 20;

// An image as the runtime hands it to the image side: where its blobs are and the
// record's target, pinned by digest when the container was inspected.
struct KnownImage {
  std::string content_dir;
  ContentTarget target;
  std::string config_digest;
};

Result<std::string> read_mountinfo() {
  Fd fd(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
  if (!fd)
    return fail(ErrorKind::runtime,
                std::string("/proc/self/mountinfo: cannot open: ") + std::strerror(errno));
  FdSource src(std::move(fd), "/proc/self/mountinfo");
  return read_all(src, mountinfo_limit);
}

class ContainerdRuntime : public Runtime {
public:
  explicit ContainerdRuntime(const RuntimeOptions& options)
      : m_client(ContainerdOptions{containerd_address(options.containerd_address),
                                   options.runtime_path, options.timeout_seconds}),
        m_namespaces(options.containerd_namespaces) {}

  const std::string& name() const override { return m_name; }

  // Running tasks, as NAMESPACE/ID, of the --namespace list or of every namespace.
  Result<std::vector<std::string>> list_running() const override {
    std::vector<std::string> namespaces = m_namespaces;
    if (namespaces.empty()) {
      auto all = m_client.namespaces();
      if (!all) return fail(std::move(all).error());
      namespaces = std::move(*all);
    }
    std::vector<std::string> ids;
    for (const std::string& ns : namespaces) {
      auto tasks = m_client.tasks(ns);
      if (!tasks) return fail(std::move(tasks).error());
      for (const ContainerdTask& t : *tasks)
        // A paused task is still a live container with its filesystem mounted.
        if (t.status == "RUNNING" || t.status == "PAUSED") ids.push_back(ns + "/" + t.id);
    }
    return ids;
  }

  Result<RuntimeContainer> inspect(const std::string& container) const override {
    auto ref = parse_containerd_ref(container);
    if (!ref) return fail(std::move(ref).error());
    auto c = m_client.container(*ref);
    if (!c) return fail(std::move(c).error());
    auto out = inspect_container(*ref, *c);
    // --all skips sandboxes without auditing them, so a sandbox whose image cannot
    // be read must not fail the whole run: its failure becomes the runtime's (the
    // skip reason), and an audit that names the sandbox still fails with it.
    if (!out && c->sandbox)
      return fail(ErrorKind::runtime, "pod sandbox (pause container): " + out.error().message);
    return out;
  }

private:
  // Everything but the record: the snapshot, the image, the chain, the rootfs.
  Result<RuntimeContainer> inspect_container(const ContainerdRef& ref,
                                             const ContainerdContainer& c) const {
    const std::string source = "containerd:" + ref.ns + "/" + ref.id;
    if (c.snapshotter.empty() || c.snapshot_key.empty())
      return fail(ErrorKind::runtime, source + ": the container has no snapshot");
    auto mount = m_client.snapshot_mount(ref.ns, c.snapshotter, c.snapshot_key);
    if (!mount) return fail(std::move(mount).error());
    auto root = containerd_root_from_snapshot(mount->upper_dir, source);
    if (!root) return fail(std::move(root).error());
    auto target = m_client.image_target(ref.ns, c.image);
    if (!target) return fail(std::move(target).error());

    // The image's documents, verified, for the config digest (the cache key) and
    // the diff_ids the snapshot chain must match; the layers are read later, once.
    const std::string content_dir = content_store_dir(*root);
    auto plan = read_content_store_image(content_dir, *target, ImageOptions{});
    if (!plan) return fail(std::move(plan).error());
    std::vector<std::string> diff_ids;
    for (const LayerPlan& l : plan->layers)
      diff_ids.push_back(l.diff_id);
    auto parents = m_client.snapshot_parents(ref.ns, c.snapshotter, c.snapshot_key);
    if (!parents) return fail(std::move(parents).error());
    CDRIFT_TRY(check_snapshot_chain(*parents, diff_ids,
                                    source + " (image " + escape_for_terminal(c.image) + ")"));

    auto mountinfo = read_mountinfo();
    if (!mountinfo) return fail(std::move(mountinfo).error());
    std::string rootfs = find_overlay_mountpoint(*mountinfo, mount->upper_dir);
    if (rootfs.empty())
      return fail(ErrorKind::runtime,
                  source + ": its root filesystem is not mounted where cdrift can see it (the "
                           "task is not running, or cdrift runs in another mount namespace: "
                           "mount the host's /run/containerd/io.containerd.runtime.v2.task with "
                           "HostToContainer propagation)");

    RuntimeContainer out;
    out.info = to_container_info(c, source);
    if (auto epoch = parse_rfc3339(c.created)) {
      out.info.created_epoch = *epoch;
      out.info.created_evidence = "ctr containers info: CreatedAt " + c.created;
    }
    const std::string image_location = ref.ns + "/" + target->digest;
    out.image.form = SourceKind::runtime;
    out.image.runtime = m_name;
    out.image.location = image_location;
    out.image.text = "containerd:" + ref.ns + "/" + c.image;
    out.config_digest = plan->info.config_digest;
    out.storage.driver = c.snapshotter;
    out.storage.upper_dir = mount->upper_dir;
    out.storage.lower_dirs = mount->lower_dirs;
    if (c.sandbox) {
      std::string pod = c.kubernetes ? c.kubernetes->namespace_ + "/" + c.kubernetes->pod : "";
      out.all_skip_reason = "pod sandbox (pause container" +
                            (pod.empty() ? std::string() : " of " + escape_for_terminal(pod)) +
                            "): no workload to audit";
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    m_images[image_location] = KnownImage{content_dir, *target, plan->info.config_digest};
    m_rootfs[ref.ns + "/" + ref.id] = rootfs;
    return out;
  }

public:
  // containerd has no export; the task's root filesystem (the merged view) is read
  // as a directory instead.
  Result<RuntimeStream> open_export(const std::string& container) const override {
    auto ref = parse_containerd_ref(container);
    if (!ref) return fail(std::move(ref).error());
    const std::string key = ref->ns + "/" + ref->id;
    std::string rootfs;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (auto it = m_rootfs.find(key); it != m_rootfs.end()) rootfs = it->second;
    }
    if (rootfs.empty()) {
      auto inspected = inspect(container);
      if (!inspected) return fail(std::move(inspected).error());
      std::lock_guard<std::mutex> lock(m_mutex);
      rootfs = m_rootfs[key];
    }
    RuntimeStream rs;
    rs.directory = rootfs;
    rs.description = "containerd:" + key + " (task root filesystem " + rootfs + ")";
    return rs;
  }

  Result<RuntimeStream> open_image(const std::string& image) const override {
    auto known = find_image(image);
    if (!known) return fail(std::move(known).error());
    auto store = open_content_store(known->content_dir, known->target);
    if (!store) return fail(std::move(store).error());
    RuntimeStream rs;
    rs.store = std::move(*store);
    rs.description = "containerd:" + image;
    return rs;
  }

  Result<std::string> image_config_digest(const std::string& image) const override {
    auto known = find_image(image);
    if (!known) return fail(std::move(known).error());
    return known->config_digest;
  }

private:
  // Images are found through a container: its snapshot says where containerd's
  // root (and so the content store) is, and its chain binds it to the image.
  Result<KnownImage> find_image(const std::string& image) const {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (auto it = m_images.find(image); it != m_images.end()) return it->second;
    return fail(ErrorKind::usage,
                "containerd:" + escape_for_terminal(image) +
                    ": containerd images are read with their container; give --container "
                    "containerd:NAMESPACE/ID and leave out --image");
  }

  const std::string m_name = "containerd";
  ContainerdClient m_client;
  std::vector<std::string> m_namespaces;
  mutable std::mutex m_mutex;
  mutable std::map<std::string, KnownImage> m_images;  // by NAMESPACE/<target digest>
  mutable std::map<std::string, std::string> m_rootfs; // by NAMESPACE/ID
};

} // namespace

std::unique_ptr<Runtime> make_containerd_runtime(const RuntimeOptions& options) {
  return std::make_unique<ContainerdRuntime>(options);
}

} // namespace cdrift
