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
//! dependency (as s6-svwait does, creating `event/` when that one's supervisor has not made it
//! yet) and looks again at every event; should the subscription fail, it looks again every
//! [`RECHECK_MS`] ms.
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
use merit_sys::fifodir::Subscription;
use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// How often a dependency is looked at again when its `event/` cannot be subscribed to.
pub(super) const RECHECK_MS: u64 = 150;
/// How long a start is held before the gate looks for a dependency cycle through this service
/// (reading the siblings' dependency files costs more than the wait of an ordinary boot).
pub(super) const CYCLE_CHECK_MS: u64 = 1000;

pub(super) struct Gate {
    /// The services needed, by name (`../NAME`).
    needs: Vec<String>,
    /// A start is being held.
    held: bool,
    /// The cycle check is done (at the first hold: the siblings may not be there at start-up).
    checked: bool,
    /// When to look for a cycle (monotonic ns): a hold of [`CYCLE_CHECK_MS`].
    cycle_at: Option<u64>,
    /// Dependencies not waited for (absent, wanted down) already warned about.
    warned: BTreeSet<String>,
    /// The subscription to the event fifodir of the dependency waited for: (its index, it).
    sub: Option<(usize, Subscription)>,
    /// Whether the dependency subscribed to declares `notification-fd`: then its `u` (up, not
    /// ready yet) is no reason to look again.
    sub_notifies: bool,
    /// When to look again (monotonic ns), while no subscription is possible.
    recheck_at: Option<u64>,
}

/// What one dependency is now.
enum Dep {
    Satisfied,
    /// Not up or not ready yet (or its supervisor is not there yet).
    Waiting,
    /// Not up, and not going to be: no such sibling, or wanted down.
    Absent(&'static str),
}

fn dep_dir(name: &str) -> PathBuf {
    Path::new("..").join(name)
}

/// Satisfied: up (a pid, not finishing) and, with `notification-fd`, ready.
fn dep_state(name: &str) -> Dep {
    use merit_sys::fs::Small;
    let dir = dep_dir(name);
    let status = CString::new(dir.join("supervise/status").as_os_str().as_bytes()).ok();
    let st = status.and_then(|c| match merit_sys::fs::read_small(&c, STATUS_SIZE) {
        Ok(Small::Data(b)) => StatusFile::decode(&b),
        _ => None,
    });
    match st {
        Some(s) if s.is_up() && (s.ready || std::fs::symlink_metadata(dir.join("notification-fd")).is_err()) => {
            Dep::Satisfied
        }
        Some(s) if !s.wantup => Dep::Absent("which is wanted down"),
        Some(_) => Dep::Waiting,
        // No status yet: its supervisor is starting, or there is no such service.
        None => match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Dep::Waiting,
            _ => Dep::Absent("which is not in the scan directory"),
        },
    }
}

impl Gate {
    /// The gate of the service directory we are in (`dir_arg`, our argument), read once at
    /// start-up; `None` when it declares nothing (or is a logger, or its files are refused:
    /// warned, no gate).
    pub(super) fn load(diag: &Diag, dir_arg: &CString) -> Option<Box<Gate>> {
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
        Some(Box::new(Gate {
            needs,
            held: false,
            checked: false,
            cycle_at: None,
            warned: BTreeSet::new(),
            sub: None,
            sub_notifies: false,
            recheck_at: None,
        }))
    }

    /// The first dependency waited for (its index), warning once about each one that is not
    /// coming (absent, wanted down).
    fn first_unsatisfied(&mut self, diag: &Diag, me: &str) -> Option<usize> {
        let mut first = None;
        for (i, name) in self.needs.iter().enumerate() {
            match dep_state(name) {
                Dep::Satisfied => {}
                Dep::Waiting => first = first.or(Some(i)),
                Dep::Absent(why) => {
                    if !self.warned.contains(name) {
                        self.warned.insert(name.clone());
                        diag.warn(&format!("{me} needs {name}, {why}: not waiting for it"));
                    }
                }
            }
        }
        first
    }

    /// Whether every dependency is satisfied now; else, subscribes to the event fifodir of the
    /// first one that is not (creating its `event/` when its supervisor has not yet, as
    /// s6-svwait does: the supervisor's first event then wakes us), or, should that fail, arms
    /// the timer.
    fn satisfied(&mut self, diag: &Diag, me: &str) -> bool {
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
            self.sub = None;
            self.recheck_at = None;
            let (s, ns) = clock::wall();
            let label = merit_core::tai::Tain::from_unix(s, ns).label();
            let dir = self.needs.get(i).map(|n| dep_dir(n).join("event"));
            if let Some(Ok(sub)) = dir.map(|d| Subscription::new(&d, &label)) {
                // The state may have changed before the subscription: look once more.
                self.sub = Some((i, sub));
                self.sub_notifies = self
                    .needs
                    .get(i)
                    .is_some_and(|n| std::fs::symlink_metadata(dep_dir(n).join("notification-fd")).is_ok());
                continue;
            }
            break;
        }
        self.recheck_at = Some(clock::mono_ns() + RECHECK_MS * 1_000_000);
        false
    }

    /// Whether this service is in a dependency cycle (then: warned, not gated).
    fn in_cycle(&self, diag: &Diag, me: &str) -> bool {
        let roots = self.needs.iter().cloned();
        // A sibling that is up waits for nobody: no deadlock goes through it.
        let (mut graph, _) = crate::tree::dependency_graph(roots, |n| {
            let d = dep_dir(n);
            (n != me && !matches!(dep_state(n), Dep::Satisfied | Dep::Absent(_)) && d.is_dir()).then_some(d)
        });
        graph.add(me, &self.needs);
        let reach = graph.needs_closure(&self.needs.iter().map(|s| s.as_str()).collect::<Vec<_>>());
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

    /// The descriptor to poll while a start is held (-1: none).
    pub(super) fn gate_fd(&self) -> i32 {
        self.gate.as_ref().and_then(|g| g.sub.as_ref()).map_or(-1, |(_, s)| s.fd())
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

    /// An event from the dependency waited for, or the time to look again: starts `run`
    /// when every dependency is satisfied.
    pub(super) fn gate_turn(&mut self, event: bool) {
        let Some(g) = self.gate.as_mut() else { return };
        if event {
            // Only an event that may make the dependency satisfied (or not coming) is worth a
            // look: not `u` when it will say `U` once ready. (`s`, its supervisor started, is:
            // a `down` file makes it wanted down.)
            let mut look = false;
            if let Some((_, s)) = &g.sub {
                let mut buf = [0u8; 64];
                while let Ok(n) = s.read_events(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let quiet = |b: &u8| *b == b'u' && g.sub_notifies;
                    look |= !buf.get(..n).unwrap_or(&[]).iter().all(quiet);
                }
            }
            if !look {
                return;
            }
        } else {
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
