#!/usr/bin/env python3
"""Boot-time benchmark: merit's init and s6-svscan against the real s6, reported, never asserted.

    bench/boot.py [--services N] [--runs R] [--no-qemu] [--no-build]

namespace  PID namespace (unshare --fork --pid --mount --mount-proc), N services (default 20),
           each `#!/bin/sh` + `exec sleep 100000`. The time from starting unshare to the moment
           the last service is up, taken from the services' supervise/status time stamps
           (TAI64N, written by the supervisors when each service started), median over R runs
           (default 5), for:
             s6        the real /usr/bin/s6-svscan as PID 1 over a ready scan directory
             ours      our s6-svscan (dist/bin) as PID 1 over the same scan directory
             init      our init as PID 1: a full boot of a skeleton tree (tmpfs mounts,
                       catch-all logger, rc.init copying the N enabled services)
           Ratios ours/s6 and init/s6 (target <= 1.0). The scan directory of the first two
           lies on a tmpfs, like the one init mounts on /s6.
qemu       A Debian cloud kernel under QEMU (TCG) boots an initramfs with N services:
             merit     our static init and programs (dist/bin)
             mere      Mere Linux's own boot (shared/mere: the execline s6-init, rc.init,
                       s6-svscan-finish, s6-telinit, rc.shutdown) on Debian's real s6 and
                       execline, which are dynamically linked: the libraries ldd names go
                       into the initramfs too
           Reported from the guest's clock: /sbin/init started (the kernel's "Run /sbin/init"
           line), all N services up, shutdown requested, power down; medians over R runs.
           The kernel comes from `apt-get download` (cached in target/qemu, as by
           tests/it/init_qemu.rs); needs qemu-system-x86, busybox-static, s6 and execline.

Everything runs as root. Each namespace's PID 1 is killed by its host pid (after checking that
its parent is our unshare) and the temp folders are removed, also on Ctrl-C.
"""

import argparse
import os
import re
import shutil
import signal
import stat
import statistics
import struct
import subprocess
import sys
import tempfile
import time

from benchlib import child_setup, log

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST = os.environ.get("MERIT_BIN", os.path.join(ROOT, "dist", "bin"))
REAL = os.environ.get("MERIT_REAL_BIN", "/usr/bin")
MERE = os.environ.get("MERE_DIR", os.path.join(os.path.dirname(ROOT), "shared", "mere"))
# skalibs' TAI64 labels are 2^62 + unix seconds + 10, or + 37 when it counts leap seconds (as
# Debian's does); which one is found from the stamps themselves (see ns_run).
TAI_OFFSETS = (37, 10)

tmpdirs = []
mounts = []  # tmpfs mounted by us, unmounted at the end
namespaces = []  # (unshare Popen, pid1)


def cleanup():
    for p, pid1 in namespaces:
        kill_ns(p, pid1)
    namespaces.clear()
    for m in mounts:
        subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
    mounts.clear()
    for d in tmpdirs:
        shutil.rmtree(d, ignore_errors=True)
    tmpdirs.clear()


