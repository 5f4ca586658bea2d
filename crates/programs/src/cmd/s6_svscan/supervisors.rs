//! The I/O side of the scanner's [`Table`]: reading the scan directory, spawning, reaping and
//! signalling the supervisors. What each of those means is decided in [`merit_core::scan`].

use super::{warn, PROG};
use merit_core::scan::{Kill, Seen, Service, Table, Which};
use merit_sys::process::Spawn;
use merit_sys::{clock, fd, signal, strerror};
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

/// The pipe between a service and its logger: (read end, write end).
type Pipe = (OwnedFd, OwnedFd);

// 64 bytes per service, nothing on the heap: the table stays small even at `-c 90000`.
const _: () = assert!(std::mem::size_of::<Service<Pipe>>() <= 64);

pub(super) struct Supervisors {
    /// The `s6-supervise` to run.
    supervise: CString,
    /// What a supervisor's child prints when it cannot exec `supervise` (then `strerror`).
    exec_fail: Vec<u8>,
    /// `-X`: the catch-all logger's supervisor gets it as stderr.
    console: Option<RawFd>,
    pub(super) table: Table<Pipe>,
}

impl Supervisors {
    pub(super) fn new(max: usize, rescan_every: Option<u64>, console: Option<RawFd>) -> Supervisors {
        let supervise = find_supervise();
        let exec_fail = format!("{PROG} (child): fatal: unable to exec {}: ", supervise.to_string_lossy()).into_bytes();
        let table = Table::new(max, rescan_every, clock::mono_ns());
        Supervisors { supervise, exec_fail, console, table }
    }

    merit_sys::hot! {
        /// scandir.md §2.
        pub(super) fn scan(&mut self) {
            let now = clock::mono_ns();
            let mut dir: merit_sys::fs::Dir = match merit_sys::fs::Dir::open(c".") {
                Ok(d) => d,
                Err(e) => {
                    warn(&format!("unable to opendir .: {}", strerror(&e)));
                    self.table.retry_later(now);
                    return;
                }
            };
            self.table.begin_scan();
            while let Some(entry) = dir.next_name() {
                match entry {
                    Ok(name) => self.check(name, now),
                    Err(e) => {
                        warn(&format!("unable to readdir .: {}", strerror(&e)));
                        self.table.retry_later(now);
                        break;
                    }
                }
            }
            self.table.end_scan();
        }
    }

    merit_sys::hot! {
        /// One entry of the scan directory.
        fn check(&mut self, name: &CStr, now: u64) {
            if name.to_bytes().first() == Some(&b'.') {
                return;
            }
            let st = match merit_sys::fs::stat(name) {
                Ok(st) => st,
                Err(e) => {
                    warn(&format!("unable to stat {}: {}", name.to_string_lossy(), strerror(&e)));
                    self.table.retry_later(now);
                    return;
                }
            };
            if !st.is_dir() {
                return;
            }
            let i = match self.table.seen(st.dev, st.ino, name.to_bytes()) {
                Seen::Known(i) => i,
                Seen::Skip => return,
                Seen::TooMany => {
                    warn(&format!("unable to start supervisor for {}: too many services", name.to_string_lossy()));
                    return;
                }
                Seen::New { catch_all } => {
                    let Some(pipe) = self.log_pipe(name, catch_all, now) else { return };
                    self.table.add(st.dev, st.ino, catch_all, pipe)
                }
            };
            self.start(i, name.to_bytes(), now);
        }
    }

