#!/usr/bin/env python3
"""The hostile corpus (fixtures/hostile/gen.py) against the real binary.

    python3 tests/e2e/test_hostile.py --cdrift BIN --work DIR [-k NAME] [-v]

Every case runs with a time limit and, in a plain build, an address-space limit of
1 GiB (RLIMIT_AS, what `ulimit -v` sets); its peak RSS is measured with wait4.
Under AddressSanitizer (detected from CDRIFT_SANITIZE=1 or from the binary itself)
the address-space limit is skipped - ASan reserves terabytes of virtual memory up
front - and so are the RSS bounds (shadow memory and quarantine inflate RSS);
time limits are multiplied by 3. Error cases must print exactly one stderr line,
nothing on stdout, and exit with the expected code.
"""

import argparse
import base64
import json
import os
import re
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2elib  # noqa: E402

REPO = e2elib.REPO
GEN = os.path.join(REPO, "fixtures", "hostile", "gen.py")
MEMORY_LIMIT = 1 << 30
DEFAULT_SECONDS = 60


def sanitized(binary):
    if os.environ.get("CDRIFT_SANITIZE") == "1":
        return True
    try:
        r = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        if b"libasan" in r.stdout or b"libubsan" in r.stdout:
            return True
    except (OSError, subprocess.TimeoutExpired):
        pass
    # clang links the sanitizer runtimes statically.
    with open(binary, "rb") as f:
        while True:
            block = f.read(1 << 24)
            if not block:
                return False
            if b"__asan_init" in block or b"AddressSanitizer" in block:
                return True


class Run:
    def __init__(self, rc, stdout, stderr, seconds, maxrss_mb, timed_out):
        self.returncode, self.stdout, self.stderr = rc, stdout, stderr
        self.seconds, self.maxrss_mb, self.timed_out = seconds, maxrss_mb, timed_out


# Runs in a fresh, small interpreter that forks cdrift and waits for it: the peak
# RSS that wait4 reports for a child includes what its parent had mapped when it
# forked, so measuring from this (possibly large) test process would overstate it.
LAUNCHER = r"""
import os, resource, subprocess, sys, time
report, seconds, limit, argv = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def limits():
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
out, err = open(report + ".out", "wb"), open(report + ".err", "wb")
start = time.monotonic()
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=limits)
timed_out = False
try:
    rc = p.wait(timeout=seconds)
except subprocess.TimeoutExpired:
    timed_out = True
    p.kill()
    rc = p.wait()
elapsed = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(report, "w") as f:
    f.write("%d %f %d %d\n" % (rc, elapsed, rss, timed_out))
"""


def run_limited(argv, work, seconds, limit_memory):
    """Runs argv with stdout/stderr in files; returns a Run with the child's own peak RSS."""
    report = os.path.join(work, "run")
    for suffix in ("", ".out", ".err"):
        if os.path.exists(report + suffix):
            os.remove(report + suffix)
    limit = MEMORY_LIMIT if limit_memory else 0
    subprocess.run([sys.executable, "-c", LAUNCHER, report, str(seconds), str(limit)] + argv,
                   timeout=seconds + 60)
    with open(report) as f:
        rc, elapsed, rss, timed_out = f.read().split()
    with open(report + ".out", "rb") as f:
        stdout = f.read()
    with open(report + ".err", "rb") as f:
        stderr = f.read()
    return Run(int(rc), stdout, stderr, float(elapsed), int(rss) / 1024.0, timed_out == "1")


def describe(r):
    err = r.stderr.decode(errors="replace").strip().replace("\n", " | ")
    return "exit %s after %.1fs, stderr: %s" % (r.returncode, r.seconds, err[:400] or "(empty)")


SGR = re.compile(rb"\x1b\[[0-9;]*m")
FORBIDDEN = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def text_problems(data, forged=b"all clear"):
    """Raw control characters (other than colour SGR sequences and newlines) or a
    line that an attacker's name forged."""
    problems = []
    plain = SGR.sub(b"", data)
    m = FORBIDDEN.search(plain)
    if m:
        problems.append("raw control byte %r at %d: %r" % (m.group(0), m.start(), plain[max(0, m.start() - 30):m.start() + 10]))
    for line in plain.split(b"\n"):
        if forged in line and b"evil" not in line.split(forged)[0]:
            problems.append("forged line: %r" % line[:120])
    return problems


