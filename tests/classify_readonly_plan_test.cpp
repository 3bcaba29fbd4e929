// The read-only root filesystem plan: which directories, which notes, and the
// Kubernetes and docker renderings of it (docs/readonly.md).
#include "cdrift/classify/finding.hpp"
#include "cdrift/classify/readonly_plan.hpp"
#include "cdrift/report/json.hpp"
#include "cdrift/report/sarif.hpp"
#include "cdrift/report/text.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace cdrift;

namespace {

Entry file_at(std::string path, std::uint64_t size = 4) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::file;
  e.mode = 0644;
  e.size = size;
  return e;
}

Entry dir_at(std::string path) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::dir;
  e.mode = 0755;
  return e;
}

Finding added(Entry after, OriginKind origin = OriginKind::runtime_write) {
  Finding f;
  f.change.path = after.path;
  f.change.kind = ChangeKind::added;
  f.change.after = std::move(after);
  f.origin.kind = origin;
  return f;
}

Finding modified(Entry before, Entry after, std::vector<Field> fields,
                 OriginKind origin = OriginKind::runtime_write) {
  Finding f;
  f.change.path = after.path;
  f.change.kind = ChangeKind::modified;
  f.change.before = std::move(before);
  f.change.after = std::move(after);
  f.change.fields = std::move(fields);
  f.origin.kind = origin;
  return f;
}

Finding deleted(Entry before, OriginKind origin = OriginKind::runtime_write) {
  Finding f;
  f.change.path = before.path;
  f.change.kind = ChangeKind::deleted;
  f.change.before = std::move(before);
  f.origin.kind = origin;
  return f;
}

Manifest image_with(std::vector<Entry> entries) {
  Manifest m;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  m.entries = std::move(entries);
  return m;
}

std::vector<std::string> paths_of(const ReadOnlyPlan& p) {
  std::vector<std::string> out;
  for (const auto& w : p.writable_paths)
    out.push_back(w.path);
  return out;
}

bool has_note(const ReadOnlyPlan& p, std::string_view needle) {
  return std::any_of(p.notes.begin(), p.notes.end(),
                     [&](const std::string& n) { return n.find(needle) != std::string::npos; });
}

const Manifest base_image = image_with({dir_at("/app"), file_at("/app/app.sh"), dir_at("/run"),
                                        dir_at("/tmp"), dir_at("/var"), dir_at("/var/log")});

} // namespace

TEST_CASE("read-only plan: no findings is ready with no mount") {
  AuditReport r;
  ReadOnlyPlan p = plan_read_only(r, base_image);
  CHECK(p.ready);
  CHECK(p.writable_paths.empty());
  CHECK(p.notes.empty());
  CHECK(p.docker_run == std::vector<std::string>{"--read-only"});
  CHECK(p.kubernetes.find("readOnlyRootFilesystem: true\n") != std::string::npos);
  CHECK(p.kubernetes.find("volumeMounts:") == std::string::npos);
  ReadOnlyPlan fallback; // what a report built without classify_diff carries
  CHECK(fallback.kubernetes == p.kubernetes);
  CHECK(fallback.docker_run == p.docker_run);

  // The runtime's placeholders are not the application's writes.
  r.ignored.push_back({"/etc/hostname", "runtime placeholder: docker (CDR-IGN-003)"});
  CHECK(plan_read_only(r, base_image).ready);
}

TEST_CASE("read-only plan: the directory choice") {
  AuditReport r;
  r.findings.push_back(added(file_at("/app/data/cache.db")));
  r.findings.push_back(added(dir_at("/app/data"))); // the application created it
  r.findings.push_back(added(file_at("/run/app.pid")));
  r.findings.push_back(added(file_at("/run/sub/x.sock")));
  r.findings.push_back(added(dir_at("/var/log/app")));
  r.findings.push_back(added(file_at("/var/log/app/app.log")));
  r.findings.push_back(added(dir_at("/var/log/app/old")));
  r.findings.push_back(added(file_at("/tmp/work.123")));
  r.findings.push_back(deleted(file_at("/var/cache/app/stale")));
  ReadOnlyPlan p = plan_read_only(r, base_image);
  CHECK_FALSE(p.ready); // something was written
  CHECK(paths_of(p) ==
        std::vector<std::string>{"/app/data", "/run", "/tmp", "/var/cache/app", "/var/log/app"});
  CHECK(p.notes.empty());

  SUBCASE("siblings that sort between a directory and its children stay covered") {
    AuditReport s;
    s.findings.push_back(added(file_at("/srv/a/x")));
    s.findings.push_back(added(file_at("/srv/a-b/y")));
    s.findings.push_back(added(file_at("/srv/a/deep/z")));
    CHECK(paths_of(plan_read_only(s, base_image)) ==
          std::vector<std::string>{"/srv/a", "/srv/a-b"});
  }
}

