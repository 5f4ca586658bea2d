//! Faults on real trees (our s6-svscan, s6-supervise and s6-log), each asserting the end state
//! a user relies on: the services up, the status files consistent, every line logged, a
//! warning said, nothing left running.
//!
//! * `scanner_stderr_full` / `scanner_stderr_no_reader`: the scanner warns on every scan (a
//!   dangling symlink, `-t 200`) into a full blocking pipe, or a pipe with no reader; it still
//!   picks up a new service on `s6-svscanctl -a` and ends on SIGTERM.
//! * `scanner_out_of_descriptors`: RLIMIT_NOFILE too low for the scanner to hold the log pipes
//!   of 60 logged services; it warns and goes on, and once the limit is raised (prlimit) a
//!   rescan brings every service and logger up.
//! * `fork_failing`: an unprivileged tree under RLIMIT_NPROC too low for all its processes:
//!   the scanner and every supervisor that could start survive the failed forks and retry; once
//!   the limit is raised every service comes up.
//! * `logger_stopped_under_load`: the logger SIGSTOPped for 10 s (`MERIT_LONG`; 3 s otherwise)
//!   while its service writes numbered lines; the writer stalls on the full pipe, nothing is
//!   lost once the logger is continued.
//! * `supervise_dir_deleted`: `supervise/` removed under a running supervisor: it warns, keeps
//!   its service, and still ends on SIGTERM.
//! * `sigkill_each_component`: SIGKILL of the service, its supervisor, the logger's supervisor,
//!   the logger and the scanner in turn, under a load of numbered lines: everything comes back
//!   (the scanner restarted by hand, as its own supervisor would) and every line is logged at
//!   least once (a SIGKILLed producer or logger may log a line twice: counted).
//!
//! Each case prints one `SUITE` row (case, figure, limit, pass/fail) for `scripts/suite`.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A scan directory `TMP/scan` run by our s6-svscan (once started), with logdirs in `TMP/logs`.
struct Tree {
    tmp: TempDir,
    scan: PathBuf,
    scanner: Option<Daemon>,
}

impl Tree {
    fn new(tag: &str) -> Tree {
        let tmp = TempDir::new(tag);
        let scan = tmp.join("scan");
        std::fs::create_dir_all(&scan).unwrap();
        std::fs::create_dir_all(tmp.join("logs")).unwrap();
        Tree { tmp, scan, scanner: None }
    }

    /// `scan/NAME` with a `#!/bin/sh` run; with `logged`, a `log/` running our s6-log into
    /// `TMP/logs/NAME`.
    fn service(&self, name: &str, run: &str, logged: bool) -> PathBuf {
        let dir = self.scan.join(name);
        make_service(&dir, run);
        if logged {
            let logdir = self.tmp.join("logs").join(name);
            make_service(
                &dir.join("log"),
                &format!("exec {} -b n3 s1000000 {}", ours("s6-log").display(), logdir.display()),
            );
        }
        dir
    }

    /// The scanner's command: our s6-svscan on `scan`, in its own session.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = command(ours("s6-svscan"));
        cmd.args(args).arg(&self.scan).current_dir(self.tmp.path()).stdout(Stdio::null());
        cmd
    }

    fn start(&mut self, mut cmd: Command) {
        self.scanner = Some(Daemon::spawn({
            cmd.stdin(Stdio::null());
            cmd
        }));
        let ok = wait_until(PROMPT, || self.listening());
        assert!(ok, "s6-svscan did not start");
    }

    fn listening(&self) -> bool {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(merit_sys::flags::O_NONBLOCK)
            .open(self.scan.join(".s6-svscan/control"))
            .is_ok()
    }

    fn scanner_pid(&self) -> i32 {
        self.scanner.as_ref().expect("scanner").pid()
    }

    fn scanctl(&self, letters: &str) {
        let o = run(ours("s6-svscanctl"), &[letters, self.scan.to_str().unwrap()], self.tmp.path());
        assert_eq!(o.status.code(), Some(0), "s6-svscanctl {letters}: {o:?}");
    }

    /// Waits until `scan/NAME` (or `scan/NAME/log`) is up; returns its pid.
    fn wait_up(&self, rel: &str, within: Duration) -> Option<u64> {
        let dir = self.scan.join(rel);
        let mut pid = None;
        wait_until(within, || {
            pid = status(&dir).filter(|s| s.pid != 0 && !s.finishing).map(|s| s.pid);
            pid.is_some()
        });
        pid
    }

    /// SIGTERM to the scanner (s6-svscanctl -t's effect): waits for it and for every process
    /// of the tree to end.
    fn stop(&mut self) -> bool {
        let Some(mut d) = self.scanner.take() else { return true };
        d.signal(merit_sys::signal::SIGTERM);
        let exited = d.wait_timeout(Duration::from_secs(30)).is_some();
        let gone = wait_until(Duration::from_secs(10), || processes_under(self.tmp.path()).is_empty());
        exited && gone
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        self.scanner = None; // SIGKILL by pid if still there; TempDir then kills the rest
    }
}

