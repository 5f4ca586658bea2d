//! Fuzzing of every parser of outside input in merit-core (issue "Trustworthy as PID 1",
//! hostile input): status files, death_tally, control bytes and the supervisor state machine,
//! service-directory files, s6-log scripts, options and regular expressions, s6-log input
//! framing and logdir names, TAI64N labels and the s6-tai64nlocal conversion, s6-svstat's and
//! `service`'s command lines and names, signal names, sd_notify datagrams, restart-delay and
//! restart-limit with the back-off policy, supervise/merit-state.
//!
//! No dependency: a splitmix64 generator seeded from `MERIT_FUZZ_SEED` (or the clock; the seed
//! is always printed) makes each input from (seed, parser, index) alone, so one input is
//! replayed without the others. 90 % of the inputs are valid seeds with 1–8 structure-aware
//! mutations (bit flips, interesting bytes, insertions, deletions, dictionary tokens, splicing
//! of two seeds, repetition of a chunk — up to the parser's size limit —, boundary numbers as
//! text and as big-endian binary, truncation); the rest are random bytes or dictionary words.
//! Parsers that take a command line get the argv as arguments separated by NUL bytes.
//!
//! Every input must return without panicking (each call runs under `catch_unwind`: test
//! binaries are built with `panic = unwind` whatever the profile says) and with its invariants
//! (checked by `assert!` in the target), within 1 s in a debug build / 100 ms in release, in
//! CPU time of the fuzzing thread (so that a busy machine does not fail the run; the figures
//! are CPU times too).
//! A watchdog aborts the run, printing the replay line, if one input takes 20 s (a hang). The
//! mean time per input is checked too (< 10 ms debug, < 1 ms release).
//!
//! Environment:
//!   MERIT_FUZZ_ITERS=N      inputs per parser (default 10000: the short CI run, ~6 s in debug;
//!                           the long run is MERIT_FUZZ_ITERS=1000000 in release:
//!                           `cargo test --release -p merit-core --test fuzz`)
//!   MERIT_FUZZ_SEED=S       the seed (decimal or 0x hex); printed at the start of every run
//!   MERIT_FUZZ_ONLY=NAME    only this parser (comma-separated list)
//!   MERIT_FUZZ_INDEX=I      with MERIT_FUZZ_ONLY and MERIT_FUZZ_SEED: replay input I only,
//!                           printing it in hex first
//!   MERIT_FUZZ_TRACE=1      write each input to CARGO_TARGET_TMPDIR/fuzz-last-input-NAME
//!                           before running it (for a crash that kills the process, such as a
//!                           stack overflow: the file holds the culprit)
//!   MERIT_SUITE_REPORT=FILE also append the report rows to FILE
//!
//! Each parser ends with one row on stdout (written past the test harness's capture):
//! `SUITE<TAB>fuzz/NAME<TAB>FIGURE<TAB>LIMIT<TAB>pass|fail`.
//!
//! Adding a parser is one line in [`PARSERS`] (plus its target function).

// The seeds spell NUL and octal-looking bytes on purpose (`\0` before digits, `\\377`).
#![allow(clippy::octal_escapes)]

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use merit_core::config::{parse_down_signal, parse_fd_file, parse_uint_file};
use merit_core::log::{ere, lines, logdir, script};
use merit_core::service::{check_name, parse_words, Command};
use merit_core::signals;
use merit_core::status::{tally_append, DeathRecord, StatusFile, DEATH_RECORD_SIZE, DEATH_TALLY_MAX, STATUS_SIZE};
use merit_core::supervisor::{
    Control, Effect, Input, Now, ServiceConfig, SpawnOutcome, State, Supervisor, SupervisorSignal,
};
use merit_core::svstat;
use merit_core::tai::{display_second, Tain, TAI64_BASE};

// ------------------------------------------------------------------------------------------
// The table

/// One parser under test: its name (the report row is `fuzz/NAME`), the function that feeds it
/// one input and checks what it returns, valid inputs to mutate, tokens to insert, and the
/// largest input to make.
struct Parser {
    name: &'static str,
    run: fn(&[u8]),
    seeds: &'static [&'static [u8]],
    dict: &'static [&'static [u8]],
    max_len: usize,
}

const fn p(
    name: &'static str,
    run: fn(&[u8]),
    seeds: &'static [&'static [u8]],
    dict: &'static [&'static [u8]],
    max_len: usize,
) -> Parser {
    Parser { name, run, seeds, dict, max_len }
}

/// Largest single argument the kernel passes (`MAX_ARG_STRLEN`): the bound of anything that
/// arrives on a command line.
const ARG_MAX: usize = 131072;

const PARSERS: &[Parser] = &[
    p("status", fuzz_status, STATUS_SEEDS, &[], 256),
    p("death_tally", fuzz_death_tally, TALLY_SEEDS, &[], 4096),
    p("control", fuzz_control, CONTROL_SEEDS, CONTROL_DICT, 4096),
    p("supervisor", fuzz_supervisor, SUPERVISOR_SEEDS, &[], 2048),
    p("config", fuzz_config, CONFIG_SEEDS, SIGNAL_DICT, 64),
    p("signals", fuzz_signals, CONFIG_SEEDS, SIGNAL_DICT, 64),
    p("tai64n-label", fuzz_tai_label, TAI_SEEDS, TAI_DICT, 128),
    p("tai64nlocal", fuzz_tai64nlocal, TAI_SEEDS, TAI_DICT, 4096),
    p("svstat-args", fuzz_svstat_args, SVSTAT_SEEDS, SVSTAT_DICT, 1024),
    p("svstat-render", fuzz_svstat_render, STATUS_SEEDS, SVSTAT_DICT, 512),
    p("service-args", fuzz_service_args, SERVICE_SEEDS, SERVICE_DICT, 1024),
    p("s6-log-options", fuzz_log_options, LOG_SEEDS, LOG_DICT, 1024),
    p("s6-log-script", fuzz_log_script, LOG_SEEDS, LOG_DICT, 4096),
    p("s6-log-ere", fuzz_ere, ERE_SEEDS, ERE_DICT, ARG_MAX),
    p("s6-log-lines", fuzz_log_lines, LINES_SEEDS, &[], 8192),
    p("s6-log-logdir", fuzz_logdir, LOGDIR_SEEDS, TAI_DICT, 1024),
    // Slots for the parsers that are moving into merit-core (branch `init`): once merged,
    // uncomment these lines and the targets in "Slots" at the end of this file.
    p("mountinfo", fuzz_mountinfo, MOUNTINFO_SEEDS, MOUNTINFO_DICT, 8192),
    p("passwd", fuzz_passwd, PASSWD_SEEDS, PASSWD_DICT, 8192),
    p("group", fuzz_group, GROUP_SEEDS, PASSWD_DICT, 8192),
    p("sd-notify", fuzz_notify, NOTIFY_SEEDS, NOTIFY_DICT, 8192),
    p("restart-policy", fuzz_restart_policy, RESTART_SEEDS, &[], 128),
    p("merit-state", fuzz_merit_state, MERIT_STATE_SEEDS, MERIT_STATE_DICT, 10000),
];

// ------------------------------------------------------------------------------------------
// The generator

// splitmix64, run settings, report rows: shared with merit-programs' tests.
#[path = "support/shared.rs"]
mod shared;
use shared::{env_u64, fuzz_seed, report_row, Rng};

