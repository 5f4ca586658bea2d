//! `s6-supervise DIR`: supervises one service directory, wire-compatible with s6 2.11.3.2.
//!
//! The decisions live in `merit_core::supervisor::Supervisor`; this module is the driver that
//! sets up `supervise/` and `event/` (module `setup`), waits on a signalfd, the control FIFO and the
//! notification pipe, and carries out the effects the state machine returns. An effect that
//! answers with an input (starting `run` or `finish`, module `spawn`) queues it; the queue is
//! drained after the effects of each step, so one step never runs inside another:
//! `Driver::feed` → step → effects → answers queued → fed in order, each the same way.
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
use merit_core::status::{tally_append, DeathRecord, DEATH_RECORD_SIZE, DEATH_TALLY_DEFAULT, DEATH_TALLY_MAX};
use merit_core::supervisor::{Control, Effect, Input, InputQueue, Now, Supervisor, SupervisorSignal, SIGCONT, SIGKILL};
use merit_core::tai::Tain;
use merit_sys::errno::{self, EAGAIN};
use merit_sys::{clock, fd, fifodir, signal};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

mod backoff;
mod cgroup;
mod config;
mod deps;
mod notify;
mod setup;
mod spawn;

use config::{Diag, DirConfig};
use deps::GateTurn;
use spawn::Pending;

const PROG: &str = "s6-supervise";

fn now() -> Now {
    let (s, ns) = clock::wall();
    Now { wall: Tain::from_unix(s, ns), mono: clock::mono_ns() }
}

/// The driver's I/O state.
struct Driver {
    diag: Diag,
    /// The argument, passed verbatim to `run` and `finish`.
    dir_arg: CString,
    sup: Supervisor,
    /// Inputs that effects answered with, waiting to be fed (see [`Driver::drain`]).
    queue: InputQueue,
    /// Read end of the notification pipe while `run` may still report readiness.
    notification: Option<OwnedFd>,
    /// A `run` child waiting for its `lock-fd` lock before its exec.
    pending: Option<Pending>,
    /// The first start's wait for the services this one needs (module `deps`).
    gate: Option<deps::Gate>,
    /// `restart-delay` / `restart-limit` (module `backoff`), when the service has one.
    restart: Option<Box<backoff::Restart>>,
    /// The sd_notify socket (module `notify`), when the service has `notify-socket`.
    notify: Option<Box<notify::Notify>>,
    /// The service's own cgroup (module `cgroup`), when it has one.
    cgroup: Option<Box<cgroup::Cgroup>>,
    /// What `supervise/merit-state` says (written only for services with the new files).
    merit: backoff::State,
}

impl Driver {
    /// Feeds one input from the outside world (a letter, a signal, a death, the timer…), then
    /// whatever its effects answer with.
    fn feed(&mut self, input: Input) {
        self.answer(input);
        self.drain();
    }

    /// Carries out effects decided outside a step (the start, a pending child's turn), then
    /// feeds what they answer with.
    fn carry_out(&mut self, fx: &[Effect]) {
        for &e in fx {
            self.effect(e);
        }
        self.drain();
    }

    /// Queues an input for [`Driver::drain`]: what an effect answers with.
    fn answer(&mut self, input: Input) {
        // Never full: the queue is drained after every step, and one step answers with at
        // most two inputs (merit_core::supervisor::InputQueue).
        if !self.queue.push(input) {
            self.diag.warn("internal: input queue full, input dropped");
        }
    }

    /// Feeds the queued inputs one at a time, first in first out: each step's effects are all
    /// carried out (queuing their answers) before the next step.
    fn drain(&mut self) {
        while let Some(input) = self.queue.pop() {
            let wanted = self.sup.status().wantup;
            let mut cfg = DirConfig { diag: &self.diag };
            let fx = self.sup.step(input, now(), &mut cfg);
            for &e in fx.as_slice() {
                self.effect(e);
            }
            self.cancel_pending_if_unwanted(input, wanted);
        }
    }

