//! `s6-svscan` and `s6-svscanctl` with real processes, against the real s6 2.11.3.2 as oracle
//! (spec/scandir.md, spec/control.md §5).
//!
//! Four scanner/supervisor pairings are used ([`Combo`]):
//! * ours + ours: `target/debug/s6-svscan` runs the `s6-supervise` next to it;
//! * ours + real: our `s6-svscan` hard-linked (or copied) into a temp `bin/` that has no
//!   `s6-supervise`, run with `PATH=/usr/bin:/bin`, so it runs `/usr/bin/s6-supervise`;
//! * real + ours: `/usr/bin/s6-svscan` execs `/usr/bin/s6-supervise` by absolute path, so it runs
//!   in a private mount namespace (`unshare --mount --propagation private`, root only) where our
//!   `s6-supervise` is bind-mounted over `/usr/bin/s6-supervise`; the host's mounts are untouched;
//! * real + real.
//!
//! Scanners start in their own session (common::command); every process is stopped by PID, and
//! whatever is left (services, orphans) by common::TempDir, which kills by cwd/exe; each test also
//! checks that nothing is left under its temp dir. Tests comparing the scanners run the ours and
//! the real variant of a scenario at the same time, in two threads, each in its own temp dir.

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// /proc

/// The fields of /proc/PID/stat the tests need (times in clock ticks).
#[derive(Clone, Debug)]
struct PStat {
    state: char,
    ppid: i32,
    pgrp: i32,
    session: i32,
    utime: u64,
    stime: u64,
    cutime: u64,
    cstime: u64,
}

fn pstat(pid: i32) -> Option<PStat> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after "(comm)": index 0 is field 3 (state) of proc(5).
    let f: Vec<&str> = s[s.rfind(')')? + 2..].split_whitespace().collect();
    Some(PStat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
        utime: f.get(11)?.parse().ok()?,
        stime: f.get(12)?.parse().ok()?,
        cutime: f.get(13)?.parse().ok()?,
        cstime: f.get(14)?.parse().ok()?,
    })
}

fn all_pids() -> Vec<i32> {
    let Ok(rd) = std::fs::read_dir("/proc") else { return Vec::new() };
    rd.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
}

fn cmdline(pid: i32) -> Vec<String> {
    let b = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    b.split(|&c| c == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

/// Exists and is not a zombie.
fn alive(pid: i32) -> bool {
    pid > 0 && pstat(pid).is_some_and(|s| s.state != 'Z')
}

/// Live (non-zombie) children.
fn children(ppid: i32) -> Vec<i32> {
    all_pids().into_iter().filter(|&p| pstat(p).is_some_and(|s| s.ppid == ppid && s.state != 'Z')).collect()
}

fn zombie_children(ppid: i32) -> usize {
    all_pids().into_iter().filter(|&p| pstat(p).is_some_and(|s| s.ppid == ppid && s.state == 'Z')).count()
}

fn fd_link(pid: i32, fd: i32) -> String {
    std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).map(|p| p.display().to_string()).unwrap_or_default()
}

fn cwd_of(pid: i32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

/// `s6-supervise NAME` children of `scanner`: NAME -> pid.
fn supervisors(scanner: i32) -> BTreeMap<String, i32> {
    let mut m = BTreeMap::new();
    for p in children(scanner) {
        let a = cmdline(p);
        if a.len() == 2 && a[0].ends_with("s6-supervise") {
            m.insert(a[1].clone(), p);
        }
    }
    m
}

fn kill(pid: i32, sig: i32) {
    assert!(pid > 0);
    let _ = merit_sys::signal::kill(pid, sig);
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

// ---------------------------------------------------------------------------------------------
// Availability

/// Serializes the tests that load the machine (hundreds of processes), so deadlines hold on a
/// small machine.
static HEAVY: Mutex<()> = Mutex::new(());
fn heavy() -> MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Scanners

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Combo {
    scanner: Impl,
    sup: Impl,
}
const OURS_OURS: Combo = Combo { scanner: Impl::Ours, sup: Impl::Ours };
const OURS_REAL: Combo = Combo { scanner: Impl::Ours, sup: Impl::Real };
const REAL_OURS: Combo = Combo { scanner: Impl::Real, sup: Impl::Ours };
const REAL_REAL: Combo = Combo { scanner: Impl::Real, sup: Impl::Real };

/// A running s6-svscan on `TMP/scan`, stdout to `TMP/out`, stderr to `TMP/err`.
struct Scanner {
    d: Daemon,
    combo: Combo,
    root: PathBuf,
    dir: PathBuf,
}

/// Hard-links (or copies) `from` to `to`.
fn link_or_copy(from: &Path, to: &Path) {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).unwrap();
    }
}

/// The command line of a scanner of kind `combo` on `dir` (no redirections).
fn scanner_command(tmp: &TempDir, combo: Combo, args: &[&str], dir: &Path) -> Command {
    let mut cmd = match (combo.scanner, combo.sup) {
        (Impl::Ours, Impl::Ours) => command(ours("s6-svscan")),
        (Impl::Ours, Impl::Real) => {
            let bin = tmp.join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            let exe = bin.join("s6-svscan");
            if !exe.exists() {
                link_or_copy(&ours("s6-svscan"), &exe);
            }
            let mut c = command(exe);
            c.env("PATH", "/usr/bin:/bin");
            c
        }
        (Impl::Real, Impl::Real) => command(real("s6-svscan")),
        (Impl::Real, Impl::Ours) => {
            let mut c = command("unshare");
            c.args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                r#"mount --bind "$0" /usr/bin/s6-supervise && exec /usr/bin/s6-svscan "$@""#,
            ]);
            c.arg(ours("s6-supervise"));
            c
        }
    };
    cmd.args(args).arg(dir).current_dir(tmp.path());
    cmd
}

/// Whether something reads `.s6-svscan/control` (what s6-svscanctl checks).
fn listening(dir: &Path) -> bool {
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(merit_sys::flags::O_NONBLOCK)
        .open(dir.join(".s6-svscan/control"))
        .is_ok()
}

