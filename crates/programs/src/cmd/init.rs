//! merit's `init`: stage 1 of a Mere-style boot, the shutdown stages, and `telinit`.
//!
//! ```text
//! init [--root DIR] [--container] [--log-stdout] [--grace SECONDS]   stage 1 (PID 1)
//! telinit 0|6|7 ; halt ; poweroff ; reboot          request a shutdown (also: init telinit N)
//! init copy-enabled       copy every enabled service into the scan directory, then rescan
//! init skeleton DESTDIR   lay out DESTDIR/etc/s6 (rc.init, rc.shutdown, init-services, ...)
//! init shutdown ACTION    the orderly teardown (run by the scanner's signal scripts)
//! init finish             the last stage (the scanner's .s6-svscan/finish)
//! init crash              no scanner: PID 1 stays up (the scanner's .s6-svscan/crash)
//! init main-finish CODE SIG DIR   finish wrapper of a container's main service
//! ```
//!
//! How a shutdown travels: `telinit` writes the action into `/s6/run/.shutdown` and sends PID 1
//! a signal that names it (SIGUSR2 halt, SIGUSR1 poweroff, SIGINT reboot; SIGTERM means
//! "stop" in a container and poweroff otherwise). Stage 1 blocks those signals before anything
//! else and keeps them blocked across the exec of `s6-svscan`, so a request made before the
//! scanner listens stays pending and is acted upon as soon as it does. The scanner runs
//! `.s6-svscan/SIG*`, which runs `init shutdown ACTION`: services are brought down (each within
//! its `timeout-kill`, and all within the grace period, after which they are SIGKILLed), their
//! loggers drain their pipes and exit, then the catch-all logger; the scanner then execs
//! `.s6-svscan/finish` = `init finish`, which runs `/etc/s6/rc.shutdown ACTION`, TERMs then KILLs
//! what remains, syncs, unmounts, and calls reboot(2) (in a container: exits with the main
//! service's code).
//!
//! Under a root prefix (`--root DIR` or `MERIT_ROOT`), every path lives under DIR (init neither
//! chroots nor pivots) and `MERIT_ROOT` is exported to everything it starts.
//!
//! Container mode (`--container`, `MERIT_CONTAINER=1`, or PID 1 with `container` in the
//! environment or a `/.dockerenv` or `/run/.containerenv` under the root): no mounts; SIGTERM
//! means "stop"; a service with a `merit-main` file gets a `finish` wrapper (`init main-finish`)
//! that records its exit code and stops the container, whose exit status it becomes (a shutdown
//! already under way keeps 0). `--log-stdout`: no catch-all logger, output stays on init's stdout.
//!
//! Robustness rules: PID 1 never panics nor exits, whatever its argv and environment: as PID 1
//! every word of its command line but its options is ignored with a warning (`finish` and
//! `crash` aside, once stage 1 has run); without a scanner it stays up, reaping, with a shell on
//! a terminal console, and still shuts down on request (`init crash`). Stage 1 never panics
//! (its stderr may be a FIFO without a reader: messages go to the console descriptor it keeps);
//! what it starts inherits no descriptor but 0-2 and no ignored signal; a missing or unrunnable `rc.init` is replaced by the
//! built-in `init copy-enabled`; state left in `/run/merit` by an earlier boot is removed; the
//! scripts call `"$MERIT_INIT"` (the path of our `init`, exported: the `init` link beside the
//! multi-call binary, never `merit` itself) since a busybox shell may prefer its
//! own `init` applet.

use crate::svdir;
use crate::tree::{self, Tree};
use merit_sys::signal;
use merit_sys::system::{self, RebootAction};
use std::ffi::CString;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

const PATH: &str = "/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin";
/// The signals stage 1 blocks so that they reach the scanner (37: SIGRTMIN+3, podman's stop
/// signal for `/sbin/init`).
const HELD: [i32; 12] = [1, 2, 3, 6, 10, 12, 14, 15, 17, 28, 30, 37];
/// Owner of /s6/uncaught-logs where the booted system has no `nobody` user or `nogroup` group.
const NOBODY: u32 = 65534;

/// The uid of `nobody` and the gid of `nogroup` in the booted system's /etc/passwd and
/// /etc/group (under the root prefix), [`NOBODY`] for whichever is absent.
fn nobody_ids(l: &Layout) -> (u32, u32) {
    let passwd = std::fs::read(l.p("/etc/passwd")).unwrap_or_default();
    let group = std::fs::read(l.p("/etc/group")).unwrap_or_default();
    (
        merit_core::accounts::uid(&passwd, b"nobody").unwrap_or(NOBODY),
        merit_core::accounts::gid(&group, b"nogroup").unwrap_or(NOBODY),
    )
}

