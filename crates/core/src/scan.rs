//! The decisions of `s6-svscan`, without any I/O (scandir.md).
//!
//! The driver (the `s6-svscan` binary) reads the scan directory, spawns and reaps supervisors,
//! and reads signals and control letters; this module decides what each of those means:
//!
//! * [`Command`] is what a control letter (`s6-svscanctl`) or a signal asks for, and
//!   [`Wants::apply`] records it until the main loop acts on it.
//! * [`Table`] is the scanner's list of services: which directories are new, seen again or
//!   gone ([`Table::seen`], [`Table::end_scan`]), which supervisors are due to be (re)spawned
//!   ([`Table::start`]), what the death of one means ([`Table::reaped`]) and whom a kill request
//!   signals ([`Table::kills`]).
//!
//! Times are monotonic nanoseconds, given by the caller.

use crate::signals::{
    Signal, SCANNER_SCRIPTED, SIGABRT, SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGRTMIN_3, SIGTERM,
};

pub const SECOND: u64 = 1_000_000_000;
/// A scan that could not read the directory, an entry or its `log/` is retried this much later.
pub const DIR_RETRY: u64 = 3 * SECOND;
/// A dead supervisor is respawned no sooner than this after its death.
pub const RESPAWN_DELAY: u64 = SECOND;
/// A supervisor that could not be forked is retried no sooner than this.
pub const FORK_RETRY: u64 = 4 * SECOND;
/// The catch-all logger's directory name: never logged itself, and its supervisor gets the
/// console holder as stderr and the loggers' signal.
pub const CATCH_ALL: &[u8] = b"s6-svscan-log";
/// The script [`SIGRTMIN_3`] is diverted to. SIGRTMIN+3 is systemd's "halt", the signal
/// podman's `stop` sends to a container whose command is `/sbin/init` (its systemd mode). It is
/// caught only as PID 1, where an uncaught signal is dropped anyway (elsewhere it would kill the
/// scanner, as it kills s6's), and otherwise ignored.
pub const SIGRTMIN_3_SCRIPT: &str = "SIGRTMIN+3";

/// The four kill kinds of scandir.md §5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kill {
    /// A: inactive only, loggers HUP.
    InactiveHup,
    /// B: all, loggers HUP.
    AllHup,
    /// C: inactive only, loggers TERM.
    InactiveTerm,
    /// D: all, loggers TERM.
    AllTerm,
}

impl Kill {
    fn spares_active(self) -> bool {
        matches!(self, Kill::InactiveHup | Kill::InactiveTerm)
    }

    /// The signal for loggers' supervisors (and the catch-all logger's); others get SIGTERM.
    fn logger_signal(self) -> Signal {
        match self {
            Kill::InactiveHup | Kill::AllHup => SIGHUP,
            Kill::InactiveTerm | Kill::AllTerm => SIGTERM,
        }
    }
}

/// How the main loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Wait for every supervisor, then finish.
    Wait,
    /// `b`: do not wait.
    NoWait,
}

/// What a control letter or a signal asks the scanner to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `z`, SIGCHLD: reap dead children.
    Reap,
    /// `a`, SIGALRM: scan now.
    Scan,
    /// `b`, SIGABRT: leave at once, without waiting for the supervisors.
    Abort,
    /// `h`, SIGHUP: scan, then kill the inactive services (loggers HUP).
    Hangup,
    /// `n`: kill the inactive services (loggers HUP).
    Nuke,
    /// `N`: kill the inactive services, loggers TERM too.
    ReallyNuke,
    /// `t`, `i`, SIGTERM, SIGINT: kill every service (loggers HUP), wait for them, leave.
    Terminate,
    /// `q`, SIGQUIT: kill every service and logger (TERM), wait for them, leave.
    Quit,
}

impl Command {
    /// A byte of `.s6-svscan/control`; `None` for an unknown command (warned about, ignored).
    pub fn from_byte(b: u8) -> Option<Command> {
        Some(match b {
            b'z' => Command::Reap,
            b'a' => Command::Scan,
            b'b' => Command::Abort,
            b'h' => Command::Hangup,
            b'n' => Command::Nuke,
            b'N' => Command::ReallyNuke,
            b't' | b'i' => Command::Terminate,
            b'q' => Command::Quit,
            _ => return None,
        })
    }
}

