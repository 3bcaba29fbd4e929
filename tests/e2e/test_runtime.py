#!/usr/bin/env python3
"""Real container runtimes end to end: starts dockerd and podman (scripts/runtime-env.sh),
builds a two-layer image locally (import of the fixture rootfs, then a build adding real
binaries; no registry, no network), and for each scenario runs a fresh container, mutates
it the way operators and attackers do, and audits it through `docker:NAME`/`podman:NAME`
and through `export` + `save` archives. Checks findings, origins and severities, that
every path `docker diff`/`podman diff` reports is accounted for, the touch -r edit that
`docker diff` misses, the image manifest cache (miss, hit, tampered entry), --all, and
the error paths. A runtime that cannot start is SKIPPED loudly and counts as a failure
unless CDRIFT_ALLOW_RUNTIME_SKIP=1."""

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import describe  # noqa: E402

SCRIPT = os.path.join(e2elib.REPO, "scripts", "runtime-env.sh")
IMAGE = "cdrift-e2e:1"
BASE = "cdrift-e2e-base:1"
SEVERITY = ["info", "low", "medium", "high", "critical"]
# Real programs the scenarios run inside the container (the fixture's are fake ELFs).
PROGRAMS = ["dash", "sed", "sleep", "cat", "chmod", "touch", "rm", "cp", "mkdir", "id", "ls"]
AUTHORIZED_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForCdriftTestsOnly000000000000 attacker@evil"

s = e2elib.Suite(__doc__)
skipped = []


def terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


signal.signal(signal.SIGTERM, terminate)


def sev(name):
    return SEVERITY.index(name) if name in SEVERITY else -1


class Runtime:
    def __init__(self, name, env):
        self.name = name
        self.env = env
        self.image_id = None
        self.archive = None
        self.counter = 0

    def cmd(self, *args, timeout=120, stdout=subprocess.PIPE):
        try:
            return subprocess.run([self.name] + [str(a) for a in args], env=self.env, stdout=stdout,
                                  stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, -999, b"", b"TIMEOUT")

    def ok(self, *args, **kw):
        r = self.cmd(*args, **kw)
        if r.returncode != 0:
            raise RuntimeError("%s %s: exit %s: %s" % (self.name, " ".join(map(str, args)), r.returncode,
                                                        r.stderr.decode(errors="replace").strip()[:400]))
        return r

    def cdrift(self, *args, extra_env=None, timeout=180):
        env = dict(self.env)
        env.update(extra_env or {})
        cmd = [s.cdrift] + [str(a) for a in args]
        if s.args.v:
            print("  $ " + " ".join(cmd))
        try:
            return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(cmd, -999, b"", b"TIMEOUT after %ds" % timeout)

    def fresh_container(self, scenario):
        self.counter += 1
        name = "cdrift-%s-%d" % (scenario, self.counter)
        self.ok("run", "-d", "--name", name, "--network", "none", IMAGE, "sleep", "1000")
        return name

    def diff(self, name):
        out = self.ok("diff", name).stdout.decode()
        res = {}
        for line in out.splitlines():
            if len(line) > 2 and line[1] == " ":
                res[line[2:]] = line[0]
        return res


def start_runtime(name, state_dir):
    if os.geteuid() != 0:
        return None, "needs root (dockerd/podman run as root on these machines)"
    env = dict(os.environ)
    env["CDRIFT_RT_DIR"] = state_dir
    try:
        r = subprocess.run([SCRIPT, "start", name], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=600)
    except subprocess.TimeoutExpired:
        return None, "runtime-env.sh start %s timed out" % name
    if r.returncode != 0:
        return None, "runtime-env.sh start %s failed: %s" % (
            name, r.stderr.decode(errors="replace").strip().replace("\n", " | ")[-600:])
    for line in r.stdout.decode().splitlines():
        if line.startswith("export ") and "=" in line:
            k, v = line[len("export "):].split("=", 1)
            env[k] = v
    # The CLI finds the daemon through these; a test-local cache keeps runs independent.
    env["XDG_CACHE_HOME"] = os.path.join(s.work, "cache-" + name)
    shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
    env.pop("CDRIFT_DEBUG_CACHE", None)
    return env, ""


