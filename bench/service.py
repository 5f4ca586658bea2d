#!/usr/bin/env python3
"""Benchmarks merit's `service` against Mere Linux's s6-service script, side by side, in one run.

    bench/service.py [--quick] [--runs N] [--available N] [--enabled N] [--deps] [--no-build]

Both drive the same tree under a temp root, supervised by the real s6 (s6-svscan and
s6-supervise from /usr/bin): N available services (default 200), M of them enabled, copied into
the scan directory and running (default 100); with --deps every service declares dependencies
(dependencies.d/, chains of 10: each service needs the one before it; the real s6 ignores them,
and `service list` must not read them). Mere's script is ../shared/mere/s6-service
(beside the repository), copied to a temp file with its SCAN_DIR, AVAIL_DIR and ENABL_DIR lines
prefixed by the root; it finds the s6 tools in PATH. Measured, alternating ours and Mere's:
  list    `service list` (table): median wall time per run; ratio ours/Mere (target <= 0.02).
The tree is made in /dev/shm when that is a tmpfs (Mere mounts a tmpfs on /s6; on a disk
file system s6-supervise's own status writes dominate), else in the temp dir (--dir DIR).
  start   `service NAME start` of a supervised, stopped service, until the command exits (ours
          prints OK once the service is up; Mere's sends `u` and returns): median; ratio
          ours/Mere (target <= 0.5). The service is stopped again (s6-svc -wd -d) between runs,
          untimed.
It prints figures and ratios and never asserts on them. Skips (exit 0, with a message) when the
script or the real s6 is missing. Everything is stopped by PID at the end (s6-svscanctl -t, then
SIGKILL of anything left in the temp folder) and the folder is removed.

Environment: MERIT_BIN=DIR: take `service` from DIR instead of dist/bin (implies --no-build);
MERIT_REAL_BIN=DIR: the real s6 (default /usr/bin); MERE_SERVICE=FILE: Mere's script.
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

from benchlib import child_setup as _child_setup, is_tmpfs, log, sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCAN, AVAIL, ENABL = "s6/run", "etc/s6/services/available", "etc/s6/services/enabled"
STATUS_SIZE = 35


def is_up(svcdir):
    try:
        with open(os.path.join(svcdir, "supervise", "status"), "rb") as f:
            b = f.read(STATUS_SIZE)
    except OSError:
        return False
    if len(b) < STATUS_SIZE:
        return False
    pid = int.from_bytes(b[24:32], "big")  # tain stamp, tain readystamp, pid, wstat, flags
    return pid != 0 and not (b[34] & 2)


SHM = "/dev/shm"


def wait_for(cond, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def build_tree(root, available, enabled, deps=False):
    for d in (SCAN, AVAIL, ENABL):
        os.makedirs(os.path.join(root, d))
    names = ["svc%03d" % i for i in range(available)]
    for i, n in enumerate(names):
        d = os.path.join(root, AVAIL, n)
        os.makedirs(d)
        with open(os.path.join(d, "run"), "w") as f:
            f.write("#!/bin/sh\nexec sleep 100000\n")
        os.chmod(os.path.join(d, "run"), 0o755)
        if deps and i % 10:
            os.makedirs(os.path.join(d, "dependencies.d"))
            open(os.path.join(d, "dependencies.d", names[i - 1]), "w").close()
        if i < enabled:
            os.symlink("../available/" + n, os.path.join(root, ENABL, n))
            shutil.copytree(d, os.path.join(root, SCAN, n), symlinks=True)
    return names


def mere_copy(script, root, dest):
    """Mere's script with its three directory variables under `root`."""
    out = []
    seen = set()
    with open(script) as f:
        for line in f:
            for var in ("SCAN_DIR", "AVAIL_DIR", "ENABL_DIR"):
                if line.startswith(var + "=/"):
                    line = "%s=%s%s" % (var, root, line[len(var) + 1:])
                    seen.add(var)
            out.append(line)
    if len(seen) != 3:
        sys.exit("bench: %s: could not find the SCAN_DIR/AVAIL_DIR/ENABL_DIR lines" % script)
    with open(dest, "w") as f:
        f.writelines(out)
    os.chmod(dest, 0o755)


