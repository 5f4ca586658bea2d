//! No line lost by `s6-log`, end to end: through s6-svscan's log pipe while the service and the
//! logger are restarted, with the logger SIGKILLed, and on a full disk.
//!
//! * `restarts_lose_nothing_exactly_once`: our s6-svscan + our s6-supervise + our s6-log
//!   (`exec s6-log -b n20 s1000000 DIR` as `NAME/log/run`). The service is a producer (python3)
//!   that writes 200,000 numbered lines, one `write` each, and records how many it has written
//!   in a counter file right after each write; on SIGTERM it finishes the current line (write +
//!   counter) and exits, and its next life resumes from the counter, so each line is written to
//!   the pipe exactly once. While it runs, the service is restarted 50 times (`s6-svc -t NAME`)
//!   and the logger stopped 50 times (`s6-svc -t NAME/log`), alternately: every line must be in
//!   the logdir exactly once, in order, across the archives and `current`.
//! * `sigkills_lose_nothing`: the same pipe, the logger SIGKILLed 50 times (`s6-svc -k NAME/log`)
//!   while the producer pushes 4000-line chunks of 230-byte lines (about 0.9 MB each) as fast as
//!   the logger takes them, so the pipe is full and the logger busy at the kills: every line at
//!   least once, first appearances in order; duplicates and torn writes (the start of a line at
//!   the end of a `.u` archive, written again in full by the next logger) are counted and
//!   printed. The same scenario runs at the same time with the real `/usr/bin/s6-log` as the
//!   logger, and how many lines it lost is printed (not asserted).
//! * `disk_full_blocks_then_recovers`: the logdir on a 256 KiB tmpfs (mounted in a private mount
//!   namespace by `unshare --mount --propagation private`, root only) mostly taken by a filler
//!   file: with `-b` the writer of the pipe stalls while s6-log sleeps (alive, not spinning);
//!   once the filler is deleted every line is there, exactly once and in order. Ours and the
//!   real s6-log.
//! * `disk_full_pruning_vs_real`: stdin a file (deterministic input windows), logdirs with `n3`
//!   and with `S24000` on such a tmpfs that fills up; after freeing it, ours and the real s6-log
//!   keep the same archives (count, sizes, contents), within `n` and `S`, and the kept lines are
//!   the newest ones.
//!
//! The producer never outruns the events: it only writes up to a "gate" line number the test
//! raises before each event, and each event is sent once the producer is inside its chunk, so
//! the lines are spread over the events whatever the load. Nothing is scaled down. The producer
//! and the logger notify readiness (`notification-fd` 3, `s6-log -d3`), and each is signalled
//! at least 1.05 s after it became ready, so s6-supervise restarts it at once (otherwise it waits
//! 1 s after a death): the first two tests take about a minute each, and run concurrently.
//!
//! Needs python3 (the producer), root and `unshare` (tmpfs tests) and the real s6 (comparisons):
//! under CI=true a missing one is a failure; elsewhere the test is skipped with a message.

use crate::common::*;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LINES: usize = 200_000;
const EVENTS_PER_KIND: usize = 50;
/// s6-supervise restarts `run` at once only if it lived at least 1 s.
const MIN_LIFE: Duration = Duration::from_millis(1050);

/// Line `i` as the producer writes it: 13 to 49 bytes, plus `extra` bytes of padding.
fn line_x(i: usize, extra: usize) -> String {
    format!("line {i:06} {}\n", "x".repeat(i % 37 + extra))
}

fn line(i: usize) -> String {
    line_x(i, 0)
}

// ---------------------------------------------------------------------------------------------
// The producer

/// `producer.py TOTAL BATCH RATE EXTRA GATEFILE`, run as a service (cwd = the service
/// directory, readiness notified on fd 3). Writes lines (`line_x(i, EXTRA)`) from the number in
/// `./counter` (10 digits, rewritten in place with one pwrite after each successful write) up
/// to TOTAL, BATCH lines per write (the caller keeps a write within PIPE_BUF, so it is all or
/// nothing), at most RATE lines/s (0: no limit), never beyond the number in GATEFILE. SIGTERM
/// sets a flag checked before each write: the current write and its counter update always
/// complete. When done it waits for SIGTERM.
const PRODUCER: &str = r#"
import os, signal, sys, time
total, batch, rate, extra = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
gate_path = sys.argv[5]
stop = False
def on_term(sig, frame):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
try:
    os.write(3, b"\n")
    os.close(3)
except OSError:
    pass
cfd = os.open("counter", os.O_RDWR | os.O_CREAT, 0o644)
raw = os.pread(cfd, 64, 0).strip()
n = int(raw) if raw else 0
gfd = os.open(gate_path, os.O_RDONLY)
def gate():
    try:
        return int(os.pread(gfd, 64, 0).strip() or b"0")
    except ValueError:
        return 0
pad = b"x" * (36 + extra)
g = gate()
t0, done = time.monotonic(), 0
while n < total and not stop:
    if n >= g:
        g = gate()
        if n >= g:
            time.sleep(0.002)
            t0, done = time.monotonic(), 0
            continue
    k = min(batch, total - n, g - n)
    data = b"".join(b"line %06d %s\n" % (i, pad[:i % 37 + extra]) for i in range(n, n + k))
    if os.write(1, data) != len(data):
        sys.exit(3)
    n += k
    os.pwrite(cfd, b"%010d\n" % n, 0)
    if rate > 0:
        done += k
        ahead = t0 + done / rate - time.monotonic()
        if ahead > 0.001:
            time.sleep(ahead)
