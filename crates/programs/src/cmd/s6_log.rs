//! `s6-log [ -d notif ] [ -q | -v ] [ -b ] [ -p ] [ -l linelimit ] [ -- ] logging_script...`
//!
//! A reimplementation of s6-log 2.11.3.2 (spec/s6-log.md): the script language (selections
//! `+RE -RE f`, controls `n s S l r E ^ p ! ? t T`, actions logdir / `1` / `2` / `=FILE`),
//! logdirs with s6's exact layout (`current`, `lock`, `state`, `@<tai64n>.s|.u` archives,
//! `previous`/`processed`/`newstate` during a rotation), rotation and pruning, processors,
//! recovery after an unclean stop, and the signals SIGTERM (unless `-p`), SIGHUP, SIGALRM.
//! The pure logic (script parsing, framing, records, rotation and pruning decisions, ERE
//! translation) is in `merit_core::log`; this file does the I/O.
//!
//! # Differences from s6-log 2.11.3.2 (deliberate)
//!
//! * **No line is lost when s6-log is SIGKILLed** (merit requirement). While stdin is a pipe,
//!   s6-log does not `read` it: it *peeks* at the data with `tee(2)` into a private pipe and
//!   reads that copy, splits it into lines, performs every action of those lines, waits until
//!   every output buffer holding their records (logdirs, stdout) has been written, and only then
//!   consumes the same number of bytes from stdin (`splice(2)` to `/dev/null`). A logger
//!   killed at any point therefore leaves every line it has not fully written in the pipe, where
//!   its successor (started on the same pipe, e.g. by s6-supervise/s6-svscan, which hold the
//!   pipe) finds them: lines may be logged twice, never lost. A partial last line is never
//!   consumed until it is complete; while the pipe holds only such a partial line, s6-log
//!   re-checks the pipe (`FIONREAD`) with a short back-off timer instead of `poll`ing it (a pipe
//!   with unconsumed data is always "readable"). Consequences:
//!   - in this mode input is read as if `-b` were given: the kernel pipe is the input buffer,
//!     and the writer blocks when it is full while an output is stuck (s6 without `-b` would
//!     instead grow its memory without bound);
//!   - a partial line larger than half the pipe capacity (only possible with `-l 0` or a limit
//!     above that) is read into memory to avoid a deadlock; such a line can be lost by a
//!     SIGKILL while incomplete.
//!
//!   When stdin is not a pipe (`tee` fails with EINVAL: a file, a socket, a tty), s6-log falls
//!   back to plain reads with s6's semantics, including `-b`.
//! * **`execlineb` is searched for.** A `!CMD` processor runs `execlineb -Pc CMD` as s6 does,
//!   but s6 execs the execlineb of the execline prefix it was compiled with
//!   (`/usr/lib/execline/bin/execlineb` on Debian), which does not exist where execline lives
//!   in `/bin` (Mere). merit runs the first regular executable `execlineb` found in the
//!   absolute directories of s6-log's `PATH`, then in `/bin`, `/usr/bin`,
//!   `/usr/lib/execline/bin` (searched at each processor run). None found: the warning
//!   `unable to find execlineb (...) for logdir DIR: No such file or directory`, retried after
//!   `r` ms like any failed rotation step.
//! * **A failing processor does not wedge the logger.** s6 retries a failing processor every
//!   `r` ms forever, holding every new line of that logdir in memory meanwhile and never
//!   exiting. merit retries it the same way, but:
//!   - while the processor runs or waits to be retried, new records are appended to the new
//!     `current` (already open at that point) instead of waiting in memory; in pipe mode the
//!     input is therefore consumed and the writer is not blocked. No new rotation starts
//!     until the processing ends (`current` may then exceed `s`);
//!   - once input has ended (EOF, SIGTERM, SIGHUP), a failing processor is retried for
//!     [`STOP_GRACE_MS`] (2 s) more; then that rotation's processing is given up: `previous`
//!     is archived unprocessed as `@<stamp>.u` (what the start-up recovery of an interrupted
//!     rotation does), `processed` and `newstate` are removed, `state` is kept, the warning
//!     `input ended and the processor still fails in DIR: previous archived unprocessed (.u)`
//!     is printed, and s6-log exits 0 with every line in the logdir. A processor that is
//!     *running* is still waited for (it is doing its work; a hung one is the supervisor's to
//!     kill). With `-b`, stdin is not read during a rotation, as in s6; SIGTERM still ends it.
//! * **Processors always get fd 5** (`newstate`). In 2.11.3.2 a processor of a single-logdir
//!   s6-log starts with fd 5 closed (its signalfd was fd 5 and is closed after the move). merit
//!   fixes that bug.
//! * After a stop in the middle of a rotation (`previous` and an unfinalized `current` both
//!   present), s6 stamps both `.u` archives with its start time, fails to link the second one
//!   (`unable to finish current .u for logdir DIR: File exists`, exit 111) and only starts at the
//!   next attempt; merit stamps `current`'s archive 1 ns later and starts.
//! * Regexes: POSIX ERE translated for the `regex` crate; patterns with back-references (and
//!   those too large for the crate) run on a bounded backtracker (`merit_core::log::backtrack`,
//!   at most `STEP_BUDGET` = 1,000,000 steps per line and selection: past it the selection is
//!   taken as not matching that line, with the warning `regex RE: backtracking budget exceeded
//!   on a line, taken as not matching (warned once)`, once per directive). Remaining
//!   differences are listed in `merit_core::log::ere`.

use merit_core::log::backtrack::{self, Backtrack};
use merit_core::log::format::{self, Stamps};
use merit_core::log::lines::{self, Next};
use merit_core::log::logdir::{self as ld, RotState};
use merit_core::log::script::{self, Action, ActionKind, LogdirSpec, Script};
use merit_core::tai::{display_second, Tain};
use merit_sys::{clock, errno, fd, fs, signal};
use std::ffi::OsStr;
use std::io::Error;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

const PROG: &str = "s6-log";

/// A compiled selection.
#[derive(Debug)]
enum Re {
    /// The `regex` crate, on the translated pattern (every pattern without back-references).
    Fast(regex::bytes::Regex),
    /// The bounded backtracker (back-references, or a pattern too large for the crate).
    Slow(Box<SlowRe>),
}

#[derive(Debug)]
struct SlowRe {
    /// A crate regex whose language contains the pattern's: lines it rejects cannot match,
    /// and a match starts no earlier than its leftmost match.
    pre: Option<regex::bytes::Regex>,
    bt: Backtrack,
    pattern: Vec<u8>,
    /// The "budget exceeded" warning was printed.
    warned: std::cell::Cell<bool>,
}

