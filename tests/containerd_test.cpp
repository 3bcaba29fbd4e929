// Reading ctr's answers (outputs captured from containerd 1.6.20 here) and the
// snapshot chain check; no daemon needed.
#include "cdrift/pipeline/containerd.hpp"
#include "cdrift/util/exit_status.hpp"

#include <doctest/doctest.h>

using namespace cdrift;

namespace {

const char* container_info = R"({
    "ID": "web-0-app",
    "Labels": {
        "io.containerd.image.config.stop-signal": "SIGTERM",
        "io.kubernetes.container.name": "app",
        "io.kubernetes.pod.name": "web-0",
        "io.kubernetes.pod.namespace": "shop",
        "io.kubernetes.pod.uid": "1111-2222"
    },
    "Image": "docker.io/library/cdrift-ctd:1",
    "Runtime": {"Name": "io.containerd.runc.v2", "Options": {"type_url": "containerd.runc.v1.Options"}},
    "SnapshotKey": "web-0-app",
    "Snapshotter": "overlayfs",
    "CreatedAt": "2026-12-03T12:23:43.421593393Z",
    "UpdatedAt": "2026-12-03T12:23:43.421593393Z",
    "Extensions": null,
    "Spec": {"ociVersion": "1.0.2-dev",
             "process": {"user": {"uid": 1000, "gid": 1001, "additionalGids": [0]},
                         "args": ["sleep", "100000"], "cwd": "/"},
             "root": {"path": "rootfs"}}
})";

const char* images_ls =
    "REF                            TYPE                                       DIGEST            "
    "                                                      SIZE    PLATFORMS   LABELS \n"
    "docker.io/library/cdrift-ctd:1 application/vnd.oci.image.manifest.v1+json "
    "sha256:0eb63657124e6d2e8e18b32dd17769ae9ea2c07d4afef57f2f3c3ec779e2a12d 3.9 MiB linux/amd64 "
    "-      \n"
    "docker.io/library/other:2      application/vnd.oci.image.index.v1+json    "
    "sha256:1111111111111111111111111111111111111111111111111111111111111111 1.2 KiB "
    "linux/amd64,linux/arm64 -\n";

const char* mounts_overlay =
    "mount -t overlay overlay / -o "
    "index=off,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/5/"
    "work,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/5/"
    "fs,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/2/fs:/var/"
    "lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs\n";

// The diff_ids and chain IDs containerd 1.6.20 produced here for a two-layer image
// (ctr snapshots ls after `ctr images import`).
const std::vector<std::string> real_diff_ids = {
    "sha256:359110c6dd725d9bf55dab5b754e13076fe29576c0791f310d0e9ef9715a2964",
    "sha256:81aff30b28601e3cf58eef9151c869ac1c58e673b27ef0f699a1a066aa87f6d9"};
const std::vector<std::string> real_parents = {
    "sha256:4d1a4d78e3b277d3ea12df74898fdd62272a5042c18306cf475bc4083994cb23",
    "sha256:359110c6dd725d9bf55dab5b754e13076fe29576c0791f310d0e9ef9715a2964"};

} // namespace

TEST_CASE("containerd: [NAMESPACE/]ID, identifiers validated") {
  auto r = parse_containerd_ref("web");
  REQUIRE(r);
  CHECK(r->ns == "default");
  CHECK(r->id == "web");
  r = parse_containerd_ref("k8s.io/0123abcdef");
  REQUIRE(r);
  CHECK(r->ns == "k8s.io");
  CHECK(r->id == "0123abcdef");
  for (const char* bad : {"", "-rf", "k8s.io/", "/web", "a/b/c", "a..b", "web-", "we b",
                          "k8s.io/--address=/x", "web\x1b[31m"}) {
    INFO(bad);
    auto e = parse_containerd_ref(bad);
    REQUIRE(!e);
    CHECK(e.error().kind == ErrorKind::usage);
    CHECK(e.error().message.find('\x1b') == std::string::npos);
  }
  CHECK(parse_containerd_ref(std::string(76, 'a')));
  CHECK(!parse_containerd_ref(std::string(77, 'a')));
}

TEST_CASE("containerd: the address is the flag, then CONTAINERD_ADDRESS, then the default") {
  ::unsetenv("CONTAINERD_ADDRESS");
  CHECK(containerd_address("") == "/run/containerd/containerd.sock");
  ::setenv("CONTAINERD_ADDRESS", "/tmp/c.sock", 1);
  CHECK(containerd_address("") == "/tmp/c.sock");
  CHECK(containerd_address("/x.sock") == "/x.sock");
  ::unsetenv("CONTAINERD_ADDRESS");
}

