#!/usr/bin/env python3
"""Benchmarks merit's s6-svscan and s6-log against the real s6's, side by side, in one run.

    bench/scan_log.py [--quick] [--rounds N] [--services N] [--mb N] [--build] [--dir DIR]

Uses the static release binaries in dist/bin (runs scripts/build when they are missing, or with
--build). Measured, alternating ours and s6 in each round, medians over the rounds (default 3,
--quick: 1):
  bring-up  N services (default 1000), each `#!/bin/sh` + `exec sleep 100000`, in a scan
            directory made beforehand; the scanner is started with `-c 2016` and timed until
            every supervise/status shows a pid (checked in order, one file at a time, every
            2 ms). Ours: dist/bin/s6-svscan, which runs dist/bin/s6-supervise; s6:
            /usr/bin/s6-svscan, which runs /usr/bin/s6-supervise. Ratio ours/s6 (target <= 0.5).
            The tree lives in /dev/shm when that is a tmpfs (else the temp dir; --dir DIR).
  throughput  `s6-log t n100 s10000000 DIR` with stdin a file of 100-byte lines (default
            200 MB, --mb; made once, in the same temp dir as the logdirs, on the temp dir's
            file system), timed from spawn to exit; speed ratio s6_time/ours_time (target >= 2.0).
            Also the disk's own speed for the same bytes written in 10 MB files (one write and
            one fsync each, like an archive; best of the rounds), and ours as a fraction of it.
  memory    Pss (/proc/PID/smaps_rollup) of s6-svscan over the N-service tree (1 s after
            bring-up), of a lone s6-log idle after 10,000 lines through a pipe, and of s6-log as
            it runs: the loggers of --logged services (default 50) under s6-svscan, 1,000 lines
            each then idle, mean over the loggers; ratio ours/s6 (target <= 0.5). Ours is one
            static multi-call binary (dist/bin/NAME -> merit) whose pages Pss splits between
            every process of the tree; the real ones share libc/libskarnet pages that way.
Binary sizes are printed too. Figures and ratios only, never asserted. Everything is stopped at
the end, also on Ctrl-C/SIGTERM: scanners with s6-svscanctl -t (SIGKILL after 60 s), then any
process whose cwd is in one of our temp folders, by PID; the folders are removed.

Environment: MERIT_BIN=DIR: ours from DIR instead of dist/bin (no build); MERIT_REAL_BIN=DIR: the
real s6 (default /usr/bin).
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

from benchlib import child_setup as _child_setup, children, cwd_of, log, sweep, under

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATUS_SIZE = 35

tmpdirs = []     # every temp folder created
scanners = []    # (Popen, svscanctl, scan dir) of every scanner started
procs = []       # every other Popen (loggers)


# --- processes ---------------------------------------------------------------------------------

def spawn(argv, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(argv, start_new_session=True, preexec_fn=_child_setup, **kw)


def stop_scanner(entry, timeout=60.0):
    p, ctl, scan = entry
    if p.poll() is None:
        subprocess.run([ctl, "-t", scan], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=10, check=False)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if entry in scanners:
        scanners.remove(entry)


def stop_all():
    for e in list(scanners):
        try:
            stop_scanner(e)
        except Exception as ex:   # keep cleaning up
            log("bench: stopping %s: %s" % (e[2], ex))
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    procs.clear()
    for d in tmpdirs:
        sweep(d)
        shutil.rmtree(d, ignore_errors=True)
    tmpdirs.clear()


def _on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def new_tmp(tag, base=None):
    d = os.path.realpath(tempfile.mkdtemp(prefix="merit-bench-%s-" % tag, dir=base))
    tmpdirs.append(d)
    return d


def smaps_kib(pid, key="Pss"):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError("no %s in /proc/%d/smaps_rollup" % (key, pid))


# --- bring-up ----------------------------------------------------------------------------------

def has_pid(svcdir):
    try:
        fd = os.open(svcdir + "/supervise/status", os.O_RDONLY)
    except OSError:
        return False
    try:
        b = os.read(fd, 64)
    finally:
        os.close(fd)
    return len(b) >= STATUS_SIZE and int.from_bytes(b[24:32], "big") != 0


def cpu_seconds(pid):
    """CPU time a live process has used so far, in seconds (0 if it is gone): the first field
    of /proc/PID/schedstat (nanoseconds on a CPU). utime + stime of /proc/PID/stat would not do:
    they are scaled from clock ticks, and a process that ran 1 ms between two ticks gets 0."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def status_pid(svcdir):
    with open(svcdir + "/supervise/status", "rb") as f:
        return int.from_bytes(f.read(64)[24:32], "big")


