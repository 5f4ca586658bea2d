//! Program-level fuzzing (issue "Trustworthy as PID 1", hostile input): random command lines,
//! and random bytes on stdin for the programs that read it, for s6-svc, s6-svstat, s6-svok,
//! s6-svwait, s6-svscanctl, s6-tai64n, s6-tai64nlocal, s6-log and service. Each run must end
//! by itself within 10 s, never by a signal, with one of the program's documented exit codes,
//! and a non-zero exit of 100 or 111 must come with a `PROG: ` diagnostic on stderr.
//!
//! Command lines are valid seeds with 1–6 mutations on arguments (replace, insert, delete,
//! duplicate, dictionary words, boundary numbers) and on their bytes (flips, insertions,
//! truncation, a chunk repeated up to 128 KiB: `MAX_ARG_STRLEN`). The generator is the one of
//! merit-core's tests/fuzz.rs in small: splitmix64 from (seed, program, index), so
//! `MERIT_FUZZ_SEED=S MERIT_FUZZ_ONLY=PROG MERIT_FUZZ_INDEX=I` replays one case (printed).
//!
//! Everything runs in a fresh temp tree, never on the host's services: paths in the argv are
//! relative to the tree; s6-log's logdir and status-file directives are rewritten to names in
//! the tree and its processors to `?cat`; `service` always gets `--root TREE` and its path
//! options (`--root`, `--scan-dir`, `--available-dir`, `--enabled-dir`) and `logs -f` (which
//! follows forever, by design) are taken out of the random words; s6-svwait and s6-svc, which
//! wait for events forever without a timeout (as the real ones do), always get `-t 200` /
//! `-T 200` and lose the random ones.
//!
//! Cases per program: MERIT_FUZZ_PROGRAM_ITERS, else MERIT_FUZZ_ITERS / 300 (the long run's
//! 1000000 gives 3333), at least 150 (the short run). One row
//! per program: `SUITE<TAB>fuzz/PROG<TAB>FIGURE<TAB>LIMIT<TAB>pass|fail` on stdout and, when
//! MERIT_SUITE_REPORT names a file, appended to it.

use crate::common::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

// ------------------------------------------------------------------------------------------
// The generator: common::Rng, seeded per (seed, program, index) (`Rng::for_case`) so that one
// case replays alone.

const INTERESTING: &[u8] = b"\n\r\t -+,./:;=@[]()^$*?{}|\\!0123456789aAfFzZ\x01\x7f\x80\xff";
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "99",
    "100",
    "4095",
    "4096",
    "32767",
    "32768",
    "65535",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
];
const ARG_MAX: usize = 131072;

fn mutate_bytes(r: &mut Rng, a: &mut Vec<u8>) {
    match r.index(6) {
        0 if !a.is_empty() => {
            let i = r.index(a.len());
            a[i] ^= 1 << r.index(8);
        }
        1 => {
            let at = r.index(a.len() + 1);
            let b = if r.one_in(2) { *r.pick(INTERESTING) } else { r.next() as u8 };
            a.insert(at, b);
        }
        2 => {
            let n = r.index(a.len() + 1);
            a.truncate(n);
        }
        3 if !a.is_empty() => {
            // A chunk repeated: a few times, or up to the size of one argument.
            let s = r.index(a.len());
            let n = 1 + r.index((a.len() - s).min(8));
            let chunk = a[s..s + n].to_vec();
            let times = if r.one_in(6) { (ARG_MAX.saturating_sub(a.len()) / n).max(1) } else { 1 + r.index(32) };
            let mut rep = Vec::new();
            for _ in 0..times {
                rep.extend_from_slice(&chunk);
            }
            a.splice(s..s, rep);
        }
        4 => {
            let at = r.index(a.len() + 1);
            a.splice(at..at, r.pick(NUMBERS).bytes());
        }
        _ => {
            let at = r.index(a.len() + 1);
            a.insert(at, r.next() as u8);
        }
    }
    a.truncate(ARG_MAX - 1);
}

