#!/usr/bin/env python3
"""Live audits through the container's overlay writable layer, on a real dockerd with
overlay2 and a real podman with overlay (scripts/runtime-env.sh). Every scenario runs in a
fresh container and is audited twice, `--via layer` and `--via export`: the findings
(path, change, fields, rule, severity) must be identical, and the reports must say which
path they read (container.kind, container.storage). Adds what only a live layer shows
(a timestomped file, a symlink at the host's /etc/shadow that must never be followed),
the fallbacks of `--via auto` with their reasons (another image, an unknown overlay
feature) and the errors of `--via layer`, and `--all` through the layers. A runtime that
cannot start is SKIPPED loudly and counts as a failure unless CDRIFT_ALLOW_RUNTIME_SKIP=1."""

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
IMAGE = "cdrift-live:1"
BASE = "cdrift-live-base:1"
DRIVER = {"docker": "overlay2", "podman": "overlay"}
# Real programs the scenarios run inside the container (the fixture's are fake ELFs).
PROGRAMS = ["dash", "sed", "sleep", "cat", "chmod", "chown", "touch", "rm", "cp", "mv", "ln",
            "mkdir", "id", "ls", "setcap"]

s = e2elib.Suite(__doc__)
skipped = []


def terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


signal.signal(signal.SIGTERM, terminate)


