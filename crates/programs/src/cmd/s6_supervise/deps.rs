//! The boot gate: a service directory that declares dependencies (`dependencies.d/` or
//! `dependencies`, the source format of s6-rc, see `merit_core::deps`) does not have its `run`
//! started the FIRST time before each service it needs is up and, when that one declares
//! `notification-fd`, ready. Later starts (a restart after a death, `s6-svc -u` after `-d`
//! once the service has run) are not gated: when a needed service dies and is restarted, the
//! services that need it keep running, as with s6-rc.
//!
//! The dependencies are the sibling directories `../NAME` (the other services of the scan
//! directory). The spawn is held the way a `lock-fd` child waiting for its lock holds it: the
//! state machine waits for its `RunSpawned` answer, the service is "down, want up", `d` (or
//! anything that turns "wanted up" off, but `o`) cancels the hold, commands and signals keep
//! working. While held, the gate subscribes to the `event/` fifodir of the first unsatisfied
//! dependency (creating `event/` when that one's supervisor has not made it yet, as s6-svwait
//! does) as a start gate (`merit_sys::fifodir::Listener::Gate`): a hard link to our own
//! `supervise/control` (a FIFO of our own where the link cannot be made), to which that
//! dependency's supervisor writes `!` only at the events that may let us go
//! (`Driver::event_may_release_gates`). So a held supervisor wakes once, not at each `s`, `u`
//! and `U`: at a boot of a thousand services, each wake-up of a process is what ordering costs
//! most (bench/deps.py). It looks again after [`FALLBACK_FIRST_MS`], then every [`FALLBACK_MAX_MS`],
//! for a dependency under the real s6-supervise (which tells s6's listeners only); should the
//! subscription fail, it looks again every [`RECHECK_MS`] ms.
//!
//! A dependency that is not in the scan directory, or that is wanted down, is not waited for:
//! it is not coming up by itself (`service --no-deps NAME start` starts NAME alone; init copies
//! what is needed before what needs it). Both names are in a warning, once. A service in a dependency cycle (of services all held)
//! starts without waiting any longer once held for [`CYCLE_CHECK_MS`], with a warning naming
//! the cycle (never block a boot on bad configuration; init's boot strips cycles before). A logger (`NAME/log`, as
//! s6-svscan names it) has no gate. A service directory without dependency files costs two
//! failed opens at start-up and nothing else.

use super::config::Diag;
use super::Driver;
use merit_core::status::{StatusFile, STATUS_SIZE};
use merit_core::supervisor::Effect;
use merit_sys::clock;
use merit_sys::fifodir::{GateLink, Listener, Subscription};

/// Why the gate is looked at.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum GateTurn {
    /// Our FIFO is readable.
    Fifo,
    /// [`GATE_WAKE`](merit_sys::fifodir::GATE_WAKE) came on the control FIFO.
    Told,
    /// The loop turned: a timer may be due.
    Timer,
}
use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// How often a dependency is looked at again when its `event/` cannot be subscribed to.
pub(super) const RECHECK_MS: u64 = 150;
/// While subscribed, the dependency is looked at again after this long, then every
/// [`FALLBACK_MAX_MS`]: only a dependency under a supervisor that is not merit's (the real
/// s6-supervise tells s6's listeners only), a change that sends no event (`d` given to a service
/// between two restarts) or a dependency removed from the scan directory needs it. A boot's
/// holds last less than the first interval: they wake once.
pub(super) const FALLBACK_FIRST_MS: u64 = 1000;
pub(super) const FALLBACK_MAX_MS: u64 = 2000;
/// How long a start is held before the gate looks for a dependency cycle through this service
/// (reading the siblings' dependency files costs more than the wait of an ordinary boot).
pub(super) const CYCLE_CHECK_MS: u64 = 1000;

pub(super) struct Gate {
    /// The services needed.
    needs: Vec<Need>,
    /// A start is being held.
    held: bool,
    /// The cycle check is done (at the first hold: the siblings may not be there at start-up).
    checked: bool,
    /// When to look for a cycle (monotonic ns): a hold of [`CYCLE_CHECK_MS`].
    cycle_at: Option<u64>,
    /// Dependencies not waited for (absent, wanted down) already warned about.
    warned: BTreeSet<String>,
    /// The subscription to the event fifodir of the dependency waited for: (its index, it).
    sub: Option<(usize, Sub)>,
    /// When to look again (monotonic ns), and the interval before that look.
    recheck_at: Option<u64>,
    recheck_ms: u64,
    /// Our `supervise/control`'s device and inode numbers (the name of our gate links), once
    /// known.
    control_id: Option<(u64, u64)>,
}