/// One row of the fault suite.
fn row(case: &str, figure: &str, limit: &str, pass: bool) {
    suite_row(&format!("faults/{case}"), figure, limit, pass);
}

fn long() -> bool {
    std::env::var_os("MERIT_LONG").is_some()
}

fn scanner_stderr_case(tag: &str, no_reader: bool) {
    let mut t = Tree::new(tag);
    let a = t.service("a", "exec sleep 1000", false);
    // Its supervisor warns at each start, on the scanner's stderr too.
    std::fs::write(a.join("notification-fd"), "bogus\n").unwrap();
    std::os::unix::fs::symlink("nowhere", t.scan.join("dangling")).unwrap();
    let (r, w) = full_pipe();
    let keep = if no_reader {
        drop(r);
        None
    } else {
        Some(r)
    };
    let mut cmd = t.command(&["-t", "200"]);
    cmd.stderr(Stdio::from(w));
    t.start(cmd);
    let a = t.wait_up("a", PROMPT).is_some();
    t.service("b", "exec sleep 1000", false);
    t.scanctl("-a");
    let b = t.wait_up("b", PROMPT).is_some();
    let alive = t.scanner.as_mut().unwrap().child.try_wait().unwrap().is_none();
    let stopped = t.stop();
    drop(keep);
    let pass = a && b && alive && stopped;
    row(tag, &format!("a up {a}, b up after -a {b}, scanner alive {alive}, clean stop {stopped}"), "all true", pass);
    assert!(pass);
}

#[test]
fn scanner_stderr_full() {
    scanner_stderr_case("scanner_stderr_full", false);
}

#[test]
fn scanner_stderr_no_reader() {
    scanner_stderr_case("scanner_stderr_no_reader", true);
}

/// Sets a resource limit of a running process.
fn set_limit(pid: i32, res: merit_sys::system::Resource, soft: u64, hard: u64) {
    merit_sys::system::prlimit(pid, res, soft, hard).unwrap_or_else(|e| panic!("prlimit {pid}: {e}"));
}

#[test]
fn scanner_out_of_descriptors() {
    const N: usize = 60;
    let mut t = Tree::new("nofile");
    for i in 0..N {
        t.service(&format!("s{i:02}"), "echo hello; exec sleep 1000", true);
    }
    let err = t.tmp.join("err");
    let mut cmd = t.command(&[]);
    cmd.stderr(std::fs::File::create(&err).unwrap());
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| merit_sys::system::setrlimit(merit_sys::system::Resource::Nofile, 48, 4096));
    }
    t.start(cmd);
    let warned =
        wait_until(PROMPT, || std::fs::read_to_string(&err).unwrap_or_default().contains("Too many open files"));
    let up_before = (0..N).filter(|i| status(&t.scan.join(format!("s{i:02}"))).is_some_and(|s| s.pid != 0)).count();
    let alive = t.scanner.as_mut().unwrap().child.try_wait().unwrap().is_none();
    set_limit(t.scanner_pid(), merit_sys::system::Resource::Nofile, 4096, 4096);
    t.scanctl("-a");
    let start = Instant::now();
    let all = (0..N).all(|i| {
        let n = format!("s{i:02}");
        t.wait_up(&n, Duration::from_secs(30)).is_some()
            && t.wait_up(&format!("{n}/log"), Duration::from_secs(30)).is_some()
    });
    let logged = wait_until(Duration::from_secs(30), || {
        (0..N).all(|i| {
            std::fs::read_to_string(t.tmp.join(format!("logs/s{i:02}/current"))).is_ok_and(|c| c.contains("hello\n"))
        })
    });
    let secs = start.elapsed().as_secs_f64();
    let stopped = t.stop();
    let pass = warned && alive && all && logged && stopped;
    row(
        "scanner_out_of_descriptors",
        &format!(
            "nofile 48: warned {warned}, {up_before}/{N} up, scanner alive {alive}; raised: all up {all}, all logged {logged} in {secs:.1} s, clean stop {stopped}"
        ),
        "warned, alive, then all up and logged",
        pass,
    );
    assert!(pass, "stderr: {}", std::fs::read_to_string(&err).unwrap_or_default());
}