/// What a signal read from the signalfd means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signaled {
    /// One of the scanner's own signals (SIGCHLD, SIGALRM, SIGABRT): never diverted.
    Do(Command),
    /// Run `.s6-svscan/NAME` instead when it can be run; else `otherwise`, if anything.
    Script { name: &'static str, otherwise: Option<Command> },
}

/// The meaning of signal `sig`; `None` for a signal the scanner does not listen for.
pub fn on_signal(sig: Signal) -> Option<Signaled> {
    let otherwise = match sig {
        SIGCHLD => return Some(Signaled::Do(Command::Reap)),
        SIGALRM => return Some(Signaled::Do(Command::Scan)),
        SIGABRT => return Some(Signaled::Do(Command::Abort)),
        SIGRTMIN_3 => return Some(Signaled::Script { name: SIGRTMIN_3_SCRIPT, otherwise: None }),
        SIGHUP => Some(Command::Hangup),
        SIGINT | SIGTERM => Some(Command::Terminate),
        SIGQUIT => Some(Command::Quit),
        // SIGUSR1, SIGUSR2, SIGPWR, SIGWINCH: a script or nothing.
        _ => None,
    };
    let &(_, name) = SCANNER_SCRIPTED.iter().find(|s| s.0 == sig)?;
    Some(Signaled::Script { name, otherwise })
}

/// What the main loop is to do next, as the commands of one wake-up left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wants {
    pub reap: bool,
    pub scan: bool,
    /// Kill request not yet carried out.
    pub kill: Option<Kill>,
    /// Set by the commands that leave the loop.
    pub leave: Option<Ending>,
}

impl Default for Wants {
    /// At start: reap, then scan.
    fn default() -> Wants {
        Wants { reap: true, scan: true, kill: None, leave: None }
    }
}

impl Wants {
    /// Records `c`. A kill request replaces any earlier one not yet sent (s6 assigns, it does
    /// not OR: `tn` ends up killing only the inactive services), and the last way of leaving
    /// wins (`tb` kills, then does not wait; `bt` waits).
    pub fn apply(&mut self, c: Command) {
        match c {
            Command::Reap => self.reap = true,
            Command::Scan => self.scan = true,
            Command::Abort => self.leave = Some(Ending::NoWait),
            Command::Hangup => {
                self.scan = true;
                self.kill = Some(Kill::InactiveHup);
            }
            Command::Nuke => self.kill = Some(Kill::InactiveHup),
            Command::ReallyNuke => self.kill = Some(Kill::InactiveTerm),
            Command::Terminate => {
                self.kill = Some(Kill::AllHup);
                self.leave = Some(Ending::Wait);
            }
            Command::Quit => {
                self.kill = Some(Kill::AllTerm);
                self.leave = Some(Ending::Wait);
            }
        }
    }
}

/// One supervisor process slot: running pid, or when it may be (re)spawned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    pid: Option<i32>,
    /// Monotonic time before which it must not be respawned ([`RESPAWN_DELAY`] after its
    /// death, [`FORK_RETRY`] after a failed fork).
    not_before: u64,
}

/// Which supervisor of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// `s6-supervise NAME/log`, reading the pipe.
    Log,
    /// `s6-supervise NAME`, writing into the pipe.
    Main,
}

/// A service known to the scanner, identified by its directory's (dev, ino). Its name is not
/// kept: supervisors are only (re)spawned by a scan, which has the directory's current name
/// (the entry may have been renamed). Nothing on the heap per service.
#[derive(Debug)]
pub struct Service<P> {
    dev: u64,
    ino: u64,
    /// Named [`CATCH_ALL`] (decided when first seen).
    catch_all: bool,
    active: bool,
    logged: bool,
    /// The pipe between the service and its logger, held by the scanner while the service is
    /// known, so neither side's restart loses data.
    pipe: Option<P>,
    main: Slot,
    log: Slot,
    /// Seen again by a scan while inactive with its pipe already closed: rescan as soon as
    /// one of its supervisors dies (it is not reused: a new pipe is needed).
    reactivate: bool,
}

