//! Integration tests of our `s6-svc`, `s6-svok` and `s6-svwait` against the real s6 2.11.3.2
//! tools, on real processes. The supervisor is a parameter ([`Impl`]): [`cases`] runs every
//! supervisor-dependent scenario against one implementation of `s6-supervise`.
//!
//! Comparisons are "ours vs real": same arguments, same cwd-relative names, so stdout, stderr and
//! the exit code must be byte-identical. Synchronisation is by polling with deadlines.

use crate::common::*;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Upper bound for any single program run; beyond it the program is killed and the test fails.
const BOUND: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Running programs

/// What a finished program produced.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Res {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// A program running with captured output; killed on drop if still alive.
struct Running {
    child: Option<Child>,
    what: String,
}

impl Running {
    fn start(prog: &Path, args: &[&str], cwd: &Path) -> Running {
        let child = command(prog)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", prog.display()));
        Running { child: Some(child), what: format!("{} {args:?} in {}", prog.display(), cwd.display()) }
    }

    fn exited(&mut self) -> bool {
        self.child.as_mut().map(|c| c.try_wait().ok().flatten().is_some()).unwrap_or(true)
    }

    fn finish(mut self) -> Res {
        let mut child = self.child.take().unwrap();
        let end = Instant::now() + BOUND;
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not exit within {BOUND:?}", self.what);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut out = String::new();
        let mut err = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        Res { code: status.code(), stdout: out, stderr: err }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn exec(prog: &Path, args: &[&str], cwd: &Path) -> Res {
    Running::start(prog, args, cwd).finish()
}

fn tool(imp: Impl, name: &str) -> PathBuf {
    imp.bin(name)
}

/// The ftrig1 FIFOs currently in `svc/event` (names).
fn fifos(svc: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(svc.join("event")) else { return vec![] };
    let mut v: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ftrig1") || n.starts_with(".ftrig1"))
        .collect();
    v.sort();
    v
}

/// The subscriber FIFOs a notifier would see (renamed from their dot-name).
fn visible_fifos(svc: &Path) -> Vec<String> {
    fifos(svc).into_iter().filter(|n| n.starts_with("ftrig1:@")).collect()
}

fn assert_no_fifos(svc: &Path) {
    assert!(
        wait_until(PROMPT, || fifos(svc).is_empty()),
        "subscriber FIFOs left in {}/event: {:?}",
        svc.display(),
        fifos(svc)
    );
}

// ---------------------------------------------------------------------------------------------
// Service directories

#[derive(Clone, Copy, Default)]
struct Spec {
    /// Body of `run` (after `#!/bin/sh`).
    run: &'static str,
    finish: Option<&'static str>,
    /// `notification-fd` = 3.
    notif: bool,
    /// `./down` present at start.
    down: bool,
}

const SLEEP: &str = "exec sleep 100000";
/// Readiness on fd 3, then sleep.
const NOTIFY: &str = "echo >&3\nexec sleep 100000";
/// Readiness 0.3 s after the spawn. Used where a *real* listener waits for `R`: its first phase
/// (`d` for s6-svwait, `D` for s6-svlisten1) ends in the middle of a batch of event bytes and
/// s6 2.11.3.2 then drops the rest of that batch; a restart of a service that has been ready for
/// over 1 s is immediate, so `dDuU` may arrive as one batch and the real listener would hang.
/// Delaying `U` keeps it out of that batch (our listener keeps the rest of the batch instead).
const NOTIFY_SLOW: &str = "sleep 0.3\necho >&3\nexec sleep 100000";
/// Readiness only once the file `gate` exists.
const NOTIFY_GATED: &str = "while [ ! -e gate ]; do sleep 0.02; done\necho >&3\nexec sleep 100000";
/// Logs SIGWINCH (28) into trap.log; `armed` says the trap is in place.
const TRAP: &str = "trap 'echo WINCH >> trap.log' 28\necho > armed\nsleep 100000 &\nwhile :; do wait; done";
/// A finish that blocks until the file `gate` exists.
const FINISH_GATED: &str = "while [ ! -e gate ]; do sleep 0.02; done";

fn make_svc(dir: &Path, spec: &Spec) {
    make_service(dir, spec.run);
    if let Some(f) = spec.finish {
        write_exec(&dir.join("finish"), &format!("#!/bin/sh\n{f}\n"));
        std::fs::write(dir.join("timeout-finish"), "0\n").unwrap();
    }
    if spec.notif {
        std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
    }
    if spec.down {
        std::fs::write(dir.join("down"), "").unwrap();
    }
}

/// Two identical supervised services `TMP/ours/svc` and `TMP/real/svc`: one driven by our tool,
/// one by the real tool, with identical relative names so messages compare byte for byte.
struct Twin {
    _sups: Vec<Daemon>,
    ours: PathBuf,
    real: PathBuf,
    _tmp: TempDir,
}

impl Twin {
    fn new(imp: Impl, tag: &str, spec: Spec) -> Twin {
        let tmp = TempDir::new(tag);
        let ours = tmp.join("ours/svc");
        let real = tmp.join("real/svc");
        make_svc(&ours, &spec);
        make_svc(&real, &spec);
        let sups = vec![start_supervisor(imp, &ours), start_supervisor(imp, &real)];
        Twin { _sups: sups, ours, real, _tmp: tmp }
    }

    /// (service dir, tool implementation) for each side.
    fn sides(&self) -> [(&Path, Impl); 2] {
        [(&self.ours, Impl::Ours), (&self.real, Impl::Real)]
    }

    fn wait_both(&self, what: &str, f: impl Fn(&Path) -> bool) {
        for (svc, _) in self.sides() {
            assert!(wait_until(PROMPT, || f(svc)), "{what}: not reached on {}: {:?}", svc.display(), status(svc));
        }
    }
}

fn st(svc: &Path) -> merit_core::status::StatusFile {
    status(svc).expect("status file")
}

fn is_up(svc: &Path) -> bool {
    status(svc).map(|s| s.is_up()).unwrap_or(false)
}

fn running(svc: &Path) -> bool {
    merit_sys::lock::supervisor_running(svc).unwrap_or(false)
}

/// Runs `s6-svc`-like `prog` with `args` then `svc`'s name, cwd = its parent.
fn on(prog: &Path, args: &[&str], svc: &Path) -> Res {
    let mut a: Vec<&str> = args.to_vec();
    let name = svc.file_name().unwrap().to_str().unwrap();
    a.push(name);
    exec(prog, &a, svc.parent().unwrap())
}

// ---------------------------------------------------------------------------------------------
// Snapshots: what a letter changed, seen through our decoder and through the real s6-svstat

#[derive(Clone, Debug, PartialEq, Eq)]
struct Snap {
    up: bool,
    wantup: bool,
    ready: bool,
    paused: bool,
    finishing: bool,
    termsig: u32,
    exitcode: u32,
    down_file: bool,
    running: bool,
    trap_log: String,
}

fn snap(svc: &Path) -> Snap {
    let s = status(svc).unwrap_or_default();
    Snap {
        up: s.is_up(),
        wantup: s.wantup,
        ready: s.ready,
        paused: s.paused,
        finishing: s.finishing,
        termsig: s.wait().termsig(),
        exitcode: s.wait().exitstatus(),
        down_file: svc.join("down").exists(),
        running: running(svc),
        trap_log: std::fs::read_to_string(svc.join("trap.log")).unwrap_or_default(),
    }
}

/// The real s6-svstat's view, numbers (pids, durations) replaced by `#`.
fn svstat(svc: &Path) -> String {
    let r = on(&real("s6-svstat"), &[], svc);
    let mut out = String::new();
    let mut in_num = false;
    for c in format!("{:?} {} {}", r.code, r.stdout, r.stderr).chars() {
        if c.is_ascii_digit() {
            if !in_num {
                out.push('#');
            }
            in_num = true;
        } else {
            in_num = false;
            out.push(c);
        }
    }
    out
}

type Pred = Box<dyn Fn(&Snap) -> bool + Send + Sync>;

/// Letters sent in steps; after each step both services must satisfy the predicate and agree.
struct LetterCase {
    name: String,
    spec: Spec,
    steps: Vec<(&'static str, Pred)>,
}

fn letter_case(name: &str, spec: Spec, steps: Vec<(&'static str, Pred)>) -> LetterCase {
    LetterCase { name: name.to_string(), spec, steps }
}

fn letter_cases() -> Vec<LetterCase> {
    let up = Spec { run: SLEEP, ..Default::default() };
    let down = Spec { run: SLEEP, down: true, ..Default::default() };
    let trap = Spec { run: TRAP, ..Default::default() };
    let mut v = Vec::new();
    for (l, sig) in
        [("a", 14), ("b", 6), ("q", 3), ("h", 1), ("k", 9), ("t", 15), ("i", 2), ("1", 10), ("2", 12), ("r", 15)]
    {
        v.push(letter_case(&format!("-{l}"), up, vec![(l, Box::new(move |s: &Snap| s.termsig == sig && s.wantup))]));
    }
    v.push(letter_case("-y", trap, vec![("y", Box::new(|s: &Snap| s.trap_log == "WINCH\n" && s.up))]));
    v.push(letter_case(
        "-p then -c",
        up,
        vec![("p", Box::new(|s: &Snap| s.paused && s.up)), ("c", Box::new(|s: &Snap| !s.paused && s.up))],
    ));
    v.push(letter_case("-o up", up, vec![("o", Box::new(|s: &Snap| s.up && !s.wantup))]));
    v.push(letter_case("-o down", down, vec![("o", Box::new(|s: &Snap| s.up && !s.wantup))]));
    v.push(letter_case("-d", up, vec![("d", Box::new(|s: &Snap| !s.up && !s.wantup && s.ready && s.termsig == 15))]));
    v.push(letter_case("-u", down, vec![("u", Box::new(|s: &Snap| s.up && s.wantup))]));
    v.push(letter_case("-D", up, vec![("D", Box::new(|s: &Snap| !s.up && !s.wantup && s.down_file && s.ready))]));
    v.push(letter_case("-U", down, vec![("U", Box::new(|s: &Snap| s.up && s.wantup && !s.down_file))]));
    v.push(letter_case("-x down", down, vec![("x", Box::new(|s: &Snap| !s.running))]));
    v.push(letter_case(
        "-x up then -d",
        up,
        vec![("x", Box::new(|s: &Snap| s.up && s.running)), ("d", Box::new(|s: &Snap| !s.running && !s.up))],
    ));
    v.push(letter_case("-O", up, vec![("O", Box::new(|s: &Snap| s.up && !s.wantup && !s.down_file))]));
    v.push(letter_case("-Q", up, vec![("Q", Box::new(|s: &Snap| s.up && !s.wantup && s.down_file))]));
    v.push(letter_case("-du", up, vec![("du", Box::new(|s: &Snap| s.up && s.wantup && s.termsig == 15))]));
    v.push(letter_case(
        "-ddpu",
        up,
        vec![("ddpu", Box::new(|s: &Snap| s.up && s.wantup && !s.paused && s.termsig == 15))],
    ));
    v
}

/// Sends each step's letters with OUR s6-svc to `ours/svc` and with the REAL one to
/// `real/svc`; both must reach the step's predicate and then agree, in our decoding of the
/// status file and in the real s6-svstat's output.
fn run_letter_case(imp: Impl, case: &LetterCase) {
    let t = Twin::new(imp, "letters", case.spec);
    let trap = case.spec.run == TRAP;
    t.wait_both("initial state", |svc| {
        let s = snap(svc);
        (s.up != case.spec.down) && (!trap || svc.join("armed").exists())
    });
    for (letters, pred) in &case.steps {
        let arg = format!("-{letters}");
        for (svc, which) in t.sides() {
            let r = on(&tool(which, "s6-svc"), &[&arg], svc);
            assert_eq!(
                r,
                Res { code: Some(0), stdout: String::new(), stderr: String::new() },
                "{} {which:?}",
                case.name
            );
        }
        let mut last = (snap(&t.ours), snap(&t.real), String::new(), String::new());
        let ok = wait_until(PROMPT, || {
            let (a, b) = (snap(&t.ours), snap(&t.real));
            if !(pred(&a) && pred(&b) && a == b) {
                last = (a, b, String::new(), String::new());
                return false;
            }
            let (sa, sb) = (svstat(&t.ours), svstat(&t.real));
            let same = sa == sb;
            last = (a, b, sa, sb);
            same
        });
        assert!(ok, "{}: step {letters}: ours vs real never agreed on the expected state:\n ours {:?}\n real {:?}\n svstat ours {}\n svstat real {}", case.name, last.0, last.1, last.2, last.3);
    }
}

// ---------------------------------------------------------------------------------------------
// -w variants of s6-svc

struct WCase {
    name: &'static str,
    spec: Spec,
    /// Condition both services must reach before the command.
    before: fn(&Path) -> bool,
    args: &'static [&'static str],
    code: i32,
    /// Checked right after each side's s6-svc exits, with the pid seen before the command.
    after: After,
}

/// A post-condition: (service directory, pid before the command).
type After = fn(&Path, u64) -> bool;

/// A [`WCase`] from its fields in order: one line a case.
fn w(
    name: &'static str,
    spec: Spec,
    before: fn(&Path) -> bool,
    args: &'static [&str],
    code: i32,
    after: After,
) -> WCase {
    WCase { name, spec, before, args, code, after }
}

fn w_cases() -> Vec<WCase> {
    let plain_down = Spec { run: SLEEP, down: true, ..Default::default() };
    let plain_up = Spec { run: SLEEP, ..Default::default() };
    let notif_down = Spec { run: NOTIFY, notif: true, down: true, ..Default::default() };
    let notif_up = Spec { run: NOTIFY_SLOW, notif: true, ..Default::default() };
    let gated_down = Spec { run: NOTIFY_GATED, notif: true, down: true, ..Default::default() };
    let finish_gated = Spec { run: SLEEP, finish: Some(FINISH_GATED), ..Default::default() };
    let perm_fail = Spec { run: "exit 0", finish: Some("exit 125"), notif: true, down: true };
    let down = |p: &Path| status(p).is_some_and(|s| !s.is_up() && s.ready);
    let up_ready = |p: &Path| status(p).is_some_and(|s| s.is_up() && s.ready);
    vec![
        w("-wu -u", plain_down, down, &["-wu", "-u"], 0, |p, _| is_up(p)),
        w("-wU -u (notification-fd)", notif_down, down, &["-wU", "-u"], 0, |p, _| st(p).is_up() && st(p).ready),
        w("-wU -T 400 -u (readiness never comes)", gated_down, down, &["-wU", "-T", "400", "-u"], 99, |p, _| {
            st(p).is_up() && !st(p).ready
        }),
        w("-wU -u without notification-fd", plain_down, down, &["-wU", "-u"], 0, |p, _| is_up(p)),
        w("-wd -d", plain_up, is_up, &["-wd", "-d"], 0, |p, _| !is_up(p)),
        w("-wD -d", plain_up, is_up, &["-wD", "-d"], 0, |p, _| !st(p).is_up() && st(p).ready && !st(p).finishing),
        w("-wd -d returns while finish runs", finish_gated, is_up, &["-wd", "-d"], 0, |p, _| st(p).finishing),
        w("-wD -T 400 -d times out while finish runs", finish_gated, is_up, &["-wD", "-T", "400", "-d"], 99, |p, _| {
            st(p).finishing
        }),
        w("-wr -r", plain_up, is_up, &["-wr", "-r"], 0, |p, old| st(p).is_up() && st(p).pid != old),
        w("-wR -r (notification-fd)", notif_up, up_ready, &["-wR", "-r"], 0, |p, old| {
            st(p).is_up() && st(p).ready && st(p).pid != old
        }),
        w("-wR -r without notification-fd", plain_up, is_up, &["-wR", "-r"], 0, |p, old| {
            st(p).is_up() && st(p).pid != old
        }),
        w("-wu, no letter, already up", plain_up, is_up, &["-wu"], 0, |p, _| is_up(p)),
        w("-wU, no letter, already up+ready", notif_up, up_ready, &["-wU"], 0, |p, _| st(p).is_up() && st(p).ready),
        w("-wd -u on a down service returns at once", plain_down, down, &["-wd", "-u"], 0, |_, _| true),
        w("-T 300 -wu, no letter, down", plain_down, down, &["-T", "300", "-wu"], 99, |p, _| !is_up(p)),
        w("-wR -T 300, no letter, down", notif_down, down, &["-wR", "-T300"], 99, |p, _| !is_up(p)),
        w("-wU -u, finish exits 125", perm_fail, down, &["-wU", "-u"], 1, |p, _| !st(p).wantup),
        w("-wu -x, supervisor dies", plain_down, down, &["-wu", "-x"], 1, |p, _| !running(p)),
        w("-wd -x, already down", plain_down, down, &["-wd", "-x"], 0, |_, _| true),
    ]
}

fn run_w_case(imp: Impl, c: &WCase) {
    let t = Twin::new(imp, "wait", c.spec);
    t.wait_both(c.name, c.before);
    let mut results = Vec::new();
    for (svc, which) in t.sides() {
        let old = st(svc).pid;
        let r = on(&tool(which, "s6-svc"), c.args, svc);
        let after = (c.after)(svc, old);
        results.push(r.clone());
        assert_eq!(r.code, Some(c.code), "{} {which:?}: {r:?}", c.name);
        assert!(after, "{} {which:?}: post-condition failed, status {:?}", c.name, status(svc));
    }
    assert_eq!(results[0], results[1], "{}: ours vs real", c.name);
    assert_no_fifos(&t.ours);
    assert_no_fifos(&t.real);
    // Release gated finish scripts so that the supervisors can be killed cleanly.
    for (svc, _) in t.sides() {
        let _ = std::fs::write(svc.join("gate"), "");
    }
}

// ---------------------------------------------------------------------------------------------
// s6-svwait: ours and the real one listening to the same services at the same time

/// Starts ours and the real `s6-svwait ARGS` in `cwd`; once both have subscribed to every dir
/// of `watch`, runs `trigger`; returns (ours, real).
fn race(cwd: &Path, args: &[&str], watch: &[&Path], trigger: impl FnOnce()) -> (Res, Res) {
    let mut o = Running::start(&ours("s6-svwait"), args, cwd);
    let mut r = Running::start(&real("s6-svwait"), args, cwd);
    for w in watch {
        let ok = wait_until(PROMPT, || visible_fifos(w).len() >= 2 || o.exited() || r.exited());
        assert!(ok, "waiters did not subscribe to {}", w.display());
    }
    trigger();
    let (ro, rr) = (o.finish(), r.finish());
    for w in watch {
        assert_no_fifos(w);
    }
    (ro, rr)
}

fn real_svc(args: &[&str], svc: &Path) {
    let r = on(&real("s6-svc"), args, svc);
    assert_eq!(r.code, Some(0), "real s6-svc {args:?}: {r:?}");
}

fn svwait_cases(imp: Impl) {
    let failed_msg = "s6-svwait: fatal: some services reported permanent failure or their supervisor died\n";
    let tmp = TempDir::new("svwait");
    let mk = |name: &str, spec: Spec| {
        let p = tmp.join(name);
        make_svc(&p, &spec);
        p
    };
    let down = Spec { run: SLEEP, down: true, ..Default::default() };
    let up = Spec { run: SLEEP, ..Default::default() };
    let notif_down = Spec { run: NOTIFY, notif: true, down: true, ..Default::default() };
    let notif_up = Spec { run: NOTIFY_SLOW, notif: true, ..Default::default() };
    let finish_gated = Spec { run: SLEEP, finish: Some(FINISH_GATED), ..Default::default() };
    let perm = Spec {
        run: "exit 0",
        finish: Some("while [ ! -e gate ]; do sleep 0.02; done\nexit 125"),
        ..Default::default()
    };
    let names = [
        ("u", down),
        ("U", notif_down),
        ("d", up),
        ("D", finish_gated),
        ("r", up),
        ("R", notif_up),
        ("a1", down),
        ("a2", down),
        ("o1", down),
        ("o2", down),
        ("t", down),
        ("O", perm),
        ("x", down),
        ("x1", down),
        ("x2", down),
    ];
    let mut sups = Vec::new();
    let mut dirs = std::collections::HashMap::new();
    for (n, spec) in names {
        let p = mk(n, spec);
        sups.push(start_supervisor(imp, &p));
        dirs.insert(n, p);
    }
    let d = |n: &str| dirs[n].clone();
    let ok = Res { code: Some(0), stdout: String::new(), stderr: String::new() };
    let check = |what: &str, (o, r): (Res, Res), want: &Res| {
        assert_eq!(&o, want, "s6-svwait {what}: ours");
        assert_eq!(&r, want, "s6-svwait {what}: real");
    };
    let cwd = tmp.path();
    assert!(wait_until(PROMPT, || is_up(&d("d")) && is_up(&d("r")) && is_up(&d("D"))));
    assert!(wait_until(PROMPT, || status(&d("R")).is_some_and(|s| s.is_up() && s.ready)));
    assert!(wait_until(PROMPT, || status(&d("O")).is_some_and(|s| s.finishing)));

    check("-u", race(cwd, &["-u", "u"], &[&d("u")], || real_svc(&["-u"], &d("u"))), &ok);
    check("-U", race(cwd, &["-U", "U"], &[&d("U")], || real_svc(&["-u"], &d("U"))), &ok);
    assert!(st(&d("U")).ready);
    check("-d", race(cwd, &["-d", "d"], &[&d("d")], || real_svc(&["-d"], &d("d"))), &ok);
    let timed_out = Res { code: Some(99), stdout: String::new(), stderr: "s6-svwait: fatal: timed out\n".into() };
    check(
        "-D -t 500 (finish blocked)",
        race(cwd, &["-D", "-t", "500", "D"], &[&d("D")], || real_svc(&["-d"], &d("D"))),
        &timed_out,
    );
    assert!(st(&d("D")).finishing);
    check("-D", race(cwd, &["-D", "D"], &[&d("D")], || std::fs::write(d("D").join("gate"), "").unwrap()), &ok);
    let old = st(&d("r")).pid;
    check("-r", race(cwd, &["-r", "r"], &[&d("r")], || real_svc(&["-r"], &d("r"))), &ok);
    assert!(st(&d("r")).pid != old);
    let old = st(&d("R")).pid;
    check("-R", race(cwd, &["-R", "R"], &[&d("R")], || real_svc(&["-r"], &d("R"))), &ok);
    assert!(st(&d("R")).pid != old && st(&d("R")).ready);
    // -a (default): one of two up is not enough.
    check(
        "-a -t 800 (one up)",
        race(cwd, &["-a", "-t", "800", "a1", "a2"], &[&d("a1"), &d("a2")], || real_svc(&["-u"], &d("a1"))),
        &timed_out,
    );
    check("-a (both up)", race(cwd, &["-u", "a1", "a2"], &[&d("a2")], || real_svc(&["-u"], &d("a2"))), &ok);
    check(
        "-o (one up)",
        race(cwd, &["-o", "-u", "o1", "o2"], &[&d("o1"), &d("o2")], || real_svc(&["-u"], &d("o2"))),
        &ok,
    );
    check("-t 300", race(cwd, &["-t", "300", "t"], &[&d("t")], || {}), &timed_out);
    check("-d, already down", race(cwd, &["-d", "t"], &[], || {}), &ok);
    check("-D, already down", race(cwd, &["-D", "t"], &[], || {}), &ok);
    // Permanent failure: finish exits 125 while we wait for up.
    let one = Res { code: Some(1), stdout: String::new(), stderr: failed_msg.into() };
    check(
        "-u, finish exits 125",
        race(cwd, &["-u", "O"], &[&d("O")], || std::fs::write(d("O").join("gate"), "").unwrap()),
        &one,
    );
    // Supervisor death.
    check("-u, supervisor exits", race(cwd, &["-u", "x"], &[&d("x")], || real_svc(&["-x"], &d("x"))), &one);
    // Exit code = number of failures.
    let two = Res { code: Some(2), ..one.clone() };
    check(
        "-u, two supervisors exit",
        race(cwd, &["-u", "x1", "x2"], &[&d("x1"), &d("x2")], || {
            real_svc(&["-x"], &d("x1"));
            real_svc(&["-x"], &d("x2"));
        }),
        &two,
    );
    drop(sups);
}

// ---------------------------------------------------------------------------------------------
// Our listener FIFO looks like s6-ftrigrd's

fn fifo_naming(imp: Impl) {
    let tmp = TempDir::new("fifo");
    let svc = tmp.join("svc");
    make_svc(&svc, &Spec { run: SLEEP, down: true, ..Default::default() });
    let _sup = start_supervisor(imp, &svc);
    let ev = svc.join("event");

    // Ours alone first: exactly one entry, then the real one next to it.
    let mut o = Running::start(&ours("s6-svwait"), &["-u", "svc"], tmp.path());
    assert!(wait_until(PROMPT, || visible_fifos(&svc).len() == 1 || o.exited()), "our s6-svwait did not subscribe");
    let mine = visible_fifos(&svc)[0].clone();
    let mut r = Running::start(&real("s6-svwait"), &["-u", "svc"], tmp.path());
    assert!(wait_until(PROMPT, || visible_fifos(&svc).len() == 2 || r.exited()), "real s6-svwait did not subscribe");
    let theirs = visible_fifos(&svc).into_iter().find(|n| *n != mine).unwrap();

    let (now_s, now_ns) = merit_sys::clock::wall();
    let now = merit_core::tai::Tain::from_unix(now_s, now_ns);
    for name in [&mine, &theirs] {
        assert_eq!(name.len(), 39, "{name}");
        assert!(name.starts_with("ftrig1:@"), "{name}");
        assert_eq!(&name[32..33], ":", "{name}");
        assert!(
            name[33..].len() == 6 && name[33..].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'),
            "{name}"
        );
        let label = merit_core::tai::Tain::parse_label(&name.as_bytes()[7..32]).expect("TAI64N label");
        assert!(label.secs.abs_diff(now.secs) <= 30, "{name}: label too far from now {}", now.label_string());
        let md = std::fs::symlink_metadata(ev.join(name)).unwrap();
        assert!(md.file_type().is_fifo(), "{name} is not a FIFO");
        assert_eq!(md.permissions().mode() & 0o7777, 0o600, "{name}: mode (prw-------)");
        assert_eq!(md.uid(), merit_sys::geteuid(), "{name}: owner");
    }
    let (mo, mr) =
        (std::fs::symlink_metadata(ev.join(&mine)).unwrap(), std::fs::symlink_metadata(ev.join(&theirs)).unwrap());
    assert_eq!((mo.mode(), mo.uid(), mo.gid()), (mr.mode(), mr.uid(), mr.gid()), "our FIFO vs s6-ftrigrd's");
    real_svc(&["-u"], &svc);
    let ok = Res { code: Some(0), stdout: String::new(), stderr: String::new() };
    assert_eq!(o.finish(), ok);
    assert_eq!(r.finish(), ok);
    assert_no_fifos(&svc);
    // Removed on timeout and on failure too.
    let res = exec(&ours("s6-svwait"), &["-d", "-t", "200", "svc"], tmp.path());
    assert_eq!(res.code, Some(99), "{res:?}");
    assert_no_fifos(&svc);
    let res = exec(&real("s6-svc"), &["-wD", "-d", "svc"], tmp.path());
    assert_eq!(res.code, Some(0), "{res:?}");
    let res = exec(&ours("s6-svc"), &["-wu", "-x", "svc"], tmp.path());
    assert_eq!(res.code, Some(1), "{res:?}");
    assert!(!running(&svc));
    assert_no_fifos(&svc);
}

// ---------------------------------------------------------------------------------------------
// s6-svok

fn svok_cases(imp: Impl) {
    let tmp = TempDir::new("svok");
    let svc = tmp.join("svc");
    make_svc(&svc, &Spec { run: SLEEP, ..Default::default() });
    let mut sup = start_supervisor(imp, &svc);
    for which in [Impl::Ours, Impl::Real] {
        assert_eq!(on(&tool(which, "s6-svok"), &[], &svc).code, Some(0), "{which:?} s6-svok on a running supervisor");
    }
    sup.signal(merit_sys::signal::SIGKILL);
    assert!(sup.wait_timeout(PROMPT).is_some());
    for which in [Impl::Ours, Impl::Real] {
        let r = on(&tool(which, "s6-svok"), &[], &svc);
        assert_eq!(
            r,
            Res { code: Some(1), stdout: String::new(), stderr: String::new() },
            "{which:?} s6-svok after the supervisor died"
        );
    }
    // A dead supervisor's control FIFO has no reader: "not listening".
    let (o, r) = (on(&ours("s6-svc"), &["-u"], &svc), on(&real("s6-svc"), &["-u"], &svc));
    assert_eq!(o, r);
    assert_eq!(o.code, Some(100));
}

/// Every supervisor-dependent scenario against `imp`'s `s6-supervise`, several at a time.
fn cases(imp: Impl) {
    type Job = Box<dyn FnOnce() + Send>;
    let mut jobs: Vec<(String, Job)> = Vec::new();
    for c in letter_cases() {
        jobs.push((format!("letters {}", c.name), Box::new(move || run_letter_case(imp, &c))));
    }
    for c in w_cases() {
        jobs.push((format!("s6-svc {}", c.name), Box::new(move || run_w_case(imp, &c))));
    }
    jobs.push(("s6-svwait".into(), Box::new(move || svwait_cases(imp))));
    jobs.push(("FIFO naming".into(), Box::new(move || fifo_naming(imp))));
    jobs.push(("s6-svok".into(), Box::new(move || svok_cases(imp))));

    // A few workers pull jobs from a shared queue.
    let queue = std::sync::Mutex::new(jobs);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| loop {
                let Some((name, job)) = queue.lock().unwrap().pop() else { return };
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                if let Err(p) = r {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.lock().unwrap().push(format!("[{name}] {msg}"));
                }
            });
        }
    });
    let f = failures.into_inner().unwrap();
    assert!(f.is_empty(), "{} failing scenario(s) with {imp:?} s6-supervise:\n{}", f.len(), f.join("\n"));
}