/// How a held start listens to the dependency it waits for.
enum Sub {
    /// A hard link to our `supervise/control` in its `event/`: told through our control FIFO
    /// (the [`GATE_WAKE`](merit_sys::fifodir::GATE_WAKE) byte), which the loop reads anyway.
    Link(GateLink),
    /// A FIFO of our own, when the link cannot be made (another file system, a control FIFO
    /// we do not own under `fs.protected_hardlinks`).
    Fifo(Subscription),
}

/// One service needed, with the paths the gate looks at, made once: a held start looks at
/// them at every event of that service, in each of the supervisors a boot holds.
struct Need {
    name: String,
    /// `../NAME`.
    dir: CString,
    /// `../NAME/supervise/status`.
    status: CString,
    /// Whether `../NAME/notification-fd` exists (then being up is not enough: ready is
    /// awaited, and its `u` event is no reason to look again); looked at once, when first
    /// needed.
    notifies: Option<bool>,
}

/// What one dependency is now.
enum Dep {
    Satisfied,
    /// Not up or not ready yet (or its supervisor is not there yet).
    Waiting,
    /// Not up, and not going to be: no such sibling, or wanted down.
    Absent(&'static str),
}

impl Need {
    fn new(name: &str) -> Option<Need> {
        // Built by hand: format! brings in code that nothing else a supervisor runs needs
        // (a page fault more in each of a boot's held supervisors).
        let dir = merit_sys::concat_bytes(&[b"../", name.as_bytes()]);
        let status = merit_sys::concat_bytes(&[&dir, b"/supervise/status"]);
        Some(Need {
            name: name.to_string(),
            dir: CString::new(dir).ok()?,
            status: CString::new(status).ok()?,
            notifies: None,
        })
    }

    fn notifies(&mut self) -> bool {
        *self.notifies.get_or_insert_with(|| {
            let p = merit_sys::concat_bytes(&[self.dir.as_bytes(), b"/notification-fd"]);
            CString::new(p).is_ok_and(|c| merit_sys::fs::lstat(c.as_c_str()).is_ok())
        })
    }

    /// Satisfied: up (a pid, not finishing) and, with `notification-fd`, ready. One open, one
    /// read and one close when its status says it all.
    fn state(&mut self) -> Dep {
        let mut buf = [0u8; STATUS_SIZE];
        let st = match merit_sys::fs::read_into(&self.status, &mut buf) {
            Ok(Some(STATUS_SIZE)) => StatusFile::decode(&buf),
            _ => None,
        };
        match st {
            Some(s) if s.is_up() && (s.ready || !self.notifies()) => Dep::Satisfied,
            Some(s) if !s.wantup => Dep::Absent("which is wanted down"),
            Some(_) => Dep::Waiting,
            // No status yet: its supervisor is starting, or there is no such service.
            None => match merit_sys::fs::stat(self.dir.as_c_str()) {
                Ok(m) if m.is_dir() => Dep::Waiting,
                _ => Dep::Absent("which is not in the scan directory"),
            },
        }
    }

    /// `../NAME/event`.
    fn event_dir(&self) -> PathBuf {
        Path::new(std::ffi::OsStr::from_bytes(self.dir.as_bytes())).join("event")
    }
}

impl Gate {
    /// The gate of the service directory we are in (`dir_arg`, our argument), read once at
    /// start-up; `None` when it declares nothing (or is a logger, or its files are refused:
    /// warned, no gate).
    pub(super) fn load(diag: &Diag, dir_arg: &CString) -> Option<Gate> {
        let arg = dir_arg.as_bytes();
        if arg == b"log" || arg.ends_with(b"/log") || arg.ends_with(b"/log/") {
            return None;
        }
        let needs = match crate::tree::read_dependencies(Path::new("."), &own_name(dir_arg)) {
            Ok(n) if n.is_empty() => return None,
            Ok(n) => n,
            Err(crate::tree::DepsError::Bad(e)) => {
                diag.warn(&format!("{}: not waiting for dependencies", e.message()));
                return None;
            }
            Err(crate::tree::DepsError::Io(p, e)) => {
                diag.warn_err(&format!("unable to read {}: not waiting for dependencies", p.display()), &e);
                return None;
            }
        };
        // Names are checked when read (no NUL): `Need::new` cannot fail on them.
        let mut list = Vec::with_capacity(needs.len());
        list.extend(needs.iter().filter_map(|n| Need::new(n)));
        Some(Gate {
            needs: list,
            held: false,
            checked: false,
            cycle_at: None,
            warned: BTreeSet::new(),
            sub: None,
            recheck_at: None,
            recheck_ms: RECHECK_MS,
            control_id: None,
        })
    }

