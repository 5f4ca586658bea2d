//! Restart back-off and giving up (issue 13): `restart-delay` and `restart-limit`, read at
//! start-up and again at each `u` or `U` (`s6-svc -u`, `service NAME start`: an edit takes
//! effect there, as a fresh start), not at each death. A service without them pays nothing in
//! its loop: `Driver::restart` stays `None` and no decision is ever fed to the state machine.
//!
//! The decisions are `merit_core::backoff::Backoff`'s; the state machine hears them as
//! `Input::Backoff`, fed just before the death of `run` they are about. What `service` shows
//! beyond s6's status file (failed, why, the delay) is written to `supervise/merit-state`.

use super::config::Diag;
use super::Driver;
use merit_core::backoff::{
    parse_restart_delay, parse_restart_limit, Backoff, Decision, Exit, MeritState, Policy, MERIT_STATE_FILE,
    POLICY_FILE_MAX,
};
use merit_core::status::WaitStatus;
use merit_core::supervisor::{Control, Input, SIGINT, SIGKILL, SIGQUIT, SIGTERM};
use merit_sys::{clock, fd};
use std::path::Path;

/// The restart policy of a service that has one.
pub(super) struct Restart {
    policy: Policy,
    backoff: Backoff,
    /// The coming death of `run` was asked for (`r`, or a letter sending a deadly signal): it
    /// does not count.
    asked: bool,
}

/// Reads one policy file: `None` when absent or invalid (warned).
fn read_policy<T>(
    diag: &Diag,
    name: &str,
    parse: fn(&[u8]) -> Result<T, merit_core::config::ConfigError>,
) -> Option<T> {
    let b = super::config::read_small(diag, name, POLICY_FILE_MAX + 1)?;
    parse(&b).map_err(|_| diag.warn(&format!("invalid {name}, ignoring it"))).ok()
}

/// Reads `restart-delay` and `restart-limit` (one open each, at start-up).
// Out of the supervisor's loop: its frame (a 4 KiB buffer, say) must not grow the loop's.
#[inline(never)]
pub(super) fn load(diag: &Diag) -> Option<Box<Restart>> {
    let policy = Policy {
        delay: read_policy(diag, "restart-delay", parse_restart_delay),
        limit: read_policy(diag, "restart-limit", parse_restart_limit),
    };
    if policy == Policy::default() {
        return None;
    }
    Some(Box::new(Restart { policy, backoff: Backoff::new(), asked: false }))
}

fn merit_state_path() -> (&'static Path, &'static Path) {
    (Path::new("supervise/merit-state.new"), Path::new("supervise/merit-state"))
}

impl Driver {
    /// Writes `supervise/merit-state` from `self.merit`.
    pub(super) fn write_merit_state(&self) {
        let (new, path) = merit_state_path();
        if let Err(e) = fd::write_replace(new, path, &self.merit.encode()) {
            self.diag.warn_err(&format!("unable to write supervise/{MERIT_STATE_FILE}"), &e);
        }
    }

    /// At start-up: a fresh merit-state for a service with the new files; a stale one (left
    /// by a supervisor of the same directory that had them) removed otherwise.
    pub(super) fn start_merit_state(&self) {
        if self.restart.is_some() || self.notify.is_some() || self.cgroup.is_some() {
            self.write_merit_state();
        } else {
            merit_sys::fs::unlink_void(c"supervise/merit-state");
        }
    }

    /// A control letter is about to be fed: `u` and `U` read the policy files again (edited,
    /// added or removed since) and clear a failure and the back-off; a letter that kills `run`
    /// marks its death as asked for.
    pub(super) fn backoff_sees_control(&mut self, c: Control) {
        match c {
            Control::Up | Control::UpPermanent => {
                let had = self.restart.is_some();
                self.restart = load(&self.diag);
                let stale = self.merit.failed || self.merit.delay_ms != 0 || self.merit.deaths != 0;
                self.merit.failed = false;
                self.merit.deaths = 0;
                self.merit.delay_ms = 0;
                if had != self.restart.is_some() {
                    // Written or removed, as at start-up.
                    self.start_merit_state();
                } else if stale && self.restart.is_some() {
                    self.write_merit_state();
                }
            }
            Control::Restart => {
                if let Some(r) = self.restart.as_mut() {
                    r.asked = true;
                }
            }
            Control::Signal(s) if s == SIGKILL || s == SIGTERM || s == SIGINT || s == SIGQUIT => {
                if let Some(r) = self.restart.as_mut() {
                    r.asked = true;
                }
            }
            _ => {}
        }
    }

    /// `run` died with `wstat` (not yet fed): the policy's decision is fed first, for a death
    /// the supervisor did not ask for while the service is wanted up.
    // Out of the supervisor's loop: its frame (a 4 KiB buffer, say) must not grow the loop's.
    #[inline(never)]
    pub(super) fn backoff_before_run_died(&mut self, wstat: u16) {
        let Some(r) = self.restart.as_mut() else { return };
        let asked = std::mem::replace(&mut r.asked, false);
        let st = self.sup.status();
        if asked || !st.wantup {
            return;
        }
        let (s, ns) = clock::wall();
        let now_wall = merit_core::tai::Tain::from_unix(s, ns);
        let up_for_ms = st.stamp.secs_until(now_wall).saturating_mul(1000).min(u64::MAX / 2);
        let now_ms = clock::mono_ns() / 1_000_000;
        let decision = r.backoff.on_death(&r.policy, now_ms, now_ms.saturating_sub(up_for_ms));
        let w = WaitStatus(wstat);
        self.merit.last = Some(if w.signaled() { Exit::Signal(w.termsig()) } else { Exit::Code(w.exitstatus() as u8) });
        self.merit.failed = matches!(decision, Decision::GiveUp { .. });
        self.merit.deaths = r.backoff.deaths_in_window(&r.policy, now_ms);
        self.merit.window_s = r.policy.limit.map_or(0, |l| l.window_s);
        self.merit.delay_ms = r.backoff.delay_ms();
        if let Decision::GiveUp { deaths, window_s } = decision {
            self.merit.deaths = deaths;
            self.diag.warn(&format!("{deaths} deaths in {window_s} seconds: giving up (s6-svc -u to start again)"));
        }
        self.write_merit_state();
        self.feed(Input::Backoff(decision));
    }
}

/// Keeps `MeritState` named here for the driver's field.
pub(super) type State = MeritState;
