//! Stage 1: from the kernel (or a container runtime, or a test harness) to `s6-svscan`, as a
//! list of steps. [`stage1`] holds the shutdown signals, then [`Stage1::run`] mounts, lays out
//! the scan directory, sets up the environment, starts rc.init and execs the scanner.

use super::{crash::crash_fallback, env_flag, is_mount_point, rc_init, say, usage, Layout, CONSOLE};
use crate::tree;
use merit_sys::signal;
use merit_sys::system;
use std::ffi::CString;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

const PATH: &str = "/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin";
/// Owner of /s6/uncaught-logs where the booted system has no `nobody` user or `nogroup` group.
const NOBODY: u32 = 65534;

/// What the command line and the environment ask of stage 1.
struct Options {
    root: Option<PathBuf>,
    container: bool,
    log_stdout: bool,
}

struct Stage1 {
    layout: Layout,
    container: bool,
    log_stdout: bool,
    /// Process 1 of its PID namespace: the system's (or a container's) init.
    pid1: bool,
}

pub(super) fn stage1(args: &[String]) -> ! {
    let opts = parse_args(args);
    hold_signals();
    Stage1::new(opts).run()
}

/// The options of stage 1. As PID 1 nothing on the command line may stop the boot (see
/// `pid1_main`): what is not ours is ignored, with a warning.
fn parse_args(args: &[String]) -> Options {
    let mut o =
        Options { root: None, container: env_flag("MERIT_CONTAINER"), log_stdout: env_flag("MERIT_LOG_STDOUT") };
    let pid1 = merit_sys::getpid() == 1;
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
                    o.root = Some(PathBuf::from(r));
                }
            }
            "--container" => o.container = true,
            "--log-stdout" => o.log_stdout = true,
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
    o
}

/// Hold the shutdown signals from the very start (exactly those the scanner reads as PID 1): a
/// telinit before the scanner listens stays pending across the exec. Descriptors we were
/// given beyond 0-2 (by a test harness, a container runtime) are not for what we start. Nor
/// are the signals our launcher ignored: everything we start gets default dispositions
/// (SIGPIPE aside, ignored in [`Stage1::detach`] for stage 1 itself and set back for rc.init).
fn hold_signals() {
    signal::block(&signal::SCANNER_PID1);
    system::cloexec_from(3);
    signal::default_all();
}

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

impl Stage1 {
    /// Where and how to boot; refuses (exit 100) to boot a running system outside PID 1.
    fn new(o: Options) -> Stage1 {
        let pid1 = merit_sys::getpid() == 1;
        let layout = Layout::from_env(o.root);
        // Detected only as PID 1: a shell in a container (where /.dockerenv exists) is not a
        // container's init. Under `docker run --init`, say --container (or MERIT_CONTAINER=1).
        let container = o.container || (pid1 && system::in_container(&layout.root));
        if !pid1 && layout.root.as_os_str().is_empty() && !container {
            // Stage 1 mounts tmpfs over /run and /s6: on a running system that would hide the
            // real ones. Outside PID 1 it only runs in a folder or as a container's init.
            say("fatal: not process 1: run me as the system's init, or with --root DIR (or MERIT_ROOT) for a system in a folder, or with --container");
            std::process::exit(100);
        }
        Stage1 { layout, container, log_stdout: o.log_stdout, pid1 }
    }

    /// The boot, step by step; ends in the scanner (or the crash path).
    fn run(&self) -> ! {
        self.detach();
        self.refuse_second_init();
        self.mount_filesystems();
        // Without /dev/console in the initramfs the kernel started us with no descriptors:
        // now that /dev is mounted, give 0-2 the console (or /dev/null).
        console_stdio(&self.layout.p("/dev/console"));
        self.make_scan_dir();
        self.make_uncaught_logs();
        self.set_hostname();
        self.set_environment();
        self.reset_state();
        let console = self.keep_console();
        let fifo = self.output_to_catch_all();
        rc_init::spawn(&self.layout, fifo.as_deref());
        self.exec_scanner(console)
    }