impl<P> Service<P> {
    pub fn is_catch_all(&self) -> bool {
        self.catch_all
    }
    /// The pipe to its logger, while it is held.
    pub fn pipe(&self) -> Option<&P> {
        self.pipe.as_ref()
    }
    /// The pid of one of its supervisors, when running.
    pub fn pid(&self, which: Which) -> Option<i32> {
        match which {
            Which::Log => self.log.pid,
            Which::Main => self.main.pid,
        }
    }
    fn dead(&self) -> bool {
        self.main.pid.is_none() && self.log.pid.is_none()
    }
    /// Whether a scan may forget it: gone from the directory and its supervisors dead.
    fn forgettable(&self) -> bool {
        !self.active && self.dead()
    }
}

/// What a scan makes of a directory entry (after [`Table::begin_scan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// A known service, now active: start its supervisors ([`Table::start`]).
    Known(usize),
    /// Nothing to do: a second name of a directory already seen by this scan, or an inactive
    /// logged service whose pipe is closed (not reactivated until both supervisors are gone;
    /// the reaper then asks for a scan).
    Skip,
    /// A new service: find out whether it is logged (unless it is the catch-all logger, never
    /// logged), make its pipe, then [`Table::add`] it.
    New { catch_all: bool },
    /// A new service, but there are already `max` (warn).
    TooMany,
}

/// The scanner's services and the time of its next scan. `P` is the pipe between a service
/// and its logger (closed when dropped).
#[derive(Debug)]
pub struct Table<P> {
    services: Vec<Service<P>>,
    max: usize,
    /// Monotonic deadline of the next scan (retries, respawns, `-t`).
    next_scan: Option<u64>,
    /// `-t`: the period of the scans, if any.
    rescan_every: Option<u64>,
}

impl<P> Table<P> {
    /// `max` services at most; a scan every `rescan_every` ns, the first then from `now`.
    pub fn new(max: usize, rescan_every: Option<u64>, now: u64) -> Table<P> {
        Table { services: Vec::new(), max, next_scan: rescan_every.map(|p| now + p), rescan_every }
    }

    pub fn services(&self) -> &[Service<P>] {
        &self.services
    }

    /// Asks for a scan at `at` at the latest.
    fn scan_by(&mut self, at: u64) {
        self.next_scan = Some(self.next_scan.map_or(at, |d| d.min(at)));
    }

    /// A scan failed to read the directory or an entry: try again [`DIR_RETRY`] from `now`.
    pub fn retry_later(&mut self, now: u64) {
        self.scan_by(now + DIR_RETRY);
    }

    /// How long to wait for the next scan, in milliseconds rounded up; `None`: no scan due.
    pub fn timeout_ms(&self, now: u64) -> Option<u64> {
        self.next_scan.map(|d| d.saturating_sub(now).div_ceil(1_000_000))
    }

    /// True if a scan is due at `now`; the next one is then `-t` later, if at all.
    pub fn scan_due(&mut self, now: u64) -> bool {
        match self.next_scan {
            Some(d) if now >= d => {
                self.next_scan = self.rescan_every.map(|p| now + p);
                true
            }
            _ => false,
        }
    }

    /// Starts a scan: every service is inactive until seen.
    pub fn begin_scan(&mut self) {
        for s in &mut self.services {
            s.active = false;
        }
    }

    /// The scan found directory (`dev`, `ino`) under `name`.
    pub fn seen(&mut self, dev: u64, ino: u64, name: &[u8]) -> Seen {
        let Some(i) = self.services.iter().position(|s| s.dev == dev && s.ino == ino) else {
            // Whether a service is logged is decided once, when it is first seen.
            if self.services.len() >= self.max {
                return Seen::TooMany;
            }
            return Seen::New { catch_all: name == CATCH_ALL };
        };
        let Some(s) = self.services.get_mut(i) else { return Seen::Skip };
        if s.active {
            return Seen::Skip;
        }
        if s.logged && s.pipe.is_none() {
            s.reactivate = true;
            return Seen::Skip;
        }
        s.active = true;
        Seen::Known(i)
    }

    /// Adds the new, active service (`dev`, `ino`), logged if it has a `pipe`; returns its index.
    pub fn add(&mut self, dev: u64, ino: u64, catch_all: bool, pipe: Option<P>) -> usize {
        let logged = pipe.is_some();
        let (main, log) = (Slot::default(), Slot::default());
        self.services.push(Service { dev, ino, catch_all, active: true, logged, pipe, main, log, reactivate: false });
        self.services.len() - 1
    }