/// A command line: a seed, then 0–6 mutations.
fn gen_args(r: &mut Rng, p: &Prog) -> Vec<Vec<u8>> {
    let mut args: Vec<Vec<u8>> = r.pick(p.seeds).iter().map(|s| s.as_bytes().to_vec()).collect();
    let n = r.index(7);
    for _ in 0..n {
        match r.index(8) {
            0 if !args.is_empty() => {
                let i = r.index(args.len());
                args[i] = r.pick(p.dict).as_bytes().to_vec();
            }
            1 => {
                let at = r.index(args.len() + 1);
                args.insert(at, r.pick(p.dict).as_bytes().to_vec());
            }
            2 if !args.is_empty() => {
                let i = r.index(args.len());
                args.remove(i);
            }
            3 if !args.is_empty() => {
                let i = r.index(args.len());
                let a = args[i].clone();
                args.insert(i, a);
            }
            4 => {
                // Splice with another seed.
                let other = r.pick(p.seeds);
                let cut = r.index(args.len() + 1);
                let from = r.index(other.len() + 1);
                args.truncate(cut);
                args.extend(other[from..].iter().map(|s| s.as_bytes().to_vec()));
            }
            5 => {
                let at = r.index(args.len() + 1);
                args.insert(at, r.pick(NUMBERS).as_bytes().to_vec());
            }
            _ if !args.is_empty() => {
                let i = r.index(args.len());
                mutate_bytes(r, &mut args[i]);
            }
            _ => args.push(r.pick(p.dict).as_bytes().to_vec()),
        }
    }
    // The kernel refuses NUL in arguments and more than ~2 MiB in all.
    for a in &mut args {
        a.retain(|&b| b != 0);
    }
    let mut total = 0;
    args.retain(|a| {
        total += a.len() + 1;
        total < 1 << 20
    });
    args
}

/// Bytes for stdin: lines with and without TAI64N labels, mutated.
fn gen_stdin(r: &mut Rng) -> Vec<u8> {
    const LINES: &[&[u8]] = &[
        b"@400000006b082607367964e5 hello\n",
        b"@4000000058684a24000000001 leap\n",
        b"@ffffffffffffffffffffffff max\n",
        b"@400000000000000a00000000 epoch\n",
        b"plain line\n",
        b"no newline",
        b"\n",
        b"\0nul\0",
        b"foo bar baz\n",
    ];
    let mut d = Vec::new();
    for _ in 0..r.index(12) {
        let l: &[u8] = r.pick::<&[u8]>(LINES);
        d.extend_from_slice(l);
    }
    for _ in 0..r.index(6) {
        mutate_bytes(r, &mut d);
    }
    // At most ~2000 lines: s6-log rewrites a `=` status file for every line (0.6 ms a line for
    // the real one here), so a longer input measures the file system, not the parsers.
    d.truncate(4096);
    if r.one_in(10) {
        // A long line, over s6-log's default limit of 8192.
        let n = 1 + r.index(40000);
        d.extend(std::iter::repeat(b'x').take(n));
    }
    d
}

// ------------------------------------------------------------------------------------------
// The programs

struct Prog {
    name: &'static str,
    seeds: &'static [&'static [&'static str]],
    dict: &'static [&'static str],
    /// Documented exit codes (s6-svwait may also exit with a count of failures).
    codes: &'static [i32],
    /// Whether it reads stdin (then it gets random bytes; otherwise /dev/null).
    stdin: bool,
}

const SVC_LETTERS: &str = "-abqhkti12pcyroduDUxOQ";

/// `service`'s words: its commands, then names, options and values.
const SERVICE_DICT: [&str; 34] = concat(
    crate::service_common::SERVICE_COMMANDS,
    [
        "web",
        "none",
        ".",
        "..",
        "a/b",
        ".x",
        "--json",
        "--no-color",
        "--timeout",
        "--timeout=1",
        "--help",
        "--generate",
        "--list-names",
        "--",
        "-n",
        "-n3",
        "-h",
        "man",
        "zsh",
        "fish",
    ],
);

/// `a` then `b`, in a constant (`N` must be `A + B`).
const fn concat<const A: usize, const B: usize, const N: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; N] {
    assert!(A + B == N);
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < A { a[i] } else { b[i - A] };
        i += 1;
    }
    out
}