impl Re {
    fn is_match(&self, line: &[u8], env: &Env) -> bool {
        match self {
            Re::Fast(r) => r.is_match(line),
            Re::Slow(s) => {
                let first = match &s.pre {
                    Some(p) => match p.find(line) {
                        Some(m) => m.start(),
                        None => return false,
                    },
                    None => 0,
                };
                match s.bt.search(line, first, backtrack::STEP_BUDGET) {
                    Some(m) => m,
                    None => {
                        if !s.warned.replace(true) {
                            env.warn(&[
                                b"regex ",
                                &s.pattern,
                                b": backtracking budget exceeded on a line, taken as not matching (warned once)",
                            ]);
                        }
                        false
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

fn put(kind: &str, parts: &[&[u8]]) {
    crate::msg::put(PROG, kind, parts);
}

fn die(code: i32, parts: &[&[u8]]) -> ! {
    crate::msg::die(PROG, code, parts)
}

fn errtext(e: &Error) -> Vec<u8> {
    merit_sys::strerror(e).into_bytes()
}

/// `unable to PARTS: ERROR`.
fn unable(parts: &[&[u8]], e: &Error) -> Vec<u8> {
    let mut v = b"unable to ".to_vec();
    for p in parts {
        v.extend_from_slice(p);
    }
    v.extend_from_slice(b": ");
    v.extend_from_slice(&errtext(e));
    v
}

/// `stat(path)`; `Ok(None)` when it does not exist.
fn stat(path: &Path) -> std::io::Result<Option<fs::FileStat>> {
    match fs::stat(path) {
        Ok(st) => Ok(Some(st)),
        Err(e) if errno::is(&e, errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Clocks

/// s6's "stopwatch": the monotonic clock plus an offset fixed at start so that it starts equal
/// to the wall clock. Used for archive names.
struct Stopwatch {
    wall0: Tain,
    mono0: u64,
}

impl Stopwatch {
    fn new() -> Stopwatch {
        let (s, ns) = clock::wall();
        Stopwatch { wall0: Tain::from_unix(s, ns), mono0: clock::mono_ns() }
    }
    fn now(&self) -> Tain {
        let d = clock::mono_ns().saturating_sub(self.mono0);
        let total = self.wall0.nanos as u64 + d % 1_000_000_000;
        Tain {
            secs: self.wall0.secs.wrapping_add(d / 1_000_000_000 + total / 1_000_000_000),
            nanos: (total % 1_000_000_000) as u32,
        }
    }
}

fn mono_ms() -> u64 {
    clock::mono_ns() / 1_000_000
}

// ---------------------------------------------------------------------------------------------
// Logdirs

struct Logdir {
    spec: LogdirSpec,
    dir: PathBuf,
    buf: Vec<u8>,
    fd: OwnedFd,
    _lock: OwnedFd,
    /// Bytes in `current`.
    b: u64,
    /// Offset in `current` up to which writeback has been started (see `WRITEBACK_STEP`).
    kicked: u64,
    rstate: RotState,
    /// Monotonic ms before which nothing is retried (0 = none).
    deadline: u64,
    /// The running processor.
    pid: i32,
    /// The clock as last read for this logdir (archive names).
    stamp: Tain,
    /// `previous` could not be archived when processing was abandoned: leave `current`
    /// unfinalized at exit so that the next start recovers both.
    keep_unfinal: bool,
}

/// After the end of input (EOF, SIGTERM, SIGHUP), how long a failing processor is still
/// retried (every `r` ms) before s6-log gives up processing that rotation
/// ([`Logdir::abandon_processing`]) and exits. A processor that is running is waited for.
const STOP_GRACE_MS: u64 = 2000;

/// Path of the first `execlineb` found (see `script::execlineb_candidates`): a regular file
/// with an execute bit, in s6-log's `PATH`, then `/bin`, `/usr/bin`, `/usr/lib/execline/bin`.
/// Searched at each processor run, so an execline installed later is found.
fn find_execlineb() -> Option<Vec<u8>> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH");
    script::execlineb_candidates(path.as_ref().map(|p| p.as_bytes()))
        .into_iter()
        .find(|c| std::fs::metadata(as_path(c)).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// The argv of a processor; `None` when it needs execlineb and none is found.
fn processor_argv(p: &script::Processor) -> Option<Vec<Vec<u8>>> {
    if p.shell {
        return Some(p.argv(b""));
    }
    find_execlineb().map(|eb| p.argv(&eb))
}

/// Every this many bytes appended to `current`, its writeback is started (sync_file_range),
/// without waiting for it.
const WRITEBACK_STEP: u64 = 1 << 20;

/// `DIR/NAME` as s6 builds it (textually), for messages.
fn dpath(dir: &[u8], name: &str) -> Vec<u8> {
    let mut v = dir.to_vec();
    v.push(b'/');
    v.extend_from_slice(name.as_bytes());
    v
}

fn as_path(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

/// Archives `dir/name` as `@STAMP.suffix` (link + unlink), then trims the archives. Nothing
/// happens if the file does not exist.
fn finish(dir: &Path, name: &str, suffix: u8, stamp: Tain, spec: &LogdirSpec, verbosity: u32) -> std::io::Result<()> {
    let x = dir.join(name);
    let Some(st) = stat(&x)? else { return Ok(()) };
    if st.nlink == 1 {
        let an = ld::archive_name(stamp, suffix);
        fs::link(&x, &dir.join(OsStr::from_bytes(&an)))?;
    }
    fs::unlink(&x)?;
    trim(dir, spec, verbosity)
}

fn trim(dir: &Path, spec: &LogdirSpec, verbosity: u32) -> std::io::Result<()> {
    let mut archives = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let nb = name.as_bytes();
        if !ld::is_archive_name(nb) {
            continue;
        }
        match stat(&dir.join(&name)) {
            Ok(Some(st)) => archives.push((nb.to_vec(), st.size)),
            Ok(None) => {}
            Err(e) => {
                if verbosity > 0 {
                    put("warning", &[&unable(&[b"stat ", &dpath(&spec.path, &String::from_utf8_lossy(nb))], &e)]);
                }
            }
        }
    }
    for n in ld::to_trim(&archives, spec.count, spec.maxdirsize) {
        match fs::unlink(&dir.join(OsStr::from_bytes(&n))) {
            Ok(()) => {}
            Err(e) if errno::is(&e, errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// s6-log.md §6.2: start-up of a logdir. Returns the fatal message on failure.
fn logdir_init(spec: &LogdirSpec, start: Tain, mode_in_use: u32, verbosity: u32) -> Result<Logdir, Vec<u8>> {
    let d = &spec.path;
    let dir = as_path(d).to_path_buf();
    match fs::mkdir(&dir, 0o2700) {
        Ok(()) => {}
        Err(e) if errno::is(&e, errno::EEXIST) => {}
        Err(e) => return Err(unable(&[b"mkdir ", d], &e)),
    }
    let lock = fd::open_create(&dir.join("lock")).map_err(|e| unable(&[b"open ", &dpath(d, "lock")], &e))?;
    match merit_sys::lock::try_write_lock(lock.as_raw_fd()) {
        Ok(true) => {}
        Ok(false) => return Err(unable(&[b"lock ", &dpath(d, "lock")], &merit_sys::errno::error(errno::EBUSY))),
        Err(e) => return Err(unable(&[b"lock ", &dpath(d, "lock")], &e)),
    }
    let cur = stat(&dir.join("current")).map_err(|e| unable(&[b"stat ", &dpath(d, "current")], &e))?;
    let processed = if cur.is_some_and(|c| c.mode & 0o100 != 0) {
        None
    } else {
        stat(&dir.join("processed")).map_err(|e| unable(&[b"stat ", &dpath(d, "processed")], &e))?
    };
    let mut b = 0;
    match ld::startup(cur.map(|c| c.mode), processed.map(|p| p.mode)) {
        ld::Startup::Resume => b = cur.map(|c| c.size).unwrap_or(0),
        ld::Startup::Recover { processed_done } => {
            fs::unlink_void(&dir.join("state"));
            fs::unlink_void(&dir.join("newstate"));
            if processed_done {
                fs::unlink_void(&dir.join("previous"));
                finish(&dir, "processed", b's', start, spec, verbosity)
                    .map_err(|e| unable(&[b"finish processed .s for logdir ", d], &e))?;
            } else {
                fs::unlink_void(&dir.join("processed"));
                finish(&dir, "previous", b'u', start, spec, verbosity)
                    .map_err(|e| unable(&[b"finish previous .u for logdir ", d], &e))?;
            }
            // s6 2.11.3.2 stamps both start-up archives with its start time, so a leftover
            // `previous` *and* `current` (a stop in the middle of a rotation) collide: it dies
            // with "unable to finish current .u ...: File exists" (and starts at the next try).
            // merit gives `current` a later stamp instead.
            let later = Tain { secs: start.secs, nanos: start.nanos + 1 };
            let later = if later.nanos >= 1_000_000_000 { Tain { secs: start.secs + 1, nanos: 0 } } else { later };
            finish(&dir, "current", b'u', later, spec, verbosity)
                .map_err(|e| unable(&[b"finish current .u for logdir ", d], &e))?;
            fd::open_trunc(&dir.join("state")).map_err(|e| unable(&[b"open_trunc ", &dpath(d, "state")], &e))?;
        }
    }
    let fd = fd::open_append(&dir.join("current")).map_err(|e| unable(&[b"open_append ", &dpath(d, "current")], &e))?;
    fs::fchmod(fd.as_raw_fd(), mode_in_use).map_err(|e| unable(&[b"fd_chmod ", &dpath(d, "current")], &e))?;
    Ok(Logdir {
        spec: spec.clone(),
        dir,
        buf: Vec::new(),
        fd,
        _lock: lock,
        b,
        kicked: b,
        rstate: RotState::Writable,
        deadline: 0,
        pid: 0,
        stamp: start,
        keep_unfinal: false,
    })
}

/// Settings shared by every logdir operation.
struct Env {
    verbosity: u32,
    mode_in_use: u32,
    mode_final: u32,
    clock: Stopwatch,
}

impl Env {
    fn warn(&self, parts: &[&[u8]]) {
        if self.verbosity > 0 {
            put("warning", parts);
        }
    }
}

impl Logdir {
    fn d(&self) -> &[u8] {
        &self.spec.path
    }

    fn due(&self, now_ms: u64) -> bool {
        self.deadline == 0 || now_ms >= self.deadline
    }

    /// Has work that a timer must wake us for.
    fn busy(&self) -> bool {
        !self.buf.is_empty() || !matches!(self.rstate, RotState::Writable | RotState::WaitProcessor)
    }

    fn fail(&mut self) {
        self.deadline = mono_ms().saturating_add(self.spec.retry_ms as u64);
    }

    /// Runs rotation steps until the rotation ends, waits for the processor, or a step fails
    /// (then it is retried after the `r` delay, from that step).
    fn rotator(&mut self, env: &Env) {
        loop {
            let d = self.d().to_vec();
            let r: Result<(), Vec<u8>> = match self.rstate {
                RotState::Writable | RotState::WaitProcessor => return,
                RotState::Sync => match fs::fsync(self.fd.as_raw_fd()) {
                    Ok(()) => {
                        self.stamp = env.clock.now();
                        Ok(())
                    }
                    Err(e) => Err(unable(&[b"fd_sync ", &dpath(&d, "current")], &e)),
                },
                RotState::Rename => std::fs::rename(self.dir.join("current"), self.dir.join("previous"))
                    .map_err(|e| unable(&[b"rename ", &dpath(&d, "current"), b" to ", &dpath(&d, "previous")], &e)),
                RotState::NewCurrent => match fd::open_append(&self.dir.join("current")) {
                    Ok(f) => {
                        self.fd = f;
                        self.b = 0;
                        self.kicked = 0;
                        Ok(())
                    }
                    Err(e) => Err(unable(&[b"open_append ", &dpath(&d, "current")], &e)),
                },
                RotState::ChmodPrevious => fs::chmod(&self.dir.join("previous"), env.mode_final)
                    .map_err(|e| unable(&[b"chmod ", &dpath(&d, "previous")], &e)),
                RotState::FinishPrevious => finish(&self.dir, "previous", b's', self.stamp, &self.spec, env.verbosity)
                    .map_err(|e| unable(&[b"finish previous .s to logdir ", &d], &e)),
                RotState::RunProcessor => match self.spec.processor.as_ref().map(processor_argv) {
                    None | Some(None) => Err(unable(
                        &[b"find execlineb (searched PATH, /bin, /usr/bin, /usr/lib/execline/bin) for logdir ", &d],
                        &Error::from_raw_os_error(errno::ENOENT),
                    )),
                    Some(Some(argv)) => match merit_sys::process::spawn_processor(PROG, &self.dir, &argv) {
                        Ok(pid) => {
                            self.pid = pid;
                            Ok(())
                        }
                        Err(e) => Err(unable(&[b"fork processor for logdir ", &d], &e)),
                    },
                },
                RotState::SyncProcessed => (|| {
                    let p = dpath(&d, "processed");
                    let f =
                        fd::open_append(&self.dir.join("processed")).map_err(|e| unable(&[b"open_append ", &p], &e))?;
                    fs::fsync(f.as_raw_fd()).map_err(|e| unable(&[b"fd_sync ", &p], &e))?;
                    fs::fchmod(f.as_raw_fd(), env.mode_final).map_err(|e| unable(&[b"fd_chmod ", &p], &e))
                })(),
                RotState::SyncNewstate => (|| {
                    let p = dpath(&d, "newstate");
                    let f =
                        fd::open_append(&self.dir.join("newstate")).map_err(|e| unable(&[b"open_append ", &p], &e))?;
                    fs::fsync(f.as_raw_fd()).map_err(|e| unable(&[b"fd_sync ", &p], &e))
                })()
                .map(|()| self.stamp = env.clock.now()),
                RotState::UnlinkPrevious => match fs::unlink(&self.dir.join("previous")) {
                    Ok(()) => Ok(()),
                    Err(e) if errno::is(&e, errno::ENOENT) => Ok(()),
                    Err(e) => Err(unable(&[b"unlink ", &dpath(&d, "previous")], &e)),
                },
                RotState::RenameState => std::fs::rename(self.dir.join("newstate"), self.dir.join("state"))
                    .map_err(|e| unable(&[b"rename ", &dpath(&d, "newstate"), b" to ", &dpath(&d, "state")], &e)),
                RotState::FinishProcessed => {
                    finish(&self.dir, "processed", b's', self.stamp, &self.spec, env.verbosity)
                        .map_err(|e| unable(&[b"finish processed .s to logdir ", &d], &e))
                }
            };
            match r {
                Ok(()) => self.rstate = self.rstate.next(self.spec.processor.is_some()),
                Err(m) => {
                    env.warn(&[&m]);
                    // A retried archive step gets a fresh stamp (a name collision cannot repeat).
                    if matches!(self.rstate, RotState::FinishPrevious | RotState::FinishProcessed) {
                        self.stamp = env.clock.now();
                    }
                    self.fail();
                    return;
                }
            }
        }
    }

    fn start_rotation(&mut self, env: &Env) {
        self.rstate = RotState::Sync;
        self.deadline = 0;
        self.rotator(env);
    }

    /// Whether `current` may be written: when not rotating, and also while the processor runs
    /// or waits to be retried (the new `current` is open by then; s6 holds the records in
    /// memory instead, see the module documentation).
    fn can_write(&self) -> bool {
        matches!(self.rstate, RotState::Writable | RotState::WaitProcessor | RotState::RunProcessor)
    }

    /// Writes buffered records and starts rotations as s6-log.md §6.3 says.
    fn flush(&mut self, env: &Env) {
        let now = mono_ms();
        if !self.due(now) {
            return;
        }
        if self.rstate != RotState::Writable {
            self.rotator(env);
        }
        while self.can_write() && !self.buf.is_empty() && self.due(mono_ms()) {
            // During processing no new rotation starts: the next write after it does.
            let rotating = self.rstate != RotState::Writable;
            if !rotating && ld::rotate_before_write(self.b, self.spec.size) {
                self.start_rotation(env);
                continue;
            }
            let n = ld::write_len(&self.buf);
            match fd::write(self.fd.as_raw_fd(), &self.buf[..n]) {
                Ok(0) => {
                    self.fail();
                    return;
                }
                Ok(r) => {
                    self.b += r as u64;
                    let last = self.buf[r - 1];
                    self.buf.drain(..r);
                    if self.b >= self.kicked + WRITEBACK_STEP {
                        // Not a semantic change: the data only reaches the disk sooner, and the
                        // rotation's fsync of a large `current` has little left to wait for.
                        let _ = fs::start_writeback(self.fd.as_raw_fd(), self.kicked, self.b - self.kicked);
                        self.kicked = self.b;
                    }
                    if !rotating && ld::rotate_after_write(self.b, self.spec.tolerance, self.spec.size, last) {
                        // The rotation itself runs once the main loop has had a chance to
                        // consume the input now written (fsync takes time; a SIGKILL during it
                        // would otherwise duplicate these lines in the successor).
                        self.rstate = RotState::Sync;
                        self.deadline = 0;
                        return;
                    }
                }
                Err(e) if errno::is(&e, errno::EAGAIN) => return,
                Err(e) => {
                    env.warn(&[&unable(&[b"write to ", &dpath(self.d(), "current")], &e)]);
                    self.fail();
                    return;
                }
            }
        }
    }

    /// The processor `pid` exited with wait status `status`.
    fn processor_done(&mut self, status: i32, env: &Env) {
        self.pid = 0;
        let signaled = status & 0x7f != 0;
        let code = (status >> 8) & 0xff;
        if signaled || code != 0 {
            let what: &[u8] = if signaled { b"processor crashed in " } else { b"processor failed in " };
            env.warn(&[what, self.d()]);
            self.rstate = RotState::RunProcessor;
            self.fail();
        } else {
            self.rstate = RotState::SyncProcessed;
            self.deadline = 0;
            self.rotator(env);
        }
    }

    /// Input has ended and the processor still fails (or cannot be run) after
    /// [`STOP_GRACE_MS`]: give up processing this rotation so that s6-log can exit. `previous`
    /// (the rotated, unprocessed data) is archived as `.u`, as the start-up recovery of an
    /// interrupted rotation does; `processed` and `newstate` are removed; `state` is kept. If
    /// that archiving fails, `previous` stays and `current` is not finalized, so that the next
    /// start recovers both as `.u` archives: no line is lost either way.
    fn abandon_processing(&mut self, env: &Env) {
        let d = self.d().to_vec();
        fs::unlink_void(&self.dir.join("processed"));
        fs::unlink_void(&self.dir.join("newstate"));
        self.stamp = env.clock.now();
        match finish(&self.dir, "previous", b'u', self.stamp, &self.spec, env.verbosity) {
            Ok(()) => env.warn(&[
                b"input ended and the processor still fails in ",
                &d,
                b": previous archived unprocessed (.u)",
            ]),
            Err(e) => {
                env.warn(&[&unable(&[b"finish previous .u for logdir ", &d], &e)]);
                self.keep_unfinal = true;
            }
        }
        self.rstate = RotState::Writable;
        self.deadline = 0;
    }

    /// Clean shutdown: fsync `current` and give it the user-exec bit.
    fn finalize(&self, env: &Env) {
        if let Err(e) = fs::fsync(self.fd.as_raw_fd()) {
            env.warn(&[&unable(&[b"fd_sync ", &dpath(self.d(), "current")], &e)]);
        }
        if self.keep_unfinal {
            return;
        }
        if let Err(e) = fs::fchmod(self.fd.as_raw_fd(), env.mode_final) {
            env.warn(&[&unable(&[b"fd_chmod ", &dpath(self.d(), "current")], &e)]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Outputs of one line

struct Outputs {
    script: Script<Re>,
    logdirs: Vec<Logdir>,
    stdout: Vec<u8>,
    stdout_closed: bool,
    right_zone: bool,
}

impl Outputs {
    fn process_line(&mut self, line: &[u8], env: &Env) {
        let mut tai = [0u8; 25];
        let mut local = String::new();
        if self.script.want_tai || self.script.want_local {
            let (s, ns) = clock::wall();
            let t = Tain::from_unix(s, ns);
            tai = t.label();
            if self.script.want_local {
                if let Some((u, leap)) = display_second(t.secs, self.right_zone) {
                    if let Some(tm) = clock::broken_down(u, false) {
                        local = format::local_stamp(
                            tm.year,
                            tm.month,
                            tm.day,
                            tm.hour,
                            tm.minute,
                            tm.second + leap as u32,
                            t.nanos,
                        );
                    }
                }
            }
        }
        let stamps = Stamps { tai: &tai, local: local.as_bytes() };
        let Outputs { script, logdirs, stdout, stdout_closed, .. } = self;
        script::select(
            &script.elements,
            line,
            |re: &Re, l: &[u8]| re.is_match(l, env),
            |a: &Action| match &a.kind {
                ActionKind::Stdout => {
                    if !*stdout_closed {
                        format::record(stdout, a, &stamps, line);
                    }
                }
                ActionKind::Alert { size } => {
                    // Like every diagnostic, never blocking: a full stderr loses the alert, never
                    // stalls the logger (and with it the service writing to it).
                    fd::write_diag(2, &format::alert(PROG, a, &stamps, line, *size));
                }
                ActionKind::Status { file, size } => {
                    let data = format::status(a, &stamps, line, *size);
                    let mut new = file.clone();
                    new.extend_from_slice(b".new");
                    if let Err(e) = fd::write_replace(as_path(&new), as_path(file), &data) {
                        env.warn(&[&unable(&[b"write status file ", file], &e)]);
                    }
                }
                ActionKind::Logdir(i) => {
                    if let Some(l) = logdirs.get_mut(*i) {
                        format::record(&mut l.buf, a, &stamps, line);
                    }
                }
            },
        );
    }

    /// Every record produced so far has been handed to the kernel.
    fn flushed(&self) -> bool {
        (self.stdout.is_empty() || self.stdout_closed) && self.logdirs.iter().all(|l| l.buf.is_empty())
    }

    fn idle(&self) -> bool {
        self.flushed() && self.logdirs.iter().all(|l| l.rstate == RotState::Writable)
    }

    /// Whether empty buffers still hold memory (see [`IDLE_RELEASE_MS`]).
    fn holds_memory(&self) -> bool {
        self.stdout.capacity() > 0 || self.logdirs.iter().any(|l| l.buf.capacity() > 0)
    }

    /// Frees the buffers that are empty.
    fn release_memory(&mut self) {
        if self.stdout.is_empty() {
            self.stdout = Vec::new();
        }
        for l in self.logdirs.iter_mut().filter(|l| l.buf.is_empty()) {
            l.buf = Vec::new();
        }
    }

    fn flush_stdout(&mut self, env: &Env) {
        if self.stdout_closed || self.stdout.is_empty() {
            return;
        }
        match fd::write(1, &self.stdout) {
            Ok(n) => {
                self.stdout.drain(..n);
            }
            Err(e) if errno::is(&e, errno::EAGAIN) => {}
            Err(e) => {
                env.warn(&[&unable(&[b"write to stdout, closing the stream - error was"], &e)]);
                self.stdout_closed = true;
                self.stdout = Vec::new();
                fd::close(1);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Input

enum Mode {
    /// Undecided until the first `tee`.
    Probe,
    /// Peek with tee(2): see the module documentation.
    Pipe { pr: OwnedFd, pw: OwnedFd, cap: usize },
    /// Plain reads.
    Read,
}

struct Input {
    mode: Mode,
    linelimit: usize,
    blocking: bool,
    /// No more reading (EOF, error, or stopped by a signal).
    finished: bool,
    /// A signal asked to stop after completing the pending partial line.
    stopping: bool,
    /// Read mode: bytes read and not yet processed (a partial line).
    /// Pipe mode: scratch buffer for the copy.
    buf: Vec<u8>,
    /// Pipe mode: where consumed input goes.
    sink: Sink,
    /// Pipe mode: a partial line read (consumed) into memory because it was too large.
    held: Vec<u8>,
    /// Pipe mode: bytes processed but not yet consumed from stdin.
    pending_consume: usize,
    /// Length of the partial line known to follow the processed data (0 = none).
    partial: usize,
    /// Pipe mode: waiting for a partial line to grow: (next check at, back-off ms, bytes seen).
    recheck: Option<(u64, u64, usize)>,
    /// Pipe mode: the last window held no line at all: peek at everything next time.
    big: bool,
}

/// s6-log reads stdin through an 8192-byte circular buffer, 8191 bytes usable, which it empties
/// after each read (the partial last line moves to a separate line buffer): every read asks for
/// 8191 new bytes, and a round processes the held partial line plus those bytes. That decides
/// how many bytes each logdir write carries and hence the archive sizes when lines arrive in
/// bulk (strace: `readv(0, [{.., 1}, {.., 8190}]) = 8191` after a partial line of 9 bytes).
/// merit uses the same window.
const INPUT_WINDOW: usize = 8191;

/// After this long with nothing to do, s6-log frees its empty buffers: a burst of lines grows
/// them (the input copy, each logdir's pending output), and most loggers then sit idle for
/// long stretches. Under a steady flow poll never waits this long, so nothing is freed.
const IDLE_RELEASE_MS: u64 = 200;

const RECHECK_MIN_MS: u64 = 1;
const RECHECK_MAX_MS: u64 = 50;

impl Input {
    fn want_read(&self, out: &Outputs) -> bool {
        if self.finished {
            return false;
        }
        match self.mode {
            Mode::Pipe { .. } => self.pending_consume == 0 && self.recheck.is_none() && (!self.blocking || out.idle()),
            _ => !self.blocking || out.idle(),
        }
    }

    /// Whether buffers hold memory that [`Input::release_memory`] could free.
    fn holds_memory(&self) -> bool {
        match self.mode {
            Mode::Pipe { .. } => self.buf.capacity() > 0 || (self.held.is_empty() && self.held.capacity() > 0),
            _ => self.buf.is_empty() && self.buf.capacity() > 0,
        }
    }

    /// Frees what holds no data: in pipe mode `buf` is only scratch space for each copy; in
    /// read mode it holds the partial line, kept.
    fn release_memory(&mut self) {
        if matches!(self.mode, Mode::Pipe { .. }) || self.buf.is_empty() {
            self.buf = Vec::new();
        }
        if self.held.is_empty() {
            self.held = Vec::new();
        }
    }

    /// A signal asks to stop reading.
    fn stop(&mut self) {
        if self.finished {
            return;
        }
        if self.partial > 0 || !self.held.is_empty() {
            self.stopping = true;
        } else {
            self.finished = true;
            self.recheck = None;
        }
    }

    /// Processes the complete lines of `data` (only the first one when stopping). Returns the
    /// number of bytes used and the length of what is left.
    fn take_lines(&mut self, data: &[u8], out: &mut Outputs, env: &Env) -> usize {
        if self.stopping {
            match lines::next_line(data, self.linelimit) {
                Next::Line { len, consumed, terminated } => {
                    if !terminated {
                        env.warn(&[b"input line too long, ", b"stopping before the end"]);
                    }
                    out.process_line(&data[..len], env);
                    self.finished = true;
                    self.stopping = false;
                    self.recheck = None;
                    consumed
                }
                Next::NeedMore => 0,
            }
        } else {
            let mut used = 0;
            while let Next::Line { len, consumed, .. } = lines::next_line(&data[used..], self.linelimit) {
                out.process_line(&data[used..used + len], env);
                used += consumed;
            }
            used
        }
    }

    /// End of input: the partial line is dropped, except when completing it after a signal.
    fn at_eof(&mut self, partial: &[u8], out: &mut Outputs, env: &Env) {
        if self.stopping && !partial.is_empty() {
            out.process_line(partial, env);
        }
        self.finished = true;
        self.stopping = false;
        self.recheck = None;
    }

    /// stdin is readable (or a re-check is due).
    fn on_readable(&mut self, out: &mut Outputs, env: &Env) {
        if let Mode::Probe = self.mode {
            self.mode = match private_pipe() {
                Some((pr, pw, cap)) => Mode::Pipe { pr, pw, cap },
                None => Mode::Read,
            };
        }
        match &self.mode {
            Mode::Pipe { pr, pw, cap } => {
                let (pr, pw, cap) = (pr.as_raw_fd(), pw.as_raw_fd(), *cap);
                // The partial line seen last time is still in the pipe (unless held in memory):
                // peek at it plus a full window of new bytes, as s6 reads.
                let in_pipe = self.partial.saturating_sub(self.held.len());
                let len = if self.big { cap } else { (in_pipe + INPUT_WINDOW).min(cap) };
                match fd::tee(0, pw, len) {
                    Err(e) if errno::is(&e, errno::EINVAL) => {
                        // EINVAL: stdin is not a pipe. Fall back to plain reads.
                        self.mode = Mode::Read;
                        self.read_plain(out, env);
                    }
                    Err(e) if errno::is(&e, errno::EAGAIN) => {}
                    Err(e) => {
                        if !errno::is(&e, errno::EPIPE) {
                            env.warn(&[&unable(&[b"read from stdin"], &e)]);
                        }
                        let held = std::mem::take(&mut self.held);
                        self.at_eof(&held, out, env);
                    }
                    Ok(0) => {
                        let held = std::mem::take(&mut self.held);
                        self.at_eof(&held, out, env);
                    }
                    Ok(n) => {
                        if self.after_tee(pr, n, len, cap, out, env) {
                            // The window was full of one partial line: look further at once.
                            self.on_readable(out, env);
                        }
                    }
                }
            }
            Mode::Read => self.read_plain(out, env),
            Mode::Probe => {}
        }
    }

    /// Processes a copy of `n` bytes obtained with a window of `len`. Returns true when the
    /// window was full without a line and should be widened immediately.
    fn after_tee(&mut self, pr: RawFd, n: usize, len: usize, cap: usize, out: &mut Outputs, env: &Env) -> bool {
        // Read the whole copy (the private pipe is empty before each tee), after the held part,
        // into the scratch buffer (kept across rounds).
        let mut data = std::mem::take(&mut self.buf);
        data.clear();
        data.extend_from_slice(&self.held);
        self.held.clear();
        let held_len = data.len();
        data.resize(held_len + n, 0);
        let mut got = 0;
        while got < n {
            match fd::read(pr, &mut data[held_len + got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(_) => break,
            }
        }
        data.truncate(held_len + got);
        let used = self.take_lines(&data, out, env);
        if used > 0 {
            self.pending_consume = used.saturating_sub(held_len);
            self.partial = data.len() - used;
            self.recheck = None;
            if self.finished {
                self.partial = 0;
            }
            self.big = false;
            self.buf = data;
            return false;
        }
        if got == len && !self.big && len < cap {
            self.big = true;
            self.held = data[..held_len].to_vec();
            self.buf = data;
            return true;
        }
        // No complete line: `data` is one partial line; nothing to consume yet.
        self.partial = data.len();
        let seen = got;
        let progress = match self.recheck {
            Some((_, _, before)) => seen > before,
            None => true,
        };
        if seen >= cap / 2 || !progress {
            // Too big to leave in the pipe (the writer could block on a full pipe and never
            // finish the line): keep it in memory from now on.
            let mut scratch = vec![0u8; seen];
            let mut left = seen;
            while left > 0 {
                match fd::read(0, &mut scratch[..left]) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => left -= k,
                }
            }
            self.held = data;
            self.recheck = None;
        } else {
            self.held = data[..held_len].to_vec();
            self.buf = data;
            let backoff = match self.recheck {
                Some((_, b, _)) => (b * 2).min(RECHECK_MAX_MS),
                None => RECHECK_MIN_MS,
            };
            self.recheck = Some((mono_ms() + backoff, backoff, seen));
        }
        false
    }

    /// The re-check timer fired: has the partial line grown, or has the writer gone?
    fn on_recheck(&mut self, out: &mut Outputs, env: &Env) {
        let Some((at, backoff, seen)) = self.recheck else { return };
        if mono_ms() < at {
            return;
        }
        let avail = fd::fionread(0).unwrap_or(0);
        if avail > seen {
            self.on_readable(out, env);
            return;
        }
        let mut p = [fd::PollFd::watch(0, true, false)];
        let hup = fd::poll(&mut p, Some(0)).is_ok() && p[0].hup;
        if hup && fd::fionread(0).unwrap_or(0) <= seen {
            // The writer is gone and the line will never complete.
            let mut partial = std::mem::take(&mut self.held);
            if self.stopping {
                // Completing a line after a signal: take the unterminated rest as the line.
                if let Mode::Pipe { pr, pw, cap } = &self.mode {
                    if let Ok(n) = fd::tee(0, pw.as_raw_fd(), *cap) {
                        let mut b = vec![0u8; n];
                        let mut got = 0;
                        while got < n {
                            match fd::read(pr.as_raw_fd(), &mut b[got..]) {
                                Ok(0) | Err(_) => break,
                                Ok(k) => got += k,
                            }
                        }
                        b.truncate(got);
                        partial.extend_from_slice(&b);
                        self.pending_consume = got;
                    }
                }
            }
            self.at_eof(&partial, out, env);
            return;
        }
        let b = (backoff * 2).min(RECHECK_MAX_MS);
        self.recheck = Some((mono_ms() + b, b, seen));
    }

    fn read_plain(&mut self, out: &mut Outputs, env: &Env) {
        // After a signal, read one byte at a time so as not to swallow what follows the line.
        let want = if self.stopping { 1 } else { INPUT_WINDOW };
        // Read after the held partial line, into the same buffer (kept across rounds).
        let old = self.buf.len();
        self.buf.resize(old + want, 0);
        let r = fd::read(0, &mut self.buf[old..]);
        self.buf.truncate(old + *r.as_ref().unwrap_or(&0));
        match r {
            Ok(0) => {
                let partial = std::mem::take(&mut self.buf);
                self.at_eof(&partial, out, env);
            }
            Ok(_) => {
                let mut data = std::mem::take(&mut self.buf);
                let used = self.take_lines(&data, out, env);
                data.drain(..used);
                self.buf = data;
                self.partial = self.buf.len();
                if self.finished {
                    self.buf.clear();
                }
            }
            Err(e) if errno::is(&e, errno::EAGAIN) => {}
            Err(e) => {
                if !errno::is(&e, errno::EPIPE) {
                    env.warn(&[&unable(&[b"read from stdin"], &e)]);
                }
                self.finished = true;
                self.stopping = false;
            }
        }
    }

    /// Pipe mode: once every record of the processed lines is out, consume them from stdin.
    fn consume_if_flushed(&mut self, out: &Outputs) {
        if self.pending_consume == 0 || !out.flushed() {
            return;
        }
        // Into /dev/null inside the kernel when we can; else read and drop.
        if let Sink::Unopened = self.sink {
            let null = fd::open(Path::new("/dev/null"), merit_sys::flags::O_WRONLY | merit_sys::flags::O_CLOEXEC, 0);
            self.sink = null.map_or(Sink::Read, Sink::Splice);
        }
        while self.pending_consume > 0 {
            let r = match &self.sink {
                Sink::Splice(null) => match fd::splice(0, null.as_raw_fd(), self.pending_consume) {
                    Err(e) if errno::is(&e, errno::EINVAL) => {
                        // This stdin cannot splice: read from now on.
                        self.sink = Sink::Read;
                        continue;
                    }
                    other => other,
                },
                _ => read_and_drop(self.pending_consume),
            };
            match r {
                // EAGAIN: the bytes are not there (someone else took them): nothing to wait for.
                Ok(0) | Err(_) => self.pending_consume = 0,
                Ok(r) => self.pending_consume -= r,
            }
        }
    }
}

/// Where logged input goes once consumed (pipe mode).
enum Sink {
    /// Not needed yet.
    Unopened,
    /// `/dev/null`, to `splice` into.
    Splice(OwnedFd),
    /// `read` and drop (no `/dev/null`, or splicing refused).
    Read,
}

/// Reads up to `n` bytes of stdin and drops them (when they cannot be spliced away).
#[cold]
#[inline(never)]
fn read_and_drop(n: usize) -> std::io::Result<usize> {
    let mut drop = vec![0u8; n.min(4096)];
    fd::read(0, &mut drop)
}

/// Creates the private pipe for tee(2), as large as stdin's pipe; `None` if stdin is not a pipe.
fn private_pipe() -> Option<(OwnedFd, OwnedFd, usize)> {
    let want = fd::pipe_size(0).ok()?.max(65536);
    let (pr, pw) = fd::pipe(true).ok()?;
    let _ = fd::set_pipe_size(pw.as_raw_fd(), want);
    let cap = fd::pipe_size(pw.as_raw_fd()).ok()?;
    Some((pr, pw, cap))
}

// ---------------------------------------------------------------------------------------------

fn compile(re: &[u8]) -> Option<Re> {
    let ere = merit_core::log::ere::parse(re).ok()?;
    let crate_re = regex::bytes::RegexBuilder::new(&ere.to_regex()).unicode(false).build().ok();
    if !ere.backrefs {
        if let Some(r) = crate_re {
            return Some(Re::Fast(r));
        }
    }
    let bt = Backtrack::new(&ere).ok()?;
    Some(Re::Slow(Box::new(SlowRe { pre: crate_re, bt, pattern: re.to_vec(), warned: std::cell::Cell::new(false) })))
}

pub fn main() {
    let args: Vec<Vec<u8>> = merit_sys::startup::args_os().skip(1).map(|a| a.as_bytes().to_vec()).collect();
    let Some((opts, first)) = script::parse_options(&args) else {
        put("usage", &[script::USAGE]);
        std::process::exit(100)
    };
    if let Some(n) = opts.notif {
        if n < 3 {
            die(100, &[b"notification fd must be 3 or more"]);
        }
        if n > i32::MAX as u32 || !fd::is_open(n as RawFd) {
            die(100, &[b"invalid notification fd: ", &errtext(&merit_sys::errno::error(errno::EBADF))]);
        }
    }
    fd::ensure_stdio();
    if let Err(e) = fd::set_nonblock(0, true) {
        die(111, &[&unable(&[b"set stdin non-blocking"], &e)]);
    }
    if let Err(e) = fd::set_nonblock(1, true) {
        die(111, &[&unable(&[b"set stdout non-blocking"], &e)]);
    }
    let sigfd = match signal::signalfd(&[signal::SIGTERM, signal::SIGHUP, signal::SIGALRM, signal::SIGCHLD]) {
        Ok(f) => f,
        Err(e) => die(111, &[&unable(&[b"selfpipe_init"], &e)]),
    };
    let _ = signal::set_noop_handler(signal::SIGPIPE);
    let umask = merit_sys::get_umask();
    let env = Env {
        verbosity: opts.verbosity,
        mode_in_use: ld::mode_in_use(umask),
        mode_final: ld::mode_final(umask),
        clock: Stopwatch::new(),
    };
    let start = env.clock.now();

    let script_args = &args[first..];
    let parsed = script::parse(script_args, compile);
    let (script, specs, err) = match parsed {
        Ok(s) => {
            let specs = s.logdirs.clone();
            (Some(s), specs, None)
        }
        Err(e) => {
            if e.extraneous {
                env.warn(&[b"ignoring extraneous non-action directives"]);
            }
            (None, e.logdirs, Some(e.error))
        }
    };
    if script.as_ref().is_some_and(|s| s.extraneous) {
        env.warn(&[b"ignoring extraneous non-action directives"]);
    }
    let mut logdirs = Vec::with_capacity(specs.len());
    for spec in &specs {
        match logdir_init(spec, start, env.mode_in_use, env.verbosity) {
            Ok(l) => logdirs.push(l),
            Err(m) => die(111, &[&m]),
        }
    }
    if let Some(e) = err {
        die(100, &[&e.message()]);
    }
    let Some(script) = script else { die(101, &[b"internal consistency error"]) };
    if let Some(n) = opts.notif {
        let _ = fd::write(n as RawFd, b"\n");
        fd::close(n as RawFd);
    }

    let right_zone = clock::broken_down(78796800, false).is_some_and(|t| t.second == 60);
    let mut out = Outputs { script, logdirs, stdout: Vec::new(), stdout_closed: false, right_zone };
    let mut input = Input {
        mode: Mode::Probe,
        linelimit: opts.linelimit,
        blocking: opts.blocking,
        finished: false,
        stopping: false,
        buf: Vec::new(),
        sink: Sink::Unopened,
        held: Vec::new(),
        pending_consume: 0,
        partial: 0,
        recheck: None,
        big: false,
    };

    // When input ended (monotonic ms), for STOP_GRACE_MS.
    let mut ended_at: Option<u64> = None;
    loop {
        if input.finished {
            let end = *ended_at.get_or_insert_with(mono_ms);
            if mono_ms() >= end.saturating_add(STOP_GRACE_MS) {
                for l in out.logdirs.iter_mut().filter(|l| l.rstate == RotState::RunProcessor) {
                    l.abandon_processing(&env);
                }
            }
        }
        for l in out.logdirs.iter_mut() {
            l.flush(&env);
        }
        input.consume_if_flushed(&out);
        for l in out.logdirs.iter_mut() {
            if l.rstate == RotState::Sync && l.due(mono_ms()) {
                l.rotator(&env);
            }
        }
        if input.finished && input.pending_consume == 0 && out.idle() {
            break;
        }
        // Poll set: signals, stdin, stdout.
        let mut p = [
            fd::PollFd::watch(sigfd.as_raw_fd(), true, false),
            fd::PollFd::watch(0, input.want_read(&out), false),
            fd::PollFd::watch(1, false, !out.stdout_closed && !out.stdout.is_empty()),
        ];
        let now = mono_ms();
        let mut timeout: Option<u64> = None;
        let mut at = |t: u64| {
            let d = t.saturating_sub(now).max(1);
            timeout = Some(timeout.map_or(d, |x: u64| x.min(d)));
        };
        for l in &out.logdirs {
            if l.busy() {
                if l.deadline > now {
                    at(l.deadline);
                } else if l.rstate != RotState::WaitProcessor {
                    at(now + 1);
                }
            }
        }
        if let (Some((t, _, _)), false) = (input.recheck, input.finished) {
            at(t);
        }
        if let Some(end) = ended_at {
            if out.logdirs.iter().any(|l| l.rstate == RotState::RunProcessor) {
                at(end.saturating_add(STOP_GRACE_MS));
            }
        }
        let release = (out.holds_memory() || input.holds_memory())
            && timeout.map_or(true, |t| t > IDLE_RELEASE_MS)
            && out.flushed();
        let timeout = if release { Some(IDLE_RELEASE_MS) } else { timeout };
        match fd::poll(&mut p, timeout) {
            Ok(0) if release => {
                out.release_memory();
                input.release_memory();
            }
            Ok(_) => {}
            Err(e) => die(111, &[&unable(&[b"iopause"], &e)]),
        }
        if p[0].ready {
            while let Ok(Some(sig)) = signal::read_signal(sigfd.as_raw_fd()) {
                match sig {
                    signal::SIGTERM if !opts.ignore_term => input.stop(),
                    signal::SIGHUP => input.stop(),
                    signal::SIGALRM => {
                        for l in out.logdirs.iter_mut() {
                            if l.rstate == RotState::Writable && l.b != 0 {
                                l.start_rotation(&env);
                            }
                        }
                    }
                    signal::SIGCHLD => {
                        while let Ok(Some(r)) = merit_sys::process::reap_one() {
                            if let Some(l) = out.logdirs.iter_mut().find(|l| l.pid == r.pid && l.pid != 0) {
                                l.processor_done(r.status, &env);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        if p[2].can_write {
            out.flush_stdout(&env);
        }
        if p[1].ready && input.want_read(&out) {
            input.on_readable(&mut out, &env);
        }
        if input.recheck.is_some() && !input.finished {
            input.on_recheck(&mut out, &env);
        }
    }
    for l in &out.logdirs {
        l.finalize(&env);
    }
    std::process::exit(0)
}