def build_context(ctx):
    """Build context: a Dockerfile adding the host's real programs and their libraries
    on top of the imported fixture rootfs (merged-usr, x86_64 multiarch paths)."""
    if os.path.exists(ctx):
        shutil.rmtree(ctx)
    bindir = os.path.join(ctx, "add", "usr", "bin")
    libdir = os.path.join(ctx, "add", "usr", "lib", "x86_64-linux-gnu")
    os.makedirs(bindir)
    os.makedirs(libdir)
    libs = set()
    for p in PROGRAMS:
        src = shutil.which(p) or "/usr/bin/" + p
        shutil.copy(os.path.realpath(src), os.path.join(bindir, p))
        os.chmod(os.path.join(bindir, p), 0o755)
        out = subprocess.run(["ldd", os.path.realpath(src)], stdout=subprocess.PIPE).stdout.decode()
        for line in out.splitlines():
            parts = line.split()
            if "=>" in parts and parts[parts.index("=>") + 1].startswith("/"):
                libs.add((parts[0], parts[parts.index("=>") + 1]))
            elif parts and parts[0].startswith("/") and "ld-linux" in parts[0]:
                libs.add((os.path.basename(parts[0]), parts[0]))
    for soname, path in sorted(libs):
        shutil.copy(os.path.realpath(path), os.path.join(libdir, soname))
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM %s\nCOPY add/ /\n" % BASE)


