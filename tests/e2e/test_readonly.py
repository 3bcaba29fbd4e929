#!/usr/bin/env python3
"""The read-only root filesystem plan on real docker and podman (docs/readonly.md).
Builds a small image locally (no registry: `import` of a rootfs made from the host's
dash and coreutils), runs a workload that writes its log, cache, pid and temp files in
a writable container, audits it through `docker:NAME`/`podman:NAME`, then starts the
same workload with `--read-only` plus the plan's `docker_run` flags (it must finish its
work and exit 0) and with `--read-only` alone (it must fail). Also: the `kubernetes`
snippet parses as YAML with one mount and one emptyDir per writable path, the offline
audit of `export` + `save` gives the same plan, `--all` carries it, the text report
has its section, and a shell edit in the container makes the plan not ready without
ever becoming a writable path. A runtime that cannot start counts as a failure unless
CDRIFT_ALLOW_RUNTIME_SKIP=1. State directory: $CDRIFT_RT_DIR, else a private one."""

import io
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import describe  # noqa: E402

try:
    import yaml
except ImportError:  # python3-yaml (scripts/deps.sh); checked below, never silently
    yaml = None

SCRIPT = os.path.join(e2elib.REPO, "scripts", "runtime-env.sh")
IMAGE = "cdrift-ro:1"
PROGRAMS = ["dash", "mkdir", "cat", "mktemp", "sleep"]
WORKLOAD = r"""#!/bin/sh
# Writes what a typical service writes: a log, a cache, a pid file, a temp file.
set -e
mkdir -p /var/log/app
echo "started" >> /var/log/app/app.log
echo $$ > /run/app.pid
t=$(mktemp /tmp/work.XXXXXX)
echo scratch > "$t"
mkdir -p /app/data
echo cached > /app/data/cache.db
echo "DONE $(cat /app/data/cache.db) $(cat /run/app.pid)"
if [ "$1" = serve ]; then exec sleep 1000; fi
"""
# The plan this workload needs: /app/data was created by it (a mount point the
# runtime makes), /var/log/app likewise; /run and /tmp are tmp-like.
EXPECTED_PATHS = ["/app/data", "/run", "/tmp", "/var/log/app"]

s = e2elib.Suite(__doc__)


def terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


signal.signal(signal.SIGTERM, terminate)


def rootfs_tar(path):
    """/bin holds the host's dash (as sh) and a few coreutils, their libraries at the
    paths ldd names; /app/run.sh is the workload; /tmp, /run, /var/log exist empty."""
    members = {}  # path -> (type, bytes, mode)

    def add_dirs(p):
        parts = p.strip("/").split("/")[:-1]
        for i in range(len(parts)):
            members.setdefault("/".join(parts[:i + 1]), ("dir", b"", 0o755))

    libs = set()
    for prog in PROGRAMS:
        src = os.path.realpath(shutil.which(prog) or "/usr/bin/" + prog)
        with open(src, "rb") as f:
            data = f.read()
        name = "bin/sh" if prog == "dash" else "bin/" + prog
        add_dirs(name)
        members[name] = ("file", data, 0o755)
        out = subprocess.run(["ldd", src], stdout=subprocess.PIPE).stdout.decode()
        for line in out.splitlines():
            parts = line.split()
            if "=>" in parts and parts[parts.index("=>") + 1].startswith("/"):
                libs.add(parts[parts.index("=>") + 1])
            elif parts and parts[0].startswith("/"):
                libs.add(parts[0])
    for lib in sorted(libs):
        with open(os.path.realpath(lib), "rb") as f:
            data = f.read()
        add_dirs(lib)
        members[lib.lstrip("/")] = ("file", data, 0o755)
    for d, mode in (("tmp", 0o1777), ("run", 0o755), ("var", 0o755), ("var/log", 0o755), ("etc", 0o755),
                    ("app", 0o755), ("proc", 0o555), ("sys", 0o555), ("dev", 0o755)):
        members[d] = ("dir", b"", mode)
    members["app/run.sh"] = ("file", WORKLOAD.encode(), 0o755)
    members["etc/passwd"] = ("file", b"root:x:0:0:root:/root:/bin/sh\n", 0o644)
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(members):
            kind, data, mode = members[name]
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.mtime = 1700000000
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))


