#!/usr/bin/env python3
"""Severity, origin, context and content classes on the realistic tampered export
(docker cp of a binary, a shell session with sed -i and chmod u+s, persistence,
anti-forensics, the application's own writes)."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import audit_json, findings_by_path, parse_jsonl_manifest  # noqa: E402

s = e2elib.Suite(__doc__)
case = next(a for a in s.cases["audits"] if a["name"] == "tampered")
SEVERITIES = {"critical", "high", "medium", "low", "info"}
ORIGINS = {"copied-in", "shell-edit", "package-manager", "runtime-write", "unknown"}

r, rep, problem = audit_json(s, s.fixture(case["image"]), s.fixture(case["container"]))
if s.check("audit export-tampered: exit 1 with a JSON report", r.returncode == 1 and rep is not None,
           problem or e2elib.describe(r)):
    got = findings_by_path(rep)
    for f in rep.get("findings", []):
        p = f.get("path")
        o = f.get("origin") or {}
        s.check("%s: severity, rule id, origin kind, confidence and evidence present" % p,
                f.get("severity") in SEVERITIES and (f.get("rule") or {}).get("id")
                and o.get("kind") in ORIGINS and o.get("confidence") in ("high", "medium", "low")
                and isinstance(o.get("evidence"), list) and len(o["evidence"]) > 0,
                "severity=%r rule=%r origin=%r" % (f.get("severity"), f.get("rule"), o))
    order = [("critical", "high", "medium", "low", "info").index(f.get("severity", "info"))
             for f in rep.get("findings", []) if f.get("severity") in SEVERITIES]
    s.check("findings are sorted by severity, most severe first", order == sorted(order), repr(order))
    for w in case["findings"]:
        f = got.get(w["path"].encode())
        if f is None:
            s.check("%s: reported" % w["path"], False, "not among %r" % sorted(got))
            continue
        if "origin" in w:
            kind = (f.get("origin") or {}).get("kind")
            s.check("%s: origin %s" % (w["path"], " or ".join(w["origin"])), kind in w["origin"],
                    "got %r (evidence %r)" % (kind, (f.get("origin") or {}).get("evidence")))
        if "severity" in w:
            s.check("%s: severity %s" % (w["path"], " or ".join(w["severity"])), f.get("severity") in w["severity"],
                    "got %r (rule %r)" % (f.get("severity"), (f.get("rule") or {}).get("id")))
        if "context" in w:
            ctx = f.get("context") or {}
            wc = w["context"]
            pkg = ctx.get("package") or ""
            s.check("%s: context.package is %s" % (w["path"], wc["package"]),
                    pkg == wc["package"] or pkg.startswith(wc["package"] + ":"), repr(ctx))
            s.check("%s: context.package_checksum_ok is %s" % (w["path"], wc["package_checksum_ok"]),
                    ctx.get("package_checksum_ok") is wc["package_checksum_ok"], repr(ctx))
            s.check("%s: context.layer is %d" % (w["path"], wc["layer"]), ctx.get("layer") == wc["layer"], repr(ctx))
            s.check("%s: context.created_by is the layer's history step" % w["path"],
                    wc["created_by_contains"] in (ctx.get("created_by") or ""), repr(ctx))
    # A new uid-0 account must be what makes /etc/passwd critical, and it must be named.
    pw = got.get(b"/etc/passwd")
    if pw is not None:
        blob = repr(pw)
        s.check("/etc/passwd: the new uid-0 account 'svc' is named in the finding", "svc" in blob, blob[:300])
        s.check("/etc/passwd: shell history is part of the evidence",
                ".bash_history" in " ".join((pw.get("origin") or {}).get("evidence") or []), blob[:300])
    kw = got.get(b"/usr/local/bin/kworkerd")
    if kw is not None:
        ev = " ".join((kw.get("origin") or {}).get("evidence") or [])
        s.check("kworkerd: evidence mentions the foreign owner 1000", "1000" in ev, ev)

# Content classes are part of the manifest (image and container side).
m = s.run("manifest", s.fixture(case["container"]))
if s.check("manifest export-tampered: exit 0", m.returncode == 0, e2elib.describe(m)):
    _, entries, _ = parse_jsonl_manifest(m.stdout)
    classes = {
        b"/usr/local/bin/kworkerd": ("elf_executable",),
        b"/usr/lib/x86_64-linux-gnu/libz.so.1.2.13": ("elf_shared",),
        b"/root/.ssh/id_rsa": ("private_key",),
        b"/srv/app/app.py": ("script",),
        b"/usr/local/bin/demo-entry": ("script",),
        b"/etc/passwd": ("text",),
        b"/usr/share/doc/zlib1g/changelog.Debian.gz": ("archive",),
        b"/.dockerenv": ("empty",),
    }
    for p, want in classes.items():
        e = entries.get(p) or {}
        s.check("class of %s is %s" % (p.decode(), "/".join(want)), e.get("class") in want, repr(e.get("class")))
    interp = (entries.get(b"/usr/local/bin/demo-entry") or {}).get("interpreter")
    s.check("interpreter of demo-entry is /bin/sh", interp == "/bin/sh", repr(interp))
    interp = (entries.get(b"/srv/app/app.py") or {}).get("interpreter") or ""
    s.check("interpreter of app.py names env or python3", "python3" in interp or interp == "/usr/bin/env", repr(interp))

# --inspect: an offline audit (export + image files) given the runtime's saved inspect
# output knows what a docker: audit asks the runtime for.
def inspect_doc(image_id, created="2026-11-30T08:00:00.123456789Z"):
    return [{"Id": "4f1c" + "0" * 60, "Name": "/web", "Created": created,
             "State": {"Status": "running", "StartedAt": "2026-11-30T08:00:01.5Z"},
             "Image": image_id, "Config": {"User": "", "Image": "demo:1"}}]


def write_json(name, doc):
    path = os.path.join(s.work, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


base, base_rep, _ = audit_json(s, s.fixture(case["image"]), s.fixture(case["container"]))
config = ((base_rep or {}).get("image") or {}).get("config_digest") or ""
if s.check("the fixture image reports its config digest", config.startswith("sha256:"), repr(config)):
    good = write_json("inspect-good.json", inspect_doc(config))
    r, rep, problem = audit_json(s, s.fixture(case["image"]), s.fixture(case["container"]),
                                 "--inspect", good)
    if s.check("--inspect FILE: exit 1 with a JSON report", r.returncode == 1 and rep is not None,
               problem or e2elib.describe(r)):
        c = rep.get("container") or {}
        s.check("--inspect FILE: the container's creation and start times come from it",
                (c.get("created") or "").startswith("2026-11-30T08:00:00")
                and (c.get("started") or "").startswith("2026-11-30T08:00:01"), repr(c))
        s.check("--inspect FILE: an image id that matches gives no warning",
                not any("--inspect" in w for w in rep.get("warnings", [])), repr(rep.get("warnings")))
        s.check("--inspect FILE: same findings as without it",
                sorted(f["path"] for f in rep.get("findings", []))
                == sorted(f["path"] for f in (base_rep or {}).get("findings", [])))
    other = write_json("inspect-other.json", inspect_doc("sha256:" + "ab" * 32)[0])
    r, rep, problem = audit_json(s, s.fixture(case["image"]), s.fixture(case["container"]),
                                 "--inspect", other)
    s.check("--inspect FILE (one object) naming another image: a warning in the report",
            rep is not None and any("--inspect" in w and "ab" * 32 in w for w in rep.get("warnings", [])),
            problem or repr((rep or {}).get("warnings")))
    not_inspect = write_json("not-inspect.json", {"schemaVersion": 2, "layers": []})
    for label, path in (("an image manifest", not_inspect), ("a missing file", os.path.join(s.work, "nope.json")),
                        ("an empty array", write_json("empty.json", []))):
        r = s.run("audit", "--image", s.fixture(case["image"]), "--container", s.fixture(case["container"]),
                  "--inspect", path)
        lines = r.stderr.decode(errors="replace").strip().splitlines()
        s.check("--inspect %s: exit 2, one line naming the file" % label,
                r.returncode == 2 and len(lines) == 1 and os.path.basename(path) in lines[0] and not r.stdout,
                e2elib.describe(r))
    r = s.run("audit", "--container", "docker:web", "--inspect", good)
    s.check("--inspect with a docker: container: exit 2", r.returncode == 2, e2elib.describe(r))

s.finish()