def bringup(tag, bins, n, base):
    """Returns (seconds until all up, scanner Pss KiB, mean supervisor Pss KiB, CPU seconds of
    the scanner and supervisors, CPU seconds of the services themselves). The CPU times are
    read as soon as every service is up (see cpu_seconds): a service's pid ran its `sh` and then its
    `sleep` (and, before that exec, whatever its supervisor's child did), a supervisor's pid its
    own exec and work."""
    svscan, svscanctl = bins
    root = new_tmp("scan-" + tag, base)
    scan = os.path.join(root, "scan")
    os.mkdir(scan)
    dirs = []
    for i in range(n):
        d = os.path.join(scan, "svc%04d" % i)
        os.mkdir(d)
        with open(d + "/run", "w") as f:
            f.write("#!/bin/sh\nexec sleep 100000\n")
        os.chmod(d + "/run", 0o755)
        dirs.append(d)
    os.sync()
    err = open(os.path.join(root, "err"), "w")
    t0 = time.perf_counter()
    p = spawn([svscan, "-c", "2016", scan], cwd=root, stderr=err)
    entry = (p, svscanctl, scan)
    scanners.append(entry)
    end = t0 + 120
    for d in dirs:
        while not has_pid(d):
            if p.poll() is not None:
                raise RuntimeError("%s s6-svscan exited (%s)" % (tag, p.returncode))
            if time.perf_counter() > end:
                raise RuntimeError("%s: %s not up after 120 s" % (tag, d))
            time.sleep(0.002)
    elapsed = time.perf_counter() - t0
    # At once: the CPU spent inside the bring-up window (reading takes a few tens of ms).
    sups = [c for c in children(p.pid)]
    services = sum(cpu_seconds(status_pid(d)) for d in dirs)
    supervision = cpu_seconds(p.pid) + sum(cpu_seconds(c) for c in sups)
    time.sleep(1.0)
    pss = smaps_kib(p.pid)
    sup_pss = sum(smaps_kib(c) for c in sups) / max(1, len(sups))
    stop_scanner(entry)
    err.close()
    sweep(root)
    shutil.rmtree(root, ignore_errors=True)
    tmpdirs.remove(root)
    return elapsed, pss, sup_pss, supervision, services


# --- s6-log throughput -------------------------------------------------------------------------

LINE = 100


def make_input(path, mb):
    n = mb * 1000 * 1000 // LINE
    pad = b"x" * LINE
    with open(path, "wb") as f:
        chunk = []
        for i in range(n):
            head = b"line %09d " % i
            chunk.append(head + pad[:LINE - 1 - len(head)] + b"\n")
            if len(chunk) == 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))
    return n


def logdir_bytes(d):
    return sum(os.path.getsize(os.path.join(d, e)) for e in os.listdir(d)
               if e == "current" or (e.startswith("@") and len(e) == 27))


def throughput(tag, s6log, tmp, input_path, lines):
    """Returns (wall seconds, cpu seconds)."""
    d = os.path.join(tmp, "log-" + tag)
    with open(input_path, "rb") as stdin:
        t0 = time.perf_counter()
        p = spawn([s6log, "t", "n100", "s10000000", d], cwd=tmp, stdin=stdin)
        procs.append(p)
        _, status, ru = os.wait4(p.pid, 0)
        elapsed = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    procs.remove(p)
    if p.returncode != 0:
        raise RuntimeError("%s s6-log exited %s" % (tag, p.returncode))
    want = lines * (LINE + 26)
    got = logdir_bytes(d)
    if got != want:
        log("  warning: %s logged %d bytes, want %d" % (tag, got, want))
    shutil.rmtree(d)
    return elapsed, ru.ru_utime + ru.ru_stime