def prepare_image(rt):
    ctx = os.path.join(s.work, "ctx-" + rt.name)
    build_context(ctx)
    rt.ok("import", s.fixture("rootfs.tar"), BASE)
    env_build = dict(rt.env)
    if rt.name == "docker":
        env_build["DOCKER_BUILDKIT"] = "0"  # the classic builder: no buildx needed, no network
    r = subprocess.run([rt.name, "build", "--network", "none", "-t", IMAGE, ctx], env=env_build,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("%s build failed: %s" % (rt.name, r.stderr.decode(errors="replace")[-400:]))
    info = json.loads(rt.ok("image", "inspect", IMAGE).stdout)[0]
    rt.image_id = info["Id"] if info["Id"].startswith("sha256:") else "sha256:" + info["Id"]
    layers = info.get("RootFS", {}).get("Layers", [])
    s.check("%s: the test image has 2 layers" % rt.name, len(layers) == 2, "got %d" % len(layers))
    rt.archive = os.path.join(s.work, "%s-save.tar" % rt.name)
    with open(rt.archive, "wb") as f:
        args = ["save"] + (["--format", "docker-archive"] if rt.name == "podman" else []) + [IMAGE]
        rt.ok(*args, stdout=f, timeout=300)


def host_tool(path):
    """A real executable with a foreign owner and an old mtime, as an operator's copy."""
    shutil.copy(os.path.realpath(shutil.which("id") or "/usr/bin/id"), path)
    os.chmod(path, 0o755)
    os.chown(path, 1234, 5678)
    old = time.time() - 3 * 86400
    os.utime(path, (old, old))


def scenarios(rt):
    tool = os.path.join(s.work, "evil-tool")
    host_tool(tool)
    docker = rt.name == "docker"
    return [
        {"name": "untouched", "do": [], "expect": {}},
        {"name": "copied-binary",
         "do": [("cp", tool, "{c}:/usr/local/bin/evil-tool")],
         "expect": {"/usr/local/bin/evil-tool": {"change": "added", "origin": "copied-in",
                                                 "owner": (1234, 5678) if docker else (0, 0)}}},
        {"name": "passwd-uid0",
         "do": [("exec", "{c}", "sh", "-c", "sed -i '$ a backdoor:x:0:0::/root:/bin/sh' /etc/passwd")],
         "expect": {"/etc/passwd": {"change": "modified", "origin": "shell-edit", "severity": "critical"}}},
        {"name": "setuid",
         "do": [("exec", "{c}", "chmod", "u+s", "/usr/bin/id")],
         "expect": {"/usr/bin/id": {"change": "modified", "fields": ["mode"], "min_severity": "high"}}},
        {"name": "deletion",
         "do": [("exec", "{c}", "rm", "/etc/debian_version")],
         "expect": {"/etc/debian_version": {"change": "deleted"}}},
        {"name": "authorized-keys",
         "do": [("exec", "{c}", "sh", "-c",
                 "mkdir -p /root/.ssh && echo '%s' >> /root/.ssh/authorized_keys" % AUTHORIZED_KEY)],
         "expect": {"/root/.ssh": {"change": "added"},
                    "/root/.ssh/authorized_keys": {"change": "added", "min_severity": "high",
                                                   "origin": "shell-edit"}}},
        # Same size, same inode, mtime restored: the reference copy lives on the /dev/shm
        # tmpfs so nothing else in the container's layer changes.
        {"name": "same-size-touch-r",
         "do": [("exec", "{c}", "sh", "-c",
                 "cp -p /etc/os-release /dev/shm/ref && sed 's/Debian/Dabian/' /dev/shm/ref > /dev/shm/new"
                 " && cat /dev/shm/new > /etc/os-release && touch -r /dev/shm/ref /etc/os-release")],
         "expect": {"/etc/os-release": {"change": "modified", "fields": ["content"]}},
         "diff_blind": "/etc/os-release"},
        {"name": "benign-writes",
         "do": [("exec", "{c}", "sh", "-c",
                 "echo scratch > /tmp/scratch.txt && echo 'app started' >> /var/log/app.log"
                 " && echo boot > /var/log/new.log")],
         "expect": {"/tmp/scratch.txt": {"change": "added", "max_severity": "low"},
                    "/var/log/app.log": {"change": "modified", "max_severity": "low"},
                    "/var/log/new.log": {"change": "added", "max_severity": "low"}}},
    ]


def check_report(label, rep, expect, with_origin=True):
    got = {f["path"]: f for f in rep.get("findings", [])}
    s.check("%s: finding paths are exactly %s" % (label, sorted(expect) or "none"), set(got) == set(expect),
            "got %s" % sorted((p, f["change"], f["severity"]) for p, f in got.items()))
    for path, want in sorted(expect.items()):
        f = got.get(path)
        if f is None:
            continue
        what = "%s: %s" % (label, path)
        s.check(what + " is " + want["change"], f["change"] == want["change"], "got %s" % f["change"])
        if "fields" in want:
            s.check(what + " changed %s" % want["fields"], all(x in (f.get("fields") or []) for x in want["fields"])
                    and (want["fields"] != ["content"] or "size" not in (f.get("fields") or [])),
                    "fields %s" % f.get("fields"))
        if "severity" in want:
            s.check(what + " is " + want["severity"], f["severity"] == want["severity"], "got %s" % f["severity"])
        if "min_severity" in want:
            s.check(what + " is at least " + want["min_severity"], sev(f["severity"]) >= sev(want["min_severity"]),
                    "got %s" % f["severity"])
        if "max_severity" in want:
            s.check(what + " is at most " + want["max_severity"], 0 <= sev(f["severity"]) <= sev(want["max_severity"]),
                    "got %s (%s)" % (f["severity"], f.get("rule", {}).get("id")))
        if with_origin and "origin" in want:
            o = f.get("origin", {})
            s.check(what + " origin " + want["origin"], o.get("kind") == want["origin"],
                    "got %s: %s" % (o.get("kind"), o.get("evidence")))
        if "owner" in want:
            after = f.get("after") or {}
            s.check(what + " owner %d:%d" % want["owner"], (after.get("uid"), after.get("gid")) == want["owner"],
                    "got %s:%s" % (after.get("uid"), after.get("gid")))


def accounted(rep, path):
    """A path the runtime's diff lists is accounted for when cdrift reports it (finding,
    ignored placeholder, or mtime-only 'touched') or it is a parent directory of one."""
    listed = [f["path"] for f in rep.get("findings", [])] + [i["path"] for i in rep.get("ignored", [])] + \
             [t["path"] if isinstance(t, dict) else t for t in rep.get("touched", [])]
    return any(p == path or p.startswith(path.rstrip("/") + "/") for p in listed)


def audit_json(rt, *args, extra_env=None):
    r = rt.cdrift("audit", *args, "--format", "json", "--fail-on", "info", "--show-touched", extra_env=extra_env)
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        return r, None


def run_scenario(rt, sc, first):
    label = "%s %s" % (rt.name, sc["name"])
    c = rt.fresh_container(sc["name"])
    for step in sc["do"]:
        rt.ok(*[a.format(c=c) for a in step])
    debug = {"CDRIFT_DEBUG_CACHE": "1"}
    r, rep = audit_json(rt, "--container", "%s:%s" % (rt.name, c), extra_env=debug)
    if not s.check(label + " via %s:NAME: JSON report" % rt.name, rep is not None, describe(r)):
        return
    want_exit = 1 if sc["expect"] else 0
    s.check(label + " via %s:NAME: exit %d" % (rt.name, want_exit), r.returncode == want_exit, describe(r))
    err = r.stderr.decode(errors="replace")
    state = "miss" if first else "hit"
    s.check(label + ": image manifest cache " + state,
            "cdrift: image manifest cache: %s %s" % (state, rt.image_id) in err, "stderr: %s" % err.strip()[:300])
    cont = rep.get("container", {})
    s.check(label + ": container metadata recorded",
            cont.get("name") == c and len(cont.get("id", "")) == 64 and cont.get("created")
            and cont.get("source") == "%s:%s" % (rt.name, c), "got %s" % cont)
    s.check(label + ": image found by id", (rep.get("image") or {}).get("config_digest") == rt.image_id,
            "got %s" % (rep.get("image") or {}).get("config_digest"))
    check_report(label + " (%s:NAME)" % rt.name, rep, sc["expect"])

    # The same through files: export + save.
    tar = os.path.join(s.work, "%s-%s.tar" % (rt.name, sc["name"]))
    with open(tar, "wb") as f:
        rt.ok("export", c, stdout=f)
    r2, rep2 = audit_json(rt, "--image", "docker-archive:" + rt.archive, "--container", tar, "--no-cache")
    if s.check(label + " via export tar: JSON report", rep2 is not None, describe(r2)):
        s.check(label + " via export tar: exit %d" % want_exit, r2.returncode == want_exit, describe(r2))
        check_report(label + " (export tar)", rep2, sc["expect"], with_origin=False)
        a = sorted((f["path"], f["change"], f["severity"]) for f in rep.get("findings", []))
        b = sorted((f["path"], f["change"], f["severity"]) for f in rep2.get("findings", []))
        s.check(label + ": runtime and export audits agree", a == b, "%s vs %s" % (a, b))

    changes = rt.diff(c)
    missing = sorted(p for p in changes if not accounted(rep, p))
    s.check(label + ": every path %s diff lists is accounted for (%d)" % (rt.name, len(changes)), not missing,
            "unaccounted: %s" % missing)
    blind = sc.get("diff_blind")
    if blind:
        if rt.name == "docker":
            s.check(label + ": docker diff does not list %s, cdrift does" % blind,
                    blind not in changes and any(f["path"] == blind for f in rep.get("findings", [])),
                    "docker diff: %s" % changes)
        else:
            print("  note: podman diff lists %s for the touch -r edit: %s" % (blind, changes.get(blind, "nothing")))


def check_cache_tamper(rt):
    cache = os.path.join(rt.env["XDG_CACHE_HOME"], "cdrift", "manifests", "sha256-%s.jsonl" % rt.image_id[7:])
    if not s.check(rt.name + ": cache entry written under XDG_CACHE_HOME", os.path.isfile(cache), cache):
        return
    with open(cache, "r+b") as f:
        data = bytearray(f.read())
        i = data.find(b'"mode":"4755"')
        if i < 0:
            i = data.find(b'"mode":"0755"')
        data[i + 8] = ord("1") if data[i + 8] == ord("0") else ord("0")
        f.seek(0)
        f.write(data)
    c = rt.fresh_container("tamper")
    debug = {"CDRIFT_DEBUG_CACHE": "1"}
    r, rep = audit_json(rt, "--container", "%s:%s" % (rt.name, c), extra_env=debug)
    err = r.stderr.decode(errors="replace")
    s.check(rt.name + ": a tampered cache entry is not trusted (miss, rebuilt)",
            "image manifest cache: miss " + rt.image_id in err and rep is not None and not rep.get("findings"),
            "%s; findings %s" % (err.strip()[:300], rep and [f["path"] for f in rep.get("findings", [])]))
    fresh = r.stdout
    r, rep = audit_json(rt, "--container", "%s:%s" % (rt.name, c), extra_env=debug)
    s.check(rt.name + ": the rebuilt entry is used again (hit)",
            "image manifest cache: hit " + rt.image_id in r.stderr.decode(errors="replace"), describe(r))
    s.check(rt.name + ": the report is byte-identical whether the image came from the cache or fresh",
            r.stdout == fresh and fresh, "fresh image.source %s, cached %s" % (
                (json.loads(fresh or b"{}").get("image") or {}).get("source"), (rep or {}).get("image", {}).get("source")))
    r = rt.cdrift("cache", "prune")
    s.check(rt.name + ": cdrift cache prune", r.returncode == 0 and not os.path.exists(cache), describe(r))
    r, rep = audit_json(rt, "--container", "%s:%s" % (rt.name, c), extra_env=debug)
    s.check(rt.name + ": after prune the image is read again (miss)",
            "image manifest cache: miss " + rt.image_id in r.stderr.decode(errors="replace"), describe(r))


def check_all(rt):
    running = sorted(rt.ok("ps", "-q", "--no-trunc").stdout.decode().split())
    r = rt.cdrift("audit", "--all", "--runtime", rt.name, "--format", "json", "--fail-on", "never", timeout=600)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = None
    if not s.check(rt.name + ": audit --all gives {schema_version, reports, skipped}",
                   isinstance(doc, dict) and doc.get("schema_version") == "1"
                   and isinstance(doc.get("reports"), list) and doc.get("skipped") == [], describe(r)):
        return
    reps = doc["reports"]
    problems = schema_problems(doc)
    s.check(rt.name + ": audit --all JSON validates against report.schema.json#/$defs/audit_all",
            problems == [], "; ".join(problems[:5]))
    ids = sorted(x.get("container", {}).get("id", "") for x in reps)
    s.check(rt.name + ": audit --all: one report per running container (%d)" % len(running), ids == running,
            "reports for %s, running %s" % (ids, running))
    s.check(rt.name + ": audit --all exit 0 with --fail-on never", r.returncode == 0, describe(r))


def schema_problems(doc):
    """Problems of an --all document against report.schema.json#/$defs/audit_all."""
    try:
        import jsonschema
        from referencing import Registry, Resource
    except ImportError as e:
        return ["python3-jsonschema missing: %s" % e]
    with open(os.path.join(e2elib.REPO, "docs", "report.schema.json")) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    validator = cls({"$ref": schema["$id"] + "#/$defs/audit_all"}, registry=registry,
                    format_checker=cls.FORMAT_CHECKER)
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:200]) for e in validator.iter_errors(doc)]