while not stop:
    time.sleep(0.05)
"#;

/// The python3 interpreter itself (not a pyenv-like shim), or None (skip; CI: panic).
fn python3() -> Option<PathBuf> {
    let o = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).stdin(Stdio::null()).output();
    match o {
        Ok(o) if o.status.success() => {
            let p = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
            if p.is_file() {
                return Some(p);
            }
            cannot_run("the log-loss producer", "python3 has no sys.executable");
            None
        }
        _ => {
            cannot_run("the log-loss producer", "python3 not found");
            None
        }
    }
}

/// The gate file: the producer writes no line numbered GATE or more.
struct Gate(std::fs::File);

impl Gate {
    fn new(path: &Path) -> Gate {
        let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path).unwrap();
        let g = Gate(f);
        g.set(0);
        g
    }
    /// Rewritten in place (the producer keeps it open).
    fn set(&self, n: usize) {
        self.0.write_at(format!("{n:010}\n").as_bytes(), 0).unwrap();
    }
}

/// Lines written so far according to the producer's counter file.
fn counter(svc: &Path) -> usize {
    std::fs::read_to_string(svc.join("counter")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Reading a logdir

/// Line numbers in file order across the archives (name = time order) and `current`.
struct Logged {
    nums: Vec<usize>,
    /// Lines that are not a producer's line, with their file (at most 5 kept).
    garbled: usize,
    samples: Vec<String>,
    /// Torn writes: an unterminated start of a line at the very end of a `.u` archive (the
    /// previous logger was SIGKILLed in the middle of a write; the kernel stops a write to a
    /// regular file between pages when a fatal signal is pending).
    torn: usize,
    files: usize,
}

fn logdir_files(d: &Path) -> Vec<PathBuf> {
    let mut names: Vec<String> = std::fs::read_dir(d)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.len() == 27 && n.starts_with('@'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.push("current".into());
    names.into_iter().map(|n| d.join(n)).collect()
}

/// Whether `frag` is the start of some producer line.
fn line_start(frag: &[u8], extra: usize) -> bool {
    let Ok(s) = std::str::from_utf8(frag) else { return false };
    match s.get(5..11).and_then(|x| x.parse::<usize>().ok()) {
        Some(n) => line_x(n, extra).as_bytes().starts_with(frag),
        None => {
            frag.len() < 11
                && b"line ".starts_with(&frag[..frag.len().min(5)])
                && frag.iter().skip(5).all(u8::is_ascii_digit)
        }
    }
}

/// The lines of every file of the logdir `d`, each file parsed on its own.
fn read_logged(d: &Path, extra: usize) -> Logged {
    let files = logdir_files(d);
    let mut l =
        Logged { nums: Vec::with_capacity(LINES), garbled: 0, samples: Vec::new(), torn: 0, files: files.len() };
    for f in &files {
        let data = std::fs::read(f).unwrap_or_default();
        let unclean = f.extension().is_some_and(|e| e == "u");
        parse_lines(&mut l, &f.file_name().unwrap().to_string_lossy(), &data, unclean, extra);
    }
    l
}

/// The lines of the logdir `d` read as one stream, its files end to end: a line split
/// between two files (the real s6-log's rotation after a write cut short by a full disk)
/// counts as one line.
fn read_logged_joined(d: &Path, extra: usize) -> Logged {
    let files = logdir_files(d);
    let mut l = Logged { nums: Vec::new(), garbled: 0, samples: Vec::new(), torn: 0, files: files.len() };
    let data: Vec<u8> = files.iter().flat_map(|f| std::fs::read(f).unwrap_or_default()).collect();
    parse_lines(&mut l, "the files end to end", &data, false, extra);
    l
}

/// Adds the lines of `data` (the file `name`; `unclean`: an `.u` archive) to `l`.
fn parse_lines(l: &mut Logged, name: &str, data: &[u8], unclean: bool, extra: usize) {
    let mut rest: &[u8] = data;
    while !rest.is_empty() {
        let (ln, next, terminated) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..], true),
            None => (rest, &[][..], false),
        };
        rest = next;
        let num = std::str::from_utf8(ln).ok().and_then(|s| s.get(5..11)?.parse::<usize>().ok());
        match num {
            Some(n) if terminated && line_x(n, extra).as_bytes() == [ln, b"\n"].concat() => l.nums.push(n),
            _ if !terminated && unclean && line_start(ln, extra) => l.torn += 1,
            _ => {
                l.garbled += 1;
                if l.samples.len() < 5 {
                    l.samples.push(format!("{name}: {:?}", String::from_utf8_lossy(&ln[..ln.len().min(80)])));
                }
            }
        }
    }
}

/// Every line 0..n exactly once, in order.
fn assert_exactly_once(l: &Logged, n: usize, what: &str) {
    assert_eq!((l.garbled, l.torn), (0, 0), "{what}: garbled or torn lines: {:?}", l.samples);
    if let Some(i) = (0..n.max(l.nums.len())).find(|&i| l.nums.get(i) != Some(&i)) {
        let ctx: Vec<_> = l.nums[i.saturating_sub(3)..(i + 3).min(l.nums.len())].to_vec();
        panic!(
            "{what}: {} lines logged, want {n} exactly once in order; first difference at #{i}: {ctx:?}",
            l.nums.len()
        );
    }
}

