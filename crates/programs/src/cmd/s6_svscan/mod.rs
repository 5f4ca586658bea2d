//! `s6-svscan [ -c max ] [ -t rescan ] [ -d notif ] [ -X consoleholder ] [ dir ]`:
//! one `s6-supervise` per service directory of the scan directory (and one more for its `log/`),
//! compatible with s6 2.11.3.2 (spec/scandir.md).
//!
//! The `s6-supervise` it runs is the one next to its own executable when there is one (the
//! executable itself when it is the multi-call binary `merit` and nothing is beside it), else
//! the first on PATH. It can be PID 1: the reaper collects every child, not only its supervisors.
//!
//! The shape is s6's own: [`main`] parses the options, sets up the control directory and the
//! signals, then loops; every control letter and every signal becomes a [`Command`], recorded
//! by [`Wants::apply`]; `finish` kills, waits and execs `.s6-svscan/finish`. What the scan,
//! the reaper and the kill requests decide is in [`merit_core::scan`]; its I/O in
//! `supervisors.rs`.

mod supervisors;

use crate::getopt::{Getopt, Opt};
use crate::msg;
use merit_core::scan::{on_signal, Command, Ending, Signaled, Wants};
use merit_sys::flags::{O_CLOEXEC, O_CREAT, O_NONBLOCK, O_RDONLY, O_WRONLY};
use merit_sys::process::{spawn, Spawn, SpawnError};
use merit_sys::signal::{SCANNER_OWN, SCANNER_PID1, SCANNER_SCRIPTED, SIGPIPE};
use merit_sys::{clock, fd, lock, signal, strerror};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use supervisors::Supervisors;

const PROG: &str = "s6-svscan";
const USAGE: &str = "s6-svscan [ -c maxservices ] [ -t timeout ] [ -d notif ] [ -X consoleholder ] [ dir ]";

// Diagnostics go through the one path that never blocks or panics: as PID 1, stderr is the
// catch-all logger's FIFO, which may have no reader or be full.
fn warn(text: &str) {
    msg::warn(PROG, &[text.as_bytes()]);
}
fn fatal(code: i32, text: &str) -> ! {
    msg::die(PROG, code, &[text.as_bytes()])
}

struct Options {
    /// `-c`: at most this many services.
    max: usize,
    /// `-t`: rescan period in milliseconds, 0 for none.
    rescan_ms: u32,
    /// `-d`: readiness notification descriptor.
    notif: Option<RawFd>,
    /// `-X`: console holder descriptor.
    console: Option<RawFd>,
    /// The scan directory; else the current one.
    dir: Option<Vec<u8>>,
}

/// The options as s6 takes them: every value an `unsigned int` (else usage), `-c` clamped.
fn parse_options() -> Options {
    let args = msg::args();
    let usage = || -> ! { msg::die_usage(PROG, USAGE) };
    let mut o = Options { max: 500, rescan_ms: 0, notif: None, console: None, dir: None };
    let mut opts = Getopt::new(&args, b"c:t:d:X:");
    for opt in opts.by_ref() {
        let Opt::Letter(c, Some(value)) = opt else { usage() };
        let Some(n) = msg::parse_uint(value) else { usage() };
        // s6 stores a descriptor in an `int`: one that does not fit is negative, i.e. unset.
        let fd = i32::try_from(n).ok();
        match c {
            b'c' => o.max = n.clamp(2, 90000) as usize,
            b't' => o.rescan_ms = n,
            b'd' => o.notif = fd,
            _ => o.console = fd,
        }
    }
    o.dir = opts.rest().first().cloned();
    o
}

/// Checks the `-d` and `-X` descriptors, as s6 does before anything else.
fn check_descriptors(o: &Options) {
    if let Some(n) = o.notif {
        if n < 3 {
            fatal(100, "notification fd must be 3 or more");
        }
        if !fd::is_open(n) {
            fatal(100, &format!("invalid notification fd: {}", strerror(&ebadf())));
        }
    }
    if let Some(x) = o.console {
        if x < 3 {
            fatal(100, "console holder fd must be 3 or more");
        }
        if !fd::is_open(x) {
            fatal(100, &format!("invalid console holder fd: {}", strerror(&ebadf())));
        }
        let _ = fd::set_cloexec(x, true);
    }
}

/// EBADF, what `fcntl(F_GETFD)` reports for a descriptor that is not open.
fn ebadf() -> std::io::Error {
    merit_sys::errno::error(merit_sys::errno::EBADF)
}

