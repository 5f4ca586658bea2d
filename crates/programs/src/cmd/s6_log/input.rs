//! Reading stdin: two strategies behind one [`Input`].
//!
//! * [`PipeInput`] (stdin is a pipe): peek with `tee(2)`, consume only what has been written
//!   out (the "no line lost on SIGKILL" difference in the module documentation);
//! * [`ReadInput`] (anything else: a file, a socket, a tty): plain reads with s6's semantics.
//!
//! Which one applies is decided when stdin is first readable ([`Strategy::Probe`]). What both
//! share, the phase of the input and the splitting into lines, is [`Lines`].

use super::outputs::Outputs;
use super::{mono_ms, unable, Env};
use merit_core::log::lines::{self, Next};
use merit_sys::{errno, fd};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

/// s6-log reads stdin through an 8192-byte circular buffer, 8191 bytes usable, which it empties
/// after each read (the partial last line moves to a separate line buffer): every read asks for
/// 8191 new bytes, and a round processes the held partial line plus those bytes. That decides
/// how many bytes each logdir write carries and hence the archive sizes when lines arrive in
/// bulk (strace: `readv(0, [{.., 1}, {.., 8190}]) = 8191` after a partial line of 9 bytes).
/// merit uses the same window.
const INPUT_WINDOW: usize = 8191;

const RECHECK_MIN_MS: u64 = 1;
const RECHECK_MAX_MS: u64 = 50;

/// Where the input is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Reading lines.
    Reading,
    /// A signal asked to stop after completing the pending partial line.
    Stopping,
    /// No more reading (EOF, error, or stopped by a signal).
    Finished,
}

/// What both strategies do with the bytes they get: split them into lines for the outputs,
/// and follow the [`Phase`].
struct Lines {
    phase: Phase,
    linelimit: usize,
}

impl Lines {
    /// Processes the complete lines of `data` (only the first one when stopping). Returns the
    /// number of bytes used.
    fn take(&mut self, data: &[u8], out: &mut Outputs, env: &Env) -> usize {
        if self.phase == Phase::Stopping {
            match lines::next_line(data, self.linelimit) {
                Next::Line { len, consumed, terminated } => {
                    if !terminated {
                        env.warn(&[b"input line too long, ", b"stopping before the end"]);
                    }
                    out.process_line(data.get(..len).unwrap_or(data), env);
                    self.phase = Phase::Finished;
                    consumed
                }
                Next::NeedMore => 0,
            }
        } else {
            let mut used = 0;
            while let Some(rest) = data.get(used..) {
                let Next::Line { len, consumed, .. } = lines::next_line(rest, self.linelimit) else { break };
                out.process_line(rest.get(..len).unwrap_or(rest), env);
                used += consumed;
            }
            used
        }
    }

    /// End of input: the partial line is dropped, except when completing it after a signal.
    fn at_eof(&mut self, partial: &[u8], out: &mut Outputs, env: &Env) {
        if self.phase == Phase::Stopping && !partial.is_empty() {
            out.process_line(partial, env);
        }
        self.phase = Phase::Finished;
    }

    fn finished(&self) -> bool {
        self.phase == Phase::Finished
    }
}

/// How stdin is read.
enum Strategy {
    /// Undecided until the first `tee`.
    Probe,
    /// Peek with tee(2): see the module documentation.
    Pipe(PipeInput),
    /// Plain reads.
    Read(ReadInput),
}

/// stdin, read line by line with the strategy that suits it.
pub(super) struct Input {
    lines: Lines,
    /// `-b`: read only when every output is idle.
    blocking: bool,
    strategy: Strategy,
}

impl Input {
    pub(super) fn new(linelimit: usize, blocking: bool) -> Input {
        Input { lines: Lines { phase: Phase::Reading, linelimit }, blocking, strategy: Strategy::Probe }
    }

    /// No more reading (EOF, error, or stopped by a signal).
    pub(super) fn finished(&self) -> bool {
        self.lines.finished()
    }

    /// Every processed byte has been consumed from stdin (pipe mode; always true otherwise).
    pub(super) fn all_consumed(&self) -> bool {
        match &self.strategy {
            Strategy::Pipe(p) => p.pending_consume == 0,
            _ => true,
        }
    }

    /// When the pending re-check of a partial line is due (monotonic ms), while reading.
    pub(super) fn recheck_at(&self) -> Option<u64> {
        match &self.strategy {
            Strategy::Pipe(PipeInput { recheck: Some(r), .. }) if !self.finished() => Some(r.at),
            _ => None,
        }
    }

