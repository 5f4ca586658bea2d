//! sd_notify readiness (issue 13): a `notify-socket` file (empty) in the service directory
//! makes the supervisor bind a datagram socket at `supervise/notify` and pass its absolute path
//! to `run` (and `finish`) in `NOTIFY_SOCKET`. Read once at start-up; a service without the file
//! pays one failed open, and nothing in its loop (`Driver::notify` stays `None`).
//!
//! - `READY=1` is fed to the state machine as `Input::Ready`, the very input of a
//!   notification-fd line: the same ready flag and stamp, the same `U` event (so `s6-svwait -U`
//!   and `s6-svc -wU` work, the real ones too). Only the first one of a life of `run` counts.
//! - `STATUS=`, `RELOADING=1`, `STOPPING=1` and an accepted `MAINPID=` are kept in
//!   `supervise/merit-state` for `service NAME status`; all of them are reset when `run` starts.
//! - `MAINPID=` is accepted only from the service's own processes: the sender's pid, as the
//!   kernel reports it (SO_PASSCRED), is `run` or in `run`'s session (run is a session leader).
//! - `WATCHDOG=1` pings; with a `watchdog-timeout` file (milliseconds), a `run` that does not
//!   ping for that long (counted from its start) is restarted (`Input::WatchdogExpired`), once
//!   per life; `WATCHDOG=trigger` does the same at once.
//! - A malformed datagram is ignored with a warning; nothing a sender does stops the loop.
//!
//! The socket file is made with mode 0666, but `supervise/` is 0700 (s6's mode): only processes
//! running as the supervisor's user (or root) can reach it. A service that drops privileges
//! before notifying cannot (documented).

use super::config::Diag;
use super::Driver;
use merit_core::backoff::NotifyPhase;
use merit_core::notify::{parse, parse_watchdog_timeout, watchdog_expired, DATAGRAM_MAX};
use merit_core::supervisor::{Input, State};
use merit_sys::clock;
use merit_sys::notify::{Cred, NotifySocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// sun_path holds 108 bytes, the final NUL included.
const SUN_PATH_MAX: usize = 107;

/// The notify socket of a service that has `notify-socket`.
pub(super) struct Notify {
    sock: NotifySocket,
    /// `watchdog-timeout` in ms.
    watchdog_ms: Option<u32>,
    /// The `run` whose life the fields below are about (0: none yet).
    life: u64,
    /// Monotonic ms of the start of that life or of its last ping.
    last_ping_ms: u64,
    /// The watchdog fired for this life.
    fired: bool,
}

fn mono_ms() -> u64 {
    clock::mono_ns() / 1_000_000
}

/// Reads `notify-socket` and `watchdog-timeout`, binds the socket and sets `NOTIFY_SOCKET` for
/// the children (the supervisor is single-threaded: nothing else reads the environment).
// Out of the supervisor's loop: its frame (a 4 KiB buffer, say) must not grow the loop's.
#[inline(never)]
pub(super) fn load(diag: &Diag) -> Option<Box<Notify>> {
    match std::fs::symlink_metadata("notify-socket") {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            diag.warn_err("unable to stat notify-socket", &e);
            return None;
        }
    }
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            diag.warn_err("notify-socket: unable to get the current directory, running without NOTIFY_SOCKET", &e);
            return None;
        }
    };
    // sd_notify refuses a relative NOTIFY_SOCKET.
    let path: PathBuf = cwd.join("supervise/notify");
    let len = path.as_os_str().len();
    if len > SUN_PATH_MAX {
        diag.warn(&format!(
            "notify-socket: {} is {len} bytes, more than a socket path holds ({SUN_PATH_MAX}): running without NOTIFY_SOCKET",
            path.display()
        ));
        return None;
    }
    let sock = match NotifySocket::bind(Path::new("supervise/notify"), 0o666) {
        Ok(s) => s,
        Err(e) => {
            diag.warn_err("notify-socket: unable to bind supervise/notify, running without NOTIFY_SOCKET", &e);
            return None;
        }
    };
    let watchdog_ms = match std::fs::read("watchdog-timeout") {
        Ok(b) => parse_watchdog_timeout(&b).unwrap_or_else(|_| {
            diag.warn("invalid watchdog-timeout, ignoring it");
            None
        }),
        Err(_) => None,
    };
    std::env::set_var("NOTIFY_SOCKET", &path);
    Some(Box::new(Notify { sock, watchdog_ms, life: 0, last_ping_ms: 0, fired: false }))
}

/// The session of `pid` (field 6 of `/proc/PID/stat`).
fn session_of(pid: i32) -> Option<u64> {
    let b = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let close = b.iter().rposition(|&c| c == b')')?;
    let rest = std::str::from_utf8(b.get(close + 1..)?).ok()?;
    rest.split_ascii_whitespace().nth(3)?.parse().ok()
}

impl Driver {
    /// The notify socket's descriptor for the poll set (-1: none).
    pub(super) fn notify_fd(&self) -> i32 {
        self.notify.as_ref().map_or(-1, |n| n.sock.as_raw_fd())
    }