def ppid_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def kill_ns(p, pid1):
    if pid1 and p.poll() is None and ppid_of(pid1) == p.pid:
        try:
            os.kill(pid1, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def mktemp(tag):
    d = tempfile.mkdtemp(prefix=f"merit-boot-{tag}-")
    tmpdirs.append(d)
    return d


def write_exec(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_ms(x):
    return "n/a" if x != x else f"{x * 1000:7.1f} ms"


# --- PID namespace -----------------------------------------------------------------------------

def read_stamp(status_file):
    """Up-time stamp of a supervise/status file, as unix seconds; None when not up."""
    try:
        with open(status_file, "rb") as f:
            b = f.read()
    except OSError:
        return None
    if len(b) < 35:
        return None
    secs, nano = struct.unpack(">QI", b[:12])
    pid = struct.unpack(">Q", b[24:32])[0]
    if pid == 0:
        return None
    return secs - (1 << 62) + nano / 1e9


def services(dirpath, n):
    names = []
    for i in range(1, n + 1):
        name = f"svc{i:02d}"
        write_exec(os.path.join(dirpath, name, "run"), "#!/bin/sh\nexec sleep 100000\n")
        names.append(name)
    return names


def ns_run(argv, scan_of_pid1, names, timeout=30.0):
    """Starts argv as PID 1 of a new PID namespace; returns seconds from start to all up."""
    t0 = time.time()
    p = subprocess.Popen(["unshare", "--fork", "--pid", "--mount", "--mount-proc",
                          "--propagation", "private"] + argv,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=child_setup,
                         start_new_session=True)
    pid1 = None
    entry = [p, None]
    namespaces.append(entry)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pid1 is None:
                try:
                    with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
                        kids = f.read().split()
                    if kids:
                        pid1 = int(kids[0])
                        entry[1] = pid1
                except OSError:
                    pass
            if pid1 is not None:
                scan = scan_of_pid1(pid1)
                stamps = [read_stamp(os.path.join(scan, n, "supervise", "status")) for n in names]
                if all(s is not None for s in stamps):
                    now = time.time()
                    for off in TAI_OFFSETS:
                        t = max(stamps) - off - t0
                        if 0 <= t <= now - t0 + 0.05:
                            return t
                    return now - t0  # stamps unreadable as time: the moment they were seen
            time.sleep(0.005)
        return None
    finally:
        namespaces.remove(entry)
        kill_ns(p, pid1)


def cgroup_mount():
    """The cgroup2 hierarchy our supervisors would use (as merit_sys::cgroup::find), or None."""
    try:
        with open("/proc/self/mountinfo") as f:
            points = [l.split(" - ")[0].split()[4] for l in f if " - cgroup2 " in l]
    except OSError:
        return None
    for m in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if m in points and os.access(m, os.W_OK):
            return m
    return None


def remove_cgroups(base):
    """Removes our services' cgroups below base (their processes are gone), then base."""
    if not os.path.isdir(base):
        return
    for name in os.listdir(base):
        d = os.path.join(base, name)
        if os.path.isdir(d):
            for _ in range(200):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.01)
    try:
        os.rmdir(base)
    except OSError:
        pass


def bench_namespace(n, runs, cgroup=False):
    log(f"== PID namespace: {n} services (#!/bin/sh + exec sleep 100000), {runs} runs each")
    base = mktemp("ns")
    # On a tmpfs, as init's own /s6 is: the supervisors' mkdir/mkfifo cost the same for all.
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", base],
                      stderr=subprocess.DEVNULL).returncode == 0:
        mounts.append(base)
    else:
        log("  (could not mount a tmpfs: the scan directory of s6 and ours is on " + base + ")")
    scan = os.path.join(base, "scan")
    names = services(scan, n)
    # A full tree for our init: skeleton + the same services, enabled.
    tree = os.path.join(base, "tree")
    subprocess.run([os.path.join(DIST, "init"), "skeleton", tree], check=True)
    for name in names:
        shutil.copytree(os.path.join(scan, name),
                        os.path.join(tree, "etc/s6/services/available", name))
        os.symlink(f"../available/{name}", os.path.join(tree, "etc/s6/services/enabled", name))

    def reset_scan():
        for d in (scan, os.path.join(base, "scan-cgroup")):
            for name in names:
                for sub in ("supervise", "event"):
                    shutil.rmtree(os.path.join(d, name, sub), ignore_errors=True)
            shutil.rmtree(os.path.join(d, ".s6-svscan"), ignore_errors=True)

    # s6-svscan supervises at most 500 services unless told (-c).
    cap = ["-c", str(n + 10)] if n > 490 else []
    variants = [
        ("s6", [os.path.join(REAL, "s6-svscan")] + cap + [scan], lambda pid1: scan),
        ("ours", [os.path.join(DIST, "s6-svscan")] + cap + [scan], lambda pid1: scan),
    ]
    cg_base = None
    if cgroup:
        mount = cgroup_mount()
        if mount is None:
            log("  (--cgroup: no writable cgroup2 hierarchy: no cgroup variant)")
        else:
            # The same services, each with a `cgroup` file, below a cgroup of the benchmark's own.
            cg_scan = os.path.join(base, "scan-cgroup")
            services(cg_scan, n)
            for name in names:
                open(os.path.join(cg_scan, name, "cgroup"), "w").close()
            cg_name = f"merit-bench-{os.getpid()}"
            cg_base = os.path.join(mount, cg_name)
            argv = ["env", f"MERIT_CGROUP_BASE={cg_name}", os.path.join(DIST, "s6-svscan")] + cap + [cg_scan]
            variants.append(("ours+cgroup", argv, lambda pid1: cg_scan))
    variants += [
        ("init", [os.path.join(DIST, "init"), "--root", tree],
         lambda pid1: f"/proc/{pid1}/root{tree}/s6/run"),
    ]
    results = {v[0]: [] for v in variants}
    for r in range(runs):
        for name, argv, scan_of in variants:  # interleaved: same machine load for all
            reset_scan()
            t = ns_run(argv, scan_of, names)
            if cg_base:
                remove_cgroups(cg_base)
            if t is None:
                log(f"  run {r + 1}: {name}: services not up within 30 s")
            else:
                results[name].append(t)
                if os.environ.get("MERIT_BENCH_VERBOSE") == "1":
                    log(f"  run {r + 1}: {name}: {fmt_ms(t)}")
    s6 = median(results["s6"])
    for name, _, _ in variants:
        xs = results[name]
        extra = ""
        if name != "s6" and xs and s6 == s6:
            extra = f"   ratio {name}/s6 {median(xs) / s6:.2f}"
        rng = f"(min {fmt_ms(min(xs)).strip()}, max {fmt_ms(max(xs)).strip()})" if xs else ""
        label = {"s6": "real s6-svscan as PID 1", "ours": "our s6-svscan as PID 1",
                 "ours+cgroup": "ours, a cgroup per service",
                 "init": "our init as PID 1 (full boot)"}[name]
        log(f"  {label:<32} all {n} up after {fmt_ms(median(xs))} {rng}{extra}")
    return results