impl Rng {
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    /// A length biased towards small values: mostly < 16, sometimes up to `max`.
    fn len(&mut self, max: usize) -> usize {
        let cap = match self.below(8) {
            0..=4 => 16,
            5 | 6 => 256,
            _ => max,
        };
        self.below(cap.min(max) + 1)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// Bytes parsers tend to care about.
const INTERESTING: &[u8] = b"\0\n\r\t -+,./:;=@[]()^$*?{}|\\!0123456789aAfFzZ\x7f\x80\xff";

/// Numbers at the edges of every integer type, and some that are not numbers.
const BOUNDARY_TEXT: &[&[u8]] = &[
    b"0",
    b"1",
    b"-1",
    b"00",
    b"007",
    b"9",
    b"10",
    b"11",
    b"31",
    b"32",
    b"64",
    b"65",
    b"99",
    b"100",
    b"111",
    b"125",
    b"127",
    b"128",
    b"255",
    b"256",
    b"4095",
    b"4096",
    b"4097",
    b"32767",
    b"32768",
    b"65535",
    b"65536",
    b"99999",
    b"268435455",
    b"268435456",
    b"2147483647",
    b"2147483648",
    b"4294967295",
    b"4294967296",
    b"9223372036854775807",
    b"9223372036854775808",
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999999",
    b"+1",
    b"1e3",
    b"0x10",
    b" 1",
    b"1 ",
];

const BOUNDARY_BIN: &[u64] = &[
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    999_999_999,
    1_000_000_000,
    TAI64_BASE - 1,
    TAI64_BASE,
    TAI64_BASE + 10,
    TAI64_BASE + 0x6b08_2607,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
];

fn mutate(r: &mut Rng, d: &mut Vec<u8>, target: &Parser) {
    let max = target.max_len;
    let pos = |r: &mut Rng, d: &Vec<u8>| r.below(d.len() + 1);
    match r.below(13) {
        0 if !d.is_empty() => {
            let i = r.below(d.len());
            d[i] ^= 1 << r.below(8);
        }
        1 if !d.is_empty() => {
            let i = r.below(d.len());
            d[i] = if r.one_in(2) { *r.pick(INTERESTING) } else { r.next() as u8 };
        }
        2 => {
            let at = pos(r, d);
            let n = r.len(16);
            let ins: Vec<u8> =
                (0..n).map(|_| if r.one_in(2) { *r.pick(INTERESTING) } else { r.next() as u8 }).collect();
            d.splice(at..at, ins);
        }
        3 if !d.is_empty() => {
            let a = r.below(d.len());
            let n = r.len(d.len() - a);
            d.drain(a..a + n);
        }
        4 if !target.dict.is_empty() => {
            let at = pos(r, d);
            let tok = *r.pick(target.dict);
            d.splice(at..at, tok.iter().copied());
        }
        5 if !target.seeds.is_empty() => {
            // Splice: a prefix of this input, then a suffix of another seed.
            let other = *r.pick(target.seeds);
            let cut = pos(r, d);
            let from = r.below(other.len() + 1);
            d.truncate(cut);
            d.extend_from_slice(&other[from..]);
        }
        6 if !d.is_empty() => {
            // Repeat a chunk: a few times, or up to the size limit (deep nesting, long lines).
            let a = r.below(d.len());
            let n = 1 + r.len((d.len() - a).min(16) - 1);
            let chunk = d[a..a + n].to_vec();
            let times = if r.one_in(8) { (max / n).max(1) } else { 1 + r.len(64) };
            let at = a + n;
            let mut rep = Vec::with_capacity(chunk.len() * times);
            for _ in 0..times {
                rep.extend_from_slice(&chunk);
            }
            d.splice(at..at, rep);
        }
        7 => {
            let at = pos(r, d);
            let num = *r.pick(BOUNDARY_TEXT);
            if r.one_in(2) && !d.is_empty() {
                // Replace a run of digits (or one byte) by the number.
                let mut end = at;
                while end < d.len() && d[end].is_ascii_digit() {
                    end += 1;
                }
                let end = end.max((at + 1).min(d.len()));
                d.splice(at..end, num.iter().copied());
            } else {
                d.splice(at..at, num.iter().copied());
            }
        }
        8 if !d.is_empty() => {
            // A big-endian binary boundary value over the bytes (status files, tallies).
            let v = *r.pick(BOUNDARY_BIN);
            let width = *r.pick(&[1usize, 2, 4, 8, 12]);
            let at = r.below(d.len());
            let bytes = if width == 12 {
                let mut b = v.to_be_bytes().to_vec();
                b.extend_from_slice(&(*r.pick(BOUNDARY_BIN) as u32).to_be_bytes());
                b
            } else {
                v.to_be_bytes()[8 - width..].to_vec()
            };
            for (k, b) in bytes.into_iter().enumerate() {
                if at + k < d.len() {
                    d[at + k] = b;
                }
            }
        }
        9 => {
            let n = r.below(d.len() + 1);
            d.truncate(n);
        }
        10 if !d.is_empty() && d.len() * 2 <= max => {
            let copy = d.clone();
            d.extend_from_slice(&copy);
        }
        11 if d.len() >= 2 => {
            let a = r.below(d.len());
            let b = r.below(d.len());
            d.swap(a, b);
        }
        _ => {
            // Random bytes at the end.
            let n = r.len(8);
            for _ in 0..n {
                d.push(r.next() as u8);
            }
        }
    }
    d.truncate(max);
}

/// Input `index` of `target`.
fn generate(seed: u64, target: &Parser, index: u64) -> Vec<u8> {
    let r = &mut Rng::for_case(seed, target.name, index);
    let mode = r.below(20);
    if mode == 0 || target.seeds.is_empty() {
        let n = r.len(target.max_len.min(4096));
        return (0..n).map(|_| r.next() as u8).collect();
    }
    if mode == 1 && !target.dict.is_empty() {
        let n = 1 + r.below(12);
        let mut d = Vec::new();
        for _ in 0..n {
            let tok: &[u8] = r.pick::<&[u8]>(target.dict);
            d.extend_from_slice(tok);
            if r.one_in(3) {
                d.push(*r.pick(b"\0\n ,"));
            }
        }
        d.truncate(target.max_len);
        return d;
    }
    let mut d = r.pick(target.seeds).to_vec();
    let n = if mode == 2 { 0 } else { 1 + r.below(8) };
    for _ in 0..n {
        mutate(r, &mut d, target);
    }
    d
}

// ------------------------------------------------------------------------------------------
// The runner

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A short, printable view of an input for the failure message.
fn show(b: &[u8]) -> String {
    let cut = &b[..b.len().min(512)];
    format!("{} bytes: hex {}{}", b.len(), hex(cut), if b.len() > 512 { "…" } else { "" })
}

fn say(s: &str) {
    let _ = std::io::stdout().lock().write_all(format!("{s}\n").as_bytes());
}

const RELEASE: bool = !cfg!(debug_assertions);
/// A single input slower than this fails the run.
const SLOW: Duration = if RELEASE { Duration::from_millis(100) } else { Duration::from_secs(1) };
/// Mean time per input over the whole run of one parser.
const MEAN: Duration = if RELEASE { Duration::from_millis(1) } else { Duration::from_millis(10) };
/// An input still running after this is a hang: the watchdog aborts the process.
const HANG: Duration = Duration::from_secs(20);

/// CPU time of the calling thread (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`; libc is linked by
/// std already, so this needs no dependency).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: a valid pointer to a timespec-sized struct (x86_64/aarch64 Linux: two 64-bit fields).
    let r = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (r == 0).then(|| Duration::new(ts.sec as u64, ts.nsec as u32))
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu() -> Option<Duration> {
    None
}

struct Outcome {
    inputs: u64,
    panics: u64,
    slow: u64,
    max: Duration,
    total: Duration,
    first_failure: Option<String>,
}

/// What one worker is running now, for the watchdog: parser index + 1 (0: idle), input index,
/// start time in µs since `base`.
struct Slot {
    parser: AtomicUsize,
    index: AtomicU64,
    start_us: AtomicU64,
}

fn run_parser(
    seed: u64,
    t: &Parser,
    iters: u64,
    only_index: Option<u64>,
    slot: &Slot,
    pi: usize,
    base: Instant,
) -> Outcome {
    let trace = std::env::var("MERIT_FUZZ_TRACE").is_ok_and(|v| !v.is_empty() && v != "0");
    let trace_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-last-input-{}", t.name));
    let mut o =
        Outcome { inputs: 0, panics: 0, slow: 0, max: Duration::ZERO, total: Duration::ZERO, first_failure: None };
    let range = match only_index {
        Some(i) => i..i + 1,
        None => 0..iters,
    };
    let started = Instant::now();
    for index in range {
        let input = generate(seed, t, index);
        if only_index.is_some() {
            say(&format!("fuzz {}: input {index}: {}", t.name, show(&input)));
        }
        if trace {
            let _ = std::fs::write(&trace_path, &input);
        }
        slot.index.store(index, Ordering::Relaxed);
        slot.start_us.store(base.elapsed().as_micros() as u64, Ordering::Relaxed);
        slot.parser.store(pi + 1, Ordering::Release);
        // Timed in CPU time of this thread when the system tells it: what the parser costs,
        // whatever else the machine is doing (a blocked or preempted thread does not count; the
        // watchdog, on the wall clock, catches a hang).
        let t0 = Instant::now();
        let c0 = thread_cpu();
        let res = catch_unwind(AssertUnwindSafe(|| (t.run)(&input)));
        let dt = match (c0, thread_cpu()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => t0.elapsed(),
        };
        slot.parser.store(0, Ordering::Release);
        o.inputs += 1;
        o.max = o.max.max(dt);
        let replay = format!(
            "replay: MERIT_FUZZ_SEED={seed:#x} MERIT_FUZZ_ONLY={} MERIT_FUZZ_INDEX={index} cargo test -p merit-core --test fuzz -- --nocapture",
            t.name
        );
        if res.is_err() {
            o.panics += 1;
            if o.first_failure.is_none() {
                o.first_failure = Some(format!("panic on input {index} ({})\n  {replay}", show(&input)));
            }
        } else if dt > SLOW {
            o.slow += 1;
            if o.first_failure.is_none() {
                o.first_failure = Some(format!("input {index} took {dt:?} ({})\n  {replay}", show(&input)));
            }
        }
    }
    o.total = started.elapsed();
    o
}

#[test]
fn fuzz_parsers() {
    let seed = fuzz_seed();
    let iters = env_u64("MERIT_FUZZ_ITERS").unwrap_or(10000);
    let only: Option<Vec<String>> =
        std::env::var("MERIT_FUZZ_ONLY").ok().map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let only_index = env_u64("MERIT_FUZZ_INDEX");
    if let Some(o) = &only {
        for n in o {
            assert!(PARSERS.iter().any(|p| p.name == n), "MERIT_FUZZ_ONLY: no parser named {n:?}");
        }
    }
    let chosen: Vec<usize> = (0..PARSERS.len())
        .filter(|&i| only.as_ref().map_or(true, |o| o.iter().any(|n| n == PARSERS[i].name)))
        .collect();
    say(&format!(
        "fuzz: seed {seed:#x}, {iters} inputs per parser, {} parsers ({} build); replay with MERIT_FUZZ_SEED={seed:#x}",
        chosen.len(),
        if RELEASE { "release" } else { "debug" }
    ));

    // The first few panics are printed (message and place, no backtrace); the runner prints
    // which input it was.
    let printed = AtomicUsize::new(0);
    std::panic::set_hook(Box::new(move |info| {
        if printed.fetch_add(1, Ordering::Relaxed) < 5 {
            let name = std::thread::current().name().unwrap_or("?").to_string();
            let _ = std::io::stderr().write_all(format!("thread '{name}' {info}\n").as_bytes());
        }
    }));
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let base = Instant::now();
    let slots: Arc<Vec<Slot>> = Arc::new(
        (0..workers)
            .map(|_| Slot { parser: AtomicUsize::new(0), index: AtomicU64::new(0), start_us: AtomicU64::new(0) })
            .collect(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let slots = slots.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(100));
                let now_us = base.elapsed().as_micros() as u64;
                for s in slots.iter() {
                    let pi = s.parser.load(Ordering::Acquire);
                    if pi == 0 {
                        continue;
                    }
                    let start = s.start_us.load(Ordering::Relaxed);
                    if now_us.saturating_sub(start) > HANG.as_micros() as u64 && s.parser.load(Ordering::Acquire) == pi
                    {
                        let t = &PARSERS[pi - 1];
                        let index = s.index.load(Ordering::Relaxed);
                        let input = generate(seed, t, index);
                        let msg = format!(
                            "fuzz {}: HANG: input {index} still running after {HANG:?} ({})\n  replay: MERIT_FUZZ_SEED={seed:#x} MERIT_FUZZ_ONLY={} MERIT_FUZZ_INDEX={index} cargo test -p merit-core --test fuzz -- --nocapture\n",
                            t.name,
                            show(&input),
                            t.name
                        );
                        let _ = std::io::stderr().write_all(msg.as_bytes());
                        report_row(t.name, &format!("hang on input {index}"), "no hang", false);
                        std::process::abort();
                    }
                }
            }
        })
    };

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for w in 0..workers {
            let slots = &slots;
            let next = &next;
            let results = &results;
            let chosen = &chosen;
            std::thread::Builder::new()
                .name(format!("fuzz-worker-{w}"))
                .spawn_scoped(sc, move || loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&pi) = chosen.get(k) else { break };
                    let t = &PARSERS[pi];
                    // A thread per parser, named after it: a crash that kills the process (a
                    // stack overflow) names the parser; MERIT_FUZZ_TRACE then gives the input.
                    let slot = &slots[w];
                    let o = std::thread::Builder::new()
                        .name(format!("fuzz-{}", t.name))
                        // The main thread's size in a real program (ulimit -s 8192): deep
                        // recursion shows up as it would there.
                        .stack_size(8 << 20)
                        .spawn_scoped(sc, move || run_parser(seed, t, iters, only_index, slot, pi, base))
                        .expect("spawn fuzz thread")
                        .join()
                        .expect("fuzz thread");
                    let mean = o.total / (o.inputs.max(1) as u32).max(1);
                    let pass = o.panics == 0 && o.slow == 0 && (only_index.is_some() || mean <= MEAN);
                    let figure = format!(
                        "{} inputs, {} panics, {} slow, max {:.2} ms CPU, mean {:.3} ms, total {:.1} s",
                        o.inputs,
                        o.panics,
                        o.slow,
                        o.max.as_secs_f64() * 1e3,
                        mean.as_secs_f64() * 1e3,
                        o.total.as_secs_f64()
                    );
                    let limit = format!("no panic, <{} ms each, mean <{} ms", SLOW.as_millis(), MEAN.as_millis());
                    report_row(t.name, &figure, &limit, pass);
                    results.lock().unwrap().push((pi, o));
                })
                .expect("spawn fuzz worker");
        }
    });
    done.store(true, Ordering::Release);
    let _ = watchdog.join();

    drop(std::panic::take_hook());
    let results = results.into_inner().unwrap();
    let mut failures = Vec::new();
    for (pi, o) in &results {
        if let Some(f) = &o.first_failure {
            failures.push(format!("fuzz {}: {f}", PARSERS[*pi].name));
        } else if only_index.is_none() && o.total / (o.inputs.max(1) as u32).max(1) > MEAN {
            failures
                .push(format!("fuzz {}: mean time per input over {MEAN:?} (total {:?})", PARSERS[*pi].name, o.total));
        }
    }
    assert!(failures.is_empty(), "seed {seed:#x}:\n{}", failures.join("\n"));
}

