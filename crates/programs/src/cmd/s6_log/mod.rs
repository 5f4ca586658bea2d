//! `s6-log [ -d notif ] [ -q | -v ] [ -b ] [ -p ] [ -l linelimit ] [ -- ] logging_script...`
//!
//! A reimplementation of s6-log 2.11.3.2 (spec/s6-log.md): the script language (selections
//! `+RE -RE f`, controls `n s S l r E ^ p ! ? t T`, actions logdir / `1` / `2` / `=FILE`),
//! logdirs with s6's exact layout (`current`, `lock`, `state`, `@<tai64n>.s|.u` archives,
//! `previous`/`processed`/`newstate` during a rotation), rotation and pruning, processors,
//! recovery after an unclean stop, and the signals SIGTERM (unless `-p`), SIGHUP, SIGALRM.
//! The pure logic (script parsing, framing, records, rotation and pruning decisions, ERE
//! translation) is in `merit_core::log`; this module does the I/O:
//!
//! * `mod.rs`: start-up, the main loop (poll, signals, timers), diagnostics, clocks;
//! * [`input`]: reading stdin, by peeking at a pipe or by plain reads;
//! * [`outputs`]: where each line goes (stdout, logdirs, alerts, status files);
//! * [`logdir`]: a logdir's life: start-up and recovery, writes, rotation, processor;
//! * [`re`]: the selections' regexes.
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
//! * **A rotation never splits a line.** A write cut short inside a line (a full disk stops
//!   it at a page boundary) can bring `current` to `s` bytes in the middle of a line; s6 then
//!   rotates at once, and the archive ends with the start of the line while the next `current`
//!   begins with its end. merit truncates `current` to its last complete line first and writes
//!   the whole line to the next `current` (`Logdir::take_back_cut_line`). A cut line that is
//!   all `current` holds (too long for one file) is split as s6 does.
//! * **`^N` is bounded.** s6 pads a status file in an array on its stack, so a size much
//!   over 8 MiB kills it (SIGSEGV) at the first selected line; merit refuses `^N` over
//!   [`MAX_STATUS_SIZE`](merit_core::log::script::MAX_STATUS_SIZE) at start (exit 100).
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

mod input;
mod logdir;
mod outputs;
mod re;

use input::Input;
use logdir::Logdir;
use merit_core::log::logdir::{self as ld, RotState};
use merit_core::log::script::{self, Options};
use merit_core::tai::Tain;
use merit_sys::{clock, fd, signal};
use outputs::Outputs;
use std::io::Error;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;

const PROG: &str = "s6-log";

/// After the end of input (EOF, SIGTERM, SIGHUP), how long a failing processor is still
/// retried (every `r` ms) before s6-log gives up processing that rotation
/// ([`Logdir::abandon_processing`]) and exits. A processor that is running is waited for.
const STOP_GRACE_MS: u64 = 2000;

/// After this long with nothing to do, s6-log frees its empty buffers: a burst of lines grows
/// them (the input copy, each logdir's pending output), and most loggers then sit idle for
/// long stretches. Under a steady flow poll never waits this long, so nothing is freed.
const IDLE_RELEASE_MS: u64 = 200;

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
// Start-up

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

/// `-d notif`: 3 or more, and open.
fn check_notification_fd(notif: Option<u32>) {
    if let Some(n) = notif {
        if n < 3 {
            die(100, &[b"notification fd must be 3 or more"]);
        }
        if n > i32::MAX as u32 || !fd::is_open(n as RawFd) {
            die(100, &[b"invalid notification fd: ", &errtext(&merit_sys::errno::error(merit_sys::errno::EBADF))]);
        }
    }
}

/// Parses the logging script and starts its logdirs (all of them before a script error is
/// reported, as s6 does); dies on failure.
fn start_script(script_args: &[Vec<u8>], env: &Env) -> (script::Script<re::Re>, Vec<Logdir>) {
    let start = env.clock.now();
    let (script, specs, err) = match script::parse(script_args, re::compile) {
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
        match Logdir::open(spec, start, env.mode_in_use, env.verbosity) {
            Ok(l) => logdirs.push(l),
            Err(m) => die(111, &[&m]),
        }
    }
    if let Some(e) = err {
        die(100, &[&e.message()]);
    }
    let Some(script) = script else { die(101, &[b"internal consistency error"]) };
    (script, logdirs)
}

