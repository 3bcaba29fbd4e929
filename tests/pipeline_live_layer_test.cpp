// run_audit and run_audit_all reading a runtime container's overlay writable layer
// (an upper dir built on disk, behind the in-memory runtime) instead of its export,
// and falling back to the export, with the reason, when the layer cannot be read.
#include "cdrift/pipeline/audit.hpp"
#include "pipeline/live_layer.hpp"
#include "pipeline_fake_runtime.hpp"
#include "upper_tree.hpp"

#include <cstdio>
#include <doctest/doctest.h>
#include <unistd.h>

using namespace cdrift;
using namespace cdrift::test;

namespace {

std::string image_layer() {
  return make_tar({tdir("etc"), tfile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                   tfile("etc/issue", "Debian\n"), tdir("usr"), tdir("usr/bin"),
                   tfile("usr/bin/app", "#!/bin/sh\necho hi\n", 0755)});
}

// The same container twice: its export, and its upper dir.
std::string export_of_changes() {
  return make_tar({tdir("etc"), tfile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), tdir("usr"),
                   tdir("usr/bin"), tfile("usr/bin/app", "#!/bin/sh\necho hi\n", 0755),
                   tfile("usr/bin/backdoor", "#!/bin/sh\nnc -l 4444\n", 0755)});
}

void upper_of_changes(UpperTree& t) {
  t.dir("etc").whiteout("etc/issue");
  t.dir("usr").dir("usr/bin").file("usr/bin/backdoor", "#!/bin/sh\nnc -l 4444\n", 0755);
  t.finish();
}

struct World {
  std::shared_ptr<FakeRuntimeState> state = std::make_shared<FakeRuntimeState>();
  FakeImage image = make_docker_archive({image_layer()});
  Runtimes runtimes;
  World() {
    state->images[image.config_digest] = image.archive;
    runtimes.add(std::make_unique<FakeRuntime>(state));
  }
  void container(const std::string& id, const std::string& driver, const std::string& upper) {
    ContainerStorage storage{driver, upper, {}};
    state->containers[id] =
        FakeContainer{id, "name-" + id, image.config_digest, export_of_changes(), storage};
    state->listing.push_back(id);
  }
  AuditRequest request(const std::string& container, ContainerVia via) const {
    AuditRequest r;
    r.container = parse_source_spec(container);
    r.runtimes = &runtimes;
    r.via = via;
    r.today = "2024-06-01";
    return r;
  }
};

std::vector<std::string> keys(const AuditReport& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) {
    std::string k = f.change.path + " " + std::string(to_string(f.change.kind)) + " " + f.rule.id +
                    " " + std::string(to_string(f.severity));
    for (Field x : f.change.fields)
      k += " " + std::string(to_string(x));
    out.push_back(k);
  }
  return out;
}

bool warned(const AuditReport& r, const std::string& what) {
  for (const auto& w : r.warnings)
    if (w.find(what) != std::string::npos) return true;
  return false;
}

} // namespace

TEST_CASE("run_audit --via: the writable layer instead of the export, same findings") {
  if (!running_as_root()) {
    MESSAGE("skipped: upper dirs with whiteouts need root");
    return;
  }
  UpperTree t;
  upper_of_changes(t);
  World w;
  w.container("c1", "overlay2", t.root());

  auto layer = run_audit(w.request("docker:c1", ContainerVia::automatic));
  REQUIRE_MESSAGE(layer, (layer ? "" : layer.error().message));
  CHECK(w.state->exports == 0); // nothing exported: the layer was read
  CHECK(layer->report.container_kind == SourceKind::writable_layer);
  CHECK(layer->report.container.storage_driver == "overlay2");
  CHECK(layer->report.container.upper_dir == t.root());
  CHECK(layer->report.warnings.empty());

  auto exported = run_audit(w.request("docker:c1", ContainerVia::export_tar));
  REQUIRE_MESSAGE(exported, (exported ? "" : exported.error().message));
  CHECK(w.state->exports == 1);
  CHECK(exported->report.container_kind == SourceKind::container_export);
  CHECK(keys(layer->report) == keys(exported->report));
  CHECK(keys(layer->report).size() == 2); // the backdoor and the deleted /etc/issue
}

TEST_CASE("run_audit --via auto falls back to the export, saying why; --via layer refuses") {
  if (!running_as_root()) {
    MESSAGE("skipped");
    return;
  }
  UpperTree t;
  upper_of_changes(t);
  World w;
  w.container("vfs", "vfs", "/var/lib/docker/vfs/dir/x");
  w.container("odd", "overlay2", t.root());
  t.xattr("usr/bin/backdoor", "trusted.overlay.fancy", "y");
  w.container("gone", "overlay2", t.outside("no-such-upper"));

  struct Case {
    const char* container;
    const char* reason;
  };
  for (const Case c :
       {Case{"docker:vfs", "vfs driver"}, Case{"docker:odd", "unknown overlay feature"},
        Case{"docker:gone", "upper dir unreadable"}}) {
    CAPTURE(c.container);
    int exports = w.state->exports;
    auto out = run_audit(w.request(c.container, ContainerVia::automatic));
    REQUIRE_MESSAGE(out, (out ? "" : out.error().message));
    CHECK(w.state->exports == exports + 1);
    CHECK(out->report.container_kind == SourceKind::container_export);
    CHECK(warned(out->report, "read through the export, not the writable layer"));
    CHECK(warned(out->report, c.reason));
    CHECK(keys(out->report).size() == 2);

    auto strict = run_audit(w.request(c.container, ContainerVia::layer));
    REQUIRE_FALSE(strict);
    CHECK(strict.error().kind == ErrorKind::input);
    CHECK(strict.error().message.find(c.reason) != std::string::npos);
  }

  SUBCASE("an --image that is not the container's own: the export") {
    FakeImage other = make_docker_archive({make_tar({tdir("etc")})}, "other:1");
    w.state->images[other.config_digest] = other.archive;
    UpperTree clean;
    upper_of_changes(clean);
    w.container("c2", "overlay2", clean.root());
    AuditRequest r = w.request("docker:c2", ContainerVia::automatic);
    r.image = parse_source_spec("docker:" + other.config_digest);
    auto out = run_audit(r);
    REQUIRE_MESSAGE(out, (out ? "" : out.error().message));
    CHECK(out->report.container_kind == SourceKind::container_export);
    CHECK(warned(out->report, "not the image the container runs"));
  }
  SUBCASE("--via layer needs a runtime container") {
    AuditRequest r = w.request("/tmp/some-export.tar", ContainerVia::layer);
    r.image = parse_source_spec("docker:" + w.image.config_digest);
    auto out = run_audit(r);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::usage);
  }
}

