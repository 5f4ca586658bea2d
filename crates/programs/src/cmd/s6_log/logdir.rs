//! Logdirs (s6-log.md §6): start-up and recovery, writing `current`, rotation and its
//! processor, archiving and trimming, and the clean shutdown.

use super::{mono_ms, put, unable, Env, PROG};
use merit_core::log::logdir::{self as ld, RotState};
use merit_core::log::script::{self, LogdirSpec};
use merit_core::tai::Tain;
use merit_sys::{errno, fd, fs};
use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

pub(super) struct Logdir {
    spec: LogdirSpec,
    dir: PathBuf,
    /// Records not yet written to `current` (all but the first `cut` bytes).
    pub(super) buf: Vec<u8>,
    /// Bytes at the front of `buf` that are already at the end of `current`: the start of a
    /// line whose write was cut short (a full disk, a file size limit), kept until the line is
    /// complete so that a rotation can take it back ([`Logdir::take_back_cut_line`]).
    cut: usize,
    fd: OwnedFd,
    _lock: OwnedFd,
    /// Bytes in `current`.
    b: u64,
    /// Offset in `current` up to which writeback has been started (see `WRITEBACK_STEP`).
    kicked: u64,
    pub(super) rstate: RotState,
    /// Monotonic ms before which nothing is retried (0 = none).
    pub(super) deadline: u64,
    /// The running processor.
    pub(super) pid: i32,
    /// The clock as last read for this logdir (archive names).
    stamp: Tain,
    /// `previous` could not be archived when processing was abandoned: leave `current`
    /// unfinalized at exit so that the next start recovers both.
    keep_unfinal: bool,
}