class Runtime:
    def __init__(self, name, env):
        self.name = name
        self.env = env
        self.counter = 0
        self.image_id = None

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

    def cdrift(self, *args, timeout=180):
        cmd = [s.cdrift] + [str(a) for a in args]
        if s.args.v:
            print("  $ " + " ".join(cmd))
        try:
            return subprocess.run(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(cmd, -999, b"", b"TIMEOUT after %ds" % timeout)

    def audit(self, container, *args):
        r = self.cdrift("audit", "--container", "%s:%s" % (self.name, container), "--format", "json",
                        "--fail-on", "never", *args)
        try:
            return r, json.loads(r.stdout)
        except ValueError:
            return r, None

    def fresh_container(self, scenario):
        self.counter += 1
        name = "live-%s-%d" % (scenario, self.counter)
        self.ok("run", "-d", "--name", name, "--network", "none", IMAGE, "sleep", "1000")
        return name

    def upper_dir(self, name):
        return self.ok("inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", name).stdout.decode().strip()


def start_runtime(name, state_dir):
    if os.geteuid() != 0:
        return None, "needs root (dockerd/podman run as root, upper dirs are root's)"
    env = dict(os.environ, CDRIFT_RT_DIR=state_dir, CDRIFT_RT_DOCKER_DRIVER="overlay2")
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


def prepare_image(rt):
    """The fixture rootfs plus the host's real programs and their libraries."""
    ctx = os.path.join(s.work, "ctx-" + rt.name)
    shutil.rmtree(ctx, ignore_errors=True)
    bindir = os.path.join(ctx, "add", "usr", "bin")
    libdir = os.path.join(ctx, "add", "usr", "lib", "x86_64-linux-gnu")
    os.makedirs(bindir)
    os.makedirs(libdir)
    libs = set()
    for p in PROGRAMS:
        src = shutil.which(p) or shutil.which(p, path="/usr/sbin:/sbin") or "/usr/bin/" + p
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
    rt.ok("import", s.fixture("rootfs.tar"), BASE)
    env_build = dict(rt.env)
    if rt.name == "docker":
        env_build["DOCKER_BUILDKIT"] = "0"
    r = subprocess.run([rt.name, "build", "--network", "none", "-t", IMAGE, ctx], env=env_build,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("%s build failed: %s" % (rt.name, r.stderr.decode(errors="replace")[-400:]))
    info = json.loads(rt.ok("image", "inspect", IMAGE).stdout)[0]
    rt.image_id = info["Id"] if info["Id"].startswith("sha256:") else "sha256:" + info["Id"]


def host_tool(path):
    """A real executable with a foreign owner and an old mtime, as an operator's copy."""
    shutil.copy(os.path.realpath(shutil.which("id") or "/usr/bin/id"), path)
    os.chmod(path, 0o755)
    os.chown(path, 1234, 5678)
    old = time.time() - 3 * 86400
    os.utime(path, (old, old))


def sh(script):
    return ("exec", "{c}", "sh", "-c", script)


def scenarios():
    tool = os.path.join(s.work, "evil-tool")
    host_tool(tool)
    return [
        {"name": "untouched", "do": []},
        # A copy with its source's old mtime: the layer's ctime and birth time are the copy's.
        {"name": "copied-binary", "do": [("cp", tool, "{c}:/usr/local/bin/evil-tool")],
         "expect": ["/usr/local/bin/evil-tool"],
         "origin": ("/usr/local/bin/evil-tool", "copied-in", "copied-in", "made and dated in one go")},
        {"name": "shell-edit", "do": [sh("sed -i '$ a backdoor:x:0:0::/root:/bin/sh' /etc/passwd")],
         "expect": ["/etc/passwd"]},
        # Only the layer's ctime dates a chmod.
        {"name": "setuid", "do": [sh("chmod u+s /usr/bin/id")], "expect": ["/usr/bin/id"],
         "origin": ("/usr/bin/id", "shell-edit", "shell-edit", "was made in the running container")},
        {"name": "chown", "do": [sh("chown 1000:1000 /etc/os-release")], "expect": ["/etc/os-release"]},
        {"name": "setcap", "do": [sh("setcap cap_net_raw+ep /usr/bin/ls")], "expect": ["/usr/bin/ls"]},
        {"name": "deletion", "do": [sh("rm /etc/debian_version")], "expect": ["/etc/debian_version"]},
        {"name": "opaque-dir",
         "do": [sh("rm -rf /etc/ssh && mkdir /etc/ssh && echo 'PermitRootLogin yes' > /etc/ssh/sshd_config")],
         "expect": ["/etc/ssh/sshd_config", "/etc/ssh/moduli"], "opaque": "etc/ssh"},
        {"name": "renamed-dir", "do": [sh("mv /etc/apt/sources.list.d /etc/apt/sources.renamed")],
         "expect": ["/etc/apt/sources.renamed/local.list"]},
        {"name": "hardlink", "do": [sh("ln /usr/bin/id /usr/local/bin/id2")], "expect": ["/usr/local/bin/id2"]},
        {"name": "authorized-keys",
         "do": [sh("mkdir -p /root/.ssh && echo 'ssh-ed25519 AAAA attacker' >> /root/.ssh/authorized_keys")],
         "expect": ["/root/.ssh/authorized_keys"]},
        {"name": "same-size-touch-r",
         "do": [sh("cp -p /etc/os-release /dev/shm/ref && sed 's/Debian/Dabian/' /dev/shm/ref > /dev/shm/new"
                   " && cat /dev/shm/new > /etc/os-release && touch -r /dev/shm/ref /etc/os-release")],
         "expect": ["/etc/os-release"]},
        # mtime set back to the image's era; only the layer's ctime and birth time tell.
        {"name": "timestomp",
         "do": [sh("printf '#!/bin/sh\\nid\\n' > /usr/bin/stomped && chmod 755 /usr/bin/stomped"
                   " && touch -d '2020-01-02 03:04:05' /usr/bin/stomped")],
         "expect": ["/usr/bin/stomped"], "timestomp": "usr/bin/stomped",
         "origin": ("/usr/bin/stomped", "copied-in", "copied-in", "or a script that sets the mtime")},
        # An edit dated back a while later: a copy dates a file as it makes it, so the ctime
        # seconds after the birth time turn the export's copied-in into a shell edit.
        {"name": "timestomp-after-edit",
         "do": [sh("sed -i 's/Debian/Dabian/' /etc/os-release && sleep 3"
                   " && touch -d '2020-01-02 03:04:05' /etc/os-release")],
         "expect": ["/etc/os-release"], "timestomp": "etc/os-release",
         "origin": ("/etc/os-release", "shell-edit", "copied-in", "its times were set after it was written")},
        # A link at the host's secret: reported as a link, never followed.
        {"name": "shadow-symlink", "do": [sh("ln -s /etc/shadow /tmp/shadow-link")],
         "expect": ["/tmp/shadow-link"], "symlink": ("/tmp/shadow-link", "/etc/shadow")},
        {"name": "benign-writes",
         "do": [sh("echo scratch > /tmp/scratch.txt && echo 'app started' >> /var/log/app.log")],
         "expect": ["/tmp/scratch.txt"]},
    ]


def finding_keys(rep):
    return sorted((f["path"], f["change"], tuple(f.get("fields") or []), (f.get("rule") or {}).get("id"),
                   f["severity"]) for f in rep.get("findings", []))


def run_scenario(rt, sc):
    label = "%s %s" % (rt.name, sc["name"])
    c = rt.fresh_container(sc["name"])
    for step in sc["do"]:
        rt.ok(*[a.format(c=c) for a in step])
    r1, layer = rt.audit(c, "--via", "layer")
    r2, export = rt.audit(c, "--via", "export")
    if not s.check(label + ": --via layer gives a JSON report", layer is not None and r1.returncode == 0,
                   describe(r1)):
        return
    if not s.check(label + ": --via export gives a JSON report", export is not None and r2.returncode == 0,
                   describe(r2)):
        return
    lc, ec = layer.get("container", {}), export.get("container", {})
    s.check(label + ": container.kind writable_layer / container_export",
            lc.get("kind") == "writable_layer" and ec.get("kind") == "container_export",
            "got %s / %s" % (lc.get("kind"), ec.get("kind")))
    upper = rt.upper_dir(c)
    s.check(label + ": container.storage names the driver and the upper dir",
            lc.get("storage") == {"driver": DRIVER[rt.name], "upper_dir": upper}
            and ec.get("storage") == lc.get("storage"), "got %s" % lc.get("storage"))
    a, b = finding_keys(layer), finding_keys(export)
    s.check(label + ": identical findings on both paths (%d)" % len(a), a == b,
            "layer only %s; export only %s" % (sorted(set(a) - set(b)), sorted(set(b) - set(a))))
    got = {f["path"] for f in layer.get("findings", [])}
    for path in sc.get("expect", []):
        s.check(label + ": %s is found" % path, path in got, "findings %s" % sorted(got))
    if not sc["do"]:
        s.check(label + ": an untouched container has no findings", not a, "got %s" % a)
    if "symlink" in sc:
        path, target = sc["symlink"]
        f = next((f for f in layer.get("findings", []) if f["path"] == path), {})
        after = f.get("after") or {}
        s.check(label + ": reported as a symlink to %s, never followed" % target,
                after.get("type") == "symlink" and after.get("target") == target and "sha256" not in after,
                "got %s" % after)
    if "opaque" in sc:
        try:
            value = os.getxattr(os.path.join(upper, sc["opaque"]), "trusted.overlay.opaque", follow_symlinks=False)
        except OSError as e:
            value = str(e).encode()
        s.check(label + ": the upper dir really holds an opaque directory", value == b"y", value.decode())
    if "timestomp" in sc:
        st = os.lstat(os.path.join(upper, sc["timestomp"]))
        s.check(label + ": the upper dir's ctime gives the timestomp away (mtime 2020, ctime now)",
                st.st_mtime < time.time() - 86400 * 365 and st.st_ctime > time.time() - 3600,
                "mtime %s ctime %s" % (st.st_mtime, st.st_ctime))
    if "origin" in sc:
        path, layer_kind, export_kind, needle = sc["origin"]
        fl = next((f for f in layer.get("findings", []) if f["path"] == path), {}).get("origin") or {}
        fe = next((f for f in export.get("findings", []) if f["path"] == path), {}).get("origin") or {}
        lev, eev = fl.get("evidence", []), fe.get("evidence", [])
        s.check(label + ": --via layer: %s is %s, its evidence names the ctime (%s)" % (path, layer_kind, needle),
                fl.get("kind") == layer_kind and any("ctime" in e and needle in e for e in lev),
                "got %s %s" % (fl.get("kind"), lev))
        s.check(label + ": --via export: %s is %s, and an export has no ctime to name" % (path, export_kind),
                fe.get("kind") == export_kind and not any("ctime" in e for e in eev),
                "got %s %s" % (fe.get("kind"), eev))
    r3, auto = rt.audit(c)
    s.check(label + ": --via auto reads the writable layer, without a fallback warning",
            auto is not None and auto.get("container", {}).get("kind") == "writable_layer"
            and not any("writable layer" in w for w in auto.get("warnings", [])), describe(r3))


def check_fallbacks(rt):
    c = rt.fresh_container("fallback")
    rt.ok("exec", c, "sh", "-c", "echo x > /tmp/new")
    # Against another image, the layer's lower layers are not that image's.
    r, rep = rt.audit(c, "--image", "%s:%s" % (rt.name, BASE))
    warns = (rep or {}).get("warnings", [])
    s.check(rt.name + ": --image of another image falls back to the export, saying why",
            rep is not None and rep["container"]["kind"] == "container_export"
            and any("not the image the container runs" in w for w in warns), describe(r) + " %s" % warns)
    r, _ = rt.audit(c, "--image", "%s:%s" % (rt.name, BASE), "--via", "layer")
    s.check(rt.name + ": ... and --via layer refuses it (exit 3, one line)",
            r.returncode == 3 and r.stderr.decode().strip().count("\n") == 0
            and b"not the image the container runs" in r.stderr, describe(r))
    # An overlay feature the reader does not know: never guess, read the export.
    upper = rt.upper_dir(c)
    os.setxattr(os.path.join(upper, "tmp", "new"), "trusted.overlay.fancy", b"y")
    r, rep = rt.audit(c)
    warns = (rep or {}).get("warnings", [])
    s.check(rt.name + ": an unknown overlay feature falls back to the export, naming it",
            rep is not None and rep["container"]["kind"] == "container_export"
            and any("unknown overlay feature" in w and "trusted.overlay.fancy" in w for w in warns),
            describe(r) + " %s" % warns)
    r, _ = rt.audit(c, "--via", "layer")
    s.check(rt.name + ": ... and --via layer exits 3 naming it",
            r.returncode == 3 and b"unknown overlay feature" in r.stderr, describe(r))
    r = rt.cdrift("audit", "--container", "%s:%s" % (rt.name, c), "--via", "sideways")
    s.check(rt.name + ": --via with an unknown value is a usage error (exit 2)", r.returncode == 2, describe(r))
    rt.ok("rm", "-f", c)


def check_all(rt):
    running = sorted(rt.ok("ps", "-q", "--no-trunc").stdout.decode().split())
    r = rt.cdrift("audit", "--all", "--runtime", rt.name, "--format", "json", "--fail-on", "never", timeout=600)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = None
    if not s.check(rt.name + ": audit --all gives {reports, skipped: []}",
                   isinstance(doc, dict) and isinstance(doc.get("reports"), list) and doc.get("skipped") == [],
                   describe(r)):
        return
    reps = doc["reports"]
    s.check(rt.name + ": audit --all: one report per running container (%d)" % len(running),
            sorted(x["container"].get("id", "") for x in reps) == running, describe(r))
    kinds = sorted({x["container"]["kind"] for x in reps})
    s.check(rt.name + ": audit --all reads every container through its writable layer", kinds == ["writable_layer"],
            "kinds %s" % kinds)


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
    info = rt.ok("info", "--format", "{{.Driver}}" if name == "docker" else "{{.Store.GraphDriverName}}")
    if not s.check(name + ": runs on %s storage" % DRIVER[name], info.stdout.decode().strip() == DRIVER[name],
                   info.stdout.decode().strip()):
        return
    stale = rt.cmd("ps", "-aq").stdout.decode().split()
    if stale:
        rt.cmd("rm", "-f", *stale)
    prepare_image(rt)
    for sc in scenarios():
        if s.wanted(sc["name"]) or s.args.k in ("docker", "podman"):
            run_scenario(rt, sc)
    if s.wanted("fallback") or s.args.k in ("", "docker", "podman"):
        check_fallbacks(rt)
    if s.wanted("all") or s.args.k in ("", "docker", "podman"):
        check_all(rt)


def main():
    if platform.machine() not in ("x86_64", "amd64"):
        print("SKIPPED: the fixture image is x86_64 and the test copies host programs into it")
        s.failed += 0 if os.environ.get("CDRIFT_ALLOW_RUNTIME_SKIP") == "1" else 1
        s.finish()
    state_dir = "/tmp/cdrift-live-rt-%d" % os.getpid()
    env = dict(os.environ, CDRIFT_RT_DIR=state_dir)
    try:
        for name in ("docker", "podman"):
            if s.args.k in ("docker", "podman") and s.args.k != name:
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