/// (lines lost, duplicates, first appearances in order).
fn at_least_once(l: &Logged, n: usize) -> (usize, usize, bool) {
    let mut seen = vec![false; n];
    let (mut dups, mut next, mut ordered) = (0, 0, true);
    for &x in &l.nums {
        if x >= n {
            continue;
        }
        if seen[x] {
            dups += 1;
        } else {
            seen[x] = true;
            ordered &= x == next;
            next = x + 1;
        }
    }
    (seen.iter().filter(|s| !**s).count(), dups, ordered)
}

// ---------------------------------------------------------------------------------------------
// A scan directory with one logged producer service

struct Setup {
    tmp: TempDir,
    scan: PathBuf,
    svc: PathBuf,
    log: PathBuf,
    logdir: PathBuf,
    gate: Gate,
    scanner: Daemon,
    extra: usize,
}

/// The pid of a service that is up and has notified readiness (0 otherwise).
fn ready_pid(svc: &Path) -> u64 {
    status(svc).filter(|s| !s.finishing && s.ready).map_or(0, |s| s.pid)
}

/// What a producer writes: `batch` lines per write, at most `rate` lines/s (0: no limit),
/// `extra` bytes of padding per line.
struct Load {
    batch: usize,
    rate: u32,
    extra: usize,
}

