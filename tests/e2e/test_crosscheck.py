#!/usr/bin/env python3
"""Cross-checks against independent implementations:
(a) `bsdtar --format=mtree` of rootfs.tar vs `cdrift manifest rootfs.tar --format mtree`;
(b) `umoci unpack` of the layered OCI layout (whiteouts, opaque dir, hardlink, xattr)
    walked with os.lstat vs `cdrift manifest` of the same layout."""

import os
import re
import shutil
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import compare_entries, describe, parse_jsonl_manifest, short  # noqa: E402

s = e2elib.Suite(__doc__)

MTREE_TYPES = {"file": "file", "dir": "dir", "link": "symlink", "fifo": "fifo", "char": "chardev",
               "block": "blockdev", "socket": "socket"}


def mtree_unescape(s_):
    """bsdtar/mtree escapes: \\ooo octal bytes, plus \\\\ and a few C escapes."""
    out = bytearray()
    raw = s_.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 3 < len(raw) + 0 and re.match(rb"[0-7]{3}", raw[i + 1:i + 4]):
            out.append(int(raw[i + 1:i + 4], 8))
            i += 4
        elif c == 0x5C and i + 1 < len(raw):
            nxt = raw[i + 1:i + 2]
            out += {b"\\": b"\\", b"n": b"\n", b"t": b"\t", b"s": b" ", b"r": b"\r", b"a": b"\a",
                    b"b": b"\b", b"f": b"\f", b"v": b"\v", b"#": b"#"}.get(nxt, b"\\" + nxt)
            i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def norm_path(raw):
    p = raw
    if p in (b".", b"./", b"/."):
        return b"/"
    if p.startswith(b"./"):
        p = p[1:]
    elif not p.startswith(b"/"):
        p = b"/" + p
    return p.rstrip(b"/") or b"/"


def parse_mtree(text):
    """-> ({path: {keyword: value}}, problems). Handles /set, /unset, continuations."""
    entries, problems, defaults = {}, [], {}
    logical, buf = [], ""
    for line in text.decode("utf-8", "surrogateescape").split("\n"):
        if line.endswith("\\") and not line.endswith("\\\\"):
            buf += line[:-1] + " "
            continue
        logical.append(buf + line)
        buf = ""
    for line in logical:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if parts[0] == "/set":
            defaults.update(kv.split("=", 1) for kv in parts[1:] if "=" in kv)
            continue
        if parts[0] == "/unset":
            for k in parts[1:]:
                defaults.pop(k, None)
            continue
        if parts[0] == "..":
            continue
        kws = dict(defaults)
        for kv in parts[1:]:
            if "=" in kv:
                k, v = kv.split("=", 1)
                kws[k] = v
        p = norm_path(mtree_unescape(parts[0]))
        if p in entries:
            problems.append("duplicate %r" % p)
        e = {}
        if "type" in kws:
            e["type"] = MTREE_TYPES.get(kws["type"], kws["type"])
        for k in ("uid", "gid", "size"):
            if k in kws:
                e[k] = int(kws[k])
        if "mode" in kws:
            e["mode"] = "%04o" % int(kws["mode"], 8)
        if "link" in kws:
            e["target"] = mtree_unescape(kws["link"]).decode("utf-8", "surrogateescape")
        if "sha256digest" in kws or "sha256" in kws:
            e["sha256"] = kws.get("sha256digest", kws.get("sha256")).lower()
        entries[p] = e
    return entries, problems


def mtree_fields(e):
    t = e.get("type")
    f = ["type", "mode", "uid", "gid"]
    if t == "file":
        f += ["size", "sha256"]
    if t == "symlink":
        f += ["target"]
    return f


# --- (a) bsdtar ----------------------------------------------------------------
rootfs = s.fixture("rootfs.tar")
if not shutil.which("bsdtar"):
    s.skip("bsdtar agreement", "bsdtar not installed (package libarchive-tools)")