// ------------------------------------------------------------------------------------------
// Helpers for targets

/// An argv from NUL-separated arguments (a trailing NUL does not add an empty argument).
fn argv(data: &[u8]) -> Vec<Vec<u8>> {
    if data.is_empty() {
        return Vec::new();
    }
    let data = data.strip_suffix(b"\0").unwrap_or(data);
    data.split(|&b| b == 0).map(|a| a.to_vec()).collect()
}

/// Reads fixed-size values from the front of an input, zero past its end.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        ((self.u32() as u64) << 32) | self.u32() as u64
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// ------------------------------------------------------------------------------------------
// supervise/status, supervise/death_tally

const STATUS_SEEDS: &[&[u8]] = &[
    // fixture status/12-finishing
    &[
        0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x07, 0x36, 0x79, 0x64, 0xe5, 0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x07, 0x36,
        0x31, 0x6d, 0xbc, 0, 0, 0, 0, 0, 0, 0x61, 0x39, 0x00, 0x0f, 0x06,
    ],
    // up, ready, pid 4242
    &[
        0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x07, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x08, 0, 0, 0, 1, 0, 0, 0,
        0, 0, 0, 0x10, 0x92, 0, 0, 0x0c,
    ],
    // down, exit 1, paused flag left over
    &[
        0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x07, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x08, 0, 0, 0, 1, 0, 0, 0,
        0, 0, 0, 0, 0, 1, 0, 0x09,
    ],
    &[0; 35],
    &[0xff; 35],
];

fn fuzz_status(data: &[u8]) {
    match StatusFile::decode(data) {
        None => assert!(data.len() < STATUS_SIZE),
        Some(st) => {
            // Decoding ignores the unused flag bits only.
            let enc = st.encode();
            assert_eq!(&enc[..34], &data[..34]);
            assert_eq!(enc[34], data[34] & 0x0f);
            assert_eq!(StatusFile::decode(&enc), Some(st));
            assert_eq!(st.is_up(), st.pid_t() != 0 && !st.finishing);
            let w = st.wait();
            let _ = (w.exited(), w.signaled(), w.termsig(), w.exitstatus());
            let _ = DeathRecord::from_wstat(st.stamp, st.wstat);
        }
    }
}

