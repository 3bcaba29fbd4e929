"""Shared helpers for cdrift's end-to-end tests.

Each test script is run as
    python3 tests/e2e/test_X.py --cdrift /path/to/cdrift --work /build/e2e/test_X
regenerates the fixtures into <work>/fixtures (fixtures/gen.py, well under a second),
prints one line per check and ends with "N passed, M failed".
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(REPO, "fixtures", "gen.py")

CORE_FIELDS = ("type", "mode", "uid", "gid", "size", "sha256", "target")


class Suite:
    def __init__(self, description):
        ap = argparse.ArgumentParser(description=description)
        ap.add_argument("--cdrift", required=True, help="path to the cdrift binary")
        ap.add_argument("--work", required=True, help="scratch directory for this test")
        ap.add_argument("-k", default="", help="only run checks whose name contains this")
        ap.add_argument("-v", action="store_true", help="print the command line of every cdrift run")
        self.args = ap.parse_args()
        self.cdrift = os.path.abspath(self.args.cdrift)
        self.work = os.path.abspath(self.args.work)
        self.passed = 0
        self.failed = 0
        os.makedirs(self.work, exist_ok=True)
        self.fx = os.path.join(self.work, "fixtures")
        r = subprocess.run([sys.executable, GEN, self.fx], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            print("FAIL fixture generator: " + r.stderr.decode(errors="replace").strip())
            self.failed += 1
            self.finish()
        with open(os.path.join(self.fx, "cases.json"), "rb") as f:
            self.cases = json.load(f)
        if not os.access(self.cdrift, os.X_OK):
            print("FAIL cdrift binary not found or not executable: " + self.cdrift)
            self.failed += 1
            self.finish()

    def fixture(self, rel):
        return os.path.join(self.fx, rel)

    def wanted(self, name):
        return self.args.k in name

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS " + name)
        else:
            self.failed += 1
            print("FAIL " + name + (": " + detail if detail else ""))
        sys.stdout.flush()
        return ok

    def skip(self, name, why):
        """A skipped check is a failure unless CDRIFT_ALLOW_SKIP=1: a cross-check that
        silently does not run proves nothing."""
        if os.environ.get("CDRIFT_ALLOW_SKIP") == "1":
            print("SKIPPED " + name + ": " + why)
        else:
            self.failed += 1
            print("SKIPPED (counted as failure; set CDRIFT_ALLOW_SKIP=1 to allow) " + name + ": " + why)

    def run(self, *args, stdin=None, timeout=120):
        cmd = [self.cdrift] + [str(a) for a in args]
        if self.args.v:
            print("  $ " + " ".join(cmd))
        try:
            return subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(cmd, -999, b"", b"TIMEOUT after %ds" % timeout)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def describe(r):
    """One line about a finished cdrift run, for failure details."""
    err = r.stderr.decode(errors="replace").strip().replace("\n", " | ")
    return "exit %s, stderr: %s" % (r.returncode, err[:400] or "(empty)")


def path_key(o):
    """Raw path bytes of a manifest entry or finding: path_b64 when present, else path."""
    if isinstance(o, str):
        return o.encode("utf-8")  # lists may hold bare path strings
    if "path_b64" in o:
        return base64.b64decode(o["path_b64"])
    return o["path"].encode("utf-8")


def parse_jsonl_manifest(data):
    """-> (header dict or None, {path bytes: entry}, list of problems)."""
    problems = []
    header = None
    entries = {}
    order = []
    for i, line in enumerate(data.split(b"\n")):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except ValueError as e:
            problems.append("line %d is not JSON: %s" % (i + 1, e))
            continue
        if i == 0 and "cdrift_manifest" in o:
            header = o
            continue
        if "path" not in o and "path_b64" not in o:
            continue  # other record kinds (e.g. {"capture": ...} trailers) are not entries
        k = path_key(o)
        if k in entries:
            problems.append("duplicate path %r" % k)
        entries[k] = o
        order.append(k)
    if order != sorted(order):
        problems.append("entries are not sorted by path bytes")
    return header, entries, problems


def load_expected(path):
    with open(path, "rb") as f:
        _, entries, _ = parse_jsonl_manifest(f.read())
    return entries


def compare_entries(expected, got, fields=CORE_FIELDS, extra=()):
    """Returns a list of human-readable differences (empty when equal)."""
    diffs = []
    for k in sorted(set(expected) | set(got)):
        e, g = expected.get(k), got.get(k)
        if g is None:
            diffs.append("missing %r" % k)
            continue
        if e is None:
            diffs.append("unexpected %r" % k)
            continue
        for f in tuple(fields) + tuple(extra):
            if f == "mtime" and "mtime" not in e:
                continue  # implicit parent directories have no defined mtime
            ev, gv = e.get(f), g.get(f)
            if f == "xattrs":
                ev, gv = ev or {}, gv or {}
            if ev != gv:
                diffs.append("%r %s: expected %r, got %r" % (k, f, ev, gv))
    return diffs


def short(diffs, n=6):
    if not diffs:
        return ""
    return "%d differences: %s%s" % (len(diffs), "; ".join(diffs[:n]), " ..." if len(diffs) > n else "")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def walk_tree(root):
    """A directory tree as manifest-like entries, walked with lstat (never following links)."""
    out = {}
    types = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink", stat.S_IFIFO: "fifo",
             stat.S_IFCHR: "chardev", stat.S_IFBLK: "blockdev", stat.S_IFSOCK: "socket"}
    broot = os.fsencode(root)
    for dp, dns, fns in os.walk(broot):
        for n in dns + fns:
            p = os.path.join(dp, n)
            out[b"/" + os.path.relpath(p, broot)] = p
    out[b"/"] = broot
    res = {}
    for k, p in out.items():
        st = os.lstat(p)
        t = types[stat.S_IFMT(st.st_mode)]
        o = {"path": k.decode("utf-8", "replace"), "type": t, "mode": "%04o" % (st.st_mode & 0o7777),
             "uid": st.st_uid, "gid": st.st_gid, "mtime": int(st.st_mtime)}
        if t == "file":
            o["size"] = st.st_size
            o["sha256"] = sha256_file(p)
            try:
                names = sorted(os.listxattr(p, follow_symlinks=False))
            except OSError:
                names = []
            xs = {x: base64.b64encode(os.getxattr(p, x, follow_symlinks=False)).decode() for x in names
                  if x.startswith("security.capability") or x.startswith("user.")}
            if xs:
                o["xattrs"] = xs
        if t == "symlink":
            o["target"] = os.fsdecode(os.readlink(p))
        res[k] = o
    return res


def extract_export(tar_path, dest):
    """Unpacks a container export as root, like the runtime's rootfs: numeric owners,
    modes incl. setuid, mtimes, symlinks unfollowed, hardlinks, fifos, and the
    SCHILY.xattr.* pax records (tarfile itself does not restore xattrs)."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    os.chmod(dest, 0o755)
    with tarfile.open(tar_path, encoding="utf-8", errors="surrogateescape") as tf:
        members = tf.getmembers()
        tf.extractall(dest, numeric_owner=True, filter="fully_trusted")
        for m in members:
            xs = {k[len("SCHILY.xattr."):]: v for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr.")}
            for k, v in xs.items():
                p = os.path.join(dest, m.name)
                os.setxattr(p, k, v.encode("utf-8", "surrogateescape"), follow_symlinks=False)
        # tarfile leaves symlink mtimes at "now", and setxattr and extraction order
        # touched directory mtimes: restore both, directories last.
        for m in members:
            if m.issym():
                os.utime(os.path.join(dest, m.name), (m.mtime, m.mtime), follow_symlinks=False)
        for m in members:
            if m.isdir():
                os.utime(os.path.join(dest, m.name), (m.mtime, m.mtime), follow_symlinks=False)
    return dest


def audit_json(suite, image, container, *extra, stdin=None):
    """Runs `cdrift audit --format json`; -> (CompletedProcess, parsed report or None, problem)."""
    # --fail-on info: every finding counts as drift for the exit status, whatever the
    # default threshold; the default itself is checked separately in test_audit.py.
    r = suite.run("audit", "--image", image, "--container", container, "--format", "json", "--fail-on", "info",
                  *extra, stdin=stdin)
    try:
        rep = json.loads(r.stdout)
    except ValueError as e:
        return r, None, "stdout is not JSON (%s); %s" % (e, describe(r))
    return r, rep, ""


def finding_key(f):
    return path_key(f)


def findings_by_path(rep):
    return {finding_key(f): f for f in rep.get("findings", [])}