def entry_problems(stdout, want):
    _, entries, problems = e2elib.parse_jsonl_manifest(stdout)
    for path, fields in want.items():
        got = entries.get(path.encode("utf-8", "surrogateescape"))
        if got is None:
            problems.append("no entry %r" % path[:80])
            continue
        for k, v in fields.items():
            if got.get(k) != v:
                problems.append("%r %s: expected %r, got %r" % (path[:80], k, v, got.get(k)))
    return problems, entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cdrift", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    cdrift = os.path.abspath(args.cdrift)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("PASS " + name)
        else:
            failed += 1
            print("FAIL " + name + (": " + detail if detail else ""))
        sys.stdout.flush()
        return ok

    def finish():
        print("%d passed, %d failed" % (passed, failed))
        sys.exit(1 if failed else 0)

    out = os.path.join(work, "hostile")
    r = subprocess.run([sys.executable, GEN, out], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not check("hostile corpus generated", r.returncode == 0, r.stderr.decode(errors="replace").strip()):
        finish()
    if not check("cdrift binary present", os.access(cdrift, os.X_OK), cdrift):
        finish()
    with open(os.path.join(out, "cases.json"), "rb") as f:
        cases = json.load(f)["cases"]

    asan = sanitized(cdrift)
    if asan:
        print("NOTE sanitized build: no RLIMIT_AS (ASan reserves huge virtual memory), no RSS bounds, "
              "time limits x3")
    env_scratch = os.path.join(work, "scratch")
    os.makedirs(env_scratch, exist_ok=True)

    for case in cases:
        name = case["name"]
        if args.k not in name:
            continue
        argv = [cdrift] + [a.replace("{out}", out) for a in case["args"]]
        if args.v:
            print("  $ " + " ".join(repr(a) if any(c in a for c in " \n;$`") else a for a in argv))
        checks = case.get("checks", {})
        if "not_created" in checks and os.path.exists(os.path.join(out, checks["not_created"])):
            os.remove(os.path.join(out, checks["not_created"]))
        seconds = case.get("max_seconds", DEFAULT_SECONDS) * (3 if asan else 1)
        res = run_limited(argv, env_scratch, seconds, limit_memory=not asan)
        problems = []
        if res.timed_out:
            problems.append("did not finish within %ds" % seconds)
        if res.returncode < 0 or res.returncode > 3:
            problems.append("crashed, aborted or internal error (exit %d)" % res.returncode)
        allowed = case["exit"] if isinstance(case["exit"], list) else [case["exit"]]
        if res.returncode not in allowed:
            problems.append("exit %d, expected %s" % (res.returncode, "/".join(map(str, allowed))))
        err_text = res.stderr.decode("utf-8", "replace").lower()
        for frag in case["stderr_contains"]:
            alts = frag if isinstance(frag, list) else [frag]
            if not any(a.lower() in err_text for a in alts):
                problems.append("stderr lacks %r" % (alts if len(alts) > 1 else alts[0]))
        if case.get("error"):
            lines = res.stderr.rstrip(b"\n").split(b"\n")
            if not res.stderr.strip() or len(lines) != 1:
                problems.append("stderr has %d lines, expected exactly one" % (0 if not res.stderr.strip() else len(lines)))
            if res.stdout:
                problems.append("stdout not empty (%d bytes)" % len(res.stdout))
        if res.stderr and FORBIDDEN.search(res.stderr.rstrip(b"\n")):
            problems.append("raw control byte in stderr: %r" % res.stderr[:200])
        if "max_rss_mb" in case and not asan and res.maxrss_mb >= case["max_rss_mb"]:
            problems.append("peak RSS %.0f MB, limit %d MB" % (res.maxrss_mb, case["max_rss_mb"]))
        ok_run = res.returncode == 0
        if "entries" in checks and ok_run:
            p, _ = entry_problems(res.stdout, checks["entries"])
            problems += p
        if "if_ok_entries" in checks and ok_run:
            p, _ = entry_problems(res.stdout, checks["if_ok_entries"])
            problems += p
        if "entry_count" in checks and ok_run:
            _, entries, p = e2elib.parse_jsonl_manifest(res.stdout)
            problems += p[:3]
            if len(entries) != checks["entry_count"]:
                problems.append("%d entries, expected %d" % (len(entries), checks["entry_count"]))
        if checks.get("text_safe"):
            problems += text_problems(res.stdout)
            if not res.stdout:
                problems.append("empty report")
        if checks.get("text_safe_jsonl"):
            # JSON escapes C0 controls; DEL and C1 (U+0080..U+009F) are valid JSON text.
            m = re.search(rb"[\x00-\x1f]", res.stdout.replace(b"\n", b""))
            if m:
                problems.append("raw control byte %r in the JSONL output" % m.group(0))
        if checks.get("json"):
            try:
                rep = json.loads(res.stdout)
                blob = json.dumps(rep)
                if "esc" not in blob or "caf" not in blob:
                    problems.append("report does not mention the hostile names")
            except ValueError as e:
                problems.append("stdout is not JSON: %s" % e)
        if checks.get("roundtrip") and ok_run:
            saved = os.path.join(env_scratch, "saved.jsonl")
            with open(saved, "wb") as f:
                f.write(res.stdout)
            again = run_limited([cdrift, "manifest", "manifest:" + saved], os.path.join(work, "scratch"), seconds,
                                limit_memory=not asan)
            if again.returncode != 0:
                problems.append("saved manifest does not read back: " + describe(again))
            else:
                _, first, _ = e2elib.parse_jsonl_manifest(res.stdout)
                _, second, _ = e2elib.parse_jsonl_manifest(again.stdout)
                if first != second:
                    problems.append("entries differ after the round trip: " +
                                    e2elib.short(e2elib.compare_entries(first, second, extra=("mtime",))))
                body1 = res.stdout.split(b"\n", 1)[1]
                body2 = again.stdout.split(b"\n", 1)[1]
                if body1 != body2:
                    problems.append("entry lines are not byte-identical after the round trip")
                bad = [k for k in first if b"\x1b" in k or b"\n" in k or b"\xe9" in k]
                if len(bad) < 3:
                    problems.append("hostile names missing from the manifest (%d found)" % len(bad))
        if "not_created" in checks and os.path.exists(os.path.join(out, checks["not_created"])):
            problems.append("the runtime was run")
        detail = "; ".join(problems[:6])
        if problems:
            detail += " | " + describe(res)
        check("%s (%.1fs, %.0f MB)" % (name, res.seconds, res.maxrss_mb), not problems, detail)
    finish()


if __name__ == "__main__":
    main()