TEST_CASE("read-only plan: writes into / or a system directory are notes, not mounts") {
  AuditReport r;
  r.findings.push_back(added(file_at("/app.lock")));
  r.findings.push_back(added(file_at("/etc/app/state")));
  r.findings.push_back(added(file_at("/usr/lib/x/y")));
  r.findings.push_back(added(file_at("/usr/src/app/data/ok"))); // a WORKDIR under /usr is fine
  ReadOnlyPlan p = plan_read_only(r, base_image);
  CHECK(paths_of(p) == std::vector<std::string>{"/usr/src/app/data"});
  CHECK(has_note(p, "/app.lock straight into / (the root)"));
  CHECK(has_note(p, "/etc/app/state straight into /etc/app, a system directory"));
  CHECK(has_note(p, "/usr/lib/x/y straight into /usr/lib/x"));
}

TEST_CASE("read-only plan: drift is never a writable path and makes the plan not ready") {
  AuditReport r;
  r.findings.push_back(added(file_at("/opt/kit/a.sh"), OriginKind::shell_edit));
  r.findings.push_back(added(file_at("/var/log/app/evil"), OriginKind::copied_in));
  r.findings.push_back(added(file_at("/usr/bin/curl"), OriginKind::package_manager));
  r.findings.push_back(added(file_at("/tmp/app.tmp")));
  ReadOnlyPlan p = plan_read_only(r, base_image);
  CHECK_FALSE(p.ready);
  CHECK(paths_of(p) == std::vector<std::string>{"/tmp"}); // only the application's own write
  REQUIRE(!p.notes.empty());
  CHECK(p.notes[0].find("drift: 3 changes (1 copied-in, 1 shell-edit, 1 package-manager)") == 0);
  CHECK(p.notes[0].find("/opt/kit/a.sh, /usr/bin/curl, /var/log/app/evil") != std::string::npos);
  CHECK(p.notes[0].find("never by mounting") != std::string::npos);

  AuditReport only_drift;
  only_drift.findings.push_back(added(file_at("/etc/cron.d/x"), OriginKind::shell_edit));
  ReadOnlyPlan q = plan_read_only(only_drift, base_image);
  CHECK_FALSE(q.ready);
  CHECK(q.writable_paths.empty());
  CHECK(q.docker_run == std::vector<std::string>{"--read-only"});

  AuditReport unknown;
  unknown.findings.push_back(deleted(file_at("/srv/x"), OriginKind::unknown));
  ReadOnlyPlan u = plan_read_only(unknown, base_image);
  CHECK_FALSE(u.ready);
  CHECK(u.writable_paths.empty());
  CHECK(has_note(u, "1 change of unknown origin, left out of the plan: /srv/x"));
}

