#!/usr/bin/env python3
"""Reports and CI gating end to end: the three formats agree on the same findings,
JSON validates against docs/report.schema.json, SARIF passes the SARIF schema and
`sarif-multitool validate`, output is deterministic, --fail-on gates, baselines
suppress exactly what they recorded, the ignore file expires, hostile names stay
escaped in text and exact in JSON and SARIF."""

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import describe, path_key  # noqa: E402

s = e2elib.Suite(__doc__)
SCRIPTS = os.path.join(e2elib.REPO, "scripts")
OUT = os.path.join(s.work, "out")
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
SEVERITIES = ["critical", "high", "medium", "low", "info"]


def case(name):
    return next(a for a in s.cases["audits"] if a["name"] == name)


def out(name):
    return os.path.join(OUT, name)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def validate_json(name, path):
    r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "validate-json.py"), path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return s.check(name, r.returncode == 0, r.stderr.decode(errors="replace")[:800])


def validate_sarif(name, path):
    r = subprocess.run([os.path.join(SCRIPTS, "validate-sarif.sh"), path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode == 2:
        s.skip(name, "SARIF multitool unavailable: " + r.stderr.decode(errors="replace")[-300:])
        return False
    return s.check(name, r.returncode == 0, r.stderr.decode(errors="replace")[:800])


def audit(tag, c, *extra):
    """Runs one audit writing all three reports to files and JSON to stdout."""
    files = {k: out("%s.%s" % (tag, k)) for k in ("json", "sarif", "txt")}
    r = s.run("audit", "--image", s.fixture(c["image"]), "--container", s.fixture(c["container"]),
              "--format", "json", "--output-json", files["json"], "--output-sarif", files["sarif"],
              "--output-text", files["txt"], *extra)
    return r, files


def sarif_path(result):
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    return b"/" + urllib.parse.unquote_to_bytes(uri)


TEXT_FINDING = re.compile(r"^  (critical|high|medium|low|info) +(added|modified|deleted) +(.*?)(?:  |$)")


def text_findings(text):
    """(severity, change, path as printed) of every finding line in a text report."""
    found = []
    section = None
    for line in text.split("\n"):
        if re.match(r"^[A-Z]", line):
            section = line.split(" (")[0]
        m = TEXT_FINDING.match(line)
        if m and section in [x.upper() for x in SEVERITIES]:
            found.append((m.group(1), m.group(2), m.group(3)))
    return found


# --- The tampered container: three formats, one set of findings -----------------------
tampered = case("tampered")
r, files = audit("tampered", tampered)
rep = None
if s.check("audit tampered: exit 1 (default --fail-on high) and all three files written",
           r.returncode == 1 and all(os.path.exists(p) for p in files.values()), describe(r)):
    s.check("--format json on stdout equals --output-json", r.stdout == read(files["json"]))
    rep = json.loads(r.stdout)
    validate_json("tampered JSON validates against docs/report.schema.json", files["json"])
    validate_sarif("tampered SARIF passes the SARIF schema and sarif-multitool", files["sarif"])
    s.check("no temporary files are left beside the reports",
            sorted(os.listdir(OUT)) == sorted(os.path.basename(p) for p in files.values()), repr(os.listdir(OUT)))

if rep is not None:
    findings = rep["findings"]
    s.check("tampered: findings present", len(findings) >= len(tampered["findings"]) - 1, str(len(findings)))
    s.check("summary.findings counts the findings", rep["summary"]["findings"] == len(findings))
    s.check("summary.by_severity adds up",
            sum(rep["summary"]["by_severity"].values()) == len(findings), repr(rep["summary"]))
    s.check("summary.by_origin adds up", sum(rep["summary"]["by_origin"].values()) == len(findings))
    keys = [(SEVERITIES.index(f["severity"]), path_key(f)) for f in findings]
    s.check("JSON findings are sorted by severity, then path", keys == sorted(keys))
    s.check("tool.version is set", rep["tool"]["name"] == "cdrift" and rep["tool"]["version"])
    s.check("rules.sha256 names the pack", re.fullmatch(r"[0-9a-f]{64}", rep["rules"]["sha256"] or "") is not None,
            repr(rep["rules"]))
    demo = s.cases["demo"]
    s.check("image digests are reported",
            rep["image"].get("manifest_digest") == demo["manifest_digest"]
            and rep["image"].get("config_digest") == demo["config_digest"], repr(rep["image"]))
    s.check("image layers are listed and verified",
            [l["digest"] for l in rep["image"]["layers"]] == demo["layers"]
            and all(l["verified"] for l in rep["image"]["layers"]), repr(rep["image"]["layers"]))

    sarif = json.loads(read(files["sarif"]))
    run = sarif["runs"][0]
    results = run["results"]
    rules = run["tool"]["driver"]["rules"]
    unsuppressed = [x for x in results if not x.get("suppressions")]
    j = sorted((path_key(f), f["rule"]["id"], f["fingerprint"]) for f in findings)
    sr = sorted((sarif_path(x), x["ruleId"], x["partialFingerprints"]["cdrift/v1"]) for x in unsuppressed)
    s.check("SARIF results match JSON findings (path, rule, fingerprint)", j == sr,
            "json %d vs sarif %d" % (len(j), len(sr)))
    level = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
    by_fp = {x["partialFingerprints"]["cdrift/v1"]: x for x in results}
    s.check("SARIF levels follow severity",
            all(by_fp[f["fingerprint"]]["level"] == level[f["severity"]] for f in findings))
    s.check("SARIF ruleIndex points at the result's rule",
            all(rules[x["ruleIndex"]]["id"] == x["ruleId"] for x in results))
    s.check("SARIF rules carry descriptions, help and security-severity",
            all(rl["shortDescription"]["text"] and rl["fullDescription"]["text"] and rl["help"]["markdown"]
                and "security" in rl["properties"]["tags"] for rl in rules)
            and any("security-severity" in rl["properties"] for rl in rules))
    crit_rules = {f["rule"]["id"] for f in findings if f["severity"] == "critical"}
    s.check("critical rules have security-severity >= 9.0",
            all(float(rl["properties"]["security-severity"]) >= 9.0 for rl in rules if rl["id"] in crit_rules))
    s.check("SARIF locations are relative to CONTAINERROOT",
            all(x["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "CONTAINERROOT"
                for x in results) and run["originalUriBaseIds"]["CONTAINERROOT"]["uri"] == "file:///")
    s.check("SARIF says nothing was dropped", run["properties"]["droppedResults"] == 0)

    text = read(files["txt"]).decode("utf-8")
    tf = text_findings(text)
    s.check("text lists the same findings", sorted((sev, ch, p) for sev, ch, p in tf)
            == sorted((f["severity"], f["change"], f["path"]) for f in findings),
            "text %d vs json %d" % (len(tf), len(findings)))
    order = [SEVERITIES.index(sev) for sev, _, _ in tf]
    s.check("text groups by severity, most severe first", order == sorted(order))
    summary = text.rstrip("\n").split("\n")[-1]
    by = rep["summary"]["by_severity"]
    want = "%d findings: %d critical, %d high, %d medium, %d low, %d info \u00b7 %d ignored \u00b7 %d suppressed" % (
        len(findings), by["critical"], by["high"], by["medium"], by["low"], by["info"],
        rep["summary"]["ignored"], rep["summary"]["suppressed"])
    s.check("text ends with the summary line", summary == want, "%r vs %r" % (summary, want))
    s.check("text shows origin and evidence", "origin   " in text and "           - " in text)
    s.check("text shows the package context of the patched library",
            "no longer matches its package" in text)

    # Determinism: a second run gives byte-identical JSON and SARIF.
    r2, files2 = audit("tampered-again", tampered)
    s.check("JSON is byte-identical across runs", read(files["json"]) == read(files2["json"]))
    s.check("SARIF is byte-identical across runs", read(files["sarif"]) == read(files2["sarif"]))
    s.check("text is byte-identical across runs", read(files["txt"]) == read(files2["txt"]))
    r3 = s.run("audit", "--image", s.fixture(tampered["image"]), "--container", s.fixture(tampered["container"]),
               "--format", "json", "--timestamp")
    try:
        ts = json.loads(r3.stdout).get("timestamp", "")
    except ValueError:
        ts = ""
    s.check("--timestamp adds an RFC 3339 timestamp", re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", ts) is not None,
            describe(r3))
    r4 = s.run("audit", "--image", s.fixture(tampered["image"]), "--container", s.fixture(tampered["container"]),
               "--format", "sarif")
    s.check("--format sarif on stdout equals --output-sarif", r4.stdout == read(files["sarif"]), describe(r4))

    # Text options.
    rq = s.run("audit", "--image", s.fixture(tampered["image"]), "--container", s.fixture(tampered["container"]),
               "--quiet")
    s.check("--quiet prints only the summary line", rq.stdout.decode() == want + "\n", repr(rq.stdout[:300]))
    rm = s.run("audit", "--image", s.fixture(tampered["image"]), "--container", s.fixture(tampered["container"]),
               "--min-severity", "critical")
    mtext = rm.stdout.decode()
    s.check("--min-severity critical hides lower findings but counts them",
            {sev for sev, _, _ in text_findings(mtext)} <= {"critical"} and mtext.rstrip("\n").split("\n")[-1] == want,
            mtext[-300:])
    rc = s.run("audit", "--image", s.fixture(tampered["image"]), "--container", s.fixture(tampered["container"]),
               "--color", "always")
    s.check("--color always colours the text", b"\x1b[" in rc.stdout)
    s.check("no colour when stdout is not a terminal", b"\x1b" not in read(files["txt"]))

    # --- Gating --------------------------------------------------------------------------
    def gate(level, c=tampered):
        return s.run("audit", "--image", s.fixture(c["image"]), "--container", s.fixture(c["container"]),
                     "--fail-on", level, "--quiet").returncode

    worst = min(SEVERITIES.index(f["severity"]) for f in findings)
    for i, level_name in enumerate(SEVERITIES):
        want_exit = 1 if worst <= i else 0
        s.check("--fail-on %s exits %d" % (level_name, want_exit), gate(level_name) == want_exit)
    s.check("--fail-on never exits 0 despite drift", gate("never") == 0)
    s.check("--fail-on with a bad level is a usage error (2)", gate("severe") == 2)
    clean = case("docker-clean")
    s.check("an untouched container exits 0 even with --fail-on info", gate("info", clean) == 0)

    # --- Baselines -----------------------------------------------------------------------
    base = out("baseline.json")
    rb = s.run("baseline", "--image", s.fixture(tampered["image"]), "--container", s.fixture(tampered["container"]),
               "-o", base)
    if s.check("cdrift baseline writes a baseline (exit 0)", rb.returncode == 0 and os.path.exists(base), describe(rb)):
        b = json.loads(read(base))
        s.check("baseline records every finding by fingerprint",
                b.get("kind") == "cdrift-baseline"
                and sorted(x["fingerprint"] for x in b["findings"]) == sorted(f["fingerprint"] for f in findings))
        rs, sfiles = audit("baselined", tampered, "--baseline", base, "--fail-on", "info")
        if s.check("audit --baseline: exit 0 at --fail-on info", rs.returncode == 0, describe(rs)):
            srep = json.loads(rs.stdout)
            s.check("baselined: no findings, all suppressed and listed",
                    srep["findings"] == [] and srep["summary"]["suppressed"] == len(findings)
                    and sorted(x["fingerprint"] for x in srep["suppressed"]) == sorted(f["fingerprint"] for f in findings)
                    and all(x["reason"].startswith("baseline ") for x in srep["suppressed"]))
            validate_json("baselined JSON validates", sfiles["json"])
            ssarif = json.loads(read(sfiles["sarif"]))
            s.check("baselined SARIF lists suppressed results with a justification",
                    len(ssarif["runs"][0]["results"]) == len(findings)
                    and all(x.get("suppressions") for x in ssarif["runs"][0]["results"]))
            validate_sarif("baselined SARIF validates", sfiles["sarif"])
            s.check("baselined text lists the suppressed findings",
                    "SUPPRESSED (%d)" % len(findings) in read(sfiles["txt"]).decode())

    # Same path, different content: a new finding despite the baseline.
    content = case("content")
    base2 = out("baseline-content.json")
    s.run("baseline", "--image", s.fixture(content["image"]), "--container", s.fixture(content["container"]),
          "-o", base2)
    target = content["findings"][0]["path"]
    changed = out("export-content-changed.tar")
    with tarfile.open(s.fixture(content["container"])) as src, tarfile.open(changed, "w", format=tarfile.PAX_FORMAT) as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None
            if m.isfile() and "/" + m.name.lstrip("./") == target:
                data = data + b"# and one more line\n"
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    rn = s.run("audit", "--image", s.fixture(content["image"]), "--container", changed, "--format", "json",
               "--baseline", base2, "--fail-on", "info")
    try:
        nrep = json.loads(rn.stdout)
        paths = [f["path"] for f in nrep["findings"]]
    except ValueError:
        nrep, paths = None, []
    s.check("baseline: the same path with different content is a new finding",
            rn.returncode == 1 and paths == [target], "%s; findings %r" % (describe(rn), paths))
    rn2 = s.run("audit", "--image", s.fixture(content["image"]), "--container", s.fixture(content["container"]),
                "--baseline", base2, "--fail-on", "info", "--quiet")
    s.check("baseline: the unchanged container passes", rn2.returncode == 0, describe(rn2))

    bad = out("bad-baseline.json")
    with open(bad, "w") as f:
        f.write('{"kind": "something-else"}')
    rbad = s.run("audit", "--image", s.fixture(tampered["image"]), "--container", s.fixture(tampered["container"]),
                 "--baseline", bad)
    s.check("a malformed baseline is an input error (3) naming the file",
            rbad.returncode == 3 and bad.encode() in rbad.stderr, describe(rbad))

    # --- The ignore file -----------------------------------------------------------------
    victim = findings[0]
    ign = out("ignore.json")
    with open(ign, "w") as f:
        json.dump({"schema_version": "1", "ignore": [
            {"path": victim["path"], "reason": "accepted by the security team (TICKET-1)"},
            {"rule": "NO-SUCH-RULE-*", "path": "/**", "reason": "old exception", "expires": "2001-01-01"},
        ]}, f)
    ri = s.run("audit", "--image", s.fixture(tampered["image"]), "--container", s.fixture(tampered["container"]),
               "--format", "json", "--ignore-file", ign)
    try:
        irep = json.loads(ri.stdout)
    except ValueError:
        irep = None
    if s.check("audit --ignore-file runs", irep is not None, describe(ri)):
        s.check("an ignore entry suppresses its path with its reason",
                [x["path"] for x in irep["suppressed"]] == [victim["path"]]
                and "TICKET-1" in irep["suppressed"][0]["reason"]
                and victim["path"] not in [f["path"] for f in irep["findings"]], repr(irep["suppressed"]))
        s.check("an expired ignore entry produces a warning",
                any("expired" in w and "2001-01-01" in w for w in irep["warnings"]), repr(irep["warnings"]))
        s.check("the expiry warning reaches stderr", b"expired" in ri.stderr, describe(ri))
    with open(ign, "w") as f:
        json.dump([{"path": "/etc/**"}], f)
    rib = s.run("audit", "--image", s.fixture(tampered["image"]), "--container", s.fixture(tampered["container"]),
                "--ignore-file", ign)
    s.check("an ignore entry without a reason is a usage error (2) naming file and entry",
            rib.returncode == 2 and ign.encode() in rib.stderr and b"entry 0" in rib.stderr, describe(rib))

# --- Hostile names ------------------------------------------------------------------------
hostile = case("hostile")
rh, hfiles = audit("hostile", hostile, "--fail-on", "info")
if s.check("audit hostile export: exit 1 with reports", rh.returncode == 1 and os.path.exists(hfiles["sarif"]),
           describe(rh)):
    htext = read(hfiles["txt"])
    s.check("hostile text: no raw escape or bell bytes", b"\x1b" not in htext and b"\x07" not in htext)
    s.check("hostile text: no line starts with a forged 'modified'",
            not any(l.startswith(b"modified  shadow") for l in htext.split(b"\n")))
    validate_json("hostile JSON validates", hfiles["json"])
    validate_sarif("hostile SARIF validates", hfiles["sarif"])
    hrep = json.loads(read(hfiles["json"]))
    want_paths = sorted(path_key(w) for w in hostile["findings"] if "path" in w or "path_b64" in w)
    got_paths = sorted(path_key(f) for f in hrep["findings"])
    s.check("hostile JSON keeps the exact bytes (path_b64)", set(want_paths) <= set(got_paths),
            "%r vs %r" % (want_paths, got_paths))
    hs = json.loads(read(hfiles["sarif"]))
    s.check("hostile SARIF URIs percent-encode the exact bytes",
            sorted(sarif_path(x) for x in hs["runs"][0]["results"]) == got_paths)

# --- Diff rendering -----------------------------------------------------------------------
dd = case("del-dir")
rd = s.run("diff", s.fixture(dd["image"]), s.fixture(dd["container"]), "--format", "json")
try:
    drep = json.loads(rd.stdout)
except ValueError:
    drep = None
if s.check("cdrift diff --format json", drep is not None and rd.returncode == 1, describe(rd)):
    dels = [c for c in drep["changes"] if c["change"] == "deleted" and c["path"] == dd["findings"][0]["path"]]
    s.check("diff JSON: a deleted directory appears once with its subtree count",
            len(dels) == 1 and dels[0].get("subtree_entries") == dd["findings"][0].get("subtree_entries"), repr(dels))
rdt = s.run("diff", s.fixture(dd["image"]), s.fixture(dd["container"]))
s.check("cdrift diff text: '(and N entries below)'",
        ("(and %d entries below)" % dd["findings"][0].get("subtree_entries", 0)).encode() in rdt.stdout, describe(rdt))

s.finish()