    /// For a new service: its logger's pipe if it has a `log/` directory (the catch-all logger
    /// never has one), `Some(None)` if it has none, `None` if that could not be found out or the
    /// pipe could not be made (the scan is then retried).
    fn log_pipe(&mut self, name: &CStr, catch_all: bool, now: u64) -> Option<Option<Pipe>> {
        if catch_all {
            return Some(None);
        }
        let mut logp = name.to_bytes().to_vec();
        logp.extend_from_slice(b"/log");
        let logp = CString::new(logp).unwrap_or_default();
        let logged = match merit_sys::fs::stat(&logp) {
            Ok(st) => st.is_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                warn(&format!("unable to stat {}: {}", logp.to_string_lossy(), strerror(&e)));
                self.table.retry_later(now);
                return None;
            }
        };
        if !logged {
            return Some(None);
        }
        match fd::pipe(false) {
            Ok(p) => Some(Some(p)),
            Err(e) => {
                warn(&format!("unable to pipecoe: {}", strerror(&e)));
                self.table.retry_later(now);
                None
            }
        }
    }

    merit_sys::hot! {
        /// Starts the supervisors of service `i` (entry `name`) that are down and may run.
        fn start(&mut self, i: usize, name: &[u8], now: u64) {
            let (sup, exec_fail, console) = (&self.supervise, &self.exec_fail[..], self.console);
            self.table.start(i, now, |which, s| {
                let (arg, moves) = supervisor_of(which, s, name, console);
                spawn_supervisor(sup, exec_fail, &arg, &moves)
            });
        }
    }

    merit_sys::hot! {
        /// Collects every dead child (we may be PID 1); tracks our supervisors. Returns true if a
        /// scan is wanted at once.
        pub(super) fn reap(&mut self) -> std::io::Result<bool> {
            let now = clock::mono_ns();
            let mut scan = false;
            while let Some(r) = merit_sys::process::reap_one()? {
                scan |= self.table.reaped(r.pid, now);
            }
            Ok(scan)
        }
    }

    /// Finish phase: waits for every supervisor (and reaps whatever else dies meanwhile).
    pub(super) fn wait_all(&mut self) {
        while self.table.supervisors_alive() {
            match merit_sys::process::wait_any() {
                Ok(pid) => {
                    self.table.reaped(pid, clock::mono_ns());
                }
                Err(_) => break,
            }
        }
    }

    pub(super) fn kill(&self, k: Kill) {
        for (pid, sig) in self.table.kills(k) {
            let _ = signal::kill(pid, sig);
        }
    }
}

/// The argument of `which` supervisor of service `s` (entry `name`), and the descriptors it
/// gets: a logger reads the pipe on stdin; a logged service writes it on stdout; the catch-all
/// logger gets the console holder as stderr.
fn supervisor_of(
    which: Which,
    s: &Service<Pipe>,
    name: &[u8],
    console: Option<RawFd>,
) -> (Vec<u8>, Vec<(RawFd, RawFd)>) {
    let mut arg = name.to_vec();
    let mut moves = Vec::new();
    match which {
        Which::Log => {
            arg.extend_from_slice(b"/log");
            moves.extend(s.pipe().map(|p| (p.0.as_raw_fd(), 0)));
        }
        Which::Main => {
            moves.extend(s.pipe().map(|p| (p.1.as_raw_fd(), 1)));
            if let (true, Some(c)) = (s.is_catch_all(), console) {
                moves.push((c, 2));
            }
        }
    }
    (arg, moves)
}

merit_sys::hot! {
    /// Spawns `s6-supervise ARG` with the given descriptor moves, in our session, without waiting
    /// for its exec (as s6 does: a child that cannot exec prints why and dies, and is respawned a
    /// second later like any dead supervisor). `None` if it could not fork.
    fn spawn_supervisor(sup: &CString, exec_fail: &[u8], arg: &[u8], moves: &[(RawFd, RawFd)]) -> Option<i32> {
        let Ok(carg) = CString::new(arg) else { return None };
        let argv = [c"s6-supervise".into(), carg];
        let spawn =
            Spawn { path: sup, argv: &argv, fd_moves: moves, lock_wait: None, setsid: false, cgroup_procs: None };
        match merit_sys::process::spawn_detached(&spawn, exec_fail, 111) {
            Ok(pid) => Some(pid),
            Err(e) => {
                warn(&format!("unable to fork for {}: {}", String::from_utf8_lossy(arg), strerror(&e)));
                None
            }
        }
    }
}

merit_sys::hot! {
    /// Finds `s6-supervise`: next to our own executable (or our executable itself when it is the
    /// multi-call binary, see [`crate::exe::sibling`]), else on PATH.
    fn find_supervise() -> CString {
        if let Some(own) = crate::exe::sibling_c("s6-supervise") {
            return own;
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        for dir in path.as_bytes().split(|&b| b == b':').filter(|d| !d.is_empty()) {
            let mut p = dir.to_vec();
            p.extend_from_slice(b"/s6-supervise");
            if let Ok(c) = CString::new(p) {
                if merit_sys::fs::stat(&c).is_ok_and(|st| st.is_file()) {
                    return c;
                }
            }
        }
        c"/usr/bin/s6-supervise".into()
    }
}