#[test]
fn with_real_supervisor() {
    with_real_s6(|| cases(Impl::Real));
}

/// The same cases with merit's s6-supervise: real and our client tools drive it alike.
#[test]
fn with_our_supervisor() {
    with_real_s6(|| cases(Impl::Ours));
}

// ---------------------------------------------------------------------------------------------
// No supervisor needed: usage, error classification, exit codes

/// A directory with every broken shape of service directory.
fn error_fixture() -> TempDir {
    let tmp = TempDir::new("errors");
    let d = |p: &str| std::fs::create_dir_all(tmp.join(p)).unwrap();
    d("a"); // no supervise/
    d("b/supervise"); // no control
    d("c/supervise/control"); // control is a directory
    d("e/supervise");
    merit_sys::mkfifo(&tmp.join("e/supervise/control"), 0o600).unwrap(); // FIFO, no reader
    std::fs::write(tmp.join("f"), "").unwrap(); // a file
    d("g");
    std::fs::write(tmp.join("g/supervise"), "").unwrap(); // supervise is a file
                                                          // A status file (down, ready, want up) but no supervisor; `nf` also has notification-fd.
    let down_ready = merit_core::status::StatusFile { ready: true, wantup: true, ..Default::default() };
    for n in ["st", "nf"] {
        d(&format!("{n}/supervise"));
        std::fs::write(tmp.join(format!("{n}/supervise/status")), down_ready.encode()).unwrap();
        std::fs::write(tmp.join(format!("{n}/supervise/lock")), "").unwrap();
    }
    std::fs::write(tmp.join("nf/notification-fd"), "3\n").unwrap();
    let up = merit_core::status::StatusFile { pid: 1, wantup: true, ..Default::default() };
    d("upst/supervise");
    std::fs::write(tmp.join("upst/supervise/status"), up.encode()).unwrap();
    d("short/supervise");
    std::fs::write(tmp.join("short/supervise/status"), [0u8; 10]).unwrap();
    tmp
}