    /// The first dependency waited for (its index), warning once about each one that is not
    /// coming (absent, wanted down).
    fn first_unsatisfied(&mut self, diag: &Diag, me: &str) -> Option<usize> {
        let mut first = None;
        for (i, need) in self.needs.iter_mut().enumerate() {
            match need.state() {
                Dep::Satisfied => {}
                Dep::Waiting => first = first.or(Some(i)),
                Dep::Absent(why) => {
                    if !self.warned.contains(&need.name) {
                        self.warned.insert(need.name.clone());
                        diag.warn(&format!("{me} needs {}, {why}: not waiting for it", need.name));
                    }
                }
            }
        }
        first
    }

    /// Whether every dependency is satisfied now; else, subscribes as a gate
    /// ([`Listener::Gate`]) to the event fifodir of the first one that is not (creating its
    /// `event/` when its supervisor has not yet, as s6-svwait does) and arms the fallback
    /// timer, or, should that fail, arms the short one.
    fn satisfied(&mut self, diag: &Diag, me: &str) -> bool {
        // Subscribed before the first look, to the first dependency: a boot holds most starts,
        // and a look before subscribing would be one look more for each.
        if self.sub.is_none() && !self.needs.is_empty() {
            self.subscribe(0);
            // We made its `event/`: its supervisor has not started (it makes `event/` first
            // thing), so it is not up, and its first event that matters will tell us. The
            // other dependencies are looked at then.
            if matches!(&self.sub, Some((0, Sub::Link(l))) if l.made_dir()) {
                return false;
            }
        }
        // Bounded: dependencies that change state under our feet are looked at again later.
        for _ in 0..=self.needs.len() {
            let Some(i) = self.first_unsatisfied(diag, me) else {
                self.sub = None;
                self.recheck_at = None;
                return true;
            };
            if self.sub.as_ref().is_some_and(|(j, _)| *j == i) {
                return false;
            }
            if !self.subscribe(i) {
                break;
            }
            // The state may have changed before the subscription: look once more.
        }
        self.arm(RECHECK_MS);
        false
    }

    /// Subscribes to the `event/` of dependency `i` (a link to our control FIFO, else a FIFO
    /// of our own), arming the fallback timer; false when neither can be made.
    fn subscribe(&mut self, i: usize) -> bool {
        self.sub = None;
        self.recheck_at = None;
        let (s, ns) = clock::wall();
        let label = merit_core::tai::Tain::from_unix(s, ns).label();
        let dir = self.needs.get(i).map(Need::event_dir);
        if self.control_id.is_none() {
            self.control_id = merit_sys::fs::stat(c"supervise/control").ok().map(|st| (st.dev, st.ino));
        }
        let id = self.control_id;
        let sub = dir.and_then(|d| {
            let link = id.map(|id| GateLink::new(&d, &label, c"supervise/control", id));
            match link {
                Some(Ok(l)) => Some(Sub::Link(l)),
                _ => Subscription::with(&d, &label, Listener::Gate).ok().map(Sub::Fifo),
            }
        });
        let Some(sub) = sub else { return false };
        self.sub = Some((i, sub));
        self.arm(FALLBACK_FIRST_MS);
        true
    }

    /// The next look in `ms`.
    fn arm(&mut self, ms: u64) {
        self.recheck_ms = ms;
        self.recheck_at = Some(clock::mono_ns() + ms * 1_000_000);
    }

