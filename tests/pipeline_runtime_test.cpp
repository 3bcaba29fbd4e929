#include "cdrift/pipeline/runtime.hpp"
#include "cdrift/source/process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace cdrift;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cdrift-rt-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Result<std::string> read_everything(ByteSource& src) {
  std::string out;
  std::uint8_t buf[4096];
  for (;;) {
    auto n = src.read(buf, sizeof buf);
    if (!n) return fail(std::move(n).error());
    if (*n == 0) return out;
    out.append(reinterpret_cast<const char*>(buf), *n);
  }
}

ProcessOptions opts(std::string description, int timeout = 20) {
  ProcessOptions o;
  o.description = std::move(description);
  o.timeout_seconds = timeout;
  return o;
}

// A stand-in for the docker/podman CLI: records its argv (NUL-separated, so the
// test sees exactly the elements it got), prints a canned answer, exits as told.
struct FakeRuntime {
  TempDir tmp;
  std::string bin;
  FakeRuntime() {
    bin = tmp.path + "/fake-runtime";
    spit(bin, "#!/bin/sh\n"
              "d='" +
                  tmp.path +
                  "'\n"
                  ": > \"$d/argv\"\n"
                  "for a in \"$@\"; do printf '%s\\0' \"$a\" >> \"$d/argv\"; done\n"
                  "[ -f \"$d/stdout\" ] && cat \"$d/stdout\"\n"
                  "[ -f \"$d/stderr\" ] && cat \"$d/stderr\" >&2\n"
                  "exit $(cat \"$d/exit\" 2>/dev/null || echo 0)\n");
    REQUIRE(::chmod(bin.c_str(), 0755) == 0);
  }
  void answer(const std::string& out, int exit_code = 0, const std::string& err = "") {
    spit(tmp.path + "/stdout", out);
    spit(tmp.path + "/stderr", err);
    spit(tmp.path + "/exit", std::to_string(exit_code));
    fs::remove(tmp.path + "/argv");
  }
  bool ran() const { return fs::exists(tmp.path + "/argv"); }
  std::vector<std::string> argv() const {
    std::string raw = slurp(tmp.path + "/argv");
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < raw.size()) {
      std::size_t end = raw.find('\0', pos);
      out.push_back(raw.substr(pos, end - pos));
      pos = end + 1;
    }
    return out;
  }
  RuntimeOptions options() const {
    RuntimeOptions o;
    o.runtime_path = bin;
    o.timeout_seconds = 20;
    return o;
  }
};

const std::string config_hex = "3614cd8f870756ba7fd03f4f9485f05fb42e83f532eb52ae500962cd09367007";

const char* docker_inspect = R"([{
  "Id": "6c9a9fd49bb333d60d48be929fecaa71a79f96b52bb7bcab554dec8d5ce976cb",
  "Created": "2024-05-01T12:00:00.123456789+02:00",
  "Name": "/web",
  "Image": "sha256:3614cd8f870756ba7fd03f4f9485f05fb42e83f532eb52ae500962cd09367007",
  "State": {"Status": "running", "StartedAt": "2024-05-01T10:00:01.5Z"},
  "Config": {"User": "app", "Entrypoint": ["/usr/local/bin/demo-entry", "--serve"], "Image": "demo:latest"},
  "GraphDriver": {"Name": "overlay2", "Data": {
    "LowerDir": "/var/lib/docker/overlay2/abc-init/diff:/var/lib/docker/overlay2/l1/diff",
    "MergedDir": "/var/lib/docker/overlay2/abc/merged",
    "UpperDir": "/var/lib/docker/overlay2/abc/diff",
    "WorkDir": "/var/lib/docker/overlay2/abc/work"}}
}])";

const char* podman_inspect = R"([{
  "Id": "6e73c7a9f19b3aa21259d855eb41849e68914174bfdaaf6945e7b2ad1f8257c8",
  "Created": "2024-05-01T10:00:00Z",
  "Name": "p1",
  "Image": "3614cd8f870756ba7fd03f4f9485f05fb42e83f532eb52ae500962cd09367007",
  "ImageName": "localhost/demo:1",
  "State": {"StartedAt": "0001-01-01T00:00:00Z"},
  "Config": {"User": "", "Entrypoint": "/bin/sh -c", "Image": "localhost/demo:1"}
}])";

} // namespace

TEST_CASE("process: stdout streams through and a clean exit ends the stream") {
  auto p = ProcessSource::spawn({"/bin/echo", "hello", "$(x)", "a;b", "`id`"}, opts("echo"));
  REQUIRE(p);
  auto out = read_everything(**p);
  REQUIRE(out);
  // Each argv element arrives verbatim: no shell ever interprets them.
  CHECK(*out == "hello $(x) a;b `id`\n");
  std::uint8_t b;
  auto again = (*p)->read(&b, 1);
  REQUIRE(again);
  CHECK(*again == 0);
}