impl Setup {
    /// `NAME/log/run` is `exec LOGGER -d3 LOGGER_ARGS TMP/logdir`. Both the producer and the
    /// logger notify readiness (`notification-fd` 3): s6-supervise restarts a service that was
    /// ready for 1 s at once, else 1 s after its death.
    fn start(tag: &str, py: &Path, logger: &Path, logger_args: &str, load: Load) -> Setup {
        let tmp = TempDir::new(tag);
        let scan = tmp.join("scan");
        let svc = scan.join("prod");
        let log = svc.join("log");
        let logdir = tmp.join("logdir");
        std::fs::write(tmp.join("producer.py"), PRODUCER).unwrap();
        let gate = Gate::new(&tmp.join("gate"));
        let Load { batch, rate, extra } = load;
        assert!(batch * (49 + extra) <= 4096, "a write must stay within PIPE_BUF");
        make_service(
            &svc,
            &format!(
                "exec {} {} {LINES} {batch} {rate} {extra} {}",
                py.display(),
                tmp.join("producer.py").display(),
                tmp.join("gate").display()
            ),
        );
        make_service(&log, &format!("exec {} -d3 {logger_args} {}", logger.display(), logdir.display()));
        for d in [&svc, &log] {
            std::fs::write(d.join("notification-fd"), "3\n").unwrap();
        }
        let mut c = command(ours("s6-svscan"));
        c.arg(&scan)
            .current_dir(tmp.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(tmp.join("svscan.err")).unwrap());
        let scanner = Daemon::spawn(c);
        let s = Setup { tmp, scan, svc, log, logdir, gate, scanner, extra };
        assert!(
            wait_until(Duration::from_secs(30), || ready_pid(&s.svc) != 0 && ready_pid(&s.log) != 0),
            "{tag}: service and logger not up: {}",
            s.stderr()
        );
        s
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.tmp.join("svscan.err")).unwrap_or_default()
    }

    /// `s6-svc -OPT DIR`.
    fn svc_cmd(&self, opt: &str, dir: &Path) {
        let o = run(ours("s6-svc"), &[opt, dir.to_str().unwrap()], self.tmp.path());
        assert!(o.status.success(), "s6-svc {opt} {}: {o:?}", dir.display());
    }

    /// Waits until `dir` runs a new pid (not `old`) that is ready; returns it.
    fn wait_new_pid(&self, dir: &Path, old: u64) -> u64 {
        let mut pid = 0;
        assert!(
            wait_until(Duration::from_secs(30), || {
                pid = ready_pid(dir);
                pid != 0 && pid != old
            }),
            "{} not restarted: {}",
            dir.display(),
            self.stderr()
        );
        pid
    }

    /// Waits until the producer's counter reaches `n` (or `dl` passes: panic).
    fn wait_counter(&self, n: usize, dl: Duration) {
        let end = Instant::now() + dl;
        while counter(&self.svc) < n {
            assert!(Instant::now() < end, "producer stuck at {} (want {n}): {}", counter(&self.svc), self.stderr());
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    /// Lets the producer write every line, then stops the scanner (`s6-svscanctl -t`): the
    /// service gets SIGTERM, the logger's supervisor SIGHUP, so the logger reads the pipe to
    /// its end once the producer and the scanner are gone. Waits for every process to exit and
    /// reads the logdir.
    fn finish(&mut self) -> Logged {
        self.gate.set(LINES);
        self.wait_counter(LINES, Duration::from_secs(120));
        let o = run(ours("s6-svscanctl"), &["-t", self.scan.to_str().unwrap()], self.tmp.path());
        assert!(o.status.success(), "s6-svscanctl -t: {o:?}");
        assert!(
            self.scanner.wait_timeout(Duration::from_secs(60)).is_some(),
            "s6-svscan did not exit: {}",
            self.stderr()
        );
        assert!(
            wait_until(PROMPT, || processes_under(self.tmp.path()).is_empty()),
            "processes left: {:?}",
            processes_under(self.tmp.path())
        );
        read_logged(&self.logdir, self.extra)
    }
}

/// Scenario 1 (a)+(b): 50 service restarts and 50 logger stops (SIGTERM), alternately, each
/// in the middle of a 2000-line chunk.
#[test]
fn restarts_lose_nothing_exactly_once() {
    let Some(py) = python3() else { return };
    let t0 = Instant::now();
    // At most 5000 lines/s: a 2000-line chunk takes 0.4 s or more, so events land mid-stream.
    let load = Load { batch: 1, rate: 5000, extra: 0 };
    let mut s = Setup::start("log-restarts", &py, &ours("s6-log"), "-b n20 s1000000", load);
    let events = 2 * EVENTS_PER_KIND;
    let chunk = LINES / events;
    let mut rng = Rng(0x5eed_0001_2345_6789);
    let targets = [s.svc.clone(), s.log.clone()];
    let mut pid = [ready_pid(&s.svc), ready_pid(&s.log)];
    let mut born = [Instant::now(); 2];
    let mut mid_stream = 0;
    for k in 0..events {
        let t = k % 2;
        std::thread::sleep(MIN_LIFE.saturating_sub(born[t].elapsed()));
        s.gate.set((k + 1) * chunk);
        s.wait_counter(k * chunk + chunk / 10 + rng.below(chunk as u64 * 7 / 10) as usize, Duration::from_secs(60));
        s.svc_cmd("-t", &targets[t]);
        mid_stream += usize::from(counter(&s.svc) < (k + 1) * chunk);
        pid[t] = s.wait_new_pid(&targets[t], pid[t]);
        born[t] = Instant::now();
    }
    let l = s.finish();
    eprintln!(
        "restarts_lose_nothing_exactly_once: {LINES} lines, {EVENTS_PER_KIND} service restarts + {EVENTS_PER_KIND} logger \
         SIGTERMs ({mid_stream} of them sent before the producer finished its chunk): {} lines logged in {} files, {:.1} s",
        l.nums.len(),
        l.files,
        t0.elapsed().as_secs_f64()
    );
    assert_exactly_once(&l, LINES, "ours");
}

/// What a SIGKILL run gave.
struct KillRun {
    lost: usize,
    dups: usize,
    ordered: bool,
    garbled: usize,
    samples: Vec<String>,
    torn: usize,
    files: usize,
    busy_kills: usize,
}

/// Runs scenario 1 (c) with `logger`: 50 SIGKILLs, each while a 4000-line chunk of 230-byte
/// lines (about 0.9 MB) is being pushed through the full pipe.
fn kill_scenario(tag: &str, py: &Path, logger: &Path) -> KillRun {
    // n200: every SIGKILL leaves a `.u` archive at the next start; none may be pruned.
    let load = Load { batch: 16, rate: 0, extra: 200 };
    let mut s = Setup::start(tag, py, logger, "-b n200 s1000000", load);
    let chunk = LINES / EVENTS_PER_KIND;
    let mut rng = Rng(0x5eed_0002_2345_6789);
    let mut pid = ready_pid(&s.log);
    let mut born = Instant::now();
    let log = s.log.clone();
    let mut busy_kills = 0;
    for k in 0..EVENTS_PER_KIND {
        std::thread::sleep(MIN_LIFE.saturating_sub(born.elapsed()));
        s.gate.set((k + 1) * chunk);
        s.wait_counter(k * chunk + chunk / 10 + rng.below(chunk as u64 * 6 / 10) as usize, Duration::from_secs(60));
        s.svc_cmd("-k", &log);
        busy_kills += usize::from(counter(&s.svc) < (k + 1) * chunk);
        pid = s.wait_new_pid(&log, pid);
        born = Instant::now();
    }
    let l = s.finish();
    let (lost, dups, ordered) = at_least_once(&l, LINES);
    KillRun { lost, dups, ordered, garbled: l.garbled, samples: l.samples, torn: l.torn, files: l.files, busy_kills }
}

/// Scenario 1 (c): the logger SIGKILLed 50 times; ours and, for comparison, the real s6-log.
#[test]
fn sigkills_lose_nothing() {
    let Some(py) = python3() else { return };
    let t0 = Instant::now();
    let real_run = if have_real_s6() {
        let py = py.clone();
        Some(std::thread::spawn(move || kill_scenario("log-kills-real", &py, &real("s6-log"))))
    } else {
        None
    };
    let r = kill_scenario("log-kills-ours", &py, &ours("s6-log"));
    eprintln!(
        "sigkills_lose_nothing: ours: {LINES} lines, {EVENTS_PER_KIND} SIGKILLs ({} while the producer was still writing): \
         {} lost, {} duplicates, {} torn writes, {} garbled, {} files, first appearances {}in order ({:.1} s)",
        r.busy_kills,
        r.lost,
        r.dups,
        r.torn,
        r.garbled,
        r.files,
        if r.ordered { "" } else { "NOT " },
        t0.elapsed().as_secs_f64()
    );
    if let Some(h) = real_run {
        match h.join() {
            Ok(x) => eprintln!(
                "sigkills_lose_nothing: real /usr/bin/s6-log for comparison ({} kills while writing): {} lines lost, \
                 {} duplicates, {} torn writes, {} garbled, {} files",
                x.busy_kills, x.lost, x.dups, x.torn, x.garbled, x.files
            ),
            Err(_) => eprintln!("sigkills_lose_nothing: the run with the real s6-log failed (informational)"),
        }
    }
    // Torn writes (the start of a line at the end of a `.u` archive, the whole line logged
    // again by the next logger) are allowed, like duplicates.
    assert_eq!((r.lost, r.garbled), (0, 0), "ours lost or garbled lines: {:?}", r.samples);
    assert!(r.ordered, "ours: first appearances out of order");
}

// ---------------------------------------------------------------------------------------------
// Disk full

const TMPFS_BYTES: usize = 256 * 1024;

/// An s6-log whose cwd is a 256 KiB tmpfs mounted on `TMP/NAME` in a private mount namespace,
/// with a filler file of `filler` bytes placed before s6-log starts. The namespace is held by a
/// `sleep` after s6-log exits (its exit code goes to `TMP/NAME.rc`), so the test can still read
/// the logdir through `/proc/PID/root`.
struct NsLogger {
    holder: Child,
    mnt: PathBuf,
}

impl NsLogger {
    fn start(tmp: &TempDir, name: &str, s6log: &Path, args: &[&str], stdin: Stdio, filler: usize) -> NsLogger {
        let mnt = tmp.join(name);
        std::fs::create_dir(&mnt).unwrap();
        let script = format!(
            r#"mount -t tmpfs -o size={TMPFS_BYTES} merit-logfull "$0" || exit 97
cd "$0" || exit 98
head -c {filler} /dev/zero >filler
"$@"
echo $? >"$0.rc"
exec sleep 600"#
        );
        let mut c = command("unshare");
        c.args(["--mount", "--propagation", "private", "sh", "-c", &script]).arg(&mnt).arg(s6log).args(args);
        c.current_dir(tmp.path()).stdin(stdin).stdout(Stdio::null());
        c.stderr(std::fs::File::create(tmp.join(format!("{name}.err"))).unwrap());
        let holder = c.spawn().unwrap();
        let n = NsLogger { holder, mnt };
        assert!(wait_until(PROMPT, || n.inside("log/current").exists()), "{name}: logdir not created: {}", n.stderr());
        n
    }
    /// A path inside the tmpfs, seen through the namespace holder's root.
    fn inside(&self, rel: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{}", self.holder.id(), self.mnt.display())).join(rel)
    }
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.mnt.with_extension("err")).unwrap_or_default()
    }
    /// s6-log's exit code once it has exited.
    fn rc(&self) -> Option<i32> {
        std::fs::read_to_string(self.mnt.with_extension("rc")).ok()?.trim().parse().ok()
    }
    /// The s6-log process (the holder's child).
    fn logger_pid(&self) -> Option<i32> {
        let me = self.holder.id() as i32;
        std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .find(|&p| proc_stat(p).is_some_and(|(_, ppid, _)| ppid == me))
    }
    fn free_blocks(&self) -> u64 {
        merit_sys::fs::space(&self.inside("")).unwrap().free
    }
}

