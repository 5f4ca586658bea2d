//! `s6-supervise DIR`: supervises one service directory, wire-compatible with s6 2.11.3.2.
//!
//! The decisions live in `merit_core::supervisor::Supervisor`; this file is the driver that
//! sets up `supervise/` and `event/`, waits on a signalfd, the control FIFO and the notification
//! pipe, and carries out the effects the state machine returns.
//!
//! Differences from s6 2.11.3.2, all bug fixes (README, "Where merit differs"):
//! * `lock-fd`: `supervise/service-lock` is created when missing (s6 opens it without
//!   `O_CREAT`, so the service never starts), and `run` really holds the lock on fd L (in s6
//!   the close-on-exec of the other descriptors of the file releases it at exec). A child that
//!   waits for the lock does not hold the supervisor (it is not waited for; a failed exec is a
//!   death with exit code 127).
//! * Diagnostics never block (`msg`): s6 blocks on a full stderr.
//! * Configuration files and `./down` are opened non-blocking; a FIFO (anything but a regular
//!   file) in their place is ignored with a warning.
//! * `notification-fd`: the pipe is read without blocking, so a partial line (no newline yet)
//!   no longer freezes the supervisor.

use crate::msg;
use merit_core::config::{self, parse_down_signal, parse_fd_file, parse_uint_file};
use merit_core::status::{tally_append, DeathRecord, DEATH_RECORD_SIZE, DEATH_TALLY_DEFAULT, DEATH_TALLY_MAX};
use merit_core::supervisor::{
    Effect, Effects, Input, Now, ServiceConfig, SpawnOutcome, Supervisor, SupervisorSignal, SIGCONT, SIGKILL, SIGTERM,
};
use merit_core::tai::Tain;
use merit_sys::process::{spawn, Spawn, SpawnError};
use merit_sys::{clock, fd, fifodir, lock, signal, strerror};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

const PROG: &str = "s6-supervise";

fn now() -> Now {
    let (s, ns) = clock::wall();
    Now { wall: Tain::from_unix(s, ns), mono: clock::mono_ns() }
}

/// Prefix of every diagnostic: `s6-supervise DIR: `, through the one diagnostics path
/// ([`msg::put_line`]), which never blocks and never panics.
struct Diag {
    /// `s6-supervise DIR`
    head: Vec<u8>,
}

impl Diag {
    fn new(dir: &[u8]) -> Diag {
        Diag { head: [PROG.as_bytes(), b" ", dir].concat() }
    }
    fn warn(&self, msg: &str) {
        msg::put_line(&[&self.head], "warning", &[msg.as_bytes()]);
    }
    fn warn_err(&self, msg: &str, e: &std::io::Error) {
        msg::put_line(&[&self.head], "warning", &[msg.as_bytes(), b": ", strerror(e).as_bytes()]);
    }
    fn fatal(&self, code: i32, msg: &str) -> ! {
        msg::put_line(&[&self.head], "fatal", &[msg.as_bytes()]);
        msg::exit(code)
    }
    fn fatal_err(&self, code: i32, msg: &str, e: &std::io::Error) -> ! {
        self.fatal(code, &format!("{msg}: {}", strerror(e)))
    }
}

/// Reads a small configuration file of the service directory: `None` when absent, or when it
/// cannot be read or is not a regular file (warned: a FIFO or a device in its place must not
/// freeze the supervisor, and is ignored as s6 ignores an unreadable file).
fn read_small(diag: &Diag, name: &str, max: usize) -> Option<Vec<u8>> {
    use merit_sys::fs::Small;
    let c = CString::new(name).ok()?;
    match merit_sys::fs::read_small(&c, max) {
        Ok(Small::Data(b)) => Some(b),
        Ok(Small::Absent) => None,
        Ok(Small::NotRegular) => {
            diag.warn(&format!("{name} is not a regular file, ignoring it"));
            None
        }
        Err(e) => {
            diag.warn_err(&format!("unable to open {name}"), &e);
            None
        }
    }
}

/// The service directory's configuration files, read when the state machine asks.
struct DirConfig<'a> {
    diag: &'a Diag,
}