const PROGS: &[Prog] = &[
    Prog {
        name: "s6-svc",
        seeds: &[
            &["-u", "svc"],
            &["-d", "sup"],
            &["-wu", "-T", "100", "-u", "sup"],
            &["-abqhkti12pcyroduDUxOQ", "sup"],
            &["-wD", "-T1", "-d", "missing"],
            &["-x", "."],
            &[],
        ],
        dict: &[
            "-u",
            "-d",
            "-x",
            "-wu",
            "-wU",
            "-wd",
            "-wD",
            "-wr",
            "-wR",
            "-T",
            "-T0",
            "-T100",
            "--",
            "-",
            "svc",
            "sup",
            "missing",
            ".",
            "",
            SVC_LETTERS,
        ],
        codes: &[0, 1, 99, 100, 102, 111],
        stdin: false,
    },
    Prog {
        name: "s6-svstat",
        seeds: &[
            &["svc"],
            &["sup"],
            &["-n", "sup"],
            &["-uwNrpest", "sup"],
            &["-o", "up,pid,updownfor", "sup"],
            &["-o"],
            &[],
        ],
        dict: &[
            "-n", "-o", "-u", "-w", "-N", "-r", "-p", "-e", "-s", "-t", "--", "up,", "readyfor", ",", "svc", "sup",
            "missing",
        ],
        codes: &[0, 1, 100, 111],
        stdin: false,
    },
    Prog {
        name: "s6-svok",
        seeds: &[&["svc"], &["sup"], &["missing"], &[], &["-x"]],
        dict: &["svc", "sup", "missing", "-", "--", ".", ""],
        codes: &[0, 1, 100, 111],
        stdin: false,
    },
    Prog {
        name: "s6-svwait",
        seeds: &[
            &["-u", "-t", "100", "svc"],
            &["-D", "-t", "50", "sup"],
            &["-a", "-o", "-t1", "svc", "sup"],
            &["-U", "missing"],
            &[],
        ],
        dict: &["-U", "-u", "-d", "-D", "-r", "-R", "-a", "-o", "-t", "-t0", "-t100", "--", "svc", "sup", "missing"],
        codes: &[0, 99, 100, 102, 111],
        stdin: false,
    },
    Prog {
        name: "s6-svscanctl",
        seeds: &[&["-h", "scan"], &["-an", "scan"], &["-q", "missing"], &["-z", "."], &[]],
        dict: &["-a", "-b", "-h", "-i", "-n", "-N", "-p", "-q", "-r", "-s", "-t", "-z", "--", "scan", "missing", "."],
        codes: &[0, 100, 111],
        stdin: false,
    },
    Prog { name: "s6-tai64n", seeds: &[&[]], dict: &["-", "x"], codes: &[0, 100, 111], stdin: true },
    Prog {
        name: "s6-tai64nlocal",
        seeds: &[&[], &["-g"]],
        dict: &["-g", "-", "--", "-x"],
        codes: &[0, 100, 111],
        stdin: true,
    },
    Prog {
        name: "s6-log",
        seeds: &[
            &["t", "./log"],
            &["-b", "--", "n3", "s4096", "T", "./log"],
            &["-l", "48", "-d1", "f", "1", "+^foo", "2", "=./st"],
            &["-q", "-p", "E100", "2", "-bar", "^50", "=./st2", "S100000", "./log2"],
            &["s4096", "?cat", "./log3"],
            &["+(a|b)*[[:alpha:]]{2,3}", "1"],
            &["1"],
            &[],
        ],
        dict: &[
            "-l",
            "-d",
            "-b",
            "-p",
            "-q",
            "-v",
            "--",
            "f",
            "t",
            "T",
            "1",
            "2",
            "+",
            "-",
            "+.*",
            "-[",
            "+(",
            "+a{1,2}{3}",
            "n0",
            "s0",
            "S1",
            "l0",
            "r0",
            "E0",
            "^0",
            "pPREFIX",
            "?cat",
            "./log",
            "=./st",
        ],
        codes: &[0, 100, 111],
        stdin: true,
    },
    Prog {
        name: "service",
        seeds: &[
            &["list"],
            &["web", "status"],
            &["status", "web"],
            &["--json", "status", "web"],
            &["enable", "web"],
            &["disable", "web"],
            &["start", "web"],
            &["--timeout", "0.1", "restart", "web"],
            &["logs", "web", "-n", "5"],
            &["--generate", "bash"],
            &["--list-names"],
            &["-h"],
        ],
        dict: &SERVICE_DICT,
        // service(8) EXIT STATUS (LSB): 0 ok, 1 failed, 2 usage, 3 down, 4 unknown service or no
        // permission, 5 not an available service (actions), 7 not running (reload).
        codes: &[0, 1, 2, 3, 4, 5, 7],
        stdin: false,
    },
];

