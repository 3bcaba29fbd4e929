#!/usr/bin/env python3
"""containerd end to end, the way a Kubernetes node runs it: starts a private containerd
(scripts/runtime-env.sh start containerd), imports a two-layer OCI image (the fixture
rootfs, gzip, plus the host's real programs) into namespace k8s.io, and runs containers
with kubelet's CRI labels: an untouched one, one tampered through `ctr tasks exec` and
from the host through the task's rootfs, a pod sandbox (pause) container, and an
unlabelled one in namespace default. Checks the findings, that the untouched container is
clean, that --all covers them (sandboxes skipped with a note, --namespace selects), that
the pod identity is in every output format, that layer verification is recorded, that a
corrupted blob in the content store and a snapshot that does not sit on the image's
layers are exit 3, and the error paths. With CDRIFT_E2E_IMAGE=<tag> (and DOCKER_HOST),
also runs cdrift's own container image the way the DaemonSet does against this
containerd. A containerd that cannot start is a failure unless CDRIFT_ALLOW_SKIP=1."""

import gzip
import hashlib
import io
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
IMAGE = "docker.io/library/cdrift-ctd:1"
PROGRAMS = ["dash", "sed", "sleep", "cat", "chmod", "touch", "rm", "cp", "mkdir", "id", "ls"]
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForCdriftTestsOnly000000000000 attacker@evil"
SEVERITY = ["info", "low", "medium", "high", "critical"]
PODS = {
    "web-0-app": {"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop",
                  "io.kubernetes.container.name": "app", "io.kubernetes.pod.uid": "0a5c1e7e-0000-4000-8000-000000000001"},
    "web-1-app": {"io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "shop",
                  "io.kubernetes.container.name": "app", "io.kubernetes.pod.uid": "0a5c1e7e-0000-4000-8000-000000000002"},
    "web-1-pause": {"io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "shop",
                    "io.kubernetes.pod.uid": "0a5c1e7e-0000-4000-8000-000000000002",
                    "io.cri-containerd.kind": "sandbox"},
}

s = e2elib.Suite(__doc__)


def terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


signal.signal(signal.SIGTERM, terminate)


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def programs_layer():
    """The host's real programs and their libraries (the fixture's binaries are fake)."""
    buf = io.BytesIO()
    libs = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(path, arc):
            ti = t.gettarinfo(os.path.realpath(path), arcname=arc)
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            ti.mtime = 1700000000
            ti.mode = 0o755
            with open(os.path.realpath(path), "rb") as f:
                t.addfile(ti, f)
        for p in PROGRAMS:
            src = shutil.which(p) or "/usr/bin/" + p
            add(src, "usr/bin/" + p)
            out = subprocess.run(["ldd", os.path.realpath(src)], stdout=subprocess.PIPE).stdout.decode()
            for line in out.splitlines():
                parts = line.split()
                if "=>" in parts and parts[parts.index("=>") + 1].startswith("/"):
                    libs.add((parts[0], parts[parts.index("=>") + 1]))
                elif parts and parts[0].startswith("/") and "ld-linux" in parts[0]:
                    libs.add((os.path.basename(parts[0]), parts[0]))
        for so, path in sorted(libs):
            add(path, "usr/lib/x86_64-linux-gnu/" + so)
        ti = tarfile.TarInfo("usr/bin/sh")
        ti.type = tarfile.SYMTYPE
        ti.linkname = "dash"
        ti.mtime = 1700000000
        t.addfile(ti)
    return buf.getvalue()