impl DirConfig<'_> {
    /// Reads and parses configuration file `name`: `None` when absent or invalid (warned).
    fn read<T>(&self, name: &str, parse: fn(&[u8]) -> Result<T, config::ConfigError>) -> Option<T> {
        let b = read_small(self.diag, name, config::UINT_FILE_MAX)?;
        match parse(&b) {
            Ok(v) => Some(v),
            Err(_) => {
                self.diag.warn(&format!("invalid {name}"));
                None
            }
        }
    }
    fn uint(&self, name: &str) -> Option<u32> {
        self.read(name, parse_uint_file)
    }
    fn fd_number(&self, name: &str) -> Option<i32> {
        self.read(name, parse_fd_file)
    }
}

impl ServiceConfig for DirConfig<'_> {
    fn down_signal(&mut self) -> merit_core::signals::Signal {
        match read_small(self.diag, "down-signal", config::DOWN_SIGNAL_MAX) {
            Some(b) => parse_down_signal(&b).unwrap_or_else(|_| {
                self.diag.warn("invalid down-signal");
                SIGTERM
            }),
            None => SIGTERM,
        }
    }
    fn timeout_kill(&mut self) -> u32 {
        self.uint("timeout-kill").unwrap_or(0)
    }
    fn timeout_finish(&mut self) -> u32 {
        self.uint("timeout-finish").unwrap_or(5000)
    }
}

/// The driver's I/O state.
struct Driver {
    diag: Diag,
    /// The argument, passed verbatim to `run` and `finish`.
    dir_arg: CString,
    sup: Supervisor,
    /// Read end of the notification pipe while `run` may still report readiness.
    notification: Option<OwnedFd>,
    /// A `run` child waiting for its `lock-fd` lock before its exec.
    pending: Option<Pending>,
}

/// A child started with `lock-fd`: it waits for the lock, then execs `run`. Until it has
/// exec'd the service is not up (the state machine stays in Down, as while s6 waits for its
/// child's exec), but the supervisor goes on answering; its report pipe says how it ended.
struct Pending {
    pid: i32,
    report: OwnedFd,
    notification: Option<OwnedFd>,
    /// Killed by us (the service was wanted down meanwhile): its end is not a start.
    cancelled: bool,
}

impl Driver {
    fn apply(&mut self, fx: Effects) {
        for &e in fx.as_slice() {
            self.effect(e);
        }
    }

    fn feed(&mut self, input: Input) {
        let mut cfg = DirConfig { diag: &self.diag };
        let fx = self.sup.step(input, now(), &mut cfg);
        self.apply(fx);
        self.cancel_pending_if_unwanted();
    }

    /// A child still waiting for its lock while the service is no longer wanted up has
    /// nothing to stop gracefully: it has not run anything yet.
    fn cancel_pending_if_unwanted(&mut self) {
        if self.sup.status().wantup {
            return;
        }
        if let Some(p) = self.pending.as_mut().filter(|p| !p.cancelled) {
            p.cancelled = true;
            let _ = signal::kill(p.pid, SIGKILL);
        }
    }

    /// Settles the pending child once its report pipe says something, or once it has died
    /// (`death`, its wait status).
    fn settle_pending(&mut self, death: Option<u16>) {
        use merit_sys::process::{read_report, Report};
        let Some(p) = &self.pending else { return };
        let report = read_report(p.report.as_raw_fd());
        if matches!(report, Report::Pending) && death.is_none() {
            return;
        }
        let Some(p) = self.pending.take() else { return };
        match report {
            Report::ExecFailed(e) => {
                let head = [&self.diag.head[..], b" (child)"].concat();
                msg::put_line(&[&head], "fatal", &[b"unable to exec run: ", strerror(&e).as_bytes()]);
                if !p.cancelled {
                    self.diag.warn("unable to spawn ./run - waiting 10 seconds");
                    self.feed(Input::RunSpawned(SpawnOutcome::ExecFailed));
                }
            }
            Report::Closed | Report::Pending if !p.cancelled => {
                self.keep_notification(p.notification);
                self.feed(Input::RunSpawned(SpawnOutcome::Spawned(p.pid as u64)));
                if let Some(w) = death {
                    self.feed(Input::RunDied(w));
                }
            }
            _ => {}
        }
        // Cancelled, and wanted up again meanwhile: that start was left to this one.
        if p.cancelled && self.sup.status().wantup && self.sup.child_pid().is_none() {
            self.effect(Effect::SpawnRun);
        }
    }