class Runtime:
    def __init__(self, name, env):
        self.name = name
        self.env = env

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

    def cdrift(self, *args, timeout=300):
        cmd = [s.cdrift] + [str(a) for a in args]
        if s.args.v:
            print("  $ " + " ".join(cmd))
        try:
            return subprocess.run(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(cmd, -999, b"", b"TIMEOUT")


def start_runtime(name, state_dir):
    if os.geteuid() != 0:
        return None, "needs root (dockerd/podman run as root on these machines)"
    env = dict(os.environ, CDRIFT_RT_DIR=state_dir)
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
    env["XDG_CACHE_HOME"] = os.path.join(s.work, "cache-" + name)
    shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
    return env, ""


def audit_plan(rt, label, *args):
    r = rt.cdrift("audit", *args, "--format", "json", "--fail-on", "never")
    if not s.check("%s: %s: exit 0" % (rt.name, label), r.returncode == 0, describe(r)):
        return None, None
    try:
        rep = json.loads(r.stdout)
    except ValueError as e:
        s.check("%s: %s: JSON parses" % (rt.name, label), False, str(e))
        return None, None
    return rep, rep.get("read_only_plan")


def check_yaml(rt, plan):
    if not s.check(rt.name + ": python3-yaml is installed (scripts/deps.sh)", yaml is not None):
        return
    try:
        doc = yaml.safe_load(plan["kubernetes"])
    except yaml.YAMLError as e:
        s.check(rt.name + ": kubernetes snippet parses as YAML", False, str(e))
        return
    s.check(rt.name + ": kubernetes snippet parses as YAML", isinstance(doc, dict), repr(doc)[:200])
    s.check(rt.name + ": kubernetes: readOnlyRootFilesystem: true",
            doc.get("securityContext", {}).get("readOnlyRootFilesystem") is True, repr(doc)[:200])
    mounts = doc.get("volumeMounts") or []
    volumes = {v.get("name"): v for v in doc.get("volumes") or []}
    s.check(rt.name + ": kubernetes: one volumeMount per writable path",
            [m.get("mountPath") for m in mounts] == plan["writable_paths"], repr(mounts))
    s.check(rt.name + ": kubernetes: one emptyDir volume per mount, names matching",
            len(volumes) == len(mounts) and all(m.get("name") in volumes and "emptyDir" in volumes[m["name"]]
                                                for m in mounts), repr(volumes))
    media = {m["mountPath"]: (volumes.get(m["name"], {}).get("emptyDir") or {}).get("medium") for m in mounts}
    s.check(rt.name + ": kubernetes: medium Memory for /run and /tmp only",
            media == {"/app/data": None, "/run": "Memory", "/tmp": "Memory", "/var/log/app": None}, repr(media))


def run_workload(rt, flags, label):
    """A fresh container of the workload, to completion; -> CompletedProcess."""
    name = "cdrift-ro-%s" % label
    rt.cmd("rm", "-f", name)
    r = rt.cmd("run", "--name", name, "--network", "none", *flags, IMAGE, "/app/run.sh", timeout=180)
    rt.cmd("rm", "-f", name)
    return r


def remove_volumes(rt, plan):
    flags = plan["docker_run"]
    for i, f in enumerate(flags):
        if f == "-v" and i + 1 < len(flags):
            rt.cmd("volume", "rm", "-f", flags[i + 1].split(":", 1)[0])


def exercise(name, state_dir):
    env, why = start_runtime(name, state_dir)
    if env is None:
        if os.environ.get("CDRIFT_ALLOW_RUNTIME_SKIP") == "1":
            print("SKIPPED %s: %s" % (name, why))
        else:
            s.check(name + ": runtime starts", False, why)
        return
    rt = Runtime(name, env)
    tar = os.path.join(s.work, "rootfs.tar")
    rootfs_tar(tar)
    rt.ok("import", "--change", "WORKDIR /app", "--change", 'CMD ["/app/run.sh"]', tar, IMAGE)

    # A container that wrote nothing: the runtime's placeholders are not writes.
    idle = "cdrift-ro-idle"
    rt.cmd("rm", "-f", idle)
    rt.ok("run", "-d", "--name", idle, "--network", "none", IMAGE, "sleep", "1000")
    _, clean = audit_plan(rt, "audit of an idle container", "--container", "%s:%s" % (name, idle))
    if clean is not None:
        s.check(name + ": idle container: ready, nothing to mount, only --read-only",
                clean["ready"] is True and clean["writable_paths"] == [] and clean["notes"] == []
                and clean["docker_run"] == ["--read-only"], repr(clean))
    rt.cmd("rm", "-f", idle)

    # 1. The workload in a writable container.
    web = "cdrift-ro-web"
    rt.cmd("rm", "-f", web)
    rt.ok("run", "-d", "--name", web, "--network", "none", IMAGE, "/app/run.sh", "serve")
    logs = b""
    for _ in range(100):
        logs = rt.cmd("logs", web).stdout
        if b"DONE" in logs:
            break
        subprocess.run(["sleep", "0.1"])
    s.check(name + ": the workload runs in a writable container", b"DONE cached" in logs, logs.decode()[:200])

    # 2. The plan from a live audit.
    rep, plan = audit_plan(rt, "audit --container %s:%s" % (name, web), "--container", "%s:%s" % (name, web))
    if plan is None:
        return
    s.check(name + ": read_only_plan has exactly its five fields",
            sorted(plan) == ["docker_run", "kubernetes", "notes", "ready", "writable_paths"], repr(sorted(plan)))
    origins = {f["path"]: f["origin"]["kind"] for f in rep["findings"]}
    s.check(name + ": the workload's writes are runtime-write findings",
            all(origins.get(p) == "runtime-write" for p in
                ("/app/data/cache.db", "/var/log/app/app.log", "/run/app.pid")), repr(origins))
    s.check(name + ": writable_paths %s" % EXPECTED_PATHS, plan["writable_paths"] == EXPECTED_PATHS,
            repr(plan["writable_paths"]))
    s.check(name + ": not ready (the application wrote), and no notes",
            plan["ready"] is False and plan["notes"] == [], repr(plan))
    want_flags = ["--read-only", "-v", "app-data:/app/data", "--tmpfs", "/run", "--tmpfs", "/tmp",
                  "-v", "var-log-app:/var/log/app"]
    s.check(name + ": docker_run flags", plan["docker_run"] == want_flags, repr(plan["docker_run"]))
    check_yaml(rt, plan)

    # 3. The same workload read-only: with the plan's flags it does its work...
    remove_volumes(rt, plan)
    r = run_workload(rt, plan["docker_run"], "planned")
    out = r.stdout.decode(errors="replace")
    s.check(name + ": run --read-only + the plan's flags: exit 0 and the work done",
            r.returncode == 0 and out.startswith("DONE cached "), "exit %s, out %r, err %r" % (
                r.returncode, out[:200], r.stderr.decode(errors="replace")[-300:]))
    remove_volumes(rt, plan)
    # ...and without them it fails on its first write outside a tmpfs.
    r = run_workload(rt, ["--read-only"], "bare")
    err = r.stderr.decode(errors="replace")
    s.check(name + ": run --read-only alone: the workload fails (read-only file system)",
            r.returncode != 0 and b"DONE" not in r.stdout and "Read-only file system" in err,
            "exit %s, err %r" % (r.returncode, err[-300:]))
    # Every disk mount is needed: dropping any one of them fails too.
    flags = plan["docker_run"]
    for i, f in enumerate(flags):
        if f != "-v":
            continue
        fewer = flags[:i] + flags[i + 2:]
        r = run_workload(rt, fewer, "fewer")
        remove_volumes(rt, plan)
        s.check(name + ": without %s the workload fails" % flags[i + 1], r.returncode != 0,
                "exit %s" % r.returncode)

    # Offline: export + save give the same plan.
    exp = os.path.join(s.work, "%s-export.tar" % name)
    img = os.path.join(s.work, "%s-save.tar" % name)
    with open(exp, "wb") as f:
        rt.ok("export", web, stdout=f, timeout=300)
    with open(img, "wb") as f:
        rt.ok("save", *(["--format", "docker-archive"] if name == "podman" else []), IMAGE, stdout=f, timeout=300)
    _, offline = audit_plan(rt, "offline audit of export + save", "--image", img, "--container", exp)
    if offline is not None:
        s.check(name + ": offline audit: the same plan", offline == plan, repr(offline)[:300])

    # --all: each report carries its plan.
    r = rt.cdrift("audit", "--all", "--runtime", name, "--format", "json", "--fail-on", "never")
    try:
        reps = json.loads(r.stdout) if r.returncode == 0 else []
    except ValueError:
        reps = []
    if isinstance(reps, dict):  # the --all envelope: {schema_version, reports, skipped}
        reps = reps.get("reports", [])
    ours = [x for x in reps if x.get("container", {}).get("name", "").lstrip("/") == web]
    s.check(name + ": --all: the report carries the same read_only_plan",
            len(ours) == 1 and ours[0].get("read_only_plan") == plan, describe(r))

    # Text: the section at the end.
    r = rt.cdrift("audit", "--container", "%s:%s" % (name, web), "--fail-on", "never")
    text = r.stdout.decode(errors="replace")
    s.check(name + ": text report: 'To run this container read-only:' with the docker flags",
            "To run this container read-only: make /app/data, /run, /tmp, /var/log/app writable" in text
            and "docker run " + " ".join(want_flags) + " IMAGE" in text, text[-600:])

    # Drift: a shell edit is noted, never mounted.
    rt.ok("exec", web, "sh", "-c", "echo 'nameserver 6.6.6.6' > /etc/evil.conf")
    _, drifted = audit_plan(rt, "audit after a shell edit", "--container", "%s:%s" % (name, web))
    if drifted is not None:
        s.check(name + ": after a shell edit: not ready, drift noted, /etc never a writable path",
                drifted["ready"] is False and drifted["writable_paths"] == EXPECTED_PATHS
                and any(n.startswith("drift: ") and "/etc/evil.conf" in n for n in drifted["notes"]),
                repr(drifted)[:400])
    rt.cmd("rm", "-f", web)


def main():
    if platform.machine() not in ("x86_64", "amd64"):
        print("SKIPPED: the image is made of the host's x86_64 programs")
        s.failed += 0 if os.environ.get("CDRIFT_ALLOW_RUNTIME_SKIP") == "1" else 1
        s.finish()
    # Short: unix socket paths are limited to 108 bytes.
    state_dir = os.environ.get("CDRIFT_RT_DIR") or "/tmp/cdrift-ro-rt-%d" % os.getpid()
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
    s.finish()


main()