    /// Whether an event is told to the starts held for this service (`deps.rs`): only when
    /// it may let them go, that is when this service is now up and, with a notification pipe,
    /// ready (their condition), or is not coming (wanted down, given up, its supervisor
    /// leaving). A `u` that readiness will follow, or a death that a restart will follow,
    /// wakes nobody; the gate reads the status file itself before it lets a start go.
    fn event_may_release_gates(&self, bytes: &[u8]) -> bool {
        let st = self.sup.status();
        bytes.iter().any(|b| matches!(b, b'U' | b'x' | b'O'))
            || !st.wantup
            || (st.is_up() && (st.ready || self.notification.is_none()))
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
                // Down (run dead, finish over): what is left in the service's cgroup goes.
                if self.cgroup.is_some() && bytes.contains(&b'D') {
                    self.cgroup_after_down();
                }
                if let Err(e) = fifodir::notify(Path::new("event"), bytes, self.event_may_release_gates(bytes)) {
                    self.diag.warn_err("unable to notify event directory", &e);
                }
            }
            Effect::CreateDownFile => {
                if let Err(e) = fd::open(Path::new("down"), open_flags::CREATE_TRUNC, 0o666) {
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
                if self.pending.is_none() && !self.hold_for_dependencies() {
                    if let Some(outcome) = self.spawn_run() {
                        self.answer(Input::RunSpawned(outcome));
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
                self.gate = None;
                if let Some(p) = &self.pending {
                    let _ = signal::kill(p.pid, SIGKILL);
                }
                msg::exit(0)
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
                            Up | LastUp => {
                                self.backoff_before_run_died(wstat);
                                self.feed(Input::RunDied(wstat));
                            }
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
                    if buf.get(..n).is_some_and(|b| b.contains(&b'\n')) {
                        self.feed(Input::Ready);
                        return;
                    }
                }
                Err(e) if errno::is(&e, EAGAIN) => return,
                Err(_) => {
                    self.notification = None;
                    return;
                }
            }
        }
    }

    /// Reads every signal waiting on the signalfd and feeds those that matter; whether there
    /// was any.
    fn read_signals(&mut self, sigfd: &OwnedFd) -> bool {
        let mut any = false;
        while let Ok(Some(sig)) = signal::read_signal(sigfd.as_raw_fd()) {
            any = true;
            match sig {
                signal::SIGCHLD => self.reap(),
                signal::SIGTERM => self.feed(Input::Signal(SupervisorSignal::Term)),
                signal::SIGHUP => self.feed(Input::Signal(SupervisorSignal::Hup)),
                signal::SIGQUIT => self.feed(Input::Signal(SupervisorSignal::Quit)),
                signal::SIGINT => self.feed(Input::Signal(SupervisorSignal::Int)),
                _ => {}
            }
        }
        any
    }