    /// Until the catch-all logger opens its FIFO, our stdout and stderr (and those of rc.init,
    /// which inherits this) are a FIFO without a reader: an early write must fail with EPIPE,
    /// not kill the writer. The scanner sets its own SIGPIPE handler; services get the default.
    /// Then a session of our own, `/` as working directory, umask 022.
    fn detach(&self) {
        let _ = signal::ignore(signal::SIGPIPE);
        let _ = merit_sys::process::setsid();
        let _ = std::env::set_current_dir("/");
        merit_sys::umask(0o022);
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
        if super::telinit::is_our_init(pid, &l.scan()) {
            say(&format!("fatal: init is already running (pid {pid}, scanning {})", l.scan().display()));
            std::process::exit(100);
        }
    }

    /// tmpfs on /run and /s6, the API filesystems (in a container: only the directories /s6
    /// and /run, the runtime did the rest); Ctrl-Alt-Del as SIGINT to a real system's PID 1.
    fn mount_filesystems(&self) {
        let l = &self.layout;
        if self.container {
            for d in ["/s6", "/run"] {
                if let Err(e) = std::fs::create_dir_all(l.p(d)) {
                    say(&format!("unable to create {}: {e}", l.p(d).display()));
                }
            }
            return;
        }
        self.mount_tmpfs("/run");
        if !self.mount_tmpfs("/s6") {
            self.crash("unable to mount a tmpfs on /s6");
        }
        self.mount_api("proc", "/proc", "proc", None);
        self.mount_api("sysfs", "/sys", "sysfs", None);
        // cgroup v2 for the services' own cgroups (s6-supervise, a `cgroup` file): only when
        // nothing is mounted there (Mere's rc.init later mounts its v1 tmpfs over it; the
        // supervisors then find no usable cgroup2 and run their services without one).
        self.mount_api("cgroup2", "/sys/fs/cgroup", "cgroup2", None);
        self.mount_api("devtmpfs", "/dev", "devtmpfs", Some("mode=0755"));
        self.mount_api("devpts", "/dev/pts", "devpts", Some("gid=5,mode=620"));
        self.mount_api("tmpfs", "/dev/shm", "tmpfs", Some("mode=1777"));
        if merit_sys::getpid() == 1 && l.root.as_os_str().is_empty() {
            // Ctrl-Alt-Del: SIGINT to us (held for the scanner: an orderly reboot).
            let _ = system::ctrl_alt_del_to_sigint();
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

    /// /s6/run from /etc/s6/init-services (without the catch-all logger under `--log-stdout`).
    fn make_scan_dir(&self) {
        let l = &self.layout;
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
    }

    /// `install -m 2700 -o nobody -g nogroup -d /s6/uncaught-logs`, as Mere's s6-init does:
    /// the catch-all logger runs as the booted system's nobody (99 on Mere, 65534 on Debian).
    /// mkdir(2) cannot set the setgid bit and chown(2) clears it: chmod comes last.
    fn make_uncaught_logs(&self) {
        use std::os::unix::fs::DirBuilderExt;
        let uncaught = self.layout.p("/s6/uncaught-logs");
        let (uid, gid) = nobody_ids(&self.layout);
        let made = match std::fs::DirBuilder::new().mode(0o700).create(&uncaught) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
            _ => {
                merit_sys::chown(&uncaught, Some(uid), Some(gid)).and_then(|()| merit_sys::fs::chmod(&uncaught, 0o2700))
            }
        };
        if let Err(e) = made {
            say(&format!("unable to set up {}: {e}", uncaught.display()));
        }
    }

    /// The hostname from /etc/hostname (none: keep the kernel's). Only as PID 1: outside it
    /// (a host running `init --container` from merit.service, a tree in a folder) the
    /// hostname is the host's.
    fn set_hostname(&self) {
        if !self.pid1 {
            return;
        }
        let Ok(h) = std::fs::read_to_string(self.layout.p("/etc/hostname")) else { return };
        let h = h.lines().next().unwrap_or("").trim();
        // A container runtime sets the hostname itself (and writes it into /etc/hostname) but
        // does not let us set it (no CAP_SYS_ADMIN): EPERM there is a warning, and nothing is
        // attempted when the name is already right.
        let current = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        if h.is_empty() || current.trim_end() == h {
            return;
        }
        if let Err(e) = system::sethostname(h.as_bytes()) {
            let kind =
                if self.container && e.kind() == std::io::ErrorKind::PermissionDenied { "warning: " } else { "" };
            say(&format!("{kind}unable to set the hostname to {h}: {e}"));
        }
    }

    /// Environment: PATH, MERIT_* settings, the envdir /etc/s6/env; then our directory first on
    /// PATH (once).
    fn set_environment(&self) {
        let keep: Vec<(String, String)> = ["MERIT_GRACE", "MERIT_LOG_STDOUT"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        // Not variable by variable through std::env, which panics on a name that contains `=`
        // (`=foo=bar` reaches PID 1 from a kernel command line or a container runtime).
        system::clear_env();
        std::env::set_var("PATH", PATH);
        set_merit_init();
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
        self.read_envdir();
        own_dir_first_on_path();
    }

    /// s6-envdir -I semantics: a missing directory is fine; each file sets NAME to its first
    /// line (trailing blanks removed), an empty file unsets NAME.
    fn read_envdir(&self) {
        let Ok(rd) = std::fs::read_dir(self.layout.p("/etc/s6/env")) else { return };
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

    /// State of an earlier boot (a container's /run is not a fresh tmpfs): a stale
    /// `shutting-down` would make every shutdown request a no-op, a stale `exit-code` would
    /// become our exit status. A container says so in `container`.
    fn reset_state(&self) {
        let state = self.layout.state();
        let _ = std::fs::remove_dir_all(&state);
        let _ = std::fs::create_dir_all(&state);
        if self.container {
            let _ = std::fs::write(state.join("container"), "1\n");
        }
    }

    /// The console, kept above 2 so that it stays reachable for the scanner's -X (and for
    /// [`say`] once 1 and 2 point at the catch-all logger), its path recorded for the
    /// shutdown. Close-on-exec until the exec of the scanner (rc.init must not inherit it).
    fn keep_console(&self) -> Option<OwnedFd> {
        let console = merit_sys::fd::dup_above(2, 3).ok()?;
        CONSOLE.store(console.as_raw_fd(), Ordering::Relaxed);
        // The scanner keeps it (-X): later stages reach the console through it.
        let _ = std::fs::write(
            self.layout.state().join("console"),
            format!("/proc/{}/fd/{}\n", merit_sys::getpid(), console.as_raw_fd()),
        );
        Some(console)
    }

    /// stdin from /dev/null; stdout/stderr into the catch-all logger's FIFO, opened without
    /// waiting for it: a read end is opened first so that the non-blocking open of the write
    /// end succeeds, then closed (the catch-all logger, the scanner's first service, opens its
    /// own). Returns the FIFO, where rc.init's output goes (None: `--log-stdout`).
    fn output_to_catch_all(&self) -> Option<PathBuf> {
        use merit_sys::flags::*;
        if let Ok(null) = merit_sys::fd::open(Path::new("/dev/null"), O_RDONLY | O_CLOEXEC, 0) {
            let _ = merit_sys::fd::dup2(null.as_raw_fd(), 0);
        }
        if self.log_stdout {
            return None;
        }
        let fifo = self.layout.scan().join("s6-svscan-log/fifo");
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
        Some(fifo)
    }

    /// Into the scan directory, our pid recorded, then `s6-svscan` (with `-X` and the console,
    /// unless `--log-stdout`); the crash path if it cannot be exec'd.
    fn exec_scanner(&self, console: Option<OwnedFd>) -> ! {
        let l = &self.layout;
        let _ = std::env::set_current_dir(l.scan());
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
            set_merit_init();
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

/// How the scripts call us (see skeleton.rs): a plain `init` may be busybox's applet. Not
/// /proc/self/exe as such: that is `merit` when we run as the multi-call binary, which must be
/// called by the name `init`. Always set: as PID 1, `init finish` and `init crash` are honoured
/// only with it.
fn set_merit_init() {
    match crate::exe::named("init", &merit_sys::startup::args_os().next().unwrap_or_default()) {
        Some(me) => std::env::set_var("MERIT_INIT", me),
        None => std::env::set_var("MERIT_INIT", "init"),
    }
}

/// The directory of our own executable first on PATH, once, whatever PATH the envdir set: the
/// tree must run our programs, not same-named ones earlier on PATH (another s6 in /bin while
/// we are in /sbin). That of `/proc/self/exe`, which is the multi-call binary `merit` when we
/// were started through the link `init -> merit`, beside its `s6-*` links.
fn own_dir_first_on_path() {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let Some(dir) = crate::exe::dir() else { return };
    let given = std::env::var_os("PATH").unwrap_or_default();
    let path = merit_core::search_path::with_first(dir.as_os_str().as_bytes(), given.as_bytes());
    std::env::set_var("PATH", std::ffi::OsString::from_vec(path));
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