impl Drop for NsLogger {
    fn drop(&mut self) {
        if let Some(p) = self.logger_pid() {
            let _ = merit_sys::signal::kill(p, merit_sys::signal::SIGKILL);
        }
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// (state, ppid, utime + stime in ticks) from /proc/PID/stat.
fn proc_stat(pid: i32) -> Option<(char, i32, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = s[s.rfind(')')? + 2..].split_whitespace().collect();
    Some((f[0].chars().next()?, f[1].parse().ok()?, f[11].parse::<u64>().ok()? + f[12].parse::<u64>().ok()?))
}

fn pipe() -> (OwnedFd, OwnedFd) {
    merit_sys::fd::pipe(false).unwrap()
}

/// Scenario 2, blocking: 6000 lines (about 170 KiB) through a pipe into a logdir on a tmpfs with
/// 32 KiB free: the writer stalls, s6-log sleeps; after the filler goes, all lines are there.
fn disk_full_run(who: &str, s6log: &Path) {
    const N: usize = 6000;
    let tmp = TempDir::new(&format!("log-full-{who}"));
    let (r, w) = pipe();
    let ns = NsLogger::start(
        &tmp,
        "mnt",
        s6log,
        &["-b", "r50", "n100", "s16384", "./log"],
        Stdio::from(r),
        TMPFS_BYTES - 32 * 1024,
    );
    let progress = Arc::new(AtomicUsize::new(0));
    let p2 = progress.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::File::from(w);
        for i in 0..N {
            f.write_all(line(i).as_bytes()).unwrap();
            p2.store(i + 1, Ordering::SeqCst);
        }
    });
    // Stalled: the disk full (s6-log said so), and no progress for 1.5 s short of the end.
    let (mut last, mut since) = (usize::MAX, Instant::now());
    assert!(
        wait_until(Duration::from_secs(60), || {
            let p = progress.load(Ordering::SeqCst);
            if p != last {
                (last, since) = (p, Instant::now());
            }
            p < N
                && since.elapsed() > Duration::from_millis(1500)
                && ns.free_blocks() == 0
                && ns.stderr().contains("No space left on device")
        }),
        "{who}: the writer never stalled on a full disk ({} of {N} lines written, {} blocks free): {}",
        progress.load(Ordering::SeqCst),
        ns.free_blocks(),
        ns.stderr()
    );
    let stalled_at = progress.load(Ordering::SeqCst);
    // s6-log waits: alive, asleep, (almost) no CPU over a second. With `r50` it wakes 20 times
    // a second to retry, so one look may catch it running (more so on a busy machine): it must
    // be seen asleep at least once in 20 looks, and never gone.
    let pid = ns.logger_pid().unwrap_or_else(|| panic!("{who}: s6-log is gone: {}", ns.stderr()));
    let (_, _, cpu0) = proc_stat(pid).unwrap();
    let mut states = String::new();
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(50));
        states.push(proc_stat(pid).map_or('-', |s| s.0));
    }
    let (_, _, cpu1) = proc_stat(pid).unwrap_or_else(|| panic!("{who}: s6-log died: {}", ns.stderr()));
    assert!(
        states.contains('S') && !states.contains(['Z', '-']) && ns.rc().is_none(),
        "{who}: s6-log states {states} over 1 s, rc {:?}",
        ns.rc()
    );
    assert!(cpu1 - cpu0 < 30, "{who}: s6-log spins while the disk is full ({} ticks in 1 s)", cpu1 - cpu0);
    assert_eq!(progress.load(Ordering::SeqCst), stalled_at, "{who}: the writer went on");
    // Free the space: everything arrives, exactly once, in order.
    std::fs::remove_file(ns.inside("filler")).unwrap();
    writer.join().unwrap();
    assert!(wait_until(Duration::from_secs(60), || ns.rc().is_some()), "{who}: s6-log did not exit at EOF");
    assert_eq!(ns.rc(), Some(0), "{who}: {}", ns.stderr());
    // Ours keeps every line whole in one file; the real s6-log may split the line that the
    // full disk cut between two files (see disk_full_never_splits_a_line).
    let l = if who == "real" { read_logged_joined(&ns.inside("log"), 0) } else { read_logged(&ns.inside("log"), 0) };
    eprintln!("disk_full_blocks_then_recovers: {who}: writer stalled at line {stalled_at} of {N} (s6-log states {states}); {} lines in {} files after freeing", l.nums.len(), l.files);
    assert_exactly_once(&l, N, who);
}

