//! `s6-svscan [ -c max ] [ -t rescan ] [ -d notif ] [ -X consoleholder ] [ dir ]`:
//! one `s6-supervise` per service directory of the scan directory (and one more for its `log/`),
//! compatible with s6 2.11.3.2 (spec/scandir.md).
//!
//! The `s6-supervise` it runs is the one next to its own executable when there is one (the
//! executable itself when it is the multi-call binary `merit` and nothing is beside it), else
//! the first on PATH. It can be PID 1: the reaper collects every child, not only its supervisors.

use crate::msg;
use merit_sys::process::{spawn, Spawn, SpawnError};
use merit_sys::{clock, fd, lock, signal, strerror};
use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const PROG: &str = "s6-svscan";
const USAGE: &str = "s6-svscan [ -c maxservices ] [ -t timeout ] [ -d notif ] [ -X consoleholder ] [ dir ]";
const SECOND: u64 = 1_000_000_000;
const CATCH_ALL: &[u8] = b"s6-svscan-log";

// Diagnostics go through the one path that never blocks or panics: as PID 1, stderr is the
// catch-all logger's FIFO, which may have no reader or be full.
fn warn(text: &str) {
    msg::warn(PROG, &[text.as_bytes()]);
}
fn fatal(code: i32, text: &str) -> ! {
    msg::die(PROG, code, &[text.as_bytes()])
}

/// One supervisor process slot: running pid, or when it may be (re)spawned.
#[derive(Default)]
struct Slot {
    pid: Option<i32>,
    /// Monotonic time before which it must not be respawned (1 s after its death, 4 s after a
    /// failed fork).
    not_before: u64,
}

/// A service known to the scanner, identified by its directory's (dev, ino). Its name is not
/// kept: supervisors are only (re)spawned by a scan, which has the directory's current name
/// (the entry may have been renamed). 64 bytes, and nothing on the heap, per service.
struct Service {
    dev: u64,
    ino: u64,
    /// Named `s6-svscan-log`, the catch-all logger (decided when first seen).
    catch_all: bool,
    active: bool,
    logged: bool,
    /// The pipe between the service and its logger, held by the scanner while the service is
    /// known, so neither side's restart loses data.
    pipe: Option<(OwnedFd, OwnedFd)>,
    main: Slot,
    log: Slot,
    /// Seen again by a scan while inactive with its pipe already closed: rescan as soon as
    /// one of its supervisors dies (it is not reused: a new pipe is needed).
    reactivate: bool,
}

impl Service {
    fn is_catch_all(&self) -> bool {
        self.catch_all
    }
    fn dead(&self) -> bool {
        self.main.pid.is_none() && self.log.pid.is_none()
    }
}

/// The four kill kinds of scandir.md §5.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kill {
    /// A: inactive only, loggers HUP.
    InactiveHup,
    /// B: all, loggers HUP.
    AllHup,
    /// C: inactive only, loggers TERM.
    InactiveTerm,
    /// D: all, loggers TERM.
    AllTerm,
}

/// How the main loop ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Wait for every supervisor, then finish.
    Wait,
    /// `b`: do not wait.
    NoWait,
}

struct Scanner {
    supervise: CString,
    /// What a supervisor's child prints when it cannot exec `supervise` (then `strerror`).
    exec_fail: Vec<u8>,
    max: usize,
    services: Vec<Service>,
    scan_flag: bool,
    reap_flag: bool,
    /// Monotonic deadline of the next scan (retries, respawns, `-t`).
    next_scan: Option<u64>,
    rescan_every: Option<u64>,
    pending: Option<Kill>,
    console: Option<RawFd>,
}

