// run_audit against an in-memory runtime: what it asks the runtime, and the
// manifest cache policy (which images it may serve, and that it changes nothing).
#include "cdrift/layer/cache.hpp"
#include "cdrift/pipeline/audit.hpp"
#include "cdrift/report/json.hpp"
#include "pipeline_fake_runtime.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

using namespace cdrift;
using namespace cdrift::test;

namespace {

std::string base_layer() {
  return make_tar({tdir("etc"), tfile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), tdir("usr"),
                   tdir("usr/bin"), tfile("usr/bin/app", "#!/bin/sh\necho hi\n", 0755)});
}

// The image's files plus what the container changed.
std::string drifted_export() {
  return make_tar({tdir("etc"), tfile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), tdir("usr"),
                   tdir("usr/bin"), tfile("usr/bin/app", "#!/bin/sh\necho hi\n", 0755),
                   tfile("usr/bin/backdoor", "#!/bin/sh\nnc -l 4444\n", 0755)});
}

struct World {
  std::shared_ptr<FakeRuntimeState> state = std::make_shared<FakeRuntimeState>();
  FakeImage image = make_docker_archive({base_layer()});
  Runtimes runtimes;
  World() {
    state->images[image.config_digest] = image.archive;
    runtimes.add(std::make_unique<FakeRuntime>(state));
  }
  void container(const std::string& id, const std::string& name, std::string export_tar) {
    state->containers[id] = FakeContainer{id, name, image.config_digest, std::move(export_tar), {}};
    state->listing.push_back(id);
  }
  AuditRequest request(const std::string& container, ManifestCache* cache = nullptr) const {
    AuditRequest r;
    r.container = parse_source_spec(container);
    r.runtimes = &runtimes;
    r.cache = cache;
    r.today = "2024-06-01";
    return r;
  }
};

bool has_finding(const AuditReport& report, const std::string& path) {
  for (const auto& f : report.findings)
    if (f.change.path == path) return true;
  return false;
}

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); ++it)
    if (it->is_regular_file()) ++n;
  return n;
}

} // namespace

TEST_CASE("run_audit: a runtime container is inspected, exported and audited against its image") {
  World w;
  w.container("c1", "web", drifted_export());
  auto out = run_audit(w.request("docker:web"));
  REQUIRE_MESSAGE(out, (out ? "" : out.error().message));
  CHECK(has_finding(out->report, "/usr/bin/backdoor"));
  CHECK_FALSE(has_finding(out->report, "/usr/bin/app"));
  CHECK(out->report.container.id == "c1");
  CHECK(out->report.container.source == "docker:web");
  CHECK(out->report.container.created_epoch == 1714557600);
  // The image by the digest the runtime reported, named as a source.
  REQUIRE(out->report.image);
  CHECK(out->report.image->config_digest == w.image.config_digest);
  CHECK(out->report.image_source == "docker:" + w.image.config_digest);
  CHECK(w.state->inspects == 1);
  CHECK(w.state->exports == 1);
  CHECK(w.state->saves == 1);
  CHECK_FALSE(out->rules.rules.empty());
}

TEST_CASE("run_audit: request errors") {
  World w;
  w.container("c1", "web", drifted_export());
  SUBCASE("no image and a container that is not a runtime name") {
    AuditRequest r = w.request("export.tar");
    auto out = run_audit(r);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::usage);
    CHECK(out.error().message.find("--image is required") != std::string::npos);
  }
  SUBCASE("runtime names without runtimes") {
    AuditRequest r = w.request("docker:web");
    r.runtimes = nullptr;
    auto out = run_audit(r);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::usage);
  }
  SUBCASE("a container the runtime does not know") {
    auto out = run_audit(w.request("docker:gone"));
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::runtime);
    CHECK(out.error().message.find("No such container") != std::string::npos);
  }
  SUBCASE("an unknown runtime") {
    AuditRequest r = w.request("podman:web");
    auto out = run_audit(r);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::usage);
    CHECK(out.error().message.find("expected docker") != std::string::npos);
  }
  SUBCASE("a hostile name never reaches the runtime") {
    auto out = run_audit(w.request("docker:--help"));
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::usage);
    CHECK(w.state->inspects == 0);
  }
}