    fn effect(&mut self, e: Effect) {
        match e {
            Effect::Kill { pid, sig } => {
                let _ = signal::kill(pid as i32, sig);
            }
            Effect::KillGroup { pid, sig } => {
                let _ = signal::kill_group_of(pid as i32, sig);
            }
            Effect::WriteStatus => {
                let data = self.sup.status().encode();
                if let Err(e) =
                    fd::write_replace(Path::new("supervise/status.new"), Path::new("supervise/status"), &data)
                {
                    self.diag.warn_err("unable to write status file", &e);
                }
            }
            Effect::Event(bytes) => {
                if let Err(e) = fifodir::notify(Path::new("event"), bytes) {
                    self.diag.warn_err("unable to notify event directory", &e);
                }
            }
            Effect::CreateDownFile => {
                if let Err(e) = fd::open(Path::new("down"), libc_flags::CREATE_TRUNC, 0o666) {
                    self.diag.warn_err("unable to touch ./down", &e);
                }
            }
            Effect::RemoveDownFile => match std::fs::remove_file("down") {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => self.diag.warn_err("unable to unlink ./down", &e),
            },
            Effect::StdioToNull => {
                if let Err(e) = fd::stdio_to_null() {
                    self.diag.warn_err("unable to redirect stdin/stdout to /dev/null", &e);
                }
            }
            Effect::SpawnRun => {
                // One start at a time: a child waiting for its lock reports for itself.
                if self.pending.is_none() {
                    if let Some(outcome) = self.spawn_run() {
                        self.feed(Input::RunSpawned(outcome));
                    }
                }
            }
            Effect::SpawnFinish { code, sig } => self.spawn_finish(code, sig),
            Effect::CloseNotification => self.notification = None,
            Effect::RecordDeath(rec) => self.record_death(&rec),
            Effect::KillFinish { pid } => {
                self.diag.warn("finish script lifetime reached maximum value - sending it a SIGKILL");
                let _ = signal::kill(pid as i32, SIGCONT);
                let _ = signal::kill(pid as i32, SIGKILL);
            }
            Effect::Exit => {
                if let Some(p) = &self.pending {
                    let _ = signal::kill(p.pid, SIGKILL);
                }
                msg::exit(0)
            }
        }
    }