def disk_speed(tmp, total):
    """Seconds to write `total` bytes as 10 MB files, one write + fsync each."""
    piece = 10 * 1000 * 1000
    buf = b"x" * piece
    d = os.path.join(tmp, "disk")
    os.mkdir(d)
    t0 = time.perf_counter()
    left, i = total, 0
    while left > 0:
        k = min(piece, left)
        fd = os.open(os.path.join(d, "f%03d" % i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        mv = memoryview(buf)[:k]
        while mv:
            mv = mv[os.write(fd, mv):]
        os.fsync(fd)
        os.close(fd)
        left -= k
        i += 1
    elapsed = time.perf_counter() - t0
    shutil.rmtree(d)
    return elapsed


# --- s6-log memory -----------------------------------------------------------------------------

def logger_pss(tag, s6log, base):
    tmp = new_tmp("logmem-" + tag, base)
    d = os.path.join(tmp, "log")
    r, w = os.pipe()
    p = spawn([s6log, "t", "n100", "s10000000", d], cwd=tmp, stdin=r)
    procs.append(p)
    os.close(r)
    n = 10000
    data = b"".join(b"line %09d %s\n" % (i, b"x" * 84) for i in range(n))
    mv = memoryview(data)
    while mv:
        mv = mv[os.write(w, mv):]
    want = n * (LINE + 26)
    end = time.monotonic() + 30
    while not os.path.exists(d + "/current") or logdir_bytes(d) < want:
        if time.monotonic() > end:
            raise RuntimeError("%s s6-log did not log its input" % tag)
        time.sleep(0.01)
    time.sleep(0.5)
    pss = smaps_kib(p.pid)
    rss = smaps_kib(p.pid, "Rss")
    os.close(w)
    p.wait(timeout=30)
    procs.remove(p)
    sweep(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    tmpdirs.remove(tmp)
    return pss, rss


def logged_tree(tag, d, n, base, lines=1000):
    """s6-log as it runs: the loggers of n logged services under the scanner. Each service prints
    `lines` lines then sleeps; its log/run is `s6-log t n100 s10000000 ./main` (the s6-log of the
    same implementation, by absolute path). Once every logdir has all its lines, + 1 s: returns
    (mean s6-log Pss KiB, mean s6-log Rss KiB, number of loggers, s6-svscan Pss KiB)."""
    root = new_tmp("logtree-" + tag, base)
    scan = os.path.join(root, "scan")
    os.mkdir(scan)
    s6log = os.path.join(d, "s6-log")
    want = sum(len("service line %d\n" % i) + 26 for i in range(lines))
    logdirs = []
    for i in range(n):
        sd = os.path.join(scan, "svc%04d" % i)
        os.makedirs(sd + "/log")
        with open(sd + "/run", "w") as f:
            f.write("#!/bin/sh\nexec 2>&1\ni=0\nwhile [ $i -lt %d ]; do echo \"service line $i\"; i=$((i+1)); done\n"
                    "exec sleep 100000\n" % lines)
        with open(sd + "/log/run", "w") as f:
            f.write("#!/bin/sh\nexec %s t n100 s10000000 ./main\n" % s6log)
        os.chmod(sd + "/run", 0o755)
        os.chmod(sd + "/log/run", 0o755)
        logdirs.append(sd + "/log/main")
    err = open(os.path.join(root, "err"), "w")
    p = spawn([os.path.join(d, "s6-svscan"), "-c", "2016", scan], cwd=root, stderr=err)
    entry = (p, os.path.join(d, "s6-svscanctl"), scan)
    scanners.append(entry)
    end = time.monotonic() + 120
    for ld in logdirs:
        while not os.path.exists(ld + "/current") or logdir_bytes(ld) < want:
            if p.poll() is not None:
                raise RuntimeError("%s s6-svscan exited (%s)" % (tag, p.returncode))
            if time.monotonic() > end:
                raise RuntimeError("%s: %s incomplete after 120 s" % (tag, ld))
            time.sleep(0.01)
    time.sleep(1.0)
    loggers = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % e) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm == "s6-log" and under(cwd_of(int(e)), scan):
            loggers.append(int(e))
    if len(loggers) != n:
        log("  warning: %s: %d s6-log processes in the tree, want %d" % (tag, len(loggers), n))
    pss = sum(smaps_kib(q) for q in loggers) / max(1, len(loggers))
    rss = sum(smaps_kib(q, "Rss") for q in loggers) / max(1, len(loggers))
    scan_pss = smaps_kib(p.pid)
    stop_scanner(entry)
    err.close()
    sweep(root)
    shutil.rmtree(root, ignore_errors=True)
    tmpdirs.remove(root)
    return pss, rss, len(loggers), scan_pss


# --- report ------------------------------------------------------------------------------------

def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 round instead of 3")
    ap.add_argument("--rounds", type=int, help="rounds (default 3)")
    ap.add_argument("--services", type=int, default=1000, help="bring-up: services (1000)")
    ap.add_argument("--mb", type=int, default=200, help="throughput: input size in MB (200)")
    ap.add_argument("--logged", type=int, default=50, help="memory: logged services of the s6-log tree (50)")
    ap.add_argument("--build", action="store_true", help="run scripts/build even if dist/bin exists")
    ap.add_argument("--dir", help="where the scan trees go (default /dev/shm if tmpfs, else $TMPDIR)")
    a = ap.parse_args()
    rounds = a.rounds or (1 if a.quick else 3)

    ours_dir = os.environ.get("MERIT_BIN")
    if ours_dir:
        ours_dir = os.path.abspath(ours_dir)
    else:
        ours_dir = os.path.join(ROOT, "dist", "bin")
        need = any(not os.access(os.path.join(ours_dir, b), os.X_OK)
                   for b in ("s6-svscan", "s6-supervise", "s6-svscanctl", "s6-log"))
        if a.build or need:
            log("== building (scripts/build)")
            r = subprocess.run([os.path.join(ROOT, "scripts", "build")], stdin=subprocess.DEVNULL)
            if r.returncode != 0:
                sys.exit("bench: scripts/build failed")
    real_dir = os.environ.get("MERIT_REAL_BIN", "/usr/bin")
    for b in ("s6-svscan", "s6-supervise", "s6-svscanctl", "s6-log"):
        if not os.access(os.path.join(ours_dir, b), os.X_OK):
            sys.exit("bench: %s/%s not found (run scripts/build)" % (ours_dir, b))
    have_real = all(os.access(os.path.join(real_dir, b), os.X_OK)
                    for b in ("s6-svscan", "s6-supervise", "s6-svscanctl", "s6-log"))
    impls = [("ours", ours_dir)] + ([("s6", real_dir)] if have_real else [])
    base = a.dir
    if base is None and os.path.isdir("/dev/shm"):
        st = os.statvfs("/dev/shm")
        with open("/proc/mounts") as f:
            if any(l.split()[1] == "/dev/shm" and l.split()[2] == "tmpfs" for l in f) \
                    and st.f_bavail * st.f_frsize > 256 * 1024 * 1024:
                base = "/dev/shm"

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    try:
        log("== merit bench scan_log: ours = %s, s6 = %s" % (
            ours_dir, real_dir if have_real else "(not installed: apt-get install s6)"))
        log("   %d cpus, kernel %s, load %s, %d round(s)" % (
            os.cpu_count(), os.uname().release, " ".join("%.2f" % x for x in os.getloadavg()), rounds))

        log("\n== binary sizes")
        for n in ("s6-svscan", "s6-supervise", "s6-svscanctl", "s6-log"):
            p = os.path.join(ours_dir, n)
            rp = os.path.join(real_dir, n)
            extra = ("   (s6: %d bytes, dynamic)" % os.path.getsize(rp)) if have_real else ""
            link = (" (-> %s, shared by all)" % os.readlink(p)) if os.path.islink(p) else ""
            log("  %-14s %9d bytes%s%s" % (n, os.path.getsize(p), link, extra))

        # bring-up + scanner memory
        n = a.services
        log("\n== bring-up: %d services (`exec sleep 100000`), s6-svscan -c 2016 until every status "
            "shows a pid (tree in %s)" % (n, base or tempfile.gettempdir()))
        up = {t: [] for t, _ in impls}
        mem = {t: [] for t, _ in impls}
        supmem = {t: [] for t, _ in impls}
        supcpu = {t: [] for t, _ in impls}
        svccpu = {t: [] for t, _ in impls}
        for r in range(rounds):
            for tag, d in impls:
                t, pss, sp, sc, vc = bringup(tag, (os.path.join(d, "s6-svscan"), os.path.join(d, "s6-svscanctl")), n, base)
                up[tag].append(t)
                mem[tag].append(pss)
                supmem[tag].append(sp)
                supcpu[tag].append(sc)
                svccpu[tag].append(vc)
                log("  round %d %-5s %7.3f s   (s6-svscan Pss %6d KiB, mean s6-supervise Pss %6.1f KiB; "
                    "cpu: supervision %.2f s, services %.2f s)" % (r + 1, tag, t, pss, sp, sc, vc))
        med_up = {t: statistics.median(v) for t, v in up.items()}
        med_mem = {t: statistics.median(v) for t, v in mem.items()}
        med_sup = {t: statistics.median(v) for t, v in supcpu.items()}
        med_svc = {t: statistics.median(v) for t, v in svccpu.items()}
        for tag, _ in impls:
            log("  %-5s median %.3f s   cpu: supervision (scanner + supervisors) %.2f s, the services "
                "themselves %.2f s" % (tag, med_up[tag], med_sup[tag], med_svc[tag]))
        log("  ratio ours/s6 (time): %s   (target <= 0.5)" % ratio(med_up.get("ours"), med_up.get("s6")))
        if "s6" in med_up and "ours" in med_up:
            ncpu = os.cpu_count() or 1
            log("  ratio ours/s6 (cpu of the supervision alone): %s" % ratio(med_sup["ours"], med_sup["s6"]))
            # Every CPU is busy until the end (perf and /proc/stat agree here), and the services'
            # own work done by then must fit in the window too: a supervision that cost nothing
            # would still take that CPU time spread over the CPUs.
            # The smaller of the two services' figures: each includes what its supervisor's child
            # did before the exec (a fork's copy-on-write faults under s6), so they differ a bit.
            svc = min(med_svc["ours"], med_svc["s6"])
            log("  lower bound of the time ratio with a supervision costing nothing: %.2f "
                "(the services' cpu %.2f s over %d CPUs, against s6's %.3f s)" % (
                    svc / ncpu / med_up["s6"], svc, ncpu, med_up["s6"]))

        # s6-log throughput
        tmp = new_tmp("log")
        log("\n== s6-log throughput: `t n100 s10000000 DIR`, stdin a %d MB file of %d-byte lines (%s)" % (
            a.mb, LINE, tmp))
        inp = os.path.join(tmp, "input")
        lines = make_input(inp, a.mb)
        out_bytes = lines * (LINE + 26)
        tp = {t: [] for t, _ in impls}
        cpu = {t: [] for t, _ in impls}
        disk = []
        for r in range(rounds):
            for tag, d in impls:
                t, c = throughput(tag, os.path.join(d, "s6-log"), tmp, inp, lines)
                tp[tag].append(t)
                cpu[tag].append(c)
                log("  round %d %-5s %7.3f s  %7.1f MB/s in  (cpu %.3f s)" % (r + 1, tag, t, a.mb / t, c))
            t = disk_speed(tmp, out_bytes)
            disk.append(t)
            log("  round %d disk  %7.3f s  for %d MB in 10 MB files with an fsync each" % (r + 1, t, out_bytes // 10**6))
        med_tp = {t: statistics.median(v) for t, v in tp.items()}
        med_cpu = {t: statistics.median(v) for t, v in cpu.items()}
        # The disk baseline varies a lot on a VM (host caching): its best run is the disk's speed.
        med_disk = min(disk)
        for tag, _ in impls:
            log("  %-5s median %.3f s (%.1f MB/s of input, cpu %.3f s)" % (tag, med_tp[tag], a.mb / med_tp[tag], med_cpu[tag]))
        log("  disk  best %.3f s (median %.3f s) for the same %d MB of output" % (
            med_disk, statistics.median(disk), out_bytes // 10**6))
        log("  speed ratio s6/ours (time): %s   (target >= 2.0); cpu s6/ours: %s" % (
            ratio(med_tp.get("s6"), med_tp.get("ours")), ratio(med_cpu.get("s6"), med_cpu.get("ours"))))
        log("  ours at %.0f%% of the disk's speed; s6 at %s" % (
            100 * med_disk / med_tp["ours"], ("%.0f%%" % (100 * med_disk / med_tp["s6"])) if "s6" in med_tp else "n/a"))
        os.unlink(inp)

        # s6-log memory
        log("\n== memory: Pss of s6-svscan over the %d-service tree (1 s after bring-up, median), "
            "of s6-log idle after 10,000 lines" % n)
        lmem = {}
        for tag, d in impls:
            pss, rss = logger_pss(tag, os.path.join(d, "s6-log"), base)
            lmem[tag] = pss
            log("  %-5s s6-svscan Pss %6d KiB   s6-log Pss %5d KiB (Rss %5d KiB)" % (tag, med_mem[tag], pss, rss))
        log("  ratio ours/s6: s6-svscan %s, s6-log %s   (target <= 0.5)" % (
            ratio(med_mem.get("ours"), med_mem.get("s6")), ratio(lmem.get("ours"), lmem.get("s6"))))

        # s6-log as it runs: the loggers of a supervised tree
        nl = a.logged
        log("\n== memory: Pss of s6-log as the loggers of %d logged services under s6-svscan "
            "(1,000 lines each, then idle; mean over the loggers, median over the rounds)" % nl)
        tmem = {t: [] for t, _ in impls}
        for r in range(rounds):
            for tag, d in impls:
                pss, rss, k, spss = logged_tree(tag, d, nl, base)
                tmem[tag].append(pss)
                log("  round %d %-5s s6-log Pss %6.1f KiB (Rss %6.1f KiB), %d loggers; s6-svscan Pss %d KiB" % (
                    r + 1, tag, pss, rss, k, spss))
        med_tmem = {t: statistics.median(v) for t, v in tmem.items() if v}
        log("  ratio ours/s6 (s6-log Pss in a tree): %s   (target <= 0.5)" % ratio(med_tmem.get("ours"), med_tmem.get("s6")))

        log("\n== summary")
        log("  bring-up    ours/s6 = %s (target <= 0.5)" % ratio(med_up.get("ours"), med_up.get("s6")))
        log("  throughput  s6/ours = %s (target >= 2.0); ours at %.0f%% of the disk" % (
            ratio(med_tp.get("s6"), med_tp.get("ours")), 100 * med_disk / med_tp["ours"]))
        log("  Pss         s6-svscan ours/s6 = %s, s6-log ours/s6 = %s alone, %s as a tree's loggers (target <= 0.5)" % (
            ratio(med_mem.get("ours"), med_mem.get("s6")), ratio(lmem.get("ours"), lmem.get("s6")),
            ratio(med_tmem.get("ours"), med_tmem.get("s6"))))
    except KeyboardInterrupt:
        log("\nbench: interrupted; stopping everything")
        stop_all()
        sys.exit(130)
    finally:
        stop_all()


if __name__ == "__main__":
    main()