# --- QEMU --------------------------------------------------------------------------------------

class Cpio:
    """A newc archive: directories, files, symlinks, FIFOs, character devices."""

    def __init__(self):
        self.nodes = {}

    def add(self, path, kind, mode=0o755, data=b"", rdev=(0, 0)):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts)):
            self.nodes.setdefault("/".join(parts[:i]), ("dir", 0o755, b"", (0, 0)))
        self.nodes[path] = (kind, mode, data, rdev)

    def has(self, path):
        return path.strip("/") in self.nodes

    def host_file(self, path, host):
        with open(host, "rb") as f:
            data = f.read()
        self.add(path, "file", os.stat(host).st_mode & 0o7777, data)

    def host_tree(self, path, host):
        st = os.lstat(host)
        mode = st.st_mode & 0o7777
        if stat.S_ISDIR(st.st_mode):
            self.add(path, "dir", mode)
            for e in os.listdir(host):
                self.host_tree(f"{path}/{e}", os.path.join(host, e))
        elif stat.S_ISLNK(st.st_mode):
            self.add(path, "link", 0o777, os.readlink(host).encode())
        elif stat.S_ISFIFO(st.st_mode):
            self.add(path, "fifo", mode)
        else:
            self.host_file(path, host)

    def bytes(self):
        kinds = {"dir": 0o040000, "file": 0o100000, "link": 0o120000, "fifo": 0o010000,
                 "chr": 0o020000}
        out = bytearray()

        def entry(ino, name, mode, nlink, data, rdev):
            fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
                      len(name) + 1, 0]
            out.extend(b"070701" + "".join(f"{x:08x}" for x in fields).encode())
            out.extend(name.encode() + b"\0")
            out.extend(b"\0" * (-len(out) % 4))
            out.extend(data)
            out.extend(b"\0" * (-len(out) % 4))

        for ino, name in enumerate(sorted(self.nodes), 1):
            kind, mode, data, rdev = self.nodes[name]
            entry(ino, name, kinds[kind] | mode, 2 if kind == "dir" else 1, data, rdev)
        entry(len(self.nodes) + 1, "TRAILER!!!", 0, 1, b"", (0, 0))
        return bytes(out)


def ldd(exe):
    try:
        out = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
    except OSError:
        return []
    libs = []
    for line in out.splitlines():
        line = line.strip()
        path = line.split("=>", 1)[1].split()[0] if "=>" in line else (line.split() or [""])[0]
        if path.startswith("/"):
            libs.append(path)
    return libs


