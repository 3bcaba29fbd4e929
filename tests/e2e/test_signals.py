#!/usr/bin/env python3
"""Signals while reports are written: an audit with many findings writes its JSON,
SARIF and text reports to files (each atomically: a temporary file renamed into
place), and is killed 200 times with SIGTERM (and some SIGINT and SIGHUP) at moments
spread over its run, most of them inside the writing. Not one `*.tmp.*` may be left
beside the targets, and every report that exists must be complete. A process that
ignores SIGHUP (nohup) keeps ignoring it and finishes its reports."""

import io
import json
import os
import random
import signal
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import describe  # noqa: E402

s = e2elib.Suite(__doc__)
KILLS = 200


def big_export(src, dst, extra):
    """The clean docker export plus `extra` added executables: as many findings."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for m in tin.getmembers():
            tout.addfile(m, tin.extractfile(m) if m.isfile() else None)
        d = tarfile.TarInfo("srv/drop")
        d.type = tarfile.DIRTYPE
        d.mode = 0o755
        d.mtime = 1700000000
        tout.addfile(d)
        for i in range(extra):
            data = b"#!/bin/sh\necho %d\n" % i
            t = tarfile.TarInfo("srv/drop/tool-%05d.sh" % i)
            t.size = len(data)
            t.mode = 0o755
            t.mtime = 1700000000
            tout.addfile(t, io.BytesIO(data))


def audit_cmd(image, container, out):
    return [s.cdrift, "audit", "--no-cache", "--image", image, "--container", container,
            "--fail-on", "never", "--format", "json",
            "--output-json", os.path.join(out, "r.json"),
            "--output-sarif", os.path.join(out, "r.sarif"),
            "--output-text", os.path.join(out, "r.txt")]


def leftovers(out):
    return sorted(n for n in os.listdir(out) if ".tmp." in n)


def complete(out):
    """Every report that exists is whole: the JSON ones parse, the text one has its summary."""
    bad = []
    for name in ("r.json", "r.sarif"):
        p = os.path.join(out, name)
        if os.path.exists(p):
            try:
                with open(p, "rb") as f:
                    json.loads(f.read())
            except ValueError:
                bad.append(name)
    p = os.path.join(out, "r.txt")
    if os.path.exists(p):
        with open(p, "rb") as f:
            if b"findings" not in f.read():
                bad.append("r.txt")
    return bad


def main():
    image = s.fixture("oci")
    container = os.path.join(s.work, "big-export.tar")
    big_export(s.fixture("containers/export-docker-clean.tar"), container, 1500)
    out = os.path.join(s.work, "reports")
    os.makedirs(out, exist_ok=True)

    # How long a whole run takes, and that it writes all three reports.
    times = []
    for _ in range(3):
        for n in os.listdir(out):
            os.unlink(os.path.join(out, n))
        start = time.monotonic()
        r = subprocess.run(audit_cmd(image, container, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.monotonic() - start)
    total = sorted(times)[1]
    s.check("the audit writes its three reports (%.2f s a run)" % total,
            r.returncode == 0 and sorted(os.listdir(out)) == ["r.json", "r.sarif", "r.txt"],
            describe(r))

    rng = random.Random(20261203)
    killed = 0
    left = []
    broken = []
    sigs = [signal.SIGTERM] * 8 + [signal.SIGINT, signal.SIGHUP]
    for i in range(KILLS):
        for n in os.listdir(out):
            os.unlink(os.path.join(out, n))
        sig = sigs[i % len(sigs)]
        # Most kills land in the last part of the run, where the reports are written.
        delay = total * (rng.uniform(0.55, 1.05) if i % 4 else rng.uniform(0.0, 0.55))
        p = subprocess.Popen(audit_cmd(image, container, out), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(sig)
        rc = p.wait(timeout=120)
        # The machine's load changes run times: aim the next kill from what this one hit,
        # so that kills keep landing around the end of the run, where the writes are.
        if rc == -sig:
            killed += 1
            total *= 1.03
        elif rc == 0:
            total *= 0.9
        else:
            broken.append("run %d: exit %d" % (i, rc))
        got = leftovers(out)
        if got:
            left.append("run %d (%s after %.3f s): %s" % (i, signal.Signals(sig).name, delay, got))
        bad = complete(out)
        if bad:
            broken.append("run %d: incomplete %s" % (i, bad))
    print("  note: %d of %d runs died of the signal, the others had finished" % (killed, KILLS))
    s.check("%d signals during the writes leave no *.tmp.* beside the reports" % KILLS, not left,
            "; ".join(left[:5]))
    s.check("every report left behind is complete; a killed run dies of its signal", not broken,
            "; ".join(broken[:5]))
    s.check("runs were really interrupted (%d of %d)" % (killed, KILLS), killed >= KILLS // 4,
            "only %d runs were killed before they finished" % killed)

    # nohup: an ignored SIGHUP stays ignored, and the run completes.
    for n in os.listdir(out):
        os.unlink(os.path.join(out, n))
    p = subprocess.Popen(audit_cmd(image, container, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    time.sleep(total * 0.8)
    p.send_signal(signal.SIGHUP)
    _, err = p.communicate(timeout=120)
    s.check("an ignored SIGHUP (nohup) stays ignored: the reports are written",
            p.returncode == 0 and sorted(os.listdir(out)) == ["r.json", "r.sarif", "r.txt"],
            "exit %s: %s" % (p.returncode, err.decode(errors="replace")[:200]))
    s.finish()


main()