/// `.s6-svscan/`: the lock held for the scanner's life, and the control FIFO opened for reading
/// (and for writing too, so that it never reports end of file).
struct Control {
    _lock: OwnedFd,
    fifo: OwnedFd,
    _writer: OwnedFd,
}

/// Creates `.s6-svscan/`, takes its lock and opens its control FIFO; dies if it cannot.
fn control_init() -> Control {
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
    let lock = match fd::open(Path::new(".s6-svscan/lock"), O_WRONLY | O_NONBLOCK | O_CREAT | O_CLOEXEC, 0o600) {
        Ok(f) => f,
        Err(e) => fatal(111, &format!("unable to open .s6-svscan/lock: {}", strerror(&e))),
    };
    match lock::try_write_lock(lock.as_raw_fd()) {
        Ok(true) => {}
        Ok(false) => fatal(100, "another instance of s6-svscan is already running on the same directory"),
        Err(e) => fatal(111, &format!("unable to lock .s6-svscan/lock: {}", strerror(&e))),
    }
    match merit_sys::mkfifo(Path::new(".s6-svscan/control"), 0o600) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if !merit_sys::fs::stat(c".s6-svscan/control").is_ok_and(|st| st.is_fifo()) {
                fatal(100, ".s6-svscan/control is not a FIFO");
            }
        }
        Err(e) => fatal(111, &format!("unable to mkfifo .s6-svscan/control: {}", strerror(&e))),
    }
    merit_sys::umask(old);
    let open = |flags| match fd::open(Path::new(".s6-svscan/control"), flags | O_NONBLOCK | O_CLOEXEC, 0) {
        Ok(f) => f,
        Err(e) => fatal(111, &format!("unable to open .s6-svscan/control: {}", strerror(&e))),
    };
    Control { fifo: open(O_RDONLY), _writer: open(O_WRONLY), _lock: lock }
}

/// The signalfd of the signals the scanner handles: its own, the ones it may divert to
/// `.s6-svscan/SIGNAME`, and as PID 1 SIGRTMIN+3 too (see [`merit_core::scan::SIGRTMIN_3_SCRIPT`]).
fn signals_init() -> OwnedFd {
    let sigs: Vec<i32> = if merit_sys::getpid() == 1 {
        SCANNER_PID1.to_vec()
    } else {
        SCANNER_OWN.iter().copied().chain(SCANNER_SCRIPTED.iter().map(|s| s.0)).collect()
    };
    match signal::signalfd(&sigs) {
        Ok(f) => f,
        Err(e) => fatal(111, &format!("unable to set up signals: {}", strerror(&e))),
    }
}

merit_sys::hot! {
    pub fn main() {
        let o = parse_options();
        check_descriptors(&o);
        fd::ensure_stdio();
        if let Some(dir) = &o.dir {
            if let Err(e) = fd::chdir(msg::bytes_path(dir)) {
                fatal(111, &format!("unable to chdir: {}", strerror(&e)));
            }
        }
        let control = control_init();
        let sigfd = signals_init();
        let _ = signal::set_noop_handler(SIGPIPE);
        if let Some(n) = o.notif {
            let _ = fd::write(n, b"\n");
            fd::close(n);
        }
        let rescan_every = (o.rescan_ms > 0).then_some(u64::from(o.rescan_ms) * 1_000_000);
        let mut sv = Supervisors::new(o.max, rescan_every, o.console);
        let mut wants = Wants::default();
        // The start-up's text windows need not stay charged to the scanner (bench/README.md,
        // "scan_log"): the loop faults back what it runs.
        merit_sys::startup::drop_startup_text();
        let ending = run(&mut sv, &mut wants, &sigfd, &control.fifo);
        drop(sigfd);
        finish(sv, wants, ending, o.console)
    }
}