impl Scanner {
    fn start(tmp: &TempDir, combo: Combo, args: &[&str]) -> Scanner {
        let dir = tmp.join("scan");
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = scanner_command(tmp, combo, args, &dir);
        cmd.stdout(std::fs::File::create(tmp.join("out")).unwrap());
        cmd.stderr(std::fs::File::create(tmp.join("err")).unwrap());
        let mut sc = Scanner { d: Daemon::spawn(cmd), combo, root: tmp.path().to_path_buf(), dir };
        let ok = wait_until(PROMPT, || listening(&sc.dir) || sc.d.child.try_wait().ok().flatten().is_some());
        assert!(ok && sc.running(), "{combo:?} s6-svscan did not start: {}", sc.stderr());
        if combo.scanner == Impl::Real {
            let want = Path::new("/usr/bin/s6-svscan");
            assert!(
                wait_until(PROMPT, || std::fs::read_link(format!("/proc/{}/exe", sc.pid())).is_ok_and(|p| p == want)),
                "{combo:?}: pid {} is not s6-svscan",
                sc.pid()
            );
        }
        sc
    }
    fn pid(&self) -> i32 {
        self.d.pid()
    }
    fn running(&mut self) -> bool {
        self.d.child.try_wait().ok().flatten().is_none()
    }
    fn sups(&self) -> BTreeMap<String, i32> {
        supervisors(self.pid())
    }
    /// Waits until the supervisors are exactly `names`; returns them.
    fn wait_sups(&self, names: &[&str]) -> BTreeMap<String, i32> {
        let want: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
        let mut last = BTreeMap::new();
        let ok = wait_until(PROMPT, || {
            last = self.sups();
            last.keys().cloned().collect::<BTreeSet<_>>() == want
        });
        assert!(ok, "{:?}: supervisors {:?}, want {want:?}; stderr: {}", self.combo, last, self.stderr());
        last
    }
    fn ctl_out(&self, args: &[&str]) -> Output {
        let mut a: Vec<&str> = args.to_vec();
        let d = self.dir.to_str().unwrap();
        a.push(d);
        run(self.combo.scanner.bin("s6-svscanctl"), &a, &self.root)
    }
    /// `s6-svscanctl -LETTERS DIR` of the scanner's own kind; must succeed silently.
    fn ctl(&self, letters: &str) {
        let o = self.ctl_out(&[&format!("-{letters}")]);
        assert!(
            o.status.success() && o.stderr.is_empty() && o.stdout.is_empty(),
            "{:?}: s6-svscanctl -{letters}: {:?}",
            self.combo,
            o
        );
    }
    fn signal(&mut self, sig: i32) {
        self.d.signal(sig);
    }
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.root.join("err")).unwrap_or_default()
    }
    /// The lines s6-svscan itself wrote.
    fn own_lines(&self) -> Vec<String> {
        self.stderr().lines().filter(|l| l.starts_with("s6-svscan:")).map(String::from).collect()
    }
    fn wait_exit(&mut self, t: Duration) -> Option<ExitStatus> {
        self.d.wait_timeout(t)
    }
    fn svc(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Runs `f` for each combo at the same time, one thread each; re-raises the first panic.
fn each(combos: &[Combo], f: impl Fn(Combo) + Sync) {
    let f = &f;
    std::thread::scope(|s| {
        let hs: Vec<_> = combos.iter().map(|&c| (c, s.spawn(move || f(c)))).collect();
        let mut first = None;
        for (c, h) in hs {
            if let Err(e) = h.join() {
                eprintln!("{c:?} failed");
                first.get_or_insert(e);
            }
        }
        if let Some(e) = first {
            std::panic::resume_unwind(e);
        }
    });
}

/// `f(combo, arg)` on every scanner pair at once, for each of `args` in turn.
fn each_arg(args: &[&str], f: impl Fn(Combo, &str) + Sync) {
    let combos = scanner_pair();
    for a in args {
        each(&combos, |c| f(c, a));
    }
}

/// Ours and the real scanner, both with the real supervisor (isolates the scanner), when the
/// real s6 is installed; else ours + ours only.
fn scanner_pair() -> Vec<Combo> {
    if have_real_s6() {
        vec![OURS_REAL, REAL_REAL]
    } else {
        vec![OURS_OURS]
    }
}

// ---------------------------------------------------------------------------------------------
// Service directories and their state

/// A logged service NAME in `scan` whose logger appends its stdin to `TMP/logs/NAME`.
fn logged_service(scan: &Path, name: &str, run: &str) {
    make_service(&scan.join(name), run);
    let logs = scan.parent().unwrap().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    make_service(&scan.join(name).join("log"), &format!("exec cat >> ../../../logs/{name}"));
}

/// A service printing a numbered line every 0.2 s.
fn chatty(name: &str) -> String {
    format!("i=0\nwhile :; do i=$((i+1)); echo \"{name} $i\"; sleep 0.2; done")
}

/// `.s6-svscan/finish` appending "$0 $# $PWD" to `TMP/finish.out`.
fn finish_script(scan: &Path) {
    std::fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
    write_exec(&scan.join(".s6-svscan/finish"), "#!/bin/sh\necho \"$0 $# $(pwd)\" >> ../finish.out\n");
}

fn finish_out(root: &Path) -> String {
    std::fs::read_to_string(root.join("finish.out")).unwrap_or_default()
}

fn assert_finish_ran(sc: &Scanner) {
    let want = format!(".s6-svscan/finish 0 {}\n", sc.dir.display());
    assert!(
        wait_until(PROMPT, || finish_out(&sc.root) == want),
        "{:?}: finish.out {:?}, want {want:?}",
        sc.combo,
        finish_out(&sc.root)
    );
}

/// Pid of `run` when the status file says up.
fn up_pid(dir: &Path) -> Option<i32> {
    let s = status(dir)?;
    (s.is_up() && s.pid > 0).then_some(s.pid as i32)
}

fn wait_up(dir: &Path) -> i32 {
    let mut pid = None;
    assert!(
        wait_until(PROMPT, || {
            pid = up_pid(dir);
            pid.is_some_and(alive)
        }),
        "{} not up",
        dir.display()
    );
    pid.unwrap()
}

/// What `s6-svstat -o up,pid` (the real one when installed) says.
fn svstat_up_pid(dir: &Path) -> String {
    let bin = if Path::new("/usr/bin/s6-svstat").exists() { real("s6-svstat") } else { ours("s6-svstat") };
    let o = run(bin, &["-o", "up,pid", dir.to_str().unwrap()], Path::new("/"));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn log_lines(root: &Path, name: &str) -> usize {
    std::fs::read_to_string(root.join("logs").join(name)).map(|s| s.lines().count()).unwrap_or(0)
}

/// Processes whose cwd is `dir` and whose command line is `argv`.
fn procs_in(dir: &Path, argv: &[&str]) -> Vec<i32> {
    all_pids().into_iter().filter(|&p| cwd_of(p).as_deref() == Some(dir) && cmdline(p) == argv && alive(p)).collect()
}

/// Writes raw bytes into the scanner's control FIFO.
fn write_control(dir: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(merit_sys::flags::O_NONBLOCK)
        .open(dir.join(".s6-svscan/control"))
        .unwrap();
    f.write_all(bytes).unwrap();
}

/// Kills whatever is left under `tmp` (after checks that needed it) and verifies nothing stays.
fn cleanup(tmp: &TempDir) {
    kill_processes_under(tmp.path());
    assert_nothing_left(tmp);
}

fn assert_nothing_left(tmp: &TempDir) {
    let mut left = Vec::new();
    let ok = wait_until(PROMPT, || {
        left = processes_under(tmp.path());
        left.is_empty()
    });
    let desc: Vec<String> = left.iter().map(|&p| format!("{p} {:?}", cmdline(p))).collect();
    assert!(ok, "processes left under {}: {desc:?}", tmp.path().display());
}

// ---------------------------------------------------------------------------------------------
// 1. Cross-interop: 20 logged services, three pairings

fn interop(combo: Combo) {
    let _g = heavy();
    let tmp = TempDir::new("svscan-interop");
    let scan = tmp.join("scan");
    let names: Vec<String> = (0..20).map(|i| format!("s{i:02}")).collect();
    for n in &names {
        logged_service(&scan, n, &chatty(n));
    }
    finish_script(&scan);
    let mut sc = Scanner::start(&tmp, combo, &[]);
    let want: Vec<String> = names.iter().flat_map(|n| [n.clone(), format!("{n}/log")]).collect();
    let want_ref: Vec<&str> = want.iter().map(|s| s.as_str()).collect();
    let sups = sc.wait_sups(&want_ref);
    assert_eq!(sups.len(), 40);
    let me = pstat(sc.pid()).unwrap();
    assert_eq!((me.pgrp, me.session), (sc.pid(), sc.pid()), "{combo:?}: scanner is its own session leader");

    for n in &names {
        let dir = sc.svc(n);
        let logdir = dir.join("log");
        let svc = wait_up(&dir);
        let logger = wait_up(&logdir);
        // The real s6-svstat agrees.
        assert_eq!(svstat_up_pid(&dir), format!("true {svc}"), "{combo:?} {n}");
        assert_eq!(svstat_up_pid(&logdir), format!("true {logger}"), "{combo:?} {n}/log");
        // Supervisors: in the scanner's process group and session. Services: session leaders.
        for name in [n.clone(), format!("{n}/log")] {
            let p = pstat(sups[&name]).unwrap();
            assert_eq!((p.ppid, p.pgrp, p.session), (sc.pid(), sc.pid(), sc.pid()), "{combo:?} supervisor {name}");
        }
        for (what, pid) in [("service", svc), ("logger", logger)] {
            let p = pstat(pid).unwrap();
            assert_eq!((p.pgrp, p.session), (pid, pid), "{combo:?} {n} {what} is a session leader");
        }
        // The service's stdout is its logger's stdin: one pipe.
        let out = fd_link(svc, 1);
        assert!(out.starts_with("pipe:["), "{combo:?} {n}: service stdout {out}");
        assert_eq!(fd_link(logger, 0), out, "{combo:?} {n}: logger stdin");
        // And the pipe is not the scanner's own stdio.
        assert_ne!(fd_link(sc.pid(), 1), out);
    }
    // Lines reach every log file.
    for n in &names {
        assert!(wait_until(PROMPT, || log_lines(&sc.root, n) >= 3), "{combo:?}: no lines in logs/{n}");
        let text = std::fs::read_to_string(sc.root.join("logs").join(n)).unwrap();
        assert!(text.starts_with(&format!("{n} 1\n{n} 2\n")), "{combo:?} logs/{n}: {text:?}");
    }

    // -t: services down, loggers get EOF, everyone exits; finish runs with no arguments.
    sc.ctl("t");
    let st = sc.wait_exit(PROMPT).unwrap_or_else(|| panic!("{combo:?}: scanner still running after -t"));
    assert!(st.success(), "{combo:?}: {st:?}");
    assert_finish_ran(&sc);
    assert_nothing_left(&tmp);
    assert!(sc.own_lines().is_empty(), "{combo:?}: {}", sc.stderr());
}

#[test]
fn interop_ours_scanner_ours_supervise() {
    interop(OURS_OURS);
}

#[test]
fn interop_ours_scanner_real_supervise() {
    if have_real_s6() {
        interop(OURS_REAL);
    }
}

#[test]
fn interop_real_scanner_ours_supervise() {
    if have_real_s6() && can_unshare("real s6-svscan with our s6-supervise (bind mount)") {
        interop(REAL_OURS);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Control letters: ours and the real scanner, same supervisor

/// `-a` new service; remove + `-a` = inactive, still supervised; `-n` stops it; `-z`; `-h` =
/// rescan + kill inactive; unknown letter; `-b` = finish without waiting.
fn letters_basic(combo: Combo) {
    let tmp = TempDir::new("svscan-letters");
    let scan = tmp.join("scan");
    make_service(&scan.join("A"), "exec sleep 1000");
    logged_service(&scan, "L", &chatty("L"));
    finish_script(&scan);
    let mut sc = Scanner::start(&tmp, combo, &[]);
    sc.wait_sups(&["A", "L", "L/log"]);

    make_service(&scan.join("B"), "exec sleep 1000");
    sc.ctl("a");
    let sups = sc.wait_sups(&["A", "B", "L", "L/log"]);
    let b_pid = wait_up(&scan.join("B"));

    sc.ctl("z");

    std::fs::rename(scan.join("B"), tmp.join("B")).unwrap();
    sc.ctl("a");
    sleep_ms(1500);
    assert_eq!(sc.sups(), sups, "{combo:?}: an inactive service keeps its supervisor");
    assert!(alive(b_pid), "{combo:?}: inactive service still up");

    sc.ctl("n");
    sc.wait_sups(&["A", "L", "L/log"]);
    assert!(wait_until(PROMPT, || !alive(b_pid)), "{combo:?}: -n took the service down");
    assert!(status(&tmp.join("B")).is_some_and(|s| !s.is_up()), "{combo:?}: B down");

    let a_pid = wait_up(&scan.join("A"));
    std::fs::rename(scan.join("A"), tmp.join("A")).unwrap();
    make_service(&scan.join("C"), "exec sleep 1000");
    sc.ctl("h");
    sc.wait_sups(&["C", "L", "L/log"]);
    assert!(wait_until(PROMPT, || !alive(a_pid)), "{combo:?}: -h took A down");
    wait_up(&scan.join("C"));

    write_control(&scan, b"Z");
    assert!(
        wait_until(PROMPT, || sc.stderr().contains("s6-svscan: warning: received unknown control command: Z\n")),
        "{combo:?}: {}",
        sc.stderr()
    );

    let sups = sc.sups();
    sc.ctl("b");
    let st = sc.wait_exit(PROMPT).unwrap_or_else(|| panic!("{combo:?}: still running after -b"));
    assert!(st.success(), "{combo:?}: {st:?}");
    assert_finish_ran(&sc);
    for (name, pid) in &sups {
        assert!(alive(*pid), "{combo:?}: -b does not wait for (nor kill) supervisor {name}");
    }
    assert_eq!(sc.own_lines(), ["s6-svscan: warning: received unknown control command: Z"], "{combo:?}");
    cleanup(&tmp);
}

#[test]
fn letters_a_n_h_z_b_unknown() {
    each(&scanner_pair(), letters_basic);
}

/// A logged inactive service: `-n` gives its logger supervisor SIGHUP (the logger stays as long
/// as the service's pipe is open), `-N` SIGTERM (the logger goes at once; the service then dies
/// of EPIPE). `-an` in one command: the rescan happens before the kill.
fn letters_logged_inactive(combo: Combo) {
    let tmp = TempDir::new("svscan-nN");
    let scan = tmp.join("scan");
    let stubborn = |n: &str| format!("trap '' TERM\n{}", chatty(n));
    logged_service(&scan, "S", &stubborn("S"));
    logged_service(&scan, "T", &stubborn("T"));
    finish_script(&scan);
    let mut sc = Scanner::start(&tmp, combo, &[]);
    sc.wait_sups(&["S", "S/log", "T", "T/log"]);
    let s_run = wait_up(&scan.join("S"));
    let s_cat = wait_up(&scan.join("S/log"));
    let t_run = wait_up(&scan.join("T"));
    let t_cat = wait_up(&scan.join("T/log"));
    assert!(wait_until(PROMPT, || log_lines(&sc.root, "S") > 0 && log_lines(&sc.root, "T") > 0));

    std::fs::rename(scan.join("S"), tmp.join("S")).unwrap();
    sc.ctl("an");
    sleep_ms(1500);
    let sups = sc.sups();
    assert!(sups.contains_key("S") && sups.contains_key("S/log"), "{combo:?}: {sups:?}");
    assert!(alive(s_run) && alive(s_cat), "{combo:?}: the service ignores SIGTERM, its logger has no EOF");
    let before = log_lines(&sc.root, "S");
    assert!(wait_until(PROMPT, || log_lines(&sc.root, "S") > before), "{combo:?}: S still logs");
    // The service dies: its supervisor exits, the scanner closes the pipe, the logger sees EOF
    // and its supervisor (which got SIGHUP) exits.
    kill(s_run, merit_sys::signal::SIGKILL);
    sc.wait_sups(&["T", "T/log"]);
    assert!(wait_until(PROMPT, || !alive(s_cat)), "{combo:?}: S logger exited on EOF");

    std::fs::rename(scan.join("T"), tmp.join("T")).unwrap();
    sc.ctl("aN");
    let mut sups = BTreeMap::new();
    assert!(
        wait_until(PROMPT, || {
            sups = sc.sups();
            !sups.contains_key("T/log")
        }),
        "{combo:?}: -N: the logger supervisor got SIGTERM and left: {sups:?}"
    );
    assert!(wait_until(PROMPT, || !alive(t_cat)), "{combo:?}: T logger killed");
    // Its pipe closed, the service dies of SIGPIPE at its next line, and its supervisor exits.
    assert!(wait_until(PROMPT, || !alive(t_run)), "{combo:?}: T service died of EPIPE");
    sc.wait_sups(&[]);

    sc.ctl("q");
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()), "{combo:?}: -q");
    assert_finish_ran(&sc);
    assert!(sc.own_lines().is_empty(), "{combo:?}: {}", sc.stderr());
    cleanup(&tmp);
}

#[test]
fn letters_n_vs_big_n_on_logged_inactive_service() {
    each(&scanner_pair(), letters_logged_inactive);
}

/// A logged service whose pipe stays open after the service is gone (a background child keeps
/// it): with a kill that HUPs loggers (`-t`, `-i`, SIGTERM, SIGINT) the scanner waits for the
/// logger; with one that TERMs them (`-q`, SIGQUIT) it exits at once; `-tb` does not wait.
fn shutdown_case(combo: Combo, how: &str) {
    let tmp = TempDir::new("svscan-stop");
    let scan = tmp.join("scan");
    logged_service(&scan, "P", &format!("sleep 1000 &\n{}", chatty("P")));
    finish_script(&scan);
    let mut sc = Scanner::start(&tmp, combo, &[]);
    let sups = sc.wait_sups(&["P", "P/log"]);
    let cat = wait_up(&scan.join("P/log"));
    assert!(wait_until(PROMPT, || log_lines(&sc.root, "P") > 0));
    let pdir = scan.join("P").canonicalize().unwrap();
    assert!(wait_until(PROMPT, || procs_in(&pdir, &["sleep", "1000"]).len() == 1), "{combo:?}: background sleep");
    match how {
        "SIGTERM" => sc.signal(merit_sys::signal::SIGTERM),
        "SIGINT" => sc.signal(merit_sys::signal::SIGINT),
        "SIGQUIT" => sc.signal(merit_sys::signal::SIGQUIT),
        letters => sc.ctl(letters),
    }
    match how {
        "t" | "i" | "SIGTERM" | "SIGINT" => {
            sc.wait_sups(&["P/log"]);
            sleep_ms(1000);
            assert!(sc.running(), "{combo:?} {how}: waits for the logger");
            assert_eq!(sc.sups(), BTreeMap::from([("P/log".to_string(), sups["P/log"])]), "{combo:?} {how}");
            assert!(alive(cat), "{combo:?} {how}: the logger got SIGHUP, not SIGTERM");
            assert_eq!(finish_out(&sc.root), "", "{combo:?} {how}: finish not yet");
            for p in procs_in(&pdir, &["sleep", "1000"]) {
                kill(p, merit_sys::signal::SIGKILL);
            }
            let st = sc.wait_exit(PROMPT).unwrap_or_else(|| panic!("{combo:?} {how}: no exit after EOF"));
            assert!(st.success());
            assert!(!alive(cat));
        }
        "q" | "SIGQUIT" => {
            let st = sc.wait_exit(PROMPT).unwrap_or_else(|| panic!("{combo:?} {how}: loggers get SIGTERM"));
            assert!(st.success());
            assert!(wait_until(PROMPT, || !alive(cat)));
        }
        "tb" => {
            let st = sc.wait_exit(PROMPT).unwrap_or_else(|| panic!("{combo:?} -tb: does not wait"));
            assert!(st.success());
            assert!(alive(sups["P/log"]) && alive(cat), "{combo:?} -tb: the logger was HUPed, not waited for");
        }
        _ => unreachable!(),
    }
    assert_finish_ran(&sc);
    assert!(sc.own_lines().is_empty(), "{combo:?}: {}", sc.stderr());
    cleanup(&tmp);
}

/// [`shutdown_case`] for each way of stopping in `hows` on every scanner pair, all at once; the
/// failed cases are listed.
fn shutdown_cases(hows: &[&'static str]) {
    let cases: Vec<(Combo, &str)> =
        scanner_pair().into_iter().flat_map(|c| hows.iter().map(move |&h| (c, h))).collect();
    std::thread::scope(|s| {
        let hs: Vec<_> = cases.iter().map(|&(c, h)| s.spawn(move || shutdown_case(c, h))).collect();
        let mut failed = Vec::new();
        for (h, case) in hs.into_iter().zip(&cases) {
            if h.join().is_err() {
                failed.push(*case);
            }
        }
        assert!(failed.is_empty(), "failed: {failed:?}");
    });
}

#[test]
fn letters_t_i_q_tb_hup_or_term_loggers() {
    shutdown_cases(&["t", "i", "q", "tb"]);
}

/// A kill request replaces an earlier one of the same batch (s6 assigns, it does not OR): `-tn`
/// leaves the loop but only kills inactive services, so the scanner waits for A's supervisor,
/// which was not signalled (want-up still set). `-bt`: the last exit mode wins: A's supervisor
/// gets SIGTERM (want-up cleared) and the scanner waits for it (A ignores SIGTERM).
fn letters_last_wins(combo: Combo, letters: &str) {
    let tmp = TempDir::new("svscan-last");
    let scan = tmp.join("scan");
    make_service(&scan.join("A"), "trap '' TERM\nwhile :; do sleep 0.1; done");
    finish_script(&scan);
    let mut sc = Scanner::start(&tmp, combo, &[]);
    let sups = sc.wait_sups(&["A"]);
    let a = wait_up(&scan.join("A"));
    sc.ctl(letters);
    sleep_ms(1500);
    assert!(sc.running(), "{combo:?} -{letters}: still waiting");
    assert!(alive(a) && alive(sups["A"]), "{combo:?} -{letters}");
    let wantup = status(&scan.join("A")).unwrap().wantup;
    assert_eq!(wantup, letters == "tn", "{combo:?} -{letters}: A's supervisor signalled?");
    assert_eq!(finish_out(&sc.root), "");
    // Stop A by hand: the supervisor exits, the scanner then finishes.
    kill(sups["A"], merit_sys::signal::SIGTERM);
    sleep_ms(200);
    kill(a, merit_sys::signal::SIGKILL);
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()), "{combo:?} -{letters}");
    assert_finish_ran(&sc);
    cleanup(&tmp);
}

#[test]
fn letters_later_kill_and_exit_mode_win() {
    each_arg(&["tn", "bt"], letters_last_wins);
}

#[test]
fn svscanctl_cli_matches_real() {
    if !have_real_s6() {
        return;
    }
    let tmp = TempDir::new("svscanctl-cli");
    let t = tmp.path();
    std::fs::create_dir_all(t.join("notlistening/.s6-svscan")).unwrap();
    merit_sys::mkfifo(&t.join("notlistening/.s6-svscan/control"), 0o600).unwrap();
    std::fs::create_dir_all(t.join("noctl/.s6-svscan")).unwrap();
    std::fs::create_dir_all(t.join("empty")).unwrap();
    std::fs::write(t.join("afile"), "").unwrap();
    let many = format!("-{}", "a".repeat(65));
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["-x", "empty"],
        vec!["-a"],
        vec!["-a", "notlistening"],
        vec!["notlistening"],
        vec!["-a", "nonexistent"],
        vec!["-a", "afile"],
        vec!["-a", "noctl"],
        vec!["-a", "empty"],
        vec!["-p", "notlistening"],
        vec!["-r", "notlistening"],
        vec!["-s", "notlistening"],
        vec!["-0", "notlistening"],
        vec!["-6", "notlistening"],
        vec!["-7", "notlistening"],
        vec!["-8", "notlistening"],
        vec![&many, "notlistening"],
        vec!["-a", "--", "notlistening"],
    ];
    for args in cases {
        let o = run(ours("s6-svscanctl"), &args, t);
        let r = run(real("s6-svscanctl"), &args, t);
        assert_eq!(
            (o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
            (r.status.code(), String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr)),
            "s6-svscanctl {args:?}"
        );
    }
    cleanup(&tmp);
}

