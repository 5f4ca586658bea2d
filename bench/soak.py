#!/usr/bin/env python3
"""Soak: a tree of N services, K of them crash-looping, left running for M minutes under our
s6-svscan and then under the real one, with the same measures for both.

    bench/soak.py [--minutes M] [--services N] [--crashing K] [--quick] [--only ours|s6]

Defaults: M=10, N=1000, K=200 (--quick: M=1, N=200, K=40). The tree lives in /dev/shm when that
is a tmpfs (else the temp dir). Healthy services are `#!/bin/sh` + `exec sleep 100000`; the
crash-looping ones exit 1 at once, so their supervisor restarts them once a second (s6's
throttle). Measured over the window, after everything is up:
  cpu        CPU of the scanner, the supervisors and (through the supervisors' reaped-children
             counters, cutime+cstime) the crash-looping runs, as cores on average; limit < 1.
  restarts   the shortest time between two deaths of a crash-looping service, from each one's
             supervise/death_tally; limit >= 0.99 s (the 1 s throttle, less the clock's jitter).
  healthy    healthy services whose pid changed; limit 0.
  memory     RSS (KiB) of the scanner and the sum over the supervisors, and the largest
             descriptor count of the scanner and of any supervisor, sampled every minute (every
             10 s with --quick): first and last sample; limit: flat (last <= first + 5%, fds equal).
Figures only, never asserted by CI; the last line says whether ours met every limit.
Uses dist/bin (scripts/build first when it is missing); MERIT_BIN / MERIT_REAL_BIN as in
bench/scan_log.py. Everything is stopped at the end, also on Ctrl-C.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scan_log as common  # noqa: E402  (processes, temp folders, cleanup)

TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return s[s.rfind(")") + 2:].split()


def cpu_ticks(pid):
    """utime + stime + cutime + cstime: the process and the children it has reaped."""
    try:
        f = stat_fields(pid)
        return sum(int(x) for x in f[11:15])
    except (OSError, ValueError, IndexError):
        return 0


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


def death_times(svcdir):
    """TAI64N stamps (seconds, as floats) of the deaths in supervise/death_tally (the last 100:
    s6's default max-death-tally)."""
    try:
        with open(svcdir + "/supervise/death_tally", "rb") as f:
            b = f.read()
    except OSError:
        return []
    out = []
    for i in range(0, len(b) - len(b) % 14, 14):  # TAI64N (12 bytes), exit code, signal
        secs = int.from_bytes(b[i:i + 8], "big") - (1 << 62)  # small enough for a float
        nano = int.from_bytes(b[i + 8:i + 12], "big")
        out.append(secs + nano / 1e9)
    return out


def make_tree(base, n, k):
    scan = os.path.join(common.new_tmp("soak", base), "scan")
    os.mkdir(scan)
    for i in range(n):
        d = os.path.join(scan, "s%04d" % i)
        os.mkdir(d)
        body = "exit 1\n" if i < k else "exec sleep 100000\n"
        with open(d + "/run", "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(d + "/run", 0o755)
    return scan


def sample(scanner_pid):
    sups = common.children(scanner_pid)
    return {
        "scanner_rss": rss_kib(scanner_pid),
        "sup_rss": sum(rss_kib(p) for p in sups),
        "scanner_fds": fd_count(scanner_pid),
        "sup_fds": max((fd_count(p) for p in sups), default=0),
        "sups": len(sups),
    }


def soak(tag, bins, args, base):
    scan = make_tree(base, args.services, args.crashing)
    p = common.spawn([bins + "/s6-svscan", "-c", str(args.services * 2 + 16), scan], cwd=scan)
    common.scanners.append((p, bins + "/s6-svscanctl", scan))
    healthy = [os.path.join(scan, "s%04d" % i) for i in range(args.crashing, args.services)]
    deadline = time.time() + 120
    while time.time() < deadline and not all(common.has_pid(d) for d in healthy):
        time.sleep(0.2)
    first_pids = {d: common.status_pid(d) for d in healthy}
    time.sleep(2)  # the crash loops in their rhythm
    procs = [p.pid] + common.children(p.pid)
    cpu0 = sum(cpu_ticks(q) for q in procs)
    t0 = time.time()
    samples = [sample(p.pid)]
    every = 10 if args.quick else 60
    end = t0 + args.minutes * 60
    while time.time() < end:
        time.sleep(min(every, max(0, end - time.time())))
        samples.append(sample(p.pid))
    procs = [p.pid] + common.children(p.pid)
    cpu1 = sum(cpu_ticks(q) for q in procs)
    secs = time.time() - t0
    cores = (cpu1 - cpu0) / TICK / secs
    gaps = []
    for i in range(args.crashing):
        t = death_times(os.path.join(scan, "s%04d" % i))
        gaps += [b - a for a, b in zip(t, t[1:])]
    min_gap = min(gaps) if gaps else float("nan")
    changed = sum(1 for d in healthy if common.status_pid(d) != first_pids[d])
    common.stop_scanner(common.scanners[-1])
    a, z = samples[0], samples[-1]
    res = {
        "cores": cores, "min_gap": min_gap, "deaths": len(gaps) + args.crashing if gaps else 0,
        "changed": changed,
        "scanner_rss": (a["scanner_rss"], z["scanner_rss"]), "sup_rss": (a["sup_rss"], z["sup_rss"]),
        "scanner_fds": (a["scanner_fds"], z["scanner_fds"]), "sup_fds": (a["sup_fds"], z["sup_fds"]),
        "sups": (a["sups"], z["sups"]), "samples": len(samples), "secs": secs,
    }
    common.log("%-4s %.0f s: cpu %.3f cores; %d deaths recorded, min gap %.3f s; healthy restarted %d; "
               "scanner RSS %d -> %d KiB, supervisors RSS %d -> %d KiB (%d -> %d of them); "
               "fds scanner %d -> %d, max per supervisor %d -> %d"
               % (tag, secs, cores, res["deaths"], min_gap, changed, *res["scanner_rss"], *res["sup_rss"],
                  *res["sups"], *res["scanner_fds"], *res["sup_fds"]))
    return res


def verdict(r):
    flat = lambda ab, slack: ab[1] <= ab[0] * (1 + slack) + 8  # noqa: E731
    checks = {
        "cpu < 1 core": r["cores"] < 1.0,
        "restarts >= 0.99 s apart": r["min_gap"] >= 0.99,
        "healthy never restarted": r["changed"] == 0,
        "scanner RSS flat": flat(r["scanner_rss"], 0.05),
        "supervisors RSS flat": flat(r["sup_rss"], 0.05),
        "fds flat": r["scanner_fds"][1] == r["scanner_fds"][0] and r["sup_fds"][1] == r["sup_fds"][0],
    }
    return checks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--services", type=int)
    ap.add_argument("--crashing", type=int)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=["ours", "s6"])
    args = ap.parse_args()
    q = args.quick
    args.minutes = args.minutes if args.minutes is not None else (1 if q else 10)
    args.services = args.services or (200 if q else 1000)
    args.crashing = args.crashing if args.crashing is not None else (40 if q else 200)
    ours = os.environ.get("MERIT_BIN") or os.path.join(common.ROOT, "dist/bin")
    real = os.environ.get("MERIT_REAL_BIN", "/usr/bin")
    if not os.environ.get("MERIT_BIN") and not os.path.exists(ours + "/s6-svscan"):
        subprocess.run([os.path.join(common.ROOT, "scripts/build")], check=True)
    base = "/dev/shm" if os.path.ismount("/dev/shm") else None
    signal.signal(signal.SIGTERM, common._on_signal)
    common.log("soak: %d services, %d crash-looping, %g min each" % (args.services, args.crashing, args.minutes))
    results = {}
    try:
        if args.only != "s6":
            results["ours"] = soak("ours", ours, args, base)
        if args.only != "ours" and os.path.exists(real + "/s6-svscan"):
            results["s6"] = soak("s6", real, args, base)
    finally:
        common.stop_all()
    for tag, r in results.items():
        checks = verdict(r)
        bad = [k for k, ok in checks.items() if not ok]
        common.log("%-4s limits: %s" % (tag, "all met" if not bad else "NOT met: " + ", ".join(bad)))


if __name__ == "__main__":
    main()