TEST_CASE("read-only plan: notes for hidden image files, in-place rewrites and ownership") {
  Manifest image =
      image_with({dir_at("/var/log/app"), file_at("/var/log/app/README"),
                  file_at("/var/log/app/keep.log"), dir_at("/app"), file_at("/app/config.yaml"),
                  file_at("/app/app.sh"), dir_at("/srv"), dir_at("/srv/data")});
  image.image = ImageInfo{};
  image.image->user = "1000";

  AuditReport r;
  r.findings.push_back(added(file_at("/var/log/app/app.log")));
  // Rewritten in place outside a state directory: a ConfigMap, not a mount of /app.
  r.findings.push_back(
      modified(file_at("/app/config.yaml", 4), file_at("/app/config.yaml", 9), {Field::content}));
  // Rewritten in place inside a state directory: the log directory's mount covers it.
  r.findings.push_back(modified(file_at("/var/log/app/keep.log", 4),
                                file_at("/var/log/app/keep.log", 9), {Field::content}));
  // chmod of an image file: set it in the image.
  Entry before = file_at("/app/app.sh");
  Entry after = before;
  after.mode = 0755;
  r.findings.push_back(modified(before, after, {Field::mode}));
  // A directory the application created, outside a tmpfs: root-owned as a new volume.
  r.findings.push_back(added(file_at("/srv/cache/blob")));
  r.findings.push_back(added(dir_at("/srv/cache")));
  r.findings.push_back(added(file_at("/srv/data/ok"))); // in the image: docker copies ownership

  ReadOnlyPlan p = plan_read_only(r, image);
  CHECK(paths_of(p) == std::vector<std::string>{"/srv/cache", "/srv/data", "/var/log/app"});
  CHECK(has_note(p, "the image ships 2 entries under /var/log/app (/var/log/app/README, "
                    "/var/log/app/keep.log), which an emptyDir"));
  CHECK(has_note(p, "init container, or mount a subdirectory"));
  CHECK(has_note(p, "rewrote /app/config.yaml, a file from the image, in place"));
  CHECK(has_note(p, "ConfigMap"));
  CHECK_FALSE(has_note(p, "rewrote /var/log/app/keep.log"));
  CHECK(has_note(p, "mode, owner or xattrs of /app/app.sh"));
  CHECK(has_note(p, "/srv/cache is not in the image"));
  CHECK_FALSE(has_note(p, "/srv/data is not in the image"));

  SUBCASE("as root, a new volume's owner is no problem") {
    AuditReport root = r;
    root.container.user = "0:0";
    CHECK_FALSE(has_note(plan_read_only(root, image), "is not in the image"));
  }
}

TEST_CASE("read-only plan: --ignore'd changes and names no output can carry") {
  AuditReport r;
  r.ignored.push_back({"/var/cache/x", "--ignore /var/cache/**"});
  r.findings.push_back(added(file_at(std::string("/srv/caf\xe9/x"))));
  r.findings.push_back(added(file_at("/srv/a:b/x")));
  r.findings.push_back(added(file_at("/srv/new\nline/x")));
  ReadOnlyPlan p = plan_read_only(r, base_image);
  CHECK_FALSE(p.ready);
  CHECK(p.writable_paths.empty());
  CHECK(has_note(p, "1 change left out by --ignore are not in the plan: /var/cache/x"));
  CHECK(std::count_if(p.notes.begin(), p.notes.end(), [](const std::string& n) {
          return n.find("no YAML snippet or docker flag can carry exactly") != std::string::npos;
        }) == 3);

  AuditReport only_ignored;
  only_ignored.ignored.push_back({"/var/cache/x", "--ignore /var/cache/**"});
  CHECK_FALSE(plan_read_only(only_ignored, base_image).ready);
}

