#!/usr/bin/env python3
"""`cdrift audit` and `cdrift diff` end to end: clean Docker/Podman exports, one export
per change kind and field, placeholders, --ignore, gzip, stdin, directory sources,
hostile names, error paths."""

import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import audit_json, compare_entries, describe, findings_by_path, parse_jsonl_manifest, path_key, short  # noqa: E402

s = e2elib.Suite(__doc__)
audits = {a["name"]: a for a in s.cases["audits"]}


def key_of(exp):
    if "path_b64" in exp:
        return base64.b64decode(exp["path_b64"])
    return exp["path"].encode()


def check_findings(name, rep, exp_findings):
    got = findings_by_path(rep)
    want = {key_of(f): f for f in exp_findings}
    extra = sorted(set(got) - set(want))
    missing = sorted(set(want) - set(got))
    s.check(name + ": exactly the expected finding paths (%d)" % len(want), not extra and not missing,
            "missing %r, unexpected %r" % (missing, [(k, got[k].get("change"), got[k].get("fields")) for k in extra]))
    for k, w in sorted(want.items()):
        g = got.get(k)
        if g is None:
            continue
        label = "%s: %s" % (name, w.get("path") or repr(k))
        s.check(label + " is " + w["change"], g.get("change") == w["change"], "got %r" % g.get("change"))
        if "fields" in w:
            gf = g.get("fields") or []
            if w.get("fields_match", "exact") == "exact":
                s.check(label + " fields == %s" % w["fields"], list(gf) == w["fields"], "got %r" % gf)
            else:
                s.check(label + " fields include %s" % w["fields"], set(w["fields"]) <= set(gf), "got %r" % gf)
        if "subtree_entries" in w:
            s.check(label + " subtree_entries == %d" % w["subtree_entries"],
                    g.get("subtree_entries") == w["subtree_entries"], "got %r" % g.get("subtree_entries"))
    return got


def fingerprint(rep):
    return sorted((path_key(f), f.get("change"), tuple(f.get("fields") or []), f.get("subtree_entries"))
                  for f in rep.get("findings", []))


image = s.fixture("oci")

# --- every audit case from cases.json ----------------------------------------------
reports = {}
for name, a in sorted(audits.items()):
    label = "audit " + name
    if not s.wanted(label):
        continue
    r, rep, problem = audit_json(s, s.fixture(a["image"]), s.fixture(a["container"]), "--show-touched")
    s.check(label + ": exit %d" % a["exit"], r.returncode == a["exit"], describe(r))
    if not s.check(label + ": JSON report", rep is not None, problem):
        continue
    reports[name] = rep
    s.check(label + ": schema_version 1", rep.get("schema_version") == "1", repr(rep.get("schema_version")))
    check_findings(label, rep, a["findings"])
    summary = rep.get("summary") or {}
    s.check(label + ": summary.findings == len(findings)",
            summary.get("findings") == len(rep.get("findings", [])), repr(summary))
    ignored = {path_key(i): i for i in rep.get("ignored", [])}
    want_ign = [p.encode() for p in a.get("ignored_include", [])]
    miss = [p for p in want_ign if p not in ignored]
    s.check(label + ": placeholders listed in ignored[] (%d)" % len(want_ign), not miss, "missing %r" % miss)
    s.check(label + ": every ignored path has a reason", all(i.get("reason") for i in ignored.values()),
            repr([i for i in ignored.values() if not i.get("reason")][:2]))
    touched = {path_key(t) for t in rep.get("touched", [])}
    miss = [p for p in a.get("touched_include", []) if p.encode() not in touched]
    s.check(label + ": --show-touched lists %s" % a.get("touched_include", []), not miss, "missing %r" % miss)
    overlap = touched & set(findings_by_path(rep))
    s.check(label + ": nothing is both touched and a finding", not overlap, repr(sorted(overlap)))

# mtime-only: not drift without --show-touched either.
if s.wanted("mtime-only"):
    r, rep, problem = audit_json(s, image, s.fixture("containers/export-mtime.tar"))
    s.check("mtime-only: exit 0 and no findings without --show-touched",
            r.returncode == 0 and rep is not None and not rep.get("findings"), problem or describe(r))