    /// Starts `run`; `None` when the child waits for its lock first (see [`Pending`]).
    fn spawn_run(&mut self) -> Option<SpawnOutcome> {
        let cfg = DirConfig { diag: &self.diag };
        // lock-fd first, as s6 does, then notification-fd.
        let mut lock_file: Option<(OwnedFd, i32)> = None;
        if let Some(l) = cfg.fd_number("lock-fd") {
            let f = match fd::open(Path::new("supervise/service-lock"), libc_flags::LOCK_OPEN, 0o644) {
                Ok(f) => f,
                Err(e) => {
                    self.diag.warn_err("unable to open supervise/service-lock for writing (waiting 60 seconds)", &e);
                    return Some(SpawnOutcome::ResourceFailed);
                }
            };
            if std::fs::metadata("supervise/service-lock").map(|m| m.len() > 0).unwrap_or(false) {
                self.diag.warn("supervise/service-lock was not empty, truncating it");
                let _ = fd::truncate(f.as_raw_fd());
            }
            if lock::is_write_locked_by_other(f.as_raw_fd()).unwrap_or(false) {
                self.diag.warn("another instance of the service is already running, child will block");
            }
            lock_file = Some((f, l));
        }
        let mut notif: Option<(OwnedFd, OwnedFd, i32)> = None;
        if let Some(n) = cfg.fd_number("notification-fd") {
            if lock_file.as_ref().map(|l| l.1) == Some(n) {
                self.diag.warn("unable to start service: notification-fd and lock-fd are the same");
                return Some(SpawnOutcome::FdConflict);
            }
            match fd::pipe(false) {
                Ok((r, w)) => notif = Some((r, w, n)),
                Err(e) => {
                    self.diag.warn_err("unable to pipe for notification-fd (waiting 60 seconds)", &e);
                    return Some(SpawnOutcome::ResourceFailed);
                }
            }
        }
        // Sources must not collide with targets: move them above every target first.
        let top =
            [lock_file.as_ref().map(|l| l.1), notif.as_ref().map(|n| n.2)].into_iter().flatten().max().unwrap_or(0);
        let min = (top + 1).max(16);
        let mut moves: [(i32, i32); 2] = [(-1, -1); 2];
        let mut nmoves = 0;
        let mut keep: Vec<OwnedFd> = Vec::new();
        for (src, target) in
            [notif.as_ref().map(|n| (n.1.as_raw_fd(), n.2)), lock_file.as_ref().map(|l| (l.0.as_raw_fd(), l.1))]
                .into_iter()
                .flatten()
        {
            match fd::dup_above(src, min) {
                Ok(high) => {
                    moves[nmoves] = (high.as_raw_fd(), target);
                    nmoves += 1;
                    keep.push(high);
                }
                Err(e) => {
                    self.diag.warn_err("unable to set up descriptors (waiting 60 seconds)", &e);
                    return Some(SpawnOutcome::ResourceFailed);
                }
            }
        }
        // Only the high duplicate may refer to service-lock in the child: the close-on-exec of
        // any other descriptor of that file would release run's lock at exec.
        let lock_target = lock_file.as_ref().map(|l| l.1);
        drop(lock_file);
        let argv = [CString::new("run").unwrap_or_default(), self.dir_arg.clone()];
        let path = c"./run";
        let sp = Spawn { path, argv: &argv, fd_moves: &moves[..nmoves], lock_wait: lock_target, setsid: true };
        if lock_target.is_some() {
            let result = merit_sys::process::spawn_pending(&sp);
            drop(keep);
            return match result {
                Ok((pid, report)) => {
                    let notification = notif.map(|(r, _w, _)| r);
                    self.pending = Some(Pending { pid, report, notification, cancelled: false });
                    None
                }
                Err(e) => {
                    self.diag.warn_err("unable to spawn ./run - waiting 60 seconds", &e);
                    Some(SpawnOutcome::ResourceFailed)
                }
            };
        }
        let result = spawn(&sp);
        drop(keep);
        Some(match result {
            Ok(pid) => {
                self.keep_notification(notif.map(|(r, _w, _)| r));
                SpawnOutcome::Spawned(pid as u64)
            }
            Err(SpawnError::Exec(_, e)) => {
                self.diag.warn("unable to spawn ./run - waiting 10 seconds");
                let head = [&self.diag.head[..], b" (child)"].concat();
                msg::put_line(&[&head], "fatal", &[b"unable to exec run: ", strerror(&e).as_bytes()]);
                SpawnOutcome::ExecFailed
            }
            Err(SpawnError::Fork(e)) => {
                self.diag.warn_err("unable to spawn ./run - waiting 60 seconds", &e);
                SpawnOutcome::ResourceFailed
            }
        })
    }

    /// Keeps the read end of the notification pipe of a started `run`, non-blocking.
    fn keep_notification(&mut self, read_end: Option<OwnedFd>) {
        self.notification = read_end.inspect(|r| {
            let _ = fd::set_nonblock(r.as_raw_fd(), true);
        });
    }