def add_busybox(a):
    bb = shutil.which("busybox")
    a.host_file("bin/busybox", bb)
    for applet in subprocess.run([bb, "--list-full"], capture_output=True, text=True).stdout.split():
        base = applet.rsplit("/", 1)[-1]
        if base == "linuxrc" or a.has(applet) or a.has(f"sbin/{base}") or a.has(f"bin/{base}"):
            continue
        a.add(applet, "link", 0o777, b"/bin/busybox")


def add_libs(a, exes):
    libs = set()
    for e in exes:
        libs.update(ldd(e))
    for lib in sorted(libs):
        a.host_file(lib, lib)


def bench_script(names, telinit):
    dirs = " ".join(f"/s6/run/{n}" for n in names)
    return f"""#!/bin/sh
exec >/dev/console 2>&1
dmesg -n 1
until s6-svwait -u -t 1000 {dirs} 2>/dev/null; do sleep 0.01; done
echo "bench: all up at $(cut -d' ' -f1 /proc/uptime)"
sleep 1
echo "bench: shutdown at $(cut -d' ' -f1 /proc/uptime)"
{telinit}
"""


def common_nodes(a, n, nobody):
    for d in ("dev", "proc", "sys", "run", "s6", "tmp", "var/log", "root"):
        a.add(d, "dir", 0o1777 if d == "tmp" else 0o755)
    a.add("dev/console", "chr", 0o600, rdev=(5, 1))
    a.add("dev/null", "chr", 0o666, rdev=(1, 3))
    a.add("etc/hostname", "file", 0o644, b"bench\n")
    a.add("etc/passwd", "file", 0o644,
          f"root:x:0:0::/root:/bin/sh\nnobody:x:{nobody}:{nobody}::/:/bin/false\n".encode())
    a.add("etc/group", "file", 0o644, f"root:x:0:\nnogroup:x:{nobody}:\n".encode())


def image_merit(stage, n):
    a = Cpio()
    common_nodes(a, n, 65534)
    for f in sorted(os.listdir(DIST)):
        p = os.path.join(DIST, f)
        if os.path.islink(p):  # NAME -> merit (the multi-call binary): kept a symlink
            a.add(f"sbin/{f}", "link", 0o777, os.readlink(p).encode())
        else:
            a.host_file(f"sbin/{f}", p)
    for alias in ("telinit", "halt", "poweroff", "reboot"):
        a.add(f"sbin/{alias}", "link", 0o777, b"init")
    add_busybox(a)
    subprocess.run([os.path.join(DIST, "init"), "skeleton", stage], check=True)
    etc = os.path.join(stage, "etc/s6")
    names = services(os.path.join(etc, "services/available"), n)
    for name in names:
        os.symlink(f"../available/{name}", os.path.join(etc, "services/enabled", name))
    with open(os.path.join(etc, "rc.init"), "a") as f:
        f.write("/etc/s6/bench\n")
    write_exec(os.path.join(etc, "bench"), bench_script(names, "telinit 7"))
    a.host_tree("etc/s6", etc)
    return a.bytes()


INSTALL_SH = r"""#!/bin/sh
# install -d [-m MODE] [-o OWNER] [-g GROUP] DIR...: what Mere's scripts use.
mode= owner= group=
while [ $# -gt 0 ]; do
    case "$1" in
        -d) shift ;;
        -m) mode=$2; shift 2 ;;
        -o) owner=$2; shift 2 ;;
        -g) group=$2; shift 2 ;;
        *) break ;;
    esac
done
for d in "$@"; do
    mkdir -p "$d" || exit 1
    [ -z "$owner" ] || chown "$owner" "$d" || exit 1
    [ -z "$group" ] || chgrp "$group" "$d" || exit 1
    [ -z "$mode" ] || chmod "$mode" "$d" || exit 1
done
"""