    pub(super) fn want_read(&self, out: &Outputs) -> bool {
        if self.finished() {
            return false;
        }
        let outputs_allow = !self.blocking || out.idle();
        match &self.strategy {
            Strategy::Pipe(p) => p.pending_consume == 0 && p.recheck.is_none() && outputs_allow,
            _ => outputs_allow,
        }
    }

    /// Whether buffers hold memory that [`Input::release_memory`] could free.
    pub(super) fn holds_memory(&self) -> bool {
        match &self.strategy {
            Strategy::Pipe(p) => p.scratch.capacity() > 0 || (p.held.is_empty() && p.held.capacity() > 0),
            Strategy::Read(r) => r.buf.is_empty() && r.buf.capacity() > 0,
            Strategy::Probe => false,
        }
    }

    /// Frees what holds no data: in pipe mode the scratch buffer is only space for each copy;
    /// in read mode the buffer holds the partial line, kept.
    pub(super) fn release_memory(&mut self) {
        match &mut self.strategy {
            Strategy::Pipe(p) => {
                p.scratch = Vec::new();
                if p.held.is_empty() {
                    p.held = Vec::new();
                }
            }
            Strategy::Read(r) if r.buf.is_empty() => r.buf = Vec::new(),
            _ => {}
        }
    }

    /// A signal asks to stop reading.
    pub(super) fn stop(&mut self) {
        if self.finished() {
            return;
        }
        let partial_pending = match &self.strategy {
            Strategy::Pipe(p) => p.partial > 0 || !p.held.is_empty(),
            Strategy::Read(r) => !r.buf.is_empty(),
            Strategy::Probe => false,
        };
        if partial_pending {
            self.lines.phase = Phase::Stopping;
        } else {
            self.lines.phase = Phase::Finished;
            if let Strategy::Pipe(p) = &mut self.strategy {
                p.recheck = None;
            }
        }
    }

    /// stdin is readable.
    pub(super) fn on_readable(&mut self, out: &mut Outputs, env: &Env) {
        if let Strategy::Probe = self.strategy {
            self.strategy = match PrivatePipe::open() {
                Some(copy) => Strategy::Pipe(PipeInput::new(copy)),
                None => Strategy::Read(ReadInput { buf: Vec::new() }),
            };
        }
        match &mut self.strategy {
            Strategy::Pipe(p) => {
                if let Err(NotAPipe) = p.on_readable(&mut self.lines, out, env) {
                    self.fall_back_to_read(out, env);
                }
            }
            Strategy::Read(r) => r.on_readable(&mut self.lines, out, env),
            Strategy::Probe => {}
        }
    }

    /// Pipe mode: the re-check timer may have fired: has the partial line grown, or has the
    /// writer gone?
    pub(super) fn on_recheck(&mut self, out: &mut Outputs, env: &Env) {
        if self.finished() {
            return;
        }
        if let Strategy::Pipe(p) = &mut self.strategy {
            if let Err(NotAPipe) = p.on_recheck(&mut self.lines, out, env) {
                self.fall_back_to_read(out, env);
            }
        }
    }

    /// `tee` said EINVAL: stdin is not a pipe. Fall back to plain reads. (Only at the first
    /// `tee`, before any byte was copied: the type of stdin does not change.)
    fn fall_back_to_read(&mut self, out: &mut Outputs, env: &Env) {
        let mut r = ReadInput { buf: Vec::new() };
        r.on_readable(&mut self.lines, out, env);
        self.strategy = Strategy::Read(r);
    }