def runtime_wrapper(rt, name, body):
    """A stand-in for the runtime CLI (--runtime-path): runs `body` (sh) first, then the
    real CLI with the same argv, so faults happen exactly where a real runtime has them."""
    real = shutil.which(rt.name, path=rt.env.get("PATH"))
    path = os.path.join(s.work, "%s-%s.sh" % (rt.name, name))
    with open(path, "w") as f:
        f.write("#!/bin/sh\nREAL='%s'\n%s\nexec \"$REAL\" \"$@\"\n" % (real, body))
    os.chmod(path, 0o755)
    return path


def check_all_faults(rt):
    """--all while containers come and go, and a runtime that prints garbage."""
    gone_inspect = rt.fresh_container("vanish-inspect")
    gone_export = rt.fresh_container("vanish-export")
    ids = {n: rt.ok("inspect", "--format", "{{.Id}}", n).stdout.decode().strip() for n in (gone_inspect, gone_export)}
    running = sorted(rt.ok("ps", "-q", "--no-trunc").stdout.decode().split())
    # Removed after the listing: one just before its inspect, one just before its export.
    wrapper = runtime_wrapper(rt, "vanish", """
if [ "$1" = inspect ]; then for a; do [ "$a" = "%s" ] && "$REAL" rm -f "$a" >/dev/null 2>&1; done; fi
if [ "$1" = export ]; then for a; do [ "$a" = "%s" ] && "$REAL" rm -f "$a" >/dev/null 2>&1; done; fi
""" % (ids[gone_inspect], ids[gone_export]))
    out_json = os.path.join(s.work, "all-%s.json" % rt.name)
    # --via export: on overlay storage (podman here) the default reads the writable layer
    # and never exports; this is about a container vanishing before its export.
    r = rt.cdrift("audit", "--all", "--runtime", rt.name, "--runtime-path", wrapper, "--format", "text",
                  "--fail-on", "never", "--output-json", out_json, "--via", "export", timeout=600)
    try:
        with open(out_json) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        doc = {}
    skipped = {x.get("container"): x.get("reason", "") for x in doc.get("skipped", [])}
    audited = sorted(x.get("container", {}).get("id", "") for x in doc.get("reports", []))
    want_skipped = {"%s:%s" % (rt.name, ids[gone_inspect]), "%s:%s" % (rt.name, ids[gone_export])}
    s.check(rt.name + ": --all: containers removed mid-run are skipped, with the runtime's reason",
            set(skipped) == want_skipped and all(skipped.values()), "skipped %s" % skipped)
    problems = schema_problems(doc)
    s.check(rt.name + ": --all with skipped containers validates against the schema", problems == [],
            "; ".join(problems[:5]))
    s.check(rt.name + ": --all: every other container is still audited",
            audited == sorted(set(running) - set(ids.values())), "audited %s, running %s" % (audited, running))
    out = r.stdout.decode(errors="replace")
    s.check(rt.name + ": --all: the exit status is the audited containers' (0 with --fail-on never)",
            r.returncode == 0, describe(r))
    s.check(rt.name + ": --all: the text summary lists the skipped containers",
            "skipped 2 of %d running containers" % len(running) in out
            and all(k in out for k in want_skipped), out[-600:])

    # None left to audit: exit 3.
    lonely = rt.fresh_container("vanish-all")
    lonely_id = rt.ok("inspect", "--format", "{{.Id}}", lonely).stdout.decode().strip()
    wrapper = runtime_wrapper(rt, "vanish-all", """
if [ "$1" = ps ]; then echo "%s"; exit 0; fi
if [ "$1" = inspect ]; then "$REAL" rm -f "%s" >/dev/null 2>&1; fi
""" % (lonely_id, lonely_id))
    r = rt.cdrift("audit", "--all", "--runtime", rt.name, "--runtime-path", wrapper, "--format", "json",
                  "--fail-on", "never", timeout=300)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = {}
    s.check(rt.name + ": --all: when no container could be audited: exit 3, the skipped list still written",
            r.returncode == 3 and doc.get("reports") == [] and len(doc.get("skipped", [])) == 1
            and b"could be audited" in r.stderr, describe(r))

    # A runtime printing garbage where container ids belong misbehaved: exit 3, not 2.
    for label, garbage in (("--help", "--help"), ("../..", "../.."), ("an escape", "\x1b[2Jx")):
        wrapper = runtime_wrapper(rt, "garbage", "if [ \"$1\" = ps ]; then echo '%s'; exit 0; fi" % garbage)
        r = rt.cdrift("audit", "--all", "--runtime", rt.name, "--runtime-path", wrapper, timeout=120)
        err = r.stderr.decode(errors="replace").strip()
        s.check(rt.name + ": --all: a runtime listing %s as a container: exit 3, one clean line" % label,
                r.returncode == 3 and err.count("\n") == 0 and "\x1b" not in err and "ps" in err, describe(r))

    # --runtime-timeout: a runtime that goes silent is killed after that long.
    wrapper = runtime_wrapper(rt, "stall", 'if [ "$1" = export ]; then sleep 60; fi')
    alive = sorted(set(running) - set(ids.values()))[0]
    start = time.time()
    r = rt.cdrift("audit", "--container", "%s:%s" % (rt.name, alive), "--runtime-path", wrapper,
                  "--runtime-timeout", "2", "--via", "export", timeout=120)
    took = time.time() - start
    s.check(rt.name + ": --runtime-timeout 2: a stalled export is exit 3 within seconds",
            r.returncode == 3 and took < 20 and b"timed out after 2 s" in r.stderr,
            "%.1fs; %s" % (took, describe(r)))
    r = rt.cdrift("audit", "--container", "%s:%s" % (rt.name, alive), "--runtime-timeout", "0")
    s.check(rt.name + ": --runtime-timeout 0 is a usage error", r.returncode == 2, describe(r))