/// Ours and the real `prog` on each case in [`error_fixture`] (when the real s6 is installed):
/// same output and exit code; and no FIFO left in `DIR/event` for each of `no_fifos_in`.
fn errors_match_real(prog: &str, cases: &[&[&str]], no_fifos_in: &[&str]) {
    if !have_real_s6() {
        return;
    }
    let tmp = error_fixture();
    let cwd = tmp.path();
    let mut diffs = Vec::new();
    for args in cases {
        let r = exec(&real(prog), args, cwd);
        let o = exec(&ours(prog), args, cwd);
        if o != r {
            diffs.push(format!("{prog} {args:?}:\n  ours {o:?}\n  real {r:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    for n in no_fifos_in {
        assert!(fifos(&tmp.join(n)).is_empty(), "FIFOs left in {n}/event");
    }
}

#[test]
fn s6_svc_errors_match_real() {
    let many = format!("-{}", "a".repeat(62));
    let too_many = format!("-{}", "a".repeat(63));
    let many_a: [&str; 2] = [&many, "a"];
    let too_many_a: [&str; 2] = [&too_many, "a"];
    let too_many_z: [&str; 3] = [&too_many, "-Z", "a"];
    let z_too_many: [&str; 3] = ["-Z", &too_many, "a"];
    let cases: Vec<&[&str]> = vec![
        &[],
        &["-Z", "a"],
        &["-w"],
        &["-wz", "a"],
        &["-w", "", "a"],
        &["-wx", "a"],
        &["-T"],
        &["-T", "abc", "-d", "a"],
        &["-T", "", "-wu", "a"],
        &["-T", "-1", "-wu", "a"],
        &["-T", "+1", "-wu", "a"],
        &["-T", "4294967296", "-wu", "a"],
        &["-Td", "a"],
        &["-:", "a"],
        &["--foo", "a"],
        &["-s", "TERM", "a"],
        &["-l", "a"],
        &["-X", "a"],
        &["-d", ""],
        &["-d", "nonexistent"],
        &["-d", "a"],
        &["a"],
        &["-d", "b"],
        &["-d", "c"],
        &["-d", "e"],
        &["e"],
        &["-d", "f"],
        &["-d", "f/x"],
        &["-d", "g"],
        &["-d", "a", "b"],
        &["-d", "a", "-x"],
        &["--", "-x"],
        &["-d", "-"],
        &["-", "a"],
        &["-d", "--", "--", "a"],
        &many_a,
        &too_many_a,
        &too_many_z,
        &z_too_many,
        &["-abqhkti12pcyroduDUxOQ", "nonexistent"],
        // -w: the waiter's messages carry s6-svwait's or s6-svlisten1's name
        &["-wu", "nonexistent"],
        &["-wu", "-u", "nonexistent"],
        &["-wu", "a"],
        &["-wu", "-u", "a"],
        &["-wU", "a"],
        &["-wR", "-d", "a"],
        &["-wu", "f"],
        &["-wU", "f"],
        &["-wu", "short"],
        &["-wu", "-T", "200", "st"],
        &["-wu", "-T", "200", "-u", "st"],
        &["-wU", "-T", "200", "-u", "nf"],
        &["-wR", "-T", "200", "-u", "st"],
        &["-wr", "-T", "200", "upst"],
        &["-wd", "st"],
        &["-wD", "-u", "st"],
        &["-wu", "-T", "0", "upst"],
        &["-wu", "upst", "extra"],
    ];
    errors_match_real("s6-svc", &cases, &["a", "st", "nf", "upst", "short"]);
}

#[test]
fn s6_svwait_errors_match_real() {
    let cases: Vec<&[&str]> = vec![
        &[],
        &["-u"],
        &["-x", "a"],
        &["-t"],
        &["-t", "x", "st"],
        &["-t", "", "st"],
        &["-t", "4294967296", "st"],
        &["--foo", "st"],
        &["nonexistent"],
        &["f"],
        &["a"],
        &["short"],
        &["-d", "st"],
        &["-D", "st"],
        &["-d", "-a", "st", "st"],
        &["-t", "200", "st"],
        &["-U", "-t", "200", "upst"],
        &["-u", "upst"],
        &["-t", "200", "-a", "upst", "st"],
        &["-o", "upst", "st"],
        &["-o", "-u", "st", "a"],
        &["-r", "-t", "200", "st"],
        &["-R", "-t", "200", "upst"],
        &["-D", "-o", "-a", "-t", "200", "upst", "st"],
        &["-dt5000", "--", "st"],
    ];
    errors_match_real("s6-svwait", &cases, &["a", "st", "upst", "short"]);
}

#[test]
fn s6_svok_errors_match_real() {
    let cases: Vec<&[&str]> =
        vec![&[], &["a"], &["a", "b"], &[""], &["-x"], &["--"], &["f"], &["f/x"], &["nonexistent"], &["st"], &["g"]];
    errors_match_real("s6-svok", &cases, &[]);
}

#[test]
fn event_dir_created_like_s6_svwait() {
    if !have_real_s6() {
        return;
    }
    let tmp = error_fixture();
    for (n, which) in [("st", Impl::Ours), ("nf", Impl::Real)] {
        let r = exec(&tool(which, "s6-svwait"), &["-t", "50", n], tmp.path());
        assert_eq!(r.code, Some(99), "{which:?}: {r:?}");
    }
    let mo = std::fs::metadata(tmp.join("st/event")).unwrap();
    let mr = std::fs::metadata(tmp.join("nf/event")).unwrap();
    assert_eq!(mo.permissions().mode() & 0o7777, 0o3730);
    assert_eq!((mo.mode(), mo.uid(), mo.gid()), (mr.mode(), mr.uid(), mr.gid()));
}