#[test]
fn disk_full_blocks_then_recovers() {
    if !can_unshare("disk-full tests") {
        return;
    }
    disk_full_run("ours", &ours("s6-log"));
    if have_real_s6() {
        disk_full_run("real", &real("s6-log"));
    }
}

/// Archive (size, content) in name order, and `current`'s content.
type Kept = (Vec<(u64, Vec<u8>)>, Vec<u8>);

/// Scenario 2, pruning: stdin a file of 3000 lines; the tmpfs fills up (20 KiB free), the
/// logger is stuck until the filler goes; returns what is kept.
fn prune_run(tmp: &TempDir, name: &str, s6log: &Path, control: &[&str], input: &Path) -> Kept {
    let mut args = vec!["-b", "r50"];
    args.extend_from_slice(control);
    args.extend(["s4096", "l0", "./log"]);
    let stdin = Stdio::from(std::fs::File::open(input).unwrap());
    let ns = NsLogger::start(tmp, name, s6log, &args, stdin, TMPFS_BYTES - 20 * 1024);
    assert!(
        wait_until(Duration::from_secs(30), || ns.stderr().contains("No space left on device") || ns.rc().is_some()),
        "{name}: the disk did not fill: {}",
        ns.stderr()
    );
    assert!(ns.rc().is_none(), "{name}: s6-log exited: {}", ns.stderr());
    std::thread::sleep(Duration::from_millis(300));
    assert!(ns.rc().is_none() && ns.logger_pid().is_some(), "{name}: s6-log exited while the disk was full");
    std::fs::remove_file(ns.inside("filler")).unwrap();
    assert!(wait_until(Duration::from_secs(30), || ns.rc().is_some()), "{name}: s6-log did not finish");
    assert_eq!(ns.rc(), Some(0), "{name}: {}", ns.stderr());
    let files = logdir_files(&ns.inside("log"));
    let (cur, arch) = files.split_last().unwrap();
    let kept = arch.iter().map(|p| (std::fs::metadata(p).unwrap().len(), std::fs::read(p).unwrap())).collect();
    (kept, std::fs::read(cur).unwrap())
}