TEST_CASE("process: a non-zero exit is a runtime error quoting stderr's first line") {
  SUBCASE("/bin/false") {
    auto p = ProcessSource::spawn({"/bin/false"}, opts("false"));
    REQUIRE(p);
    auto out = read_everything(**p);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::runtime);
    CHECK(out.error().message == "false: exit status 1");
  }
  SUBCASE("stderr message, escaped") {
    auto p = ProcessSource::spawn(
        {"/bin/sh", "-c",
         "printf '\\n  Error: no such container \\033[31mweb\\n second line\\n' >&2; exit 3"},
        opts("docker export web"));
    REQUIRE(p);
    auto out = read_everything(**p);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind == ErrorKind::runtime);
    CHECK(out.error().message ==
          "docker export web: Error: no such container \\x1b[31mweb (exit status 3)");
  }
  SUBCASE("killed by a signal") {
    auto p = ProcessSource::spawn({"/bin/sh", "-c", "kill -TERM $$"}, opts("sh"));
    REQUIRE(p);
    auto out = read_everything(**p);
    REQUIRE_FALSE(out);
    CHECK(out.error().message.find("killed by signal SIGTERM") != std::string::npos);
  }
}

TEST_CASE("process: a stalled command times out instead of hanging") {
  auto start = std::chrono::steady_clock::now();
  auto p = ProcessSource::spawn({"sleep", "100"}, opts("docker export web", 1));
  REQUIRE(p);
  pid_t pid = (*p)->pid();
  auto out = read_everything(**p);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(out);
  CHECK(out.error().kind == ErrorKind::runtime);
  CHECK(out.error().message.starts_with("docker export web: timed out after 1 s"));
  CHECK(took < std::chrono::seconds(5));
  // Killed and reaped: the pid no longer exists.
  CHECK(::kill(pid, 0) == -1);
}

TEST_CASE("process: the process group is killed on timeout, grandchildren included") {
  TempDir tmp;
  std::string marker = tmp.path + "/grandchild.pid";
  auto p = ProcessSource::spawn({"/bin/sh", "-c", "sleep 100 & echo $! > '" + marker + "'; wait"},
                                opts("sh", 1));
  REQUIRE(p);
  auto out = read_everything(**p);
  REQUIRE_FALSE(out);
  std::string pid_text = slurp(marker);
  REQUIRE_FALSE(pid_text.empty());
  pid_t grandchild = static_cast<pid_t>(std::stol(pid_text));
  // The grandchild was killed (it may linger as a zombie of init briefly).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::string stat = slurp("/proc/" + std::to_string(grandchild) + "/stat");
    gone = stat.empty() || stat.find(") Z") != std::string::npos;
    if (!gone) ::usleep(20000);
  }
  CHECK(gone);
}

TEST_CASE("process: a missing program is a runtime error naming PATH") {
  auto p = ProcessSource::spawn({"cdrift-no-such-runtime-xyz", "ps"}, opts("x"));
  REQUIRE_FALSE(p);
  CHECK(p.error().kind == ErrorKind::runtime);
  CHECK(p.error().message ==
        "cdrift-no-such-runtime-xyz: not found in PATH (install it or pass --runtime-path)");
  auto q = ProcessSource::spawn({"/nonexistent/docker", "ps"}, opts("x"));
  REQUIRE_FALSE(q);
  CHECK(q.error().kind == ErrorKind::runtime);
  CHECK(q.error().message.starts_with("/nonexistent/docker: cannot run"));
}

TEST_CASE("process: stopping early kills and reaps the writer; a chatty stderr never blocks") {
  SUBCASE("early close") {
    // Even with SIGPIPE ignored here, the child gets the default disposition.
    auto old = std::signal(SIGPIPE, SIG_IGN);
    pid_t pid;
    {
      auto p = ProcessSource::spawn({"yes"}, opts("yes"));
      REQUIRE(p);
      pid = (*p)->pid();
      std::uint8_t buf[100];
      auto n = (*p)->read(buf, sizeof buf);
      REQUIRE(n);
      CHECK(*n > 0);
    }
    CHECK(::kill(pid, 0) == -1);
    std::signal(SIGPIPE, old);
  }
  SUBCASE("200 KB of stderr") {
    auto p = ProcessSource::spawn(
        {"/bin/sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x >&2; echo done"}, opts("sh"));
    REQUIRE(p);
    auto out = read_everything(**p);
    REQUIRE(out);
    CHECK(*out == "done\n");
    CHECK((*p)->stderr_text().size() == 4096);
  }
}