/// Finds `s6-supervise`: next to our own executable (or our executable itself when it is the
/// multi-call binary, see [`crate::exe::sibling`]), else on PATH.
#[link_section = ".text.hot.merit"]
fn find_supervise() -> CString {
    if let Some(own) = crate::exe::sibling_c("s6-supervise") {
        return own;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in path.as_bytes().split(|&b| b == b':').filter(|d| !d.is_empty()) {
        let mut p = dir.to_vec();
        p.extend_from_slice(b"/s6-supervise");
        if let Ok(c) = CString::new(p) {
            if merit_sys::fs::stat(&c).is_ok_and(|st| st.is_file()) {
                return c;
            }
        }
    }
    c"/usr/bin/s6-supervise".into()
}

impl Scanner {
    fn deadline_in(&mut self, at: u64) {
        self.next_scan = Some(self.next_scan.map_or(at, |d| d.min(at)));
    }

    /// scandir.md §2.
    #[link_section = ".text.hot.merit"]
    fn scan(&mut self) {
        let now = clock::mono_ns();
        let mut dir: merit_sys::fs::Dir = match merit_sys::fs::Dir::open(c".") {
            Ok(d) => d,
            Err(e) => {
                warn(&format!("unable to opendir .: {}", strerror(&e)));
                self.deadline_in(now + 3 * SECOND);
                return;
            }
        };
        for s in &mut self.services {
            s.active = false;
        }
        while let Some(entry) = dir.next_name() {
            let name = match entry {
                Ok(name) => name,
                Err(e) => {
                    warn(&format!("unable to readdir .: {}", strerror(&e)));
                    self.deadline_in(now + 3 * SECOND);
                    break;
                }
            };
            if name.to_bytes().first() == Some(&b'.') {
                continue;
            }
            let st = match merit_sys::fs::stat(name) {
                Ok(st) => st,
                Err(e) => {
                    warn(&format!("unable to stat {}: {}", name.to_string_lossy(), strerror(&e)));
                    self.deadline_in(now + 3 * SECOND);
                    continue;
                }
            };
            if !st.is_dir() {
                continue;
            }
            let (dev, ino) = (st.dev, st.ino);
            let i = match self.services.iter().position(|s| s.dev == dev && s.ino == ino) {
                Some(i) => {
                    let s = &mut self.services[i];
                    if s.active {
                        continue; // a second name for the same directory
                    }
                    if s.logged && s.pipe.is_none() {
                        // Inactive logged service whose pipe was closed: not reactivated until
                        // both supervisors are gone (the reaper then triggers a scan).
                        s.reactivate = true;
                        continue;
                    }
                    i
                }
                None => {
                    // Whether a service is logged is decided once, when it is first seen.
                    if self.services.len() >= self.max {
                        warn(&format!("unable to start supervisor for {}: too many services", name.to_string_lossy()));
                        continue;
                    }
                    let catch_all = name.to_bytes() == CATCH_ALL;
                    let logged = !catch_all && {
                        let mut logp = name.to_bytes().to_vec();
                        logp.extend_from_slice(b"/log");
                        let logp = CString::new(logp).unwrap_or_default();
                        match merit_sys::fs::stat(&logp) {
                            Ok(st) => st.is_dir(),
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                            Err(e) => {
                                warn(&format!("unable to stat {}: {}", logp.to_string_lossy(), strerror(&e)));
                                self.deadline_in(now + 3 * SECOND);
                                continue;
                            }
                        }
                    };
                    let pipe = if logged {
                        match fd::pipe(false) {
                            Ok(p) => Some(p),
                            Err(e) => {
                                warn(&format!("unable to pipecoe: {}", strerror(&e)));
                                self.deadline_in(now + 3 * SECOND);
                                continue;
                            }
                        }
                    } else {
                        None
                    };
                    self.services.push(Service {
                        dev,
                        ino,
                        catch_all,
                        active: false,
                        logged,
                        pipe,
                        main: Slot::default(),
                        log: Slot::default(),
                        reactivate: false,
                    });
                    self.services.len() - 1
                }
            };
            self.services[i].active = true;
            self.start_supervisors(i, name.to_bytes(), now);
        }
        // Forget inactive services whose supervisors are all gone.
        self.services.retain(|s| s.active || !s.dead());
    }

    /// Starts the supervisors of service `i` (entry `name`) that are not running and may be.
    #[link_section = ".text.hot.merit"]
    fn start_supervisors(&mut self, i: usize, name: &[u8], now: u64) {
        let (sup, exec_fail) = (&self.supervise, &self.exec_fail[..]);
        let s = &mut self.services[i];
        if s.logged && s.log.pid.is_none() && now >= s.log.not_before {
            let mut arg = name.to_vec();
            arg.extend_from_slice(b"/log");
            let read_end = s.pipe.as_ref().map(|p| p.0.as_raw_fd());
            let moves: Vec<(RawFd, RawFd)> = read_end.map(|r| (r, 0)).into_iter().collect();
            s.log.pid = spawn_supervisor(sup, exec_fail, &arg, &moves, &mut s.log.not_before, now);
        }
        if s.main.pid.is_none() && now >= s.main.not_before {
            let mut moves: Vec<(RawFd, RawFd)> = Vec::new();
            if let Some(p) = &s.pipe {
                moves.push((p.1.as_raw_fd(), 1));
            }
            if let (true, Some(c)) = (s.catch_all, self.console) {
                moves.push((c, 2));
            }
            s.main.pid = spawn_supervisor(sup, exec_fail, name, &moves, &mut s.main.not_before, now);
        }
        // A supervisor not running now is retried when it may be.
        let (log_nb, main_nb) = (s.log.not_before, s.main.not_before);
        let (log_down, main_down) = (s.logged && s.log.pid.is_none(), s.main.pid.is_none());
        if log_down {
            self.deadline_in(log_nb);
        }
        if main_down {
            self.deadline_in(main_nb);
        }
    }

    /// Collects every dead child (we may be PID 1); tracks our supervisors.
    #[link_section = ".text.hot.merit"]
    fn reap(&mut self) -> std::io::Result<()> {
        let now = clock::mono_ns();
        while let Some(r) = merit_sys::process::reap_one()? {
            for s in &mut self.services {
                let which = if s.main.pid == Some(r.pid) {
                    &mut s.main
                } else if s.log.pid == Some(r.pid) {
                    &mut s.log
                } else {
                    continue;
                };
                which.pid = None;
                which.not_before = now + SECOND;
                if s.active {
                    self.next_scan = Some(self.next_scan.map_or(now + SECOND, |d| d.min(now + SECOND)));
                } else if s.logged {
                    if s.pipe.is_some() {
                        // The other side must see EOF/EPIPE now.
                        s.pipe = None;
                    } else if s.reactivate {
                        self.scan_flag = true;
                    }
                }
                break;
            }
        }
        self.services.retain(|s| s.active || !s.dead());
        Ok(())
    }

    fn kill(&mut self, k: Kill) {
        let inactive_only = matches!(k, Kill::InactiveHup | Kill::InactiveTerm);
        let logger_sig = match k {
            Kill::InactiveHup | Kill::AllHup => signal::SIGHUP,
            Kill::InactiveTerm | Kill::AllTerm => signal::SIGTERM,
        };
        for s in &self.services {
            if inactive_only && s.active {
                continue;
            }
            let main_sig = if s.is_catch_all() { logger_sig } else { signal::SIGTERM };
            if let Some(p) = s.main.pid {
                let _ = signal::kill(p, main_sig);
            }
            if let Some(p) = s.log.pid {
                let _ = signal::kill(p, logger_sig);
            }
        }
    }
}

/// Spawns `s6-supervise ARG` with the given descriptor moves, in our session, without waiting
/// for its exec (as s6 does: a child that cannot exec prints why and dies, and is respawned a
/// second later like any dead supervisor).
#[link_section = ".text.hot.merit"]
fn spawn_supervisor(
    sup: &CString,
    exec_fail: &[u8],
    arg: &[u8],
    moves: &[(RawFd, RawFd)],
    not_before: &mut u64,
    now: u64,
) -> Option<i32> {
    let Ok(carg) = CString::new(arg) else { return None };
    let argv = [c"s6-supervise".into(), carg];
    let spawn = Spawn { path: sup, argv: &argv, fd_moves: moves, lock_wait: None, setsid: false };
    match merit_sys::process::spawn_detached(&spawn, exec_fail, 111) {
        Ok(pid) => Some(pid),
        Err(e) => {
            warn(&format!("unable to fork for {}: {}", String::from_utf8_lossy(arg), strerror(&e)));
            *not_before = now + 4 * SECOND;
            None
        }
    }
}

/// execs `.s6-svscan/crash`, or exits 111.
fn crash(msg: &str) -> ! {
    warn(msg);
    warn("executing into .s6-svscan/crash");
    signal::unblock_all();
    // A crash caused by a lowered descriptor limit must not also stop the crash script (or its
    // interpreter's dynamic loader) from opening files.
    let _ = merit_sys::system::raise_nofile_limit();
    let e = merit_sys::process::execv(c".s6-svscan/crash", &[c".s6-svscan/crash".into()]);
    fatal(111, &format!("unable to exec .s6-svscan/crash: {}", strerror(&e)))
}

/// EBADF, what `fcntl(F_GETFD)` reports for a descriptor that is not open.
fn ebadf() -> std::io::Error {
    merit_sys::errno::error(merit_sys::errno::EBADF)
}

/// The signals we handle and the script each may be diverted to.
const SCRIPTED: [(i32, &str); 8] = [
    (libc_sig::SIGHUP, "SIGHUP"),
    (libc_sig::SIGINT, "SIGINT"),
    (libc_sig::SIGTERM, "SIGTERM"),
    (libc_sig::SIGQUIT, "SIGQUIT"),
    (libc_sig::SIGUSR1, "SIGUSR1"),
    (libc_sig::SIGUSR2, "SIGUSR2"),
    (libc_sig::SIGPWR, "SIGPWR"),
    (libc_sig::SIGWINCH, "SIGWINCH"),
];

/// SIGRTMIN+3 (kernel number 37): systemd's "halt", the signal podman's `stop` sends to a
/// container whose command is `/sbin/init` (its systemd mode). Caught only as PID 1, where an
/// uncaught signal is dropped anyway (elsewhere it would kill the scanner, as it kills s6's),
/// and diverted to `.s6-svscan/SIGRTMIN+3` when that exists; otherwise ignored.
const SIGRTMIN_3: (i32, &str) = (37, "SIGRTMIN+3");

mod libc_sig {
    pub use merit_sys::signal::*;
    pub const SIGPWR: i32 = 30;
    pub const SIGWINCH: i32 = 28;
    pub const SIGABRT: i32 = 6;
}

/// Spawns `.s6-svscan/SIGNAME`; false if it could not be run (then the default applies).
fn run_signal_script(name: &str) -> bool {
    let path = format!(".s6-svscan/{name}");
    let Ok(c) = CString::new(path.clone()) else { return false };
    match spawn(&Spawn { path: &c, argv: std::slice::from_ref(&c), fd_moves: &[], lock_wait: None, setsid: false }) {
        Ok(_) => true,
        Err(SpawnError::Exec(_, e)) => {
            if e.raw_os_error() != Some(merit_sys::errno::ENOENT) {
                warn(&format!("unable to spawn {path}: {}", strerror(&e)));
            }
            false
        }
        Err(SpawnError::Fork(e)) => {
            warn(&format!("unable to spawn {path}: {}", strerror(&e)));
            false
        }
    }
}

#[link_section = ".text.hot.merit"]
pub fn main() {
    let args: Vec<String> = merit_sys::startup::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let raw: Vec<OsString> = merit_sys::startup::args_os().collect();
    let (mut max, mut rescan, mut notif, mut console) = (500u32, 0u32, None::<i32>, None::<i32>);
    let mut i = 1;
    let usage = || -> ! { msg::die_usage(PROG, USAGE) };
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        // Every option takes an argument: the rest of this word, else the next word.
        let c = a.as_bytes()[1];
        if !matches!(c, b'c' | b't' | b'd' | b'X') {
            usage();
        }
        let rest = &a[2..];
        let val = if !rest.is_empty() {
            rest.to_string()
        } else {
            i += 1;
            match args.get(i) {
                Some(v) => v.clone(),
                None => usage(),
            }
        };
        // An `unsigned int`, as s6 takes it (uint0_scan): anything else is a usage error.
        let Some(n) = msg::parse_uint(val.as_bytes()) else { usage() };
        // s6 stores a descriptor in an `int`: one that does not fit is negative, i.e. unset.
        let fd = i32::try_from(n).ok();
        match c {
            b'c' => max = n,
            b't' => rescan = n,
            b'd' => notif = fd,
            _ => console = fd,
        }
        i += 1;
    }
    let max = max.clamp(2, 90000) as usize;
    if let Some(n) = notif {
        if n < 3 {
            fatal(100, "notification fd must be 3 or more");
        }
        if !fd::is_open(n) {
            fatal(100, &format!("invalid notification fd: {}", strerror(&ebadf())));
        }
    }
    if let Some(x) = console {
        if x < 3 {
            fatal(100, "console holder fd must be 3 or more");
        }
        if !fd::is_open(x) {
            fatal(100, &format!("invalid console holder fd: {}", strerror(&ebadf())));
        }
        let _ = fd::set_cloexec(x, true);
    }
    fd::ensure_stdio();
    if let Some(dir) = raw.get(i) {
        if let Err(e) = fd::chdir(Path::new(dir)) {
            fatal(111, &format!("unable to chdir: {}", strerror(&e)));
        }
    }

    let old = merit_sys::umask(0);
    // Made 0700 by mkdir(2) itself (under umask 0): never open to other users, even briefly.
    match std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700).create(".s6-svscan") {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if !Path::new(".s6-svscan").is_dir() {
                fatal(100, ".s6-svscan exists and is not a directory");
            }
        }
        Err(e) => fatal(111, &format!("unable to mkdir .s6-svscan: {}", strerror(&e))),
    }
    use merit_sys::flags::*;
    let lockf = match fd::open(Path::new(".s6-svscan/lock"), O_WRONLY | O_NONBLOCK | O_CREAT | O_CLOEXEC, 0o600) {
        Ok(f) => f,
        Err(e) => fatal(111, &format!("unable to open .s6-svscan/lock: {}", strerror(&e))),
    };
    match lock::try_write_lock(lockf.as_raw_fd()) {
        Ok(true) => {}
        Ok(false) => fatal(100, "another instance of s6-svscan is already running on the same directory"),
        Err(e) => fatal(111, &format!("unable to lock .s6-svscan/lock: {}", strerror(&e))),
    }
    match merit_sys::mkfifo(Path::new(".s6-svscan/control"), 0o600) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            use std::os::unix::fs::FileTypeExt;
            if !std::fs::metadata(".s6-svscan/control").map(|m| m.file_type().is_fifo()).unwrap_or(false) {
                fatal(100, ".s6-svscan/control is not a FIFO");
            }
        }
        Err(e) => fatal(111, &format!("unable to mkfifo .s6-svscan/control: {}", strerror(&e))),
    }
    merit_sys::umask(old);
    let control = match fd::open(Path::new(".s6-svscan/control"), O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0) {
        Ok(f) => f,
        Err(e) => fatal(111, &format!("unable to open .s6-svscan/control: {}", strerror(&e))),
    };
    let _control_w = match fd::open(Path::new(".s6-svscan/control"), O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0) {
        Ok(f) => f,
        Err(e) => fatal(111, &format!("unable to open .s6-svscan/control: {}", strerror(&e))),
    };
    let mut sigs = vec![libc_sig::SIGCHLD, libc_sig::SIGALRM, libc_sig::SIGABRT];
    sigs.extend(SCRIPTED.iter().map(|s| s.0));
    if merit_sys::getpid() == 1 {
        sigs.push(SIGRTMIN_3.0);
    }
    let sigfd = match signal::signalfd(&sigs) {
        Ok(f) => f,
        Err(e) => fatal(111, &format!("unable to set up signals: {}", strerror(&e))),
    };
    let _ = signal::set_noop_handler(signal::SIGPIPE);
    if let Some(n) = notif {
        let _ = fd::write(n, b"\n");
        fd::close(n);
    }

    let supervise = find_supervise();
    let exec_fail = format!("{PROG} (child): fatal: unable to exec {}: ", supervise.to_string_lossy()).into_bytes();
    let mut sc = Scanner {
        supervise,
        exec_fail,
        max,
        services: Vec::new(),
        scan_flag: true,
        reap_flag: true,
        next_scan: None,
        rescan_every: (rescan > 0).then_some(u64::from(rescan) * 1_000_000),
        pending: None,
        console,
    };
    if let Some(p) = sc.rescan_every {
        sc.next_scan = Some(clock::mono_ns() + p);
    }

    // Set by the triggers that leave the loop (the last one wins, as in s6: `-tb` kills, then
    // does not wait; `-bt` waits). Every letter and signal of one wake-up is handled first.
    let mut leave: Option<Ending> = None;
    let ending = loop {
        if sc.reap_flag {
            sc.reap_flag = false;
            if let Err(e) = sc.reap() {
                crash(&format!("unable to wait: {}", strerror(&e)));
            }
        }
        if sc.scan_flag {
            sc.scan_flag = false;
            sc.scan();
        }
        if let Some(k) = sc.pending.take() {
            sc.kill(k);
        }
        let timeout = sc.next_scan.map(|d| d.saturating_sub(clock::mono_ns()).div_ceil(1_000_000));
        let mut set = [fd::PollFd::new(sigfd.as_raw_fd()), fd::PollFd::new(control.as_raw_fd())];
        if timeout != Some(0) {
            if let Err(e) = fd::poll(&mut set, timeout) {
                crash(&format!("unable to poll: {}", strerror(&e)));
            }
        }
        let now = clock::mono_ns();
        if let Some(d) = sc.next_scan {
            if now >= d {
                sc.scan_flag = true;
                sc.next_scan = sc.rescan_every.map(|p| now + p);
            }
        }
        // A kill request replaces any earlier one not yet sent (s6 assigns, it does not OR):
        // e.g. `-tn` ends up killing only the inactive services.
        if set[0].ready {
            loop {
                let sig = match signal::read_signal(sigfd.as_raw_fd()) {
                    Ok(Some(s)) => s,
                    Ok(None) => break,
                    Err(e) => crash(&format!("unable to read signals: {}", strerror(&e))),
                };
                match sig {
                    libc_sig::SIGCHLD => sc.reap_flag = true,
                    libc_sig::SIGALRM => sc.scan_flag = true,
                    libc_sig::SIGABRT => leave = Some(Ending::NoWait),
                    _ => {
                        let Some(&(_, name)) = SCRIPTED.iter().chain([&SIGRTMIN_3]).find(|s| s.0 == sig) else {
                            continue;
                        };
                        if run_signal_script(name) {
                            continue;
                        }
                        match sig {
                            libc_sig::SIGHUP => {
                                sc.scan_flag = true;
                                sc.pending = Some(Kill::InactiveHup);
                            }
                            libc_sig::SIGINT | libc_sig::SIGTERM => {
                                sc.pending = Some(Kill::AllHup);
                                leave = Some(Ending::Wait);
                            }
                            libc_sig::SIGQUIT => {
                                sc.pending = Some(Kill::AllTerm);
                                leave = Some(Ending::Wait);
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        if set[1].ready {
            let mut buf = [0u8; 64];
            loop {
                let n = match fd::read(control.as_raw_fd(), &mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.raw_os_error() == Some(merit_sys::errno::EAGAIN) => break,
                    Err(e) => crash(&format!("unable to read control FIFO: {}", strerror(&e))),
                };
                for &b in &buf[..n] {
                    match b {
                        b'z' => sc.reap_flag = true,
                        b'a' => sc.scan_flag = true,
                        b'b' => leave = Some(Ending::NoWait),
                        b'h' => {
                            sc.scan_flag = true;
                            sc.pending = Some(Kill::InactiveHup);
                        }
                        b'n' => sc.pending = Some(Kill::InactiveHup),
                        b'N' => sc.pending = Some(Kill::InactiveTerm),
                        b't' | b'i' => {
                            sc.pending = Some(Kill::AllHup);
                            leave = Some(Ending::Wait);
                        }
                        b'q' => {
                            sc.pending = Some(Kill::AllTerm);
                            leave = Some(Ending::Wait);
                        }
                        other => {
                            // The byte as is, like s6 (not as a UTF-8 encoded char).
                            msg::warn(PROG, &[b"received unknown control command: ", &[other]]);
                        }
                    }
                }
                if n < buf.len() {
                    break;
                }
            }
        }
        if let Some(e) = leave {
            break e;
        }
    };

    // ---- finish (scandir.md §6) ----
    if let Some(k) = sc.pending.take() {
        sc.kill(k);
    }
    let has_catch_all = sc.services.iter().any(|s| s.is_catch_all());
    for s in &mut sc.services {
        s.pipe = None;
    }
    if has_catch_all {
        if let Ok(null) = fd::open(Path::new("/dev/null"), O_WRONLY, 0) {
            let _ = fd::dup2(null.as_raw_fd(), 1);
        }
    }
    if let Some(x) = console {
        let _ = fd::dup2(x, 2);
        let _ = fd::dup2(x, 1);
    }
    if ending == Ending::Wait {
        while sc.services.iter().any(|s| !s.dead()) {
            match merit_sys::process::wait_any() {
                Ok(pid) => {
                    for s in &mut sc.services {
                        if s.main.pid == Some(pid) {
                            s.main.pid = None;
                        }
                        if s.log.pid == Some(pid) {
                            s.log.pid = None;
                        }
                    }
                }
                Err(_) => break,
            }
        }
    } else {
        let _ = sc.reap();
    }
    drop(sigfd);
    signal::unblock_all();
    let e = merit_sys::process::execv(c".s6-svscan/finish", &[c".s6-svscan/finish".into()]);
    if e.raw_os_error() == Some(merit_sys::errno::ENOENT) {
        msg::exit(0);
    }
    crash(&format!("unable to exec finish script .s6-svscan/finish: {}", strerror(&e)));
}
