//! The state machine of `s6-supervise`, without any I/O.
//!
//! The driver (the `s6-supervise` binary) feeds [`Input`]s — control letters, signals, child
//! deaths, timer expiry, readiness — into [`Supervisor::step`], and carries out the returned
//! [`Effect`]s in order. Every (state, input) pair is one cell of the table in
//! [`Supervisor::step`], decided in a `match` without wildcard, so the compiler checks that no
//! cell of the table in control.md §2 is forgotten. Effects that answer with an input
//! ([`Effect::SpawnRun`], [`Effect::SpawnFinish`]) have it queued in an [`InputQueue`] and fed
//! after the effects of the current step.
//!
//! To add an input (say, a notify socket's `READY=1`, or a back-off timer): add its [`Input`]
//! variant, and the compiler points at each place to decide: its handler in
//! [`Supervisor::step`] (a `match` naming every state), its row in the tests (`row`,
//! `all_inputs`), and the driver's `effect` if it comes with a new [`Effect`]. A new [`State`]
//! likewise fails to compile in every handler until each of its cells is written.
//!
//! Configuration files that s6 re-reads at a given moment (`down-signal` at each stop,
//! `timeout-kill`, `timeout-finish`, …) are read through [`ServiceConfig`] at exactly that moment.

pub use crate::backoff::Decision;
use crate::status::{DeathRecord, StatusFile};
use crate::tai::Tain;

/// Supervisor states (servicedir.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Nothing runs.
    Down,
    /// `run` is alive.
    Up,
    /// `finish` is alive.
    Finish,
    /// As `Up`, but the supervisor exits once the service is down.
    LastUp,
    /// As `Finish`, but the supervisor exits once `finish` ends.
    LastFinish,
}

/// The 21 letters s6-supervise understands on `supervise/control`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// `a b q h k t i 1 2 y`: send a signal to `run`.
    Signal(Signal),
    /// `p`: SIGSTOP, paused.
    Pause,
    /// `c`: SIGCONT, not paused.
    Continue,
    /// `r`: down-signal, nothing else.
    Restart,
    /// `o`: run once.
    Once,
    /// `d`: bring down.
    Down,
    /// `u`: bring up.
    Up,
    /// `D`: create `./down`, then `d`.
    DownPermanent,
    /// `U`: remove `./down`, then `u`.
    UpPermanent,
    /// `x`: exit when the service is down.
    Exit,
    /// `O`: want down, keep running.
    OnceAndKeep,
    /// `Q`: create `./down`, want down, keep running.
    QuitKeep,
}

impl Control {
    /// Decodes one byte of the control FIFO; `None` for bytes s6-supervise ignores.
    pub fn from_byte(b: u8) -> Option<Control> {
        use Control::*;
        Some(match b {
            b'a' => Signal(SIGALRM),
            b'b' => Signal(SIGABRT),
            b'q' => Signal(SIGQUIT),
            b'h' => Signal(SIGHUP),
            b'k' => Signal(SIGKILL),
            b't' => Signal(SIGTERM),
            b'i' => Signal(SIGINT),
            b'1' => Signal(SIGUSR1),
            b'2' => Signal(SIGUSR2),
            b'y' => Signal(SIGWINCH),
            b'p' => Pause,
            b'c' => Continue,
            b'r' => Restart,
            b'o' => Once,
            b'd' => Down,
            b'u' => Up,
            b'D' => DownPermanent,
            b'U' => UpPermanent,
            b'x' => Exit,
            b'O' => OnceAndKeep,
            b'Q' => QuitKeep,
            _ => return None,
        })
    }
}

pub use crate::signals::{
    Signal, SIGABRT, SIGALRM, SIGCONT, SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGSTOP, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH,
};

/// Signals s6-supervise itself reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupervisorSignal {
    Term,
    Hup,
    Quit,
    Int,
}