    /// Pipe mode: once every record of the processed lines is out, consume them from stdin.
    pub(super) fn consume_if_flushed(&mut self, out: &Outputs) {
        if let Strategy::Pipe(p) = &mut self.strategy {
            p.consume_if_flushed(out);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plain reads

/// Reading stdin with `read(2)`, as s6 does.
struct ReadInput {
    /// Bytes read and not yet processed (a partial line), kept across rounds.
    buf: Vec<u8>,
}

impl ReadInput {
    fn on_readable(&mut self, lines: &mut Lines, out: &mut Outputs, env: &Env) {
        // After a signal, read one byte at a time so as not to swallow what follows the line.
        let want = if lines.phase == Phase::Stopping { 1 } else { INPUT_WINDOW };
        // Read after the held partial line, into the same buffer (kept across rounds).
        let old = self.buf.len();
        self.buf.resize(old + want, 0);
        let r = fd::read(0, self.buf.get_mut(old..).unwrap_or_default());
        self.buf.truncate(old + *r.as_ref().unwrap_or(&0));
        match r {
            Ok(0) => {
                let partial = std::mem::take(&mut self.buf);
                lines.at_eof(&partial, out, env);
            }
            Ok(_) => {
                let mut data = std::mem::take(&mut self.buf);
                let used = lines.take(&data, out, env);
                data.drain(..used.min(data.len()));
                self.buf = data;
                if lines.finished() {
                    self.buf.clear();
                }
            }
            Err(e) if errno::is(&e, errno::EAGAIN) => {}
            Err(e) => {
                if !errno::is(&e, errno::EPIPE) {
                    env.warn(&[&unable(&[b"read from stdin"], &e)]);
                }
                lines.phase = Phase::Finished;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Peeking at a pipe

/// `tee` failed with EINVAL: stdin is not a pipe after all.
struct NotAPipe;

/// The private pipe `tee(2)` copies stdin into, as large as stdin's pipe.
struct PrivatePipe {
    read: OwnedFd,
    write: OwnedFd,
    cap: usize,
}

impl PrivatePipe {
    /// `None` if stdin is not a pipe.
    fn open() -> Option<PrivatePipe> {
        let want = fd::pipe_size(0).ok()?.max(65536);
        let (read, write) = fd::pipe(true).ok()?;
        let _ = fd::set_pipe_size(write.as_raw_fd(), want);
        let cap = fd::pipe_size(write.as_raw_fd()).ok()?;
        Some(PrivatePipe { read, write, cap })
    }
}

/// Waiting for a partial line to grow (its bytes stay in the pipe).
#[derive(Clone, Copy, Debug)]
struct Recheck {
    /// Next check (monotonic ms).
    at: u64,
    /// Current back-off (ms), doubled at each check without progress.
    backoff: u64,
    /// Bytes of the partial line seen so far.
    seen: usize,
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

/// Reading stdin, a pipe, by peeking with `tee(2)` and consuming only what has been written out.
struct PipeInput {
    copy: PrivatePipe,
    /// Scratch buffer for the copy (kept across rounds).
    scratch: Vec<u8>,
    /// Where consumed input goes.
    sink: Sink,
    /// A partial line read (consumed) into memory because it was too large.
    held: Vec<u8>,
    /// Bytes processed but not yet consumed from stdin.
    pending_consume: usize,
    /// Length of the partial line known to follow the processed data (0 = none).
    partial: usize,
    recheck: Option<Recheck>,
    /// The last window held no line at all: peek at everything next time.
    big: bool,
}

impl PipeInput {
    fn new(copy: PrivatePipe) -> PipeInput {
        PipeInput {
            copy,
            scratch: Vec::new(),
            sink: Sink::Unopened,
            held: Vec::new(),
            pending_consume: 0,
            partial: 0,
            recheck: None,
            big: false,
        }
    }

    /// End of input: what is held in memory is the partial line.
    fn at_eof(&mut self, lines: &mut Lines, out: &mut Outputs, env: &Env) {
        let held = std::mem::take(&mut self.held);
        lines.at_eof(&held, out, env);
        self.recheck = None;
    }

    /// stdin is readable (or a re-check found more bytes).
    fn on_readable(&mut self, lines: &mut Lines, out: &mut Outputs, env: &Env) -> Result<(), NotAPipe> {
        let (pw, cap) = (self.copy.write.as_raw_fd(), self.copy.cap);
        loop {
            // The partial line seen last time is still in the pipe (unless held in memory):
            // peek at it plus a full window of new bytes, as s6 reads.
            let in_pipe = self.partial.saturating_sub(self.held.len());
            let len = if self.big { cap } else { (in_pipe + INPUT_WINDOW).min(cap) };
            match fd::tee(0, pw, len) {
                Err(e) if errno::is(&e, errno::EINVAL) => return Err(NotAPipe),
                Err(e) if errno::is(&e, errno::EAGAIN) => {}
                Err(e) => {
                    if !errno::is(&e, errno::EPIPE) {
                        env.warn(&[&unable(&[b"read from stdin"], &e)]);
                    }
                    self.at_eof(lines, out, env);
                }
                Ok(0) => self.at_eof(lines, out, env),
                Ok(n) => {
                    if self.after_tee(n, len, lines, out, env) {
                        // The window was full of one partial line: look further at once.
                        continue;
                    }
                }
            }
            return Ok(());
        }
    }

    /// Processes a copy of `n` bytes obtained with a window of `len`. Returns true when the
    /// window was full without a line and should be widened immediately.
    fn after_tee(&mut self, n: usize, len: usize, lines: &mut Lines, out: &mut Outputs, env: &Env) -> bool {
        let cap = self.copy.cap;
        // Read the whole copy (the private pipe is empty before each tee), after the held part,
        // into the scratch buffer (kept across rounds).
        let mut data = std::mem::take(&mut self.scratch);
        data.clear();
        data.extend_from_slice(&self.held);
        self.held.clear();
        let held_len = data.len();
        data.resize(held_len + n, 0);
        let got = read_full(self.copy.read.as_raw_fd(), data.get_mut(held_len..).unwrap_or_default());
        data.truncate(held_len + got);
        let used = lines.take(&data, out, env);
        if used > 0 {
            self.pending_consume = used.saturating_sub(held_len);
            self.partial = data.len().saturating_sub(used);
            self.recheck = None;
            if lines.finished() {
                self.partial = 0;
            }
            self.big = false;
            self.scratch = data;
            return false;
        }
        if got == len && !self.big && len < cap {
            self.big = true;
            self.held = data.get(..held_len).unwrap_or_default().to_vec();
            self.scratch = data;
            return true;
        }
        self.partial_line_only(data, held_len, got);
        false
    }

    /// The copy holds no complete line: `data` (`held_len` bytes held in memory, then `seen`
    /// bytes still in the pipe) is one partial line; nothing to consume yet. Leave it in the
    /// pipe and re-check it later, or read it into memory when it is too big or stopped growing.
    fn partial_line_only(&mut self, data: Vec<u8>, held_len: usize, seen: usize) {
        let cap = self.copy.cap;
        self.partial = data.len();
        let progress = match self.recheck {
            Some(r) => seen > r.seen,
            None => true,
        };
        if seen >= cap / 2 || !progress {
            // Too big to leave in the pipe (the writer could block on a full pipe and never
            // finish the line): keep it in memory from now on.
            read_full(0, &mut vec![0u8; seen]);
            self.held = data;
            self.recheck = None;
        } else {
            self.held = data.get(..held_len).unwrap_or_default().to_vec();
            self.scratch = data;
            let backoff = match self.recheck {
                Some(r) => (r.backoff * 2).min(RECHECK_MAX_MS),
                None => RECHECK_MIN_MS,
            };
            self.recheck = Some(Recheck { at: mono_ms() + backoff, backoff, seen });
        }
    }

    /// The re-check timer may have fired: has the partial line grown, or has the writer gone?
    fn on_recheck(&mut self, lines: &mut Lines, out: &mut Outputs, env: &Env) -> Result<(), NotAPipe> {
        let Some(Recheck { at, backoff, seen }) = self.recheck else { return Ok(()) };
        if mono_ms() < at {
            return Ok(());
        }
        let avail = fd::fionread(0).unwrap_or(0);
        if avail > seen {
            return self.on_readable(lines, out, env);
        }
        let mut p = [fd::PollFd::new(0)];
        let hup = fd::poll(&mut p, Some(0)).is_ok() && p.iter().any(|s| s.hup);
        if hup && fd::fionread(0).unwrap_or(0) <= seen {
            // The writer is gone and the line will never complete.
            let mut partial = std::mem::take(&mut self.held);
            if lines.phase == Phase::Stopping {
                // Completing a line after a signal: take the unterminated rest as the line.
                if let Ok(n) = fd::tee(0, self.copy.write.as_raw_fd(), self.copy.cap) {
                    let mut b = vec![0u8; n];
                    let got = read_full(self.copy.read.as_raw_fd(), &mut b);
                    b.truncate(got);
                    partial.extend_from_slice(&b);
                    self.pending_consume = got;
                }
            }
            lines.at_eof(&partial, out, env);
            self.recheck = None;
            return Ok(());
        }
        let b = (backoff * 2).min(RECHECK_MAX_MS);
        self.recheck = Some(Recheck { at: mono_ms() + b, backoff: b, seen });
        Ok(())
    }

    /// Once every record of the processed lines is out, consume them from stdin.
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
                Ok(r) => self.pending_consume = self.pending_consume.saturating_sub(r),
            }
        }
    }
}

/// Reads from `fd` until `buf` is full, end of file or an error; returns the bytes read.
fn read_full(fd: RawFd, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while let Some(room) = buf.get_mut(got..).filter(|r| !r.is_empty()) {
        match fd::read(fd, room) {
            Ok(0) | Err(_) => break,
            Ok(k) => got += k,
        }
    }
    got
}

/// Reads up to `n` bytes of stdin and drops them (when they cannot be spliced away).
#[cold]
#[inline(never)]
fn read_and_drop(n: usize) -> std::io::Result<usize> {
    let mut drop = vec![0u8; n.min(4096)];
    fd::read(0, &mut drop)
}
