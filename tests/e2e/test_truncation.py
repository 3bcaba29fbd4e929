#!/usr/bin/env python3
"""Issue 13 end to end: a container export cut at any member boundary or in its
end-of-archive marker is exit 3, from a file and from stdin, with the message naming
the export and the entries read; the full export still audits. Also: empty exports,
gzip without its trailer, an image directory that is not an OCI layout, and
oci:DIR:REF in a layout holding several images."""

import gzip
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import describe  # noqa: E402

s = e2elib.Suite(__doc__)
MSG = re.compile(rb"^cdrift: (.*): ends without the tar end-of-archive marker after (\d+) entries \(truncated\?\)$")


def member_offsets(data):
    """Offsets of each member's first header (PAX and long-name headers belong to
    the member after them), and of the end-of-archive marker."""
    starts, off, prev = [], 0, None
    while off + 512 <= len(data):
        h = data[off:off + 512]
        if h == b"\0" * 512:
            return starts, off
        if prev not in (b"x", b"L", b"K", b"g"):
            starts.append(off)
        prev = h[156:157]
        field = h[124:136]
        size = int.from_bytes(field[1:], "big") if field[0] & 0x80 else int(field.strip(b" \0") or b"0", 8)
        off += 512 + (size + 511) // 512 * 512
    raise SystemExit("fixture has no end marker")


def one_line_error(r):
    lines = [l for l in r.stderr.splitlines() if l.strip() and b": warning:" not in l]
    return lines[0] if len(lines) == 1 else None


image = s.fixture("rootfs.tar")
export_path = s.fixture("containers/export-tampered.tar")
data = open(export_path, "rb").read()
starts, marker = member_offsets(data)
cuts = starts[1:] + [marker, marker + 512]  # a cut at 0 is an empty input, tested below

if s.wanted("truncation"):
    refused = {"file": 0, "stdin": 0}
    bad = []
    for cut in cuts:
        part = data[:cut]
        p = os.path.join(s.work, "cut.tar")
        with open(p, "wb") as f:
            f.write(part)
        for how, args, stdin in (("file", [p], None), ("stdin", ["-"], part)):
            r = s.run("audit", "--image", image, "--container", *args, "--format", "json", stdin=stdin)
            line = one_line_error(r)
            m = MSG.match(line or b"")
            expect_name = p.encode() if how == "file" else b"stdin"
            ok = r.returncode == 3 and not r.stdout and line is not None
            if cut < marker:
                ok = ok and m is not None and m.group(1) == expect_name
            if ok:
                refused[how] += 1
            else:
                bad.append("%s cut at %d: %s" % (how, cut, describe(r)))
    s.check("truncation: %d cuts (every member boundary, the marker, half the marker) refused from a file"
            % len(cuts), refused["file"] == len(cuts), "; ".join(bad[:3]))
    s.check("truncation: the same %d cuts refused from stdin" % len(cuts), refused["stdin"] == len(cuts),
            "; ".join(bad[:3]))
    print("truncation counts: %d member boundaries + 2 marker cuts, %d/%d refused via file, %d/%d via stdin"
          % (len(cuts) - 2, refused["file"], len(cuts), refused["stdin"], len(cuts)))
    # The count in the message is the number of entries read before the cut.
    p = os.path.join(s.work, "cut3.tar")
    with open(p, "wb") as f:
        f.write(data[:starts[3]])
    r = s.run("audit", "--image", image, "--container", p)
    m = MSG.match(one_line_error(r) or b"")
    s.check("truncation: the message counts the entries read",
            r.returncode == 3 and m is not None and m.group(2) == b"3", describe(r))
    # On the image side a root filesystem that simply stops is read, with a warning.
    r = s.run("manifest", p)
    s.check("truncation: an image-side rootfs without its marker reads with a warning",
            r.returncode == 0 and b"warning:" in r.stderr and b"end-of-archive marker" in r.stderr, describe(r))
    r = s.run("audit", "--image", image, "--container", export_path, "--format", "json")
    s.check("truncation: the full export still audits", r.returncode in (0, 1) and json.loads(r.stdout or b"{}"),
            describe(r))
    r = s.run("audit", "--image", image, "--container", "-", "--format", "json", stdin=data)
    s.check("truncation: the full export still audits from stdin", r.returncode in (0, 1), describe(r))

if s.wanted("empty"):
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        root = tarfile.TarInfo("./")
        root.type = tarfile.DIRTYPE
        t.addfile(root)
    for name, blob in (("1024 zero bytes", b"\0" * 1024), ("only the root", buf.getvalue())):
        r = s.run("audit", "--image", image, "--container", "-", stdin=blob)
        s.check("empty export (%s): exit 3, one line" % name, r.returncode == 3 and one_line_error(r) is not None,
                describe(r))

if s.wanted("gzip"):
    gz = gzip.compress(data, mtime=0)
    r = s.run("audit", "--image", image, "--container", "-", stdin=gz[:-8])
    s.check("gzip export without its trailer: exit 3", r.returncode == 3, describe(r))
    r = s.run("audit", "--image", image, "--container", "-", "--format", "json", stdin=gz)
    s.check("gzip export with its trailer audits", r.returncode in (0, 1), describe(r))

if s.wanted("image dir"):
    d = e2elib.extract_export(image, os.path.join(s.work, "rootfs-dir"))
    r = s.run("audit", "--image", d, "--container", export_path)
    want = ("cdrift: %s: not an OCI image layout (use dir: or rootfs: to audit against a root filesystem)"
            % d).encode()
    s.check("--image DIR that is not an OCI layout: exit 3 with the message",
            r.returncode == 3 and one_line_error(r) == want, describe(r))
    r = s.run("audit", "--image", "dir:" + d, "--container", export_path, "--format", "json")
    s.check("--image dir:DIR still works", r.returncode in (0, 1), describe(r))

if s.wanted("oci ref"):
    d = os.path.join(s.work, "two-images")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(s.fixture("oci-multi"), d)
    idx = json.load(open(os.path.join(d, "index.json")))
    for m in idx["manifests"]:
        m.pop("platform", None)
    json.dump(idx, open(os.path.join(d, "index.json"), "w"))
    refs = [m["annotations"]["org.opencontainers.image.ref.name"] for m in idx["manifests"]]
    r = s.run("manifest", "oci:" + d)
    err = one_line_error(r) or b""
    s.check("several images without REF: exit 2 listing the refs",
            r.returncode == 2 and all(ref.encode() in err for ref in refs), describe(r))
    r = s.run("manifest", "oci:%s:%s" % (d, refs[1]))
    s.check("oci:DIR:REF picks an image by ref name", r.returncode == 0, describe(r))
    r = s.run("manifest", "oci:%s:%s" % (d, idx["manifests"][0]["digest"]))
    s.check("oci:DIR:DIGEST picks an image by manifest digest", r.returncode == 0, describe(r))
    r = s.run("manifest", "oci:%s:no-such-ref" % d)
    s.check("oci:DIR:REF with an unknown REF: exit 2", r.returncode == 2, describe(r))

s.finish()