#[test]
fn fork_failing() {
    if !is_root("fork_failing (RLIMIT_NPROC binds only unprivileged users)") {
        return;
    }
    const N: usize = 12;
    const LIMIT: u64 = 40; // scanner + 12 supervisors + 12 services = 25
    const HOGS: usize = 30; // other processes of the same user: 15 left for the tree
    let uid = test_uid();
    let mut t = Tree::new("nproc");
    for i in 0..N {
        t.service(&format!("s{i:02}"), "exec sleep 1000", false);
    }
    chown_tree(t.tmp.path(), uid);
    let mut hogs: Vec<Daemon> = (0..HOGS)
        .map(|_| {
            let mut c = command("sleep");
            c.arg("1000").current_dir(t.tmp.path()).stdout(Stdio::null());
            as_user(&mut c, uid, Some(4096));
            Daemon::spawn(c)
        })
        .collect();
    let err = t.tmp.join("err");
    let mut cmd = t.command(&[]);
    cmd.stderr(std::fs::File::create(&err).unwrap());
    as_user(&mut cmd, uid, Some(LIMIT));
    t.start(cmd);
    // Several failures: the retries meet the same limit.
    let warned = wait_until(PROMPT, || {
        std::fs::read_to_string(&err).unwrap_or_default().matches("Resource temporarily unavailable").count() >= 3
    });
    let alive = t.scanner.as_mut().unwrap().child.try_wait().unwrap().is_none();
    let up_before = (0..N).filter(|i| status(&t.scan.join(format!("s{i:02}"))).is_some_and(|s| s.pid != 0)).count();
    hogs.clear(); // SIGKILLed and reaped: their slots are free
    let start = Instant::now();
    // Supervisors that could not fork wait 60 s (as s6's do) unless told `u` again.
    let all = (0..N).all(|i| {
        let d = t.scan.join(format!("s{i:02}"));
        wait_until(Duration::from_secs(30), || {
            if merit_sys::lock::supervisor_running(&d).unwrap_or(false) {
                let _ = run(ours("s6-svc"), &["-u", d.to_str().unwrap()], t.tmp.path());
            }
            status(&d).is_some_and(|s| s.pid != 0)
        })
    });
    let secs = start.elapsed().as_secs_f64();
    let stopped = t.stop();
    let pass = warned && alive && all && stopped;
    row(
        "fork_failing",
        &format!(
            "nproc {LIMIT} with {HOGS} taken: 3 failures warned {warned}, scanner alive {alive}, {up_before}/{N} up; freed: all up {all} in {secs:.1} s, clean stop {stopped}"
        ),
        "warned, alive, then all up",
        pass,
    );
    assert!(pass, "stderr: {}", std::fs::read_to_string(&err).unwrap_or_default());
}

/// chown -R, and makes every parent of `dir` searchable (the temp dir is).
fn chown_tree(dir: &Path, uid: u32) {
    let st = Command::new("chown").args(["-R", &format!("{uid}:{uid}")]).arg(dir).status().unwrap();
    assert!(st.success());
}

/// A producer of numbered lines `line N` (one write each) from `TMP/next` on, recording the
/// next number after each write, so that a restarted producer resumes where it stopped.
fn producer(t: &Tree, total: usize) -> String {
    let next = t.tmp.join("next");
    std::fs::write(&next, "0").unwrap();
    format!(
        r#"n=$(cat {next})
while [ "$n" -lt {total} ]; do
  echo "line $n {pad}"
  n=$((n+1))
  echo "$n" > {next}.tmp && mv {next}.tmp {next}
done
exec sleep 1000"#,
        next = next.display(),
        pad = "p".repeat(200)
    )
}

