#!/usr/bin/env python3
"""`cdrift manifest` end to end: every image format against the independent expected
manifest from fixtures/gen.py, cross-format identity, saved-manifest round trips,
non-UTF-8 names, platform selection and every broken fixture."""

import base64
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import compare_entries, describe, parse_jsonl_manifest, short  # noqa: E402

s = e2elib.Suite(__doc__)
cases = s.cases


def entry_lines(stdout):
    lines = [l for l in stdout.split(b"\n") if l.strip()]
    return lines[1:] if lines and b"cdrift_manifest" in lines[0] else lines


# --- the generator itself is deterministic -------------------------------------
if s.wanted("generator"):
    other = os.path.join(s.work, "fixtures-again")
    subprocess.run([sys.executable, e2elib.GEN, other], check=True)

    def digests(root):
        out = {}
        for dp, dns, fns in os.walk(root):
            for n in fns:
                p = os.path.join(dp, n)
                out[os.path.relpath(p, root)] = e2elib.sha256_file(p)
        return out

    a, b = digests(s.fx), digests(other)
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    s.check("generator: two runs are byte-identical (%d files)" % len(a), not diff, ", ".join(diff[:5]))

# --- every image format against the expected manifest --------------------------
outputs = {}
for img in cases["images"]:
    name = "manifest %s" % img["name"]
    if not s.wanted(name):
        continue
    args = ["manifest", s.fixture(img["path"])]
    if img["platform"]:
        args += ["--platform", img["platform"]]
    r = s.run(*args)
    if not s.check(name + ": exit 0", r.returncode == 0, describe(r)):
        continue
    header, got, problems = parse_jsonl_manifest(r.stdout)
    s.check(name + ": valid sorted JSONL, one entry per path", not problems, "; ".join(problems[:3]))
    s.check(name + ": header line", header is not None and header.get("cdrift_manifest") == "1",
            repr(r.stdout[:200]))
    if header is not None:
        s.check(name + ": header kind is " + img["kind"], header.get("kind") == img["kind"],
                "got %r" % header.get("kind"))
        hdr = json.dumps(header)
        missing = [d for d in img["header_contains"] if d.split(":")[-1] not in hdr]
        s.check(name + ": header names the image digests", not missing, "missing " + ", ".join(missing))
    expected = e2elib.load_expected(s.fixture(img["expected"]))
    s.check(name + ": entries match the independent oracle (%d entries)" % len(expected),
            not (d := compare_entries(expected, got)), short(d))
    if img["compare_layer"]:
        s.check(name + ": layer indexes match", not (d := compare_entries(expected, got, fields=("layer",))),
                short(d))
    s.check(name + ": mtimes and xattrs match", not (d := compare_entries(expected, got, fields=("mtime", "xattrs"))),
            short(d))
    outputs[img["name"]] = (img, r.stdout)

# --- the same image in every layered format gives the same entries, byte for byte
if "oci" in outputs:
    ref = entry_lines(outputs["oci"][1])
    for n, (img, out) in sorted(outputs.items()):
        if n == "oci" or not img["compare_layer"] or img["expected"] != "expected/demo.jsonl":
            continue
        lines = entry_lines(out)
        same = lines == ref
        detail = ""
        if not same:
            firsts = [(x, y) for x, y in zip(ref, lines) if x != y][:1]
            detail = "%d vs %d lines; first difference: %r" % (len(ref), len(lines), firsts)
        s.check("identical entries: oci vs %s" % n, same, detail)

# --- saved manifests round-trip -------------------------------------------------
for src in ("oci", "hostile-oci"):
    name = "saved manifest round trip (%s)" % src
    if not s.wanted(name):
        continue
    saved = os.path.join(s.work, src + ".jsonl")
    if os.path.exists(saved):
        os.remove(saved)
    r = s.run("manifest", s.fixture(src), "-o", saved)
    if not s.check(name + ": -o writes the file, nothing on stdout",
                   r.returncode == 0 and os.path.exists(saved) and not r.stdout, describe(r)):
        continue
    with open(saved, "rb") as f:
        first = f.read()
    r2 = s.run("manifest", saved)
    if not s.check(name + ": re-read exit 0", r2.returncode == 0, describe(r2)):
        continue
    s.check(name + ": identical entries", entry_lines(first) == entry_lines(r2.stdout),
            "%d vs %d lines" % (len(entry_lines(first)), len(entry_lines(r2.stdout))))
    h1, _, _ = parse_jsonl_manifest(first)
    h2, _, _ = parse_jsonl_manifest(r2.stdout)
    # "reproduces it": the header may keep the original kind or say saved_manifest.
    s.check(name + ": image metadata kept, kind saved_manifest or the original",
            h2 is not None and h1 is not None and h2.get("image") == h1.get("image")
            and h2.get("kind") in ("saved_manifest", h1.get("kind")),
            "kinds %r / %r" % (h1 and h1.get("kind"), h2 and h2.get("kind")))
    r3 = s.run("manifest", saved, "--format", "mtree")
    r4 = s.run("manifest", s.fixture(src), "--format", "mtree")
    s.check(name + ": mtree of the saved manifest equals mtree of the image",
            r3.returncode == 0 and r3.stdout == r4.stdout and r3.stdout, describe(r3))