// ---------------------------------------------------------------------------------------------
// 3. Signals

/// SIGHUP = `h`, SIGALRM = `a`, SIGUSR1/USR2/PWR/WINCH without scripts = nothing.
fn signal_defaults(combo: Combo) {
    let tmp = TempDir::new("svscan-sig");
    let scan = tmp.join("scan");
    for n in ["A", "B"] {
        make_service(&scan.join(n), "exec sleep 1000");
    }
    finish_script(&scan);
    let mut sc = Scanner::start(&tmp, combo, &[]);
    let sups = sc.wait_sups(&["A", "B"]);
    let b = wait_up(&scan.join("B"));

    std::fs::rename(scan.join("B"), tmp.join("B")).unwrap();
    make_service(&scan.join("C"), "exec sleep 1000");
    sc.signal(merit_sys::signal::SIGHUP);
    sc.wait_sups(&["A", "C"]);
    assert!(wait_until(PROMPT, || !alive(b)), "{combo:?}: SIGHUP killed inactive B");

    make_service(&scan.join("D"), "exec sleep 1000");
    sc.signal(merit_sys::signal::SIGALRM);
    let sups2 = sc.wait_sups(&["A", "C", "D"]);
    assert_eq!(sups2["A"], sups["A"]);

    for sig in
        [merit_sys::signal::SIGUSR1, merit_sys::signal::SIGUSR2, merit_sys::signal::SIGPWR, merit_sys::signal::SIGWINCH]
    {
        sc.signal(sig);
    }
    sleep_ms(700);
    assert!(sc.running(), "{combo:?}: USR1/USR2/PWR/WINCH do nothing by default");
    assert_eq!(sc.sups(), sups2);

    sc.ctl("q");
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()));
    assert_finish_ran(&sc);
    assert!(sc.own_lines().is_empty(), "{combo:?}: {}", sc.stderr());
    assert_nothing_left(&tmp);
}