    fn spawn_finish(&mut self, code: u32, sig: u32) {
        // No ./finish at all: s6 would fork a child that fails to exec and exits 127 at once.
        // Skip that fork on the restart path: the service is down and ready right away, with
        // the events `dD` in one write (the sequence s6 itself sends when it cannot fork).
        if matches!(std::fs::symlink_metadata("finish"), Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
            self.feed(Input::FinishSpawned(None));
            return;
        }
        let argv = [
            CString::new("finish").unwrap_or_default(),
            CString::new(code.to_string()).unwrap_or_default(),
            CString::new(sig.to_string()).unwrap_or_default(),
            self.dir_arg.clone(),
        ];
        let result = spawn(&Spawn { path: c"./finish", argv: &argv, fd_moves: &[], lock_wait: None, setsid: true });
        match result {
            Ok(pid) => self.feed(Input::FinishSpawned(Some(pid as u64))),
            // No (executable) finish: s6's child exits 127 at once; the finishing phase still
            // happens, ending immediately. `spawn` has already reaped that child.
            Err(SpawnError::Exec(pid, _)) => {
                self.feed(Input::FinishSpawned(Some(pid as u64)));
                self.feed(Input::FinishDied(127 << 8));
            }
            Err(SpawnError::Fork(e)) => {
                self.diag.warn_err("unable to spawn ./finish", &e);
                self.feed(Input::FinishSpawned(None));
            }
        }
    }

    fn record_death(&self, rec: &DeathRecord) {
        let cfg = DirConfig { diag: &self.diag };
        let max = cfg.uint("max-death-tally").unwrap_or(DEATH_TALLY_DEFAULT);
        if max == 0 {
            return;
        }
        // The whole file (a larger max-death-tally may have filled it): the newest are kept.
        let old = match merit_sys::fs::read_small(
            c"supervise/death_tally",
            DEATH_RECORD_SIZE * (DEATH_TALLY_MAX as usize + 1),
        ) {
            Ok(merit_sys::fs::Small::Data(b)) => b,
            _ => Vec::new(),
        };
        let old = if old.len() % DEATH_RECORD_SIZE == 0 { old } else { Vec::new() };
        let new = tally_append(&old, rec, max);
        if let Err(e) =
            fd::write_replace(Path::new("supervise/death_tally.new"), Path::new("supervise/death_tally"), &new)
        {
            self.diag.warn_err("unable to write death tally", &e);
        }
    }

    /// Reaps every dead child and feeds the deaths that matter.
    fn reap(&mut self) {
        loop {
            match merit_sys::process::reap_one() {
                Ok(Some(r)) => {
                    let wstat = (r.status & 0xffff) as u16;
                    if self.pending.as_ref().is_some_and(|p| p.pid == r.pid) {
                        self.settle_pending(Some(wstat));
                    } else if Some(r.pid as u64) == self.sup.child_pid() {
                        use merit_core::supervisor::State::*;
                        match self.sup.state() {
                            Up | LastUp => self.feed(Input::RunDied(wstat)),
                            Finish | LastFinish => self.feed(Input::FinishDied(wstat)),
                            Down => {}
                        }
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    self.diag.warn_err("unable to wait for children", &e);
                    return;
                }
            }
        }
    }

    /// Reads the notification pipe without blocking.
    fn read_notification(&mut self) {
        let Some(f) = &self.notification else { return };
        let mut buf = [0u8; 512];
        loop {
            match fd::read(f.as_raw_fd(), &mut buf) {
                Ok(0) => {
                    self.notification = None;
                    return;
                }
                Ok(n) => {
                    if buf[..n].contains(&b'\n') {
                        self.feed(Input::Ready);
                        return;
                    }
                }
                Err(e) if e.raw_os_error() == Some(merit_sys::errno::EAGAIN) => return,
                Err(_) => {
                    self.notification = None;
                    return;
                }
            }
        }
    }
}

/// Flag combinations used above.
mod libc_flags {
    pub use merit_sys::flags::*;
    /// Non-blocking: a FIFO planted as `./down` must not freeze the supervisor (ENXIO instead).
    pub const CREATE_TRUNC: i32 = O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC;
    /// s6 omits O_CREAT for `service-lock` (its lock-fd bug); merit creates the file.
    pub const LOCK_OPEN: i32 = O_WRONLY | O_NONBLOCK | O_CREAT | O_CLOEXEC;
    pub const CONTROL_READ: i32 = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
    pub const CONTROL_WRITE: i32 = O_WRONLY | O_NONBLOCK | O_CLOEXEC;
}

/// Creates `event/` or `supervise/` as s6 does (servicedir.md §3 step 2), under umask 0.
///
/// The directory is made with its final permission bits by mkdir(2) itself, so that no other
/// user can ever plant a FIFO `control`, a symlink `status.new` or anything else in it. Only
/// the setgid bit of `event/` cannot be given by mkdir(2) (Linux drops it): that directory is
/// made 0700 first, then given its group and final mode, as s6's fifodir_make does, so it is
/// never wider than its final mode.
fn make_dir(diag: &Diag, name: &str, mode: u32, chown_group: bool) {
    use std::os::unix::fs::DirBuilderExt;
    let p = Path::new(name);
    let first = if mode & 0o2000 != 0 { mode & 0o700 } else { mode & 0o1777 };
    let mkdir = |p: &Path| std::fs::DirBuilder::new().mode(first).create(p);
    let created = match mkdir(p) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => false,
                Ok(_) => diag.fatal(100, &format!("{name} exists and is not a directory")),
                Err(_) => {
                    // A dangling symlink: create its target.
                    let target = match std::fs::read_link(p) {
                        Ok(t) => t,
                        Err(e) => diag.fatal_err(111, &format!("unable to readlink {name}"), &e),
                    };
                    if let Err(e) = mkdir(&target) {
                        diag.fatal_err(111, &format!("unable to mkdir {}", target.display()), &e);
                    }
                    true
                }
            }
        }
        Err(e) => diag.fatal_err(111, &format!("unable to mkdir {name}"), &e),
    };
    if created && first != mode {
        use std::os::unix::fs::PermissionsExt;
        if chown_group {
            if let Err(e) = merit_sys::chown(p, None, Some(merit_sys::getegid())) {
                diag.fatal_err(111, &format!("unable to chown {name}"), &e);
            }
        }
        if let Err(e) = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)) {
            diag.fatal_err(111, &format!("unable to chmod {name}"), &e);
        }
    }
}

