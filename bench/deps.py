#!/usr/bin/env python3
"""Benchmarks the boot in dependency order: an ordered tree against the same tree unordered.

    bench/deps.py [--quick] [--runs R] [--chains C] [--length L] [--ready-ms M] [--no-build]

Two scan directories of C*L services (default 100 chains of 10 = 1,000), each service
`#!/bin/sh`, `sleep M/1000` (default 10 ms), the readiness line on its notification-fd 3, then
`exec sleep 100000`:
  ordered    service k of each chain needs service k-1 (dependencies.d/), so our s6-supervise
             holds each first start until the previous one is ready;
  unordered  the same services without dependency files.
Each run starts our s6-svscan on one of them (alternating, R runs each, default 5, --quick 1)
and measures, after every service is ready:
  boot   from the scanner's start to the last ready stamp (the readystamp of supervise/status,
         TAI64N, so the waiting does not disturb the boot): median; ratio ordered/unordered
         (target <= 1.3);
  cpu    the CPU time of the scanner and of every s6-supervise (/proc/PID/schedstat, ns), the
         services' own processes not counted: median; ratio ordered/unordered (target <= 1.2).
The tree is on /dev/shm when that is a tmpfs (init's /s6 is one), else in the temp dir (--dir).
It prints figures and ratios and never asserts on them. Each run ends with s6-svscanctl -t, then
SIGKILL of anything left in the temp folder, which is removed.

Environment: MERIT_BIN=DIR: take s6-svscan and s6-supervise from DIR instead of dist/bin
(implies --no-build).
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import children, child_setup, is_tmpfs, log, sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATUS_SIZE = 35
FLAG_READY = 8
# skalibs' TAI64 labels are 2^62 + unix seconds + 10 (or + 37 when it counts leap seconds).
TAI_OFFSETS = (10, 37)
SHM = "/dev/shm"


def make_tree(scan, chains, length, ready_ms, ordered):
    os.makedirs(scan)
    run = "#!/bin/sh\nsleep %s\necho >&3\nexec sleep 100000\n" % (ready_ms / 1000.0)
    names = []
    for c in range(chains):
        for k in range(length):
            n = "c%03d-%02d" % (c, k)
            d = os.path.join(scan, n)
            os.makedirs(d)
            with open(os.path.join(d, "run"), "w") as f:
                f.write(run)
            os.chmod(os.path.join(d, "run"), 0o755)
            with open(os.path.join(d, "notification-fd"), "w") as f:
                f.write("3\n")
            if ordered and k > 0:
                os.makedirs(os.path.join(d, "dependencies.d"))
                open(os.path.join(d, "dependencies.d", "c%03d-%02d" % (c, k - 1)), "w").close()
            names.append(n)
    return names


def ready_stamp(svcdir):
    """The readystamp (unix seconds, float) when the service is up and ready, else None."""
    try:
        with open(os.path.join(svcdir, "supervise", "status"), "rb") as f:
            b = f.read(STATUS_SIZE)
    except OSError:
        return None
    if len(b) < STATUS_SIZE or int.from_bytes(b[24:32], "big") == 0 or not (b[34] & FLAG_READY):
        return None
    secs = int.from_bytes(b[12:20], "big") - (1 << 62)
    nano = int.from_bytes(b[20:24], "big")
    return secs, nano


def cpu_ns(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/schedstat" % p) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def one_boot(bindir, scan, names, timeout=120.0):
    """Boots `scan` under our s6-svscan: (seconds to the last ready stamp, cpu seconds)."""
    t0 = time.time()
    sc = subprocess.Popen([os.path.join(bindir, "s6-svscan"), "-c", str(len(names) + 10), "-t0", scan], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                          preexec_fn=child_setup)
    try:
        end = time.monotonic() + timeout
        pending = list(names)
        stamps = []
        while pending and time.monotonic() < end:
            time.sleep(0.2)
            still = []
            for n in pending:
                s = ready_stamp(os.path.join(scan, n))
                if s is None:
                    still.append(n)
                else:
                    stamps.append(s)
            pending = still
        if pending:
            sys.exit("bench/deps: %d services not ready after %d s (e.g. %s)" % (len(pending), timeout, pending[0]))
        cpu = cpu_ns([sc.pid] + children(sc.pid)) / 1e9
        last = max(stamps)
        # The offset that makes the stamps fall just after t0.
        best = None
        for off in TAI_OFFSETS:
            dt = (last[0] - off) + last[1] / 1e9 - t0
            if dt >= -0.01 and (best is None or dt < best):
                best = dt
        return best, cpu
    finally:
        subprocess.run([os.path.join(bindir, "s6-svscanctl"), "-t", scan], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        try:
            sc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sc.kill()
            sc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 run of each instead of 3")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--chains", type=int, default=100)
    ap.add_argument("--length", type=int, default=10)
    ap.add_argument("--ready-ms", type=int, default=10)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--dir")
    a = ap.parse_args()
    runs = a.runs or (1 if a.quick else 5)
    bindir = os.environ.get("MERIT_BIN")
    if bindir:
        bindir = os.path.abspath(bindir)
    else:
        bindir = os.path.join(ROOT, "dist", "bin")
        if not a.no_build:
            log("== building (scripts/build)")
            if subprocess.run([os.path.join(ROOT, "scripts", "build")], stdin=subprocess.DEVNULL).returncode != 0:
                sys.exit("bench/deps: scripts/build failed")
    for p in ("s6-svscan", "s6-supervise", "s6-svscanctl"):
        if not os.access(os.path.join(bindir, p), os.X_OK):
            sys.exit("bench/deps: %s not found in %s (run scripts/build)" % (p, bindir))
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda n, f: (_ for _ in ()).throw(KeyboardInterrupt("signal %d" % n)))
    where = a.dir or (SHM if is_tmpfs(SHM) else None)
    top = os.path.realpath(tempfile.mkdtemp(prefix="merit-bench-deps-", dir=where))
    n = a.chains * a.length
    log("== merit bench: boot in dependency order, %s" % bindir)
    log("   %d cpus, kernel %s; %d services (%d chains of %d), each ready after %d ms; tree on %s (%s)"
        % (os.cpu_count(), os.uname().release, n, a.chains, a.length, a.ready_ms, top,
           "tmpfs" if is_tmpfs(top) else "not a tmpfs"))
    res = {"ordered": [], "unordered": []}
    try:
        for r in range(runs):
            for kind in ("unordered", "ordered") if r % 2 == 0 else ("ordered", "unordered"):
                scan = os.path.join(top, "%s-%d" % (kind, r))
                names = make_tree(scan, a.chains, a.length, a.ready_ms, kind == "ordered")
                boot, cpu = one_boot(bindir, scan, names)
                sweep(top)
                shutil.rmtree(scan, ignore_errors=True)
                log("  run %d %-9s boot %8.1f ms   cpu (scanner + supervisors) %8.1f ms" % (r + 1, kind, boot * 1000, cpu * 1000))
                res[kind].append((boot, cpu))
        med = {k: (statistics.median(b for b, _ in v), statistics.median(c for _, c in v)) for k, v in res.items()}
        rb = med["ordered"][0] / med["unordered"][0]
        rc = med["ordered"][1] / med["unordered"][1]
        log("\n== summary (medians of %d run%s)" % (runs, "" if runs == 1 else "s"))
        log("  boot to all ready: ordered %.1f ms, unordered %.1f ms: ratio %.3f (target <= 1.3) %s"
            % (med["ordered"][0] * 1000, med["unordered"][0] * 1000, rb, "met" if rb <= 1.3 else "NOT met"))
        log("  cpu of scanner + supervisors: ordered %.1f ms, unordered %.1f ms: ratio %.3f (target <= 1.2) %s"
            % (med["ordered"][1] * 1000, med["unordered"][1] * 1000, rc, "met" if rc <= 1.2 else "NOT met"))
        # The machine's speed drifts between runs (a VM shares its host): the ratio within each
        # round (the two kinds back to back) shows how much of the spread is drift.
        pairs = sorted(o[1] / u[1] for o, u in zip(res["ordered"], res["unordered"]))
        log("  cpu ratio of each round (ordered/unordered, back to back): %s" % ", ".join("%.3f" % x for x in pairs))
    except KeyboardInterrupt:
        log("\nbench/deps: interrupted; stopping everything")
    finally:
        sweep(top)
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
