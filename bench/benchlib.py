"""What merit's benchmark scripts share: child set-up, the sweep of what a run left behind, and
the tmpfs check. Imported by bench/run, boot.py, deps.py, scan_log.py and service.py (they run
as `python3 bench/NAME`, so this folder is on their import path)."""

import os
import signal
import time


def log(msg=""):
    print(msg, flush=True)


def child_setup():
    """preexec_fn: default dispositions and an empty signal mask, whatever we inherited (e.g.
    SIGQUIT ignored by a non-interactive shell); start_new_session gives the child its own
    session."""
    for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM, signal.SIGHUP,
              signal.SIGCHLD):
        signal.signal(s, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def cwd_of(pid):
    try:
        return os.readlink("/proc/%d/cwd" % pid)
    except OSError:
        return None


def children(ppid):
    """The pids of the live (not zombie) children of `ppid`."""
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(")") + 2:].split()
        if len(rest) > 1 and int(rest[1]) == ppid and rest[0] != "Z":
            out.append(int(e))
    return out


def under(path, top):
    return path is not None and (path == top or path.startswith(top + "/"))


def sweep(top, rounds=10):
    """SIGKILLs every process whose cwd is inside `top` (checked just before), never us: what a
    run left behind (services, supervisors) is stopped by PID, never by name."""
    me = os.getpid()
    for _ in range(rounds):
        found = False
        for e in os.listdir("/proc"):
            if not e.isdigit() or int(e) == me:
                continue
            if under(cwd_of(int(e)), top):
                found = True
                try:
                    os.kill(int(e), signal.SIGKILL)
                except OSError:
                    pass
        if not found:
            return
        time.sleep(0.05)


def is_tmpfs(path):
    """Is `path` on a writable tmpfs (longest mount point prefix in /proc/mounts)?"""
    path = os.path.realpath(path)
    best, fstype = "", None
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mnt = parts[1].replace("\\040", " ")
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                    best, fstype = mnt, parts[2]
    except OSError:
        return False
    return fstype == "tmpfs" and os.access(path, os.W_OK)