TEST_CASE("run_process: collects stdout, bounded") {
  auto ok = run_process({"/bin/echo", "[]"}, opts("echo"));
  REQUIRE(ok);
  CHECK(*ok == "[]\n");
  auto big = run_process({"/bin/sh", "-c", "head -c 100000 /dev/zero"}, opts("sh"), 1000);
  REQUIRE_FALSE(big);
  CHECK(big.error().kind == ErrorKind::runtime);
}

TEST_CASE("runtime names: hostile names are refused before anything runs") {
  FakeRuntime rt;
  rt.answer(docker_inspect);
  for (const std::string& bad :
       {std::string(""), std::string("-rf"), std::string("--help"), std::string("a\nb"),
        std::string("$(x)"), std::string("a;b"), std::string("a b"), std::string("`id`"),
        std::string("web\x1b[2J"), std::string(".hidden"), std::string("a|b"),
        std::string(257, 'a')}) {
    CAPTURE(bad);
    auto r = Runtimes::registered(rt.options()).inspect(parse_source_spec("docker:" + bad));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.find('\n') == std::string::npos);
    CHECK(r.error().message.find('\x1b') == std::string::npos);
    CHECK_FALSE(rt.ran());
    auto resolver = Runtimes::registered(rt.options()).resolver();
    SourceSpec spec = parse_source_spec("docker:" + bad);
    spec.location = bad; // even when it reaches the resolver directly
    auto s = resolver(spec, Side::container);
    CHECK_FALSE(s);
    CHECK_FALSE(rt.ran());
  }
}

TEST_CASE("runtime names: valid names reach the CLI as one argv element after --") {
  FakeRuntime rt;
  for (const std::string& good :
       {std::string("web"), std::string("my_app.1-x"),
        std::string("registry:5000/team/app:1.2@sha256:" + config_hex),
        std::string("sha256:" + config_hex), config_hex, std::string(256, 'a')}) {
    CAPTURE(good);
    rt.answer(docker_inspect);
    auto r = Runtimes::registered(rt.options()).inspect(parse_source_spec("docker:" + good));
    REQUIRE(r);
    CHECK(rt.argv() == std::vector<std::string>{"inspect", "--type", "container", "--", good});
  }
}

TEST_CASE("runtime inspect: docker's inspect output") {
  FakeRuntime rt;
  rt.answer(docker_inspect);
  auto r = Runtimes::registered(rt.options()).inspect(parse_source_spec("docker:web"));
  REQUIRE(r);
  const ContainerInfo& c = r->info;
  CHECK(c.source == "docker:web");
  CHECK(c.id == "6c9a9fd49bb333d60d48be929fecaa71a79f96b52bb7bcab554dec8d5ce976cb");
  CHECK(c.name == "web");
  CHECK(c.image == "demo:latest");
  CHECK(c.created == "2024-05-01T12:00:00.123456789+02:00");
  CHECK(c.started == "2024-05-01T10:00:01.5Z");
  CHECK(c.user == "app");
  CHECK(c.entrypoint == std::vector<std::string>{"/usr/local/bin/demo-entry", "--serve"});
  REQUIRE(c.created_epoch.has_value());
  CHECK(*c.created_epoch == 1714557600); // 2024-05-01T10:00:00Z
  CHECK(c.created_evidence.find("docker inspect") != std::string::npos);
  CHECK(r->config_digest == "sha256:" + config_hex);
  CHECK(r->image.form == SourceKind::runtime);
  CHECK(r->image.runtime == "docker");
  CHECK(r->image.location == "sha256:" + config_hex);
  CHECK(r->image.text == "docker:sha256:" + config_hex);
  CHECK(r->storage.driver == "overlay2");
  CHECK(r->storage.upper_dir == "/var/lib/docker/overlay2/abc/diff");
  CHECK(r->storage.lower_dirs == std::vector<std::string>{"/var/lib/docker/overlay2/abc-init/diff",
                                                          "/var/lib/docker/overlay2/l1/diff"});
}

TEST_CASE("runtime inspect: podman's inspect output (bare hex id, string entrypoint)") {
  FakeRuntime rt;
  rt.answer(podman_inspect);
  auto r = Runtimes::registered(rt.options()).inspect(parse_source_spec("podman:p1"));
  REQUIRE(r);
  CHECK(r->info.name == "p1");
  CHECK(r->info.image == "localhost/demo:1");
  CHECK(r->info.started.empty()); // Go's zero time means never started
  CHECK(r->info.entrypoint == std::vector<std::string>{"/bin/sh", "-c"});
  REQUIRE(r->info.created_epoch.has_value());
  CHECK(*r->info.created_epoch == 1714557600);
  CHECK(r->config_digest == "sha256:" + config_hex);
  CHECK(r->image.text == "podman:sha256:" + config_hex);
  CHECK(r->storage.driver.empty()); // no GraphDriver: nothing known, nothing made up
  CHECK(r->storage.upper_dir.empty());
  CHECK(r->storage.lower_dirs.empty());
}