#[test]
fn disk_full_pruning_vs_real() {
    if !can_unshare("disk-full tests") {
        return;
    }
    let tmp = TempDir::new("log-full-prune");
    const N: usize = 3000;
    let input: String = (0..N).map(line).collect();
    std::fs::write(tmp.join("input"), &input).unwrap();
    for (tag, control, n_max, s_max) in
        [("n3", &["n3"][..], 3, u64::MAX), ("S24000", &["n20", "S24000"][..], 20, 24000)]
    {
        let mut results = Vec::new();
        let mut impls = vec![("ours", ours("s6-log"))];
        if have_real_s6() {
            impls.push(("real", real("s6-log")));
        }
        for (who, bin) in impls {
            let (arch, cur) = prune_run(&tmp, &format!("{tag}-{who}"), &bin, control, &tmp.join("input"));
            let total: u64 = arch.iter().map(|a| a.0).sum();
            eprintln!(
                "disk_full_pruning_vs_real: {tag} {who}: {} archives kept ({total} bytes), sizes {:?}, current {} bytes",
                arch.len(),
                arch.iter().map(|a| a.0).collect::<Vec<_>>(),
                cur.len()
            );
            assert!(arch.len() <= n_max && total <= s_max, "{tag} {who}: over the n/S bounds");
            assert!(arch.len() >= 2, "{tag} {who}: nothing archived");
            // The kept lines are the newest ones, contiguous up to the end of the input.
            let mut kept: Vec<u8> = arch.iter().flat_map(|a| a.1.clone()).collect();
            kept.extend_from_slice(&cur);
            assert!(kept.len() < input.len(), "{tag} {who}: nothing pruned");
            assert!(input.as_bytes().ends_with(&kept), "{tag} {who}: kept lines are not the newest ones");
            assert!(kept.first().is_some_and(|_| input.as_bytes()[input.len() - kept.len() - 1] == b'\n'));
            results.push((who, arch, cur));
        }
        if results.len() == 2 {
            let (o, r) = (&results[0], &results[1]);
            assert_eq!(
                o.1.iter().map(|a| a.0).collect::<Vec<_>>(),
                r.1.iter().map(|a| a.0).collect::<Vec<_>>(),
                "{tag}: archive sizes ours vs real"
            );
            assert!(o.1 == r.1 && o.2 == r.2, "{tag}: kept contents differ between ours and real");
        }
    }
}