    /// Spawns (through `spawn`, which returns the pid or `None` if it could not fork) the
    /// supervisors of service `i` that are down and may run at `now`: the logger's first, so
    /// that the service's first line has a reader. One still down is retried when it may be.
    pub fn start(&mut self, i: usize, now: u64, mut spawn: impl FnMut(Which, &Service<P>) -> Option<i32>) {
        let Some(s) = self.services.get_mut(i) else { return };
        for which in [Which::Log, Which::Main] {
            let wanted = which == Which::Main || s.logged;
            let slot = match which {
                Which::Log => s.log,
                Which::Main => s.main,
            };
            if !wanted || slot.pid.is_some() || now < slot.not_before {
                continue;
            }
            let pid = spawn(which, s);
            let slot = match which {
                Which::Log => &mut s.log,
                Which::Main => &mut s.main,
            };
            slot.pid = pid;
            if pid.is_none() {
                slot.not_before = now + FORK_RETRY;
            }
        }
        let (log, main, logged) = (s.log, s.main, s.logged);
        if logged && log.pid.is_none() {
            self.scan_by(log.not_before);
        }
        if main.pid.is_none() {
            self.scan_by(main.not_before);
        }
    }

    /// Ends a scan: forgets the services gone from the directory whose supervisors are all dead.
    pub fn end_scan(&mut self) {
        self.services.retain(|s| !s.forgettable());
    }

    /// Child `pid` died at `now`. Returns true if a scan is wanted at once (a service seen
    /// again while dying is now to be started anew).
    pub fn reaped(&mut self, pid: i32, now: u64) -> bool {
        let Some(i) = self.services.iter().position(|s| s.main.pid == Some(pid) || s.log.pid == Some(pid)) else {
            return false; // not one of our supervisors (we may be PID 1)
        };
        let Some(s) = self.services.get_mut(i) else { return false };
        let slot = if s.main.pid == Some(pid) { &mut s.main } else { &mut s.log };
        slot.pid = None;
        slot.not_before = now + RESPAWN_DELAY;
        let mut scan_now = false;
        if s.active {
            self.scan_by(now + RESPAWN_DELAY);
        } else {
            if s.logged {
                if s.pipe.is_some() {
                    // The other side must see EOF/EPIPE now.
                    s.pipe = None;
                } else if s.reactivate {
                    scan_now = true;
                }
            }
            if s.forgettable() {
                self.services.remove(i);
            }
        }
        scan_now
    }