const TALLY_SEEDS: &[&[u8]] = &[
    b"",
    // two records: exit 0, SIGTERM
    &[
        0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x07, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x08, 0, 0, 0, 1,
        143, 15,
    ],
    &[0xff; 14],
    &[0; 42],
];

fn fuzz_death_tally(data: &[u8]) {
    // Header: max (4 bytes), wstat (2), when (12); the rest is the old tally.
    let mut b = Bytes(data);
    let max = b.u32();
    let wstat = b.u16();
    let when = Tain::new(b.u64(), b.u32());
    let old = b.0;
    let rec = DeathRecord::from_wstat(when, wstat);
    let out = tally_append(old, &rec, max);
    let max = max.min(DEATH_TALLY_MAX) as usize;
    assert_eq!(out.len() % DEATH_RECORD_SIZE, 0);
    let n_old = if old.len() % DEATH_RECORD_SIZE == 0 { old.len() / DEATH_RECORD_SIZE } else { 0 };
    let expect = if max == 0 { 0 } else { n_old.min(max - 1) + 1 };
    assert_eq!(out.len() / DEATH_RECORD_SIZE, expect);
    if max > 0 {
        assert_eq!(&out[out.len() - DEATH_RECORD_SIZE..], &rec.encode());
        let kept = out.len() - DEATH_RECORD_SIZE;
        assert_eq!(&out[..kept], &old[old.len() - kept..]);
    }
    let w = merit_core::status::WaitStatus(wstat);
    if w.signaled() {
        assert_eq!((rec.code as u32, rec.sig as u32), ((128 + w.termsig()) & 0xff, w.termsig()));
    } else {
        assert_eq!(rec.sig, 0);
    }
}

// ------------------------------------------------------------------------------------------
// supervise/control bytes and the state machine

const CONTROL_SEEDS: &[&[u8]] = &[
    b"u",
    b"d",
    b"x",
    b"du",
    b"ud",
    b"udx",
    b"tk",
    b"pcpc",
    b"oOQ",
    b"DU",
    b"r",
    b"12abhiqty",
    b"uuuudddd",
    b"ukkkkkkkx",
];
const CONTROL_DICT: &[&[u8]] = &[
    b"a", b"b", b"q", b"h", b"k", b"t", b"i", b"1", b"2", b"y", b"p", b"c", b"r", b"o", b"d", b"u", b"D", b"U", b"x",
    b"O", b"Q", b"\0", b"\n", b"z",
];

/// Configuration values read at the moments s6-supervise reads them, from the input.
struct FuzzCfg {
    vals: Vec<u32>,
    i: usize,
}

impl FuzzCfg {
    fn next(&mut self) -> u32 {
        if self.vals.is_empty() {
            return 0;
        }
        let v = self.vals[self.i % self.vals.len()];
        self.i += 1;
        v
    }
}

impl ServiceConfig for FuzzCfg {
    fn down_signal(&mut self) -> merit_core::signals::Signal {
        match self.next() % 4 {
            0 => 15,
            1 => 1,
            2 => (self.next() % 65) as i32,
            _ => self.next() as i32,
        }
    }
    fn timeout_kill(&mut self) -> u32 {
        let v = self.next();
        if v % 3 == 0 {
            0
        } else {
            v
        }
    }
    fn timeout_finish(&mut self) -> u32 {
        let v = self.next();
        match v % 4 {
            0 => 0,
            1 => 5000,
            _ => v,
        }
    }
}

/// A driver that keeps the protocol of `s6-supervise` (answers every spawn at once, reaps only
/// what runs, fires the timer only at its deadline) and checks the machine's invariants after
/// every step.
struct Model {
    sup: Supervisor,
    now: Now,
    run: Option<u64>,
    finish: Option<u64>,
    next_pid: u64,
    exited: bool,
    /// Driver-bug mode: any input at any time; only "no panic" is checked.
    chaos: bool,
}

impl Model {
    fn new(want_up: bool, mono: u64, wall: u64, chaos: bool) -> (Model, Vec<Effect>) {
        let now = Now { wall: Tain::new(TAI64_BASE + (wall % (1 << 40)), 0), mono: mono % (1 << 50) };
        let (sup, fx) = Supervisor::start(want_up, now);
        let m = Model { sup, now, run: None, finish: None, next_pid: 2, exited: false, chaos };
        (m, fx.as_slice().to_vec())
    }

    fn advance(&mut self, ns: u64) {
        self.now.mono += ns;
        self.now.wall = self.now.wall.add_millis(ns / 1_000_000);
    }

    fn pid(&mut self) -> u64 {
        self.next_pid = self.next_pid % 4_194_303 + 2;
        self.next_pid
    }

    /// Feeds one input and every answer the driver gives at once (spawn results).
    fn feed(&mut self, input: Input, cfg: &mut FuzzCfg, outcome_byte: u8) {
        let mut pending = Some(input);
        let mut guard = 0;
        while let Some(inp) = pending.take() {
            guard += 1;
            assert!(guard < 8, "spawn answers loop");
            let before = self.sup.deadline();
            let state_before = self.sup.state();
            let fx = self.sup.step(inp, self.now, cfg);
            let fx = fx.as_slice().to_vec();
            if !self.chaos {
                self.check(inp, state_before, before, &fx);
            }
            match inp {
                Input::RunSpawned(SpawnOutcome::Spawned(p)) if state_before == State::Down => self.run = Some(p),
                Input::FinishSpawned(Some(p)) if matches!(state_before, State::Up | State::LastUp) => {
                    self.finish = Some(p)
                }
                Input::FinishDied(_) if matches!(state_before, State::Finish | State::LastFinish) => self.finish = None,
                _ => {}
            }
            for e in &fx {
                match *e {
                    Effect::SpawnRun => {
                        pending = Some(Input::RunSpawned(match outcome_byte % 8 {
                            0 => SpawnOutcome::ExecFailed,
                            1 => SpawnOutcome::ResourceFailed,
                            2 => SpawnOutcome::FdConflict,
                            _ => SpawnOutcome::Spawned(self.pid()),
                        }))
                    }
                    Effect::SpawnFinish { .. } => {
                        self.run = None;
                        pending =
                            Some(Input::FinishSpawned(if outcome_byte % 5 == 0 { None } else { Some(self.pid()) }));
                    }
                    Effect::Exit => self.exited = true,
                    _ => {}
                }
            }
            if self.exited {
                return;
            }
        }
    }

    fn check(&self, input: Input, state_before: State, deadline_before: Option<u64>, fx: &[Effect]) {
        let sup = &self.sup;
        let st = sup.status();
        let ctx = || format!("input {input:?} in {state_before:?} -> {:?}, effects {fx:?}, status {st:?}", sup.state());
        // Exit is the last effect, once.
        if let Some(i) = fx.iter().position(|e| *e == Effect::Exit) {
            assert_eq!(i, fx.len() - 1, "{}", ctx());
            assert!(i > 0 && fx[i - 1] == Effect::Event(b"x"), "{}", ctx());
        }
        assert!(
            fx.iter().filter(|e| matches!(e, Effect::SpawnRun | Effect::SpawnFinish { .. })).count() <= 1,
            "{}",
            ctx()
        );
        // Signals only ever go to the child that runs, never to pid 0 (the whole group).
        let live = [self.run, self.finish];
        for e in fx {
            match *e {
                Effect::Kill { pid, .. } | Effect::KillGroup { pid, .. } | Effect::KillFinish { pid } => {
                    assert!(pid != 0, "kill of pid 0: {}", ctx());
                    assert!(live.contains(&Some(pid)), "kill of a pid that does not run: {}", ctx());
                }
                Effect::SpawnRun => assert_eq!(sup.state(), State::Down, "{}", ctx()),
                Effect::Event(ev) => assert!(!ev.is_empty(), "{}", ctx()),
                _ => {}
            }
        }
        // The status published agrees with the state (once it exits, the supervisor leaves its
        // status as it is: `run` may still be running after SIGQUIT).
        if fx.contains(&Effect::Exit) {
            return;
        }
        match sup.state() {
            State::Down => {
                assert_eq!(st.pid, 0, "{}", ctx());
                assert!(!st.finishing, "{}", ctx());
                assert_eq!(sup.child_pid(), None, "{}", ctx());
            }
            State::Up | State::LastUp => {
                let run = match input {
                    Input::RunSpawned(SpawnOutcome::Spawned(p)) => Some(p),
                    _ => self.run,
                };
                assert_eq!(sup.child_pid(), run, "{}", ctx());
                assert!(!st.finishing, "{}", ctx());
                assert!(st.is_up() || st.pid_t() == 0, "{}", ctx());
            }
            State::Finish | State::LastFinish => {
                let fin = match input {
                    Input::FinishSpawned(Some(p)) => Some(p),
                    _ => self.finish,
                };
                assert_eq!(sup.child_pid(), fin, "{}", ctx());
                assert!(st.finishing, "{}", ctx());
            }
        }
        // A deadline that changed lies in the present or the future.
        if let Some(d) = sup.deadline() {
            if Some(d) != deadline_before {
                assert!(d >= self.now.mono, "deadline in the past: {}", ctx());
            }
        }
        // What is written is what readers decode.
        if fx.contains(&Effect::WriteStatus) {
            assert_eq!(StatusFile::decode(&st.encode()).as_ref(), Some(st), "{}", ctx());
        }
    }
}