#[test]
fn signals_hup_alrm_and_ignored_defaults() {
    each(&scanner_pair(), signal_defaults);
}

#[test]
fn signals_term_int_hup_loggers_quit_terms_them() {
    shutdown_cases(&["SIGTERM", "SIGINT", "SIGQUIT"]);
}

/// `.s6-svscan/SIGUSR1` and `SIGTERM` are spawned instead of the default (with the SIGTERM
/// script, the scanner keeps running); a non-executable `SIGHUP` gives a warning and the default.
fn signal_scripts(combo: Combo) {
    let tmp = TempDir::new("svscan-sigscripts");
    let scan = tmp.join("scan");
    make_service(&scan.join("A"), "exec sleep 1000");
    finish_script(&scan);
    for s in ["SIGUSR1", "SIGTERM"] {
        write_exec(&scan.join(".s6-svscan").join(s), "#!/bin/sh\necho \"$0 $# $(pwd)\" >> ../sig.out\n");
    }
    std::fs::write(scan.join(".s6-svscan/SIGHUP"), "#!/bin/sh\necho HUP >> ../sig.out\n").unwrap();
    let mut sc = Scanner::start(&tmp, combo, &[]);
    let sups = sc.wait_sups(&["A"]);
    let sig_out = || std::fs::read_to_string(tmp.join("sig.out")).unwrap_or_default();
    let d = scan.display();

    sc.signal(merit_sys::signal::SIGUSR1);
    let want = format!(".s6-svscan/SIGUSR1 0 {d}\n");
    assert!(wait_until(PROMPT, || sig_out() == want), "{combo:?}: {:?}", sig_out());

    sc.signal(merit_sys::signal::SIGTERM);
    let want = format!("{want}.s6-svscan/SIGTERM 0 {d}\n");
    assert!(wait_until(PROMPT, || sig_out() == want), "{combo:?}: {:?}", sig_out());
    sleep_ms(1000);
    assert!(sc.running(), "{combo:?}: the SIGTERM script replaces the default");
    assert_eq!(sc.sups(), sups);
    assert_eq!(zombie_children(sc.pid()), 0, "{combo:?}: scripts are reaped");

    let a = wait_up(&scan.join("A"));
    std::fs::rename(scan.join("A"), tmp.join("A")).unwrap();
    sc.signal(merit_sys::signal::SIGHUP);
    sc.wait_sups(&[]);
    assert!(wait_until(PROMPT, || !alive(a)));
    assert_eq!(sig_out(), want, "{combo:?}: SIGHUP script not run");
    assert_eq!(sc.own_lines(), ["s6-svscan: warning: unable to spawn .s6-svscan/SIGHUP: Permission denied"]);

    sc.ctl("t");
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()));
    assert_finish_ran(&sc);
    assert_nothing_left(&tmp);
}

