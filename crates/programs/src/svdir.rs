//! Client operations on a service directory, as the s6 2.11.3.2 client tools perform them
//! (control.md §1, §3, §3.1, §4; events.md §2, §4).
//!
//! * [`write_control`] / [`send_control`]: write command letters into `DIR/SUBDIR/control`, with
//!   the exact error classification of `s6_svc_writectl` ([`ControlError`]). `SUBDIR` is
//!   [`SUPERVISE`] for `s6-svc`, [`SVSCAN`] for `s6-svscanctl`.
//! * [`supervisor_running`]: the `s6-svok` test (fcntl lock probe on `DIR/supervise/lock`).
//! * [`read_status`]: `DIR/supervise/status`, read like `s6_svstatus_read`.
//! * [`Waiter`]: a listener on one or more services: it subscribes to each `DIR/event` *then*
//!   reads each status file, and waits for a [`Goal`] by applying the event bytes
//!   (`d D u U O x`) to a per-service [`State`] exactly as `s6_svlisten_loop` does.
//!
//! Paths are built by byte concatenation (`DIR` + `/` + name), like the C tools, so `DIR`
//! is used verbatim (an empty `DIR` yields `/supervise/...`, a trailing `/` is kept).
//! Every error value knows the exit code and message text the real tools print.

use crate::msg::{path_bytes, Fatal};
use merit_core::status::{StatusFile, STATUS_SIZE};
use merit_core::tai::Tain;
use merit_sys::fd::PollFd;
use merit_sys::fifodir::Subscription;
use merit_sys::{errno, flags};
use std::io::{Error, Result};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Control subdirectory of a service directory (`s6-svc`).
pub const SUPERVISE: &str = "supervise";
/// Control subdirectory of a scan directory (`s6-svscanctl`).
pub const SVSCAN: &str = ".s6-svscan";

/// `DIR` + `/` + `rest`, by byte concatenation.
pub fn sub(dir: &Path, rest: &str) -> PathBuf {
    let mut b = path_bytes(dir).to_vec();
    b.push(b'/');
    b.extend_from_slice(rest.as_bytes());
    PathBuf::from(std::ffi::OsStr::from_bytes(&b))
}

fn errno(e: &Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Control FIFO

/// Why command letters could not be delivered (the table of control.md §3).
#[derive(Debug)]
pub enum ControlError {
    /// Nobody reads the FIFO (`ENXIO`), or `DIR` exists but `DIR/SUBDIR` does not. Exit 100.
    NotListening,
    /// The FIFO could not be opened (ENOENT/ENOTDIR/EISDIR) although `DIR/SUBDIR` exists, or
    /// `DIR/SUBDIR` exists but cannot be opened as a directory. Carries the errno s6 reports
    /// (that of opening `DIR/SUBDIR` if that failed, else that of opening the FIFO). Exit 100.
    BadSubdir(Error),
    /// Any other failure: `DIR` cannot be opened, or another open/write error. Exit 111.
    Sys(Error),
}

/// How the "bad subdirectory" case is worded (the two programs differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wording {
    /// `s6-svc`: `something is wrong with the DIR/supervise directory: <strerror>`.
    Svc,
    /// `s6-svscanctl`: `something is wrong with the DIR/.s6-svscan directory. errno reported: <strerror>`.
    Svscanctl,
}

impl ControlError {
    /// Exit code of the real tools: 100 or 111.
    pub fn exit_code(&self) -> i32 {
        match self {
            ControlError::NotListening | ControlError::BadSubdir(_) => 100,
            ControlError::Sys(_) => 111,
        }
    }