def build_image(out, name, extra=b""):
    """An OCI archive ctr can import: layer 0 the fixture rootfs (gzip), layer 1 the
    programs (plain tar). `extra` changes layer 1's bytes (a different image)."""
    with open(s.fixture("rootfs.tar"), "rb") as f:
        l0 = f.read()
    l1 = programs_layer()
    if extra:
        t = io.BytesIO()
        with tarfile.open(fileobj=t, mode="w", format=tarfile.PAX_FORMAT) as tf:
            ti = tarfile.TarInfo("etc/extra")
            ti.size = len(extra)
            ti.mtime = 1700000000
            tf.addfile(ti, io.BytesIO(extra))
        l1 = l1[:-1024] + t.getvalue()  # append a member (drop l1's end-of-archive blocks)
    l0gz = gzip.compress(l0, mtime=0)
    config = {"architecture": "amd64", "os": "linux", "created": "2023-11-18T00:00:00Z",
              "config": {"Cmd": ["sleep", "100000"], "Env": ["PATH=/usr/bin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": [sha(l0), sha(l1)]},
              "history": [{"created_by": "ADD rootfs.tar /"}, {"created_by": "COPY programs /usr/"}]}
    cb = json.dumps(config).encode()
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cb), "size": len(cb)},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(l0gz),
                       "size": len(l0gz)},
                      {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(l1), "size": len(l1)}]}
    mb = json.dumps(man).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": sha(mb), "size": len(mb),
                                                "annotations": {"io.containerd.image.name": name}}]}
    with tarfile.open(out, "w") as t:
        def put(n, data):
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
        put("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        put("index.json", json.dumps(index).encode())
        for b in (cb, mb, l0gz, l1):
            put("blobs/sha256/" + sha(b)[7:], b)
    return {"manifest": sha(mb), "config": sha(cb), "diff_ids": [sha(l0), sha(l1)],
            "blobs": [sha(l0gz), sha(l1)]}


class Containerd:
    def __init__(self, env, root, state):
        self.env = env
        self.root = root
        self.state = state

    def ctr(self, *args, ns="k8s.io", timeout=120, check=True):
        cmd = ["ctr", "-n", ns] + [str(a) for a in args]
        try:
            r = subprocess.run(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            r = subprocess.CompletedProcess(cmd, -999, b"", b"TIMEOUT")
        if check and r.returncode != 0:
            raise RuntimeError("%s: exit %s: %s" % (" ".join(cmd), r.returncode,
                                                     r.stderr.decode(errors="replace").strip()[:400]))
        return r

    def run(self, name, labels, ns="k8s.io"):
        # runc's state is host-wide (/run/containerd/runc/NS/ID) unless given a root:
        # another containerd on this host may run a container of the same id.
        args = ["run", "-d", "--snapshotter", "overlayfs", "--runc-root", os.path.join(self.state, "runc")]
        for k, v in sorted(labels.items()):
            args += ["--label", "%s=%s" % (k, v)]
        self.ctr(*args, IMAGE, name, "sleep", "100000", ns=ns)

    def exec(self, name, script, n=[0]):
        n[0] += 1
        self.ctr("tasks", "exec", "--exec-id", "e%d" % n[0], name, "sh", "-c", script)

    def rootfs(self, name, ns="k8s.io"):
        return os.path.join(self.state, "io.containerd.runtime.v2.task", ns, name, "rootfs")

    def blob(self, digest):
        return os.path.join(self.root, "io.containerd.content.v1.content", "blobs", "sha256", digest[7:])

    def cdrift(self, *args, timeout=180, env=None):
        cmd = [s.cdrift] + [str(a) for a in args]
        if s.args.v:
            print("  $ " + " ".join(cmd))
        try:
            return subprocess.run(cmd, env=env or self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(cmd, -999, b"", b"TIMEOUT")

    def audit_json(self, *args):
        r = self.cdrift("audit", *args, "--format", "json", "--fail-on", "high")
        try:
            return r, json.loads(r.stdout)
        except ValueError:
            return r, None


def start():
    if os.geteuid() != 0:
        return None, "needs root (containerd runs as root on these machines)"
    env = dict(os.environ)
    env["CDRIFT_RT_DIR"] = os.path.join(s.work, "rt")
    r = subprocess.run([SCRIPT, "start", "containerd"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    if r.returncode != 0:
        return None, "runtime-env.sh start containerd failed: " + r.stderr.decode(errors="replace").strip()[-400:]
    for line in r.stdout.decode().splitlines():
        if line.startswith("export ") and "=" in line:
            k, v = line[len("export "):].split("=", 1)
            env[k] = v
    env["XDG_CACHE_HOME"] = os.path.join(s.work, "cache")
    shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
    return Containerd(env, env["CDRIFT_CONTAINERD_ROOT"], env["CDRIFT_CONTAINERD_STATE"]), ""


def sev(name):
    return SEVERITY.index(name) if name in SEVERITY else -1


def k8s_of(name):
    labels = PODS[name]
    return {"namespace": labels.get("io.kubernetes.pod.namespace", ""), "pod": labels["io.kubernetes.pod.name"],
            "container": labels.get("io.kubernetes.container.name", ""), "pod_uid": labels["io.kubernetes.pod.uid"]}


def check_identity(label, rep, name, img):
    c = rep.get("container", {})
    s.check(label + ": container source and id", c.get("source") == "containerd:k8s.io/" + name
            and c.get("id") == name and c.get("image") == IMAGE and c.get("created"), str(c))
    s.check(label + ": container.kubernetes", c.get("kubernetes") == k8s_of(name), str(c.get("kubernetes")))
    i = rep.get("image", {})
    s.check(label + ": image from the content store by its record's digest",
            i.get("manifest_digest") == img["manifest"] and i.get("config_digest") == img["config"]
            and i.get("reference") == IMAGE, str({k: i.get(k) for k in ("manifest_digest", "config_digest", "reference")}))
    layers = i.get("layers", [])
    s.check(label + ": both layers verified",
            [(l["digest"], l["diff_id"], l["verified"]) for l in layers]
            == [(b, d, True) for b, d in zip(img["blobs"], img["diff_ids"])], str(layers))


TAMPERED = {
    "/etc/passwd": {"change": "modified", "severity": "critical", "origin": "shell-edit"},
    "/etc/debian_version": {"change": "deleted"},
    "/usr/bin/id": {"change": "modified", "fields": ["mode"], "min_severity": "high"},
    "/root/.ssh": {"change": "added"},
    "/root/.ssh/authorized_keys": {"change": "added", "min_severity": "high", "origin": "shell-edit"},
    "/usr/local/bin/dropped": {"change": "added", "min_severity": "high", "origin": "copied-in"},
}


def check_findings(label, rep, expect):
    got = {f["path"]: f for f in rep.get("findings", [])}
    s.check("%s: finding paths are exactly %s" % (label, sorted(expect) or "none"), set(got) == set(expect),
            "got %s" % sorted((p, f["change"], f["severity"]) for p, f in got.items()))
    for path, want in sorted(expect.items()):
        f = got.get(path)
        if not f:
            continue
        what = "%s: %s" % (label, path)
        s.check(what + " is " + want["change"], f["change"] == want["change"], f["change"])
        if "fields" in want:
            s.check(what + " changed %s" % want["fields"], all(x in f.get("fields", []) for x in want["fields"]),
                    str(f.get("fields")))
        if "severity" in want:
            s.check(what + " is " + want["severity"], f["severity"] == want["severity"], f["severity"])
        if "min_severity" in want:
            s.check(what + " at least " + want["min_severity"], sev(f["severity"]) >= sev(want["min_severity"]),
                    f["severity"])
        if "origin" in want:
            s.check(what + " origin " + want["origin"], f["origin"]["kind"] == want["origin"],
                    "%s: %s" % (f["origin"]["kind"], f["origin"]["evidence"]))


def scenarios(rt, img):
    rt.run("web-0-app", PODS["web-0-app"])
    rt.run("web-1-app", PODS["web-1-app"])
    rt.run("web-1-pause", PODS["web-1-pause"])
    rt.run("plain", {}, ns="default")
    # Tampering from inside, as an attacker with a shell in the pod would.
    rt.exec("web-1-app", "sed -i '$ a backdoor:x:0:0::/root:/bin/sh' /etc/passwd")
    rt.exec("web-1-app", "rm /etc/debian_version && chmod u+s /usr/bin/id")
    rt.exec("web-1-app", "mkdir -p /root/.ssh && echo '%s' >> /root/.ssh/authorized_keys" % KEY)
    # ...and from the host, through the task's rootfs (it lands in the upper dir).
    dropped = os.path.join(rt.rootfs("web-1-app"), "usr", "local", "bin", "dropped")
    shutil.copy(os.path.realpath(shutil.which("id") or "/usr/bin/id"), dropped)
    os.chmod(dropped, 0o755)
    os.chown(dropped, 1234, 5678)
    old = time.time() - 3 * 86400
    os.utime(dropped, (old, old))

    r, rep = rt.audit_json("--container", "containerd:k8s.io/web-0-app")
    if s.check("untouched: JSON report", rep is not None, describe(r)):
        s.check("untouched: exit 0", r.returncode == 0, describe(r))
        check_findings("untouched", rep, {})
        check_identity("untouched", rep, "web-0-app", img)
        s.check("untouched: container side is the task's filesystem", rep["container"]["kind"] == "directory")

    r, rep = rt.audit_json("--container", "containerd:k8s.io/web-1-app")
    if s.check("tampered: JSON report", rep is not None, describe(r)):
        s.check("tampered: exit 1", r.returncode == 1, describe(r))
        check_findings("tampered", rep, TAMPERED)
        check_identity("tampered", rep, "web-1-app", img)
        created = [e for f in rep["findings"] for e in f["origin"]["evidence"] if "ctr containers info" in e]
        s.check("tampered: origin weighs the container's creation time from containerd", bool(created))

    # The pod identity in every format.
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/web-1-app", "--format", "text", "--color", "never")
    want = "pod        shop/web-1 container app (uid %s)" % k8s_of("web-1-app")["pod_uid"]
    s.check("text: header names the pod", want in r.stdout.decode(errors="replace"), r.stdout.decode()[:600])
    s.check("text: header says 2 layers, all verified", "2 layers, all verified" in r.stdout.decode())
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/web-1-app", "--format", "sarif")
    try:
        results = json.loads(r.stdout)["runs"][0]["results"]
    except (ValueError, KeyError, IndexError):
        results = []
    s.check("sarif: every result carries the pod",
            len(results) == len(TAMPERED) and all(x["properties"].get("kubernetes") == k8s_of("web-1-app")
                                                  for x in results), describe(r))
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/web-1-app", "--format", "jsonl", "--fail-on", "never")
    lines = [json.loads(x) for x in r.stdout.decode().splitlines()]
    s.check("jsonl: one line per finding, then a summary",
            [x["record"] for x in lines] == ["finding"] * len(TAMPERED) + ["summary"], describe(r))
    s.check("jsonl: every line carries the pod, the image digest; findings their severity",
            all(x["container"].get("kubernetes") == k8s_of("web-1-app")
                and x["image"]["manifest_digest"] == img["manifest"]
                and (x["record"] != "finding" or x["severity"] in SEVERITY) for x in lines))
    s.check("jsonl: the summary records the verified layers",
            lines and all(l["verified"] for l in lines[-1]["image"]["layers"]) and len(lines[-1]["image"]["layers"]) == 2)
    s.check("jsonl: exit 0 with --fail-on never", r.returncode == 0, describe(r))
    validate = os.path.join(e2elib.REPO, "scripts", "validate-json.py")
    files = []
    for i, x in enumerate(r.stdout.decode().splitlines()):
        files.append(os.path.join(s.work, "line%d.json" % i))
        with open(files[-1], "w") as f:
            f.write(x + "\n")
    v = subprocess.run([sys.executable, validate, "--schema",
                        os.path.join(e2elib.REPO, "docs", "report-jsonl.schema.json")] + files,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    s.check("jsonl: every line valid against docs/report-jsonl.schema.json", v.returncode == 0,
            v.stderr.decode()[:400])

    # --all: the k8s.io namespace, then every namespace.
    r = rt.cdrift("audit", "--all", "--runtime", "containerd", "--namespace", "k8s.io", "--format", "json",
                  "--fail-on", "never")
    try:
        doc = json.loads(r.stdout)
        reps, skipped = doc["reports"], doc["skipped"]
    except (ValueError, KeyError, TypeError):
        reps, skipped = None, None
    if s.check("--all --namespace k8s.io: JSON reports", isinstance(reps, list), describe(r)):
        s.check("--all --namespace k8s.io: both workloads, the sandbox skipped",
                [x["container"]["source"] for x in reps] == ["containerd:k8s.io/web-0-app", "containerd:k8s.io/web-1-app"],
                str([x["container"]["source"] for x in reps]))
        s.check("--all: the sandbox is skipped with a note",
                b"note: skipped containerd:k8s.io/web-1-pause: pod sandbox" in r.stderr, r.stderr.decode()[:300])
        s.check("--all: the sandbox is in skipped[] with its reason",
                [(x["container"], x["reason"].startswith("pod sandbox")) for x in skipped]
                == [("containerd:k8s.io/web-1-pause", True)], str(skipped))
        s.check("--all: exit 0 (a skipped sandbox is no failure)", r.returncode == 0, describe(r))
        by = {x["container"]["id"]: x for x in reps}
        if "web-0-app" in by and "web-1-app" in by:
            check_findings("--all web-0-app", by["web-0-app"], {})
            check_findings("--all web-1-app", by["web-1-app"], TAMPERED)
            s.check("--all: pod identity per report",
                    by["web-0-app"]["container"].get("kubernetes") == k8s_of("web-0-app")
                    and by["web-1-app"]["container"].get("kubernetes") == k8s_of("web-1-app"))
    r = rt.cdrift("audit", "--all", "--runtime", "containerd", "--format", "jsonl", "--fail-on", "never")
    lines = [json.loads(x) for x in r.stdout.decode().splitlines()] if r.returncode == 0 else []
    summaries = [x["container"]["source"] for x in lines if x["record"] == "summary"]
    s.check("--all (every namespace) --format jsonl: one summary per workload, default namespace too",
            summaries == ["containerd:default/plain", "containerd:k8s.io/web-0-app", "containerd:k8s.io/web-1-app"],
            describe(r) + " " + str(summaries))
    s.check("--all --format jsonl: the sandbox is a skipped record",
            [(x["container"]["source"], x["reason"].startswith("pod sandbox")) for x in lines if x["record"] == "skipped"]
            == [("containerd:k8s.io/web-1-pause", True)])
    s.check("--all --format jsonl: findings only for the tampered pod, each with its pod",
            {x["container"]["source"] for x in lines if x["record"] == "finding"} == {"containerd:k8s.io/web-1-app"}
            and all(x["container"].get("kubernetes") == k8s_of("web-1-app") for x in lines if x["record"] == "finding"))
    s.check("--all: the unlabelled container has no kubernetes identity",
            all("kubernetes" not in x["container"] for x in lines if x["container"]["source"] == "containerd:default/plain"))
    r = rt.cdrift("audit", "--container", "containerd:plain", "--format", "json")
    s.check("containerd:ID uses namespace default", r.returncode == 0
            and json.loads(r.stdout or b"{}").get("container", {}).get("source") == "containerd:plain", describe(r))
    # A sandbox named explicitly is audited (only --all skips it).
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/web-1-pause", "--format", "json")
    s.check("an explicitly named sandbox is audited", r.returncode == 0, describe(r))


def errors(rt):
    cases = [
        ("a container that does not exist", ["--container", "containerd:k8s.io/nope"], 3, "not found"),
        ("an invalid namespace", ["--container", "containerd:k8s..io/web-0-app"], 2, "not a containerd identifier"),
        ("an id that looks like an option", ["--container", "containerd:k8s.io/--help"], 2, "not a containerd identifier"),
        ("--namespace without --all", ["--container", "containerd:k8s.io/web-0-app", "--namespace", "k8s.io"], 2,
         "--namespace"),
        ("--namespace with another runtime", ["--all", "--runtime", "docker", "--namespace", "k8s.io"], 2,
         "--namespace needs --runtime containerd"),
        ("a socket nobody listens on", ["--container", "containerd:k8s.io/web-0-app", "--containerd-address",
                                        os.path.join(s.work, "none.sock")], 3, "ctr"),
        ("--image containerd: without its container", ["--image", "containerd:k8s.io/" + IMAGE, "--container",
                                                       s.fixture("rootfs.tar")], 2, "read with their container"),
    ]
    for label, args, code, text in cases:
        r = rt.cdrift("audit", *args, timeout=60)
        err = r.stderr.decode(errors="replace")
        s.check("error: %s: exit %d" % (label, code), r.returncode == code, describe(r))
        s.check("error: %s: one line naming it" % label, text in err and err.count("\n") == 1, err[:300])
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/nope", "--format", "jsonl")
    try:
        line = json.loads(r.stdout)
    except ValueError:
        line = {}
    s.check("error: --format jsonl also writes an error record", line.get("record") == "error"
            and line.get("exit_status") == 3 and r.returncode == 3, describe(r))
    env = dict(rt.env)
    env["CONTAINERD_ADDRESS"] = os.path.join(s.work, "none.sock")
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/web-0-app", env=env, timeout=60)
    s.check("CONTAINERD_ADDRESS is honoured", r.returncode == 3 and b"none.sock" in r.stderr, describe(r))


def integrity(rt, img):
    # A layer blob corrupted in the content store: exit 3, never a report.
    blob = rt.blob(img["blobs"][1])
    with open(blob, "rb") as f:
        original = f.read()
    os.chmod(blob, 0o644)
    with open(blob, "r+b") as f:
        f.seek(len(original) // 2)
        f.write(bytes([original[len(original) // 2] ^ 0xFF]))
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/web-0-app", "--no-cache")
    s.check("corrupted layer blob: exit 3", r.returncode == 3, describe(r))
    s.check("corrupted layer blob: says which digest failed",
            b"mismatch" in r.stderr and img["blobs"][1][7:19].encode() in r.stderr, describe(r))
    s.check("corrupted layer blob: no report on stdout", r.stdout == b"")
    r = rt.cdrift("audit", "--all", "--runtime", "containerd", "--namespace", "k8s.io", "--no-cache")
    s.check("corrupted layer blob: --all fails as a whole (exit 3), never skips it", r.returncode == 3, describe(r))
    with open(blob, "wb") as f:
        f.write(original)
    # The manifest is checked on every audit, even when the image manifest is cached.
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/web-0-app")
    s.check("audit after repair: exit 0 (and the cache is filled)", r.returncode == 0, describe(r))
    mblob = rt.blob(img["manifest"])
    with open(mblob, "rb") as f:
        m = f.read()
    with open(mblob, "wb") as f:
        f.write(m.replace(b'"schemaVersion": 2', b'"schemaVersion":  2'))
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/web-0-app")
    s.check("corrupted manifest, image manifest cached: exit 3", r.returncode == 3 and b"digest mismatch" in r.stderr,
            describe(r))
    with open(mblob, "wb") as f:
        f.write(m)
    # The image name now points at another image: the container's snapshot does not
    # sit on its layers, and cdrift refuses to compare against the wrong image.
    other = os.path.join(s.work, "image2.tar")
    build_image(other, IMAGE, extra=b"v2\n")
    rt.ctr("images", "import", other, timeout=300)
    r = rt.cdrift("audit", "--container", "containerd:k8s.io/web-0-app")
    s.check("image retagged under the container: exit 3", r.returncode == 3, describe(r))
    s.check("image retagged under the container: names the chain mismatch",
            b"does not sit on this image's layers" in r.stderr, describe(r))


def image_run(rt):
    """cdrift's own image run like the DaemonSet: read-only mounts of the socket, the
    root and the task mounts, every capability dropped but DAC_READ_SEARCH, a read-only
    root filesystem, no network."""
    tag = os.environ.get("CDRIFT_E2E_IMAGE")
    if not tag:
        print("NOTE image run not attempted: set CDRIFT_E2E_IMAGE=<tag of `docker build .`> and DOCKER_HOST")
        return
    sock = rt.env["CONTAINERD_ADDRESS"]
    tasks = os.path.join(rt.state, "io.containerd.runtime.v2.task")
    cmd = ["docker", "run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
           "--cap-add", "DAC_READ_SEARCH", "--security-opt", "no-new-privileges", "--user", "0:0",
           "--tmpfs", "/tmp", "--tmpfs", "/var/cache/cdrift",
           "-v", "%s:%s:ro" % (sock, sock), "-v", "%s:%s:ro" % (rt.root, rt.root), "-v", "%s:%s:ro" % (tasks, tasks),
           "-e", "CONTAINERD_ADDRESS=" + sock, tag,
           "audit", "--all", "--runtime", "containerd", "--namespace", "k8s.io", "--format", "jsonl",
           "--fail-on", "never"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    try:
        lines = [json.loads(x) for x in r.stdout.decode().splitlines()]
    except ValueError:
        lines = []
    s.check("image (as the DaemonSet runs it): exit 0", r.returncode == 0, describe(r))
    s.check("image: audits both workloads from inside",
            [x["container"]["source"] for x in lines if x["record"] == "summary"]
            == ["containerd:k8s.io/web-0-app", "containerd:k8s.io/web-1-app"], describe(r))
    s.check("image: the same findings as from the host",
            {x["path"] for x in lines if x["record"] == "finding"} == set(TAMPERED), describe(r))


def main():
    rt, why = start()
    if rt is None:
        s.skip("containerd", why)
        s.finish()
    try:
        image_tar = os.path.join(s.work, "image.tar")
        img = build_image(image_tar, IMAGE)
        rt.ctr("images", "import", image_tar, timeout=300)
        rt.ctr("images", "import", image_tar, ns="default", timeout=300)
        scenarios(rt, img)
        errors(rt)
        image_run(rt)
        integrity(rt, img)  # last: it retags the image
    except (RuntimeError, OSError) as e:
        s.check("containerd setup", False, str(e))
    finally:
        r = subprocess.run([SCRIPT, "stop"], env=rt.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if r.returncode != 0:
            print("warning: runtime-env.sh stop: " + r.stderr.decode(errors="replace").strip())
    s.finish()


main()