else:
    b = subprocess.run(["bsdtar", "-cf", "-", "--format=mtree",
                        "--options=!all,type,mode,uid,gid,size,link,sha256", "@" + rootfs],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    theirs, p1 = parse_mtree(b.stdout)
    s.check("bsdtar: runs and parses", b.returncode == 0 and theirs and not p1, b.stderr.decode()[:200])
    # bsdtar quirk: a hardlink member is printed as an empty file; resolve it to its target.
    with tarfile.open(rootfs, encoding="utf-8", errors="surrogateescape") as tf:
        for m in tf.getmembers():
            if m.islnk():
                link = norm_path(m.name.encode("utf-8", "surrogateescape"))
                target = norm_path(m.linkname.encode("utf-8", "surrogateescape"))
                if link in theirs and target in theirs:
                    theirs[link] = dict(theirs[target])
    r = s.run("manifest", rootfs, "--format", "mtree")
    if s.check("cdrift manifest rootfs.tar --format mtree: exit 0", r.returncode == 0, describe(r)):
        ours, p2 = parse_mtree(r.stdout)
        s.check("cdrift mtree: parses, no duplicates", ours and not p2, "; ".join(p2[:3]))
        s.check("cdrift mtree: starts with #mtree", r.stdout.startswith(b"#mtree"), repr(r.stdout[:40]))
        agree, bad = 0, []
        for k in sorted(set(theirs) | set(ours)):
            t, o = theirs.get(k), ours.get(k)
            if t is None or o is None:
                bad.append("%r only in %s" % (k, "cdrift" if t is None else "bsdtar"))
                continue
            d = [f for f in mtree_fields(t) if t.get(f) != o.get(f)]
            if d:
                bad.append("%r: %s" % (k, ", ".join("%s bsdtar=%r cdrift=%r" % (f, t.get(f), o.get(f)) for f in d)))
            else:
                agree += 1
        total = len(set(theirs) | set(ours))
        print("bsdtar agreement: %d/%d entries" % (agree, total))
        s.check("bsdtar agreement on every entry", agree == total and total > 100, short(bad))
        # and the mtree view agrees with the JSONL view of the same source
        r2 = s.run("manifest", rootfs)
        _, jl, _ = parse_jsonl_manifest(r2.stdout)
        s.check("cdrift mtree agrees with cdrift jsonl",
                not (d := compare_entries(jl, ours, fields=("type", "mode", "uid", "gid", "target")))
                and r2.returncode == 0, short(d))

# --- (b) umoci -------------------------------------------------------------------
if not shutil.which("umoci"):
    s.skip("umoci agreement", "umoci not installed")
elif os.geteuid() != 0:
    s.skip("umoci agreement", "needs root to unpack with real owners")
else:
    for layout in ("oci", "oci-plain"):
        tmp = os.path.join(s.work, "umoci-" + layout)
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        u = subprocess.run(["umoci", "unpack", "--image", s.fixture(layout) + ":demo", os.path.join(tmp, "bundle")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not s.check("umoci unpack %s" % layout, u.returncode == 0, u.stderr.decode()[:300]):
            continue
        theirs = e2elib.walk_tree(os.path.join(tmp, "bundle", "rootfs"))
        r = s.run("manifest", s.fixture(layout))
        if not s.check("cdrift manifest %s: exit 0" % layout, r.returncode == 0, describe(r)):
            continue
        _, ours, _ = parse_jsonl_manifest(r.stdout)
        fields = e2elib.CORE_FIELDS + ("xattrs",)
        bad = compare_entries(theirs, ours, fields=fields)
        total = len(set(theirs) | set(ours))
        badpaths = {x.split("'")[1] if "'" in x else x for x in bad}
        print("umoci agreement: %d/%d entries (%s)" % (total - len(badpaths), total, layout))
        s.check("umoci agreement on every entry (%s)" % layout, not bad and total > 100, short(bad))

s.finish()