    /// The (pid, signal) pairs that carry out kill request `k`: each main supervisor gets
    /// SIGTERM (the catch-all logger's gets the loggers' signal), each logger's the loggers'
    /// signal; the active services are spared by A and C.
    pub fn kills(&self, k: Kill) -> impl Iterator<Item = (i32, Signal)> + '_ {
        let logger = k.logger_signal();
        self.services.iter().filter(move |s| !(k.spares_active() && s.active)).flat_map(move |s| {
            let main = if s.catch_all { logger } else { SIGTERM };
            s.main.pid.map(|p| (p, main)).into_iter().chain(s.log.pid.map(|p| (p, logger)))
        })
    }

    /// Whether any supervisor is still running.
    pub fn supervisors_alive(&self) -> bool {
        self.services.iter().any(|s| !s.dead())
    }

    /// Whether the catch-all logger is among the services.
    pub fn has_catch_all(&self) -> bool {
        self.services.iter().any(|s| s.catch_all)
    }

    /// Finish phase: closes every pipe, so that each logger sees EOF once its service is gone.
    pub fn close_pipes(&mut self) {
        for s in &mut self.services {
            s.pipe = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::{SCANNER_PID1, SIGKILL, SIGPWR, SIGUSR1, SIGUSR2, SIGWINCH};

    const T0: u64 = 100 * SECOND;

    /// A fake pipe: its number.
    type Table = super::Table<u32>;

    /// A spawner that hands out pids from 1000 on and records what it was asked.
    struct Spawner {
        next: i32,
        fail: bool,
        calls: Vec<(Which, bool, Option<u32>)>,
    }

    impl Spawner {
        fn new() -> Spawner {
            Spawner { next: 1000, fail: false, calls: Vec::new() }
        }
        fn spawn(&mut self, which: Which, s: &Service<u32>) -> Option<i32> {
            self.calls.push((which, s.is_catch_all(), s.pipe().copied()));
            if self.fail {
                return None;
            }
            self.next += 1;
            Some(self.next)
        }
    }

    /// Scans (dev 0, ino `inos[k]`) named `names[k]`, each new one logged iff in `logged`
    /// (pipe = ino), starting what is due at `now`.
    fn scan(t: &mut Table, sp: &mut Spawner, entries: &[(u64, &str)], logged: &[u64], now: u64) -> Vec<Seen> {
        t.begin_scan();
        let mut seen = Vec::new();
        for &(ino, name) in entries {
            let r = t.seen(0, ino, name.as_bytes());
            seen.push(r);
            let i = match r {
                Seen::Known(i) => i,
                Seen::New { catch_all } => {
                    let pipe = (!catch_all && logged.contains(&ino)).then_some(ino as u32);
                    t.add(0, ino, catch_all, pipe)
                }
                Seen::Skip | Seen::TooMany => continue,
            };
            t.start(i, now, |w, s| sp.spawn(w, s));
        }
        t.end_scan();
        seen
    }

    fn pids(t: &Table) -> Vec<(Option<i32>, Option<i32>)> {
        t.services().iter().map(|s| (s.pid(Which::Main), s.pid(Which::Log))).collect()
    }

    #[test]
    fn every_control_byte() {
        for b in 0..=255u8 {
            let want = match b {
                b'z' => Some(Command::Reap),
                b'a' => Some(Command::Scan),
                b'b' => Some(Command::Abort),
                b'h' => Some(Command::Hangup),
                b'n' => Some(Command::Nuke),
                b'N' => Some(Command::ReallyNuke),
                b't' | b'i' => Some(Command::Terminate),
                b'q' => Some(Command::Quit),
                _ => None,
            };
            assert_eq!(Command::from_byte(b), want, "byte {b}");
        }
    }

    #[test]
    fn every_signal() {
        use Signaled::*;
        let script = |name, otherwise| Some(Script { name, otherwise });
        for sig in 0..=64 {
            let want = match sig {
                SIGCHLD => Some(Do(Command::Reap)),
                SIGALRM => Some(Do(Command::Scan)),
                SIGABRT => Some(Do(Command::Abort)),
                SIGHUP => script("SIGHUP", Some(Command::Hangup)),
                SIGINT => script("SIGINT", Some(Command::Terminate)),
                SIGTERM => script("SIGTERM", Some(Command::Terminate)),
                SIGQUIT => script("SIGQUIT", Some(Command::Quit)),
                SIGUSR1 => script("SIGUSR1", None),
                SIGUSR2 => script("SIGUSR2", None),
                SIGPWR => script("SIGPWR", None),
                SIGWINCH => script("SIGWINCH", None),
                SIGRTMIN_3 => script("SIGRTMIN+3", None),
                _ => None,
            };
            assert_eq!(on_signal(sig), want, "signal {sig}");
        }
        // Exactly the signals PID 1 holds for the scanner mean something to it.
        let meaningful: Vec<Signal> = (0..=64).filter(|&s| on_signal(s).is_some()).collect();
        let mut pid1 = SCANNER_PID1.to_vec();
        pid1.sort_unstable();
        assert_eq!(meaningful, pid1);
        assert_eq!(on_signal(SIGKILL), None);
    }

    fn after(letters: &str) -> Wants {
        let mut w = Wants { reap: false, scan: false, kill: None, leave: None };
        for b in letters.bytes() {
            if let Some(c) = Command::from_byte(b) {
                w.apply(c);
            }
        }
        w
    }

    #[test]
    fn commands() {
        let w = |reap, scan, kill, leave| Wants { reap, scan, kill, leave };
        assert_eq!(Wants::default(), w(true, true, None, None));
        assert_eq!(after(""), w(false, false, None, None));
        assert_eq!(after("z"), w(true, false, None, None));
        assert_eq!(after("a"), w(false, true, None, None));
        assert_eq!(after("b"), w(false, false, None, Some(Ending::NoWait)));
        assert_eq!(after("h"), w(false, true, Some(Kill::InactiveHup), None));
        assert_eq!(after("n"), w(false, false, Some(Kill::InactiveHup), None));
        assert_eq!(after("N"), w(false, false, Some(Kill::InactiveTerm), None));
        assert_eq!(after("t"), w(false, false, Some(Kill::AllHup), Some(Ending::Wait)));
        assert_eq!(after("i"), after("t"));
        assert_eq!(after("q"), w(false, false, Some(Kill::AllTerm), Some(Ending::Wait)));
        // Unknown letters change nothing.
        assert_eq!(after("xZ?"), after(""));
    }

    #[test]
    fn last_kill_and_last_ending_win() {
        assert_eq!(after("tb").kill, Some(Kill::AllHup));
        assert_eq!(after("tb").leave, Some(Ending::NoWait));
        assert_eq!(after("bt").leave, Some(Ending::Wait));
        assert_eq!(after("tn"), Wants { kill: Some(Kill::InactiveHup), ..after("t") });
        assert_eq!(after("qh").kill, Some(Kill::InactiveHup));
        assert_eq!(after("qh").leave, Some(Ending::Wait));
        assert_eq!(after("Nq").kill, Some(Kill::AllTerm));
        assert_eq!(after("za"), Wants { reap: true, scan: true, kill: None, leave: None });
    }

    #[test]
    fn new_services_get_their_supervisors_logger_first() {
        let mut t = Table::new(10, None, T0);
        let mut sp = Spawner::new();
        let seen = scan(&mut t, &mut sp, &[(1, "a"), (2, "b"), (3, "s6-svscan-log")], &[2, 3], T0);
        assert_eq!(
            seen,
            [Seen::New { catch_all: false }, Seen::New { catch_all: false }, Seen::New { catch_all: true }]
        );
        assert_eq!(
            sp.calls,
            [
                (Which::Main, false, None),
                (Which::Log, false, Some(2)),
                (Which::Main, false, Some(2)),
                (Which::Main, true, None)
            ]
        );
        assert_eq!(pids(&t), [(Some(1001), None), (Some(1003), Some(1002)), (Some(1004), None)]);
        assert!(t.has_catch_all());
        assert!(t.supervisors_alive());
        assert_eq!(t.timeout_ms(T0), None, "nothing to retry, no -t");
    }

    #[test]
    fn known_services_duplicates_and_renames() {
        let mut t = Table::new(10, None, T0);
        let mut sp = Spawner::new();
        scan(&mut t, &mut sp, &[(1, "a")], &[], T0);
        // A second name for the same directory in one scan, and a rename: the same service.
        let seen = scan(&mut t, &mut sp, &[(1, "a"), (1, "a2")], &[], T0 + 1);
        assert_eq!(seen, [Seen::Known(0), Seen::Skip]);
        let seen = scan(&mut t, &mut sp, &[(1, "renamed")], &[], T0 + 2);
        assert_eq!(seen, [Seen::Known(0)]);
        assert_eq!(sp.calls.len(), 1, "running supervisors are not spawned again");
        // A late log/ of a known service is not looked at: being logged is decided once.
        assert!(t.services()[0].pipe().is_none());
    }

    #[test]
    fn too_many_services() {
        let mut t = Table::new(2, None, T0);
        let mut sp = Spawner::new();
        let seen = scan(&mut t, &mut sp, &[(1, "a"), (2, "b"), (3, "c")], &[], T0);
        assert_eq!(seen[2], Seen::TooMany);
        assert_eq!(t.services().len(), 2);
        // An inactive service still supervised counts; once it is gone, the new one starts.
        let seen = scan(&mut t, &mut sp, &[(2, "b"), (3, "c")], &[], T0 + 1);
        assert_eq!(seen, [Seen::Known(1), Seen::TooMany]);
        assert!(!t.reaped(1001, T0 + 2), "unlogged: no rescan wanted");
        assert_eq!(t.services().len(), 1, "inactive and dead: forgotten at once");
        let seen = scan(&mut t, &mut sp, &[(2, "b"), (3, "c")], &[], T0 + 3);
        assert_eq!(seen, [Seen::Known(0), Seen::New { catch_all: false }]);
    }

    #[test]
    fn dead_active_supervisor_respawned_a_second_later() {
        let mut t = Table::new(10, None, T0);
        let mut sp = Spawner::new();
        scan(&mut t, &mut sp, &[(1, "a")], &[1], T0);
        assert_eq!(pids(&t), [(Some(1002), Some(1001))]);
        assert!(!t.reaped(1002, T0 + SECOND));
        assert!(!t.reaped(4242, T0 + SECOND), "not ours");
        assert_eq!(pids(&t), [(None, Some(1001))]);
        assert_eq!(t.services()[0].pipe(), Some(&1), "an active service keeps its pipe");
        assert_eq!(t.timeout_ms(T0 + SECOND), Some(1000));
        assert_eq!(t.timeout_ms(T0 + SECOND + 1), Some(1000), "rounded up");
        assert!(!t.scan_due(T0 + 2 * SECOND - 1));
        // Too early: not spawned, and the scan deadline stays at its time.
        scan(&mut t, &mut sp, &[(1, "a")], &[], T0 + 2 * SECOND - 1);
        assert_eq!(pids(&t), [(None, Some(1001))]);
        assert_eq!(t.timeout_ms(T0 + 2 * SECOND - 1), Some(1));
        assert!(t.scan_due(T0 + 2 * SECOND));
        assert_eq!(t.timeout_ms(T0 + 2 * SECOND), None, "no -t: no further scan");
        scan(&mut t, &mut sp, &[(1, "a")], &[], T0 + 2 * SECOND);
        assert_eq!(pids(&t), [(Some(1003), Some(1001))]);
    }

    #[test]
    fn failed_fork_retried_four_seconds_later() {
        let mut t = Table::new(10, None, T0);
        let mut sp = Spawner::new();
        sp.fail = true;
        scan(&mut t, &mut sp, &[(1, "a")], &[1], T0);
        assert_eq!(pids(&t), [(None, None)]);
        assert_eq!(t.timeout_ms(T0), Some(4000));
        assert_eq!(t.services().len(), 1, "active: kept though nothing runs");
        sp.fail = false;
        scan(&mut t, &mut sp, &[(1, "a")], &[], T0 + 4 * SECOND - 1);
        assert_eq!(pids(&t), [(None, None)]);
        scan(&mut t, &mut sp, &[(1, "a")], &[], T0 + 4 * SECOND);
        assert_eq!(pids(&t), [(Some(1002), Some(1001))]);
    }

    #[test]
    fn rescan_period_and_retries() {
        let mut t = Table::new(10, Some(5 * SECOND), T0);
        assert_eq!(t.timeout_ms(T0), Some(5000));
        t.retry_later(T0 + SECOND);
        assert_eq!(t.timeout_ms(T0), Some(4000), "the earlier deadline wins");
        t.retry_later(T0 + 3 * SECOND);
        assert_eq!(t.timeout_ms(T0), Some(4000));
        assert!(!t.scan_due(T0 + 4 * SECOND - 1));
        assert!(t.scan_due(T0 + 4 * SECOND));
        assert_eq!(t.timeout_ms(T0 + 4 * SECOND), Some(5000), "then -t from now");
        assert_eq!(t.timeout_ms(T0 + 10 * SECOND), Some(0), "overdue");
    }

    #[test]
    fn unlogged_service_gone() {
        let mut t = Table::new(10, None, T0);
        let mut sp = Spawner::new();
        scan(&mut t, &mut sp, &[(1, "a"), (2, "b")], &[], T0);
        scan(&mut t, &mut sp, &[(2, "b")], &[], T0 + 1);
        assert_eq!(t.services().len(), 2, "still supervised: kept, inactive");
        assert_eq!(t.kills(Kill::InactiveHup).collect::<Vec<_>>(), [(1001, SIGTERM)]);
        assert!(!t.reaped(1001, T0 + 2));
        assert_eq!(pids(&t), [(Some(1002), None)]);
        // Back before a scan noticed: a new service, with a new supervisor.
        let seen = scan(&mut t, &mut sp, &[(1, "a"), (2, "b")], &[], T0 + 3);
        assert_eq!(seen[0], Seen::New { catch_all: false });
    }

    #[test]
    fn logged_service_gone_pipe_closed_at_first_death() {
        let mut t = Table::new(10, None, T0);
        let mut sp = Spawner::new();
        scan(&mut t, &mut sp, &[(1, "a")], &[1], T0);
        scan(&mut t, &mut sp, &[], &[], T0 + 1);
        assert_eq!(t.services()[0].pipe(), Some(&1), "pipe held while both run");
        // The service's supervisor dies first: the logger must see EOF.
        assert!(!t.reaped(1002, T0 + 2));
        assert_eq!(t.services()[0].pipe(), None);
        assert_eq!(pids(&t), [(None, Some(1001))]);
        assert!(!t.reaped(1001, T0 + 3), "not seen again: no rescan");
        assert!(t.services().is_empty());
        assert_eq!(t.timeout_ms(T0 + 3), None, "inactive deaths schedule nothing");
    }

    #[test]
    fn logged_service_back_while_dying_restarts_after_both_deaths() {
        let mut t = Table::new(10, None, T0);
        let mut sp = Spawner::new();
        scan(&mut t, &mut sp, &[(1, "a")], &[1], T0);
        scan(&mut t, &mut sp, &[], &[], T0 + 1);
        assert!(!t.reaped(1001, T0 + 2), "the logger first: the service must see EPIPE");
        assert_eq!(t.services()[0].pipe(), None);
        // Seen again while its supervisor still runs: not reused (no pipe), marked.
        let seen = scan(&mut t, &mut sp, &[(1, "a")], &[1], T0 + 3);
        assert_eq!(seen, [Seen::Skip]);
        assert_eq!(sp.calls.len(), 2);
        assert_eq!(t.kills(Kill::InactiveTerm).collect::<Vec<_>>(), [(1002, SIGTERM)], "still inactive");
        assert!(t.reaped(1002, T0 + 4), "last death: rescan at once");
        assert!(t.services().is_empty());
        let seen = scan(&mut t, &mut sp, &[(1, "a")], &[1], T0 + 5);
        assert_eq!(seen, [Seen::New { catch_all: false }]);
        assert_eq!(t.services()[0].pipe(), Some(&1), "a new pipe");
        assert_eq!(pids(&t), [(Some(1004), Some(1003))]);
    }

    #[test]
    fn kill_kinds() {
        let mut t = Table::new(10, None, T0);
        let mut sp = Spawner::new();
        // a: active logged (1002 main, 1001 log); b: inactive logged (1004, 1003);
        // s6-svscan-log: the catch-all logger, active (1005); c: inactive unlogged (1006).
        scan(&mut t, &mut sp, &[(1, "a"), (2, "b"), (3, "s6-svscan-log"), (4, "c")], &[1, 2, 3], T0);
        scan(&mut t, &mut sp, &[(1, "a"), (3, "s6-svscan-log")], &[], T0 + 1);
        let k = |k| t.kills(k).collect::<Vec<_>>();
        assert_eq!(k(Kill::InactiveHup), [(1004, SIGTERM), (1003, SIGHUP), (1006, SIGTERM)]);
        assert_eq!(k(Kill::InactiveTerm), [(1004, SIGTERM), (1003, SIGTERM), (1006, SIGTERM)]);
        assert_eq!(
            k(Kill::AllHup),
            [(1002, SIGTERM), (1001, SIGHUP), (1004, SIGTERM), (1003, SIGHUP), (1005, SIGHUP), (1006, SIGTERM)]
        );
        assert_eq!(
            k(Kill::AllTerm),
            [(1002, SIGTERM), (1001, SIGTERM), (1004, SIGTERM), (1003, SIGTERM), (1005, SIGTERM), (1006, SIGTERM)]
        );
    }

    #[test]
    fn finish_closes_pipes_and_waits_for_all() {
        let mut t = Table::new(10, None, T0);
        let mut sp = Spawner::new();
        scan(&mut t, &mut sp, &[(1, "a"), (2, "b")], &[1], T0);
        assert!(!t.has_catch_all());
        t.close_pipes();
        assert!(t.services().iter().all(|s| s.pipe().is_none()));
        for pid in [1001, 1002] {
            t.reaped(pid, T0 + 1);
            assert!(t.supervisors_alive());
        }
        t.reaped(1003, T0 + 1);
        assert!(!t.supervisors_alive());
    }
}