#[link_section = ".text.hot.merit"]
pub fn main() {
    // First: a diagnostic to a reader that goes away must not kill us. A handler, not SIG_IGN,
    // so that run and finish start with the default disposition (exec resets handlers).
    let sigpipe = signal::set_noop_handler(signal::SIGPIPE);
    let args: Vec<std::ffi::OsString> = merit_sys::startup::args_os().collect();
    let Some(dir) = args.get(1) else { msg::die_usage(PROG, "s6-supervise dir") };
    use std::os::unix::ffi::OsStrExt;
    let diag = Diag::new(dir.as_bytes());
    let dir_arg = match CString::new(dir.as_bytes()) {
        Ok(c) => c,
        Err(_) => diag.fatal(100, "invalid service directory name"),
    };
    if let Err(e) = sigpipe {
        diag.fatal_err(111, "unable to ignore SIGPIPE", &e);
    }
    fd::ensure_stdio();
    if let Err(e) = fd::chdir(Path::new(dir)) {
        // s6 prints this one without the directory in the prefix.
        msg::die(PROG, 111, &[b"unable to chdir to ", dir.as_bytes(), b": ", strerror(&e).as_bytes()]);
    }

    let old_umask = merit_sys::umask(0);
    make_dir(&diag, "event", 0o3730, true);
    make_dir(&diag, "supervise", 0o700, false);
    let lock_fd = match fd::open(Path::new("supervise/lock"), libc_flags::LOCK_OPEN, 0o644) {
        Ok(f) => f,
        Err(e) => diag.fatal_err(111, "unable to open supervise/lock", &e),
    };
    match lock::try_write_lock(lock_fd.as_raw_fd()) {
        Ok(true) => {}
        Ok(false) => diag.fatal(100, "another instance of s6-supervise is already running"),
        Err(e) => diag.fatal_err(111, "unable to lock supervise/lock", &e),
    }
    match merit_sys::mkfifo(Path::new("supervise/control"), 0o600) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            use std::os::unix::fs::FileTypeExt;
            match std::fs::metadata("supervise/control") {
                Ok(m) if m.file_type().is_fifo() => {}
                _ => diag.fatal(100, "supervise/control is not a FIFO"),
            }
        }
        Err(e) => diag.fatal_err(111, "unable to mkfifo supervise/control", &e),
    }
    merit_sys::umask(old_umask);
    let control = match fd::open(Path::new("supervise/control"), libc_flags::CONTROL_READ, 0) {
        Ok(f) => f,
        Err(e) => diag.fatal_err(111, "unable to read supervise/control", &e),
    };
    let _control_w = match fd::open(Path::new("supervise/control"), libc_flags::CONTROL_WRITE, 0) {
        Ok(f) => f,
        Err(e) => diag.fatal_err(111, "unable to write supervise/control", &e),
    };

    let sigfd =
        match signal::signalfd(&[signal::SIGCHLD, signal::SIGTERM, signal::SIGHUP, signal::SIGQUIT, signal::SIGINT]) {
            Ok(f) => f,
            Err(e) => diag.fatal_err(111, "unable to create signalfd", &e),
        };

    if let Err(e) = fd::open(Path::new("supervise/death_tally"), libc_flags::CREATE_TRUNC, 0o666) {
        diag.fatal_err(111, "unable to truncate supervise/death_tally", &e);
    }
    let want_up = match fd::exists(Path::new("down")) {
        Ok(d) => !d,
        Err(e) => diag.fatal_err(111, "unable to access ./down", &e),
    };

    let (sup, fx) = Supervisor::start(want_up, now());
    let mut drv = Driver { diag, dir_arg, sup, notification: None, pending: None };
    drv.apply(fx);

    let mut ctlbuf = [0u8; 64];
    loop {
        let timeout = drv.sup.deadline().map(|d| {
            let n = clock::mono_ns();
            // Round up so that we never wake just before the deadline and spin.
            d.saturating_sub(n).div_ceil(1_000_000)
        });
        if timeout == Some(0) {
            drv.feed(Input::Timeout);
            continue;
        }
        let mut set = [
            fd::PollFd::new(sigfd.as_raw_fd()),
            fd::PollFd::new(control.as_raw_fd()),
            fd::PollFd::new(drv.notification.as_ref().map_or(-1, |f| f.as_raw_fd())),
            fd::PollFd::new(drv.pending.as_ref().map_or(-1, |p| p.report.as_raw_fd())),
        ];
        if let Err(e) = fd::poll(&mut set, timeout) {
            drv.diag.fatal_err(111, "unable to poll", &e);
        }
        if set[0].ready {
            let mut any = false;
            while let Ok(Some(sig)) = signal::read_signal(sigfd.as_raw_fd()) {
                any = true;
                match sig {
                    signal::SIGCHLD => drv.reap(),
                    signal::SIGTERM => drv.feed(Input::Signal(SupervisorSignal::Term)),
                    signal::SIGHUP => drv.feed(Input::Signal(SupervisorSignal::Hup)),
                    signal::SIGQUIT => drv.feed(Input::Signal(SupervisorSignal::Quit)),
                    signal::SIGINT => drv.feed(Input::Signal(SupervisorSignal::Int)),
                    _ => {}
                }
            }
            // Signals first; the FIFO is read on the next turn, as s6 does.
            if any {
                continue;
            }
        }
        if set[2].ready {
            drv.read_notification();
        }
        if set[3].ready {
            drv.settle_pending(None);
        }
        if set[1].ready {
            loop {
                match fd::read(control.as_raw_fd(), &mut ctlbuf) {
                    Ok(0) => break,
                    Ok(n) => {
                        for &b in &ctlbuf[..n] {
                            if let Some(c) = merit_core::supervisor::Control::from_byte(b) {
                                drv.feed(Input::Control(c));
                            }
                        }
                        if n < ctlbuf.len() {
                            break;
                        }
                    }
                    Err(e) if e.raw_os_error() == Some(merit_sys::errno::EAGAIN) => break,
                    Err(e) => drv.diag.fatal_err(111, "unable to read supervise/control", &e),
                }
            }
        }
        if let Some(d) = drv.sup.deadline() {
            if clock::mono_ns() >= d {
                drv.feed(Input::Timeout);
            }
        }
    }
}