/// Line numbers found in a logdir (archives and `current`), in file order.
fn logged_numbers(logdir: &Path) -> Vec<usize> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(logdir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.retain(|p| {
        let n = p.file_name().unwrap().to_string_lossy().into_owned();
        n.starts_with('@') || n == "current"
    });
    files.sort_by_key(|p| {
        let n = p.file_name().unwrap().to_string_lossy().into_owned();
        (n == "current", n)
    });
    let mut v = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for l in text.lines() {
            if let Some(n) = l.strip_prefix("line ").and_then(|n| n.split(' ').next()?.parse().ok()) {
                v.push(n);
            }
        }
    }
    v
}

/// (missing, duplicated) numbers below `total`.
fn count_loss(nums: &[usize], total: usize) -> (usize, usize) {
    let mut seen = vec![0u32; total];
    for &n in nums {
        if let Some(c) = seen.get_mut(n) {
            *c += 1;
        }
    }
    (seen.iter().filter(|&&c| c == 0).count(), seen.iter().map(|&c| c.saturating_sub(1) as usize).sum())
}

fn wait_all_logged(logdir: &Path, total: usize, within: Duration) -> Vec<usize> {
    let mut nums = Vec::new();
    wait_until(within, || {
        nums = logged_numbers(logdir);
        count_loss(&nums, total).0 == 0
    });
    nums
}

#[test]
fn logger_stopped_under_load() {
    let total = 4_000;
    let pause = if long() { 10 } else { 3 };
    let mut t = Tree::new("logstop");
    let run = producer(&t, total);
    t.service("p", &run, true);
    let cmd = t.command(&[]);
    t.start(cmd);
    let logger = t.wait_up("p/log", PROMPT).expect("logger up") as i32;
    t.wait_up("p", PROMPT).expect("producer up");
    let next = t.tmp.join("next");
    let count = || std::fs::read_to_string(&next).ok().and_then(|s| s.trim().parse::<usize>().ok()).unwrap_or(0);
    wait_until(PROMPT, || count() > 100);
    let _ = merit_sys::signal::kill(logger, merit_sys::signal::SIGSTOP);
    std::thread::sleep(Duration::from_secs(pause));
    let at_stop = count();
    std::thread::sleep(Duration::from_millis(500));
    let stalled = count() == at_stop && at_stop < total; // the pipe is full: the writer waits
    let _ = merit_sys::signal::kill(logger, merit_sys::signal::SIGCONT);
    let nums = wait_all_logged(&t.tmp.join("logs/p"), total, Duration::from_secs(60));
    let (missing, dups) = count_loss(&nums, total);
    let same_logger = status(&t.scan.join("p/log")).map(|s| s.pid as i32) == Some(logger);
    let stopped = t.stop();
    let pass = stalled && missing == 0 && dups == 0 && same_logger && stopped;
    row(
        "logger_stopped_under_load",
        &format!("SIGSTOP {pause} s: writer stalled {stalled} at line {at_stop}; {total} lines: {missing} missing, {dups} duplicated; clean stop {stopped}"),
        "stall, 0 missing, 0 duplicated",
        pass,
    );
    assert!(pass);
}

#[test]
fn supervise_dir_deleted() {
    let mut t = Tree::new("supdel");
    let dir = t.service("a", "exec sleep 1000", false);
    let err = t.tmp.join("err");
    let mut cmd = t.command(&[]);
    cmd.stderr(std::fs::File::create(&err).unwrap());
    t.start(cmd);
    let pid = t.wait_up("a", PROMPT).expect("a up") as i32;
    let sup = supervisor_of(&dir);
    std::fs::remove_dir_all(dir.join("supervise")).unwrap();
    // The service dies: the supervisor restarts it and warns that it cannot write its status.
    let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGKILL);
    let warned = wait_until(PROMPT, || {
        std::fs::read_to_string(&err).unwrap_or_default().contains("unable to write status file")
    });
    let restarted =
        wait_until(PROMPT, || processes_under(&dir).iter().any(|&p| p != pid && Some(p) != sup && comm(p) == "sleep"));
    let sup_alive = sup.is_some() && supervisor_of(&dir) == sup;
    let stopped = t.stop();
    let pass = warned && restarted && sup_alive && stopped;
    row(
        "supervise_dir_deleted",
        &format!("warned {warned}, service restarted {restarted}, supervisor alive {sup_alive}, clean stop {stopped}"),
        "all true",
        pass,
    );
    assert!(pass, "stderr: {}", std::fs::read_to_string(&err).unwrap_or_default());
}

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_owned()
}

