//! Starting `run` and `finish`, and the child that waits for its `lock-fd` lock.
//!
//! Every outcome goes back to the state machine as an input ([`Input::RunSpawned`],
//! [`Input::FinishSpawned`], …) queued with [`Driver::answer`], and fed once the effects of the
//! current step are all carried out.

use super::config::DirConfig;
use super::{open_flags, Driver};
use merit_core::supervisor::{Control, Effect, Input, SpawnOutcome, SIGKILL};
use merit_sys::process::{spawn, Spawn, SpawnError};
use merit_sys::{fd, lock, signal};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// A child started with `lock-fd`: it waits for the lock, then execs `run`. Until it has
/// exec'd the service is not up (the state machine stays in Down, as while s6 waits for its
/// child's exec), but the supervisor goes on answering; its report pipe says how it ended.
pub(super) struct Pending {
    pub(super) pid: i32,
    pub(super) report: OwnedFd,
    notification: Option<OwnedFd>,
    /// Killed by us (the service was wanted down meanwhile): its end is not a start.
    cancelled: bool,
}

/// The descriptors `run` gets, each first duplicated above every target so that sources never
/// collide with targets: `notification-fd` (the write end of a pipe), then `lock-fd`.
struct RunFds {
    /// (high duplicate, target) for the child to move into place; `moves[..len]` are used.
    moves: [(i32, i32); 2],
    len: usize,
    /// The high duplicates, closed in the parent once the child is started.
    high: [Option<OwnedFd>; 2],
}

impl RunFds {
    fn moves(&self) -> &[(i32, i32)] {
        self.moves.get(..self.len).unwrap_or(&[])
    }
}