const SUPERVISOR_SEEDS: &[&[u8]] = &[
    b"\x01\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x01\x00\x00\x00\x02udx",
    b"\x01\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x13\x88\x00\x00\x00\x00\x87\x83\x82\x81\x80\x84",
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00uxdOQDU\x83\x81\x80",
    b"\x01\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x05\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90",
];

/// Decodes and runs one event. Letters are control bytes; bytes ≥ 0x80 are the other inputs.
fn model_event(m: &mut Model, cfg: &mut FuzzCfg, b: u8, arg: u8) {
    if m.exited {
        // The driver is gone.
        return;
    }
    // Letters stand for themselves; any other byte is one of the 21 letters or 15 events.
    const EVENTS: &[u8] = b"abqhktiy12pcrodDuUxOQ\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e";
    let b = if Control::from_byte(b).is_some() || (0x80..=0x8e).contains(&b) {
        b
    } else {
        EVENTS[b as usize % EVENTS.len()]
    };
    let input = if let Some(c) = Control::from_byte(b) {
        Input::Control(c)
    } else {
        match b {
            0x80 => Input::Signal(SupervisorSignal::Term),
            0x81 => Input::Signal(SupervisorSignal::Hup),
            0x82 => Input::Signal(SupervisorSignal::Quit),
            0x83 => Input::Signal(SupervisorSignal::Int),
            0x84 => Input::Ready,
            0x85 | 0x8a => {
                // The timer, at its deadline (or, for a broken driver, whenever).
                match m.sup.deadline() {
                    Some(d) => {
                        if d > m.now.mono {
                            let dt = d - m.now.mono;
                            m.advance(dt);
                        }
                        Input::Timeout
                    }
                    None if m.chaos => Input::Timeout,
                    None => return,
                }
            }
            0x86 | 0x8b | 0x8c => {
                let wstat = match arg % 4 {
                    0 => (arg as u16) << 8,
                    1 => (arg & 0x7f) as u16,
                    2 => 0x7d00,
                    _ => arg as u16 | ((arg as u16) << 8),
                };
                if m.run.is_some() || m.chaos {
                    Input::RunDied(wstat)
                } else if m.finish.is_some() {
                    Input::FinishDied(wstat)
                } else {
                    return;
                }
            }
            0x87 if m.finish.is_some() || m.chaos => {
                Input::FinishDied(if arg % 3 == 0 { 125 << 8 } else { arg as u16 })
            }
            0x87 => return,
            0x88 => {
                m.advance((arg as u64) * 10_000_000);
                return;
            }
            0x89 => {
                m.advance((arg as u64) << 30);
                return;
            }
            0x8d if m.chaos => Input::RunSpawned(match arg % 4 {
                0 => SpawnOutcome::Spawned(arg as u64 * 7919),
                1 => SpawnOutcome::ExecFailed,
                2 => SpawnOutcome::ResourceFailed,
                _ => SpawnOutcome::FdConflict,
            }),
            0x8e if m.chaos => Input::FinishSpawned(if arg % 2 == 0 { None } else { Some(arg as u64 * 31) }),
            _ => return,
        }
    };
    m.feed(input, cfg, arg);
}

fn fuzz_supervisor(data: &[u8]) {
    // Header: want_up, mono (4), wall (8), chaos, config values (count + 4 each); then events.
    let mut b = Bytes(data);
    let want_up = b.u8() & 1 == 1;
    let mono = (b.u32() as u64) << 16;
    let wall = b.u64();
    let chaos = b.u8() % 4 == 0;
    let nvals = (b.u8() % 8) as usize;
    let vals = (0..nvals).map(|_| b.u32()).collect();
    let cfg = &mut FuzzCfg { vals, i: 0 };
    let (mut m, fx) = Model::new(want_up, mono, wall, chaos);
    assert_eq!(fx, vec![Effect::WriteStatus, Effect::Event(b"s")]);
    let mut steps = 0;
    while !b.is_empty() && !m.exited && steps < 4096 {
        let ev = b.u8();
        let arg = b.u8();
        model_event(&mut m, cfg, ev, arg);
        steps += 1;
    }
}

/// The bytes of `supervise/control` as a writer may send them, read by a supervisor that is up.
fn fuzz_control(data: &[u8]) {
    for &b in data {
        // Every byte decodes to a letter or is ignored; the letters are exactly s6's 21.
        let c = Control::from_byte(b);
        assert_eq!(c.is_some(), b"abqhktiy12pcrodDuUxOQ".contains(&b), "byte {b:#x}");
    }
    let cfg = &mut FuzzCfg { vals: vec![15, 0, 5000, 100, 3], i: 0 };
    let (mut m, _) = Model::new(true, 1 << 30, 1_800_000_000, false);
    // Come up first: the timer fires at once and `run` is spawned.
    model_event(&mut m, cfg, 0x85, 3);
    let mut k = 0u8;
    for &b in data {
        if m.exited {
            break;
        }
        if Control::from_byte(b).is_some() {
            model_event(&mut m, cfg, b, k);
        }
        k = k.wrapping_add(1);
        if k % 7 == 0 {
            // Now and then the child dies or the timer fires, as in a real run.
            model_event(&mut m, cfg, 0x86 + (k % 3), k);
            model_event(&mut m, cfg, 0x85, k);
        }
    }
}

// ------------------------------------------------------------------------------------------
// Service-directory files, signal names

const CONFIG_SEEDS: &[&[u8]] = &[
    b"3\n",
    b"4294967295",
    b"2147483647\n",
    b"5000\ngarbage",
    b"000000000051111",
    b"SIGHUP\n",
    b"int",
    b"10",
    b"TERM",
    b"sigwinch\n",
    b"IOT",
    b"CLD",
    b"IO",
    b"SIG",
    b"",
    b"\n",
];
const SIGNAL_DICT: &[&[u8]] = &[
    b"SIG", b"sig", b"HUP", b"INT", b"QUIT", b"KILL", b"TERM", b"USR1", b"STKFLT", b"POLL", b"IOT", b"CLD", b"IO",
    b"\n",
];

fn fuzz_config(data: &[u8]) {
    let first = |max: usize| {
        let b = &data[..data.len().min(max)];
        match b.iter().position(|&c| c == b'\n') {
            Some(i) => &b[..i],
            None => b,
        }
    };
    match parse_uint_file(data) {
        Ok(v) => {
            let line = first(11);
            assert!(!line.is_empty() && line.iter().all(u8::is_ascii_digit));
            assert_eq!(std::str::from_utf8(line).unwrap().parse::<u64>().unwrap(), v as u64);
        }
        Err(_) => {
            let line = first(11);
            let ok = !line.is_empty()
                && line.iter().all(u8::is_ascii_digit)
                && std::str::from_utf8(line).unwrap().parse::<u64>().unwrap() <= u32::MAX as u64;
            assert!(!ok, "valid uint refused");
        }
    }
    if let Ok(fd) = parse_fd_file(data) {
        assert!(fd >= 0);
    }
    if let Ok(sig) = parse_down_signal(data) {
        let s = std::str::from_utf8(first(15)).unwrap();
        assert_eq!(signals::parse(s), Some(sig as u32));
    }
}

fn fuzz_signals(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Some(n) = signals::parse(&s) {
        if let Some(name) = signals::name(n) {
            assert_eq!(signals::parse(name), Some(n));
            assert_eq!(signals::parse(&signals::sig_name(n)), Some(n));
        }
    }
    let n = Bytes(data).u32();
    let _ = signals::sig_name(n);
}