    /// A new life of `run` resets the watchdog and what the last one announced.
    fn notify_track_life(&mut self) {
        let up = matches!(self.sup.state(), State::Up | State::LastUp);
        let pid = if up { self.sup.status().pid } else { 0 };
        let Some(n) = self.notify.as_mut() else { return };
        if pid == 0 || n.life == pid {
            return;
        }
        n.life = pid;
        n.last_ping_ms = mono_ms();
        n.fired = false;
        let m = &self.merit;
        if m.notify.is_some() || m.status.is_some() || m.mainpid.is_some() || m.errno.is_some() {
            self.merit.notify = None;
            self.merit.status = None;
            self.merit.mainpid = None;
            self.merit.errno = None;
            self.write_merit_state();
        }
    }

    /// Milliseconds until the watchdog of the live `run` expires (`None`: no watchdog armed).
    pub(super) fn watchdog_timeout(&mut self) -> Option<u64> {
        self.notify_track_life();
        let n = self.notify.as_ref()?;
        let t = n.watchdog_ms?;
        if n.life == 0 || n.fired {
            return None;
        }
        Some((n.last_ping_ms + u64::from(t)).saturating_sub(mono_ms()))
    }

    /// Feeds the watchdog's expiry when it is due.
    pub(super) fn check_watchdog(&mut self) {
        self.notify_track_life();
        let due = self.notify.as_ref().is_some_and(|n| {
            n.life != 0 && !n.fired && n.watchdog_ms.is_some_and(|t| watchdog_expired(t, n.last_ping_ms, mono_ms()))
        });
        if due {
            self.watchdog_fire("no WATCHDOG=1 within watchdog-timeout");
        }
    }

    fn watchdog_fire(&mut self, why: &str) {
        let Some(n) = self.notify.as_mut() else { return };
        if n.fired || n.life == 0 {
            return;
        }
        n.fired = true;
        self.diag.warn(&format!("{why}: restarting the service"));
        self.feed(Input::WatchdogExpired);
    }

    /// Whether `cred` is one of the service's own processes.
    fn sent_by_the_service(&self, cred: Option<Cred>) -> bool {
        let Some(c) = cred else { return false };
        let Some(run) = self.sup.child_pid().filter(|_| matches!(self.sup.state(), State::Up | State::LastUp)) else {
            return false;
        };
        c.pid as u64 == run || session_of(c.pid) == Some(run)
    }

    /// Reads every waiting datagram and acts on it.
    // Out of the supervisor's loop: its frame (a 4 KiB buffer, say) must not grow the loop's.
    #[inline(never)]
    pub(super) fn read_notify(&mut self) {
        self.notify_track_life();
        let mut buf = [0u8; DATAGRAM_MAX + 1];
        for _ in 0..64 {
            let Some(n) = self.notify.as_ref() else { return };
            let got = match n.sock.recv(&mut buf) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    self.diag.warn_err("unable to receive from supervise/notify", &e);
                    return;
                }
            };
            if got.truncated {
                self.diag.warn(&format!(
                    "ignoring a malformed notification: datagram of {} bytes, more than {DATAGRAM_MAX}",
                    got.len
                ));
                continue;
            }
            let data = buf.get(..got.len).unwrap_or(&[]);
            let msg = match parse(data) {
                Ok(m) => m,
                Err(e) => {
                    let who = got.cred.map_or(String::new(), |c| format!(" from pid {}", c.pid));
                    self.diag.warn(&format!("ignoring a malformed notification{who}: {e}"));
                    continue;
                }
            };
            for r in &msg.rejected {
                self.diag.warn(&format!("ignoring notification {r}: invalid value"));
            }
            let mut changed = false;
            if let Some(text) = msg.status {
                let text = (!text.is_empty()).then_some(text);
                changed |= self.merit.status != text;
                self.merit.status = text;
            }
            if let Some(e) = msg.errno {
                let e = (e != 0).then_some(e);
                changed |= self.merit.errno != e;
                self.merit.errno = e;
            }
            if let Some(p) = msg.mainpid {
                if self.sent_by_the_service(got.cred) {
                    changed |= self.merit.mainpid != Some(p);
                    self.merit.mainpid = Some(p);
                } else {
                    let who = got.cred.map_or("an unknown sender".to_string(), |c| format!("pid {}", c.pid));
                    self.diag.warn(&format!("ignoring MAINPID={p} from {who}: not a process of the service"));
                }
            }
            let phase = if msg.stopping {
                Some(NotifyPhase::Stopping)
            } else if msg.reloading {
                Some(NotifyPhase::Reloading)
            } else if msg.ready {
                Some(NotifyPhase::Ready)
            } else {
                None
            };
            if phase.is_some() && phase != self.merit.notify {
                self.merit.notify = phase;
                changed = true;
            }
            if msg.watchdog_ping {
                if let Some(n) = self.notify.as_mut() {
                    n.last_ping_ms = mono_ms();
                }
            }
            if changed {
                self.write_merit_state();
            }
            let up = matches!(self.sup.state(), State::Up | State::LastUp);
            if msg.ready && up && !self.sup.status().ready {
                self.feed(Input::Ready);
            }
            if msg.watchdog_trigger {
                self.watchdog_fire("WATCHDOG=trigger");
            }
        }
    }
}