TEST_CASE("runtime inspect: runtime failures are one-line runtime errors") {
  FakeRuntime rt;
  SUBCASE("no such container") {
    rt.answer("[]\n", 1, "Error: No such container: web\n");
    auto r = Runtimes::registered(rt.options()).inspect(parse_source_spec("docker:web"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::runtime);
    CHECK(r.error().message == "docker inspect web: Error: No such container: web (exit status 1)");
  }
  SUBCASE("daemon down") {
    rt.answer(
        "", 1,
        "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?\n");
    auto r = Runtimes::registered(rt.options()).inspect(parse_source_spec("docker:web"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::runtime);
    CHECK(r.error().message.find("Cannot connect to the Docker daemon") != std::string::npos);
  }
  SUBCASE("garbage output") {
    rt.answer("not json");
    auto r = Runtimes::registered(rt.options()).inspect(parse_source_spec("docker:web"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::runtime);
  }
  SUBCASE("no image id") {
    rt.answer(R"([{"Id": "abc", "Image": "latest; rm -rf /"}])");
    auto r = Runtimes::registered(rt.options()).inspect(parse_source_spec("docker:web"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::runtime);
  }
  SUBCASE("runtime binary missing") {
    RuntimeOptions o;
    o.runtime_path = rt.tmp.path + "/missing-docker";
    auto r = Runtimes::registered(o).inspect(parse_source_spec("docker:web"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::runtime);
  }
}

TEST_CASE("runtime resolver: export and save argv, stream and form") {
  FakeRuntime rt;
  auto resolver = Runtimes::registered(rt.options()).resolver();
  SUBCASE("container export") {
    rt.answer("tar bytes");
    auto s = resolver(parse_source_spec("docker:web"), Side::container);
    REQUIRE(s);
    CHECK(s->description == "docker export web");
    CHECK(s->form == SourceKind::rootfs_tar);
    auto data = read_everything(*s->stream);
    REQUIRE(data);
    CHECK(*data == "tar bytes");
    CHECK(rt.argv() == std::vector<std::string>{"export", "--", "web"});
  }
  SUBCASE("docker save by id") {
    rt.answer("archive");
    auto s = resolver(parse_source_spec("docker:sha256:" + config_hex), Side::image);
    REQUIRE(s);
    CHECK(s->form == SourceKind::docker_archive);
    REQUIRE(read_everything(*s->stream));
    CHECK(rt.argv() == std::vector<std::string>{"save", "--", "sha256:" + config_hex});
  }
  SUBCASE("podman save as docker-archive") {
    rt.answer("archive");
    auto s = resolver(parse_source_spec("podman:" + config_hex), Side::image);
    REQUIRE(s);
    CHECK(s->description == "podman save " + config_hex);
    REQUIRE(read_everything(*s->stream));
    CHECK(rt.argv() ==
          std::vector<std::string>{"save", "--format", "docker-archive", "--", config_hex});
  }
  SUBCASE("a failing export surfaces at the end of the stream") {
    rt.answer("partial", 1, "Error response from daemon: container web is gone\n");
    auto s = resolver(parse_source_spec("docker:web"), Side::container);
    REQUIRE(s);
    auto data = read_everything(*s->stream);
    REQUIRE_FALSE(data);
    CHECK(data.error().kind == ErrorKind::runtime);
    CHECK(data.error().message ==
          "docker export web: Error response from daemon: container web is gone (exit status 1)");
  }
  SUBCASE("unknown runtime") {
    SourceSpec spec = parse_source_spec("docker:web");
    spec.runtime = "lxc";
    auto s = resolver(spec, Side::container);
    REQUIRE_FALSE(s);
    CHECK_FALSE(rt.ran());
  }
}

TEST_CASE("runtime list_running and image_config_digest") {
  FakeRuntime rt;
  rt.answer("bbb111\naaa222\n\nbbb111\n");
  auto ids = Runtimes::registered(rt.options()).list_running("docker");
  REQUIRE(ids);
  CHECK(*ids == std::vector<std::string>{"aaa222", "bbb111"});
  CHECK(rt.argv() == std::vector<std::string>{"ps", "-q", "--no-trunc"});

  rt.answer("-rf\n");
  auto hostile = Runtimes::registered(rt.options()).list_running("podman");
  REQUIRE_FALSE(hostile);
  // The runtime printed it, not the user: exit 3, not 2.
  CHECK(hostile.error().kind == ErrorKind::runtime);

  rt.answer("[{\"Id\": \"" + config_hex + "\"}]");
  auto digest = Runtimes::registered(rt.options())
                    .image_config_digest(parse_source_spec("podman:localhost/demo:1"));
  REQUIRE(digest);
  CHECK(*digest == "sha256:" + config_hex);
  CHECK(rt.argv() == std::vector<std::string>{"image", "inspect", "--", "localhost/demo:1"});
}