# Issue 5 sets the gate: --fail-on defaults to "high". A setuid bit added to
# /usr/bin/find is high or worse and fails the audit without any flag; a chmod of
# /etc/profile to 0600 (medium) passes the default gate but fails --fail-on medium.
if s.wanted("default fail-on"):
    r = s.run("audit", "--image", image, "--container", s.fixture("containers/export-setuid.tar"))
    s.check("default fail-on (high): setuid added exits 1", r.returncode == 1, describe(r))
    r = s.run("audit", "--image", image, "--container", s.fixture("containers/export-chmod.tar"))
    s.check("default fail-on (high): a medium chmod exits 0", r.returncode == 0, describe(r))
    r = s.run("audit", "--image", image, "--container", s.fixture("containers/export-chmod.tar"), "--fail-on", "medium")
    s.check("--fail-on medium: the chmod exits 1", r.returncode == 1, describe(r))
    r = s.run("audit", "--image", image, "--container", s.fixture("containers/export-chmod.tar"), "--fail-on", "never")
    s.check("--fail-on never: exit 0 despite drift", r.returncode == 0, describe(r))

# --- --ignore --------------------------------------------------------------------------
if s.wanted("ignore"):
    r, rep, problem = audit_json(s, image, s.fixture("containers/export-add-dir.tar"), "--ignore", "/opt/**")
    s.check("--ignore '/opt/**': exit 0, no findings", r.returncode == 0 and rep is not None
            and not rep.get("findings"), problem or describe(r) + " " + repr((rep or {}).get("findings", [])[:3]))
    if rep is not None:
        ign = {path_key(i) for i in rep.get("ignored", [])}
        want = {b"/opt/kit", b"/opt/kit/a.sh", b"/opt/kit/b.bin"}
        s.check("--ignore '/opt/**': the paths appear in ignored[]", want <= ign, repr(sorted(want - ign)))
    r, rep, problem = audit_json(s, image, s.fixture("containers/export-tampered.tar"),
                                 "--ignore", "/root/**", "--ignore", "/var/log/*.log")
    if s.check("--ignore twice: exit 1 with the rest still found", r.returncode == 1 and rep is not None,
               problem or describe(r)):
        got = set(findings_by_path(rep))
        s.check("--ignore twice: /root/** and /var/log/*.log suppressed, /etc/passwd kept",
                b"/etc/passwd" in got and not any(p.startswith(b"/root/") or p.startswith(b"/var/log/") for p in got),
                repr(sorted(got)))

# --- stdin ----------------------------------------------------------------------------
if s.wanted("stdin"):
    for rel in ("containers/export-add-file.tar", "containers/export-docker-clean.tar.gz"):
        with open(s.fixture(rel), "rb") as f:
            data = f.read()
        r, rep, problem = audit_json(s, image, "-", stdin=data)
        r2, rep2, _ = audit_json(s, image, s.fixture(rel))
        s.check("stdin: --container - < %s gives the same findings as the file" % os.path.basename(rel),
                rep is not None and rep2 is not None and r.returncode == r2.returncode
                and fingerprint(rep) == fingerprint(rep2), problem or describe(r))

# --- directory sources ---------------------------------------------------------------
if s.wanted("directory"):
    for case in ("tampered", "setuid", "xattr", "del-dir", "docker-clean", "chown"):
        a = audits[case]
        d = e2elib.extract_export(s.fixture(a["container"]), os.path.join(s.work, "dir-" + case))
        r, rep, problem = audit_json(s, image, d)
        r2, rep2, _ = audit_json(s, image, s.fixture(a["container"]))
        ok = rep is not None and rep2 is not None and fingerprint(rep) == fingerprint(rep2) \
            and r.returncode == r2.returncode
        detail = problem or describe(r)
        if rep is not None and rep2 is not None and not ok:
            detail = "dir %r vs tar %r" % (fingerprint(rep)[:4], fingerprint(rep2)[:4])
        s.check("directory source: %s gives the same findings as the tar" % case, ok, detail)
        if case == "tampered":
            m1, m2 = s.run("manifest", "dir:" + d), s.run("manifest", s.fixture(a["container"]))
            _, e1, _ = parse_jsonl_manifest(m1.stdout)
            _, e2, _ = parse_jsonl_manifest(m2.stdout)
            e1.pop(b"/", None)
            e2.pop(b"/", None)
            dd = compare_entries(e2, e1, extra=("mtime", "xattrs"))
            s.check("directory source: manifest of the unpacked export equals the tar's",
                    m1.returncode == 0 and m2.returncode == 0 and e1 and not dd, short(dd) or describe(m1))