/// Scenario 2, a line cut by the full disk: stdin a file of 400 lines, one page (4096 bytes)
/// free. The first write is cut short at the page's end, inside a line; then a rotation comes,
/// because `current` is at `s` (`s4096`, `alarm` false) or because of a SIGALRM (`s1000000`,
/// `alarm` true). It must not split that line between the archive and the next `current`.
/// Returns each file of the logdir (archives in name order, then `current`) once the filler
/// has gone and s6-log has read everything.
fn cut_line_run(tmp: &TempDir, who: &str, s6log: &Path, input: &Path, alarm: bool) -> Vec<Vec<u8>> {
    let stdin = Stdio::from(std::fs::File::open(input).unwrap());
    let size = if alarm { "s1000000" } else { "s4096" };
    let name = format!("cut-{}-{who}", &size[1..]);
    let ns = NsLogger::start(tmp, &name, s6log, &["-b", "r50", "n10", size, "./log"], stdin, TMPFS_BYTES - 4096);
    assert!(
        wait_until(Duration::from_secs(30), || ns.stderr().contains("No space left on device") || ns.rc().is_some()),
        "{name}: the disk did not fill: {}",
        ns.stderr()
    );
    assert!(ns.rc().is_none(), "{name}: s6-log exited on a full disk: {}", ns.stderr());
    if alarm {
        let pid = ns.logger_pid().unwrap_or_else(|| panic!("{name}: s6-log is gone: {}", ns.stderr()));
        merit_sys::signal::kill(pid, merit_sys::signal::SIGALRM).unwrap();
        assert!(
            wait_until(PROMPT, || logdir_files(&ns.inside("log")).len() > 1),
            "{name}: no archive after SIGALRM: {}",
            ns.stderr()
        );
    }
    std::fs::remove_file(ns.inside("filler")).unwrap();
    assert!(wait_until(Duration::from_secs(30), || ns.rc().is_some()), "{name}: s6-log did not finish");
    assert_eq!(ns.rc(), Some(0), "{name}: {}", ns.stderr());
    logdir_files(&ns.inside("log")).iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn disk_full_never_splits_a_line() {
    if !can_unshare("disk-full tests") {
        return;
    }
    let tmp = TempDir::new("log-full-cut");
    let input: String = (0..400).map(line).collect();
    // The page's end falls inside a line, so the first write is cut there.
    let mut ends = (0..400).scan(0, |at, i| {
        *at += line(i).len();
        Some(*at)
    });
    assert!(!ends.any(|e| e == 4096), "the input has a line ending at byte 4096: the scenario needs another");
    std::fs::write(tmp.join("input"), &input).unwrap();
    for alarm in [false, true] {
        let how = if alarm { "SIGALRM" } else { "size" };
        let ours_files = cut_line_run(&tmp, "ours", &ours("s6-log"), &tmp.join("input"), alarm);
        let unfinished: Vec<usize> =
            (0..ours_files.len()).filter(|&i| ours_files[i].last().is_some_and(|&c| c != b'\n')).collect();
        eprintln!(
            "disk_full_never_splits_a_line: {how}: ours: files of {:?} bytes, files ending inside a line: {unfinished:?}",
            ours_files.iter().map(Vec::len).collect::<Vec<_>>()
        );
        assert_eq!(
            ours_files.concat(),
            input.as_bytes(),
            "{how}: ours: the logdir does not hold the input exactly once, in order"
        );
        assert!(
            unfinished.is_empty(),
            "{how}: ours: a line is split between two files (files {unfinished:?} end inside a line)"
        );
        assert!(ours_files.len() >= 2, "{how}: ours: no rotation happened");
        if have_real_s6() {
            // The oracle shows the scenario reaches the cut: s6-log 2.11.3.2 splits that line.
            let real_files = cut_line_run(&tmp, "real", &real("s6-log"), &tmp.join("input"), alarm);
            assert_eq!(real_files.concat(), input.as_bytes(), "{how}: real: the logdir does not hold the input");
            let first = real_files.first().map(Vec::len);
            eprintln!(
                "disk_full_never_splits_a_line: {how}: real: first archive {first:?} bytes, ends with a newline: {:?}",
                real_files.first().and_then(|f| f.last()).map(|&c| c == b'\n')
            );
            assert_eq!(
                first,
                Some(4096),
                "{how}: real: the first archive is not the cut page (the scenario missed the cut)"
            );
        }
    }
}

/// A line longer than `s` (`-l 0`), cut short by a file size limit (RLIMIT_FSIZE 5120 bytes,
/// SIGXFSZ ignored: the write stops at the limit) after more than `s` bytes. The line cannot fit
/// in one file: s6 (and merit before the "never split a line" change) archives the first 5120
/// bytes and writes the rest to the next `current`. It must not spin truncating `current` back
/// to 0 and rewriting the same 5120 bytes forever (deaf to SIGTERM: the signalfd is never read).
fn fsize_long_line_run(who: &str, s6log: &Path) {
    let tmp = TempDir::new(&format!("log-fsize-long-{who}"));
    let input = format!("a\nb\n{}\nc\nd\n", "L".repeat(10_000));
    std::fs::write(tmp.join("input"), &input).unwrap();
    let mut c = command("sh");
    c.args(["-c", r#"trap "" XFSZ; ulimit -f 10 || exit 97; exec "$0" -l 0 s4096 ./log"#]).arg(s6log);
    c.current_dir(tmp.path()).stdout(Stdio::null()).stderr(Stdio::null());
    c.stdin(std::fs::File::open(tmp.join("input")).unwrap());
    let mut d = Daemon { child: c.spawn().unwrap() };
    let st = d.wait_timeout(PROMPT);
    if st.is_none() {
        let cpu = proc_stat(d.pid()).map(|s| s.2);
        d.signal(merit_sys::signal::SIGTERM);
        let after_term = d.wait_timeout(Duration::from_secs(2));
        panic!(
            "{who}: s6-log did not finish a 10 KB input in {PROMPT:?} (cpu ticks {cpu:?}; exited after SIGTERM: {:?}); \
             logdir files {:?}",
            after_term,
            logdir_files(&tmp.join("log")).iter().map(|p| std::fs::metadata(p).map(|m| m.len()).ok()).collect::<Vec<_>>()
        );
    }
    assert_eq!(st.and_then(|s| s.code()), Some(0), "{who}: exit status {st:?}");
    let files: Vec<Vec<u8>> = logdir_files(&tmp.join("log")).iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(files.concat(), input.as_bytes(), "{who}: the logdir does not hold the input exactly once, in order");
}

#[test]
fn file_size_limit_long_line_does_not_spin() {
    fsize_long_line_run("ours", &ours("s6-log"));
    if have_real_s6() {
        fsize_long_line_run("real", &real("s6-log"));
    }
}

/// The same on a full disk: `-l 0`, a 20000-byte line, two pages free, `s4096`. The write is cut
/// after 8192 bytes (more than `s`): s6-log must wait for space (asleep, retrying every `r`), not
/// loop on truncate + write; once the filler goes, everything is there, in order.
#[test]
fn disk_full_long_line_does_not_spin() {
    if !can_unshare("disk-full tests") {
        return;
    }
    let tmp = TempDir::new("log-full-long");
    let input = format!("a\nb\n{}\nc\nd\n", "L".repeat(20_000));
    std::fs::write(tmp.join("input"), &input).unwrap();
    let stdin = Stdio::from(std::fs::File::open(tmp.join("input")).unwrap());
    let ns = NsLogger::start(
        &tmp,
        "long",
        &ours("s6-log"),
        &["-b", "-l", "0", "r50", "s4096", "./log"],
        stdin,
        TMPFS_BYTES - 8192,
    );
    assert!(
        wait_until(Duration::from_secs(30), || ns.free_blocks() == 0 || ns.rc().is_some()),
        "the disk did not fill: {}",
        ns.stderr()
    );
    assert!(ns.rc().is_none(), "s6-log exited on a full disk: {}", ns.stderr());
    std::thread::sleep(Duration::from_millis(300));
    let pid = ns.logger_pid().unwrap_or_else(|| panic!("s6-log is gone: {}", ns.stderr()));
    let (_, _, cpu0) = proc_stat(pid).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let (_, _, cpu1) = proc_stat(pid).unwrap_or_else(|| panic!("s6-log died: {}", ns.stderr()));
    assert!(cpu1 - cpu0 < 30, "s6-log spins while the disk is full ({} ticks in 1 s)", cpu1 - cpu0);
    std::fs::remove_file(ns.inside("filler")).unwrap();
    assert!(wait_until(Duration::from_secs(30), || ns.rc().is_some()), "s6-log did not finish");
    assert_eq!(ns.rc(), Some(0), "{}", ns.stderr());
    let files: Vec<Vec<u8>> = logdir_files(&ns.inside("log")).iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(files.concat(), input.as_bytes(), "the logdir does not hold the input exactly once, in order");
}