def check_errors(rt):
    r = rt.cdrift("audit", "--container", "%s:cdrift-no-such-container" % rt.name)
    err = r.stderr.decode(errors="replace").strip()
    s.check(rt.name + ": unknown container: exit 3, one line", r.returncode == 3 and err.count("\n") == 0
            and "cdrift-no-such-container" in err, describe(r))
    r = rt.cdrift("audit", "--container", rt.name + ":-rf")
    s.check(rt.name + ": a name starting with '-' is refused (exit 2)", r.returncode == 2, describe(r))
    r = rt.cdrift("audit", "--container", "%s:web" % rt.name, "--runtime-path", "/nonexistent/" + rt.name)
    s.check(rt.name + ": --runtime-path to nothing: exit 3", r.returncode == 3, describe(r))
    env = {"PATH": "/nonexistent"}
    r = rt.cdrift("audit", "--container", "%s:web" % rt.name, extra_env=env)
    s.check(rt.name + ": runtime missing from PATH: exit 3 naming it",
            r.returncode == 3 and b"not found in PATH" in r.stderr, describe(r))
    if rt.name == "docker":
        start = time.time()
        r = rt.cdrift("audit", "--container", "docker:web", extra_env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
        s.check("docker: daemon not running: exit 3 with docker's message, no hang",
                r.returncode == 3 and b"Cannot connect to the Docker daemon" in r.stderr and time.time() - start < 30,
                describe(r))


def exercise(name, state_dir):
    env, why = start_runtime(name, state_dir)
    if env is None:
        msg = "SKIPPED: %s: %s" % (name, why)
        print("=" * len(msg) + "\n" + msg + "\n" + "=" * len(msg))
        skipped.append(name)
        if os.environ.get("CDRIFT_ALLOW_RUNTIME_SKIP") != "1":
            s.failed += 1
            print("(counted as a failure; set CDRIFT_ALLOW_RUNTIME_SKIP=1 to allow skipping)")
        return
    rt = Runtime(name, env)
    # Leftovers of an earlier run that was killed hard.
    stale = rt.cmd("ps", "-aq").stdout.decode().split()
    if stale:
        rt.cmd("rm", "-f", *stale)
    prepare_image(rt)
    for i, sc in enumerate(scenarios(rt)):
        if s.wanted(sc["name"]):
            run_scenario(rt, sc, first=(i == 0))
    check_cache_tamper(rt)
    check_all(rt)
    check_all_faults(rt)
    check_errors(rt)


def main():
    if platform.machine() not in ("x86_64", "amd64"):
        print("SKIPPED: the fixture image is x86_64 and the test copies host programs into it")
        s.failed += 0 if os.environ.get("CDRIFT_ALLOW_RUNTIME_SKIP") == "1" else 1
        s.finish()
    # Short and private: unix socket paths are limited to 108 bytes.
    state_dir = "/tmp/cdrift-e2e-rt-%d" % os.getpid()
    env = dict(os.environ, CDRIFT_RT_DIR=state_dir)
    try:
        for name in ("docker", "podman"):
            if s.args.k and s.args.k in ("docker", "podman") and s.args.k != name:
                continue
            try:
                exercise(name, state_dir)
            except RuntimeError as e:
                s.check(name + ": runtime operations", False, str(e))
    except KeyboardInterrupt as e:
        s.check("interrupted", False, str(e))
    finally:
        r = subprocess.run([SCRIPT, "stop"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if r.returncode != 0:
            print("warning: runtime-env.sh stop: " + r.stderr.decode(errors="replace").strip())
        shutil.rmtree(state_dir, ignore_errors=True)
    if skipped:
        print("%d runtime(s) skipped: %s" % (len(skipped), ", ".join(skipped)))
    s.finish()


main()