    /// The fatal message for `dir` (as given on the command line) and `subdir`.
    /// Note the not-listening text really starts with `: ` in 2.11.3.2
    /// (`s6-svc: fatal: : unable to control DIR: supervisor not listening`).
    pub fn to_fatal(&self, dir: &[u8], subdir: &str, wording: Wording) -> Fatal {
        let code = self.exit_code();
        match self {
            ControlError::NotListening => {
                Fatal::new(code, &[b": unable to control ", dir, b": supervisor not listening"])
            }
            ControlError::BadSubdir(e) => {
                let parts: [&[u8]; 4] = [b"something is wrong with the ", dir, b"/", subdir.as_bytes()];
                match wording {
                    Wording::Svc => Fatal::sys(code, &[&parts[..], &[b" directory"]].concat(), e),
                    Wording::Svscanctl => {
                        let mut f = Fatal::new(code, &parts);
                        f.text.extend_from_slice(b" directory. errno reported: ");
                        f.text.extend_from_slice(&crate::msg::strerror(e));
                        f
                    }
                }
            }
            ControlError::Sys(e) => Fatal::sys(code, &[b"unable to control ", dir], e),
        }
    }
}

/// Writes `letters` (possibly none: then only the listener check happens) into
/// `DIR/SUBDIR/control`: open `O_WRONLY|O_NONBLOCK`, clear `O_NONBLOCK`, one `write`, close.
/// On ENOENT/ENOTDIR/EISDIR, investigates `DIR` and `DIR/SUBDIR` as `s6_svc_writectl` does.
pub fn write_control(dir: &Path, subdir: &str, letters: &[u8]) -> std::result::Result<(), ControlError> {
    let fifo = sub(dir, &format!("{subdir}/control"));
    let f = match merit_sys::fd::open(&fifo, flags::O_WRONLY | flags::O_NONBLOCK | flags::O_CLOEXEC, 0) {
        Ok(f) => f,
        Err(e) => {
            return Err(match errno(&e) {
                errno::ENXIO => ControlError::NotListening,
                errno::ENOENT | errno::ENOTDIR | errno::EISDIR => investigate(dir, subdir, e),
                _ => ControlError::Sys(e),
            })
        }
    };
    merit_sys::fd::set_nonblock(f.as_raw_fd(), false).map_err(ControlError::Sys)?;
    if !letters.is_empty() {
        merit_sys::fd::write(f.as_raw_fd(), letters).map_err(ControlError::Sys)?;
    }
    Ok(())
}

/// How `s6_svc_writectl` classifies a failed open of `DIR/SUBDIR/control` (ENOENT, ENOTDIR,
/// EISDIR): looks at `DIR` and `DIR/SUBDIR`.
pub fn investigate(dir: &Path, subdir: &str, fifo_err: Error) -> ControlError {
    let dflags = flags::O_RDONLY | flags::O_DIRECTORY | flags::O_CLOEXEC;
    if let Err(e) = merit_sys::fd::open(dir, dflags, 0) {
        return ControlError::Sys(e);
    }
    match merit_sys::fd::open(&sub(dir, subdir), dflags, 0) {
        Ok(_) => ControlError::BadSubdir(fifo_err),
        Err(e) if errno(&e) == errno::ENOENT => ControlError::NotListening,
        Err(e) => ControlError::BadSubdir(e),
    }
}

/// [`write_control`] on `DIR/supervise/control` (what `s6-svc` does).
pub fn send_control(dir: &Path, letters: &[u8]) -> std::result::Result<(), ControlError> {
    write_control(dir, SUPERVISE, letters)
}

/// Is an `s6-supervise` running on `dir`? (`DIR/supervise/lock` probed with `F_GETLK`; see
/// [`merit_sys::lock::supervisor_running`].)
pub use merit_sys::lock::supervisor_running;