TEST_CASE("containerd: containers info gives the image, snapshot and the CRI identity") {
  ContainerdRef ref{"k8s.io", "web-0-app"};
  auto c = parse_container_info(container_info, ref, "ctr info");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
  CHECK(c->image == "docker.io/library/cdrift-ctd:1");
  CHECK(c->snapshotter == "overlayfs");
  CHECK(c->snapshot_key == "web-0-app");
  CHECK(c->runtime == "io.containerd.runc.v2");
  CHECK(c->user == "1000:1001");
  CHECK(c->args == std::vector<std::string>{"sleep", "100000"});
  CHECK(!c->sandbox);
  REQUIRE(c->kubernetes);
  CHECK(c->kubernetes->namespace_ == "shop");
  CHECK(c->kubernetes->pod == "web-0");
  CHECK(c->kubernetes->container == "app");
  CHECK(c->kubernetes->pod_uid == "1111-2222");
  ContainerInfo info = to_container_info(*c, "containerd:k8s.io/web-0-app");
  CHECK(info.id == "web-0-app");
  CHECK(info.created == "2026-12-03T12:23:43.421593393Z");
  REQUIRE(info.kubernetes);
  CHECK(info.kubernetes->pod == "web-0");
}

TEST_CASE("containerd: sandbox containers and containers without CRI labels") {
  ContainerdRef ref{"k8s.io", "p"};
  auto c = parse_container_info(
      R"({"ID":"p","Image":"registry.k8s.io/pause:3.9","Labels":{"io.cri-containerd.kind":"sandbox","io.kubernetes.pod.name":"web-0"}})",
      ref, "x");
  REQUIRE(c);
  CHECK(c->sandbox);
  REQUIRE(c->kubernetes);
  CHECK(c->kubernetes->namespace_.empty());
  auto plain = parse_container_info(R"({"ID":"p","Image":"img:1","Labels":null})", ref, "x");
  REQUIRE(plain);
  CHECK(!plain->kubernetes);
  CHECK(!plain->sandbox);
}

TEST_CASE("containerd: unexpected containers info is a runtime error") {
  ContainerdRef ref{"k8s.io", "web"};
  for (const char* bad :
       {"", "[]", "{\"ID\":\"other\",\"Image\":\"x\"}", "{\"ID\":\"web\"}", "not json"}) {
    INFO(bad);
    auto c = parse_container_info(bad, ref, "ctr info");
    REQUIRE(!c);
    CHECK(c.error().kind == ErrorKind::runtime);
    CHECK(exit_status_for(c.error().kind) == ExitStatus::input);
  }
}

TEST_CASE("containerd: tasks ls and namespaces ls") {
  auto t = parse_task_list("TASK           PID      STATUS    \nweb-0-pause    22279    RUNNING\n"
                           "web-0-app      22220    RUNNING\nold            0        STOPPED\n",
                           "ctr tasks ls");
  REQUIRE(t);
  REQUIRE(t->size() == 3);
  CHECK((*t)[0].id == "old");
  CHECK((*t)[0].status == "STOPPED");
  CHECK((*t)[1].id == "web-0-app");
  CHECK((*t)[1].pid == "22220");
  auto empty = parse_task_list("TASK    PID    STATUS    \n", "x");
  REQUIRE(empty);
  CHECK(empty->empty());
  CHECK(!parse_task_list("ID PID\nweb 1\n", "x"));
  CHECK(!parse_task_list("TASK PID STATUS\nweb 1\n", "x"));

  auto ns = parse_namespace_list("k8s.io\ndefault\n\n", "ctr namespaces ls");
  REQUIRE(ns);
  CHECK(*ns == std::vector<std::string>{"default", "k8s.io"});
  CHECK(!parse_namespace_list("k8s.io\n-x\n", "x"));
}

TEST_CASE("containerd: images ls gives the record's target descriptor") {
  auto t = parse_image_target(images_ls, "docker.io/library/cdrift-ctd:1", "ctr images ls");
  REQUIRE(t);
  CHECK(t->media_type == "application/vnd.oci.image.manifest.v1+json");
  CHECK(t->digest == "sha256:0eb63657124e6d2e8e18b32dd17769ae9ea2c07d4afef57f2f3c3ec779e2a12d");
  auto i = parse_image_target(images_ls, "docker.io/library/other:2", "x");
  REQUIRE(i);
  CHECK(i->media_type == "application/vnd.oci.image.index.v1+json");
  auto missing = parse_image_target(images_ls, "docker.io/library/cdrift-ctd", "x");
  REQUIRE(!missing);
  CHECK(missing.error().kind == ErrorKind::runtime);
  CHECK(!parse_image_target("NAME DIGEST\n", "x", "x"));
}