/// The s6-supervise process of `dir`: its cwd is `dir` itself (it chdirs there).
fn supervisor_of(dir: &Path) -> Option<i32> {
    let dir = dir.canonicalize().ok()?;
    processes_under(&dir).into_iter().find(|&p| {
        let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
        cmd.split(|&b| b == 0).next().is_some_and(|a| a.ends_with(b"s6-supervise"))
            && std::fs::read_link(format!("/proc/{p}/cwd")).is_ok_and(|c| c == dir)
    })
}

#[test]
fn sigkill_each_component() {
    let total = 6_000;
    let mut t = Tree::new("sigkill");
    let run = producer(&t, total);
    let dir = t.service("p", &run, true);
    let cmd = t.command(&[]);
    t.start(cmd);
    t.wait_up("p", PROMPT).expect("producer up");
    t.wait_up("p/log", PROMPT).expect("logger up");
    let next = t.tmp.join("next");
    let count = || std::fs::read_to_string(&next).ok().and_then(|s| s.trim().parse::<usize>().ok()).unwrap_or(0);
    let mut results = Vec::new();
    // (service, supervisor, logger, logger's supervisor) pids.
    let pids = |t: &Tree| {
        (
            status(&dir).map_or(0, |s| s.pid as i32),
            supervisor_of(&dir).unwrap_or(0),
            status(&dir.join("log")).map_or(0, |s| s.pid as i32),
            supervisor_of(&dir.join("log")).unwrap_or(0),
            t.scanner_pid(),
        )
    };
    for (i, what) in ["service", "supervisor", "logger supervisor", "logger", "scanner"].iter().enumerate() {
        let before = count();
        wait_until(PROMPT, || count() > before + 200 || count() >= total);
        let pid = match *what {
            "service" => status(&dir).map(|s| s.pid as i32),
            "supervisor" => supervisor_of(&dir),
            "logger supervisor" => supervisor_of(&dir.join("log")),
            "logger" => status(&dir.join("log")).map(|s| s.pid as i32),
            _ => Some(t.scanner_pid()),
        };
        let Some(pid) = pid.filter(|&p| p > 0) else {
            results.push(format!("{what}: no pid"));
            continue;
        };
        // A SIGKILLed supervisor leaves its child running, not adopted by the next supervisor
        // (as with s6): stop that orphan too, as an admin would (a cgroup per service will).
        let orphan = match *what {
            "supervisor" => status(&dir).map(|s| s.pid as i32),
            "logger supervisor" => status(&dir.join("log")).map(|s| s.pid as i32),
            _ => None,
        };
        let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGKILL);
        if let Some(o) = orphan.filter(|&o| o > 0) {
            let _ = merit_sys::signal::kill(o, merit_sys::signal::SIGKILL);
        }
        if *what == "scanner" {
            // Its own supervisor (init, or the scanner's crash path) would start it again.
            let d = t.scanner.take().unwrap();
            drop(d); // reaps it
            let cmd = t.command(&[]);
            t.start(cmd);
        }
        // Back: every component running, and the killed one (with its orphan) replaced.
        let back = wait_until(Duration::from_secs(30), || {
            let now = pids(&t);
            let all = now.0 > 0 && now.1 > 0 && now.2 > 0 && now.3 > 0;
            let replaced = match *what {
                "supervisor" => now.1 != pid && Some(now.0) != orphan,
                "logger supervisor" => now.3 != pid && Some(now.2) != orphan,
                "scanner" => now.4 != pid,
                _ => true,
            };
            all && replaced && now.0 != pid && now.2 != pid
        });
        results.push(format!("{}:{what} back {back}", i + 1));
    }
    let nums = wait_all_logged(&t.tmp.join("logs/p"), total, Duration::from_secs(90));
    let (missing, dups) = count_loss(&nums, total);
    let all_back = results.iter().all(|r| r.ends_with("true"));
    // The supervisors of the killed scanner outlive it (as with s6): stop them as an admin
    // would, through their control FIFOs, then the scanner.
    for d in [dir.join("log"), dir.clone()] {
        let _ = crate::common::run(ours("s6-svc"), &["-dx", d.to_str().unwrap()], t.tmp.path());
    }
    let stopped = t.stop();
    // A SIGKILLed producer may write a line again (killed between its write and its counter),
    // a SIGKILLed logger what it had written but not yet consumed: duplicates are counted.
    let pass = all_back && missing == 0 && stopped;
    row(
        "sigkill_each_component",
        &format!("{}; {total} lines: {missing} missing, {dups} duplicated; clean stop {stopped}", results.join(", ")),
        "all back, 0 missing, duplicates counted",
        pass,
    );
    assert!(pass);
}

