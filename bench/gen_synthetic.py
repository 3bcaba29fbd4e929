#!/usr/bin/env python3
"""Writes a synthetic image (one plain layer, as an OCI layout) and a matching
docker-export-style tar with N small files, for the scaling benchmark.
Headers are written directly (ustar) so that millions of entries take seconds.
  gen_synthetic.py OUTDIR N"""
import hashlib, json, os, sys

def header(name, size, mode=0o644, typeflag=b"0", mtime=1700000000, link=b""):
    h = bytearray(512)
    n = name.encode()
    if len(n) > 100:
        prefix, _, n = n.rpartition(b"/")
        h[345:345 + len(prefix)] = prefix
    h[0:len(n)] = n
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"%07o\0" % 0
    h[116:124] = b"%07o\0" % 0
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % mtime
    h[156:157] = typeflag
    h[157:157 + len(link)] = link
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)

def write_tree(path, n, tamper):
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as f:
        def out(b):
            nonlocal size
            digest.update(b); f.write(b); size += len(b)
        dirs = max(1, n // 100)
        for d in range(dirs):
            out(header("srv/d%05d/" % d, 0, 0o755, b"5"))
            for i in range(100 if d < dirs - 1 else n - 100 * (dirs - 1)):
                body = b"file %d in dir %d\n" % (i, d) * 3
                if tamper and d == 0 and i == 0:
                    body = body.replace(b"file", b"FILE")
                out(header("srv/d%05d/f%03d.txt" % (d, i), len(body)))
                out(body + b"\0" * (-len(body) % 512))
        out(b"\0" * 1024)
    return "sha256:" + digest.hexdigest(), size

def main():
    outdir, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(outdir + "/oci/blobs/sha256", exist_ok=True)
    layer = outdir + "/layer.tar"
    diff_id, size = write_tree(layer, n, tamper=False)
    os.replace(layer, outdir + "/oci/blobs/sha256/" + diff_id[7:])
    write_tree(outdir + "/export.tar", n, tamper=True)
    def blob(doc):
        data = json.dumps(doc, sort_keys=True).encode()
        d = hashlib.sha256(data).hexdigest()
        open(outdir + "/oci/blobs/sha256/" + d, "wb").write(data)
        return {"digest": "sha256:" + d, "size": len(data)}
    cfg = blob({"architecture": "amd64", "os": "linux", "config": {},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]}})
    man = blob({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": diff_id, "size": size}]})
    json.dump({"schemaVersion": 2, "manifests": [dict(man, mediaType="application/vnd.oci.image.manifest.v1+json")]},
              open(outdir + "/oci/index.json", "w"))
    open(outdir + "/oci/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')

main()