/// Path of the first `execlineb` found (see `script::execlineb_candidates`): a regular file
/// with an execute bit, in s6-log's `PATH`, then `/bin`, `/usr/bin`, `/usr/lib/execline/bin`.
/// Searched at each processor run, so an execline installed later is found.
fn find_execlineb() -> Option<Vec<u8>> {
    let path = std::env::var_os("PATH");
    script::execlineb_candidates(path.as_ref().map(|p| p.as_bytes()))
        .into_iter()
        .find(|c| fs::stat(as_path(c)).is_ok_and(|st| st.is_file() && st.mode & 0o111 != 0))
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

pub(super) fn as_path(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

/// `stat(path)`; `Ok(None)` when it does not exist.
fn stat(path: &Path) -> std::io::Result<Option<fs::FileStat>> {
    match fs::stat(path) {
        Ok(st) => Ok(Some(st)),
        Err(e) if errno::is(&e, errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
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

/// Removes the oldest archives beyond the logdir's `n` and `S` limits.
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

/// Creates the logdir `d` if needed, and takes its lock (held as long as s6-log runs).
fn take_lock(dir: &Path, d: &[u8]) -> Result<OwnedFd, Vec<u8>> {
    match fs::mkdir(dir, 0o2700) {
        Ok(()) => {}
        Err(e) if errno::is(&e, errno::EEXIST) => {}
        Err(e) => return Err(unable(&[b"mkdir ", d], &e)),
    }
    let lock = fd::open_create(&dir.join("lock")).map_err(|e| unable(&[b"open ", &dpath(d, "lock")], &e))?;
    match merit_sys::lock::try_write_lock(lock.as_raw_fd()) {
        Ok(true) => Ok(lock),
        Ok(false) => Err(unable(&[b"lock ", &dpath(d, "lock")], &errno::error(errno::EBUSY))),
        Err(e) => Err(unable(&[b"lock ", &dpath(d, "lock")], &e)),
    }
}

/// Start-up after an unclean stop (s6-log.md §6.2): archive what a rotation left behind, then
/// start a new `state`.
fn recover(dir: &Path, spec: &LogdirSpec, start: Tain, processed_done: bool, verbosity: u32) -> Result<(), Vec<u8>> {
    let d = &spec.path;
    fs::unlink_void(&dir.join("state"));
    fs::unlink_void(&dir.join("newstate"));
    if processed_done {
        fs::unlink_void(&dir.join("previous"));
        finish(dir, "processed", b's', start, spec, verbosity)
            .map_err(|e| unable(&[b"finish processed .s for logdir ", d], &e))?;
    } else {
        fs::unlink_void(&dir.join("processed"));
        finish(dir, "previous", b'u', start, spec, verbosity)
            .map_err(|e| unable(&[b"finish previous .u for logdir ", d], &e))?;
    }
    // s6 2.11.3.2 stamps both start-up archives with its start time, so a leftover
    // `previous` *and* `current` (a stop in the middle of a rotation) collide: it dies
    // with "unable to finish current .u ...: File exists" (and starts at the next try).
    // merit gives `current` a later stamp instead.
    let later = Tain { secs: start.secs, nanos: start.nanos + 1 };
    let later = if later.nanos >= 1_000_000_000 { Tain { secs: start.secs + 1, nanos: 0 } } else { later };
    finish(dir, "current", b'u', later, spec, verbosity)
        .map_err(|e| unable(&[b"finish current .u for logdir ", d], &e))?;
    fd::open_trunc(&dir.join("state")).map_err(|e| unable(&[b"open_trunc ", &dpath(d, "state")], &e))?;
    Ok(())
}

/// `DIR/name`, opened `O_APPEND`, then fsynced and (with `mode`) given that mode.
fn sync_file(dir: &Path, d: &[u8], name: &str, mode: Option<u32>) -> Result<(), Vec<u8>> {
    let p = dpath(d, name);
    let f = fd::open_append(&dir.join(name)).map_err(|e| unable(&[b"open_append ", &p], &e))?;
    fs::fsync(f.as_raw_fd()).map_err(|e| unable(&[b"fd_sync ", &p], &e))?;
    match mode {
        Some(mode) => fs::fchmod(f.as_raw_fd(), mode).map_err(|e| unable(&[b"fd_chmod ", &p], &e)),
        None => Ok(()),
    }
}

impl Logdir {
    /// s6-log.md §6.2: start-up of a logdir. Returns the fatal message on failure.
    pub(super) fn open(spec: &LogdirSpec, start: Tain, mode_in_use: u32, verbosity: u32) -> Result<Logdir, Vec<u8>> {
        let d = &spec.path;
        let dir = as_path(d).to_path_buf();
        let lock = take_lock(&dir, d)?;
        let cur = stat(&dir.join("current")).map_err(|e| unable(&[b"stat ", &dpath(d, "current")], &e))?;
        let processed = if cur.is_some_and(|c| c.mode & 0o100 != 0) {
            None
        } else {
            stat(&dir.join("processed")).map_err(|e| unable(&[b"stat ", &dpath(d, "processed")], &e))?
        };
        let mut b = 0;
        match ld::startup(cur.map(|c| c.mode), processed.map(|p| p.mode)) {
            ld::Startup::Resume => b = cur.map(|c| c.size).unwrap_or(0),
            ld::Startup::Recover { processed_done } => recover(&dir, spec, start, processed_done, verbosity)?,
        }
        let fd =
            fd::open_append(&dir.join("current")).map_err(|e| unable(&[b"open_append ", &dpath(d, "current")], &e))?;
        fs::fchmod(fd.as_raw_fd(), mode_in_use).map_err(|e| unable(&[b"fd_chmod ", &dpath(d, "current")], &e))?;
        Ok(Logdir {
            spec: spec.clone(),
            dir,
            buf: Vec::new(),
            cut: 0,
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

    fn d(&self) -> &[u8] {
        &self.spec.path
    }

    /// Bytes in `current`.
    pub(super) fn current_size(&self) -> u64 {
        self.b
    }

    pub(super) fn due(&self, now_ms: u64) -> bool {
        self.deadline == 0 || now_ms >= self.deadline
    }

    /// Has work that a timer must wake us for.
    pub(super) fn busy(&self) -> bool {
        !self.buf.is_empty() || !matches!(self.rstate, RotState::Writable | RotState::WaitProcessor)
    }

    fn fail(&mut self) {
        self.deadline = mono_ms().saturating_add(self.spec.retry_ms as u64);
    }

    /// Runs rotation steps until the rotation ends, waits for the processor, or a step fails
    /// (then it is retried after the `r` delay, from that step).
    pub(super) fn rotator(&mut self, env: &Env) {
        if self.rstate == RotState::Sync {
            if let Err(m) = self.take_back_cut_line() {
                env.warn(&[&m]);
                self.fail();
                return;
            }
        }
        while !matches!(self.rstate, RotState::Writable | RotState::WaitProcessor) {
            match self.rotation_step(env) {
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

    /// The rotation step `self.rstate`; the warning on failure.
    fn rotation_step(&mut self, env: &Env) -> Result<(), Vec<u8>> {
        let d = self.d().to_vec();
        match self.rstate {
            RotState::Writable | RotState::WaitProcessor => Ok(()),
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
            RotState::RunProcessor => self.run_processor(&d),
            RotState::SyncProcessed => sync_file(&self.dir, &d, "processed", Some(env.mode_final)),
            RotState::SyncNewstate => sync_file(&self.dir, &d, "newstate", None).map(|()| self.stamp = env.clock.now()),
            RotState::UnlinkPrevious => match fs::unlink(&self.dir.join("previous")) {
                Ok(()) => Ok(()),
                Err(e) if errno::is(&e, errno::ENOENT) => Ok(()),
                Err(e) => Err(unable(&[b"unlink ", &dpath(&d, "previous")], &e)),
            },
            RotState::RenameState => std::fs::rename(self.dir.join("newstate"), self.dir.join("state"))
                .map_err(|e| unable(&[b"rename ", &dpath(&d, "newstate"), b" to ", &dpath(&d, "state")], &e)),
            RotState::FinishProcessed => finish(&self.dir, "processed", b's', self.stamp, &self.spec, env.verbosity)
                .map_err(|e| unable(&[b"finish processed .s to logdir ", &d], &e)),
        }
    }

    fn run_processor(&mut self, d: &[u8]) -> Result<(), Vec<u8>> {
        match self.spec.processor.as_ref().map(processor_argv) {
            None | Some(None) => Err(unable(
                &[b"find execlineb (searched PATH, /bin, /usr/bin, /usr/lib/execline/bin) for logdir ", d],
                &errno::error(errno::ENOENT),
            )),
            Some(Some(argv)) => match merit_sys::process::spawn_processor(PROG, &self.dir, &argv) {
                Ok(pid) => {
                    self.pid = pid;
                    Ok(())
                }
                Err(e) => Err(unable(&[b"fork processor for logdir ", d], &e)),
            },
        }
    }

    /// Before a rotation: a write cut short inside a line left the start of that line at the
    /// end of `current` (it is also still at the front of the buffer, see `cut`). `current`
    /// is truncated to its last complete line, so the whole line goes to the next `current`:
    /// a rotation never splits a line between two files. (s6-log 2.11.3.2 rotates as soon as
    /// `current` reaches `s`, inside a line or not: the archive ends with the start of the
    /// line, the next `current` begins with its end.)
    ///
    /// Unless that line is all `current` holds: then it is longer than what one file could
    /// take (a cut at `s` or beyond, or a file size limit), a new file would cut it at the same
    /// place again, and the rotation goes on as s6's does, the archive with the line's start.
    fn take_back_cut_line(&mut self) -> Result<(), Vec<u8>> {
        if self.cut == 0 {
            return Ok(());
        }
        let line_end = self.b.saturating_sub(self.cut as u64);
        if line_end == 0 {
            self.buf.drain(..self.cut.min(self.buf.len()));
            self.cut = 0;
            return Ok(());
        }
        fd::truncate(self.fd.as_raw_fd(), line_end)
            .map_err(|e| unable(&[b"truncate to its last complete line ", &dpath(self.d(), "current")], &e))?;
        self.b = line_end;
        self.kicked = self.kicked.min(line_end);
        self.cut = 0;
        Ok(())
    }

    pub(super) fn start_rotation(&mut self, env: &Env) {
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
    pub(super) fn flush(&mut self, env: &Env) {
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
            let Some(todo) = self.buf.get(self.cut..n).filter(|t| !t.is_empty()) else { return };
            match fd::write(self.fd.as_raw_fd(), todo) {
                Ok(0) => {
                    self.fail();
                    return;
                }
                Ok(r) => {
                    if self.wrote(r, rotating) {
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

    /// `r` bytes of the buffer (after `cut`) were written to `current`. Returns true when a
    /// rotation is now due (never while `rotating`).
    fn wrote(&mut self, r: usize, rotating: bool) -> bool {
        self.b += r as u64;
        let end = self.cut.saturating_add(r).min(self.buf.len());
        let written = self.buf.get(..end).unwrap_or_default();
        let last = written.last().copied().unwrap_or_default();
        // Complete lines leave the buffer; the start of a line cut short stays, as `cut`.
        let done = written.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
        self.cut = end - done;
        self.buf.drain(..done);
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
            return true;
        }
        false
    }

    /// The processor `pid` exited with wait status `status`.
    pub(super) fn processor_done(&mut self, status: i32, env: &Env) {
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
    /// [`STOP_GRACE_MS`](super::STOP_GRACE_MS): give up processing this rotation so that
    /// s6-log can exit. `previous` (the rotated, unprocessed data) is archived as `.u`, as the
    /// start-up recovery of an interrupted rotation does; `processed` and `newstate` are
    /// removed; `state` is kept. If that archiving fails, `previous` stays and `current` is not
    /// finalized, so that the next start recovers both as `.u` archives: no line is lost
    /// either way.
    pub(super) fn abandon_processing(&mut self, env: &Env) {
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
    pub(super) fn finalize(&self, env: &Env) {
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