def image_mere(stage, n):
    a = Cpio()
    common_nodes(a, n, 99)  # Mere's nobody is 99 (s6-svscan-log: s6-applyuidgid -u 99 -g 99)
    exes = []
    # execline where Mere expects it (/bin/execlineb, /bin/export, ...), s6 in /usr/bin (the
    # real s6-svscan runs /usr/bin/s6-supervise).
    for f in sorted(os.listdir("/usr/lib/execline/bin")):
        p = os.path.join("/usr/lib/execline/bin", f)
        a.host_file(f"bin/{f}", p)
        exes.append(p)
    for f in sorted(os.listdir(REAL)):
        if f.startswith("s6-"):
            p = os.path.join(REAL, f)
            a.host_file(f"usr/bin/{f}", p)
            exes.append(p)
    add_libs(a, exes)
    # Debian's busybox-static has no `install` (Mere's s6-init and rc.init use install -d) nor
    # `mountpoint` (rc.init): minimal stand-ins for what they use.
    a.add("bin/install", "file", 0o755, INSTALL_SH.encode())
    a.add("bin/mountpoint", "file", 0o755, b"#!/bin/sh\n[ \"$1\" = -q ] && shift\ngrep -q \" $1 \" /proc/mounts\n")
    add_busybox(a)
    for dst, src in (("sbin/init", "s6-init"), ("sbin/s6-telinit", "s6-telinit")):
        with open(os.path.join(MERE, src), "rb") as f:
            a.add(dst, "file", 0o755, f.read())
    etc = os.path.join(stage, "etc/s6")
    init = os.path.join(etc, "init-services")
    for d in ("env", "services/available", "services/enabled", "init-services/.s6-svscan",
              "init-services/s6-svscan-log"):
        os.makedirs(os.path.join(etc, d), exist_ok=True)
    with open(os.path.join(etc, "env/TZ"), "w") as f:
        f.write("UTC\n")
    shutil.copy(os.path.join(MERE, "rc.init"), os.path.join(etc, "rc.init"))
    shutil.copy(os.path.join(MERE, "rc.shutdown"), os.path.join(etc, "rc.shutdown"))
    shutil.copy(os.path.join(MERE, "s6-svscan-finish"), os.path.join(init, ".s6-svscan/finish"))
    shutil.copy(os.path.join(MERE, "s6-svscan-crash"), os.path.join(init, ".s6-svscan/crash"))
    shutil.copy(os.path.join(MERE, "s6-svscan-log"), os.path.join(init, "s6-svscan-log/run"))
    os.mkfifo(os.path.join(init, "s6-svscan-log/fifo"), 0o600)
    for f in ("rc.init", "rc.shutdown", "init-services/.s6-svscan/finish", "init-services/.s6-svscan/crash",
              "init-services/s6-svscan-log/run"):
        os.chmod(os.path.join(etc, f), 0o750)
    names = services(os.path.join(etc, "services/available"), n)
    for name in names:
        os.symlink(f"../available/{name}", os.path.join(etc, "services/enabled", name))
    with open(os.path.join(etc, "rc.init"), "a") as f:
        f.write("/etc/s6/bench\n")
    write_exec(os.path.join(etc, "bench"), bench_script(names, "s6-telinit 7"))
    a.host_tree("etc/s6", etc)
    return a.bytes()


def kernel():
    k = os.environ.get("MERIT_KERNEL")
    if k:
        return k
    deps = subprocess.run(["apt-cache", "depends", "linux-image-cloud-amd64"],
                          capture_output=True, text=True).stdout
    m = re.search(r"Depends: (linux-image-\S+)", deps)
    if not m:
        raise RuntimeError("apt-cache depends linux-image-cloud-amd64 names no kernel")
    cache = os.path.join(ROOT, "target", "qemu", m.group(1))
    boot = os.path.join(cache, "x", "boot")
    if not os.path.isdir(boot):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["apt-get", "download", "-q", m.group(1)], cwd=cache, check=True,
                       stdout=subprocess.DEVNULL)
        deb = [f for f in os.listdir(cache) if f.endswith(".deb")][0]
        subprocess.run(["dpkg-deb", "-x", os.path.join(cache, deb), os.path.join(cache, "x")],
                       check=True)
        os.remove(os.path.join(cache, deb))
    return os.path.join(boot, [f for f in os.listdir(boot) if f.startswith("vmlinuz-")][0])