// ------------------------------------------------------------------------------------------
// TAI64N

const TAI_SEEDS: &[&[u8]] = &[
    b"@400000006b082607367964e5 hello\n",
    b"@400000006B082607367964E5xyz",
    b"@4000000058684a24000000001 leap\n@4000000058684a25000000001 after\n",
    b"@400000000000000a00000000 epoch\n",
    b"@3fffffffffffffff00000000 before\n",
    b"@ffffffffffffffffffffffff max\n",
    b"@400000006b082607367964e5\n",
    b"no label\n\n@40000000",
];
const TAI_DICT: &[&[u8]] =
    &[b"@", b"@4000000", b"0000", b"ffff", b"FFFF", b"7fffffff", b"3b9ac9ff", b"3b9aca00", b"\n", b".s", b".u"];

fn fuzz_tai_label(data: &[u8]) {
    match Tain::parse_label(data) {
        Some(t) => {
            assert!(data.len() >= 25 && data[0] == b'@');
            let l = t.label();
            assert_eq!(&l[..], data[..25].to_ascii_lowercase().as_slice());
            assert_eq!(Tain::parse_label(&l), Some(t));
            assert_eq!(Tain::from_bytes(&t.to_bytes()), t);
            for right in [false, true] {
                if let Some((u, _leap)) = display_second(t.secs, right) {
                    assert!(u >= -1);
                }
            }
            let u = t.to_unix();
            let back = Tain::from_unix(u, t.nanos);
            let _ = back.secs_until(t);
            let _ = t.add_millis(u64::from(t.nanos));
        }
        None => {
            let valid = data.len() >= 25 && data[0] == b'@' && data[1..25].iter().all(u8::is_ascii_hexdigit);
            assert!(!valid, "valid label refused");
        }
    }
    // The arithmetic on arbitrary stamps (status files hold any 12 bytes).
    let mut b = Bytes(data);
    let (a, c) = (Tain::new(b.u64(), b.u32()), Tain::new(b.u64(), b.u32()));
    let _ = a.secs_until(c);
    let _ = a.add_millis(b.u64());
    let _ = a.to_unix();
    let _ = Tain::from_unix(c.secs as i64, c.nanos);
    let _ = display_second(a.secs, false);
}

/// Proleptic Gregorian civil date of a Unix second (UTC), `None` past what `gmtime_r` accepts.
fn civil(u: i64) -> Option<(i64, u32, u32, u32, u32, u32)> {
    let days = u.div_euclid(86400);
    let secs = u.rem_euclid(86400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + (m <= 2) as i64;
    if y > i32::MAX as i64 + 1900 {
        return None;
    }
    Some((y, m, d, secs / 3600, secs / 60 % 60, secs % 60))
}

/// The line conversion of `s6-tai64nlocal -g` (crates/programs/src/cmd/s6_tai64nlocal.rs) with
/// a pure `gmtime`: every line comes out, converted or unchanged.
fn fuzz_tai64nlocal(data: &[u8]) {
    let mut out = Vec::new();
    let mut n_lines = 0;
    for line in data.split_inclusive(|&b| b == b'\n') {
        n_lines += 1;
        let start = out.len();
        let mut done = false;
        if line.len() > 25 {
            if let Some(t) = Tain::parse_label(line) {
                if let Some((u, leap)) = display_second(t.secs, false) {
                    if let Some((y, mo, d, h, mi, s)) = civil(u) {
                        let stamp = merit_core::log::format::local_stamp(y, mo, d, h, mi, s + leap as u32, t.nanos);
                        assert!(stamp.len() >= 29, "{stamp}");
                        out.extend_from_slice(stamp.as_bytes());
                        out.extend_from_slice(&line[25..]);
                        done = true;
                    }
                }
            }
        }
        if !done {
            out.extend_from_slice(line);
        }
        assert_eq!(out[start..].ends_with(b"\n"), line.ends_with(b"\n"));
    }
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), data.iter().filter(|&&b| b == b'\n').count());
    let _ = n_lines;
}

// ------------------------------------------------------------------------------------------
// s6-svstat

const SVSTAT_SEEDS: &[&[u8]] = &[
    b"svc",
    b"-n\0svc",
    b"-uwNrpest\0svc",
    b"-o\0up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor\0svc",
    b"-oup,pid,\0/run/service/x",
    b"--\0-svc",
    b"-\0svc",
    b"-o\0\0svc",
    b"--x",
    b"-o",
    b"-ou,w,n,r,p,e,s,t,u,w,n,r,p,e,s,t,u\0d",
];
const SVSTAT_DICT: &[&[u8]] = &[
    b"-",
    b"--",
    b"-o",
    b"-n",
    b",",
    b"\0",
    b"up",
    b"wantedup",
    b"normallyup",
    b"ready",
    b"paused",
    b"pid",
    b"exitcode",
    b"signal",
    b"signum",
    b"updownsince",
    b"readysince",
    b"updownfor",
    b"readyfor",
    b"u",
    b"w",
    b"N",
    b"r",
    b"p",
    b"e",
    b"s",
    b"t",
];

fn fuzz_svstat_args(data: &[u8]) {
    let args = argv(data);
    match svstat::parse_args(&args) {
        Ok(o) => {
            assert!(o.fields.len() <= svstat::MAX_FIELDS);
            assert!(args.contains(&o.dir));
        }
        Err(e) => {
            assert_eq!(e.exit_code(), 100, "{e:?}");
            let m = e.message();
            assert!(m.starts_with(b"s6-svstat: ") && m.ends_with(b"\n"));
        }
    }
    let mut fields = Vec::new();
    if svstat::parse_field_list(data, &mut fields).is_ok() {
        assert!(fields.len() <= svstat::MAX_FIELDS);
    }
}

/// s6-svstat's rendering of any status file at any time (all of it comes from the disk).
fn fuzz_svstat_render(data: &[u8]) {
    let Some(st) = StatusFile::decode(data) else { return };
    let mut b = Bytes(&data[STATUS_SIZE.min(data.len())..]);
    let now = Tain::new(b.u64(), b.u32());
    let flags = b.u8();
    let list = b.take(64);
    let mut fields = Vec::new();
    let _ = svstat::parse_field_list(list, &mut fields);
    let out = svstat::render(&st, now, flags & 1 == 1, flags & 2 == 2, &fields);
    assert!(out.ends_with(b"\n") && out.iter().filter(|&&c| c == b'\n').count() == 1);
    let text = String::from_utf8(out).expect("UTF-8 output");
    if fields.is_empty() {
        assert!(text.starts_with("up (pid ") || text.starts_with("down ("), "{text}");
    } else {
        assert_eq!(text.split(' ').count(), fields.len(), "{text}");
    }
}

// ------------------------------------------------------------------------------------------
// service

const SERVICE_SEEDS: &[&[u8]] = &[
    b"klogd\0status",
    b"status\0klogd",
    b"list",
    b"logs\0sshd\0-f\0-n\0100",
    b"sshd\0logs\0extra",
    b"enable\0dhcpcd",
    b"restart\0.hidden",
    b"stop\0a/b",
    b"start\0..",
    b"unsup\0x\x01y",
    b"",
    b"reload",
];
const SERVICE_DICT: &[&[u8]] = &[
    b"list",
    b"enable",
    b"disable",
    b"start",
    b"stop",
    b"status",
    b"restart",
    b"reload",
    b"resup",
    b"unsup",
    b"logs",
    b"\0",
    b".",
    b"..",
    b"/",
    b"\x7f",
    b"\xc2\x85",
    b"\xe2\x80\xa8",
];

fn fuzz_service_args(data: &[u8]) {
    let words: Vec<String> = argv(data).iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    match parse_words(&words) {
        Ok(inv) => {
            assert_eq!(inv.command.takes_name(), inv.name.is_some());
            if let Some(n) = &inv.name {
                assert!(check_name(n).is_ok());
                assert!(words.contains(n));
            }
            assert!(inv.extra.is_empty() || inv.command == Command::Logs);
            assert!(words.iter().any(|w| Command::parse(w) == Some(inv.command)));
        }
        Err(e) => assert!(!e.message().is_empty()),
    }
    for w in &words {
        if check_name(w).is_ok() {
            assert!(!w.is_empty() && !w.contains('/') && !w.starts_with('.') && !w.chars().any(char::is_control));
        }
    }
}