/// Reads `DIR/supervise/status`: at most 35 bytes; fewer is an error (`EPIPE`, as s6 reports it).
pub fn read_status(dir: &Path) -> Result<StatusFile> {
    let f = merit_sys::fd::open(&sub(dir, "supervise/status"), flags::O_RDONLY | flags::O_CLOEXEC, 0)?;
    let mut buf = [0u8; STATUS_SIZE];
    let mut got = 0;
    while got < STATUS_SIZE {
        match merit_sys::fd::read(f.as_raw_fd(), &mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    StatusFile::decode(&buf[..got]).ok_or_else(|| Error::from_raw_os_error(errno::EPIPE))
}

/// Whether `DIR/notification-fd` exists (`access(F_OK)`): `Ok(false)` on ENOENT.
pub fn notification_fd_present(dir: &Path) -> Result<bool> {
    // merit's notify-socket (sd_notify READY=1) reports readiness as notification-fd does.
    for f in ["notification-fd", "notify-socket"] {
        match std::fs::metadata(sub(dir, f)) {
            Ok(_) => return Ok(true),
            Err(e) if errno(&e) == errno::ENOENT => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

// ---------------------------------------------------------------------------------------------
// Waiting for state changes

/// What a listener knows about one service: the two bits of `s6_svlisten_loop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct State {
    pub up: bool,
    pub ready: bool,
}

impl State {
    pub const fn new(up: bool, ready: bool) -> State {
        State { up, ready }
    }

    /// Initial state from the status file: up = pid≠0 && !finishing; ready = ready flag.
    pub fn from_status(s: &StatusFile) -> State {
        State { up: s.is_up(), ready: s.ready }
    }

    /// Does this service satisfy `want`? (up must match; ready only matters when wanted.)
    pub fn satisfies(self, want: State) -> bool {
        self.up == want.up && (!want.ready || self.ready)
    }
}

/// Applies one event byte to `st` for a wait whose target is `want` (events.md §4).
/// Returns `None` for bytes that are not events (`s`, anything else: ignored, no check),
/// `Some(true)` when the byte counts as a failure (`O` while waiting for up; `x` while the state
/// differs from `want`, both bits compared), `Some(false)` otherwise. After `O` (when counted)
/// and after `x`, the service is treated as having reached `want`.
pub fn apply_event(st: &mut State, byte: u8, want: State) -> Option<bool> {
    match byte {
        b'x' => {
            let failed = *st != want;
            *st = want;
            Some(failed)
        }
        b'O' => {
            if want.up {
                *st = want;
            }
            Some(want.up)
        }
        b'd' => {
            *st = State::new(false, false);
            Some(false)
        }
        b'D' => {
            *st = State::new(false, true);
            Some(false)
        }
        b'u' => {
            *st = State::new(true, false);
            Some(false)
        }
        b'U' => {
            *st = State::new(true, true);
            Some(false)
        }
        _ => None,
    }
}

/// Is the goal reached over a set of services: all of them (`any` false, `-a`) or at least one
/// (`any` true, `-o`)?
pub fn reached(states: impl IntoIterator<Item = State>, want: State, any: bool) -> bool {
    let mut it = states.into_iter();
    if any {
        it.any(|s| s.satisfies(want))
    } else {
        it.all(|s| s.satisfies(want))
    }
}

/// The condition of `-u -U -d -D -r -R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// `u`: up.
    Up,
    /// `U`: up and ready.
    UpReady,
    /// `d`: down.
    Down,
    /// `D`: down and ready (`finish` over).
    DownReady,
    /// `r`: first down, then up.
    Restart,
    /// `R`: first down, then up and ready.
    RestartReady,
}

impl Goal {
    /// From one of `uUdDrR`.
    pub fn from_letter(c: u8) -> Option<Goal> {
        Some(match c {
            b'u' => Goal::Up,
            b'U' => Goal::UpReady,
            b'd' => Goal::Down,
            b'D' => Goal::DownReady,
            b'r' => Goal::Restart,
            b'R' => Goal::RestartReady,
            _ => return None,
        })
    }

    pub fn letter(self) -> u8 {
        match self {
            Goal::Up => b'u',
            Goal::UpReady => b'U',
            Goal::Down => b'd',
            Goal::DownReady => b'D',
            Goal::Restart => b'r',
            Goal::RestartReady => b'R',
        }
    }

    /// The final state waited for.
    pub fn want(self) -> State {
        match self {
            Goal::Up | Goal::Restart => State::new(true, false),
            Goal::UpReady | Goal::RestartReady => State::new(true, true),
            Goal::Down => State::new(false, false),
            Goal::DownReady => State::new(false, true),
        }
    }

    pub fn is_restart(self) -> bool {
        matches!(self, Goal::Restart | Goal::RestartReady)
    }

    /// Whether the goal involves readiness notification (`U`, `R`).
    pub fn needs_readiness(self) -> bool {
        matches!(self, Goal::UpReady | Goal::RestartReady)
    }

    /// `U`→`u`, `R`→`r` (what `s6-svc -wU/-wR` falls back to without `notification-fd`).
    pub fn without_readiness(self) -> Goal {
        match self {
            Goal::UpReady => Goal::Up,
            Goal::RestartReady => Goal::Restart,
            g => g,
        }
    }
}

/// Which real listener's rules to follow; they differ only in the first phase of `r`/`R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `s6-svwait`: the first phase waits for *down* of all services.
    Svwait,
    /// `s6-svlisten1` (hence `s6-svc -wr/-wR` with letters): the first phase waits for *down and
    /// ready*.
    Svlisten1,
}

impl Flavor {
    pub fn first_phase(self) -> State {
        match self {
            Flavor::Svwait => State::new(false, false),
            Flavor::Svlisten1 => State::new(false, true),
        }
    }

    /// The program name the real tool prints its diagnostics under.
    pub fn prog(self) -> &'static str {
        match self {
            Flavor::Svwait => "s6-svwait",
            Flavor::Svlisten1 => "s6-svlisten1",
        }
    }
}

/// A point on the monotonic clock, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Option<u64>);

impl Deadline {
    /// `ms` milliseconds from now; 0 means no deadline (the tools' convention).
    pub fn after_ms(ms: u64) -> Deadline {
        if ms == 0 {
            Deadline(None)
        } else {
            Deadline(Some(merit_sys::clock::mono_ns().saturating_add(ms.saturating_mul(1_000_000))))
        }
    }

    pub fn never() -> Deadline {
        Deadline(None)
    }

    /// Milliseconds left, rounded up (`None` = infinite, `Some(0)` = passed).
    pub fn remaining_ms(self) -> Option<u64> {
        self.0.map(|d| {
            let now = merit_sys::clock::mono_ns();
            d.saturating_sub(now).div_ceil(1_000_000)
        })
    }

    pub fn passed(self) -> bool {
        self.remaining_ms() == Some(0)
    }

    /// Calls `done` until it returns true (then true) or the deadline passes (then false),
    /// sleeping `step` (at most what is left) between calls: the polling loop of init's
    /// shutdown, for what cannot be waited for on a descriptor. `done` runs at least once.
    pub fn wait_until(self, step: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
        loop {
            if done() {
                return true;
            }
            let nap = match self.remaining_ms() {
                Some(0) => return false,
                Some(ms) => step.min(std::time::Duration::from_millis(ms)),
                None => step,
            };
            std::thread::sleep(nap);
        }
    }
}

/// Why a wait failed (the listener then exits with [`WaitError::exit_code`]).
#[derive(Debug)]
pub enum WaitError {
    /// Creating the subscriber FIFO in `DIR/event` failed. Exit 111.
    Subscribe(Vec<u8>, Error),
    /// The status file could not be read. Exit 111.
    Status(Error),
    /// The deadline passed. Exit 99.
    Timeout,
    /// `poll` or reading a FIFO failed. Exit 111.
    Io(&'static str, Error),
}

impl WaitError {
    pub fn exit_code(&self) -> i32 {
        match self {
            WaitError::Timeout => 99,
            _ => 111,
        }
    }

    /// The real tools' message (printed as `PROG: fatal: ...`).
    pub fn to_fatal(&self) -> Fatal {
        let code = self.exit_code();
        match self {
            WaitError::Subscribe(dir, e) => Fatal::sys(code, &[b"unable to subscribe to events for ", dir], e),
            WaitError::Status(e) => Fatal::sys(code, &[b"unable to s6_svstatus_read"], e),
            WaitError::Timeout => Fatal::new(code, &[b"timed out"]),
            WaitError::Io(what, e) => Fatal::sys(code, &[b"unable to ", what.as_bytes()], e),
        }
    }
}

struct Watched {
    sub: Subscription,
    state: State,
    /// Event bytes read but not yet applied (a goal was reached in the middle of a read).
    pending: std::collections::VecDeque<u8>,
}

/// A listener on one or more services. Its FIFOs are removed when it is dropped: drop it before
/// exiting the process (`std::process::exit` runs no destructors).
pub struct Waiter {
    services: Vec<Watched>,
}

impl Waiter {
    /// For each `dir` in order: subscribe to `DIR/event` (creating it 03730 if missing, as
    /// s6-svwait does; the FIFO is named `ftrig1:@<TAI64N label of now>:<6 random chars>`), then
    /// read `DIR/supervise/status` for the initial [`State`].
    pub fn new<P: AsRef<Path>>(dirs: &[P]) -> std::result::Result<Waiter, WaitError> {
        let mut services = Vec::with_capacity(dirs.len());
        for dir in dirs {
            let dir = dir.as_ref();
            let (s, ns) = merit_sys::clock::wall();
            let label = Tain::from_unix(s, ns).label();
            let sub = Subscription::new(&sub(dir, "event"), &label)
                .map_err(|e| WaitError::Subscribe(path_bytes(dir).to_vec(), e))?;
            let status = read_status(dir).map_err(WaitError::Status)?;
            services.push(Watched { sub, state: State::from_status(&status), pending: Default::default() });
        }
        Ok(Waiter { services })
    }

    /// Current state of each service, in the order given to [`Waiter::new`].
    pub fn states(&self) -> Vec<State> {
        self.services.iter().map(|w| w.state).collect()
    }

    /// Paths of our subscriber FIFOs.
    pub fn fifos(&self) -> Vec<&Path> {
        self.services.iter().map(|w| w.sub.path()).collect()
    }

    fn reached(&self, want: State, any: bool) -> bool {
        reached(self.services.iter().map(|w| w.state), want, any)
    }

    /// Applies pending bytes of service `i`; true when the goal is reached (the remaining bytes
    /// stay pending for a later phase).
    fn drain(&mut self, i: usize, want: State, any: bool, failures: &mut u32) -> bool {
        while let Some(b) = self.services[i].pending.pop_front() {
            match apply_event(&mut self.services[i].state, b, want) {
                None => continue,
                Some(failed) => {
                    *failures += failed as u32;
                    if self.reached(want, any) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// One phase of `s6_svlisten_loop`: returns at once with 0 if `want` already holds (for all
    /// services, or one when `any`); otherwise applies events until it does and returns the
    /// number of failure events (`O` while waiting for up, `x` in the wrong state).
    pub fn wait(&mut self, want: State, any: bool, deadline: Deadline) -> std::result::Result<u32, WaitError> {
        if self.reached(want, any) {
            return Ok(0);
        }
        let mut failures = 0;
        for i in 0..self.services.len() {
            if self.drain(i, want, any, &mut failures) {
                return Ok(failures);
            }
        }
        let mut buf = [0u8; 256];
        loop {
            let mut fds: Vec<PollFd> = self.services.iter().map(|w| PollFd::new(w.sub.fd())).collect();
            let n = merit_sys::fd::poll(&mut fds, deadline.remaining_ms()).map_err(|e| WaitError::Io("iopause", e))?;
            if n == 0 {
                if deadline.passed() {
                    return Err(WaitError::Timeout);
                }
                continue;
            }
            for (i, fd) in fds.iter().enumerate() {
                if !fd.ready {
                    continue;
                }
                loop {
                    let got =
                        self.services[i].sub.read_events(&mut buf).map_err(|e| WaitError::Io("ftrigr_update", e))?;
                    if got == 0 {
                        break;
                    }
                    self.services[i].pending.extend(&buf[..got]);
                }
                if self.drain(i, want, any, &mut failures) {
                    return Ok(failures);
                }
            }
        }
    }

    /// The whole wait of a real listener for `goal`: for `r`/`R`, first the flavor's first
    /// phase over all services (a nonzero failure count is returned right away), then `goal`'s
    /// final state over all services or, when `any`, one of them. Returns the failure count
    /// (0 = success).
    pub fn wait_goal(
        &mut self,
        goal: Goal,
        any: bool,
        flavor: Flavor,
        deadline: Deadline,
    ) -> std::result::Result<u32, WaitError> {
        if goal.is_restart() {
            let e = self.wait(flavor.first_phase(), false, deadline)?;
            if e > 0 {
                return Ok(e);
            }
        }
        self.wait(goal.want(), any, deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(init: State, bytes: &[u8], want: State) -> (State, u32, bool) {
        let mut st = init;
        let mut fails = 0;
        for &b in bytes {
            if let Some(f) = apply_event(&mut st, b, want) {
                fails += f as u32;
                if st.satisfies(want) {
                    return (st, fails, true);
                }
            }
        }
        (st, fails, false)
    }

    const DOWN_READY: State = State::new(false, true);
    const UP: State = State::new(true, false);
    const UP_READY: State = State::new(true, true);
    const DOWN: State = State::new(false, false);

    #[test]
    fn lifecycle() {
        assert_eq!(run(DOWN_READY, b"su", UP), (UP, 0, true));
        assert_eq!(run(DOWN_READY, b"su", UP_READY), (UP, 0, false));
        assert_eq!(run(DOWN_READY, b"suU", UP_READY), (UP_READY, 0, true));
        assert_eq!(run(UP, b"dD", DOWN_READY), (DOWN_READY, 0, true));
        assert_eq!(run(UP, b"dD", DOWN), (DOWN, 0, true));
    }

    #[test]
    fn permanent_failure_and_death() {
        // finish exited 125 while waiting for up: O counts, goal treated as reached.
        assert_eq!(run(UP, b"dOD", UP), (UP, 1, true));
        // O is ignored when waiting for down.
        assert_eq!(run(UP, b"dO", DOWN_READY), (DOWN, 0, false));
        assert_eq!(run(UP, b"dOD", DOWN_READY), (DOWN_READY, 0, true));
        // x while down-and-ready, waiting for up: failure.
        assert_eq!(run(DOWN_READY, b"x", UP), (UP, 1, true));
        // x compares both bits: up+ready is not "up, not ready".
        let mut st = UP_READY;
        assert_eq!(apply_event(&mut st, b'x', UP), Some(true));
        let mut st = DOWN;
        assert_eq!(apply_event(&mut st, b'x', DOWN), Some(false));
        let mut st = DOWN;
        assert_eq!(apply_event(&mut st, b's', UP), None);
    }

    #[test]
    fn all_or_any() {
        assert!(reached([UP, UP], UP, false));
        assert!(!reached([UP, DOWN], UP, false));
        assert!(reached([UP, DOWN], UP, true));
        assert!(reached([UP_READY], UP, false));
        assert!(!reached([DOWN], DOWN_READY, true));
    }

    #[test]
    fn goals() {
        for c in *b"uUdDrR" {
            assert_eq!(Goal::from_letter(c).unwrap().letter(), c);
        }
        assert_eq!(Goal::from_letter(b'x'), None);
        assert_eq!(Goal::RestartReady.without_readiness(), Goal::Restart);
        assert_eq!(Goal::Restart.want(), UP);
        assert_eq!(Flavor::Svlisten1.first_phase(), DOWN_READY);
    }

    #[test]
    fn paths_are_concatenated() {
        assert_eq!(sub(Path::new(""), "supervise/lock"), PathBuf::from("/supervise/lock"));
        assert_eq!(sub(Path::new("a/"), "event"), PathBuf::from("a//event"));
    }

    #[test]
    fn control_messages() {
        let f = ControlError::NotListening.to_fatal(b"a", SUPERVISE, Wording::Svc);
        assert_eq!((f.code, f.text.as_slice()), (100, &b": unable to control a: supervisor not listening"[..]));
        let e = || Error::from_raw_os_error(errno::ENOENT);
        let f = ControlError::BadSubdir(e()).to_fatal(b"b", SUPERVISE, Wording::Svc);
        assert_eq!(f.text, b"something is wrong with the b/supervise directory: No such file or directory");
        let f = ControlError::BadSubdir(e()).to_fatal(b"b", SVSCAN, Wording::Svscanctl);
        assert_eq!(
            f.text,
            b"something is wrong with the b/.s6-svscan directory. errno reported: No such file or directory"
        );
        let f = ControlError::Sys(e()).to_fatal(b"n", SUPERVISE, Wording::Svc);
        assert_eq!((f.code, f.text.as_slice()), (111, &b"unable to control n: No such file or directory"[..]));
    }
}