impl Driver {
    /// Starts `run`; `None` when the child waits for its lock first (see [`Pending`]).
    pub(super) fn spawn_run(&mut self) -> Option<SpawnOutcome> {
        let cfg = DirConfig { diag: &self.diag };
        // lock-fd first, as s6 does, then notification-fd.
        let mut lock_file: Option<(OwnedFd, i32)> = None;
        if let Some(l) = cfg.fd_number("lock-fd") {
            match self.open_service_lock() {
                Ok(f) => lock_file = Some((f, l)),
                Err(outcome) => return Some(outcome),
            }
        }
        let mut notif: Option<(OwnedFd, OwnedFd, i32)> = None;
        if let Some(n) = cfg.fd_number("notification-fd") {
            match self.notification_pipe(n, lock_file.as_ref().map(|l| l.1)) {
                Ok((r, w)) => notif = Some((r, w, n)),
                Err(outcome) => return Some(outcome),
            }
        }
        let fds = match self
            .run_fds(notif.as_ref().map(|n| (n.1.as_raw_fd(), n.2)), lock_file.as_ref().map(|l| (l.0.as_raw_fd(), l.1)))
        {
            Ok(fds) => fds,
            Err(outcome) => return Some(outcome),
        };
        // Only the high duplicate may refer to service-lock in the child: the close-on-exec of
        // any other descriptor of that file would release run's lock at exec.
        let lock_target = lock_file.as_ref().map(|l| l.1);
        drop(lock_file);
        let argv = [CString::new("run").unwrap_or_default(), self.dir_arg.clone()];
        let sp = Spawn {
            path: c"./run",
            argv: &argv,
            fd_moves: fds.moves(),
            lock_wait: lock_target,
            setsid: true,
            cgroup_procs: self.cgroup_procs_fd(),
        };
        if lock_target.is_some() {
            let result = merit_sys::process::spawn_pending(&sp);
            drop(fds);
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
        drop(fds);
        Some(match result {
            Ok(pid) => {
                self.keep_notification(notif.map(|(r, _w, _)| r));
                SpawnOutcome::Spawned(pid as u64)
            }
            Err(SpawnError::Exec(_, e)) => {
                self.diag.warn("unable to spawn ./run - waiting 10 seconds");
                self.diag.child_exec_failed(&e);
                SpawnOutcome::ExecFailed
            }
            Err(SpawnError::Fork(e)) => {
                self.diag.warn_err("unable to spawn ./run - waiting 60 seconds", &e);
                SpawnOutcome::ResourceFailed
            }
        })
    }

    /// Opens `supervise/service-lock` for `lock-fd` (created when missing: s6's lock-fd bug),
    /// empty, warning when another process holds its lock (the child will wait for it).
    fn open_service_lock(&self) -> Result<OwnedFd, SpawnOutcome> {
        let f = match fd::open(Path::new("supervise/service-lock"), open_flags::LOCK_OPEN, 0o644) {
            Ok(f) => f,
            Err(e) => {
                self.diag.warn_err("unable to open supervise/service-lock for writing (waiting 60 seconds)", &e);
                return Err(SpawnOutcome::ResourceFailed);
            }
        };
        if std::fs::metadata("supervise/service-lock").map(|m| m.len() > 0).unwrap_or(false) {
            self.diag.warn("supervise/service-lock was not empty, truncating it");
            let _ = fd::truncate(f.as_raw_fd(), 0);
        }
        if lock::is_write_locked_by_other(f.as_raw_fd()).unwrap_or(false) {
            self.diag.warn("another instance of the service is already running, child will block");
        }
        Ok(f)
    }

    /// The pipe for `notification-fd` `n` (read end, write end), unless `n` is also the
    /// `lock-fd`.
    fn notification_pipe(&self, n: i32, lock_target: Option<i32>) -> Result<(OwnedFd, OwnedFd), SpawnOutcome> {
        if lock_target == Some(n) {
            self.diag.warn("unable to start service: notification-fd and lock-fd are the same");
            return Err(SpawnOutcome::FdConflict);
        }
        fd::pipe(false).map_err(|e| {
            self.diag.warn_err("unable to pipe for notification-fd (waiting 60 seconds)", &e);
            SpawnOutcome::ResourceFailed
        })
    }

    /// Duplicates the sources `(fd, target)` above every target (and above 15).
    fn run_fds(&self, notif: Option<(i32, i32)>, lock: Option<(i32, i32)>) -> Result<RunFds, SpawnOutcome> {
        let top = [lock.map(|l| l.1), notif.map(|n| n.1)].into_iter().flatten().max().unwrap_or(0);
        let min = (top + 1).max(16);
        let mut fds = RunFds { moves: [(-1, -1); 2], len: 0, high: [None, None] };
        for (src, target) in [notif, lock].into_iter().flatten() {
            match fd::dup_above(src, min) {
                Ok(high) => {
                    if let (Some(m), Some(h)) = (fds.moves.get_mut(fds.len), fds.high.get_mut(fds.len)) {
                        *m = (high.as_raw_fd(), target);
                        *h = Some(high);
                        fds.len += 1;
                    }
                }
                Err(e) => {
                    self.diag.warn_err("unable to set up descriptors (waiting 60 seconds)", &e);
                    return Err(SpawnOutcome::ResourceFailed);
                }
            }
        }
        Ok(fds)
    }

    /// Keeps the read end of the notification pipe of a started `run`, non-blocking.
    fn keep_notification(&mut self, read_end: Option<OwnedFd>) {
        self.notification = read_end.inspect(|r| {
            let _ = fd::set_nonblock(r.as_raw_fd(), true);
        });
    }

    /// Spawns `./finish CODE SIG DIR` and queues what the state machine must hear of it.
    pub(super) fn spawn_finish(&mut self, code: u32, sig: u32) {
        // No ./finish at all: s6 would fork a child that fails to exec and exits 127 at once.
        // Skip that fork on the restart path: the service is down and ready right away, with
        // the events `dD` in one write (the sequence s6 itself sends when it cannot fork).
        if matches!(std::fs::symlink_metadata("finish"), Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
            self.answer(Input::FinishSpawned(None));
            return;
        }
        let argv = [
            CString::new("finish").unwrap_or_default(),
            CString::new(code.to_string()).unwrap_or_default(),
            CString::new(sig.to_string()).unwrap_or_default(),
            self.dir_arg.clone(),
        ];
        let result = spawn(&Spawn {
            path: c"./finish",
            argv: &argv,
            fd_moves: &[],
            lock_wait: None,
            setsid: true,
            cgroup_procs: self.cgroup_procs_fd(),
        });
        match result {
            Ok(pid) => self.answer(Input::FinishSpawned(Some(pid as u64))),
            // No (executable) finish: s6's child exits 127 at once; the finishing phase still
            // happens, ending immediately. `spawn` has already reaped that child.
            Err(SpawnError::Exec(pid, _)) => {
                self.answer(Input::FinishSpawned(Some(pid as u64)));
                self.answer(Input::FinishDied(127 << 8));
            }
            Err(SpawnError::Fork(e)) => {
                self.diag.warn_err("unable to spawn ./finish", &e);
                self.answer(Input::FinishSpawned(None));
            }
        }
    }

    /// A child still waiting for its lock when the service is ordered down (`d`, `D`, or any
    /// input that turns "wanted up" off, such as the supervisor's own exit) has nothing to stop
    /// gracefully: it has not run anything yet, so it is given up. `o` and `O` are no such
    /// order: "once" turns "wanted up" off yet asks for this very start.
    pub(super) fn cancel_pending_if_unwanted(&mut self, input: Input, wanted_before: bool) {
        let down = matches!(input, Input::Control(Control::Down | Control::DownPermanent));
        let once = matches!(input, Input::Control(Control::Once | Control::OnceAndKeep));
        let turned_off = wanted_before && !once;
        if self.sup.status().wantup || !(down || turned_off) {
            return;
        }
        if let Some(p) = self.pending.as_mut().filter(|p| !p.cancelled) {
            p.cancelled = true;
            let _ = signal::kill(p.pid, SIGKILL);
        }
        self.release_hold();
    }

    /// Settles the pending child once its report pipe says something, or once it has died
    /// (`death`, its wait status).
    pub(super) fn settle_pending(&mut self, death: Option<u16>) {
        use merit_sys::process::{read_report, Report};
        let Some(p) = &self.pending else { return };
        let report = read_report(p.report.as_raw_fd());
        if matches!(report, Report::Pending) && death.is_none() {
            return;
        }
        let Some(p) = self.pending.take() else { return };
        match report {
            Report::ExecFailed(e) => {
                self.diag.child_exec_failed(&e);
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
            self.carry_out(&[Effect::SpawnRun]);
        }
    }
}