TEST_CASE("containerd: snapshots info and mounts") {
  auto info = parse_snapshot_info(R"({"Kind":"Active","Name":"web-0-app","Parent":"sha256:4d1a",
      "Created":"2026-12-03T12:23:43Z"})",
                                  "x");
  REQUIRE(info);
  CHECK(info->parent == "sha256:4d1a");
  auto bottom = parse_snapshot_info(R"({"Kind":"Committed","Name":"sha256:35"})", "x");
  REQUIRE(bottom);
  CHECK(bottom->parent.empty());
  CHECK(!parse_snapshot_info("[]", "x"));

  auto m = parse_snapshot_mounts(mounts_overlay, "ctr snapshots mounts");
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  CHECK(m->type == "overlay");
  CHECK(m->upper_dir ==
        "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/5/fs");
  REQUIRE(m->lower_dirs.size() == 2);
  CHECK(m->lower_dirs[1] ==
        "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs");
  auto root = containerd_root_from_snapshot(m->upper_dir, "x");
  REQUIRE(root);
  CHECK(*root == "/var/lib/containerd");
  CHECK(!containerd_root_from_snapshot("/srv/fs", "x"));

  auto bind = parse_snapshot_mounts(
      "mount -t bind /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/9/fs / "
      "-o rbind,rw\n",
      "x");
  REQUIRE(bind);
  CHECK(bind->upper_dir ==
        "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/9/fs");
  auto other = parse_snapshot_mounts("mount -t zfs tank/x / -o rw\n", "x");
  REQUIRE(!other);
  CHECK(other.error().message.find("only overlay") != std::string::npos);
  CHECK(!parse_snapshot_mounts("", "x"));
  CHECK(!parse_snapshot_mounts("mount -t overlay overlay / -o index=off,lowerdir=/a\n", "x"));
  CHECK(!parse_snapshot_mounts(std::string(mounts_overlay) + mounts_overlay, "x"));
}

TEST_CASE("containerd: chain IDs as containerd 1.6 names committed snapshots") {
  auto chain = chain_ids(real_diff_ids);
  REQUIRE(chain.size() == 2);
  CHECK(chain[0] == real_diff_ids[0]);
  CHECK(chain[1] == real_parents[0]);
  CHECK(chain_ids({}).empty());
}

TEST_CASE("containerd: the snapshot's parents must be the image's chain") {
  CHECK(check_snapshot_chain(real_parents, real_diff_ids, "c"));
  auto swapped = check_snapshot_chain({real_parents[1], real_parents[0]}, real_diff_ids, "c");
  REQUIRE(!swapped);
  CHECK(swapped.error().kind == ErrorKind::integrity);
  CHECK(swapped.error().message.find("image layer 1") != std::string::npos);
  auto short_chain = check_snapshot_chain({real_parents[1]}, real_diff_ids, "c");
  REQUIRE(!short_chain);
  CHECK(short_chain.error().message.find("1 parent but the image has 2 layers") !=
        std::string::npos);
  std::vector<std::string> other_top = real_diff_ids;
  other_top[1] = "sha256:" + std::string(64, '0');
  CHECK(!check_snapshot_chain(real_parents, other_top, "c"));
}

TEST_CASE("containerd: the task's rootfs from the mount table") {
  std::string mountinfo =
      "27 1 254:1 / / rw,relatime - ext4 /dev/vda rw\n"
      "49 27 0:41 / /run/containerd/io.containerd.runtime.v2.task/k8s.io/web/rootfs rw,relatime "
      "- overlay overlay "
      "rw,lowerdir=/var/lib/c/s/2/fs:/var/lib/c/s/1/fs,upperdir=/var/lib/c/s/3/fs,workdir=/var/"
      "lib/c/s/3/work\n"
      "50 27 0:42 / /tmp/with\\040space/rootfs rw shared:2 - overlay overlay "
      "rw,lowerdir=/a,upperdir=/my\\040root/s/4/fs,workdir=/w\n";
  CHECK(find_overlay_mountpoint(mountinfo, "/var/lib/c/s/3/fs") ==
        "/run/containerd/io.containerd.runtime.v2.task/k8s.io/web/rootfs");
  CHECK(find_overlay_mountpoint(mountinfo, "/my root/s/4/fs") == "/tmp/with space/rootfs");
  CHECK(find_overlay_mountpoint(mountinfo, "/var/lib/c/s/3").empty());
  CHECK(find_overlay_mountpoint("", "/x").empty());
}
