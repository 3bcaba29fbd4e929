#!/usr/bin/env python3
"""deploy/: the Kubernetes manifests parsed with a YAML parser and checked for the
fields that decide what the node agent may do (no privileged mode, no privilege
escalation, a read-only root filesystem, all capabilities dropped but
CAP_DAC_READ_SEARCH, read-only hostPath mounts of exactly containerd's socket, root
and task mounts, no API token, no host namespaces, resource requests and limits, a
deny-all NetworkPolicy, the Pod Security labels), the Dockerfile's shape, and the
node agent loop's handling of cdrift's exit statuses and of SIGTERM."""

import os
import re
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402

try:
    import yaml
except ImportError:
    print("FAIL python3-yaml is not installed (scripts/deps.sh installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

s = e2elib.Suite(__doc__)
DEPLOY = os.path.join(e2elib.REPO, "deploy")
K8S = os.path.join(DEPLOY, "kubernetes")
HOST_PATHS = {
    "/run/containerd/containerd.sock": "Socket",
    "/var/lib/containerd": "Directory",
    "/run/containerd/io.containerd.runtime.v2.task": "DirectoryOrCreate",
}
ALLOWED_CAPS = {"DAC_READ_SEARCH"}


def load_all():
    docs = {}
    for name in sorted(os.listdir(K8S)):
        if name.endswith(".yaml"):
            with open(os.path.join(K8S, name), encoding="utf-8") as f:
                docs[name] = [d for d in yaml.safe_load_all(f) if d is not None]
    return docs


def only(docs, name, kind):
    got = docs.get(name, [])
    ok = len(got) == 1 and got[0].get("kind") == kind
    s.check("%s holds one %s" % (name, kind), ok, "got %s" % [d.get("kind") for d in got])
    return got[0] if ok else None


def check_pod(label, pod_spec, pod_labels, args_of):
    spec = pod_spec
    s.check("%s: no API token mounted" % label, spec.get("automountServiceAccountToken") is False)
    s.check("%s: service account cdrift" % label, spec.get("serviceAccountName") == "cdrift")
    for ns in ("hostPID", "hostIPC", "hostNetwork"):
        s.check("%s: %s off" % (label, ns), not spec.get(ns, False))
    psc = spec.get("securityContext", {})
    s.check("%s: pod seccomp RuntimeDefault" % label,
            psc.get("seccompProfile", {}).get("type") == "RuntimeDefault")
    containers = spec.get("containers", [])
    s.check("%s: one container, no init containers" % label,
            len(containers) == 1 and not spec.get("initContainers"))
    if not containers:
        return None
    c = containers[0]
    sc = c.get("securityContext", {})
    s.check("%s: not privileged" % label, sc.get("privileged") is False)
    s.check("%s: no privilege escalation" % label, sc.get("allowPrivilegeEscalation") is False)
    s.check("%s: read-only root filesystem" % label, sc.get("readOnlyRootFilesystem") is True)
    caps = sc.get("capabilities", {})
    s.check("%s: drops ALL capabilities" % label, caps.get("drop") == ["ALL"], str(caps))
    s.check("%s: adds only CAP_DAC_READ_SEARCH" % label, set(caps.get("add", [])) <= ALLOWED_CAPS,
            str(caps.get("add")))
    s.check("%s: container seccomp RuntimeDefault" % label,
            sc.get("seccompProfile", {}).get("type") == "RuntimeDefault")
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    s.check("%s: runs as uid 0 explicitly (the socket and store are root's)" % label, uid == 0)
    s.check("%s: no procMount or SELinux/AppArmor loosening" % label,
            "procMount" not in sc and sc.get("appArmorProfile", {}).get("type") != "Unconfined"
            and "seLinuxOptions" not in sc)

    res = c.get("resources", {})
    req, lim = res.get("requests", {}), res.get("limits", {})
    s.check("%s: cpu and memory requests and limits" % label,
            all(k in req and k in lim for k in ("cpu", "memory")), str(res))

    def qty(v):
        m = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi)?", str(v))
        if not m:
            return None
        n = float(m.group(1))
        return n * {"m": 0.001, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, None: 1}[m.group(2)]
    s.check("%s: requests within limits" % label,
            all(qty(req.get(k)) is not None and qty(req[k]) <= qty(lim.get(k, 0) or 0)
                for k in ("cpu", "memory") if k in req), str(res))

    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    host = {n: v["hostPath"] for n, v in volumes.items() if "hostPath" in v}
    s.check("%s: hostPath volumes are exactly containerd's socket, root and task mounts" % label,
            {h["path"]: h.get("type") for h in host.values()} == HOST_PATHS,
            str({h["path"]: h.get("type") for h in host.values()}))
    for n, h in sorted(host.items()):
        m = mounts.get(n, {})
        s.check("%s: hostPath %s mounted read-only at the same path" % (label, h["path"]),
                m.get("readOnly") is True and m.get("mountPath") == h["path"], str(m))
        s.check("%s: hostPath %s never Bidirectional" % (label, h["path"]),
                m.get("mountPropagation", "None") in ("None", "HostToContainer"))
    writable = sorted(m["mountPath"] for n, m in mounts.items() if not m.get("readOnly"))
    s.check("%s: writable mounts are emptyDirs only (cache, tmp)" % label,
            all("emptyDir" in volumes[n] for n, m in mounts.items() if not m.get("readOnly"))
            and writable == ["/tmp", "/var/cache/cdrift"], str(writable))
    s.check("%s: emptyDirs have size limits" % label,
            all("sizeLimit" in v["emptyDir"] for v in volumes.values() if "emptyDir" in v))
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    s.check("%s: CONTAINERD_ADDRESS is the mounted socket" % label,
            env.get("CONTAINERD_ADDRESS") == "/run/containerd/containerd.sock")
    s.check("%s: the cache is on the writable volume" % label,
            env.get("XDG_CACHE_HOME") == "/var/cache/cdrift")
    argv = (c.get("command") or []) + (c.get("args") or [])
    for pair in (["--runtime", "containerd"], ["--format", "jsonl"], ["--namespace", "k8s.io"]):
        s.check("%s: runs with %s" % (label, " ".join(pair)),
                any(argv[i:i + 2] == pair for i in range(len(argv))), str(argv))
    s.check("%s: audits --all" % label, "--all" in argv)
    args_of[label] = (argv, env, sc, sorted(mounts), c.get("resources"))
    return c