TEST_CASE("cache policy: a runtime image is read once, then served from the cache") {
  World w;
  w.container("c1", "web", drifted_export());
  TempDir dir;
  ManifestCache cache(dir / "cache");
  auto fresh = run_audit(w.request("docker:web", &cache));
  REQUIRE_MESSAGE(fresh, (fresh ? "" : fresh.error().message));
  CHECK(w.state->saves == 1);
  CHECK(cache.misses() == 1);
  CHECK(files_in(dir / "cache") == 1);

  auto cached = run_audit(w.request("docker:web", &cache));
  REQUIRE(cached);
  CHECK(w.state->saves == 1); // no `docker save` the second time
  CHECK(cache.hits() == 1);
  // Where the image manifest came from changes nothing in the reports.
  CHECK(render_json(fresh->report, {}) == render_json(cached->report, {}));
  CHECK(cached->report.image_source == "docker:" + w.image.config_digest);
}

TEST_CASE("cache policy: --image docker:REF asks the runtime for the digest, then caches") {
  World w;
  w.container("c1", "web", drifted_export());
  TempDir dir;
  ManifestCache cache(dir / "cache");
  const std::string tar = dir / "export.tar";
  std::ofstream(tar, std::ios::binary) << drifted_export();
  AuditRequest r = w.request(tar, &cache);
  r.image = parse_source_spec("docker:" + w.image.config_digest);
  auto first = run_audit(r);
  REQUIRE_MESSAGE(first, (first ? "" : first.error().message));
  auto second = run_audit(r);
  REQUIRE(second);
  CHECK(w.state->digests == 2);
  CHECK(w.state->saves == 1);
  CHECK(cache.hits() == 1);
  CHECK(render_json(first->report, {}) == render_json(second->report, {}));
}

TEST_CASE("cache policy: image files given by path are always read, never cached") {
  World w;
  TempDir dir;
  ManifestCache cache(dir / "cache");
  const std::string archive = dir / "image.tar";
  const std::string tar = dir / "export.tar";
  std::ofstream(archive, std::ios::binary) << w.image.archive;
  std::ofstream(tar, std::ios::binary) << drifted_export();
  AuditRequest r = w.request(tar, &cache);
  r.image = parse_source_spec(archive);
  for (int i = 0; i < 2; ++i) {
    auto out = run_audit(r);
    REQUIRE_MESSAGE(out, (out ? "" : out.error().message));
    CHECK(has_finding(out->report, "/usr/bin/backdoor"));
  }
  CHECK(cache.hits() == 0);
  CHECK(files_in(dir / "cache") == 0);
  CHECK(w.state->digests == 0);
}

TEST_CASE("cache policy: without a cache (--no-cache) every audit reads the image") {
  World w;
  w.container("c1", "web", drifted_export());
  REQUIRE(run_audit(w.request("docker:web")));
  REQUIRE(run_audit(w.request("docker:web")));
  CHECK(w.state->saves == 2);
  CHECK(w.state->digests == 0);
}

TEST_CASE("cache policy: an image that does not verify is an error and is not cached") {
  World w;
  w.container("c1", "web", drifted_export());
  // The archive's layer no longer matches the config's diff_id.
  std::string bad = w.image.archive;
  const std::string needle = "echo hi";
  auto pos = bad.find(needle);
  REQUIRE(pos != std::string::npos);
  bad.replace(pos, needle.size(), "echo HI");
  w.state->images[w.image.config_digest] = bad;
  TempDir dir;
  ManifestCache cache(dir / "cache");
  auto out = run_audit(w.request("docker:web", &cache));
  REQUIRE_FALSE(out);
  CHECK(out.error().kind == ErrorKind::integrity);
  CHECK(files_in(dir / "cache") == 0);
}