# --- text report -------------------------------------------------------------------------
if s.wanted("text"):
    r = s.run("audit", "--image", image, "--container", s.fixture("containers/export-add-file.tar"),
              "--fail-on", "info")
    out = r.stdout.decode(errors="replace")
    s.check("text: exit 1 and the added path is shown", r.returncode == 1 and "/etc/cron.d/backdoor" in out
            and "added" in out.lower(), describe(r))
    r = s.run("audit", "--image", image, "--container", s.fixture("containers/export-docker-clean.tar"))
    s.check("text: clean container exit 0", r.returncode == 0, describe(r))
    r = s.run("audit", "--image", s.fixture("hostile-oci"), "--container", s.fixture("containers/hostile-export.tar"),
              "--fail-on", "info")
    s.check("text: hostile names exit 1", r.returncode == 1, describe(r))
    s.check("text: no raw ESC or BEL reaches the terminal", b"\x1b" not in r.stdout and b"\x07" not in r.stdout,
            repr(r.stdout[:200]))
    forged = [l for l in r.stdout.split(b"\n") if l.strip().startswith(b"modified") and b"shadow-was-here" in l]
    s.check("text: a newline in a name cannot forge a report line", not forged, repr(forged))

# --- cdrift diff ---------------------------------------------------------------------------
if s.wanted("diff"):
    for a_, b_ in (("oci", "oci"), ("oci", "docker-archive.tar"), ("oci-zstd", "rootfs.tar"),
                   ("containers/export-docker-clean.tar", "containers/export-docker-clean.tar.gz")):
        r = s.run("diff", s.fixture(a_), s.fixture(b_))
        s.check("diff %s %s: exit 0 (no differences)" % (a_, b_), r.returncode == 0, describe(r))
    r = s.run("diff", s.fixture("containers/export-docker-clean.tar"), s.fixture("containers/export-add-file.tar"),
              "--format", "json")
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        rep = None
    s.check("diff json of two exports names the added file",
            r.returncode in (0, 1) and rep is not None and b"/etc/cron.d/backdoor" in r.stdout, describe(r))

# --- a container that claims to be an image ----------------------------------------
# Files named oci-layout, index.json and blobs/ planted at the container's root
# must not turn its export (or its unpacked tree) into "the image", which would
# audit clean against itself.
if s.wanted("hijack"):
    import tarfile
    layout = os.path.join(s.work, "hijack-layout")
    if not os.path.isdir(layout):
        with tarfile.open(s.fixture("oci-archive.tar")) as t:
            t.extractall(layout)
    hijack = os.path.join(s.work, "hijack.tar")
    with tarfile.open(s.fixture("containers/export-tampered.tar")) as src, \
            tarfile.open(hijack, "w", format=tarfile.PAX_FORMAT) as out:
        for name in ("oci-layout", "index.json", "blobs"):
            out.add(os.path.join(layout, name), arcname=name)
        for m in src.getmembers():
            out.addfile(m, src.extractfile(m) if m.isfile() else None)
    r, rep, problem = audit_json(s, s.fixture("oci-archive.tar"), hijack)
    found = {f["path"] for f in (rep or {}).get("findings", [])}
    s.check("hijack: an export with an OCI layout at its root is still audited as a tree",
            r.returncode == 1 and "/usr/local/bin/kworkerd" in found and "/index.json" in found,
            problem or describe(r))
    tree = os.path.join(s.work, "hijack-tree")
    if not os.path.isdir(tree):
        with tarfile.open(hijack) as t:
            t.extractall(tree)
    r, rep, problem = audit_json(s, s.fixture("oci-archive.tar"), tree)
    found = {f["path"] for f in (rep or {}).get("findings", [])}
    s.check("hijack: a directory with an oci-layout file is still audited as a tree",
            r.returncode == 1 and "/usr/local/bin/kworkerd" in found and "/oci-layout" in found,
            problem or describe(r))

# --- errors ------------------------------------------------------------------------------
if s.wanted("errors"):
    for label, args, code in (
            ("broken image", ["--image", s.fixture("broken/blob-digest"),
                              "--container", s.fixture("containers/export-docker-clean.tar")], 3),
            ("missing container", ["--image", image, "--container", os.path.join(s.work, "no-such.tar")], 3),
            ("truncated container", ["--image", image, "--container", s.fixture("broken/zero-bytes.img")], 3),
            ("no --container", ["--image", image], 2),
            ("unknown option", ["--image", image, "--container", image, "--no-such-option"], 2)):
        r = s.run("audit", *args)
        lines = r.stderr.decode(errors="replace").strip().splitlines()
        s.check("errors: %s -> exit %d, one stderr line, empty stdout" % (label, code),
                r.returncode == code and len(lines) == 1 and not r.stdout, describe(r))

s.finish()