#[test]
fn signals_scripts_replace_defaults() {
    each(&scanner_pair(), signal_scripts);
}

// ---------------------------------------------------------------------------------------------
// 4. Supervisor respawn

fn respawn(combo: Combo) {
    let tmp = TempDir::new("svscan-respawn");
    let scan = tmp.join("scan");
    make_service(&scan.join("A"), "exec sleep 1000");
    logged_service(&scan, "L", &chatty("L"));
    let mut sc = Scanner::start(&tmp, combo, &[]);
    let sups = sc.wait_sups(&["A", "L", "L/log"]);
    wait_up(&scan.join("A"));
    let l = wait_up(&scan.join("L"));
    let cat = wait_up(&scan.join("L/log"));
    let pipe = fd_link(l, 1);

    kill(sups["A"], merit_sys::signal::SIGKILL);
    kill(sups["L/log"], merit_sys::signal::SIGKILL);
    let t0 = Instant::now();
    let mut new = BTreeMap::new();
    assert!(wait_until(PROMPT, || {
        new = sc.sups();
        new.len() == 3 && new["A"] != sups["A"] && new["L/log"] != sups["L/log"]
    }));
    let dt = t0.elapsed();
    assert!(
        dt >= Duration::from_millis(900) && dt < Duration::from_secs(5),
        "{combo:?}: respawned after {dt:?}, want about 1 s"
    );
    assert_eq!(new["L"], sups["L"]);
    // The new logger reads the same pipe (the scanner kept it).
    let mut cat2 = 0;
    assert!(wait_until(PROMPT, || {
        cat2 = up_pid(&scan.join("L/log")).unwrap_or(0);
        cat2 != cat && alive(cat2)
    }));
    assert_eq!(fd_link(cat2, 0), pipe, "{combo:?}");
    eprintln!("{combo:?}: supervisor respawned {dt:?} after SIGKILL");

    sc.ctl("q");
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()));
    cleanup(&tmp); // the old `sleep 1000` and `cat`, orphaned by SIGKILL
}

#[test]
fn supervisor_killed_is_respawned_after_1s() {
    let mut combos = vec![OURS_OURS];
    if have_real_s6() {
        combos.push(REAL_REAL);
    }
    each(&combos, respawn);
}

// ---------------------------------------------------------------------------------------------
// 5. Crash loops

/// Clock ticks of CPU used by `pid` itself, plus by its reaped children when `with_children`.
fn ticks(pid: i32, with_children: bool) -> u64 {
    pstat(pid).map_or(0, |s| s.utime + s.stime + if with_children { s.cutime + s.cstime } else { 0 })
}

/// (busy, total) jiffies of the whole machine from the first line of /proc/stat.
fn machine_jiffies() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap();
    let v: Vec<u64> = s.lines().next().unwrap().split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// Death times (seconds, TAI) from `supervise/death_tally`.
fn death_times(dir: &Path) -> Vec<f64> {
    let b = std::fs::read(dir.join("supervise/death_tally")).unwrap_or_default();
    b.chunks_exact(14)
        .map(|r| {
            let secs = u64::from_be_bytes(r[0..8].try_into().unwrap()) & !(1u64 << 62);
            let nanos = u32::from_be_bytes(r[8..12].try_into().unwrap());
            secs as f64 + nanos as f64 / 1e9
        })
        .collect()
}

/// 200 services whose `run` exits 1 at once, under our scanner and supervisor for about 6 s.
///
/// Measured: CPU time (utime+stime) of the scanner, plus, for each `s6-supervise`, its own CPU
/// time and that of its reaped children (cutime+cstime: every `run` it spawned and waited for)
/// — i.e. the whole tree except a `run` alive at the sampling instant — over a 5 s window, and
/// the machine's busy share (/proc/stat) as context. Asserted: the tree uses less than one core,
/// and no service restarts more than once a second (death_tally records >= 0.9 s apart).
#[test]
fn crash_loops_are_throttled_and_cheap() {
    let _g = heavy();
    let tmp = TempDir::new("svscan-crash");
    let scan = tmp.join("scan");
    let n = 200;
    let names: Vec<String> = (0..n).map(|i| format!("c{i:03}")).collect();
    for name in &names {
        make_service(&scan.join(name), "exit 1");
    }
    let start = Instant::now();
    let sc = Scanner::start(&tmp, OURS_OURS, &["-c", "1000"]);
    let want: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let sups = sc.wait_sups(&want);
    sleep_ms(1000);

    let hz = merit_sys::clock::ticks_per_second() as f64;
    // (scanner, supervisors themselves, their reaped children), in ticks, sampled together.
    let sample = || {
        let (mut own, mut kids) = (0u64, 0u64);
        for &p in sups.values() {
            let s = pstat(p).unwrap();
            own += s.utime + s.stime;
            kids += s.cutime + s.cstime;
        }
        (ticks(sc.pid(), false), own, kids)
    };
    let (a0, m0, t0) = (sample(), machine_jiffies(), Instant::now());
    sleep_ms(5000);
    let (a1, m1, wall) = (sample(), machine_jiffies(), t0.elapsed().as_secs_f64());
    assert_eq!(sc.sups(), sups, "no supervisor died");
    let secs = |x: u64, y: u64| y.saturating_sub(x) as f64 / hz;
    let (scanner, supervise, runs) = (secs(a0.0, a1.0), secs(a0.1, a1.1), secs(a0.2, a1.2));
    let cores = (scanner + supervise + runs) / wall;
    let ncpu = std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64);
    let machine = (m1.0 - m0.0) as f64 / (m1.1 - m0.1) as f64 * ncpu;
    eprintln!(
        "crash loop, {n} services, {wall:.2} s window: tree {:.2} s CPU = {cores:.3} cores \
         (scanner {scanner:.2} s, supervisors {supervise:.2} s, their run children {runs:.2} s); \
         machine busy {machine:.2} of {ncpu} cores",
        scanner + supervise + runs,
    );
    assert!(cores < 1.0, "crash-looping tree uses {cores:.3} cores");

    let elapsed = start.elapsed().as_secs_f64();
    let (mut total, mut min_gap) = (0usize, f64::MAX);
    for name in &names {
        let t = death_times(&scan.join(name));
        assert!(t.len() >= 2, "{name}: {} deaths", t.len());
        assert!((t.len() as f64) <= elapsed + 1.0, "{name}: {} deaths in {elapsed:.1} s", t.len());
        for w in t.windows(2) {
            min_gap = min_gap.min(w[1] - w[0]);
        }
        total += t.len();
    }
    eprintln!("crash loop: {total} deaths of {n} services in {elapsed:.1} s; shortest gap {min_gap:.3} s");
    assert!(min_gap >= 0.9, "a service restarted {min_gap:.3} s after its previous death");
    drop(sc);
    cleanup(&tmp);
}