/// The console as stage 1 keeps it for the scanner (`-X`): once stdout and stderr point at the
/// catch-all logger's FIFO, whose reader may not run yet, stage 1 speaks there instead.
static CONSOLE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// A description of our own of the console when it is a terminal, non-blocking, for [`say`]:
/// a console stopped by flow control (Ctrl-S, a serial line's XOFF) must not stop PID 1 (its
/// reaping, its shutdown); the message is lost instead.
static SAY_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// Says something on stderr (or stage 1's console), never failing: PID 1 must not panic on
/// EPIPE or a closed descriptor, nor block on a stopped terminal.
fn say(msg: &str) {
    let line = format!("init: {msg}\n");
    let fd =
        match (SAY_FD.load(std::sync::atomic::Ordering::Relaxed), CONSOLE.load(std::sync::atomic::Ordering::Relaxed)) {
            (-1, -1) => 2,
            (-1, c) => c,
            (s, _) => {
                // A terminal merely busy (a slow serial line) drains: wait a little for it.
                let deadline = std::time::Instant::now() + Duration::from_millis(500);
                let mut rest = line.as_bytes();
                while !rest.is_empty() {
                    match merit_sys::fd::write(s, rest) {
                        Ok(0) => break,
                        Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock && std::time::Instant::now() < deadline =>
                        {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                return;
            }
        };
    // Never blocking (a full catch-all FIFO, say): the one diagnostics path of every program.
    merit_sys::fd::write_diag(fd, line.as_bytes());
}

/// Points [`say`] at a non-blocking description of `fd` when `fd` is a terminal (reopened
/// through /proc, so that the flag is ours alone: the scanner and rc.init keep blocking
/// writes). Close-on-exec.
fn say_without_blocking(fd: i32) {
    use merit_sys::flags::*;
    if !system::isatty(fd) {
        return;
    }
    let path = PathBuf::from(format!("/proc/self/fd/{fd}"));
    if let Ok(f) = merit_sys::fd::open(&path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0) {
        let old = SAY_FD.swap(f.into_raw_fd(), std::sync::atomic::Ordering::Relaxed);
        if old >= 0 {
            merit_sys::fd::close(old);
        }
    }
}

/// Where everything is, under the root prefix.
struct Layout {
    root: PathBuf,
}

impl Layout {
    fn from_env(flag: Option<PathBuf>) -> Layout {
        let root = flag.or_else(|| std::env::var_os("MERIT_ROOT").map(PathBuf::from)).unwrap_or_default();
        Layout { root }
    }
    fn p(&self, abs: &str) -> PathBuf {
        tree::under(&self.root, Path::new(abs))
    }
    fn scan(&self) -> PathBuf {
        self.p("/s6/run")
    }
    fn state(&self) -> PathBuf {
        self.p("/run/merit")
    }
    fn tree(&self) -> Tree {
        Tree::new(
            &self.root,
            Path::new(tree::DEFAULT_SCAN),
            Path::new(tree::DEFAULT_AVAILABLE),
            Path::new(tree::DEFAULT_ENABLED),
        )
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn grace_ms() -> u64 {
    std::env::var("MERIT_GRACE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map_or(10_000, |s| (s * 1000.0) as u64)
}

/// Our own directory, so that our programs come first on PATH (that of `/proc/self/exe`, which
/// is the multi-call binary `merit` when we were started through the link `init -> merit`).
fn own_dir() -> Option<PathBuf> {
    crate::exe::dir()
}

pub fn main() {
    let args: Vec<String> = merit_sys::startup::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    if merit_sys::getpid() == 1 {
        pid1_main(&args);
    }
    let prog = args.first().map(|a| a.rsplit('/').next().unwrap_or(a).to_string()).unwrap_or_default();
    let rest = args.get(1..).unwrap_or(&[]);
    match prog.as_str() {
        "telinit" => std::process::exit(telinit(args.get(1).map(String::as_str), &args)),
        "halt" => std::process::exit(telinit(Some("0"), &args)),
        "reboot" => std::process::exit(telinit(Some("6"), &args)),
        "poweroff" => std::process::exit(telinit(Some("7"), &args)),
        _ => {}
    }
    match args.get(1).map(String::as_str) {
        Some("telinit") => std::process::exit(telinit(args.get(2).map(String::as_str), rest)),
        Some("copy-enabled") => std::process::exit(copy_enabled()),
        Some("skeleton") => match args.get(2) {
            Some(d) => match crate::skeleton::lay_out(Path::new(d)) {
                Ok(()) => std::process::exit(0),
                Err(e) => {
                    say(&format!("unable to lay out {d}/etc/s6: {e}"));
                    std::process::exit(111)
                }
            },
            None => usage(),
        },
        Some("shutdown") => std::process::exit(shutdown(args.get(2).map(String::as_str).unwrap_or("poweroff"))),
        Some("finish") => finish(),
        Some("crash") => crash_fallback(&Layout::from_env(None), "s6-svscan crashed"),
        Some("main-finish") => std::process::exit(main_finish(args.get(2..).unwrap_or(&[]))),
        _ => stage1(rest),
    }
}

/// As PID 1, whatever argv and environment the kernel or a container runtime hands us, we
/// boot (and never exit): the subcommands are for an init run outside PID 1, and a word of
/// the kernel command line (`single`, `shutdown`...) is only a warning. Two exceptions, the
/// stages that PID 1 execs into itself: `finish` (the scanner's `.s6-svscan/finish`) and
/// `crash` (its `.s6-svscan/crash`), honoured only when stage 1 has run, i.e. when its
/// `MERIT_INIT` is in the environment (a kernel command line only sets it on purpose).
fn pid1_main(args: &[String]) -> ! {
    let staged = std::env::var_os("MERIT_INIT").is_some();
    match args.get(1).map(String::as_str) {
        Some("finish") if staged => finish(),
        Some("crash") if staged => crash_fallback(&Layout::from_env(None), "s6-svscan crashed"),
        _ => stage1(args.get(1..).unwrap_or(&[])),
    }
}

fn usage() -> ! {
    say("usage: init [--root DIR] [--container] [--log-stdout] [--grace SECONDS]");
    say("usage: init telinit 0|6|7 | copy-enabled | skeleton DESTDIR | shutdown ACTION | finish");
    std::process::exit(100)
}

// ---------------------------------------------------------------------------------------------
// telinit

fn telinit(arg: Option<&str>, _args: &[String]) -> i32 {
    let (action, sig) = match arg {
        Some("0") => ("halt", signal::SIGUSR2),
        Some("6") => ("reboot", signal::SIGINT),
        Some("7") => ("poweroff", signal::SIGUSR1),
        other => {
            println!("Unsupported signal: {}", other.unwrap_or(""));
            return 1;
        }
    };
    let l = Layout::from_env(None);
    // Kept for rc.shutdown (best effort: /s6 may not be mounted yet; the signal carries the
    // action anyway).
    let _ = std::fs::write(l.scan().join(".shutdown"), format!("{action}\n"));
    let pid = target_pid(&l);
    if pid == 0 {
        crate::msg::say(&[format!("telinit: no init running under {}", l.root.display()).as_bytes()]);
        return 111;
    }
    if let Err(e) = signal::kill(pid, sig) {
        crate::msg::say(&[
            format!("telinit: unable to signal init (pid {pid}): {}", merit_sys::strerror(&e)).as_bytes()
        ]);
        return 111;
    }
    0
}

/// PID 1, or under a root prefix the pid that stage 1 recorded, once checked to still be a
/// merit init or s6-svscan working in that root's scan directory. Under a root prefix there
/// is no fallback to PID 1: a recorded pid may be PID 1 *of a namespace*, and the same number
/// seen from outside it is the host's init, which must never receive a shutdown signal meant
/// for a system in a folder.
fn target_pid(l: &Layout) -> i32 {
    if l.root.as_os_str().is_empty() {
        return 1;
    }
    let recorded = std::fs::read_to_string(l.state().join("pid")).ok().and_then(|s| s.trim().parse::<i32>().ok());
    match recorded {
        Some(p) if p > 0 && is_our_init(p, &l.scan()) => p,
        _ => 0,
    }
}

/// `pid` runs our init (or the scanner it became) with `scan` as its working directory.
fn is_our_init(pid: i32, scan: &Path) -> bool {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
    matches!(comm.trim(), "init" | "s6-svscan") && cwd.is_some() && cwd == scan.canonicalize().ok()
}

// ---------------------------------------------------------------------------------------------
// stage 1

struct Stage1 {
    layout: Layout,
    container: bool,
    log_stdout: bool,
}

fn stage1(args: &[String]) -> ! {
    let mut root = None;
    let mut container = env_flag("MERIT_CONTAINER");
    let mut log_stdout = env_flag("MERIT_LOG_STDOUT");
    let pid1 = merit_sys::getpid() == 1;
    // As PID 1 nothing on the command line may stop the boot (see pid1_main): what is not
    // ours is ignored, with a warning.
    let missing = |flag: &str| -> Option<String> {
        if !pid1 {
            usage();
        }
        say(&format!("warning: {flag} without a value: ignored"));
        None
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--root" => {
                if let Some(r) = it.next().cloned().or_else(|| missing("--root")) {
                    root = Some(PathBuf::from(r));
                }
            }
            "--container" => container = true,
            "--log-stdout" => log_stdout = true,
            "--grace" => {
                if let Some(g) = it.next().cloned().or_else(|| missing("--grace")) {
                    std::env::set_var("MERIT_GRACE", g);
                }
            }
            "telinit" | "copy-enabled" | "skeleton" | "shutdown" | "finish" | "crash" | "main-finish" => {
                say(&format!("warning: ignoring the argument {a:?}: as process 1, init only boots"));
            }
            // The kernel passes the command-line words it does not know to init.
            _ => say(&format!("warning: ignoring the argument {a:?}")),
        }
    }
    // Hold the shutdown signals from the very start: a telinit before the scanner listens
    // stays pending across the exec.
    signal::block(&HELD);
    // Descriptors we were given beyond 0-2 (by a test harness, a container runtime) are not
    // for what we start.
    system::cloexec_from(3);
    // Nor are the signals our launcher ignored: everything we start gets default dispositions
    // (SIGPIPE aside, ignored below for stage 1 itself and set back for rc.init).
    signal::default_all();
    let layout = Layout::from_env(root);
    // Detected only as PID 1: a shell in a container (where /.dockerenv exists) is not a
    // container's init. Under `docker run --init`, say --container (or MERIT_CONTAINER=1).
    let container = container || (pid1 && system::in_container(&layout.root));
    if !pid1 && layout.root.as_os_str().is_empty() && !container {
        // Stage 1 mounts tmpfs over /run and /s6: on a running system that would hide the
        // real ones. Outside PID 1 it only runs in a folder or as a container's init.
        say("fatal: not process 1: run me as the system's init, or with --root DIR (or MERIT_ROOT) for a system in a folder, or with --container");
        std::process::exit(100);
    }
    // Until the catch-all logger opens its FIFO, our stdout and stderr (and those of rc.init,
    // which inherits this) are a FIFO without a reader: an early write must fail with EPIPE,
    // not kill the writer. The scanner sets its own SIGPIPE handler; services get the default.
    let _ = signal::ignore(signal::SIGPIPE);
    let s = Stage1 { layout, container, log_stdout };
    let _ = merit_sys::process::setsid();
    let _ = std::env::set_current_dir("/");
    merit_sys::umask(0o022);
    s.run()
}

impl Stage1 {
    fn run(&self) -> ! {
        let l = &self.layout;
        self.refuse_second_init();
        if self.container {
            for d in ["/s6", "/run"] {
                if let Err(e) = std::fs::create_dir_all(l.p(d)) {
                    say(&format!("unable to create {}: {e}", l.p(d).display()));
                }
            }
        } else {
            self.mount_tmpfs("/run");
            if !self.mount_tmpfs("/s6") {
                self.crash("unable to mount a tmpfs on /s6");
            }
            self.mount_api("proc", "/proc", "proc", None);
            self.mount_api("sysfs", "/sys", "sysfs", None);
            self.mount_api("devtmpfs", "/dev", "devtmpfs", Some("mode=0755"));
            self.mount_api("devpts", "/dev/pts", "devpts", Some("gid=5,mode=620"));
            self.mount_api("tmpfs", "/dev/shm", "tmpfs", Some("mode=1777"));
            if merit_sys::getpid() == 1 && self.layout.root.as_os_str().is_empty() {
                // Ctrl-Alt-Del: SIGINT to us (held for the scanner: an orderly reboot).
                let _ = system::ctrl_alt_del_to_sigint();
            }
        }
        // Without /dev/console in the initramfs the kernel started us with no descriptors:
        // now that /dev is mounted, give 0-2 the console (or /dev/null).
        console_stdio(&l.p("/dev/console"));
        say_without_blocking(2);
        // /s6/run from /etc/s6/init-services.
        let scan = l.scan();
        if scan.exists() {
            let _ = std::fs::remove_dir_all(&scan);
        }
        if let Err(e) = tree::copy_tree(&l.p("/etc/s6/init-services"), &scan, true) {
            say(&format!("unable to copy {} to {}: {e}", l.p("/etc/s6/init-services").display(), scan.display()));
            if std::fs::create_dir_all(&scan).is_err() {
                self.crash("no scan directory");
            }
        }
        if self.log_stdout {
            let _ = std::fs::remove_dir_all(scan.join("s6-svscan-log"));
        }
        // `install -m 2700 -o nobody -g nogroup -d /s6/uncaught-logs`, as Mere's s6-init does:
        // the catch-all logger runs as the booted system's nobody (99 on Mere, 65534 on
        // Debian). mkdir(2) cannot set the setgid bit and chown(2) clears it: chmod comes last.
        let uncaught = l.p("/s6/uncaught-logs");
        let (uid, gid) = nobody_ids(l);
        use std::os::unix::fs::DirBuilderExt;
        let made = match std::fs::DirBuilder::new().mode(0o700).create(&uncaught) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
            _ => {
                merit_sys::chown(&uncaught, Some(uid), Some(gid)).and_then(|()| merit_sys::fs::chmod(&uncaught, 0o2700))
            }
        };
        if let Err(e) = made {
            say(&format!("unable to set up {}: {e}", uncaught.display()));
        }
        // No /etc/hostname: keep the kernel's.
        if let Ok(h) = std::fs::read_to_string(l.p("/etc/hostname")) {
            {
                let h = h.lines().next().unwrap_or("").trim();
                // A container runtime sets the hostname itself (and writes it into
                // /etc/hostname) but does not let us set it (no CAP_SYS_ADMIN): EPERM there is
                // a warning, and nothing is attempted when the name is already right.
                let current = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
                if !h.is_empty() && current.trim_end() != h {
                    if let Err(e) = system::sethostname(h.as_bytes()) {
                        let kind = if self.container && e.kind() == std::io::ErrorKind::PermissionDenied {
                            "warning: "
                        } else {
                            ""
                        };
                        say(&format!("{kind}unable to set the hostname to {h}: {e}"));
                    }
                }
            }
        }
        self.set_environment();
        // State of an earlier boot (a container's /run is not a fresh tmpfs): a stale
        // `shutting-down` would make every shutdown request a no-op, a stale `exit-code` would
        // become our exit status.
        let _ = std::fs::remove_dir_all(l.state());
        let _ = std::fs::create_dir_all(l.state());
        if self.container {
            let _ = std::fs::write(l.state().join("container"), "1\n");
        }

        // The console stays reachable for the scanner's -X.
        let console = merit_sys::fd::dup_above(2, 3).ok();
        if let Some(c) = &console {
            CONSOLE.store(c.as_raw_fd(), std::sync::atomic::Ordering::Relaxed);
            // Close-on-exec until the exec of the scanner (rc.init must not inherit it). The
            // scanner keeps it (-X): later stages reach the console through it.
            let _ = std::fs::write(
                l.state().join("console"),
                format!("/proc/{}/fd/{}\n", merit_sys::getpid(), c.as_raw_fd()),
            );
        }
        if let Ok(null) =
            merit_sys::fd::open(Path::new("/dev/null"), merit_sys::flags::O_RDONLY | merit_sys::flags::O_CLOEXEC, 0)
        {
            let _ = merit_sys::fd::dup2(null.as_raw_fd(), 0);
        }
        // stdout/stderr into the catch-all logger's FIFO, opened without waiting for it: a
        // read end is opened first so that the non-blocking open of the write end succeeds,
        // then closed (the catch-all logger, the scanner's first service, opens its own).
        let fifo = scan.join("s6-svscan-log/fifo");
        if !self.log_stdout {
            use merit_sys::flags::*;
            match merit_sys::fd::open(&fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0)
                .and_then(|r| Ok((r, merit_sys::fd::open(&fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0)?)))
            {
                Ok((_r, w)) => {
                    let _ = merit_sys::fd::set_nonblock(w.as_raw_fd(), false);
                    let _ = merit_sys::fd::dup2(w.as_raw_fd(), 1);
                    let _ = merit_sys::fd::dup2(w.as_raw_fd(), 2);
                }
                Err(e) => say(&format!("unable to open {}: {e}; output stays on the console", fifo.display())),
            }
        }
        self.spawn_rc_init(if self.log_stdout { None } else { Some(&fifo) });
        let _ = std::env::set_current_dir(&scan);
        // Recorded once we are in the scan directory, which is what telinit checks under a
        // root prefix before it signals this pid.
        let _ = std::fs::write(l.state().join("pid"), format!("{}\n", merit_sys::getpid()));
        let svscan = crate::exe::sibling("s6-svscan").unwrap_or_else(|| PathBuf::from("s6-svscan"));
        let mut argv: Vec<CString> = vec![c"s6-svscan".into()];
        if let Some(c) = &console {
            if !self.log_stdout {
                argv.push(c"-X".into());
                argv.push(CString::new(c.as_raw_fd().to_string()).unwrap_or_default());
            }
        }
        if let Some(c) = console {
            let _ = merit_sys::fd::set_cloexec(c.as_raw_fd(), false);
            let _ = c.into_raw_fd(); // handed to the scanner
        }
        let e = merit_sys::process::execvp(&svscan.to_string_lossy(), &argv);
        self.crash(&format!("unable to exec s6-svscan: {}", merit_sys::strerror(&e)))
    }

    /// Stage 1 while an init already runs for this root (its scanner working in our scan
    /// directory) would wipe that scan directory under its supervisors and start a second
    /// scanner: refused. This is what happens when a process of the supervision tree, which
    /// inherits MERIT_CONTAINER=1, runs `init` with arguments stage 1 does not know.
    fn refuse_second_init(&self) {
        let l = &self.layout;
        let me = merit_sys::getpid();
        let recorded = std::fs::read_to_string(l.state().join("pid")).ok().and_then(|s| s.trim().parse::<i32>().ok());
        let Some(pid) = recorded.filter(|&p| p > 0 && p != me) else { return };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
        if matches!(comm.trim(), "init" | "s6-svscan" | "merit") && cwd.is_some() && cwd == l.scan().canonicalize().ok()
        {
            say(&format!("fatal: init is already running (pid {pid}, scanning {})", l.scan().display()));
            std::process::exit(100);
        }
    }

    /// tmpfs (mode 0755) on `dir` unless something is mounted there already.
    fn mount_tmpfs(&self, dir: &str) -> bool {
        let p = self.layout.p(dir);
        let _ = std::fs::create_dir_all(&p);
        if is_mount_point(&p) {
            return true;
        }
        let flags = system::MS_NOSUID | system::MS_NODEV;
        match system::mount("tmpfs", &p, "tmpfs", flags, Some("mode=0755")) {
            Ok(()) => true,
            Err(e) => {
                say(&format!("unable to mount a tmpfs on {}: {e}", p.display()));
                false
            }
        }
    }

    /// An API filesystem, if its directory exists and nothing is mounted there yet.
    fn mount_api(&self, source: &str, dir: &str, fstype: &str, data: Option<&str>) {
        let p = self.layout.p(dir);
        if dir.starts_with("/dev/") && self.layout.p("/dev").is_dir() {
            let _ = std::fs::create_dir_all(&p);
        }
        if !p.is_dir() || is_mount_point(&p) {
            return;
        }
        if let Err(e) = system::mount(source, &p, fstype, 0, data) {
            say(&format!("unable to mount {fstype} on {}: {e}", p.display()));
        }
    }

    /// Environment: PATH (our directory first), the envdir /etc/s6/env, MERIT_* settings.
    fn set_environment(&self) {
        let keep: Vec<(String, String)> = ["MERIT_GRACE", "MERIT_LOG_STDOUT"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        // Not variable by variable through std::env, which panics on a name that contains `=`
        // (`=foo=bar` reaches PID 1 from a kernel command line or a container runtime).
        system::clear_env();
        let path = match own_dir() {
            Some(d) if !PATH.split(':').any(|p| Path::new(p) == d) => format!("{}:{PATH}", d.display()),
            _ => PATH.to_string(),
        };
        std::env::set_var("PATH", path);
        // How the scripts call us (see skeleton.rs): a plain `init` may be busybox's applet.
        // Not /proc/self/exe as such: that is `merit` when we run as the multi-call binary,
        // which must be called by the name `init`.
        // Always set: as PID 1, `init finish` and `init crash` are honoured only with it.
        match crate::exe::named("init", &merit_sys::startup::args_os().next().unwrap_or_default()) {
            Some(me) => std::env::set_var("MERIT_INIT", me),
            None => std::env::set_var("MERIT_INIT", "init"),
        }
        for (k, v) in keep {
            std::env::set_var(k, v);
        }
        if !self.layout.root.as_os_str().is_empty() {
            std::env::set_var("MERIT_ROOT", &self.layout.root);
        }
        if self.container {
            std::env::set_var("MERIT_CONTAINER", "1");
        }
        if self.log_stdout {
            std::env::set_var("MERIT_LOG_STDOUT", "1");
        }
        // s6-envdir -I semantics: a missing directory is fine; each file sets NAME to its first
        // line (trailing blanks removed), an empty file unsets NAME.
        if let Ok(rd) = std::fs::read_dir(self.layout.p("/etc/s6/env")) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || name.contains('=') {
                    continue;
                }
                let Ok(v) = std::fs::read(e.path()) else { continue };
                if v.is_empty() {
                    std::env::remove_var(&name);
                    continue;
                }
                let line = v.split(|&b| b == b'\n').next().unwrap_or(&[]);
                let val = String::from_utf8_lossy(line).trim_end().replace('\0', "\n");
                std::env::set_var(&name, val);
            }
        }
    }

    /// `/etc/s6/rc.init` in the background, in its own session, with the default signal
    /// dispositions, an empty signal mask and no descriptor of ours but 0-2. Whatever it does
    /// (fail, hang) the boot goes on: the scanner is exec'd right after. When it is missing or
    /// cannot be run, the built-in `init copy-enabled` takes its place so that the enabled
    /// services still come up.
    ///
    /// Its output goes to the catch-all logger's `fifo` (None: `--log-stdout`, ours), opened,
    /// like Mere's s6-init does (`redirfd -w 1 fifo`), once the logger reads it: a write
    /// before would fail with EPIPE and, SIGPIPE being at its default, kill it. A logger that
    /// does not read within [`RC_INIT_WAIT`] leaves rc.init's output on the console.
    fn spawn_rc_init(&self, fifo: Option<&Path>) {
        match system::fork_single_threaded() {
            Ok(0) => self.rc_init_child(fifo),
            Ok(_) => {}
            Err(e) => {
                say(&format!("unable to fork for rc.init: {e}; starting it at once"));
                self.rc_init_exec(true);
            }
        }
    }

    /// The forked child of [`Self::spawn_rc_init`]: never returns.
    fn rc_init_child(&self, fifo: Option<&Path>) -> ! {
        let _ = signal::set_default(signal::SIGPIPE);
        signal::unblock_all();
        let _ = merit_sys::process::setsid();
        if let Some(fifo) = fifo {
            wait_for_logger(fifo);
        }
        self.rc_init_exec(false);
        std::process::exit(111)
    }

    /// Runs rc.init (else `init copy-enabled`): in a new child when `spawn`, else by exec'ing
    /// into it (the caller is the child of [`Self::spawn_rc_init`]). Returns when neither
    /// could be started.
    fn rc_init_exec(&self, spawn: bool) {
        let rc = self.layout.p("/etc/s6/rc.init");
        let run = |path: &CString, argv: &[CString]| -> Result<(), String> {
            if spawn {
                merit_sys::process::spawn(&merit_sys::process::Spawn {
                    path,
                    argv,
                    fd_moves: &[],
                    lock_wait: None,
                    setsid: true,
                })
                .map(drop)
                .map_err(|e| spawn_error(&e))
            } else {
                Err(merit_sys::strerror(&merit_sys::process::execv(path, argv)))
            }
        };
        if rc.exists() {
            let Ok(c) = CString::new(rc.as_os_str().as_encoded_bytes()) else { return };
            match run(&c, std::slice::from_ref(&c)) {
                Ok(()) => return,
                Err(e) => say(&format!("unable to start {}: {e}", rc.display())),
            }
        } else {
            say(&format!("{} not found", rc.display()));
        }
        say("copying the enabled services (init copy-enabled)");
        let me = crate::exe::sibling("init");
        let Some(Ok(me)) = me.map(|p| CString::new(p.into_os_string().into_encoded_bytes())) else {
            say("unable to find my own executable: enabled services are not started");
            return;
        };
        if let Err(e) = run(&me, &[c"init".into(), c"copy-enabled".into()]) {
            say(&format!("unable to run init copy-enabled: {e}"));
        }
    }

    /// The crash path: `init-services/.s6-svscan/crash` (the skeleton's execs `init crash`),
    /// else [`crash_fallback`]. The shutdown signals stay blocked across the exec, so that a
    /// request made meanwhile stays pending for whoever runs next.
    fn crash(&self, why: &str) -> ! {
        say(&format!("{why}: running the crash path"));
        let _ = system::raise_nofile_limit();
        let crash = self.layout.p("/etc/s6/init-services/.s6-svscan/crash");
        // The skeleton's crash script execs `"$MERIT_INIT" crash`, which PID 1 honours only
        // with MERIT_INIT set: before set_environment (no tmpfs on /s6) it is not yet.
        if std::env::var_os("MERIT_INIT").is_none() {
            match crate::exe::named("init", &merit_sys::startup::args_os().next().unwrap_or_default()) {
                Some(me) => std::env::set_var("MERIT_INIT", me),
                None => std::env::set_var("MERIT_INIT", "init"),
            }
        }
        if crash.exists() {
            if let Ok(c) = CString::new(crash.as_os_str().as_encoded_bytes()) {
                let e = merit_sys::process::execv(&c, std::slice::from_ref(&c));
                say(&format!("unable to exec {}: {}", crash.display(), merit_sys::strerror(&e)));
            }
        }
        crash_fallback(&self.layout, why)
    }
}

/// How long rc.init waits for the catch-all logger to read its FIFO.
const RC_INIT_WAIT: Duration = Duration::from_secs(5);

/// Points 1 and 2 at `fifo` once a reader has it open (a non-blocking open for writing fails
/// with ENXIO until then), within [`RC_INIT_WAIT`]; else at the console (else /dev/null).
fn wait_for_logger(fifo: &Path) {
    use merit_sys::flags::*;
    let deadline = std::time::Instant::now() + RC_INIT_WAIT;
    loop {
        match merit_sys::fd::open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0) {
            Ok(w) => {
                let _ = merit_sys::fd::set_nonblock(w.as_raw_fd(), false);
                let _ = merit_sys::fd::dup2(w.as_raw_fd(), 1);
                let _ = merit_sys::fd::dup2(w.as_raw_fd(), 2);
                return;
            }
            Err(e) if e.raw_os_error() == Some(merit_sys::errno::ENXIO) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => {
                say(&format!(
                    "the catch-all logger does not read {} ({}): rc.init's output goes to the console",
                    fifo.display(),
                    merit_sys::strerror(&e)
                ));
                let console = CONSOLE.load(std::sync::atomic::Ordering::Relaxed);
                let null = merit_sys::fd::open(Path::new("/dev/null"), O_WRONLY | O_CLOEXEC, 0).ok();
                let to = if console >= 0 { Some(console) } else { null.as_ref().map(|n| n.as_raw_fd()) };
                if let Some(to) = to {
                    let _ = merit_sys::fd::dup2(to, 1);
                    let _ = merit_sys::fd::dup2(to, 2);
                }
                return;
            }
        }
    }
}

/// What PID 1 does when there is no scanner to run (it cannot be exec'd and there is no
/// crash script, or the scanner crashed and its crash script, the skeleton's, execs
/// `init crash`): stay up, reap every child, keep an interactive shell on the console when
/// the console is a terminal (started again when it exits, at most every two seconds), and
/// still shut down on request: telinit's signals, SIGTERM (poweroff; "stop" in a container).
/// Outside PID 1 (a system in a folder), exits 111.
fn crash_fallback(l: &Layout, why: &str) -> ! {
    if SAY_FD.load(std::sync::atomic::Ordering::Relaxed) < 0 {
        say_without_blocking(2);
    }
    say(&format!("{why}: no scanner; init stays up, reaps, and shuts down on request (telinit, SIGTERM)"));
    if merit_sys::getpid() != 1 {
        std::process::exit(111);
    }
    let container = container_mode(l) || system::in_container(&l.root);
    let _ = system::raise_nofile_limit();
    let _ = signal::set_default(signal::SIGPIPE);
    let console = match CONSOLE.load(std::sync::atomic::Ordering::Relaxed) {
        -1 => 2,
        c => c,
    };
    let _ = merit_sys::fd::set_cloexec(console, true);
    let tty = system::isatty(console);
    if !tty {
        say("the console is not a terminal: no shell");
    }
    let sfd = signal::signalfd(&HELD);
    if let Err(e) = &sfd {
        say(&format!("unable to create a signalfd ({e}): shutdown requests cannot be seen"));
        signal::unblock_all();
    }
    let mut shell: Option<i32> = None;
    let mut next_shell = std::time::Instant::now();
    loop {
        while let Ok(Some(r)) = merit_sys::process::reap_one() {
            if shell == Some(r.pid) {
                shell = None;
            }
        }
        if tty && shell.is_none() && std::time::Instant::now() >= next_shell {
            next_shell = std::time::Instant::now() + Duration::from_secs(2);
            say("starting a shell on the console");
            match merit_sys::process::spawn(&merit_sys::process::Spawn {
                path: c"/bin/sh",
                argv: &[c"sh".into(), c"-i".into()],
                fd_moves: &[(console, 0), (console, 1), (console, 2)],
                lock_wait: None,
                setsid: true,
            }) {
                Ok(pid) => shell = Some(pid),
                Err(e) => say(&format!("unable to run /bin/sh: {}", spawn_error(&e))),
            }
        }
        match &sfd {
            Ok(fd) => {
                let mut p = [merit_sys::fd::PollFd::new(fd.as_raw_fd())];
                let _ = merit_sys::fd::poll(&mut p, Some(1000));
                while let Ok(Some(sig)) = signal::read_signal(fd.as_raw_fd()) {
                    let action = match sig {
                        signal::SIGUSR1 => "poweroff",
                        signal::SIGUSR2 => "halt",
                        signal::SIGINT => "reboot",
                        signal::SIGTERM | signal::SIGQUIT if container => "stop",
                        signal::SIGTERM | signal::SIGQUIT => "poweroff",
                        _ => continue,
                    };
                    say(&format!("shutdown requested ({action})"));
                    last_stage(l, container, action.to_string());
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Gives descriptors 0-2, where closed, the console (read-write, not as our controlling
/// terminal), else /dev/null.
fn console_stdio(console: &Path) {
    use merit_sys::flags::*;
    for fd in 0..3 {
        if merit_sys::fd::is_open(fd) {
            continue;
        }
        let f = merit_sys::fd::open(console, O_RDWR | O_NOCTTY, 0)
            .or_else(|_| merit_sys::fd::open(Path::new("/dev/null"), O_RDWR, 0));
        if let Ok(f) = f {
            if f.as_raw_fd() == fd {
                let _ = f.into_raw_fd();
            } else {
                let _ = merit_sys::fd::dup2(f.as_raw_fd(), fd);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// rc.init built-in

fn spawn_error(e: &merit_sys::process::SpawnError) -> String {
    match e {
        merit_sys::process::SpawnError::Fork(e) | merit_sys::process::SpawnError::Exec(_, e) => merit_sys::strerror(e),
    }
}

/// Every service of `enabled/` copied into the scan directory (each under a dot-name, then
/// renamed into place; one already there is kept), then a rescan request. In a container, a
/// main service's `finish` is wrapped before the rename, so that even a main service that dies
/// at once is seen as such.
fn copy_enabled() -> i32 {
    let l = Layout::from_env(None);
    let t = l.tree();
    let container = container_mode(&l);
    let mut names: Vec<String> = std::fs::read_dir(&t.enabled)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|n| !n.starts_with('.'));
    names.sort();
    let mut failed = 0;
    for name in names {
        let src = t.link(&name);
        let dst = t.supervised_dir(&name);
        if !src.is_dir() || std::fs::symlink_metadata(&dst).is_ok() {
            continue;
        }
        let tmp = t.scan.join(format!(".{name}.merit-boot-{}", merit_sys::getpid()));
        let _ = std::fs::remove_dir_all(&tmp);
        let r = tree::copy_tree(&src, &tmp, true)
            .and_then(|()| if container { mark_main_service(&tmp) } else { Ok(()) })
            .and_then(|()| std::fs::rename(&tmp, &dst));
        if let Err(e) = r {
            let _ = std::fs::remove_dir_all(&tmp);
            say(&format!("unable to copy {name} into {}: {e}", t.scan.display()));
            failed += 1;
        }
    }
    match svdir::write_control(&t.scan, svdir::SVSCAN, b"a") {
        Ok(()) => {}
        // The scanner is not listening yet: its first scan will see every copy.
        Err(svdir::ControlError::NotListening) => {}
        // At boot rc.init runs beside the scanner's start: `.s6-svscan` (copied from
        // init-services) exists but the scanner has not made its control FIFO yet. Same case.
        Err(svdir::ControlError::BadSubdir(e)) if e.raw_os_error() == Some(merit_sys::errno::ENOENT) => {}
        Err(e) => {
            say(&format!("unable to ask the scanner to rescan {}: {e:?}", t.scan.display()));
            return 111;
        }
    }
    if failed == 0 {
        0
    } else {
        1
    }
}

fn container_mode(l: &Layout) -> bool {
    env_flag("MERIT_CONTAINER") || l.state().join("container").exists()
}

/// The file that marks a container's main service.
const MAIN_MARK: &str = "merit-main";

/// Wraps the `finish` of a main service (a copy that has a `merit-main` file): the wrapper
/// records the exit code, starts the container's shutdown and exits 125 so that the service is
/// not restarted.
fn mark_main_service(dir: &Path) -> std::io::Result<()> {
    if !dir.join(MAIN_MARK).exists() {
        return Ok(());
    }
    if dir.join("finish").exists() {
        std::fs::rename(dir.join("finish"), dir.join("finish.merit-main"))?;
    }
    std::fs::write(dir.join("finish"), "#!/bin/sh\nexec \"${MERIT_INIT:-init}\" main-finish \"$@\"\n")?;
    merit_sys::fs::chmod(&dir.join("finish"), 0o755)
}

fn main_finish(args: &[String]) -> i32 {
    let code: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(0);
    let sig: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    if Path::new("finish.merit-main").exists() {
        let _ = std::process::Command::new("./finish.merit-main").args(args).status();
    }
    let exit = if code == 256 { 128 + sig } else { code };
    let l = Layout::from_env(None);
    // Stopped by a shutdown already under way (SIGTERM to the container, telinit): that
    // shutdown decides the exit status (0), not the signal the main service died of.
    if l.state().join("shutting-down").exists() {
        return 125;
    }
    let _ = std::fs::create_dir_all(l.state());
    let _ = std::fs::write(l.state().join("exit-code"), format!("{exit}\n"));
    match target_pid(&l) {
        0 => say("no init to stop"),
        pid => {
            let _ = signal::kill(pid, signal::SIGTERM);
        }
    }
    125
}

// ---------------------------------------------------------------------------------------------
// shutdown: the orderly teardown, run by the scanner's signal scripts

/// Points our stdout/stderr at init's console (recorded by stage 1; the scanner holds it), else
/// /dev/console, else /dev/null.
fn console_output(l: &Layout) {
    use merit_sys::flags::*;
    let recorded = std::fs::read_to_string(l.state().join("console")).ok().map(|s| PathBuf::from(s.trim()));
    let opened = recorded
        .and_then(|p| merit_sys::fd::open(&p, O_WRONLY | O_CLOEXEC, 0).ok())
        .or_else(|| merit_sys::fd::open(Path::new("/dev/console"), O_WRONLY | O_NOCTTY | O_CLOEXEC, 0).ok());
    if let Some(c) = opened {
        let _ = merit_sys::fd::dup2(c.as_raw_fd(), 1);
        let _ = merit_sys::fd::dup2(c.as_raw_fd(), 2);
    } else if let Ok(n) = merit_sys::fd::open(Path::new("/dev/null"), O_WRONLY, 0) {
        let _ = merit_sys::fd::dup2(n.as_raw_fd(), 1);
        let _ = merit_sys::fd::dup2(n.as_raw_fd(), 2);
    }
}

fn shutdown(action: &str) -> i32 {
    let l = Layout::from_env(None);
    let container = container_mode(&l);
    let action = match action {
        "term" if container => "stop",
        "term" => "poweroff",
        a => a,
    };
    // Our own output must not keep the catch-all logger's FIFO open.
    console_output(&l);
    say_without_blocking(2);
    let _ = std::fs::create_dir_all(l.state());
    // A second request while one is running changes nothing.
    // The marker is only that: when it cannot be made (/run full, read-only, missing), the
    // shutdown proceeds all the same.
    use merit_sys::flags::*;
    let marker = l.state().join("shutting-down");
    match merit_sys::fd::open(&marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) {
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(merit_sys::errno::EEXIST) => return 0,
        Err(e) => say(&format!(
            "unable to create {}: {}: shutting down all the same",
            marker.display(),
            merit_sys::strerror(&e)
        )),
    }
    let scan = l.scan();
    let _ = std::fs::write(scan.join(".shutdown"), format!("{action}\n"));
    let services: Vec<PathBuf> = std::fs::read_dir(&scan)
        .map(|rd| {
            rd.flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    let catch_all: Vec<PathBuf> = services.iter().filter(|p| p.ends_with("s6-svscan-log")).cloned().collect();
    let mains: Vec<PathBuf> = services.iter().filter(|p| !p.ends_with("s6-svscan-log")).cloned().collect();
    let loggers: Vec<PathBuf> = mains.iter().map(|p| p.join("log")).filter(|p| p.is_dir()).collect();
    let running = |dirs: &[PathBuf]| -> Vec<PathBuf> {
        dirs.iter().filter(|d| svdir::supervisor_running(d).unwrap_or(false)).cloned().collect()
    };

    // 1. The scanner stops every service (down-signal, timeout-kill), HUPs the loggers'
    //    supervisors, closes the log pipes, and waits for all of its supervisors.
    if svdir::write_control(&scan, svdir::SVSCAN, b"t").is_err() {
        // No scanner listening: bring the services down ourselves.
        for d in &mains {
            let _ = svdir::send_control(d, b"dx");
        }
    }
    // 2. Services within the grace period, then SIGKILL.
    let grace = grace_ms();
    let deadline = std::time::Instant::now() + Duration::from_millis(grace);
    while !running(&mains).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for d in running(&mains) {
        say(&format!("{} did not stop within {} ms: killing it", d.display(), grace));
        let _ = svdir::send_control(&d, b"k");
    }
    // 3. Loggers drain their pipes (EOF once the service and the scanner closed them).
    let deadline = std::time::Instant::now() + Duration::from_millis(grace.clamp(1000, 5000));
    while !running(&loggers).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for d in running(&loggers) {
        let _ = svdir::send_control(&d, b"hx");
    }
    // 4. The catch-all logger: EOF when the last writer is gone; otherwise SIGHUP (flush and
    //    exit) after a short while, since strays may hold the FIFO.
    let deadline = std::time::Instant::now() + Duration::from_millis(1000);
    while !running(&catch_all).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for d in running(&catch_all) {
        let _ = svdir::send_control(&d, b"hx");
    }
    0
}

// ---------------------------------------------------------------------------------------------
// finish: the last stage (exec'd by the scanner; PID 1 on a real system)

fn finish() -> ! {
    say_without_blocking(2);
    let l = Layout::from_env(None);
    let container = container_mode(&l);
    let action = std::fs::read_to_string(l.scan().join(".shutdown"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| if container { "stop".into() } else { "poweroff".into() });
    last_stage(&l, container, action)
}

/// rc.shutdown, then (as PID 1) everything killed, sync, unmount, reboot(2); a container's
/// init (or an init outside PID 1) exits instead. PID 1 never exits: should reboot(2) fail,
/// it stays up, reaping.
fn last_stage(l: &Layout, container: bool, action: String) -> ! {
    let pid1 = merit_sys::getpid() == 1;
    let exit_code: i32 =
        std::fs::read_to_string(l.state().join("exit-code")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    signal::unblock_all();
    // rc.shutdown, bounded by the grace period.
    let rc = l.p("/etc/s6/rc.shutdown");
    if rc.exists() {
        match std::process::Command::new(&rc).arg(&action).spawn() {
            Ok(mut child) => {
                let deadline = std::time::Instant::now() + Duration::from_millis(grace_ms().max(1000));
                loop {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    if std::time::Instant::now() > deadline {
                        say("rc.shutdown took too long: killing it");
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Err(e) => say(&format!("unable to run {}: {e}", rc.display())),
        }
    }
    if pid1 {
        // Everything else: TERM, a moment, KILL; reap as we go.
        let _ = system::kill_all(signal::SIGTERM);
        let _ = system::kill_all(signal::SIGCONT);
        let deadline = std::time::Instant::now() + Duration::from_millis(2000);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = merit_sys::process::reap_one() {
                continue;
            }
            if !system::has_children() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = system::kill_all(signal::SIGKILL);
        while let Ok(Some(_)) = merit_sys::process::reap_one() {}
        std::thread::sleep(Duration::from_millis(50));
        while let Ok(Some(_)) = merit_sys::process::reap_one() {}
    }
    system::sync();
    if container || !pid1 {
        let code = if container { exit_code } else { 0 };
        say(&format!("all services stopped ({action}): exiting {code}"));
        std::process::exit(code);
    }
    // Our working directory (the scan directory, on /s6) would keep its filesystem busy.
    let _ = std::env::set_current_dir("/");
    unmount_all(&l.root);
    system::sync();
    let (what, doing) = match action.as_str() {
        "halt" => (RebootAction::Halt, "halting"),
        "reboot" => (RebootAction::Reboot, "rebooting"),
        _ => (RebootAction::Poweroff, "powering off"),
    };
    say(&format!("all services stopped, filesystems unmounted: {doing}"));
    let e = system::reboot(what);
    say(&format!("reboot(2) failed: {e}"));
    if pid1 {
        loop {
            if merit_sys::process::wait_any().is_err() {
                std::thread::sleep(Duration::from_secs(10));
            }
        }
    }
    std::process::exit(111)
}

/// Unmounts what lies under the root prefix (everything but `/` itself when there is none),
/// newest first; what cannot be unmounted is remounted read-only.
fn unmount_all(root: &Path) {
    let base = if root.as_os_str().is_empty() {
        PathBuf::from("/")
    } else {
        root.canonicalize().unwrap_or(root.to_path_buf())
    };
    let mut points: Vec<PathBuf> = mount_points().into_iter().filter(|m| m.starts_with(&base) && *m != base).collect();
    points.reverse();
    for m in points {
        if system::umount(&m, false).is_err() {
            let _ = system::remount_readonly(&m);
        }
    }
    if base == Path::new("/") {
        let _ = system::remount_readonly(&base);
    }
}

/// The mount points of /proc/self/mountinfo, in mount order, whatever their bytes.
fn mount_points() -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    merit_core::mountinfo::mount_points(&system::mountinfo())
        .into_iter()
        .map(|m| PathBuf::from(std::ffi::OsString::from_vec(m)))
        .collect()
}

/// Whether `p` is a mount point.
fn is_mount_point(p: &Path) -> bool {
    let Ok(canon) = p.canonicalize() else { return false };
    mount_points().contains(&canon)
}