TEST_CASE("read-only plan: Kubernetes YAML and docker flags") {
  AuditReport r;
  r.findings.push_back(added(file_at("/app/data/cache.db")));
  r.findings.push_back(added(file_at("/tmp/t")));
  r.findings.push_back(added(file_at("/app/tmp/t")));
  r.findings.push_back(added(file_at("/srv/My Data/x")));
  r.findings.push_back(added(file_at("/srv/my-data/y"))); // same volume name: made unique
  ReadOnlyPlan p = plan_read_only(r, base_image);
  CHECK(p.docker_run == std::vector<std::string>{"--read-only", "-v", "app-data:/app/data",
                                                 "--tmpfs", "/app/tmp", "-v",
                                                 "srv-my-data:/srv/My Data", "-v",
                                                 "srv-my-data-2:/srv/my-data", "--tmpfs", "/tmp"});
  CHECK(p.kubernetes == "# Merge securityContext and volumeMounts into the container, volumes "
                        "into the pod spec.\n"
                        "securityContext:\n"
                        "  readOnlyRootFilesystem: true\n"
                        "volumeMounts:\n"
                        "  - name: app-data\n"
                        "    mountPath: \"/app/data\"\n"
                        "  - name: app-tmp\n"
                        "    mountPath: \"/app/tmp\"\n"
                        "  - name: srv-my-data\n"
                        "    mountPath: \"/srv/My Data\"\n"
                        "  - name: srv-my-data-2\n"
                        "    mountPath: \"/srv/my-data\"\n"
                        "  - name: tmp\n"
                        "    mountPath: \"/tmp\"\n"
                        "volumes:\n"
                        "  - name: app-data\n"
                        "    emptyDir: {}\n"
                        "  - name: app-tmp\n"
                        "    emptyDir:\n"
                        "      medium: Memory\n"
                        "  - name: srv-my-data\n"
                        "    emptyDir: {}\n"
                        "  - name: srv-my-data-2\n"
                        "    emptyDir: {}\n"
                        "  - name: tmp\n"
                        "    emptyDir:\n"
                        "      medium: Memory\n");
  for (const auto& w : p.writable_paths) {
    CHECK(w.volume.size() >= 2);
    CHECK(w.volume.size() <= 63);
  }

  SUBCASE("volume names stay DNS-1123 labels for long and odd paths") {
    AuditReport s;
    s.findings.push_back(added(file_at("/" + std::string(80, 'a') + "/x")));
    s.findings.push_back(added(file_at("/_/x")));
    ReadOnlyPlan q = plan_read_only(s, base_image);
    REQUIRE(q.writable_paths.size() == 2);
    CHECK(q.writable_paths[0].volume == "data"); // "/_"
    CHECK(q.writable_paths[1].volume == std::string(63, 'a'));
  }
}

TEST_CASE("read-only plan: JSON and text renderings") {
  AuditReport r;
  r.findings.push_back(added(file_at("/srv/d/x")));
  r.findings.push_back(added(file_at(std::string("/srv/caf\xe9/x"))));
  r.read_only_plan = plan_read_only(r, base_image);
  auto j = nlohmann::json::parse(render_json(r, JsonOptions{}));
  const auto& plan = j["read_only_plan"];
  std::vector<std::string> keys;
  for (auto it = plan.begin(); it != plan.end(); ++it)
    keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  CHECK(keys ==
        std::vector<std::string>{"docker_run", "kubernetes", "notes", "ready", "writable_paths"});
  CHECK(plan["ready"] == false);
  CHECK(plan["writable_paths"] == nlohmann::json::array({"/srv/d"}));
  CHECK(plan["docker_run"] == nlohmann::json::array({"--read-only", "-v", "srv-d:/srv/d"}));
  // The non-UTF-8 name travels lossy in the note, and the JSON stays valid.
  CHECK(plan["notes"][0].get<std::string>().find("/srv/caf\xef\xbf\xbd") != std::string::npos);

  auto sarif = nlohmann::json::parse(render_sarif(r, nullptr, JsonOptions{}));
  const auto& ro = sarif["runs"][0]["properties"]["readOnlyPlan"];
  CHECK(ro["writablePaths"] == plan["writable_paths"]);
  CHECK(ro["dockerRun"] == plan["docker_run"]);
  CHECK(ro["notes"] == plan["notes"]);

  std::string text = render_text(r, TextOptions{});
  auto at = text.find("To run this container read-only: make /srv/d writable\n");
  REQUIRE(at != std::string::npos);
  CHECK(text.find("  docker run --read-only -v srv-d:/srv/d IMAGE\n", at) != std::string::npos);
  CHECK(text.find("    readOnlyRootFilesystem: true\n", at) != std::string::npos);
  CHECK(text.find("/srv/caf\\xe9", at) != std::string::npos); // escaped for the terminal
  CHECK(text.rfind("findings") > at);                         // the summary line stays last

  AuditReport spaced;
  spaced.findings.push_back(added(file_at("/srv/My Data/x")));
  spaced.read_only_plan = plan_read_only(spaced, base_image);
  CHECK(render_text(spaced, TextOptions{})
            .find("docker run --read-only -v 'srv-my-data:/srv/My Data' IMAGE\n") !=
        std::string::npos);

  AuditReport clean;
  clean.read_only_plan = plan_read_only(clean, base_image);
  CHECK(
      render_text(clean, TextOptions{}).find("To run this container read-only: it wrote nothing") !=
      std::string::npos);
}