// ---------------------------------------------------------------------------------------------
// 6. Bad input and edge cases

/// The fixture's layout: dot-dir, logged dir, symlink to a dir outside, a regular file named
/// `log`, a dangling symlink (warning every 3 s), links to files.
fn layout(combo: Combo) -> Vec<String> {
    let tmp = TempDir::new("svscan-layout");
    let scan = tmp.join("scan");
    make_service(&scan.join(".hidden"), "exec sleep 1000");
    logged_service(&scan, "A", &chatty("A"));
    make_service(&tmp.join("repo/B"), "exec sleep 1000");
    std::os::unix::fs::symlink("../repo/B", scan.join("B")).unwrap();
    make_service(&scan.join("L"), "exec sleep 1000");
    std::fs::write(scan.join("L/log"), "not a dir\n").unwrap();
    std::os::unix::fs::symlink("does-not-exist", scan.join("dangling")).unwrap();
    std::fs::write(scan.join("plainfile"), "").unwrap();
    std::os::unix::fs::symlink("plainfile", scan.join("link-to-file")).unwrap();
    finish_script(&scan);
    let t0 = Instant::now();
    let mut sc = Scanner::start(&tmp, combo, &[]);
    sc.wait_sups(&["A", "A/log", "B", "L"]);
    let b = wait_up(&scan.join("B"));
    assert_eq!(cwd_of(b).unwrap(), tmp.join("repo/B"), "{combo:?}");
    let l = wait_up(&scan.join("L"));
    assert_eq!(fd_link(l, 1), tmp.join("out").display().to_string(), "{combo:?}: L is not logged");
    assert!(status(&scan.join(".hidden")).is_none());
    // The warning repeats every 3 s.
    let warn = "s6-svscan: warning: unable to stat dangling: No such file or directory";
    assert!(wait_until(PROMPT, || sc.own_lines().len() >= 2), "{combo:?}: {}", sc.stderr());
    let dt = t0.elapsed();
    assert!(dt >= Duration::from_millis(2800), "{combo:?}: second warning after {dt:?}");
    sc.ctl("t");
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()));
    assert_finish_ran(&sc);
    let lines = sc.own_lines();
    assert!(lines.iter().all(|l| l == warn), "{combo:?}: {lines:?}");
    assert_nothing_left(&tmp);
    lines[..2].to_vec()
}

#[test]
fn edge_layout_dangling_dotdir_logfile_symlink() {
    same_ours_and_real(layout);
}

/// `-c 2` with three services: one warning, two supervisors.
fn max_services(combo: Combo) -> String {
    let tmp = TempDir::new("svscan-max");
    let scan = tmp.join("scan");
    for n in ["A", "B", "C"] {
        make_service(&scan.join(n), "exec sleep 1000");
    }
    let mut sc = Scanner::start(&tmp, combo, &["-c", "2"]);
    assert!(wait_until(PROMPT, || sc.sups().len() == 2 && !sc.own_lines().is_empty()));
    sleep_ms(500);
    let sups = sc.sups();
    assert_eq!(sups.len(), 2, "{combo:?}");
    let missing = ["A", "B", "C"].into_iter().find(|n| !sups.contains_key(*n)).unwrap();
    assert_eq!(
        sc.own_lines(),
        [format!("s6-svscan: warning: unable to start supervisor for {missing}: too many services")],
        "{combo:?}"
    );
    sc.ctl("q");
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()));
    assert_nothing_left(&tmp);
    sc.own_lines()[0].replace(missing, "X")
}

#[test]
fn edge_max_services() {
    same_ours_and_real(max_services);
}

/// `f` on ours + ours and, when the real s6 is installed, on real + real, at once: both must
/// give the same result.
fn same_ours_and_real<R: std::fmt::Debug + PartialEq + Send>(f: impl Fn(Combo) -> R + Sync) {
    let mut combos = vec![OURS_OURS];
    if have_real_s6() {
        combos.push(REAL_REAL);
    }
    let results = Mutex::new(Vec::new());
    each(&combos, |c| {
        let r = f(c);
        results.lock().unwrap().push(r);
    });
    let r = results.into_inner().unwrap();
    assert!(r.windows(2).all(|w| w[0] == w[1]), "{r:?}");
}

/// Runs a scanner command that must fail at start-up; (exit code, stderr).
fn failing_start(tmp: &TempDir, combo: Combo, args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let mut cmd = scanner_command(tmp, combo, args, dir);
    cmd.stdout(Stdio::null()).stderr(std::fs::File::create(tmp.join("fail.err")).unwrap());
    let mut d = Daemon::spawn(cmd);
    let st = d.wait_timeout(PROMPT).unwrap_or_else(|| panic!("{combo:?} s6-svscan {args:?} {dir:?} did not exit"));
    (st.code(), std::fs::read_to_string(tmp.join("fail.err")).unwrap())
}

#[test]
fn edge_startup_errors_match_real() {
    if !have_real_s6() {
        return;
    }
    let mut got: BTreeMap<String, Vec<(Option<i32>, String)>> = BTreeMap::new();
    for combo in [OURS_OURS, REAL_REAL] {
        let tmp = TempDir::new("svscan-errors");
        let t = tmp.path();
        let ok = t.join("ok");
        std::fs::create_dir_all(&ok).unwrap();
        std::fs::create_dir_all(t.join("notdir")).unwrap();
        std::fs::write(t.join("notdir/.s6-svscan"), "").unwrap();
        std::fs::create_dir_all(t.join("nofifo/.s6-svscan")).unwrap();
        std::fs::write(t.join("nofifo/.s6-svscan/control"), "").unwrap();
        std::fs::write(t.join("afile"), "").unwrap();
        let cases: Vec<(&str, Vec<&str>, PathBuf)> = vec![
            ("bad option", vec!["-x"], ok.clone()),
            ("-c abc", vec!["-c", "abc"], ok.clone()),
            ("-t 1x", vec!["-t", "1x"], ok.clone()),
            ("-d 1", vec!["-d", "1"], ok.clone()),
            ("-d 0", vec!["-d", "0"], ok.clone()),
            ("-d 50 (not open)", vec!["-d", "50"], ok.clone()),
            ("-X 2", vec!["-X", "2"], ok.clone()),
            ("-X 50 (not open)", vec!["-X", "50"], ok.clone()),
            ("missing dir", vec![], t.join("missing")),
            ("dir is a file", vec![], t.join("afile")),
            (".s6-svscan is a file", vec![], t.join("notdir")),
            ("control is not a FIFO", vec![], t.join("nofifo")),
            // Values are `unsigned int`s; a descriptor that does not fit an `int` is unset.
            ("-t 2^32", vec!["-t", "4294967296"], t.join("missing")),
            ("-t 2^32-1", vec!["-t", "4294967295"], t.join("missing")),
            ("-c 2^37", vec!["-c", "137438953472"], t.join("missing")),
            ("-d 2^32", vec!["-d", "4294967296"], t.join("missing")),
            ("-d 2^32-1", vec!["-d", "4294967295"], t.join("missing")),
            ("-X 2^31", vec!["-X", "2147483648"], t.join("missing")),
        ];
        for (what, args, dir) in cases {
            got.entry(what.to_string()).or_default().push(failing_start(&tmp, combo, &args, &dir));
        }
        cleanup(&tmp);
    }
    for (what, v) in &got {
        assert_eq!(v[0], v[1], "{what}: ours vs real");
        assert!(matches!(v[0].0, Some(100) | Some(111)), "{what}: {:?}", v[0]);
    }
    assert_eq!(got["missing dir"][0].0, Some(111));
    assert_eq!(got["bad option"][0].0, Some(100));
    assert_eq!(got["-d 1"][0].0, Some(100));
    assert_eq!(got["-t 2^32"][0].0, Some(100));
    assert_eq!(got["-X 2^31"][0].0, Some(111));
    assert!(got["bad option"][0].1.starts_with("s6-svscan: usage: s6-svscan "));
}