/// Keeps the random command line inside the temp tree (see the module doc).
fn sanitize(p: &Prog, root: &Path, mut args: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let tail = |a: &[u8]| -> Vec<u8> { a.iter().filter(|c| c.is_ascii_alphanumeric()).take(8).copied().collect() };
    match p.name {
        "s6-log" => {
            for a in &mut args {
                match a.first() {
                    Some(b'.') | Some(b'/') => *a = [b"./log".as_slice(), &tail(a)].concat(),
                    Some(b'=') => *a = [b"=./st".as_slice(), &tail(a)].concat(),
                    Some(b'!') | Some(b'?') => *a = b"?cat".to_vec(),
                    _ => {}
                }
            }
            args
        }
        "service" => {
            args.retain(|a| {
                let opt = a.split(|&c| c == b'=').next().unwrap_or(&[]);
                !matches!(opt, b"--root" | b"--scan-dir" | b"--available-dir" | b"--enabled-dir")
                    && a.as_slice() != b"-f"
            });
            let mut v = vec![b"--root".to_vec(), root.as_os_str().as_encoded_bytes().to_vec()];
            v.extend(args);
            v
        }
        // They wait for events by design, forever without a timeout (as the real ones do):
        // every run gets one, and the random ones are taken out.
        "s6-svwait" | "s6-svc" => {
            let t = if p.name == "s6-svwait" { b't' } else { b'T' };
            args.retain(|a| !(a.first() == Some(&b'-') && a.contains(&t)));
            let mut v = vec![vec![b'-', t], b"200".to_vec()];
            v.extend(args);
            v
        }
        _ => args,
    }
}

/// The temp tree every program runs in (cwd): `svc` (a service directory, no supervisor),
/// `sup` (one with a stale `supervise/`: status file, lock nobody holds, control FIFO nobody
/// reads), `scan` (a scan directory whose control FIFO nobody reads), and the `service` layout
/// with an available and enabled service `web`.
fn make_tree(tag: &str) -> TempDir {
    let t = TempDir::new(tag);
    make_service(&t.join("svc"), "exec sleep 1000");
    make_service(&t.join("sup"), "exec sleep 1000");
    std::fs::create_dir_all(t.join("sup/supervise")).unwrap();
    let st = merit_core::status::StatusFile { pid: 0, wstat: 15, ready: true, ..Default::default() };
    std::fs::write(t.join("sup/supervise/status"), st.encode()).unwrap();
    std::fs::write(t.join("sup/supervise/lock"), b"").unwrap();
    mkfifo(&t.join("sup/supervise/control"));
    std::fs::create_dir_all(t.join("scan/.s6-svscan")).unwrap();
    mkfifo(&t.join("scan/.s6-svscan/control"));
    for d in ["s6/run", "etc/s6/services/available", "etc/s6/services/enabled", "var/log/web"] {
        std::fs::create_dir_all(t.join(d)).unwrap();
    }
    make_service(&t.join("etc/s6/services/available/web"), "exec sleep 1000");
    std::os::unix::fs::symlink("../available/web", t.join("etc/s6/services/enabled/web")).unwrap();
    std::fs::write(t.join("var/log/web/current"), b"@400000006b082607367964e5 hello\n").unwrap();
    t
}

fn mkfifo(p: &Path) {
    merit_sys::mkfifo(p, 0o600).unwrap_or_else(|e| panic!("mkfifo {}: {e}", p.display()));
}

// ------------------------------------------------------------------------------------------
// Running one case

const LIMIT: Duration = Duration::from_secs(10);

struct Case {
    code: Option<i32>,
    signal: Option<i32>,
    stderr: Vec<u8>,
    elapsed: Duration,
    timed_out: bool,
}