/// What happened when the driver tried to spawn `./run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnOutcome {
    /// `run` was exec'd with this pid.
    Spawned(u64),
    /// `execv` failed (missing or not executable `run`): retry in 10 s, status untouched.
    ExecFailed,
    /// fork, pipe or the service lock could not be set up: retry in 60 s.
    ResourceFailed,
    /// `notification-fd` and `lock-fd` name the same descriptor: do not retry by timer.
    FdConflict,
}

/// An input to the state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Control(Control),
    Signal(SupervisorSignal),
    /// The deadline returned by [`Supervisor::deadline`] passed.
    Timeout,
    /// A newline arrived on the notification pipe.
    Ready,
    /// Result of an [`Effect::SpawnRun`].
    RunSpawned(SpawnOutcome),
    /// Result of an [`Effect::SpawnFinish`]: `Some(pid)`, or `None` when nothing runs (`fork`
    /// failed, or there is no `./finish`): down and ready at once.
    FinishSpawned(Option<u64>),
    /// `run` was reaped with this wait status.
    RunDied(u16),
    /// `finish` was reaped with this wait status.
    FinishDied(u16),
    /// The restart policy (`restart-delay`, `restart-limit`: [`crate::backoff`]) decided what
    /// follows the death of `run` that the driver is about to feed: fed just before that
    /// [`Input::RunDied`], only for services that have one of those files.
    Backoff(Decision),
    /// `run` of a service with `notify-socket` and `watchdog-timeout` sent no `WATCHDOG=1`
    /// within the timeout (or sent `WATCHDOG=trigger`): restart it.
    WatchdogExpired,
}

/// Something the driver must do, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `kill(pid, sig)`.
    Kill { pid: u64, sig: Signal },
    /// `killpg(getpgid(pid), sig)`.
    KillGroup { pid: u64, sig: Signal },
    /// Rewrite `supervise/status` from [`Supervisor::status`].
    WriteStatus,
    /// Broadcast these bytes to the `event/` fifodir.
    Event(&'static [u8]),
    /// Create an empty `./down`.
    CreateDownFile,
    /// Remove `./down`.
    RemoveDownFile,
    /// Point the supervisor's own fds 0 and 1 at `/dev/null`.
    StdioToNull,
    /// Spawn `./run`; answer with [`Input::RunSpawned`].
    SpawnRun,
    /// Spawn `./finish A B DIR`; answer with [`Input::FinishSpawned`].
    SpawnFinish { code: u32, sig: u32 },
    /// Close the notification pipe (if open).
    CloseNotification,
    /// Append this record to `supervise/death_tally`.
    RecordDeath(DeathRecord),
    /// `finish` outlived `timeout-finish`: warn, SIGCONT + SIGKILL it.
    KillFinish { pid: u64 },
    /// Exit 0 (after the `x` event, which precedes this effect).
    Exit,
}

/// Fixed-capacity list of effects: one step never produces more than a handful, and the
/// supervisor's hot path allocates nothing.
#[derive(Clone, Copy, Debug)]
pub struct Effects {
    items: [Effect; Effects::CAPACITY],
    len: usize,
}

impl Effects {
    /// More than any cell of the table pushes: the test `every_cell_of_the_table_runs` checks
    /// that no cell comes within one of it.
    pub const CAPACITY: usize = 8;

    fn new() -> Effects {
        Effects { items: [Effect::Exit; Effects::CAPACITY], len: 0 }
    }
    fn push(&mut self, e: Effect) {
        // Never full (see CAPACITY): no index can panic in the supervisor.
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = e;
            self.len += 1;
        }
    }
    pub fn as_slice(&self) -> &[Effect] {
        self.items.get(..self.len).unwrap_or(&[])
    }
}