/// s6-log copying every line to stderr (`2`, alerts) while that stderr is full and nobody reads it:
/// the alerts are lost, the lines are all logged, and s6-log ends at EOF.
#[test]
fn logger_stderr_full() {
    use std::io::Write;
    let t = Tree::new("logerr");
    let logdir = t.tmp.join("logs/x");
    let (keep, w) = full_pipe();
    let mut c = command(ours("s6-log"));
    c.args(["2", logdir.to_str().unwrap()]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::from(w));
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let total = 2000;
    let writer = std::thread::spawn(move || {
        for i in 0..total {
            if input.write_all(format!("line {i}\n").as_bytes()).is_err() {
                return false;
            }
        }
        true
    });
    let mut d = Daemon { child };
    let ended = d.wait_timeout(Duration::from_secs(30));
    let written = writer.join().unwrap_or(false);
    let nums = logged_numbers(&logdir);
    let (missing, dups) = count_loss(&nums, total);
    drop(keep);
    let pass = written && ended.is_some_and(|s| s.success()) && missing == 0 && dups == 0;
    row(
        "logger_stderr_full",
        &format!(
            "{total} lines with alerts on a full stderr: exit {:?}, {missing} missing, {dups} duplicated",
            ended.and_then(|s| s.code())
        ),
        "exit 0, 0 missing",
        pass,
    );
    assert!(pass);
}

/// A service directory renamed, then removed, then replaced by a new one while its service
/// runs, each followed by a rescan: a rename keeps the same supervisor and service; a removal
/// stops both; a new directory under the old name gets a new supervisor and comes up.
#[test]
fn service_dir_renamed_removed_replaced() {
    let mut t = Tree::new("svcdir");
    t.service("a", "exec sleep 1000", false);
    let cmd = t.command(&[]);
    t.start(cmd);
    let pid = t.wait_up("a", PROMPT).expect("a up") as i32;
    let sup = supervisor_of(&t.scan.join("a"));
    std::fs::rename(t.scan.join("a"), t.scan.join("b")).unwrap();
    t.scanctl("-a");
    // The same service goes on, now reached as b (its supervisor's cwd moved with it).
    let renamed_kept = wait_until(PROMPT, || supervisor_of(&t.scan.join("b")) == sup)
        && status(&t.scan.join("b")).map(|s| s.pid as i32) == Some(pid)
        && run(ours("s6-svok"), &[t.scan.join("b").to_str().unwrap()], t.tmp.path()).status.success();
    // Removed: its supervisor and service are stopped.
    let gone_dir = t.tmp.join("removed");
    std::fs::rename(t.scan.join("b"), &gone_dir).unwrap();
    t.scanctl("-an");
    let stopped_both = wait_until(PROMPT, || {
        let left = processes_under(&gone_dir);
        !left.contains(&pid) && sup.map_or(true, |s| !left.contains(&s))
    });
    // Replaced: a new directory under the first name comes up with a new supervisor.
    t.service("a", "exec sleep 1001", false);
    t.scanctl("-a");
    let new_pid = t.wait_up("a", PROMPT);
    let replaced_up =
        new_pid.is_some_and(|p| p as i32 != pid) && supervisor_of(&t.scan.join("a")).is_some_and(|s| Some(s) != sup);
    let stopped = t.stop();
    let pass = renamed_kept && stopped_both && replaced_up && stopped;
    row(
        "service_dir_renamed_removed_replaced",
        &format!("renamed: same service {renamed_kept}; removed: stopped {stopped_both}; replaced: new one up {replaced_up}; clean stop {stopped}"),
        "all true",
        pass,
    );
    assert!(pass);
}