fn run_case(p: &Prog, dir: &Path, args: &[Vec<u8>], input: &[u8]) -> Case {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::ExitStatusExt;
    let mut cmd = command(ours(p.name));
    cmd.args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .current_dir(dir)
        .env("MERIT_ROOT", dir)
        .env_remove("NO_COLOR")
        .env("TZ", "UTC")
        .stdin(if p.stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let t0 = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let pid = child.id() as i32;
    let feeder = child.stdin.take().map(|mut w| {
        let data = input.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        })
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut timed_out = false;
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        if t0.elapsed() > LIMIT {
            timed_out = true;
            // Its own session (command() calls setsid): the group is ours to kill.
            let _ = merit_sys::signal::kill(-pid, merit_sys::signal::SIGKILL);
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = t0.elapsed();
    // Whatever it left behind in its session (s6-log's processors) goes too.
    let _ = merit_sys::signal::kill(-pid, merit_sys::signal::SIGKILL);
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let _ = reader.join();
    let stderr = err_reader.join().unwrap_or_default();
    Case { code: status.code(), signal: status.signal(), stderr, elapsed, timed_out }
}

fn show_args(args: &[Vec<u8>]) -> String {
    let v: Vec<String> = args
        .iter()
        .map(|a| {
            let s = String::from_utf8_lossy(&a[..a.len().min(80)]).into_owned();
            if a.len() > 80 {
                format!("{s:?}…({} bytes)", a.len())
            } else {
                format!("{s:?}")
            }
        })
        .collect();
    v.join(" ")
}

/// What is wrong with a case, if anything.
fn judge(p: &Prog, c: &Case) -> Option<String> {
    if c.timed_out {
        return Some(format!("still running after {LIMIT:?}"));
    }
    if let Some(s) = c.signal {
        return Some(format!("killed by signal {s}"));
    }
    let code = c.code?;
    // s6-svwait exits with the number of services that failed for good.
    let counted = p.name == "s6-svwait" && (0..99).contains(&code);
    if !p.codes.contains(&code) && !counted {
        return Some(format!("exit {code}, not one of {:?}", p.codes));
    }
    let err = String::from_utf8_lossy(&c.stderr);
    // `s6-svc -w` speaks as the program the real one execs.
    let names: &[&str] = if p.name == "s6-svc" { &["s6-svc", "s6-svlisten1", "s6-svwait"] } else { &[p.name] };
    let diag = names.iter().any(|n| err.starts_with(&format!("{n}: "))) && err.ends_with('\n');
    if (code == 100 || code == 111) && p.name != "service" && !diag {
        return Some(format!("exit {code} without a {}: diagnostic: {err:?}", p.name));
    }
    if code == 2 && p.name == "service" && err.is_empty() {
        return Some("usage exit without a message".into());
    }
    None
}

#[test]
fn fuzz_programs() {
    let seed = fuzz_seed();
    let iters = env_u64("MERIT_FUZZ_PROGRAM_ITERS")
        .unwrap_or_else(|| env_u64("MERIT_FUZZ_ITERS").map_or(150, |n| (n / 300).max(150)));
    let only: Option<Vec<String>> =
        std::env::var("MERIT_FUZZ_ONLY").ok().map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let only_index = env_u64("MERIT_FUZZ_INDEX");
    let chosen: Vec<&Prog> =
        PROGS.iter().filter(|p| only.as_ref().map_or(true, |o| o.iter().any(|n| n == p.name))).collect();
    let _ = std::io::stdout().lock().write_all(
        format!("fuzz programs: seed {seed:#x}, {iters} cases per program; replay with MERIT_FUZZ_SEED={seed:#x}\n")
            .as_bytes(),
    );
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for _ in 0..2 {
            sc.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = chosen.get(k) else { break };
                let tree = make_tree(&format!("fuzz-{}", p.name));
                let range = match only_index {
                    Some(i) => i..i + 1,
                    None => 0..iters,
                };
                let (mut n, mut bad, mut max) = (0u64, 0u64, Duration::ZERO);
                for index in range {
                    let r = &mut Rng::for_case(seed, p.name, index);
                    let args = sanitize(p, tree.path(), gen_args(r, p));
                    let input = if p.stdin { gen_stdin(r) } else { Vec::new() };
                    if only_index.is_some() {
                        println!("case {index}: {} {} (stdin {} bytes)", p.name, show_args(&args), input.len());
                    }
                    let c = run_case(p, tree.path(), &args, &input);
                    n += 1;
                    max = max.max(c.elapsed);
                    if let Some(why) = judge(p, &c) {
                        bad += 1;
                        failures.lock().unwrap().push(format!(
                            "{} {}: {why} (stdin {} bytes; stderr {:?})\n  replay: MERIT_FUZZ_SEED={seed:#x} MERIT_FUZZ_ONLY={} MERIT_FUZZ_INDEX={index} cargo test -p merit-programs --test it fuzz_programs:: -- --nocapture",
                            p.name,
                            show_args(&args),
                            input.len(),
                            String::from_utf8_lossy(&c.stderr[..c.stderr.len().min(300)]),
                            p.name
                        ));
                    }
                }
                let figure = format!("{n} runs, {bad} failures, max {:.0} ms", max.as_secs_f64() * 1e3);
                let limit = format!("documented exit code {:?}, no signal, <{} s", p.codes, LIMIT.as_secs());
                report_row(p.name, &figure, &limit, bad == 0);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "seed {seed:#x}: {} failing cases:\n{}", failures.len(), failures.join("\n"));
}

/// In-process: the option parser every s6 program uses (`getopt.rs`, skalibs' `subgetopt_r`)
/// and `msg::parse_uint`, on random command lines and option specs. It must end, never panic,
/// return only letters of the spec (with an argument exactly when the spec says so), and leave
/// operands that are a suffix of the arguments.
#[test]
fn fuzz_getopt() {
    use merit_programs::getopt::{Getopt, Opt};
    const SPECS: &[&[u8]] =
        &[b"UudDrRaot:", b"abqhkti12pcyroduDUxOQT:w:", b"zabhitqnNprs0678", b"zu:g:G:U", b"g", b"", b":", b"a::b"];
    let seed = env_u64("MERIT_FUZZ_SEED").unwrap_or(0x6e7);
    let iters = env_u64("MERIT_FUZZ_ITERS").unwrap_or(10000);
    let all: Vec<&'static [&'static str]> = PROGS.iter().flat_map(|p| p.seeds.iter().copied()).collect();
    let dict: Vec<&'static str> = PROGS.iter().flat_map(|p| p.dict.iter().copied()).collect();
    let prog = Prog { name: "getopt", seeds: all.leak(), dict: dict.leak(), codes: &[], stdin: false };
    let t0 = Instant::now();
    let mut max = Duration::ZERO;
    for index in 0..iters {
        let r = &mut Rng::for_case(seed, "getopt", index);
        let args = gen_args(r, &prog);
        let spec: Vec<u8> = if r.one_in(8) {
            (0..r.index(12)).map(|_| *r.pick(b"abT:w:-:\x00\xff")).collect()
        } else {
            r.pick(SPECS).to_vec()
        };
        let t = Instant::now();
        let res = std::panic::catch_unwind(|| {
            let mut g = Getopt::new(&args, &spec);
            let mut n = 0usize;
            for o in g.by_ref() {
                n += 1;
                assert!(n <= args.iter().map(|a| a.len() + 1).sum::<usize>() + 1, "does not end");
                match o {
                    Opt::Letter(c, arg) => {
                        let i = spec.iter().position(|&x| x == c).expect("letter in the spec");
                        let _ = (i, arg);
                    }
                    Opt::Bad(_) => break,
                }
            }
            let rest = g.rest();
            assert!(rest.len() <= args.len());
            assert_eq!(rest, &args[args.len() - rest.len()..]);
            for a in &args {
                if let Some(v) = merit_programs::msg::parse_uint(a) {
                    assert_eq!(std::str::from_utf8(a).ok().and_then(|s| s.parse::<u32>().ok()), Some(v));
                }
            }
        });
        max = max.max(t.elapsed());
        assert!(
            res.is_ok(),
            "getopt: input {index} {} spec {:?}\n  replay: MERIT_FUZZ_SEED={seed:#x} MERIT_FUZZ_ITERS={} cargo test -p merit-programs --test it fuzz_programs::fuzz_getopt",
            show_args(&args),
            String::from_utf8_lossy(&spec),
            index + 1
        );
    }
    let figure = format!(
        "{iters} inputs, 0 panics, max {:.2} ms, total {:.1} s",
        max.as_secs_f64() * 1e3,
        t0.elapsed().as_secs_f64()
    );
    report_row("getopt", &figure, "no panic, ends", true);
}

/// Regular expressions the fuzzer found (merit-core's ere.rs): 60000 nested `(` overflowed the
/// stack (s6-log died by SIGSEGV, as the real one does from ~30000), and `a` + 120000 `*` took
/// seconds of quadratic work. Both are now refused at once: exit 100, `unrecognized directive`.
#[test]
fn s6_log_hostile_regexes() {
    let dir = TempDir::new("fuzz-ere");
    for re in ["+".to_string() + &"(".repeat(60000), "+a".to_string() + &"*".repeat(120000)] {
        let args = vec![re.into_bytes(), b"1".to_vec()];
        let c = run_case(&PROGS[7], dir.path(), &args, b"x\n");
        assert_eq!(PROGS[7].name, "s6-log");
        assert_eq!((c.code, c.signal, c.timed_out), (Some(100), None, false));
        assert!(c.elapsed < Duration::from_secs(2), "{:?}", c.elapsed);
        assert!(c.stderr.starts_with(b"s6-log: fatal: unrecognized directive: +"));
    }
}