/// The inputs that effects answer with ([`Effect::SpawnRun`] with [`Input::RunSpawned`],
/// [`Effect::SpawnFinish`] with [`Input::FinishSpawned`], perhaps then [`Input::FinishDied`]),
/// waiting for their turn: the driver queues them while it carries out the effects of one
/// step, and feeds them afterwards, first in first out. So every effect of a step happens
/// before the next step begins, whatever its place in the list, and no step runs inside
/// another.
///
/// Fixed capacity, nothing allocated per event: the queue is drained after every step, one
/// step has at most one spawn effect, and one spawn answers with at most two inputs.
#[derive(Clone, Copy, Debug)]
pub struct InputQueue {
    items: [Input; InputQueue::CAPACITY],
    /// Index of the oldest input.
    head: usize,
    len: usize,
}

impl Default for InputQueue {
    fn default() -> InputQueue {
        InputQueue { items: [Input::Timeout; InputQueue::CAPACITY], head: 0, len: 0 }
    }
}

impl InputQueue {
    pub const CAPACITY: usize = 4;

    /// Queues `input` last; `false` (and `input` dropped) when the queue is full.
    pub fn push(&mut self, input: Input) -> bool {
        match self.items.get_mut((self.head + self.len) % InputQueue::CAPACITY) {
            Some(slot) if self.len < InputQueue::CAPACITY => {
                *slot = input;
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// Takes the oldest input.
    pub fn pop(&mut self) -> Option<Input> {
        if self.len == 0 {
            return None;
        }
        let input = self.items.get(self.head).copied();
        self.head = (self.head + 1) % InputQueue::CAPACITY;
        self.len -= 1;
        input
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Times handed in with each input: wall clock as TAI (for stamps) and a monotonic clock in
/// nanoseconds (for deadlines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    pub wall: Tain,
    pub mono: u64,
}

/// The configuration files s6-supervise re-reads at the moment it needs them.
pub trait ServiceConfig {
    /// `down-signal` (default SIGTERM).
    fn down_signal(&mut self) -> Signal;
    /// `timeout-kill` in ms (0 = never escalate).
    fn timeout_kill(&mut self) -> u32;
    /// `timeout-finish` in ms (default 5000, 0 = unlimited).
    fn timeout_finish(&mut self) -> u32;
}

const SECOND: u64 = 1_000_000_000;
const MILLI: u64 = 1_000_000;
/// Retry after a failed exec of `run`.
pub const EXEC_RETRY: u64 = 10 * SECOND;
/// Retry after a fork/pipe/lock failure.
pub const RESOURCE_RETRY: u64 = 60 * SECOND;
/// Repeat period of SIGKILL escalation.
pub const KILL_REPEAT: u64 = 5 * SECOND;
/// The restart throttle.
pub const RESTART_DELAY: u64 = SECOND;

/// The supervisor: its state, the status it publishes, and its one timer.
#[derive(Clone, Debug)]
pub struct Supervisor {
    state: State,
    status: StatusFile,
    /// Monotonic deadline of the single timer; its meaning depends on the state: restart
    /// (Down), SIGKILL escalation (Up), `finish` timeout (Finish).
    deadline: Option<u64>,
    /// Monotonic time of the last readiness notification + 1 s, during the current life of `run`.
    ready_restart_at: Option<u64>,
    /// What the restart policy decided for the current death of `run` ([`Input::Backoff`]):
    /// restart not before this monotonic time, or give up.
    after_death: Option<AfterDeath>,
}

/// The restart policy's answer to one death, kept until the service is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AfterDeath {
    NotBefore(u64),
    GiveUp,
}

impl Supervisor {
    /// A fresh supervisor: initial status written, event `s`, immediate timeout.
    /// `want_up` is "no `./down` file".
    pub fn start(want_up: bool, now: Now) -> (Supervisor, Effects) {
        let sup = Supervisor {
            state: State::Down,
            status: StatusFile {
                stamp: now.wall,
                readystamp: now.wall,
                pid: 0,
                wstat: 0,
                paused: false,
                finishing: false,
                wantup: want_up,
                ready: true,
            },
            deadline: Some(now.mono),
            ready_restart_at: None,
            after_death: None,
        };
        let mut fx = Effects::new();
        fx.push(Effect::WriteStatus);
        fx.push(Effect::Event(b"s"));
        (sup, fx)
    }

    pub fn state(&self) -> State {
        self.state
    }
    pub fn status(&self) -> &StatusFile {
        &self.status
    }
    /// When the driver must feed [`Input::Timeout`], as a monotonic time in nanoseconds.
    pub fn deadline(&self) -> Option<u64> {
        self.deadline
    }
    /// Pid of `run` when up, `finish` when finishing.
    pub fn child_pid(&self) -> Option<u64> {
        (self.status.pid != 0).then_some(self.status.pid)
    }

    /// Applies one input and returns what to do.
    ///
    /// This is the table of s6-supervise.c (actions indexed by state and event), as
    /// control.md §2 draws it: one handler per row (kind of input), each a `match` on the
    /// state that names every state (the columns) and has no wildcard arm. A new [`State`]
    /// or a new [`Input`] does not compile until each of its cells is decided here.
    pub fn step(&mut self, input: Input, now: Now, cfg: &mut dyn ServiceConfig) -> Effects {
        let mut fx = Effects::new();
        match input {
            Input::Control(c) => self.on_control(c, now, cfg, &mut fx),
            Input::Signal(g) => self.on_signal(g, now, cfg, &mut fx),
            Input::Timeout => self.on_timeout(now, &mut fx),
            Input::Ready => self.on_ready(now, &mut fx),
            Input::RunSpawned(outcome) => self.on_run_spawned(outcome, now, &mut fx),
            Input::FinishSpawned(child) => self.on_finish_spawned(child, now, cfg, &mut fx),
            Input::RunDied(wstat) => self.on_run_died(wstat, now, &mut fx),
            Input::FinishDied(wstat) => self.on_finish_died(wstat, now, &mut fx),
            Input::Backoff(decision) => self.on_backoff(decision, now),
            Input::WatchdogExpired => self.on_watchdog(now, cfg, &mut fx),
        }
        fx
    }

    /// A control letter: one row of control.md §2 per [`Control`].
    fn on_control(&mut self, c: Control, now: Now, cfg: &mut dyn ServiceConfig, fx: &mut Effects) {
        use Control as C;
        use State as S;
        let pid = self.status.pid;
        match c {
            C::Signal(sig) => match self.state {
                S::Up | S::LastUp => fx.push(Effect::Kill { pid, sig }),
                S::Down | S::Finish | S::LastFinish => {}
            },
            C::Pause | C::Continue => match self.state {
                S::Up | S::LastUp => {
                    let pause = c == C::Pause;
                    fx.push(Effect::Kill { pid, sig: if pause { SIGSTOP } else { SIGCONT } });
                    self.status.paused = pause;
                    fx.push(Effect::WriteStatus);
                }
                S::Down | S::Finish | S::LastFinish => {}
            },
            C::Restart => match self.state {
                S::Up | S::LastUp => fx.push(Effect::Kill { pid, sig: cfg.down_signal() }),
                S::Down | S::Finish | S::LastFinish => {}
            },
            C::Once => match self.state {
                S::Down => {
                    self.want(false, fx);
                    self.spawn(fx);
                }
                S::Up | S::LastUp | S::Finish | S::LastFinish => self.want(false, fx),
            },
            C::Up => match self.state {
                S::Down => {
                    self.want(true, fx);
                    self.spawn(fx);
                }
                S::Up | S::LastUp | S::Finish | S::LastFinish => self.want(true, fx),
            },
            C::UpPermanent => {
                fx.push(Effect::RemoveDownFile);
                self.on_control(C::Up, now, cfg, fx);
            }
            C::Down => match self.state {
                S::Up | S::LastUp => self.stop(now, cfg, fx),
                S::Down | S::Finish | S::LastFinish => self.want(false, fx),
            },
            C::DownPermanent => {
                fx.push(Effect::CreateDownFile);
                self.on_control(C::Down, now, cfg, fx);
            }
            C::Exit => match self.state {
                S::Down => self.exit(fx),
                S::Up => self.become_last(S::LastUp, fx),
                S::Finish => self.become_last(S::LastFinish, fx),
                S::LastUp | S::LastFinish => fx.push(Effect::StdioToNull),
            },
            C::OnceAndKeep => match self.state {
                S::Down | S::Up | S::LastUp | S::Finish | S::LastFinish => self.want(false, fx),
            },
            C::QuitKeep => match self.state {
                S::Down | S::Up | S::LastUp | S::Finish | S::LastFinish => {
                    fx.push(Effect::CreateDownFile);
                    self.want(false, fx);
                }
            },
        }
    }

    /// A signal to the supervisor itself (control.md §2, "Signals received by s6-supervise").
    fn on_signal(&mut self, g: SupervisorSignal, now: Now, cfg: &mut dyn ServiceConfig, fx: &mut Effects) {
        use State as S;
        use SupervisorSignal as G;
        match g {
            G::Term => match self.state {
                S::Down => self.exit(fx),
                S::Up | S::LastUp => {
                    self.state = S::LastUp;
                    self.stop(now, cfg, fx);
                }
                S::Finish => self.become_last(S::LastFinish, fx),
                S::LastFinish => {}
            },
            G::Hup => match self.state {
                S::Down => self.exit(fx),
                S::Up => self.become_last(S::LastUp, fx),
                S::Finish => self.become_last(S::LastFinish, fx),
                S::LastUp | S::LastFinish => fx.push(Effect::StdioToNull),
            },
            G::Quit => match self.state {
                S::Down | S::Up | S::LastUp | S::Finish | S::LastFinish => self.exit(fx),
            },
            G::Int => match self.state {
                S::Down => self.exit(fx),
                S::Up | S::LastUp | S::Finish | S::LastFinish => {
                    fx.push(Effect::KillGroup { pid: self.status.pid, sig: SIGINT });
                    self.exit(fx);
                }
            },
        }
    }

    /// The one timer: restart (Down), SIGKILL escalation (Up), `finish` timeout (Finish).
    fn on_timeout(&mut self, now: Now, fx: &mut Effects) {
        use State as S;
        let pid = self.status.pid;
        match self.state {
            S::Down => {
                self.deadline = None;
                if self.status.wantup {
                    self.spawn(fx);
                }
            }
            S::Up | S::LastUp => {
                fx.push(Effect::Kill { pid, sig: SIGKILL });
                self.deadline = Some(now.mono + KILL_REPEAT);
            }
            S::Finish | S::LastFinish => {
                fx.push(Effect::KillFinish { pid });
                self.deadline = Some(now.mono + KILL_REPEAT);
            }
        }
    }

    /// A newline on the notification pipe.
    fn on_ready(&mut self, now: Now, fx: &mut Effects) {
        use State as S;
        match self.state {
            S::Up | S::LastUp => {
                self.status.readystamp = now.wall;
                self.status.ready = true;
                self.ready_restart_at = Some(now.mono + RESTART_DELAY);
                fx.push(Effect::WriteStatus);
                fx.push(Effect::Event(b"U"));
                fx.push(Effect::CloseNotification);
            }
            S::Down | S::Finish | S::LastFinish => fx.push(Effect::CloseNotification),
        }
    }

    /// The answer to [`Effect::SpawnRun`].
    fn on_run_spawned(&mut self, outcome: SpawnOutcome, now: Now, fx: &mut Effects) {
        use State as S;
        match self.state {
            S::Down => match outcome {
                SpawnOutcome::Spawned(child) => {
                    self.state = S::Up;
                    self.status.pid = child;
                    self.status.ready = false;
                    self.status.stamp = now.wall;
                    self.ready_restart_at = None;
                    self.after_death = None;
                    self.deadline = None;
                    fx.push(Effect::WriteStatus);
                    fx.push(Effect::Event(b"u"));
                }
                SpawnOutcome::ExecFailed => self.deadline = Some(now.mono + EXEC_RETRY),
                SpawnOutcome::ResourceFailed => self.deadline = Some(now.mono + RESOURCE_RETRY),
                SpawnOutcome::FdConflict => self.deadline = None,
            },
            // A spawn is only ever requested in Down; anything else is a driver bug, ignored.
            S::Up | S::LastUp | S::Finish | S::LastFinish => {}
        }
    }

    /// `run` was reaped: record the death, then spawn `finish` (whose answer moves the state).
    fn on_run_died(&mut self, wstat: u16, now: Now, fx: &mut Effects) {
        use State as S;
        match self.state {
            S::Up | S::LastUp => {
                self.status.wstat = wstat;
                self.status.paused = false;
                self.status.ready = false;
                self.status.stamp = now.wall;
                self.deadline = None;
                fx.push(Effect::CloseNotification);
                fx.push(Effect::RecordDeath(DeathRecord::from_wstat(now.wall, wstat)));
                let w = crate::status::WaitStatus(wstat);
                let (code, sig) = if w.signaled() { (256, w.termsig()) } else { (w.exitstatus(), 0) };
                // The status is written by the answer, FinishSpawned.
                fx.push(Effect::SpawnFinish { code, sig });
            }
            S::Down | S::Finish | S::LastFinish => {}
        }
    }

    /// The answer to [`Effect::SpawnFinish`].
    fn on_finish_spawned(&mut self, child: Option<u64>, now: Now, cfg: &mut dyn ServiceConfig, fx: &mut Effects) {
        use State as S;
        match (self.state, child) {
            (S::Up, Some(child)) => self.finishing(S::Finish, child, now, cfg, fx),
            (S::LastUp, Some(child)) => self.finishing(S::LastFinish, child, now, cfg, fx),
            (S::Up, None) => self.set_down_and_ready(now, b"dD", false, fx),
            (S::LastUp, None) => self.set_down_and_ready(now, b"dD", true, fx),
            (S::Down | S::Finish | S::LastFinish, Some(_) | None) => {}
        }
    }

    /// `finish` was reaped: down and ready; exit code 125 means "do not restart".
    fn on_finish_died(&mut self, wstat: u16, now: Now, fx: &mut Effects) {
        use State as S;
        let last = match self.state {
            S::Finish => false,
            S::LastFinish => true,
            S::Down | S::Up | S::LastUp => return,
        };
        let w = crate::status::WaitStatus(wstat);
        let permanent = w.exited() && w.exitstatus() == 125;
        if permanent {
            self.status.wantup = false;
        }
        self.set_down_and_ready(now, if permanent { b"OD" } else { b"D" }, last, fx);
    }

    /// The restart policy's decision on the death of `run` about to be fed: kept until the
    /// service is down ([`Supervisor::set_down_and_ready`]). Only `run`'s life has a death to
    /// decide on; elsewhere it is a driver bug, ignored.
    fn on_backoff(&mut self, decision: Decision, now: Now) {
        use State as S;
        match self.state {
            S::Up | S::LastUp => {
                self.after_death = Some(match decision {
                    Decision::Restart { delay_ms } => AfterDeath::NotBefore(now.mono + u64::from(delay_ms) * MILLI),
                    Decision::GiveUp { .. } => AfterDeath::GiveUp,
                });
            }
            S::Down | S::Finish | S::LastFinish => {}
        }
    }

    /// The watchdog of `run` expired: as `r` (down-signal, then SIGCONT), and SIGKILL after
    /// `timeout-kill` (5 s when it is 0: a service that stopped pinging may not answer its
    /// down-signal either). Nothing to do when `run` is not alive.
    fn on_watchdog(&mut self, now: Now, cfg: &mut dyn ServiceConfig, fx: &mut Effects) {
        use State as S;
        match self.state {
            S::Up | S::LastUp => {
                let pid = self.status.pid;
                fx.push(Effect::Kill { pid, sig: cfg.down_signal() });
                fx.push(Effect::Kill { pid, sig: SIGCONT });
                let t = match cfg.timeout_kill() {
                    0 => KILL_REPEAT,
                    ms => u64::from(ms) * MILLI,
                };
                self.deadline = Some(now.mono + t);
            }
            S::Down | S::Finish | S::LastFinish => {}
        }
    }

    /// `x` (or SIGHUP, or SIGTERM in Finish): exit once the service is down, and let go of
    /// the terminal now.
    fn become_last(&mut self, last: State, fx: &mut Effects) {
        self.state = last;
        fx.push(Effect::StdioToNull);
    }

    /// `finish` runs (`state` is Finish or LastFinish): its pid is published, `timeout-finish`
    /// armed, event `d`.
    fn finishing(&mut self, state: State, child: u64, now: Now, cfg: &mut dyn ServiceConfig, fx: &mut Effects) {
        self.state = state;
        self.status.pid = child;
        self.status.finishing = true;
        let t = cfg.timeout_finish();
        self.deadline = (t > 0).then(|| now.mono + t as u64 * MILLI);
        fx.push(Effect::WriteStatus);
        fx.push(Effect::Event(b"d"));
    }

    fn want(&mut self, up: bool, fx: &mut Effects) {
        self.status.wantup = up;
        fx.push(Effect::WriteStatus);
    }

    fn spawn(&mut self, fx: &mut Effects) {
        fx.push(Effect::SpawnRun);
    }

    /// `d` in Up: want down, down-signal + SIGCONT, unpause, write once, arm timeout-kill.
    fn stop(&mut self, now: Now, cfg: &mut dyn ServiceConfig, fx: &mut Effects) {
        let pid = self.status.pid;
        self.status.wantup = false;
        fx.push(Effect::Kill { pid, sig: cfg.down_signal() });
        fx.push(Effect::Kill { pid, sig: SIGCONT });
        self.status.paused = false;
        fx.push(Effect::WriteStatus);
        let t = cfg.timeout_kill();
        if t > 0 {
            self.deadline = Some(now.mono + t as u64 * MILLI);
        }
    }

    fn set_down_and_ready(&mut self, now: Now, event: &'static [u8], last: bool, fx: &mut Effects) {
        // For `dD` the stamp is already the death time, set when `run` was reaped (the same
        // reading as the death tally's record).
        self.status.pid = 0;
        self.status.finishing = false;
        self.status.ready = true;
        self.status.readystamp = now.wall;
        let after_death = self.after_death.take();
        // Given up: down for good, as when `finish` exits 125 (want down, event `O`), until
        // `u` (merit-state says why).
        let give_up = after_death == Some(AfterDeath::GiveUp) && !last;
        let event: &'static [u8] = match (give_up, event) {
            (true, b"dD") => b"dOD",
            (true, b"D") => b"OD",
            (_, event) => event,
        };
        if give_up {
            self.status.wantup = false;
        }
        fx.push(Effect::WriteStatus);
        fx.push(Effect::Event(event));
        if last {
            self.exit(fx);
            return;
        }
        self.state = State::Down;
        if give_up {
            self.deadline = None;
            return;
        }
        let mut at = self.ready_restart_at.take().unwrap_or(now.mono + RESTART_DELAY);
        if let Some(AfterDeath::NotBefore(t)) = after_death {
            at = at.max(t);
        }
        self.deadline = Some(at.max(now.mono));
    }

    fn exit(&mut self, fx: &mut Effects) {
        fx.push(Effect::Event(b"x"));
        fx.push(Effect::Exit);
    }
}

#[cfg(test)]
mod tests;