def timed(argv, env):
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit("bench: %s failed (%d): %s %s" % (" ".join(argv), r.returncode, r.stdout.decode(), r.stderr.decode()))
    return dt, r.stdout.decode()


def fmt_ms(s):
    return "%8.2f ms" % (s * 1000)


def summary(tag, v):
    v = sorted(v)
    q = lambda f: v[min(len(v) - 1, int(f * len(v)))]
    log("  %-5s median %s   p10 %s   p90 %s   (%d runs)" % (tag, fmt_ms(statistics.median(v)), fmt_ms(q(0.1)), fmt_ms(q(0.9)), len(v)))
    return statistics.median(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="5 runs of each instead of 20")
    ap.add_argument("--runs", type=int, help="runs per command and implementation (default 20)")
    ap.add_argument("--available", type=int, default=200, help="available services (200)")
    ap.add_argument("--enabled", type=int, default=100, help="of which enabled and running (100)")
    ap.add_argument("--deps", action="store_true",
                    help="every service declares dependencies (chains of 10) in dependencies.d/")
    ap.add_argument("--no-build", action="store_true", help="do not run scripts/build")
    ap.add_argument("--dir", help="where to make the tree (default: /dev/shm when it is a tmpfs, "
                    "as Mere's /s6 is, else the system's temp dir)")
    a = ap.parse_args()
    runs = a.runs or (5 if a.quick else 20)

    mere = os.environ.get("MERE_SERVICE") or os.path.join(os.path.dirname(ROOT), "shared", "mere", "s6-service")
    real_dir = os.environ.get("MERIT_REAL_BIN", "/usr/bin")
    if not os.path.isfile(mere):
        log("bench/service: SKIP: Mere's script not found at %s (set MERE_SERVICE=FILE)" % mere)
        return
    missing = [t for t in ("s6-svscan", "s6-supervise", "s6-svscanctl", "s6-svc", "s6-svok", "s6-svstat")
               if not os.access(os.path.join(real_dir, t), os.X_OK)]
    if missing:
        log("bench/service: SKIP: the real s6 is not installed in %s (missing %s; apt-get install s6)" % (real_dir, " ".join(missing)))
        return

    ours_dir = os.environ.get("MERIT_BIN")
    if ours_dir:
        ours_dir = os.path.abspath(ours_dir)
    else:
        ours_dir = os.path.join(ROOT, "dist", "bin")
        if not a.no_build:
            log("== building (scripts/build)")
            r = subprocess.run([os.path.join(ROOT, "scripts", "build")], stdin=subprocess.DEVNULL)
            if r.returncode != 0:
                sys.exit("bench: scripts/build failed")
    ours = os.path.join(ours_dir, "service")
    if not os.access(ours, os.X_OK):
        sys.exit("bench: %s not found (run scripts/build)" % ours)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda n, f: (_ for _ in ()).throw(KeyboardInterrupt("signal %d" % n)))
    where = a.dir or (SHM if is_tmpfs(SHM) else None)
    top = os.path.realpath(tempfile.mkdtemp(prefix="merit-bench-service-", dir=where))
    scanner = None
    try:
        root = os.path.join(top, "root")
        scan = os.path.join(root, SCAN)
        names = build_tree(root, a.available, a.enabled, a.deps)
        script = os.path.join(top, "s6-service")
        mere_copy(mere, root, script)
        env = dict(os.environ)
        env["PATH"] = real_dir + ":" + env.get("PATH", "/usr/bin:/bin")
        env.pop("MERIT_ROOT", None)
        env["NO_COLOR"] = "1"

        log("== merit bench: service = %s, Mere's script = %s, s6 = %s" % (ours, mere, real_dir))
        log("   %d cpus, kernel %s; %d available services, %d enabled and running under the real s6-svscan%s"
            % (os.cpu_count(), os.uname().release, a.available, a.enabled,
               "; with dependencies (chains of 10)" if a.deps else ""))
        log("   tree in %s (%s)" % (top, "tmpfs" if is_tmpfs(top) else "not a tmpfs: Mere's /s6 is one"))
        # -c: s6-svscan supervises at most 500 services by default.
        scanner = subprocess.Popen([os.path.join(real_dir, "s6-svscan"), "-c", str(2 * a.enabled + 10), scan], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True, preexec_fn=_child_setup)
        if not wait_for(lambda: all(is_up(os.path.join(scan, n)) for n in names[:a.enabled])):
            sys.exit("bench: the services did not come up")

        ours_list = [ours, "--root", root, "list"]
        mere_list = ["sh", script, "list"]
        # Same table but for Mere's word for an unsupervised service.
        o1 = timed(ours_list, env)[1]
        o2 = timed(mere_list, env)[1].replace("unsupervised", "unknown")
        same = [l.split() for l in o1.splitlines()[3:]] == [l.split() for l in o2.splitlines()[3:]]
        log("   list outputs agree (Mere's 'unsupervised' read as 'unknown'): %s" % ("yes" if same else "NO"))
        if not same:
            r1 = [l.split() for l in o1.splitlines()[3:]]
            r2 = [l.split() for l in o2.splitlines()[3:]]
            for x, y in zip(r1, r2):
                if x != y:
                    st = subprocess.run([os.path.join(real_dir, "s6-svstat"), os.path.join(scan, x[0])],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode().strip()
                    log("     ours %s, Mere %s; s6-svstat now: %s" % (" ".join(x), " ".join(y), st))

        log("\n== service list (%d services)" % a.available)
        res = {"ours": [], "Mere": []}
        for _ in range(runs):
            res["ours"].append(timed(ours_list, env)[0])
            res["Mere"].append(timed(mere_list, env)[0])
        m_list = {k: summary(k, v) for k, v in res.items()}
        r_list = m_list["ours"] / m_list["Mere"]
        log("  ratio ours/Mere (median): %.4f   (target <= 0.02)" % r_list)

        svc = names[0]
        svcdir = os.path.join(scan, svc)
        svc_cmd = os.path.join(real_dir, "s6-svc")
        log("\n== service %s start (supervised and stopped -> command exits)" % svc)
        res = {"ours": [], "Mere": []}
        for _ in range(runs):
            for tag, argv in (("ours", [ours, "--root", root, svc, "start"]), ("Mere", ["sh", script, "start", svc])):
                subprocess.run([svc_cmd, "-wd", "-d", "-T", "10000", svcdir], check=True)
                dt, out = timed(argv, env)
                if not out.endswith("OK\n"):
                    sys.exit("bench: %s: %r" % (tag, out))
                res[tag].append(dt)
                if not wait_for(lambda: is_up(svcdir), 10):
                    sys.exit("bench: %s did not come up after %s's start" % (svc, tag))
        m_start = {k: summary(k, v) for k, v in res.items()}
        r_start = m_start["ours"] / m_start["Mere"]
        log("  ratio ours/Mere (median): %.4f   (target <= 0.5)" % r_start)

        log("\n== summary")
        log("  list   ours/Mere = %.4f (target <= 0.02)  %s" % (r_list, "met" if r_list <= 0.02 else "NOT met"))
        log("  start  ours/Mere = %.4f (target <= 0.5)   %s" % (r_start, "met" if r_start <= 0.5 else "NOT met"))
    except KeyboardInterrupt:
        log("\nbench/service: interrupted; stopping everything")
    finally:
        if scanner is not None and scanner.poll() is None:
            subprocess.run([os.path.join(real_dir, "s6-svscanctl"), "-t", os.path.join(top, "root", SCAN)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                scanner.wait(timeout=20)
            except subprocess.TimeoutExpired:
                scanner.kill()
                scanner.wait()
        sweep(top)
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
