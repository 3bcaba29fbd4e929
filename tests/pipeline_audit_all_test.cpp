// run_audit_all against an in-memory runtime: every container once, each image
// read once, containers that vanish mid-run skipped, other failures never.
#include "cdrift/layer/cache.hpp"
#include "cdrift/pipeline/audit.hpp"
#include "pipeline_fake_runtime.hpp"

#include <doctest/doctest.h>

using namespace cdrift;
using namespace cdrift::test;

namespace {

std::string layer() {
  return make_tar({tdir("etc"), tfile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), tdir("bin"),
                   tfile("bin/sh", "ELF", 0755)});
}

std::string export_with(std::vector<TarEntry> extra) {
  std::vector<TarEntry> entries{tdir("etc"), tfile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                                tdir("bin"), tfile("bin/sh", "ELF", 0755)};
  for (auto& e : extra)
    entries.push_back(std::move(e));
  return make_tar(entries);
}

struct Fleet {
  std::shared_ptr<FakeRuntimeState> state = std::make_shared<FakeRuntimeState>();
  FakeImage image = make_docker_archive({layer()});
  Runtimes runtimes;
  Fleet() {
    state->images[image.config_digest] = image.archive;
    runtimes.add(std::make_unique<FakeRuntime>(state));
  }
  void container(const std::string& id, std::string export_tar) {
    state->containers[id] =
        FakeContainer{id, "n-" + id, image.config_digest, std::move(export_tar), {}};
    state->listing.push_back(id);
  }
  AuditAllRequest request(ManifestCache* cache = nullptr) const {
    AuditAllRequest r;
    r.runtime = "docker";
    r.each.runtimes = &runtimes;
    r.each.cache = cache;
    r.each.today = "2024-06-01";
    return r;
  }
};

} // namespace

TEST_CASE("run_audit_all: every running container, by id, each image read once") {
  Fleet f;
  f.container("ccc", export_with({tfile("tmp-evil", "x", 0755)}));
  f.container("aaa", export_with({}));
  f.container("bbb", export_with({tfile("etc/shadow", "root:*:1::::::\n", 0600)}));
  f.state->listing.push_back("aaa"); // runtimes may repeat themselves
  auto out = run_audit_all(f.request());
  REQUIRE_MESSAGE(out, (out ? "" : out.error().message));
  REQUIRE(out->reports.size() == 3);
  CHECK(out->reports[0].container.id == "aaa");
  CHECK(out->reports[1].container.id == "bbb");
  CHECK(out->reports[2].container.id == "ccc");
  CHECK(out->reports[0].findings.empty());
  CHECK_FALSE(out->reports[1].findings.empty());
  CHECK(out->skipped.empty());
  CHECK(f.state->saves == 1); // one image, read once
  CHECK(f.state->exports == 3);
  CHECK_FALSE(out->rules.rules.empty());
}

TEST_CASE("run_audit_all: containers that vanish mid-run are skipped, the rest audited") {
  Fleet f;
  f.container("aaa", export_with({}));
  f.container("bbb", export_with({}));
  f.container("ccc", export_with({tfile("evil", "x", 0755)}));
  f.state->vanish_before_inspect.insert("aaa");
  f.state->vanish_before_export.insert("bbb");
  auto out = run_audit_all(f.request());
  REQUIRE_MESSAGE(out, (out ? "" : out.error().message));
  REQUIRE(out->reports.size() == 1);
  CHECK(out->reports[0].container.id == "ccc");
  REQUIRE(out->skipped.size() == 2);
  CHECK(out->skipped[0].container == "docker:aaa");
  CHECK(out->skipped[0].reason.find("No such container") != std::string::npos);
  CHECK(out->skipped[1].container == "docker:bbb");
  CHECK(out->skipped[1].reason.find("docker export bbb") != std::string::npos);
}

TEST_CASE("run_audit_all: every container gone is an outcome with no reports") {
  Fleet f;
  f.container("aaa", export_with({}));
  f.state->vanish_before_inspect.insert("aaa");
  auto out = run_audit_all(f.request());
  REQUIRE(out);
  CHECK(out->reports.empty());
  CHECK(out->skipped.size() == 1);
}

TEST_CASE("run_audit_all: a runtime listing garbage as ids is a runtime error") {
  for (const std::string& garbage : {std::string("--help"), std::string("../.."),
                                     std::string("id\x1b[2J"), std::string("a b")}) {
    CAPTURE(garbage);
    Fleet f;
    f.container("aaa", export_with({}));
    f.state->listing.push_back(garbage);
    auto out = run_audit_all(f.request());
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::runtime);
    CHECK(out.error().message.find('\x1b') == std::string::npos);
    CHECK(f.state->inspects == 0); // nothing was audited from a lying listing
  }
}

TEST_CASE("run_audit_all: a failure that is not the runtime's is never skipped") {
  Fleet f;
  f.container("aaa", export_with({}));
  // A hostile export (a member escaping the root) fails the whole run.
  f.container("bbb", make_tar({tfile("../../etc/evil", "x")}));
  auto out = run_audit_all(f.request());
  REQUIRE_FALSE(out);
  CHECK(out.error().kind == ErrorKind::input);
}

TEST_CASE("run_audit_all: no running containers, no work (and no rule pack read)") {
  Fleet f;
  AuditAllRequest r = f.request();
  r.each.rule_dirs = {"/nonexistent/rules"};
  auto out = run_audit_all(r);
  REQUIRE(out);
  CHECK(out->reports.empty());
  CHECK(out->skipped.empty());
}

TEST_CASE("run_audit_all: the image comes from the cache on the next run") {
  Fleet f;
  f.container("aaa", export_with({}));
  f.container("bbb", export_with({}));
  TempDir dir;
  ManifestCache cache(dir / "cache");
  REQUIRE(run_audit_all(f.request(&cache)));
  CHECK(f.state->saves == 1);
  REQUIRE(run_audit_all(f.request(&cache)));
  CHECK(f.state->saves == 1);
  CHECK(cache.hits() == 1);
}