# --- names that are not UTF-8, or that carry terminal control characters ---------
if s.wanted("hostile names") and "hostile-oci" in outputs:
    out = outputs["hostile-oci"][1]
    try:
        out.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    s.check("hostile names: JSONL output is valid UTF-8", utf8)
    s.check("hostile names: no raw ESC byte in the output", b"\x1b" not in out)
    _, got, _ = parse_jsonl_manifest(out)
    caf = b"/srv/app/caf\xe9"
    e = got.get(caf)
    s.check("hostile names: non-UTF-8 name has path_b64 with the exact bytes",
            e is not None and base64.b64decode(e.get("path_b64", "")) == caf and "\ufffd" in e.get("path", ""),
            repr(e))
    esc = b"/srv/app/esc\x1b[31mred\nINFO: all clear"
    s.check("hostile names: ESC/newline name survives as one JSON entry", esc in got,
            repr(sorted(k for k in got if k.startswith(b"/srv/app/"))))

# --- platforms --------------------------------------------------------------------
if s.wanted("platform"):
    for layout in ("oci-multi", "oci-multi-nested"):
        r = s.run("manifest", s.fixture(layout), "--platform", "linux/s390x")
        err = r.stderr.decode(errors="replace")
        s.check("platform: %s --platform linux/s390x fails with exit 2 or 3" % layout, r.returncode in (2, 3),
                describe(r))
        s.check("platform: %s error is one line listing the platforms" % layout,
                len(err.strip().splitlines()) == 1 and "linux/amd64" in err and "linux/arm64" in err, err.strip())
        s.check("platform: %s nothing on stdout on error" % layout, not r.stdout, repr(r.stdout[:100]))

# --- broken inputs -----------------------------------------------------------------
for bc in cases["broken"]:
    name = "broken %s" % bc["name"]
    if not s.wanted(name):
        continue
    out = os.path.join(s.work, "broken-out.jsonl")
    if os.path.exists(out):
        os.remove(out)
    r = s.run("manifest", s.fixture(bc["path"]))
    err = r.stderr.decode(errors="replace")
    lines = err.strip().splitlines()
    s.check(name + ": exit %d" % bc["exit"], r.returncode == bc["exit"], describe(r))
    s.check(name + ": exactly one stderr line", len(lines) == 1 and err.endswith("\n"), repr(err[:300]))
    low = err.lower()
    missing = []
    for frag in bc["stderr_contains"]:
        alts = frag if isinstance(frag, list) else [frag]
        if not any(a.lower() in low for a in alts):
            missing.append(" or ".join(alts))
    s.check(name + ": message names the problem (%s)" % ", ".join(
        " or ".join(f) if isinstance(f, list) else f for f in bc["stderr_contains"]), not missing, err.strip())
    s.check(name + ": stdout empty", not r.stdout, repr(r.stdout[:120]))
    r = s.run("manifest", s.fixture(bc["path"]), "-o", out)
    s.check(name + ": -o leaves no partial file", r.returncode == bc["exit"] and not os.path.exists(out),
            describe(r))

# --- directory source --------------------------------------------------------------
if s.wanted("directory source"):
    d = e2elib.extract_export(s.fixture("rootfs.tar"), os.path.join(s.work, "rootfs-dir"))
    r = s.run("manifest", "dir:" + d)
    if s.check("directory source: exit 0", r.returncode == 0, describe(r)):
        header, got, problems = parse_jsonl_manifest(r.stdout)
        s.check("directory source: header kind is directory", header is not None and header.get("kind") == "directory",
                repr(header))
        expected = e2elib.load_expected(s.fixture("expected/demo.jsonl"))
        s.check("directory source: entries match the oracle",
                not (dd := compare_entries(expected, got, extra=("xattrs",))), short(dd))
        walked = e2elib.walk_tree(d)
        s.check("directory source: agrees with os.lstat walk",
                not (dd := compare_entries(walked, got, extra=("mtime",))), short(dd))

s.finish()