// ------------------------------------------------------------------------------------------
// s6-log: options, script, regular expressions, input framing, logdir names

const LOG_SEEDS: &[&[u8]] = &[
    b"-bp\0-l\0010\0-d3\0001",
    b"-l0\0--\0-x\0001",
    b"t\0./log",
    b"n20\0s1000000\0S100000000\0l100\0r1000\0!gzip\0t\0T\0./log",
    b"-.*\0+^foo\0=/tmp/x\0f\0002",
    b"E100\0002\0^200\0=st\0pfoo\0001",
    b"-v\0-q\0-q\0f\0t\0001\0+bar\0/var/log/x\0?cat\0/var/log/y",
    b"1\0n",
    b"s4096\0l2049\0./a",
    b"f1",
    b"=",
    b"-d\0",
];
const LOG_DICT: &[&[u8]] = &[
    b"\0", b"-", b"--", b"-l", b"-d", b"-b", b"-p", b"-q", b"-v", b"f", b"+", b"-", b"n", b"s", b"S", b"l", b"r", b"E",
    b"^", b"p", b"!", b"?", b"t", b"T", b"1", b"2", b"=", b"./", b"/", b".*", b"[a-z]", b"(", b")", b"{1,2}",
];

fn fuzz_log_options(data: &[u8]) {
    let args = argv(data);
    if let Some((o, i)) = script::parse_options(&args) {
        assert!(i <= args.len());
        assert!(o.linelimit == 0 || o.linelimit >= script::MIN_LINELIMIT);
    }
    let _ = script::parse_u32(data);
    let _ = script::parse_u64(data);
}

fn fuzz_log_script(data: &[u8]) {
    let args = argv(data);
    let Some((_, first)) = script::parse_options(&args) else { return };
    let rest = &args[first..];
    // The regexes go through the translator; the "matcher" is a substring test of the source.
    match script::parse(rest, |re| ere::translate(re).ok().map(|_| re.to_vec())) {
        Ok(s) => {
            for e in &s.elements {
                assert!(!e.actions.is_empty());
                for a in &e.actions {
                    if let script::ActionKind::Logdir(i) = a.kind {
                        assert!(i < s.logdirs.len());
                    }
                }
            }
            for l in &s.logdirs {
                assert!((script::MIN_S..=script::MAX_S).contains(&l.size));
                assert!(l.retry_ms <= i32::MAX as u32);
            }
            for line in [&b""[..], b"foo", b"bar baz", data] {
                let mut n = 0;
                script::select(
                    &s.elements,
                    line,
                    |re, l| re.is_empty() || l.windows(re.len()).any(|w| w == re.as_slice()),
                    |_| n += 1,
                );
            }
        }
        Err(e) => assert!(!e.error.message().is_empty()),
    }
}

const ERE_SEEDS: &[&[u8]] = &[
    b"foo",
    b"^a.*b$",
    b"(a|b)+c?",
    b"[[:alpha:]_][[:alnum:]_]*",
    b"a{1,3}",
    b"a{,3}",
    b"x{2}{3}",
    b"a**",
    b"[]a]",
    b"[^]a-]",
    b"[a-]",
    b"\\w+\\s\\<x\\>",
    b"\\`a\\'",
    b"[[=a=][.b.]]",
    b"(",
    b")",
    b"a{",
    b"a{x}",
    b"[z-a]",
    b"\\",
    b"\\1",
    b"((((a))))",
    b"a|*b",
    b"[[:foo:]]",
    b"a{32767}",
    b"a{32768}",
    b".",
    b"",
    b"|",
    b"()",
];
const ERE_DICT: &[&[u8]] = &[
    b"(",
    b")",
    b"[",
    b"]",
    b"[^",
    b"[:alpha:]",
    b"[:space:]",
    b"[=",
    b"=]",
    b"[.",
    b".]",
    b"{",
    b"}",
    b",",
    b"*",
    b"+",
    b"?",
    b"|",
    b"^",
    b"$",
    b".",
    b"\\",
    b"\\w",
    b"\\<",
    b"\\b",
    b"-",
    b"32767",
    b"0",
    b"a",
];

fn fuzz_ere(data: &[u8]) {
    if let Ok(out) = ere::translate(data) {
        // The translation stays in proportion to the pattern (each byte at most `\xHH` plus
        // the group it may be wrapped in).
        assert!(out.len() <= 16 * data.len() + 16, "{} bytes from {}", out.len(), data.len());
        assert!(out.is_ascii());
    }
}

const LINES_SEEDS: &[&[u8]] = &[
    b"\x00\x30one\ntwo\nthree",
    b"\x00\x00no limit\n\0x",
    b"\x00\x01\n\n\n",
    b"\x01\x00aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
];

fn fuzz_log_lines(data: &[u8]) {
    let mut b = Bytes(data);
    let limit = b.u16() as usize;
    let buf = b.0;
    assert_eq!(lines::find_terminator(buf), buf.iter().position(|&c| lines::is_terminator(c)));
    let (ranges, used) = lines::split_all(buf, limit);
    assert!(used <= buf.len());
    let mut off = 0;
    for r in &ranges {
        assert_eq!(r.start, off);
        assert!(limit == 0 || r.len() <= limit);
        assert!(!buf[r.clone()].iter().any(|&c| lines::is_terminator(c)));
        off = r.end;
        if off < buf.len() && lines::is_terminator(buf[off]) {
            off += 1;
        }
    }
    assert_eq!(off, used);
    let rest = &buf[used..];
    assert!(rest.iter().all(|&c| !lines::is_terminator(c)));
    assert!(limit == 0 || rest.len() <= limit);
    let w = logdir::write_len(buf);
    assert!(w <= buf.len());
}

const LOGDIR_SEEDS: &[&[u8]] = &[
    b"\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x10\x00\x00\x01\x02\x03@400000006b082607367964e5.s\0@400000006b082607367964e6.u\0current\0state",
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00@400000006b082607367964e5.s\0@400000006b082607367964e5.s",
    b"\x00\x00\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\x03\x02\x01\x00@400000006b082607367964e5.u\0@ffffffffffffffffffffffff.s",
];

fn fuzz_logdir(data: &[u8]) {
    let mut b = Bytes(data);
    let count = b.u32();
    let maxdirsize = b.u64();
    let sel = b.take(4).to_vec();
    let names = argv(b.0);
    for n in &names {
        let ok = logdir::is_archive_name(n);
        assert_eq!(
            ok,
            n.len() == 27
                && n.starts_with(b"@")
                && n[1..25].iter().all(u8::is_ascii_hexdigit)
                && n[25] == b'.'
                && (n[26] == b's' || n[26] == b'u')
        );
    }
    // Sizes from the header, boundary values included.
    let archives: Vec<(Vec<u8>, u64)> = names
        .iter()
        .filter(|n| logdir::is_archive_name(n))
        .enumerate()
        .map(|(i, n)| {
            let size = match sel[i % sel.len().max(1)] % 5 {
                0 => u64::MAX,
                1 => 0,
                2 => maxdirsize,
                3 => u64::MAX / 2 + 1,
                _ => (i as u64) << 20,
            };
            (n.clone(), size)
        })
        .collect();
    let trim = logdir::to_trim(&archives, count, maxdirsize);
    assert!(trim.len() <= archives.len());
    assert!(archives.len() - trim.len() <= count as usize || trim.len() == archives.len() || maxdirsize != 0);
}

// ------------------------------------------------------------------------------------------
// /proc/self/mountinfo, /etc/passwd, /etc/group (merit_core::mountinfo, merit_core::accounts).

const MOUNTINFO_SEEDS: &[&[u8]] = &[
    b"22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw\n30 22 0:30 / /mnt/a\\040b rw - tmpfs tmpfs rw\n",
    b"31 22 0:31 / /mnt/x\\134 rw - tmpfs tmpfs rw\n32 22 0:32 / /mnt/\xff\xfe\\011tab rw - tmpfs tmpfs rw",
    b"33 22 0:33 /sub /mnt/end\\040 rw - tmpfs tmpfs rw\n1 0 0:1 / / rw - rootfs rootfs rw\n",
    b"\\\\\\0\\377\\400\\12 \n\n",
];
const MOUNTINFO_DICT: &[&[u8]] =
    &[b" ", b"\n", b"\\", b"\\040", b"\\011", b"\\012", b"\\134", b"\\377", b"\\400", b"/", b" - ", b"shared:1"];