    /// Reads the control FIFO until it is empty and feeds each letter s6-supervise knows.
    fn read_control(&mut self, control: &OwnedFd) {
        let mut buf = [0u8; 64];
        loop {
            match fd::read(control.as_raw_fd(), &mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    for &b in buf.get(..n).unwrap_or(&[]) {
                        // A dependency's supervisor telling our held start (deps.rs).
                        if b == fifodir::GATE_WAKE {
                            self.gate_turn(GateTurn::Told);
                        } else if let Some(c) = Control::from_byte(b) {
                            self.backoff_sees_control(c);
                            self.feed(Input::Control(c));
                        }
                    }
                    if n < buf.len() {
                        break;
                    }
                }
                Err(e) if errno::is(&e, EAGAIN) => break,
                Err(e) => self.diag.fatal_err(111, "unable to read supervise/control", &e),
            }
        }
    }

    /// The loop: waits for a signal, the control FIFO, the notification pipe, a pending
    /// child's report or the deadline, and feeds what came.
    fn run(&mut self, sigfd: &OwnedFd, control: &OwnedFd) -> ! {
        loop {
            let timeout = self.sup.deadline().map(|d| {
                let n = clock::mono_ns();
                // Round up so that we never wake just before the deadline and spin.
                d.saturating_sub(n).div_ceil(1_000_000)
            });
            if timeout == Some(0) {
                self.feed(Input::Timeout);
                continue;
            }
            // Only for a service with notify-socket and watchdog-timeout.
            let timeout = match (timeout, self.watchdog_timeout()) {
                (_, Some(0)) => {
                    self.check_watchdog();
                    continue;
                }
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let mut set = [
                fd::PollFd::new(sigfd.as_raw_fd()),
                fd::PollFd::new(control.as_raw_fd()),
                fd::PollFd::new(self.notification.as_ref().map_or(-1, |f| f.as_raw_fd())),
                fd::PollFd::new(self.pending.as_ref().map_or(-1, |p| p.report.as_raw_fd())),
                fd::PollFd::new(self.notify_fd()),
                fd::PollFd::new(self.gate_fd()),
            ];
            // The gate's descriptor and timer only while there is a gate.
            let (n, timeout) = if self.gate.is_some() { (6, self.gate_timeout(timeout)) } else { (5, timeout) };
            if let Err(e) = fd::poll(set.get_mut(..n).unwrap_or(&mut []), timeout) {
                self.diag.fatal_err(111, "unable to poll", &e);
            }
            let [signals, control_ready, notification, report, notify, gate] = set.map(|p| p.ready);
            if self.gate.is_some() {
                self.gate_turn(if gate { GateTurn::Fifo } else { GateTurn::Timer });
            }
            // Signals first; the FIFO is read on the next turn, as s6 does.
            if signals && self.read_signals(sigfd) {
                continue;
            }
            if notification {
                self.read_notification();
            }
            if report {
                self.settle_pending(None);
            }
            if notify {
                self.read_notify();
            }
            if control_ready {
                self.read_control(control);
            }
            if let Some(d) = self.sup.deadline() {
                if clock::mono_ns() >= d {
                    self.feed(Input::Timeout);
                }
            }
            if self.notify.is_some() {
                self.check_watchdog();
            }
        }
    }
}

/// `open(2)` flag combinations of the supervisor.
mod open_flags {
    use merit_sys::flags::*;
    /// Non-blocking: a FIFO planted as `./down` must not freeze the supervisor (ENXIO instead).
    pub const CREATE_TRUNC: i32 = O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC;
    /// s6 omits O_CREAT for `service-lock` (its lock-fd bug); merit creates the file.
    pub const LOCK_OPEN: i32 = O_WRONLY | O_NONBLOCK | O_CREAT | O_CLOEXEC;
    pub const CONTROL_READ: i32 = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
    pub const CONTROL_WRITE: i32 = O_WRONLY | O_NONBLOCK | O_CLOEXEC;
}

merit_sys::hot! {
    pub fn main() {
        let (diag, dir_arg) = setup::enter_service_dir();
        // Held for the life of the supervisor: the lock, and our own writer of the control FIFO.
        let _lock = setup::make_supervise(&diag);
        let (control, _control_w) = setup::open_control(&diag);
        let sigfd = setup::open_signals(&diag);
        let want_up = setup::reset_tally_and_read_down(&diag);

        let (sup, fx) = Supervisor::start(want_up, now());
        let gate = deps::Gate::load(&diag, &dir_arg);
        let restart = backoff::load(&diag);
        let notify = notify::load(&diag);
        let cgroup = cgroup::load(&diag);
        let mut drv = Driver {
            diag,
            dir_arg,
            sup,
            queue: InputQueue::default(),
            notification: None,
            pending: None,
            gate,
            restart,
            notify,
            cgroup,
            merit: backoff::State::default(),
        };
        drv.merit.cgroup = drv.cgroup_path();
        drv.start_merit_state();
        drv.carry_out(fx.as_slice());
        drv.run(&sigfd, &control)
    }
}