def main():
    docs = load_all()
    s.check("deploy/kubernetes has the manifests",
            {"namespace.yaml", "serviceaccount.yaml", "networkpolicy.yaml", "daemonset.yaml",
             "cronjob.yaml", "kustomization.yaml"} <= set(docs), str(sorted(docs)))
    args_of = {}
    ns = only(docs, "namespace.yaml", "Namespace")
    if ns:
        labels = ns["metadata"].get("labels", {})
        s.check("namespace cdrift", ns["metadata"]["name"] == "cdrift")
        s.check("namespace: Pod Security enforce level stated, baseline warnings kept",
                labels.get("pod-security.kubernetes.io/enforce") == "privileged"
                and labels.get("pod-security.kubernetes.io/warn") == "baseline")
    sa = only(docs, "serviceaccount.yaml", "ServiceAccount")
    if sa:
        s.check("service account: no token automount", sa.get("automountServiceAccountToken") is False)
    s.check("no RBAC objects: cdrift needs no API access",
            not any(d.get("kind") in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
                    for ds in docs.values() for d in ds))
    ds = only(docs, "daemonset.yaml", "DaemonSet")
    if ds:
        tpl = ds["spec"]["template"]
        s.check("daemonset: selector matches the pod labels",
                ds["spec"]["selector"]["matchLabels"].items() <= tpl["metadata"]["labels"].items())
        s.check("daemonset: tolerates every taint (every node)",
                {"operator": "Exists"} in tpl["spec"].get("tolerations", []))
        c = check_pod("daemonset", tpl["spec"], tpl["metadata"]["labels"], args_of)
        if c:
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            s.check("daemonset: runs the node agent loop on an interval",
                    c.get("command") == ["/usr/local/bin/cdrift-node-agent"]
                    and str(env.get("CDRIFT_INTERVAL", "")).isdigit())
            s.check("daemonset: drift does not stop the agent (--fail-on never)",
                    "never" in c.get("args", []))
    cj = only(docs, "cronjob.yaml", "CronJob")
    if cj:
        job = cj["spec"]["jobTemplate"]["spec"]
        tpl = job["template"]
        s.check("cronjob: no overlapping rounds", cj["spec"].get("concurrencyPolicy") == "Forbid")
        s.check("cronjob: one pod per node (anti-affinity on the hostname)",
                tpl["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
                ["topologyKey"] == "kubernetes.io/hostname"
                and job.get("parallelism") == job.get("completions"))
        s.check("cronjob: bounded (activeDeadlineSeconds, backoffLimit)",
                job.get("activeDeadlineSeconds", 0) > 0 and "backoffLimit" in job)
        s.check("cronjob: restartPolicy Never", tpl["spec"].get("restartPolicy") == "Never")
        check_pod("cronjob", tpl["spec"], tpl["metadata"]["labels"], args_of)
    if "daemonset" in args_of and "cronjob" in args_of:
        d, c = args_of["daemonset"], args_of["cronjob"]
        s.check("daemonset and cronjob: same security context and mounts", d[2] == c[2] and d[3] == c[3])
    np = only(docs, "networkpolicy.yaml", "NetworkPolicy")
    if np and ds:
        spec = np["spec"]
        s.check("networkpolicy: denies all ingress and egress",
                sorted(spec.get("policyTypes", [])) == ["Egress", "Ingress"]
                and not spec.get("ingress") and not spec.get("egress"))
        s.check("networkpolicy: selects the agent's pods",
                spec["podSelector"]["matchLabels"].items()
                <= ds["spec"]["template"]["metadata"]["labels"].items())
    k = only(docs, "kustomization.yaml", "Kustomization")
    if k:
        s.check("kustomization: lists existing files",
                all(os.path.exists(os.path.join(K8S, r)) for r in k.get("resources", [])))
    for name, ds_ in docs.items():
        for d in ds_:
            if d.get("kind") not in ("Kustomization", "Namespace"):
                s.check("%s: %s in namespace cdrift" % (name, d.get("kind")),
                        d["metadata"].get("namespace") == "cdrift")

    check_dockerfile()
    check_agent()
    s.finish()


def check_dockerfile():
    path = os.path.join(e2elib.REPO, "Dockerfile")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    s.check("Dockerfile: multi-stage", len(froms) >= 2, str(froms))
    default = re.search(r"^ARG DEBIAN_IMAGE=(\S+)", text, re.M)
    s.check("Dockerfile: on Debian slim",
            default is not None and default.group(1).startswith("debian:") and default.group(1).endswith("-slim")
            and all(f in ("${DEBIAN_IMAGE}", default.group(1)) for f in [x.split()[0] for x in froms]))
    final = text[text.rfind("\nFROM "):]
    s.check("Dockerfile: no compiler in the final stage", "g++" not in final and "-dev" not in final)
    s.check("Dockerfile: the final stage has ctr and the node agent",
            "COPY --from=build" in final and "cdrift-node-agent" in final)
    s.check("Dockerfile: nothing fetched but Debian packages", not re.search(r"\b(curl|wget|ADD\s+https?:)", text))
    with open(os.path.join(e2elib.REPO, ".dockerignore"), encoding="utf-8") as f:
        ignore = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    s.check(".dockerignore: everything excluded but what is copied", ignore and ignore[0] == "*"
            and "!build" not in ignore)


def check_agent():
    agent = os.path.join(DEPLOY, "node-agent.sh")
    s.check("node-agent.sh: executable", os.stat(agent).st_mode & stat.S_IXUSR != 0)
    r = subprocess.run(["sh", "-n", agent], stderr=subprocess.PIPE)
    s.check("node-agent.sh: valid sh", r.returncode == 0, r.stderr.decode(errors="replace"))
    fake = os.path.join(s.work, "fake-cdrift")
    count = os.path.join(s.work, "calls")
    with open(fake, "w") as f:
        # Exits with the statuses listed in $FAKE_STATUSES, one per call, then 2.
        f.write("#!/bin/sh\nn=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s\n"
                "echo \"$@\" > %s.args\nset -- $FAKE_STATUSES 2 2 2 2 2 2 2 2\nshift $((n-1))\nexit $1\n"
                % (count, count, count))
    os.chmod(fake, 0o755)

    def run_agent(statuses, interval="0", timeout=20):
        if os.path.exists(count):
            os.remove(count)
        env = dict(os.environ, CDRIFT_BIN=fake, CDRIFT_INTERVAL=interval, FAKE_STATUSES=statuses)
        return subprocess.run([agent, "--all", "--format", "jsonl"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)

    def calls():
        with open(count) as f:
            return int(f.read())
    r = run_agent("0 1 3 0")
    s.check("node agent: rounds go on through drift (1) and runtime errors (3); stops on 2",
            r.returncode == 2 and calls() == 5, "exit %d after %d calls" % (r.returncode, calls()))
    with open(count + ".args") as f:
        s.check("node agent: passes its arguments to cdrift audit", f.read().split() == ["audit", "--all", "--format", "jsonl"])
    r = run_agent("4")
    s.check("node agent: an internal error (4) stops it", r.returncode == 4 and calls() == 1)
    r = run_agent("0", interval="1m")
    s.check("node agent: a bad CDRIFT_INTERVAL is a usage error", r.returncode == 2 and b"CDRIFT_INTERVAL" in r.stderr)
    if os.path.exists(count):
        os.remove(count)
    env = dict(os.environ, CDRIFT_BIN=fake, CDRIFT_INTERVAL="300", FAKE_STATUSES="0 0 0")
    p = subprocess.Popen([agent], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(100):
        if os.path.exists(count):
            break
        time.sleep(0.05)
    time.sleep(0.2)
    start = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    s.check("node agent: SIGTERM during the interval ends it at once with 0",
            rc == 0 and time.time() - start < 5, "rc %s after %.1fs" % (rc, time.time() - start))
    # Its sleep must not outlive it (it would hold the pod's stdout open).
    try:
        p.communicate(timeout=5)
        s.check("node agent: leaves no sleeping child behind", True)
    except subprocess.TimeoutExpired:
        p.kill()
        s.check("node agent: leaves no sleeping child behind", False, "stdout still open after exit")


main()