/// A second scanner on the same directory (any kind on any kind) exits 100.
#[test]
fn edge_second_instance_refused() {
    let kinds: Vec<Combo> = if have_real_s6() { vec![OURS_OURS, REAL_REAL] } else { vec![OURS_OURS] };
    for &first in &kinds {
        let tmp = TempDir::new("svscan-twice");
        make_service(&tmp.join("scan/A"), "exec sleep 1000");
        let mut sc = Scanner::start(&tmp, first, &[]);
        let sups = sc.wait_sups(&["A"]);
        for &second in &kinds {
            let got = failing_start(&tmp, second, &[], &sc.dir);
            assert_eq!(
                got,
                (
                    Some(100),
                    "s6-svscan: fatal: another instance of s6-svscan is already running on the same directory\n"
                        .to_string()
                ),
                "{second:?} on the dir of {first:?}"
            );
        }
        assert_eq!(sc.sups(), sups);
        assert!(sc.running());
        sc.ctl("q");
        assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()));
        assert_nothing_left(&tmp);
    }
}

/// finish present but not executable: `.s6-svscan/crash` is exec'd (no arguments); without it,
/// exit 111. Same messages as the real one.
#[test]
fn edge_crash_when_finish_not_executable() {
    let mut combos = vec![OURS_OURS];
    if have_real_s6() {
        combos.push(REAL_REAL);
    }
    let mut seen = Vec::new();
    for combo in combos {
        let mut per = Vec::new();
        for with_crash in [true, false] {
            let tmp = TempDir::new("svscan-crash-script");
            let scan = tmp.join("scan");
            std::fs::create_dir_all(scan.join(".s6-svscan")).unwrap();
            std::fs::write(scan.join(".s6-svscan/finish"), "#!/bin/sh\necho finish >> ../finish.out\n").unwrap();
            if with_crash {
                write_exec(&scan.join(".s6-svscan/crash"), "#!/bin/sh\necho \"$0 $# $(pwd)\" >> ../crash.out\n");
            }
            let mut sc = Scanner::start(&tmp, combo, &[]);
            sc.ctl("t");
            let st = sc.wait_exit(PROMPT).expect("exits");
            let crash = std::fs::read_to_string(tmp.join("crash.out")).unwrap_or_default();
            if with_crash {
                assert_eq!(st.code(), Some(0), "{combo:?}");
                assert_eq!(crash, format!(".s6-svscan/crash 0 {}\n", scan.display()), "{combo:?}");
            } else {
                assert_eq!(st.code(), Some(111), "{combo:?}");
            }
            assert_eq!(finish_out(&tmp.0), "");
            per.push(sc.stderr());
            assert_nothing_left(&tmp);
        }
        seen.push(per);
    }
    assert_eq!(
        seen[0][0],
        "s6-svscan: warning: unable to exec finish script .s6-svscan/finish: Permission denied\n\
         s6-svscan: warning: executing into .s6-svscan/crash\n"
    );
    if seen.len() == 2 {
        assert_eq!(seen[0], seen[1], "ours vs real");
    }
}

/// Renaming a service dir keeps the service; a respawned supervisor gets the new name. A `log/`
/// added to a running unlogged service is ignored (whether a service is logged is decided when
/// it is first seen).
fn rename_and_late_log(combo: Combo) {
    let tmp = TempDir::new("svscan-rename");
    let scan = tmp.join("scan");
    make_service(&scan.join("A"), "exec sleep 1000");
    make_service(&scan.join("U"), "exec sleep 1000");
    let mut sc = Scanner::start(&tmp, combo, &[]);
    let sups = sc.wait_sups(&["A", "U"]);
    let a = wait_up(&scan.join("A"));
    std::fs::rename(scan.join("A"), scan.join("A2")).unwrap();
    make_service(&scan.join("U/log"), "exec cat");
    sc.ctl("a");
    sleep_ms(500);
    assert_eq!(sc.sups(), sups, "{combo:?}: same service under a new name; no logger added");
    kill(sups["A"], merit_sys::signal::SIGKILL);
    let new = sc.wait_sups(&["A2", "U"]);
    assert_ne!(new["A2"], sups["A"]);
    assert!(alive(a));
    kill(a, merit_sys::signal::SIGKILL);
    sc.ctl("q");
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()));
    assert!(sc.own_lines().is_empty(), "{combo:?}: {}", sc.stderr());
    cleanup(&tmp);
}

#[test]
fn edge_rename_keeps_service_and_late_log_is_ignored() {
    each(&scanner_pair(), rename_and_late_log);
}

/// `-c 2`: an inactive service still supervised counts; after it is gone, the new one starts.
/// And a logged service removed (`-an`) whose logger lingers, put back: not reactivated until
/// both its supervisors are gone, then restarted at once.
fn inactive_counts_and_reactivation(combo: Combo) {
    let tmp = TempDir::new("svscan-react");
    let scan = tmp.join("scan");
    logged_service(&scan, "A", "exec sleep 1000");
    // A logger that does not read and ignores nothing: SIGHUP leaves it running.
    write_exec(&scan.join("A/log/run"), "#!/bin/sh\nexec sleep 1000\n");
    make_service(&scan.join("B"), "exec sleep 1000");
    let mut sc = Scanner::start(&tmp, combo, &["-c", "2"]);
    sc.wait_sups(&["A", "A/log", "B"]);
    let b = wait_up(&scan.join("B"));
    std::fs::rename(scan.join("B"), tmp.join("B")).unwrap();
    make_service(&scan.join("C"), "exec sleep 1000");
    sc.ctl("a");
    assert!(wait_until(PROMPT, || sc.own_lines().len() == 1), "{combo:?}: {}", sc.stderr());
    assert_eq!(sc.own_lines(), ["s6-svscan: warning: unable to start supervisor for C: too many services"]);
    sc.wait_sups(&["A", "A/log", "B"]);
    sc.ctl("n");
    sc.wait_sups(&["A", "A/log"]);
    assert!(!alive(b));
    sc.ctl("a");
    sc.wait_sups(&["A", "A/log", "C"]);

    // Reactivation.
    let logger = wait_up(&scan.join("A/log"));
    std::fs::rename(scan.join("A"), tmp.join("A")).unwrap();
    sc.ctl("an");
    sc.wait_sups(&["A/log", "C"]);
    std::fs::rename(tmp.join("A"), scan.join("A")).unwrap();
    sc.ctl("a");
    sleep_ms(1500);
    assert_eq!(sc.sups().keys().cloned().collect::<Vec<_>>(), ["A/log", "C"], "{combo:?}: not reactivated yet");
    let t0 = Instant::now();
    kill(logger, merit_sys::signal::SIGKILL);
    sc.wait_sups(&["A", "A/log", "C"]);
    let dt = t0.elapsed();
    assert!(dt < Duration::from_millis(900), "{combo:?}: reactivated {dt:?} after the last supervisor died");
    let a = wait_up(&scan.join("A"));
    let l = wait_up(&scan.join("A/log"));
    assert_eq!(fd_link(a, 1), fd_link(l, 0), "{combo:?}: a new pipe");
    sc.ctl("q");
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()));
    cleanup(&tmp);
}

#[test]
fn edge_inactive_services_count_and_reactivation() {
    each(&scanner_pair(), inactive_counts_and_reactivation);
}

// ---------------------------------------------------------------------------------------------
// 7. PID 1