fn fuzz_mountinfo(data: &[u8]) {
    let points = merit_core::mountinfo::mount_points(data);
    assert!(points.len() <= data.split(|&b| b == b'\n').count());
    for m in &points {
        assert!(m.len() <= data.len());
    }
    let u = merit_core::mountinfo::unescape(data);
    assert!(u.len() <= data.len());
}

const PASSWD_SEEDS: &[&[u8]] = &[
    b"root\0root:x:0:0:root:/root:/bin/sh\nlog:x:100:101::/var/log:/sbin/nologin\n",
    b"log\0log:x:4294967295:4294967296::/:\n+::::::\n#comment\n",
    b"x\0x::1:2\nx:y:3:4:::\n",
];
const GROUP_SEEDS: &[&[u8]] =
    &[b"wheel\0root:x:0:\nwheel:x:10:root,admin\n", b"log\0log:x:101:\nlog:x:102:\n", b"g\0g::4294967295:\n:x:1:\n"];
const PASSWD_DICT: &[&[u8]] = &[b":", b"::", b"\n", b"#", b"+", b"-", b"root", b"x", b"0", b",", b"\0"];

/// Input: NAME NUL FILE.
fn fuzz_passwd(data: &[u8]) {
    let (name, file) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let _ = merit_core::accounts::uid(file, name);
    let _ = merit_core::accounts::user_gid(file, name);
    if name.is_empty() || name.contains(&b':') || name.contains(&b'\n') {
        assert_eq!(merit_core::accounts::uid(file, name), None, "a name that cannot be in a line");
    }
}

fn fuzz_group(data: &[u8]) {
    let (name, file) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let _ = merit_core::accounts::gid(file, name);
}

// ------------------------------------------------------------------------------------------
// Beyond s6 (issue 13): sd_notify datagrams, restart-delay / restart-limit, merit-state

const NOTIFY_SEEDS: &[&[u8]] = &[
    b"READY=1",
    b"READY=1\nSTATUS=x",
    b"BARRIER=1",
    b"READY=1\nMAINPID=1234\n",
    b"STATUS=\x1b[2J\xff\nWATCHDOG=trigger\nERRNO=110\nRELOADING=1\nSTOPPING=1\nWATCHDOG=1\n\n",
    b"EXTEND_TIMEOUT_USEC=5000000\nREADY=0\nMAINPID=-1",
];
const NOTIFY_DICT: &[&[u8]] = &[
    b"READY=",
    b"STATUS=",
    b"MAINPID=",
    b"ERRNO=",
    b"WATCHDOG=",
    b"trigger",
    b"RELOADING=1",
    b"STOPPING=1",
    b"BARRIER=1",
    b"=",
    b"\n",
    b"\0",
];
fn fuzz_notify(data: &[u8]) {
    use merit_core::notify::{parse, parse_watchdog_timeout, Malformed, DATAGRAM_MAX};
    match parse(data) {
        Ok(n) => {
            assert!(data.len() <= DATAGRAM_MAX && !data.contains(&0));
            if let Some(s) = &n.status {
                assert!(!s.chars().any(char::is_control), "STATUS not sanitized: {s:?}");
            }
            assert!(n.mainpid.map_or(true, |p| p > 1));
            assert!(n.errno.map_or(true, |e| e >= 0));
            assert!(n.rejected.len() <= data.split(|&b| b == b'\n').count());
            assert_eq!(n.ready, data.split(|&b| b == b'\n').any(|l| l == b"READY=1"));
        }
        Err(Malformed::Nul(at)) => assert_eq!(data.get(at), Some(&0)),
        Err(Malformed::Oversized(len)) => assert!(len > DATAGRAM_MAX),
        Err(Malformed::NoEquals(line)) => {
            let l = data.split(|&b| b == b'\n').nth(line - 1).unwrap();
            assert!(!l.is_empty() && !l.contains(&b'='));
        }
    }
    let _ = parse_watchdog_timeout(data);
}

const RESTART_SEEDS: &[&[u8]] = &[b"100 1000\n", b"5 10", b"1\t4294967295  \n", b"0 0", b"1000 1"];
/// Input: a restart-delay / restart-limit file, then the bytes drive deaths (each two bytes
/// give the time since the previous death and how long the service was up, in 16 ms units).
fn fuzz_restart_policy(data: &[u8]) {
    use merit_core::backoff::*;
    let delay = parse_restart_delay(data).ok();
    let limit = parse_restart_limit(data).ok();
    if let Some(d) = delay {
        assert!(d.min_ms >= 1 && d.min_ms <= d.max_ms);
    }
    if let Some(l) = limit {
        assert!(l.deaths >= 1 && l.deaths <= RESTART_LIMIT_MAX_DEATHS && l.window_s >= 1);
    }
    let policy = Policy { delay, limit };
    let mut b = Backoff::new();
    let mut now = 0u64;
    let mut gave_up = false;
    for pair in data.chunks(2) {
        now += u64::from(pair[0]) * 16;
        let up = u64::from(pair.get(1).copied().unwrap_or(0)) * 16;
        match b.on_death(&policy, now, now.saturating_sub(up)) {
            Decision::Restart { delay_ms } => {
                assert!(!gave_up, "restarted after giving up");
                match delay {
                    None => assert_eq!(delay_ms, 0),
                    Some(d) => assert!(delay_ms == 0 || (d.min_ms..=d.max_ms).contains(&delay_ms)),
                }
            }
            Decision::GiveUp { deaths, .. } => {
                gave_up = true;
                assert_eq!(Some(deaths), limit.map(|l| l.deaths));
                assert!(b.deaths_in_window(&policy, now) <= deaths);
            }
        }
    }
}

const MERIT_STATE_SEEDS: &[&[u8]] = &[
    b"merit-state 1\nfailed 1\ndeaths 5 10\nlast exit 3\ndelay 400\nnotify ready\nstatus up \\n\\\\\ncgroup-left 2\n",
    b"merit-state 1\nfailed 0\ndeaths 0 0\nlast signal 9\ndelay 0\nnotify none\n",
    b"merit-state 1\nfuture x\nnotify stopping\nlast none",
];
const MERIT_STATE_DICT: &[&[u8]] = &[
    b"merit-state 1\n",
    b"failed ",
    b"deaths ",
    b"last exit ",
    b"last signal ",
    b"delay ",
    b"notify ",
    b"reloading",
    b"status ",
    b"cgroup-left ",
    b"\\",
    b"\n",
];
fn fuzz_merit_state(data: &[u8]) {
    use merit_core::backoff::{DecodeError, MeritState, MERIT_STATE_MAX};
    match MeritState::decode(data) {
        Ok(st) => {
            // What decodes encodes to something that decodes to the same state.
            assert_eq!(MeritState::decode(&st.encode()), Ok(st.clone()));
            assert_eq!(st.failure_reason().is_some(), st.failed);
        }
        Err(DecodeError::TooLong) => assert!(data.len() > MERIT_STATE_MAX),
        Err(DecodeError::NotMeritState) => assert!(!data.starts_with(b"merit-state 1\n") && data != b"merit-state 1"),
        Err(DecodeError::Invalid(line)) => assert!(line >= 2),
    }
}

// ------------------------------------------------------------------------------------------
// Inputs the fuzzer found, kept as regression tests

/// `(` nested 65000 deep (an s6-log argument may be 128 KiB): the recursive translator
/// overflowed an 8 MiB stack (SIGSEGV, as the real s6-log does from ~30000). Now refused.
#[test]
fn ere_deep_nesting_is_refused() {
    let h = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            let p = "(".repeat(65000) + "a" + &")".repeat(65000);
            ere::translate(p.as_bytes()).is_ok()
        })
        .unwrap();
    assert_eq!(h.join().ok(), Some(false));
    // What real scripts use still translates.
    let p = "(".repeat(200) + "a" + &")".repeat(200);
    assert!(ere::translate(p.as_bytes()).is_ok());
}

/// `a` followed by 131000 `*`: each stacked repetition re-wrapped the whole atom, quadratic
/// time (6 s in release). Now refused after 1000 stacked repetitions.
#[test]
fn ere_stacked_repetitions_are_bounded() {
    let p = "a".to_string() + &"*".repeat(131000);
    let t = Instant::now();
    assert!(ere::translate(p.as_bytes()).is_err());
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(ere::translate(b"a**+?{2}").is_ok());
}