merit_sys::hot! {
    /// The loop phase: acts on what the last wake-up asked for, then waits for a signal, a control
    /// letter or the next scan. Every letter and signal of one wake-up is handled before leaving.
    fn run(sv: &mut Supervisors, wants: &mut Wants, sigfd: &OwnedFd, control: &OwnedFd) -> Ending {
        loop {
            if wants.reap {
                wants.reap = false;
                match sv.reap() {
                    Ok(scan) => wants.scan |= scan,
                    Err(e) => crash(&format!("unable to wait: {}", strerror(&e))),
                }
            }
            if wants.scan {
                wants.scan = false;
                sv.scan();
            }
            if let Some(k) = wants.kill.take() {
                sv.kill(k);
            }
            let timeout = sv.table.timeout_ms(clock::mono_ns());
            let mut set = [fd::PollFd::new(sigfd.as_raw_fd()), fd::PollFd::new(control.as_raw_fd())];
            if timeout != Some(0) {
                if let Err(e) = fd::poll(&mut set, timeout) {
                    crash(&format!("unable to poll: {}", strerror(&e)));
                }
            }
            if sv.table.scan_due(clock::mono_ns()) {
                wants.scan = true;
            }
            let [signals, letters] = set;
            if signals.ready {
                read_signals(sigfd, wants);
            }
            if letters.ready {
                read_control(control, wants);
            }
            if let Some(e) = wants.leave {
                return e;
            }
        }
    }
}

/// Every pending signal, as a [`Command`] (when not diverted to a script).
fn read_signals(sigfd: &OwnedFd, wants: &mut Wants) {
    loop {
        match signal::read_signal(sigfd.as_raw_fd()) {
            Ok(Some(sig)) => match on_signal(sig) {
                Some(Signaled::Do(c)) => wants.apply(c),
                Some(Signaled::Script { name, otherwise }) => {
                    if let (false, Some(c)) = (run_signal_script(name), otherwise) {
                        wants.apply(c);
                    }
                }
                None => {}
            },
            Ok(None) => return,
            Err(e) => crash(&format!("unable to read signals: {}", strerror(&e))),
        }
    }
}

/// Every pending control letter, as a [`Command`].
fn read_control(control: &OwnedFd, wants: &mut Wants) {
    let mut buf = [0u8; 64];
    loop {
        let n = match fd::read(control.as_raw_fd(), &mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if merit_sys::errno::is(&e, merit_sys::errno::EAGAIN) => return,
            Err(e) => crash(&format!("unable to read control FIFO: {}", strerror(&e))),
        };
        for &b in buf.get(..n).unwrap_or_default() {
            match Command::from_byte(b) {
                Some(c) => wants.apply(c),
                // The byte as is, like s6 (not as a UTF-8 encoded char).
                None => msg::warn(PROG, &[b"received unknown control command: ", &[b]]),
            }
        }
        if n < buf.len() {
            return;
        }
    }
}

/// Spawns `.s6-svscan/SIGNAME`; false if it could not be run (then the default applies).
fn run_signal_script(name: &str) -> bool {
    let path = format!(".s6-svscan/{name}");
    let Ok(c) = CString::new(path.clone()) else { return false };
    match spawn(&Spawn {
        path: &c,
        argv: std::slice::from_ref(&c),
        fd_moves: &[],
        lock_wait: None,
        setsid: false,
        cgroup_procs: None,
    }) {
        Ok(_) => true,
        Err(SpawnError::Exec(_, e)) => {
            if !merit_sys::errno::is(&e, merit_sys::errno::ENOENT) {
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

/// The finish phase (scandir.md §6): the last kill request, the pipes closed, stdout and stderr
/// away from the catch-all logger, the supervisors waited for (unless `b`), then
/// `.s6-svscan/finish`.
fn finish(mut sv: Supervisors, mut wants: Wants, ending: Ending, console: Option<RawFd>) -> ! {
    if let Some(k) = wants.kill.take() {
        sv.kill(k);
    }
    let has_catch_all = sv.table.has_catch_all();
    sv.table.close_pipes();
    if has_catch_all {
        if let Ok(null) = fd::open(Path::new("/dev/null"), O_WRONLY, 0) {
            let _ = fd::dup2(null.as_raw_fd(), 1);
        }
    }
    if let Some(x) = console {
        let _ = fd::dup2(x, 2);
        let _ = fd::dup2(x, 1);
    }
    match ending {
        Ending::Wait => sv.wait_all(),
        Ending::NoWait => {
            let _ = sv.reap();
        }
    }
    signal::unblock_all();
    let e = merit_sys::process::execv(c".s6-svscan/finish", &[c".s6-svscan/finish".into()]);
    if merit_sys::errno::is(&e, merit_sys::errno::ENOENT) {
        msg::exit(0);
    }
    crash(&format!("unable to exec finish script .s6-svscan/finish: {}", strerror(&e)));
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