def qemu_boot(vmlinuz, initrd, timeout=300):
    t0 = time.monotonic()
    p = subprocess.run(
        ["qemu-system-x86_64", "-accel", "tcg", "-nodefaults", "-display", "none",
         "-serial", "stdio", "-no-reboot", "-m", "512", "-kernel", vmlinuz, "-initrd", initrd,
         "-append", "console=ttyS0 rdinit=/sbin/init panic=-1"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    wall = time.monotonic() - t0
    text = p.stdout.decode(errors="replace")
    marks = {}
    m = re.search(r"\[\s*([\d.]+)\] Run /sbin/init as init process", text)
    if m:
        marks["init"] = float(m.group(1))
    for key, pat in (("up", r"bench: all up at ([\d.]+)"),
                     ("shutdown", r"bench: shutdown at ([\d.]+)")):
        m = re.search(pat, text)
        if m:
            marks[key] = float(m.group(1))
    m = re.search(r"\[\s*([\d.]+)\] reboot: Power down", text)
    if m:
        marks["off"] = float(m.group(1))
    marks["wall"] = wall
    return marks, text


def bench_qemu(n, runs):
    log(f"== QEMU (TCG, 512 MiB, Debian cloud kernel): {n} services, {runs} runs each")
    missing = [t for t in ("qemu-system-x86_64", "busybox", "apt-cache") if not shutil.which(t)]
    if missing:
        log(f"  skipped: {', '.join(missing)} not installed (apt-get install qemu-system-x86 busybox-static)")
        return
    try:
        vmlinuz = kernel()
    except (RuntimeError, subprocess.CalledProcessError, OSError, IndexError) as e:
        log(f"  skipped: no kernel: {e}")
        return
    base = mktemp("qemu")
    images = {}
    images["merit"] = image_merit(os.path.join(base, "merit"), n)
    if os.path.isdir(MERE) and os.path.isfile(os.path.join(REAL, "s6-svscan")) \
            and os.path.isdir("/usr/lib/execline/bin"):
        images["mere"] = image_mere(os.path.join(base, "mere"), n)
    else:
        log(f"  mere: skipped (needs {MERE}, the real s6 in {REAL} and execline)")
    paths = {}
    for k, img in images.items():
        paths[k] = os.path.join(base, f"{k}.cpio")
        with open(paths[k], "wb") as f:
            f.write(img)
    res = {k: [] for k in images}
    for r in range(runs):
        for k in images:
            try:
                marks, text = qemu_boot(vmlinuz, paths[k])
            except subprocess.TimeoutExpired:
                log(f"  run {r + 1}: {k}: QEMU did not exit within 300 s")
                continue
            if not all(x in marks for x in ("init", "up", "shutdown", "off")):
                log(f"  run {r + 1}: {k}: incomplete boot; console tail:")
                for line in text.splitlines()[-15:]:
                    log(f"    | {line}")
                continue
            res[k].append(marks)
    for k, ms in res.items():
        if not ms:
            continue
        up = median([m["up"] - m["init"] for m in ms])
        down = median([m["off"] - m["shutdown"] for m in ms])
        total = median([m["up"] for m in ms])
        wall = median([m["wall"] for m in ms])
        size = len(images[k]) / 1024 / 1024
        log(f"  {k:<6} /sbin/init -> all {n} up {fmt_ms(up)}; kernel start -> all up "
            f"{total:5.2f} s; shutdown -> power down {fmt_ms(down)}; QEMU wall {wall:5.2f} s; "
            f"initramfs {size:.1f} MiB")
    if res.get("merit") and res.get("mere"):
        r_up = median([m["up"] - m["init"] for m in res["merit"]]) / \
            median([m["up"] - m["init"] for m in res["mere"]])
        r_down = median([m["off"] - m["shutdown"] for m in res["merit"]]) / \
            median([m["off"] - m["shutdown"] for m in res["mere"]])
        log(f"  ratio merit/mere: boot (init -> all up) {r_up:.2f}, shutdown {r_down:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--cgroup", action="store_true",
                    help="namespace: also our s6-svscan over the same services with a cgroup file each")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/boot.py: needs root (PID namespaces, QEMU initramfs with /dev/console)")
    if not args.no_build and "MERIT_BIN" not in os.environ:
        subprocess.run([os.path.join(ROOT, "scripts", "build")], check=True,
                       stdout=subprocess.DEVNULL)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        if os.path.isfile(os.path.join(REAL, "s6-svscan")):
            bench_namespace(args.services, args.runs, cgroup=args.cgroup)
        else:
            log(f"== PID namespace: skipped (no real s6 in {REAL}: apt-get install s6)")
        if not args.no_qemu:
            bench_qemu(args.services, max(1, min(args.runs, 3)))
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