/// Our s6-svscan as PID 1 of a PID namespace (`unshare --pid --fork --mount-proc`), with a
/// service that keeps making orphans: they are adopted by the scanner and reaped; no zombie
/// accumulates.
#[test]
fn pid1_reaps_orphans() {
    if !can_unshare("s6-svscan as PID 1 (unshare --pid)") {
        return;
    }
    let _g = heavy();
    let tmp = TempDir::new("svscan-pid1");
    let scan = tmp.join("scan");
    make_service(&scan.join("orphans"), "while :; do sh -c 'sleep 0.3 &'; sleep 0.05; done");
    let mut cmd = command("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc"]).arg(ours("s6-svscan")).arg(&scan).current_dir(tmp.path());
    cmd.stdout(Stdio::null()).stderr(std::fs::File::create(tmp.join("err")).unwrap());
    let mut d = Daemon::spawn(cmd);
    let mut pid1 = 0;
    assert!(
        wait_until(PROMPT, || {
            pid1 = children(d.pid())
                .into_iter()
                .find(|&p| std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|e| e == ours("s6-svscan")))
                .unwrap_or(0);
            pid1 > 0 && listening(&scan)
        }),
        "no s6-svscan in the namespace"
    );
    let nspid = std::fs::read_to_string(format!("/proc/{pid1}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .map(|l| l.split_whitespace().last().unwrap().to_string());
    assert_eq!(nspid.as_deref(), Some("1"), "s6-svscan is PID 1 of its namespace");
    assert!(wait_until(PROMPT, || supervisors(pid1).contains_key("orphans")));
    wait_up(&scan.join("orphans"));

    let (mut adopted, mut max_zombies, mut samples) = (0usize, 0usize, 0usize);
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        let kids = children(pid1);
        adopted = adopted.max(kids.iter().filter(|&&p| cmdline(p).first().is_some_and(|a| a == "sleep")).count());
        max_zombies = max_zombies.max(zombie_children(pid1));
        samples += 1;
        sleep_ms(20);
    }
    eprintln!("PID 1: {samples} samples, up to {adopted} adopted orphans alive, up to {max_zombies} zombies");
    assert!(adopted >= 1, "orphans are reparented to the scanner");
    assert!(max_zombies <= 3, "zombies accumulate: {max_zombies}");
    assert!(zombie_children(pid1) <= 3);

    kill(pid1, merit_sys::signal::SIGKILL);
    assert!(d.wait_timeout(PROMPT).is_some(), "unshare exits with its namespace");
    cleanup(&tmp);
}

// ---------------------------------------------------------------------------------------------
// Options that change the loop: `-d` (readiness), `-t` (periodic rescan); `s6-svscan-log`

/// `-d 3`: "\n" then EOF on fd 3 once the control FIFO is open; `-t 300` picks up a new service
/// without any command.
fn notify_and_rescan(combo: Combo) {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let tmp = TempDir::new("svscan-notif");
    let scan = tmp.join("scan");
    make_service(&scan.join("A"), "exec sleep 1000");
    let (r, w) = merit_sys::fd::pipe(false).unwrap();
    let mut cmd = scanner_command(&tmp, combo, &["-d", "3", "-t", "300"], &scan);
    cmd.stdout(Stdio::null()).stderr(std::fs::File::create(tmp.join("err")).unwrap());
    let wfd = w.as_raw_fd();
    unsafe {
        cmd.pre_exec(move || merit_sys::fd::dup2(wfd, 3));
    }
    let d = Daemon::spawn(cmd);
    drop(w);
    let mut got = Vec::new();
    std::fs::File::from(r).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"\n", "{combo:?}");
    assert!(listening(&scan), "{combo:?}: ready means listening");
    assert!(wait_until(PROMPT, || supervisors(d.pid()).contains_key("A")));
    make_service(&scan.join("B"), "exec sleep 1000");
    let t0 = Instant::now();
    assert!(wait_until(PROMPT, || supervisors(d.pid()).contains_key("B")), "{combo:?}: -t rescans");
    assert!(t0.elapsed() < Duration::from_millis(1500), "{combo:?}: {:?}", t0.elapsed());
    drop(d);
    cleanup(&tmp);
}

#[test]
fn option_d_notifies_and_t_rescans() {
    each(&scanner_pair(), notify_and_rescan);
}

/// `s6-svscan-log` gets no logger even with a `log/`, and is HUPed (like a logger) by `-t`: its
/// supervisor waits for it, so the scanner keeps waiting; `-q` TERMs it.
fn catch_all(combo: Combo, letter: &str) {
    let tmp = TempDir::new("svscan-catchall");
    let scan = tmp.join("scan");
    make_service(&scan.join("s6-svscan-log"), "exec sleep 1000");
    make_service(&scan.join("s6-svscan-log/log"), "exec sleep 1000");
    make_service(&scan.join("A"), "exec sleep 1000");
    finish_script(&scan);
    let mut sc = Scanner::start(&tmp, combo, &[]);
    let sups = sc.wait_sups(&["A", "s6-svscan-log"]);
    let run = wait_up(&scan.join("s6-svscan-log"));
    sc.ctl(letter);
    if letter == "t" {
        sc.wait_sups(&["s6-svscan-log"]);
        sleep_ms(1000);
        assert!(sc.running() && alive(run), "{combo:?}: s6-svscan-log got SIGHUP");
        assert_eq!(sc.sups()["s6-svscan-log"], sups["s6-svscan-log"]);
        kill(run, merit_sys::signal::SIGKILL);
    }
    assert!(sc.wait_exit(PROMPT).is_some_and(|s| s.success()), "{combo:?} -{letter}");
    assert_finish_ran(&sc);
    assert_nothing_left(&tmp);
}

#[test]
fn catch_all_logger_is_unlogged_and_hupped() {
    each_arg(&["t", "q"], catch_all);
}

// ---------------------------------------------------------------------------------------------
// A supervisor program that cannot be executed

/// Our scanner does not wait for its supervisors' exec (s6 does not either): a supervisor that
/// cannot be executed is a child that prints why and dies, and is respawned a second later like
/// any dead supervisor. Once the program is fixed, the service comes up without help.
#[test]
fn supervise_that_cannot_exec_is_retried_each_second() {
    let tmp = TempDir::new("svscan-noexec");
    let scan = tmp.join("scan");
    make_service(&scan.join("svc"), "exec sleep 1000");
    let bin = tmp.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    link_or_copy(&ours("s6-svscan"), &bin.join("s6-svscan"));
    // Beside the scanner, so it is the one chosen; a regular file, but not executable.
    let sup = bin.join("s6-supervise");
    std::fs::write(&sup, "#!/bin/sh\n").unwrap();

    let mut cmd = command(bin.join("s6-svscan"));
    cmd.arg(&scan).current_dir(tmp.path());
    cmd.stdout(std::fs::File::create(tmp.join("out")).unwrap());
    cmd.stderr(std::fs::File::create(tmp.join("err")).unwrap());
    let mut d = Daemon::spawn(cmd);
    let err = || std::fs::read_to_string(tmp.join("err")).unwrap_or_default();
    let line = format!("s6-svscan (child): fatal: unable to exec {}: Permission denied\n", sup.display());

    // Two failures, about a second apart (the respawn delay), and the scanner still runs.
    let first = Instant::now();
    assert!(wait_until(PROMPT, || err().contains(&line)), "no exec failure reported: {:?}", err());
    let seen_first = first.elapsed();
    assert!(wait_until(PROMPT, || err().matches(&line).count() >= 2), "not retried: {:?}", err());
    let gap = first.elapsed() - seen_first;
    // (700 ms: the first sighting may come late on a busy machine, which shortens the gap.)
    assert!(gap >= Duration::from_millis(700), "retried after {gap:?}, want about 1 s");
    assert!(d.child.try_wait().unwrap().is_none(), "the scanner exited: {:?}", err());
    assert!(err().lines().all(|l| format!("{l}\n") == line), "unexpected output: {:?}", err());

    // Fixed: the next respawn runs it.
    std::fs::remove_file(&sup).unwrap();
    link_or_copy(&ours("s6-supervise"), &sup);
    wait_up(&scan.join("svc"));

    let o = run(ours("s6-svscanctl"), &["-t", scan.to_str().unwrap()], tmp.path());
    assert!(o.status.success(), "{o:?}");
    assert!(d.wait_timeout(PROMPT).is_some_and(|s| s.success()), "scanner did not exit after -t");
    cleanup(&tmp);
}