    /// Whether this service is in a dependency cycle (then: warned, not gated).
    fn in_cycle(&self, diag: &Diag, me: &str) -> bool {
        let names: Vec<String> = self.needs.iter().map(|n| n.name.clone()).collect();
        // A sibling that is up waits for nobody: no deadlock goes through it.
        let (mut graph, _) = crate::tree::dependency_graph(names.iter().cloned(), |n| {
            let mut need = Need::new(n)?;
            let d = Path::new("..").join(n);
            (n != me && !matches!(need.state(), Dep::Satisfied | Dep::Absent(_)) && d.is_dir()).then_some(d)
        });
        graph.add(me, &names);
        let reach = graph.needs_closure(&names.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        if !reach.contains(me) {
            return false;
        }
        // The cycle through us, for the message.
        let back = graph.needed_by_closure(&[me]);
        let mut sub = merit_core::deps::Graph::new();
        for n in reach.intersection(&back) {
            let needs: Vec<String> =
                graph.direct_needs(n).iter().filter(|x| reach.contains(*x) && back.contains(*x)).cloned().collect();
            sub.add(n, &needs);
        }
        let mut cycle = sub.find_cycle().unwrap_or_else(|| vec![me.to_string(), me.to_string()]);
        // Told from this service: `me -> ... -> me`.
        if let Some(i) = cycle.iter().position(|n| n == me) {
            cycle.pop();
            cycle.rotate_left(i);
            cycle.push(me.to_string());
        }
        diag.warn(&format!(
            "{}: starting without waiting for its dependencies",
            merit_core::deps::DepError::Cycle(cycle).message()
        ));
        true
    }
}

/// Our service name: the last component of our argument, or of the working directory.
fn own_name(dir_arg: &CString) -> String {
    let p = Path::new(std::ffi::OsStr::from_bytes(dir_arg.as_bytes()));
    match p.file_name() {
        Some(n) if p.as_os_str().as_bytes().last() != Some(&b'/') => n.to_string_lossy().into_owned(),
        _ => std::env::current_dir()
            .ok()
            .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    }
}

impl Driver {
    /// Called for [`Effect::SpawnRun`]: whether the start is held for the dependencies (the
    /// gate then answers later, from [`Driver::gate_turn`]). The first start that goes
    /// through removes the gate.
    pub(super) fn hold_for_dependencies(&mut self) -> bool {
        let Some(g) = self.gate.as_mut() else { return false };
        if g.held {
            return true;
        }
        let me = own_name(&self.dir_arg);
        if g.satisfied(&self.diag, &me) {
            self.gate = None;
            return false;
        }
        g.held = true;
        if !g.checked {
            g.cycle_at = Some(clock::mono_ns() + CYCLE_CHECK_MS * 1_000_000);
        }
        true
    }

    /// The held start is given up (the service was ordered down meanwhile).
    pub(super) fn release_hold(&mut self) {
        if let Some(g) = self.gate.as_mut() {
            g.held = false;
            g.sub = None;
            g.recheck_at = None;
            g.cycle_at = None;
        }
    }

    /// The descriptor to poll while a start is held (-1: none, or the control FIFO tells).
    pub(super) fn gate_fd(&self) -> i32 {
        match self.gate.as_ref().and_then(|g| g.sub.as_ref()) {
            Some((_, Sub::Fifo(s))) => s.fd(),
            _ => -1,
        }
    }

    /// `timeout` (ms), shortened to the gate's next look when that comes first.
    pub(super) fn gate_timeout(&self, timeout: Option<u64>) -> Option<u64> {
        let g = self.gate.as_ref();
        let at = match (g.and_then(|g| g.recheck_at), g.and_then(|g| g.cycle_at)) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(at) => at,
                None => return timeout,
            },
        };
        let ms = at.saturating_sub(clock::mono_ns()).div_ceil(1_000_000);
        Some(timeout.map_or(ms, |t| t.min(ms)))
    }

    /// An event from the dependency waited for (`GateTurn::Fifo`: our FIFO is readable;
    /// `GateTurn::Told`: [`GATE_WAKE`](merit_sys::fifodir::GATE_WAKE) came on the control FIFO), or the time to look again:
    /// starts `run` when every dependency is satisfied.
    pub(super) fn gate_turn(&mut self, turn: GateTurn) {
        let Some(g) = self.gate.as_mut() else { return };
        // The notifier tells only what may let us go (`event_may_release_gates`): `Told` and
        // a byte on our FIFO are worth a look.
        if turn == GateTurn::Fifo {
            let mut look = false;
            if let Some((_, Sub::Fifo(s))) = &g.sub {
                let mut buf = [0u8; 64];
                while let Ok(n) = s.read_events(&mut buf) {
                    look |= n > 0;
                    // A short read emptied the FIFO: no second read to be told so.
                    if n < buf.len() {
                        break;
                    }
                }
            }
            if !look {
                return;
            }
        } else if turn == GateTurn::Timer {
            let now = clock::mono_ns();
            if g.held && g.cycle_at.is_some_and(|at| now >= at) {
                g.cycle_at = None;
                g.checked = true;
                if g.in_cycle(&self.diag, &own_name(&self.dir_arg)) {
                    self.gate = None;
                    self.carry_out(&[Effect::SpawnRun]);
                    return;
                }
            }
            if !g.recheck_at.is_some_and(|at| now >= at) {
                return;
            }
            // Subscribed: the fallback looks less and less often.
            if g.sub.is_some() {
                g.arm((g.recheck_ms * 2).min(FALLBACK_MAX_MS));
            }
        }
        if !g.held {
            return;
        }
        let me = own_name(&self.dir_arg);
        if g.satisfied(&self.diag, &me) {
            self.gate = None;
            self.carry_out(&[Effect::SpawnRun]);
        }
    }
}