pub fn main() {
    let args: Vec<Vec<u8>> = merit_sys::startup::args_os().skip(1).map(|a| a.as_bytes().to_vec()).collect();
    let Some((opts, first)) = script::parse_options(&args) else {
        put("usage", &[script::USAGE]);
        std::process::exit(100)
    };
    check_notification_fd(opts.notif);
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
    let (script, logdirs) = start_script(args.get(first..).unwrap_or_default(), &env);
    if let Some(n) = opts.notif {
        let _ = fd::write(n as RawFd, b"\n");
        fd::close(n as RawFd);
    }
    let mut out = Outputs::new(script, logdirs);
    let mut input = Input::new(opts.linelimit, opts.blocking);
    run(sigfd.as_raw_fd(), &opts, &env, &mut out, &mut input);
    for l in &out.logdirs {
        l.finalize(&env);
    }
    std::process::exit(0)
}

// ---------------------------------------------------------------------------------------------
// The main loop

/// Runs until input has ended, every line read is written out and consumed, and no rotation is
/// in progress.
fn run(sigfd: RawFd, opts: &Options, env: &Env, out: &mut Outputs, input: &mut Input) {
    // When input ended (monotonic ms), for STOP_GRACE_MS.
    let mut ended_at: Option<u64> = None;
    loop {
        do_pending(env, out, input, &mut ended_at);
        if input.finished() && input.all_consumed() && out.idle() {
            return;
        }
        // Poll set: signals, stdin, stdout.
        let mut p = [
            fd::PollFd::watch(sigfd, true, false),
            fd::PollFd::watch(0, input.want_read(out), false),
            fd::PollFd::watch(1, false, out.stdout_pending()),
        ];
        let timeout = next_timer(out, input, ended_at);
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
        let [signals, stdin, stdout] = p;
        if signals.ready {
            on_signals(sigfd, opts, env, out, input);
        }
        if stdout.can_write {
            out.flush_stdout(env);
        }
        if stdin.ready && input.want_read(out) {
            input.on_readable(out, env);
        }
        input.on_recheck(out, env);
    }
}

/// The work that needs no waiting: give up a failing processor once input has ended for
/// [`STOP_GRACE_MS`], write buffered records, consume from stdin what is written out, run the
/// rotations that are due.
fn do_pending(env: &Env, out: &mut Outputs, input: &mut Input, ended_at: &mut Option<u64>) {
    if input.finished() {
        let end = *ended_at.get_or_insert_with(mono_ms);
        if mono_ms() >= end.saturating_add(STOP_GRACE_MS) {
            for l in out.logdirs.iter_mut().filter(|l| l.rstate == RotState::RunProcessor) {
                l.abandon_processing(env);
            }
        }
    }
    for l in out.logdirs.iter_mut() {
        l.flush(env);
    }
    input.consume_if_flushed(out);
    for l in out.logdirs.iter_mut() {
        if l.rstate == RotState::Sync && l.due(mono_ms()) {
            l.rotator(env);
        }
    }
}

/// How long poll may wait (ms) before a timer is due: a logdir's retry or pending work, the
/// input's re-check of a partial line, the end of [`STOP_GRACE_MS`]. `None`: no timer.
fn next_timer(out: &Outputs, input: &Input, ended_at: Option<u64>) -> Option<u64> {
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
    if let Some(t) = input.recheck_at() {
        at(t);
    }
    if let Some(end) = ended_at {
        if out.logdirs.iter().any(|l| l.rstate == RotState::RunProcessor) {
            at(end.saturating_add(STOP_GRACE_MS));
        }
    }
    timeout
}

/// Handles every pending signal.
fn on_signals(sigfd: RawFd, opts: &Options, env: &Env, out: &mut Outputs, input: &mut Input) {
    while let Ok(Some(sig)) = signal::read_signal(sigfd) {
        match sig {
            signal::SIGTERM if !opts.ignore_term => input.stop(),
            signal::SIGHUP => input.stop(),
            signal::SIGALRM => {
                for l in out.logdirs.iter_mut() {
                    if l.rstate == RotState::Writable && l.current_size() != 0 {
                        l.start_rotation(env);
                    }
                }
            }
            signal::SIGCHLD => {
                while let Ok(Some(r)) = merit_sys::process::reap_one() {
                    if let Some(l) = out.logdirs.iter_mut().find(|l| l.pid == r.pid && l.pid != 0) {
                        l.processor_done(r.status, env);
                    }
                }
            }
            _ => {}
        }
    }
}