TEST_CASE("run_audit_all: every container through its layer, the image read once") {
  if (!running_as_root()) {
    MESSAGE("skipped");
    return;
  }
  UpperTree a, b;
  upper_of_changes(a);
  b.dir("etc").file("etc/motd", "owned\n");
  b.finish();
  World w;
  w.container("c1", "overlay2", a.root());
  w.container("c2", "overlay2", b.root());
  AuditAllRequest all{"docker", w.request("", ContainerVia::automatic)};
  auto out = run_audit_all(all);
  REQUIRE_MESSAGE(out, (out ? "" : out.error().message));
  REQUIRE(out->reports.size() == 2);
  CHECK(w.state->exports == 0);
  CHECK(w.state->saves == 1);
  for (const auto& r : out->reports)
    CHECK(r.container_kind == SourceKind::writable_layer);
  CHECK(keys(out->reports[0]).size() == 2);
  REQUIRE(keys(out->reports[1]).size() == 1);
  CHECK(out->reports[1].findings[0].change.path == "/etc/motd");
}

TEST_CASE("effective_capabilities: the CapEff mask of /proc/self/status") {
  const std::string full = "Name:\tcdrift\nUid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\n"
                           "CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
                           "CapBnd:\t000001ffffffffff\n";
  REQUIRE(effective_capabilities(full));
  CHECK(*effective_capabilities(full) == 0x000001ffffffffffull);
  CHECK(has_cap_sys_admin(*effective_capabilities(full)));

  // A pod with capabilities dropped to DAC_READ_SEARCH (bit 2): root, but blind to
  // trusted.* xattrs. Only CapEff counts, not the permitted or bounding sets.
  const std::string dropped =
      "Uid:\t0\t0\t0\t0\nCapPrm:\t000001ffffffffff\nCapEff:\t0000000000000004\n";
  REQUIRE(effective_capabilities(dropped));
  CHECK(*effective_capabilities(dropped) == 0x4);
  CHECK_FALSE(has_cap_sys_admin(0x4));
  CHECK(has_cap_sys_admin(1ull << 21));
  CHECK_FALSE(has_cap_sys_admin(~(1ull << 21)));

  CHECK(*effective_capabilities("CapEff:\t0000000000200000") == (1ull << 21)); // no newline
  CHECK_FALSE(effective_capabilities("Name:\tx\nCapPrm:\tffff\n"));            // no CapEff
  CHECK_FALSE(effective_capabilities("CapEff:\t\n"));
  CHECK_FALSE(effective_capabilities("CapEff:\t00000zz000000000\n"));
  CHECK_FALSE(effective_capabilities("CapEff:\t00000000000000000\n")); // 17 digits
  CHECK_FALSE(effective_capabilities("XCapEff:\t1\n"));
}

TEST_CASE("writable_layer_obstacle: root without CAP_SYS_ADMIN cannot see trusted.overlay.*") {
  const ContainerStorage storage{"overlay2", "/var/lib/docker/overlay2/x/diff", {}};
  auto why = writable_layer_obstacle("docker", storage);
  if (::geteuid() != 0) {
    REQUIRE(why);
    CHECK(why->find("not root") != std::string::npos);
    return;
  }
  // Whatever this process holds, the obstacle follows its own CapEff.
  std::string status;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
      status.append(buf, n);
    std::fclose(f);
  }
  auto caps = effective_capabilities(status);
  REQUIRE(caps);
  const bool blind = why && why->find("no CAP_SYS_ADMIN") != std::string::npos;
  CHECK(blind == !has_cap_sys_admin(*caps));
  if (blind) CHECK(*why == "no CAP_SYS_ADMIN: trusted.overlay.* attributes are invisible");
}

TEST_CASE("writable_layer_obstacle: containerd's overlayfs snapshotter is read, others are not") {
  const std::string upper =
      "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/7/fs";
  auto native = writable_layer_obstacle("containerd", ContainerStorage{"native", upper, {}});
  REQUIRE(native);
  CHECK(*native == "native snapshotter: not overlayfs");
  // docker's and podman's driver names are not containerd's.
  CHECK(writable_layer_obstacle("containerd", ContainerStorage{"overlay2", upper, {}}));
  CHECK(writable_layer_obstacle("docker", ContainerStorage{"overlayfs", upper, {}}));
  auto none = writable_layer_obstacle("containerd", ContainerStorage{"overlayfs", "", {}});
  REQUIRE(none);

  auto why = writable_layer_obstacle("containerd", ContainerStorage{"overlayfs", upper, {}});
  if (::geteuid() != 0) {
    REQUIRE(why);
    CHECK(why->find("not root") != std::string::npos);
  } else if (why) {
    // Only the process's own capabilities may stand in the way; never "not read".
    CHECK(why->find("no CAP_SYS_ADMIN") != std::string::npos);
  }
}
