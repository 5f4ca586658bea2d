//! Behaviour of `s6-supervise` on real processes: the files it creates, the events it sends, what
//! `run` and `finish` get, control letters, signals, throttling, readiness, bad input.
//!
//! Every case that describes s6's behaviour runs against our binary (`…::ours`) and against the
//! real `/usr/bin/s6-supervise` (`…::real`, skipped when s6 is not installed): the real one passing
//! proves that the test asserts what s6 does. Cases about our bug fixes (partial readiness line,
//! `lock-fd`) assert the fix for ours and the s6 2.11.3.2 bug for the real one, or run ours only.
//!
//! Synchronisation is by polling with generous deadlines; fixed sleeps only where a test asserts
//! that something does *not* happen.

use crate::common::{have_real_s6, wait_until, Daemon, Impl, TempDir, PROMPT};
use merit_core::status::StatusFile;
use merit_core::tai::Tain;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// Event bytes received by one subscriber FIFO in `svc/event`.
struct Events {
    sub: merit_sys::fifodir::Subscription,
    got: Vec<u8>,
}

impl Events {
    fn new(event_dir: &Path) -> Events {
        let (s, ns) = merit_sys::clock::wall();
        let label = Tain::from_unix(s, ns).label();
        let sub = merit_sys::fifodir::Subscription::new(event_dir, &label).expect("subscribe to event/");
        Events { sub, got: Vec::new() }
    }
    fn pump(&mut self) -> &[u8] {
        let mut buf = [0u8; 4096];
        loop {
            match self.sub.read_events(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(e) => panic!("reading event FIFO: {e}"),
            }
        }
        &self.got
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.got).into_owned()
    }
}

/// One service directory `TMP/svc` with its supervisor.
struct Sv {
    imp: Impl,
    sup: Option<Daemon>,
    ev: Option<Events>,
    /// `TMP/svc`
    dir: PathBuf,
    /// The supervisor's stderr when not `log` (taken by the next start).
    stderr: Option<std::os::fd::OwnedFd>,
    /// PATH of the supervisor (and so of run and finish) when set.
    path_env: Option<PathBuf>,
    /// The supervisor's stdout and stderr.
    log: PathBuf,
    tmp: TempDir,
}

impl Sv {
    /// A service directory whose `run` is `#!/bin/sh\n{run}` (no `run` at all when `None`), plus an
    /// empty `data/` for the scripts' traces.
    fn new(imp: Impl, tag: &str, run: Option<&str>) -> Sv {
        let tmp = TempDir::new(&format!("sup-{tag}-{imp:?}"));
        let dir = tmp.join("svc");
        std::fs::create_dir_all(dir.join("data")).unwrap();
        if let Some(run) = run {
            crate::common::make_service(&dir, run);
        }
        let log = tmp.join("sup.log");
        Sv { imp, sup: None, ev: None, dir, stderr: None, path_env: None, log, tmp }
    }
    fn p(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn file(&self, name: &str, content: &str) {
        std::fs::write(self.p(name), content).unwrap();
    }
    fn exec(&self, name: &str, body: &str) {
        crate::common::write_exec(&self.p(name), &format!("#!/bin/sh\n{body}\n"));
    }
    /// Subscribes to `svc/event` (creating it) before the supervisor starts, to see `s`.
    fn subscribe(&mut self) {
        self.ev = Some(Events::new(&self.p("event")));
    }
    /// Spawns the supervisor: `s6-supervise svc`, cwd = the parent, stdin /dev/null, stdout and
    /// stderr to `sup.log`, umask 022.
    fn spawn_sup(&mut self) {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let err = match self.stderr.take() {
            Some(fd) => Stdio::from(fd),
            None => Stdio::from(out.try_clone().unwrap()),
        };
        let mut cmd = crate::common::command(self.imp.bin("s6-supervise"));
        cmd.arg("svc").current_dir(self.tmp.path()).stdout(out).stderr(err);
        if let Some(p) = &self.path_env {
            cmd.env("PATH", p);
        }
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                merit_sys::umask(0o022);
                Ok(())
            });
        }
        self.sup = Some(Daemon::spawn(cmd));
    }
    /// Spawns the supervisor and waits until it holds its lock and has written the status.
    fn start(&mut self) {
        self.spawn_sup();
        let ok = wait_until(PROMPT, || {
            merit_sys::lock::supervisor_running(&self.dir).unwrap_or(false)
                && crate::common::status(&self.dir).is_some()
        });
        assert!(ok, "{:?} s6-supervise did not start; log: {}", self.imp, self.log_text());
    }
    fn sup(&mut self) -> &mut Daemon {
        self.sup.as_mut().expect("supervisor started")
    }
    fn sup_pid(&self) -> i32 {
        self.sup.as_ref().unwrap().pid()
    }
    fn sup_alive(&mut self) -> bool {
        self.sup().child.try_wait().unwrap().is_none()
    }
    /// Waits for the supervisor to exit; returns its exit code.
    fn sup_exit(&mut self) -> i32 {
        let imp = self.imp;
        let st = self.sup().wait_timeout(PROMPT);
        let st = st.unwrap_or_else(|| panic!("{imp:?} s6-supervise did not exit"));
        st.code().unwrap_or_else(|| panic!("{imp:?} s6-supervise killed: {st:?}"))
    }
    fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
    fn wait_log(&self, needle: &str) {
        let ok = wait_until(PROMPT, || self.log_text().contains(needle));
        assert!(ok, "{:?}: log never contained {needle:?}; log: {}", self.imp, self.log_text());
    }
    fn raw_status(&self) -> Vec<u8> {
        std::fs::read(self.p("supervise/status")).unwrap()
    }
    fn status(&self) -> StatusFile {
        crate::common::status(&self.dir).expect("a 35-byte status file")
    }
    /// Polls the status file until `f` holds.
    fn wait_status(&self, what: &str, f: impl Fn(&StatusFile) -> bool) -> StatusFile {
        let ok = wait_until(PROMPT, || crate::common::status(&self.dir).is_some_and(|s| f(&s)));
        assert!(
            ok,
            "{:?}: status never became {what}: {:?}; events {:?}; log: {}",
            self.imp,
            crate::common::status(&self.dir),
            self.ev.as_ref().map(|e| e.text()),
            self.log_text()
        );
        self.status()
    }
    fn wait_up(&self) -> StatusFile {
        self.wait_status("up", |s| s.pid != 0 && !s.finishing)
    }
    fn wait_down(&self) -> StatusFile {
        self.wait_status("down and ready", |s| s.pid == 0 && !s.finishing && s.ready)
    }
    /// Waits until `data/armed` holds the pid of the current `run` (its traps are set).
    fn wait_armed(&self) -> i32 {
        let mut pid = 0;
        let ok = wait_until(PROMPT, || {
            let Some(s) = crate::common::status(&self.dir) else { return false };
            let armed = std::fs::read_to_string(self.p("data/armed")).unwrap_or_default();
            pid = s.pid as i32;
            s.pid != 0 && !s.finishing && armed.trim() == s.pid.to_string()
        });
        assert!(ok, "{:?}: run never armed its traps; log: {}", self.imp, self.log_text());
        pid
    }
    /// Writes letters to `supervise/control` as s6-svc does (one write).
    fn ctl(&self, letters: &str) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(merit_sys::flags::O_NONBLOCK)
            .open(self.p("supervise/control"))
            .expect("supervisor listening on supervise/control");
        merit_sys::fd::set_nonblock(f.as_raw_fd(), false).unwrap();
        f.write_all(letters.as_bytes()).unwrap();
    }
    fn events(&mut self) -> Vec<u8> {
        self.ev.as_mut().expect("subscribed").pump().to_vec()
    }
    /// Waits until the events received so far start with `want` (fails at once on a mismatch
    /// of what has arrived). More may follow: tests compare [`Sv::events`] exactly where the
    /// service is quiet.
    fn wait_events(&mut self, want: &str) {
        let imp = self.imp;
        let ev = self.ev.as_mut().expect("subscribed");
        let ok = wait_until(PROMPT, || {
            let got = ev.pump();
            let n = got.len().min(want.len());
            assert_eq!(
                String::from_utf8_lossy(&got[..n]),
                &want[..n],
                "{imp:?}: unexpected events (all so far: {:?})",
                String::from_utf8_lossy(got)
            );
            got.len() >= want.len()
        });
        assert!(ok, "{imp:?}: events {:?}, wanted {want:?}; log: {}", ev.text(), self.log_text());
    }
    /// Runs a real s6 client (s6-svc, s6-svstat, ...) on `svc`.
    fn client(&self, prog: &str, args: &[&str]) -> std::process::Output {
        let mut a: Vec<&str> = args.to_vec();
        a.push("svc");
        crate::common::run(crate::common::real(prog), &a, self.tmp.path())
    }
}

impl Drop for Sv {
    fn drop(&mut self) {
        // Supervisor first (SIGKILL by pid), then everything whose cwd is in the temp dir.
        self.sup = None;
        crate::common::kill_processes_under(self.tmp.path());
    }
}

/// Fields 3 (state), 5 (pgrp) and 6 (session) of `/proc/PID/stat`.
fn proc_stat(pid: i32) -> Option<(char, i32, i32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f[0].chars().next()?, f[2].parse().ok()?, f[3].parse().ok()?))
}

/// Whether `pid` exists and is not a zombie.
fn alive(pid: i32) -> bool {
    proc_stat(pid).is_some_and(|(st, _, _)| st != 'Z' && st != 'X')
}

fn sigkill(pid: i32) {
    if pid > 0 {
        let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGKILL);
    }
}

/// Seconds from `a` to `b` (TAI stamps).
fn secs_between(a: Tain, b: Tain) -> f64 {
    let f = |t: Tain| {
        let x = t.to_bytes();
        let s = u64::from_be_bytes(x[..8].try_into().unwrap()) as i128;
        s * 1_000_000_000 + u32::from_be_bytes(x[8..].try_into().unwrap()) as i128
    };
    (f(b) - f(a)) as f64 / 1e9
}

fn now_tain() -> Tain {
    let (s, ns) = merit_sys::clock::wall();
    Tain::from_unix(s, ns)
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p).unwrap_or_default().lines().map(str::to_owned).collect()
}

/// The death records of `supervise/death_tally`.
fn tally(sv: &Sv) -> Vec<[u8; 14]> {
    let b = std::fs::read(sv.p("supervise/death_tally")).unwrap();
    assert_eq!(b.len() % 14, 0, "{:?}: death_tally of {} bytes", sv.imp, b.len());
    b.chunks(14).map(|c| c.try_into().unwrap()).collect()
}

fn rec_tain(r: &[u8; 14]) -> Tain {
    Tain::from_bytes(r[..12].try_into().unwrap())
}

// ---------------------------------------------------------------------------------------------
// 1. Startup: the tree, a second instance, usage, bad directories, no/unusable run
// ---------------------------------------------------------------------------------------------

/// `(path, file type, mode, size)` of what s6-supervise created, sizes of directories omitted.
fn created_tree(sv: &Sv) -> Vec<(String, char, u32, u64, u32, u32)> {
    let mut v = Vec::new();
    for name in ["event", "supervise"] {
        let m = std::fs::symlink_metadata(sv.p(name)).unwrap();
        v.push((name.to_owned(), 'd', m.mode() & 0o7777, 0, m.uid(), m.gid()));
    }
    let mut names: Vec<String> = std::fs::read_dir(sv.p("supervise"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        let m = std::fs::symlink_metadata(sv.p(&format!("supervise/{n}"))).unwrap();
        let t = m.file_type();
        let kind = if t.is_fifo() {
            'p'
        } else if t.is_file() {
            'f'
        } else {
            '?'
        };
        v.push((format!("supervise/{n}"), kind, m.mode() & 0o7777, m.len(), m.uid(), m.gid()));
    }
    let ev: Vec<_> = std::fs::read_dir(sv.p("event")).unwrap().collect();
    assert!(ev.is_empty(), "{:?}: event/ not empty", sv.imp);
    v
}

fn startup_tree(imp: Impl) {
    let mut sv = Sv::new(imp, "tree", Some("exec sleep 1000"));
    sv.start();
    let st = sv.wait_up();
    let (uid, gid) = (merit_sys::geteuid(), merit_sys::getegid());
    let tree = created_tree(&sv);
    let want: Vec<(String, char, u32, u64, u32, u32)> = vec![
        ("event".into(), 'd', 0o3730, 0, uid, gid),
        ("supervise".into(), 'd', 0o700, 0, uid, gid),
        ("supervise/control".into(), 'p', 0o600, 0, uid, gid),
        ("supervise/death_tally".into(), 'f', 0o644, 0, uid, gid),
        ("supervise/lock".into(), 'f', 0o644, 0, uid, gid),
        ("supervise/status".into(), 'f', 0o644, 35, uid, gid),
    ];
    assert_eq!(tree, want, "{imp:?}");
    assert_eq!(sv.raw_status().len(), 35);

    // A second instance on the same directory.
    let out = crate::common::run(imp.bin("s6-supervise"), &["svc"], sv.tmp.path());
    assert_eq!(out.status.code(), Some(100), "{imp:?} second instance");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "s6-supervise svc: fatal: another instance of s6-supervise is already running\n"
    );
    assert!(sv.sup_alive());
    assert_eq!(sv.status().pid, st.pid, "{imp:?}: the second instance disturbed the service");
    assert_eq!(created_tree(&sv), want, "{imp:?}: the second instance changed the tree");
}

/// Our tree and the real one side by side (same umask, same service): identical.
#[test]
fn startup_tree_same_as_real() {
    if !have_real_s6() {
        return;
    }
    let trees: Vec<_> = [Impl::Ours, Impl::Real]
        .into_iter()
        .map(|imp| {
            let mut sv = Sv::new(imp, "tree2", Some("exec sleep 1000"));
            std::fs::write(sv.p("down"), "").unwrap();
            sv.start();
            created_tree(&sv)
        })
        .collect();
    assert_eq!(trees[0], trees[1]);
}

fn usage_and_bad_dir(imp: Impl) {
    let tmp = TempDir::new(&format!("sup-usage-{imp:?}"));
    let bin = imp.bin("s6-supervise");
    let out = crate::common::run(&bin, &[], tmp.path());
    assert_eq!(out.status.code(), Some(100), "{imp:?} no argument");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "s6-supervise: usage: s6-supervise dir\n");

    std::fs::write(tmp.join("file"), "").unwrap();
    let out = crate::common::run(&bin, &["file"], tmp.path());
    assert_eq!(out.status.code(), Some(111), "{imp:?} not a directory");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "s6-supervise: fatal: unable to chdir to file: Not a directory\n");
    let out = crate::common::run(&bin, &["nonexistent"], tmp.path());
    assert_eq!(out.status.code(), Some(111), "{imp:?} missing directory");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "s6-supervise: fatal: unable to chdir to nonexistent: No such file or directory\n"
    );
    assert!(!tmp.join("file/supervise").exists());
}

/// `run` missing (`None`) or not executable: warning, initial status kept, no event but `s`,
/// supervisor alive and controllable; once `run` is fixed, `u` starts it at once.
fn unusable_run(imp: Impl, executable_problem: bool) {
    let mut sv = Sv::new(imp, "norun", None);
    let errno = if executable_problem {
        std::fs::write(sv.p("run"), "#!/bin/sh\nexec sleep 1000\n").unwrap();
        std::fs::set_permissions(sv.p("run"), std::fs::Permissions::from_mode(0o644)).unwrap();
        "Permission denied"
    } else {
        "No such file or directory"
    };
    sv.subscribe();
    sv.start();
    sv.wait_log("s6-supervise svc: warning: unable to spawn ./run - waiting 10 seconds\n");
    sv.wait_log(&format!("s6-supervise svc (child): fatal: unable to exec run: {errno}\n"));
    let raw = sv.raw_status();
    let st = sv.status();
    assert_eq!(raw[34], 0x0c, "{imp:?}: initial status: want up + ready");
    assert_eq!((st.pid, st.wstat), (0, 0));
    assert_eq!(st.stamp, st.readystamp, "{imp:?}: initial status untouched");
    assert!(sv.sup_alive(), "{imp:?}: supervisor died");
    assert_eq!(sv.events(), b"s", "{imp:?}");
    if have_real_s6() {
        let out = sv.client("s6-svstat", &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with("down (exitcode 0) ") && text.contains(" seconds, normally up, want up, ready "),
            "{imp:?}: s6-svstat says {text:?}"
        );
    }

    // Still controllable: `d` clears want-up (one status write), nothing else.
    sv.ctl("d");
    let st = sv.wait_status("want down", |s| !s.wantup);
    assert_eq!((st.pid, st.ready), (0, true));
    assert_eq!(sv.raw_status()[..34], raw[..34], "{imp:?}: only the flags changed");
    // Make `run` usable: `u` in the down state spawns at once (no 10 s wait).
    crate::common::write_exec(&sv.p("run"), "#!/bin/sh\nexec sleep 1000\n");
    sv.ctl("u");
    sv.wait_events("su");
    let st = sv.wait_up();
    assert!(st.wantup && !st.ready);
}

fn missing_run(imp: Impl) {
    unusable_run(imp, false)
}

fn run_not_executable(imp: Impl) {
    unusable_run(imp, true)
}

both!(startup_tree, usage_and_bad_dir, missing_run, run_not_executable);

// ---------------------------------------------------------------------------------------------
// 2. Restart throttle and death tally
// ---------------------------------------------------------------------------------------------

fn restart_throttle(imp: Impl) {
    // a: default tally; b: max-death-tally 2; c: max-death-tally 0 (file never written).
    let mut a = Sv::new(imp, "thr-a", Some("exit 7"));
    let mut b = Sv::new(imp, "thr-b", Some("exit 7"));
    let mut c = Sv::new(imp, "thr-c", Some("exit 7"));
    b.file("max-death-tally", "2\n");
    c.file("max-death-tally", "0");
    let t0 = Instant::now();
    for s in [&mut a, &mut b, &mut c] {
        s.subscribe();
        s.start();
    }
    // b, c: until at least 3 starts, to see the tally trimmed.
    for s in [&mut b, &mut c] {
        let imp = s.imp;
        let ev = s.ev.as_mut().unwrap();
        let ok = wait_until(Duration::from_secs(20), || ev.pump().iter().filter(|&&e| e == b'u').count() >= 3);
        assert!(ok, "{imp:?}: fewer than 3 restarts in 20 s: {:?}", ev.text());
    }
    // a: whatever happens in ~3.5 s.
    std::thread::sleep(Duration::from_millis(3500).saturating_sub(t0.elapsed()));
    for s in [&a, &b, &c] {
        s.ctl("O");
    }
    for s in [&a, &b, &c] {
        let st = s.wait_status("down, want down", |s| s.pid == 0 && !s.finishing && !s.wantup);
        assert_eq!(st.wstat, 0x0700, "{imp:?}: exit 7");
    }
    let window = t0.elapsed().as_secs_f64();
    let mut starts = Vec::new();
    for s in [&mut a, &mut b, &mut c] {
        let ev = s.events();
        let n = ev.iter().filter(|&&e| e == b'u').count();
        assert_eq!(ev, [b"s".to_vec(), b"udD".repeat(n)].concat(), "{imp:?}: events");
        starts.push(n);
    }
    let n = starts[0];
    assert!(n >= 2, "{imp:?}: only {n} starts in {window:.2} s");
    assert!(n <= window.floor() as usize + 1, "{imp:?}: {n} starts in {window:.2} s: not throttled");

    // a: one 14-byte record per death, exit code 7, signal 0, at least 1 s apart; the last one
    // is stamped exactly like the status.
    let t = tally(&a);
    assert_eq!(t.len(), n, "{imp:?}: one record per death");
    for r in &t {
        assert_eq!(r[12..], [7, 0], "{imp:?}: record {r:02x?}");
    }
    for w in t.windows(2) {
        let gap = secs_between(rec_tain(&w[0]), rec_tain(&w[1]));
        assert!(gap >= 0.95, "{imp:?}: deaths {gap:.3} s apart");
    }
    assert_eq!(rec_tain(t.last().unwrap()), a.status().stamp, "{imp:?}: last record = status stamp");
    // b: only the last 2 records are kept.
    let tb = tally(&b);
    assert!(starts[1] >= 3);
    assert_eq!(tb.len(), 2, "{imp:?}: max-death-tally 2");
    assert_eq!(rec_tain(&tb[1]), b.status().stamp);
    assert!(secs_between(rec_tain(&tb[0]), rec_tain(&tb[1])) >= 0.95);
    // c: nothing recorded.
    assert!(starts[2] >= 3);
    assert_eq!(std::fs::metadata(c.p("supervise/death_tally")).unwrap().len(), 0, "{imp:?}: max-death-tally 0");
}

both!(restart_throttle);

// ---------------------------------------------------------------------------------------------
// 3. Readiness
// ---------------------------------------------------------------------------------------------

fn readiness(imp: Impl) {
    let mut sv = Sv::new(imp, "ready", Some("while [ ! -e data/go ]; do sleep 0.05; done\necho >&3\nexec sleep 1000"));
    sv.file("notification-fd", "3\n");
    sv.subscribe();
    sv.start();
    let st = sv.wait_up();
    assert_eq!(sv.raw_status()[34], 0x04, "{imp:?}: up, want up, not ready");
    assert!(!st.ready);
    sv.wait_events("su");

    let waiter = have_real_s6().then(|| {
        let t = Instant::now();
        let mut cmd = crate::common::command(crate::common::real("s6-svwait"));
        cmd.args(["-U", "svc"]).current_dir(sv.tmp.path()).stdout(Stdio::null()).stderr(Stdio::null());
        (t, Daemon::spawn(cmd))
    });
    // Not ready yet: nothing may happen.
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(sv.events(), b"su", "{imp:?}: readiness before the newline");
    let mut waiter = waiter.map(|(t, mut d)| {
        assert!(d.child.try_wait().unwrap().is_none(), "{imp:?}: s6-svwait -U returned before readiness");
        (t, d)
    });
    std::fs::write(sv.p("data/go"), "").unwrap();
    sv.wait_events("suU");
    let rd = sv.status();
    assert_eq!(sv.raw_status()[34], 0x0c, "{imp:?}: up, want up, ready");
    assert_eq!((rd.pid, rd.stamp), (st.pid, st.stamp), "{imp:?}: readiness touches readystamp only");
    assert!(secs_between(rd.stamp, rd.readystamp) >= 0.35, "{imp:?}: readystamp = time of the newline");
    if let Some((t, d)) = waiter.as_mut() {
        let code = d.wait_timeout(PROMPT).expect("s6-svwait -U returns after readiness").code();
        assert_eq!(code, Some(0));
        assert!(t.elapsed() >= Duration::from_millis(400));
    }
    // Ready for ≥ 1 s: a restart (`r` = down-signal) comes back at once, readiness again needed.
    sv.ctl("r");
    sv.wait_events("suUdDu");
    assert_ne!(sv.wait_up().pid, st.pid);
    sv.wait_events("suUdDuU");
}

/// Our fix: a partial line on the notification fd must not freeze the supervisor (s6 2.11.3.2
/// blocks in read(); not tested on the real one).
#[test]
fn partial_readiness_line_does_not_block_ours() {
    let mut sv = Sv::new(
        Impl::Ours,
        "partial",
        Some("printf x >&3\nwhile [ ! -e data/go ]; do sleep 0.05; done\nprintf 'y\\nz' >&3\nexec sleep 1000"),
    );
    sv.file("notification-fd", "3");
    sv.subscribe();
    sv.start();
    sv.wait_up();
    sv.wait_events("su");
    // Give the supervisor time to read the partial line, then check it still obeys.
    std::thread::sleep(Duration::from_millis(300));
    sv.ctl("p");
    sv.wait_status("paused", |s| s.paused);
    sv.ctl("c");
    sv.wait_status("continued", |s| !s.paused);
    // The newline after the partial line still counts.
    std::fs::write(sv.p("data/go"), "").unwrap();
    sv.wait_events("suU");
    assert!(sv.status().ready);
    // A second service that never completes its line: `d` brings it down promptly.
    let mut sv2 = Sv::new(Impl::Ours, "partial2", Some("printf 'not a line' >&3\nexec sleep 1000"));
    sv2.file("notification-fd", "3");
    sv2.subscribe();
    sv2.start();
    sv2.wait_up();
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    sv2.ctl("d");
    sv2.wait_events("sudD");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(sv2.status().wstat, 15);
}

both!(readiness);

// ---------------------------------------------------------------------------------------------
// 4. finish
// ---------------------------------------------------------------------------------------------

fn finish_args(imp: Impl) {
    let mut sv = Sv::new(imp, "finargs", Some("exit 3"));
    sv.file("down", "");
    sv.exec("finish", "echo \"$#:$*\" >> data/finish.log\ncat /proc/$$/cmdline | tr '\\0' ' ' >> data/finish.log\necho >> data/finish.log");
    sv.subscribe();
    sv.start();
    sv.ctl("o");
    sv.wait_events("sudD");
    assert_eq!(lines(&sv.p("data/finish.log")), ["3:3 0 svc", "/bin/sh ./finish 3 0 svc "], "{imp:?}");
    let st = sv.status();
    assert_eq!((st.wstat, st.pid, st.wantup, st.ready), (0x0300, 0, false, true), "{imp:?}");

    crate::common::write_exec(&sv.p("run"), "#!/bin/sh\nexec sleep 1000\n");
    std::fs::remove_file(sv.p("data/finish.log")).unwrap();
    sv.ctl("o");
    sv.wait_events("sudDu");
    sv.wait_up();
    sv.ctl("t");
    sv.wait_events("sudDudD");
    assert_eq!(lines(&sv.p("data/finish.log"))[0], "3:256 15 svc", "{imp:?}");
    assert_eq!(sv.status().wstat, 15);

    std::fs::remove_file(sv.p("data/finish.log")).unwrap();
    sv.ctl("o");
    sv.wait_events("sudDudDu");
    sv.wait_up();
    sv.ctl("k");
    sv.wait_events("sudDudDudD");
    assert_eq!(sv.events(), b"sudDudDudD", "{imp:?}");
    assert_eq!(lines(&sv.p("data/finish.log"))[0], "3:256 9 svc", "{imp:?}");
    assert_eq!(sv.status().wstat, 9);
}

/// `finish` outliving timeout-finish is SIGKILLed (warning), and the service restarts.
fn timeout_finish(imp: Impl) {
    let mut sv = Sv::new(imp, "tfin", Some("exit 1"));
    sv.exec("finish", "echo $$ >> data/finish.pid\nexec sleep 1000");
    sv.file("timeout-finish", "300\n");
    sv.subscribe();
    sv.start();
    sv.wait_events("sud");
    let fin = sv.wait_status("finishing", |s| s.finishing);
    assert!(!fin.ready && fin.wantup);
    sv.wait_events("sudD");
    sv.wait_log("s6-supervise svc: warning: finish script lifetime reached maximum value - sending it a SIGKILL\n");
    sv.wait_events("sudDu");
    // Stop the cycle (the run dying now gets its finish killed too), then look back.
    sv.ctl("O");
    let st = sv.wait_status("down, want down", |s| s.pid == 0 && !s.finishing && !s.wantup);
    let t = tally(&sv);
    let lifetime = secs_between(rec_tain(t.last().unwrap()), st.readystamp);
    assert!((0.29..5.0).contains(&lifetime), "{imp:?}: last finish lived {lifetime:.3} s");
    assert_eq!(st.wstat, 0x100, "{imp:?}: run's exit 1");
    let fpids: Vec<u64> = lines(&sv.p("data/finish.pid")).iter().map(|l| l.parse().unwrap()).collect();
    assert_eq!(fpids.len(), t.len(), "{imp:?}: one finish per death");
    assert!(fpids.contains(&fin.pid), "{imp:?}: pid field = finish's pid while finishing");
    for p in fpids {
        assert!(wait_until(PROMPT, || !alive(p as i32)), "{imp:?}: finish {p} still alive");
    }
}

/// `finish` exiting 125: events `d` then `OD`, want-up cleared, no restart.
fn finish_125(imp: Impl) {
    let mut sv = Sv::new(imp, "fin125", Some("exec sleep 1000"));
    sv.exec("finish", "exit 125");
    sv.subscribe();
    sv.start();
    sv.wait_up();
    sv.ctl("t");
    sv.wait_events("sudOD");
    let st = sv.status();
    assert_eq!(sv.raw_status()[32..], [0x00, 0x0f, 0x08], "{imp:?}: SIGTERM, ready, not want up");
    assert_eq!(st.pid, 0);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(sv.events(), b"sudOD", "{imp:?}: restarted after finish 125");
}

both!(finish_args, timeout_finish, finish_125);

// ---------------------------------------------------------------------------------------------
// 5. ./down, D, U, o
// ---------------------------------------------------------------------------------------------

fn down_file(imp: Impl) {
    let mut sv = Sv::new(imp, "down", Some("echo run >> data/runs\nexec sleep 1000"));
    sv.file("down", "");
    sv.subscribe();
    sv.start();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sv.events(), b"s", "{imp:?}: started despite ./down");
    assert!(!sv.p("data/runs").exists());
    let st = sv.status();
    assert_eq!(sv.raw_status()[24..], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08], "{imp:?}");
    assert_eq!(st.stamp, st.readystamp);
    if have_real_s6() {
        let out = sv.client("s6-svstat", &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with("down (exitcode 0) ") && text.contains(" seconds, ready ") && !text.contains("want"),
            "{imp:?}: s6-svstat says {text:?}"
        );
    }
    // U: removes ./down, wants up, starts at once.
    sv.ctl("U");
    sv.wait_events("su");
    assert!(!sv.p("down").exists(), "{imp:?}: U left ./down");
    assert!(sv.wait_up().wantup);
    // D: creates an empty ./down (0666 & ~022), stops the service.
    sv.ctl("D");
    sv.wait_events("sudD");
    let m = std::fs::metadata(sv.p("down")).expect("D creates ./down");
    assert!(m.is_file() && m.len() == 0 && m.mode() & 0o7777 == 0o644, "{imp:?}: ./down {m:?}");
    let st = sv.wait_down();
    assert!(!st.wantup);
    assert_eq!(lines(&sv.p("data/runs")).len(), 1);
}

fn once(imp: Impl) {
    let mut sv = Sv::new(imp, "once", Some("echo run >> data/runs\nexit 0"));
    sv.file("down", "");
    sv.subscribe();
    sv.start();
    sv.ctl("o");
    sv.wait_events("sudD");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(sv.events(), b"sudD", "{imp:?}: o restarted the service");
    assert_eq!(lines(&sv.p("data/runs")).len(), 1);
    let st = sv.status();
    assert_eq!((st.pid, st.wantup, st.ready, st.wstat), (0, false, true, 0));
    assert!(sv.p("down").exists(), "{imp:?}: o touched ./down");
}

both!(down_file, once);

// ---------------------------------------------------------------------------------------------
// 6. timeout-kill, down-signal, control-letter signals
// ---------------------------------------------------------------------------------------------

fn timeout_kill(imp: Impl) {
    // sh sets TERM to ignored, and sleep inherits that.
    let mut sv = Sv::new(imp, "tkill", Some("trap '' TERM\necho $$ > data/armed\nexec sleep 1000"));
    sv.file("timeout-kill", "200\n");
    sv.subscribe();
    sv.start();
    sv.wait_armed();
    let t_cmd = now_tain();
    let t = Instant::now();
    sv.ctl("d");
    sv.wait_events("sudD");
    assert!(t.elapsed() < Duration::from_secs(5), "{imp:?}: took {:?}", t.elapsed());
    let st = sv.status();
    assert_eq!(st.wstat, 9, "{imp:?}: killed by SIGKILL");
    let after = secs_between(t_cmd, st.stamp);
    assert!(after >= 0.15, "{imp:?}: died {after:.3} s after d: before timeout-kill");

    // Without timeout-kill nothing escalates.
    std::fs::remove_file(sv.p("timeout-kill")).unwrap();
    sv.ctl("u");
    let pid = sv.wait_armed();
    sv.ctl("d");
    sv.wait_status("want down", |s| !s.wantup);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(sv.events(), b"sudDu", "{imp:?}: escalated without timeout-kill");
    assert!(alive(pid));
    sv.ctl("k");
    sv.wait_events("sudDudD");
}

fn down_signal(imp: Impl) {
    let mut sv = Sv::new(
        imp,
        "dsig",
        Some(
            "for s in HUP INT USR1 TERM; do trap \"echo $s > data/got; exit 0\" $s; done\n\
             echo $$ > data/armed\nwhile :; do sleep 0.1; done",
        ),
    );
    sv.subscribe();
    let mut ev = String::from("s");
    for (i, (content, want)) in
        [("SIGHUP\n", "HUP"), ("2", "INT"), ("usr1\n", "USR1"), ("bogus", "TERM")].into_iter().enumerate()
    {
        sv.file("down-signal", content);
        let _ = std::fs::remove_file(sv.p("data/got"));
        if i == 0 {
            sv.start();
        } else {
            sv.ctl("u");
        }
        sv.wait_armed();
        ev.push('u');
        sv.ctl("d");
        ev.push_str("dD");
        sv.wait_events(&ev);
        let got = std::fs::read_to_string(sv.p("data/got")).unwrap_or_default();
        assert_eq!(got.trim(), want, "{imp:?}: down-signal {content:?}");
        assert_eq!(sv.status().wstat, 0, "{imp:?}: run exited 0 from its trap");
    }
    sv.wait_log("s6-supervise svc: warning: invalid down-signal");
}

fn control_signals(imp: Impl) {
    let mut sv = Sv::new(
        imp,
        "letters",
        Some(
            "for s in ALRM ABRT QUIT HUP TERM INT USR1 USR2 WINCH; do trap \"echo $s >> data/sigs\" $s; done\n\
             echo $$ > data/armed\nwhile :; do sleep 0.1; done",
        ),
    );
    sv.subscribe();
    sv.start();
    let pid = sv.wait_armed();
    let ino = std::fs::metadata(sv.p("supervise/status")).unwrap().ino();
    let raw = sv.raw_status();
    let letters = [
        ("a", "ALRM"),
        ("b", "ABRT"),
        ("q", "QUIT"),
        ("h", "HUP"),
        ("t", "TERM"),
        ("i", "INT"),
        ("1", "USR1"),
        ("2", "USR2"),
        ("y", "WINCH"),
        ("r", "TERM"),
    ];
    for (k, (letter, name)) in letters.iter().enumerate() {
        sv.ctl(letter);
        let ok = wait_until(PROMPT, || lines(&sv.p("data/sigs")).len() > k);
        assert!(ok, "{imp:?}: `{letter}` delivered nothing");
        assert_eq!(lines(&sv.p("data/sigs"))[k], *name, "{imp:?}: `{letter}`");
    }
    assert_eq!(lines(&sv.p("data/sigs")).len(), letters.len());
    assert_eq!(sv.raw_status(), raw, "{imp:?}: signal letters changed the status");
    assert_eq!(
        std::fs::metadata(sv.p("supervise/status")).unwrap().ino(),
        ino,
        "{imp:?}: signal letters rewrote the status file"
    );
    assert_eq!(sv.events(), b"su");
    assert_eq!(sv.status().pid as i32, pid);

    // p: SIGSTOP (state T) and the paused flag; c: SIGCONT and the flag cleared.
    sv.ctl("p");
    sv.wait_status("paused", |s| s.paused);
    assert!(wait_until(PROMPT, || proc_stat(pid).is_some_and(|s| s.0 == 'T')), "{imp:?}: p did not stop run");
    assert_eq!(sv.raw_status()[34], 0x05);
    sv.ctl("c");
    sv.wait_status("continued", |s| !s.paused);
    assert!(wait_until(PROMPT, || proc_stat(pid).is_some_and(|s| s.0 != 'T')), "{imp:?}: c did not continue run");
    assert_eq!(sv.raw_status()[34], 0x04);
    // Still alive and handling signals after the stop.
    sv.ctl("1");
    assert!(wait_until(PROMPT, || lines(&sv.p("data/sigs")).len() == letters.len() + 1));

    // k: SIGKILL, then the normal restart.
    sv.ctl("k");
    sv.wait_events("sudDu");
    let t = tally(&sv);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0][12..], [128 + 9, 9], "{imp:?}: tally record of SIGKILL");
    assert_eq!(sv.wait_up().wstat, 9, "{imp:?}: previous wstat kept while up again");
}

both!(timeout_kill, down_signal, control_signals);

// ---------------------------------------------------------------------------------------------
// 7. Signals to the supervisor
// ---------------------------------------------------------------------------------------------

fn sup_sigterm(imp: Impl) {
    let mut sv = Sv::new(imp, "sigterm", Some("exec sleep 1000"));
    sv.exec("finish", "sleep 0.3\nx=$(readlink /proc/$$/fd/1); echo \"$x\" > data/fd1\necho \"$*\" > data/finished");
    sv.subscribe();
    sv.start();
    let pid = sv.wait_up().pid as i32;
    sv.sup().signal(merit_sys::signal::SIGTERM);
    assert_eq!(sv.sup_exit(), 0, "{imp:?}");
    assert_eq!(
        std::fs::read_to_string(sv.p("data/finished")).unwrap_or_default(),
        "256 15 svc\n",
        "{imp:?}: exited before finish ended"
    );
    sv.wait_events("sudDx");
    assert_eq!(sv.events(), b"sudDx", "{imp:?}: events after the exit");
    assert!(!alive(pid));
    let st = sv.status();
    assert_eq!((st.pid, st.finishing, st.wantup, st.ready, st.wstat), (0, false, false, true, 15), "{imp:?}");
    // Unlike `x`, SIGTERM leaves the supervisor's stdout alone (s6 2.11.3.2).
    let fd1 = std::fs::read_to_string(sv.p("data/fd1")).unwrap();
    assert_eq!(fd1.trim(), sv.log.canonicalize().unwrap().to_str().unwrap(), "{imp:?}: finish's stdout");
}

fn sup_sighup(imp: Impl) {
    let mut sv = Sv::new(imp, "sighup", Some("exec sleep 1000"));
    sv.exec("finish", "x=$(readlink /proc/$$/fd/1); echo \"$x\" > data/fd1");
    sv.subscribe();
    sv.start();
    let pid = sv.wait_up().pid as i32;
    sv.sup().signal(merit_sys::signal::SIGHUP);
    std::thread::sleep(Duration::from_millis(500));
    assert!(sv.sup_alive(), "{imp:?}: SIGHUP while up must wait for the service");
    assert!(alive(pid), "{imp:?}: SIGHUP touched the service");
    assert_eq!(sv.events(), b"su");
    let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGTERM);
    assert_eq!(sv.sup_exit(), 0, "{imp:?}");
    sv.wait_events("sudDx");
    assert_eq!(sv.events(), b"sudDx", "{imp:?}: events after the exit");
    let st = sv.status();
    assert_eq!((st.pid, st.wantup, st.wstat), (0, true, 15), "{imp:?}: as x: want-up untouched");
    // As x: the last finish gets stdout = /dev/null.
    assert_eq!(std::fs::read_to_string(sv.p("data/fd1")).unwrap(), "/dev/null\n", "{imp:?}");
}

/// `x` while up: the supervisor stays until the service is down, the last finish gets
/// stdout = /dev/null, then event `x` and exit 0; no restart.
fn exit_letter(imp: Impl) {
    let mut sv = Sv::new(imp, "xletter", Some("exec sleep 1000"));
    sv.exec("finish", "x=$(readlink /proc/$$/fd/1); echo \"$x\" > data/fd1");
    sv.subscribe();
    sv.start();
    sv.wait_up();
    sv.ctl("x");
    std::thread::sleep(Duration::from_millis(300));
    assert!(sv.sup_alive(), "{imp:?}: x while up exits at once");
    sv.ctl("d");
    assert_eq!(sv.sup_exit(), 0, "{imp:?}");
    sv.wait_events("sudDx");
    assert_eq!(sv.events(), b"sudDx", "{imp:?}: events after the exit");
    assert_eq!(std::fs::read_to_string(sv.p("data/fd1")).unwrap(), "/dev/null\n", "{imp:?}");
    let st = sv.status();
    assert_eq!((st.pid, st.wantup, st.ready), (0, false, true));
}

fn sup_sigquit(imp: Impl) {
    let mut sv = Sv::new(imp, "sigquit", Some("exec sleep 1000"));
    sv.subscribe();
    sv.start();
    let pid = sv.wait_up().pid as i32;
    let raw = sv.raw_status();
    sv.sup().signal(merit_sys::signal::SIGQUIT);
    assert_eq!(sv.sup_exit(), 0, "{imp:?}");
    sv.wait_events("sux");
    assert_eq!(sv.events(), b"sux", "{imp:?}: events after the exit");
    assert!(alive(pid), "{imp:?}: SIGQUIT must leave the service running");
    assert_eq!(sv.raw_status(), raw, "{imp:?}: status rewritten on SIGQUIT");
    assert!(!merit_sys::lock::supervisor_running(&sv.dir).unwrap());
    sigkill(pid);
}

fn sup_sigint(imp: Impl) {
    // The leader and a foreground child in its process group both trap SIGINT.
    let mut sv = Sv::new(
        imp,
        "sigint",
        Some(
            "trap 'echo leader >> data/int; exit 0' INT\n\
             sh -c 'trap \"echo child >> data/int; exit 0\" INT; echo $PPID > data/armed; while :; do sleep 0.1; done'",
        ),
    );
    sv.subscribe();
    sv.start();
    let pid = sv.wait_armed();
    sv.sup().signal(merit_sys::signal::SIGINT);
    assert_eq!(sv.sup_exit(), 0, "{imp:?}");
    sv.wait_events("sux");
    assert_eq!(sv.events(), b"sux", "{imp:?}: events after the exit");
    let ok = wait_until(PROMPT, || lines(&sv.p("data/int")).len() == 2);
    let mut got = lines(&sv.p("data/int"));
    got.sort();
    assert!(ok, "{imp:?}: SIGINT reached {got:?}");
    assert_eq!(got, ["child", "leader"], "{imp:?}: the whole process group gets SIGINT");
    assert!(wait_until(PROMPT, || !alive(pid)));
}

both!(sup_sigterm, sup_sighup, sup_sigquit, sup_sigint, exit_letter);

// ---------------------------------------------------------------------------------------------
// 8. Bad input on the control FIFO
// ---------------------------------------------------------------------------------------------

/// Bytes pending in a FIFO.
fn fifo_pending(f: &std::fs::File) -> i32 {
    merit_sys::fd::fionread(f.as_raw_fd()).map_or(0, |n| n as i32)
}

fn random_from(allowed: &[u8], n: usize) -> Vec<u8> {
    let mut raw = vec![0u8; n * 2];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        merit_sys::fifodir::random_bytes(&mut raw);
        out.extend(raw.iter().filter(|b| allowed.contains(b)).take(n - out.len()));
    }
    out
}

fn bad_input(imp: Impl) {
    let mut sv = Sv::new(imp, "badinput", Some("exec sleep 1000"));
    sv.subscribe();
    sv.start();
    let pid = sv.wait_up().pid;
    let raw = sv.raw_status();
    let ino = std::fs::metadata(sv.p("supervise/status")).unwrap().ino();
    let mut fifo = std::fs::OpenOptions::new().write(true).open(sv.p("supervise/control")).unwrap();
    let drain = |f: &std::fs::File| {
        let ok = wait_until(PROMPT, || fifo_pending(f) == 0);
        assert!(ok, "{imp:?}: supervisor stopped reading its control FIFO");
    };

    const LETTERS: &[u8] = b"abqhkti12pcyroduDUxOQ";
    let junk: Vec<u8> = (0..=255u8).filter(|b| !LETTERS.contains(b)).collect();
    assert_eq!(junk.len(), 256 - 21);
    for chunk in random_from(&junk, 10_000).chunks(1000) {
        fifo.write_all(chunk).unwrap();
        drain(&fifo);
    }
    assert!(sv.sup_alive());
    assert_eq!(sv.raw_status(), raw, "{imp:?}: junk changed the status");
    assert_eq!(std::fs::metadata(sv.p("supervise/status")).unwrap().ino(), ino, "{imp:?}: status rewritten");
    assert_eq!(sv.status().pid, pid);
    assert!(alive(pid as i32));
    assert_eq!(sv.events(), b"su");

    // Anything but x: real commands, the service goes up and down.
    let any: Vec<u8> = (0..=255u8).filter(|&b| b != b'x').collect();
    for chunk in random_from(&any, 10_000).chunks(100) {
        fifo.write_all(chunk).unwrap();
        drain(&fifo);
    }
    drop(fifo);
    assert!(sv.sup_alive(), "{imp:?}: supervisor died; log: {}", sv.log_text());
    assert!(merit_sys::lock::supervisor_running(&sv.dir).unwrap());

    // Still drivable by the real client tools.
    let svc = |args: &[&str]| {
        if have_real_s6() {
            let out = sv.client("s6-svc", args);
            assert_eq!(out.status.code(), Some(0), "{imp:?}: s6-svc {args:?}: {out:?}");
        } else {
            sv.ctl(&args[0][1..]);
        }
    };
    let svstat_starts = |prefix: &str| {
        if have_real_s6() {
            let ok =
                wait_until(PROMPT, || String::from_utf8_lossy(&sv.client("s6-svstat", &[]).stdout).starts_with(prefix));
            let out = sv.client("s6-svstat", &[]);
            assert!(ok, "{imp:?}: s6-svstat: {:?}, wanted {prefix:?}", String::from_utf8_lossy(&out.stdout));
        }
    };
    svc(&["-u"]);
    svstat_starts("up (pid ");
    sv.wait_status("up, want up", |s| s.pid != 0 && !s.finishing && s.wantup);
    svc(&["-d"]);
    svstat_starts("down ");
    sv.wait_status("down, want down", |s| s.pid == 0 && !s.finishing && !s.wantup);
    svc(&["-x"]);
    assert_eq!(sv.sup_exit(), 0, "{imp:?}");
    assert_eq!(sv.events().last(), Some(&b'x'));
}

both!(bad_input);

// ---------------------------------------------------------------------------------------------
// 9. What run gets: argv, session, cwd, fds, notification fd, lock fd
// ---------------------------------------------------------------------------------------------

/// `fd number -> link target` of a process.
fn fds(pid: i32) -> Vec<(i32, String)> {
    let mut v: Vec<(i32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().to_string_lossy().parse().ok()?;
            Some((n, std::fs::read_link(e.path()).ok()?.to_string_lossy().into_owned()))
        })
        .collect();
    v.sort();
    v
}

fn fdinfo_flags(pid: i32, fd: i32) -> Option<u32> {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
    let flags = info.lines().find(|l| l.starts_with("flags:"))?.split_whitespace().nth(1)?.to_owned();
    u32::from_str_radix(&flags, 8).ok()
}

/// Close-on-exec, or already closed.
fn fd_cloexec(pid: i32, fd: i32) -> bool {
    fdinfo_flags(pid, fd).map_or(true, |f| f & merit_sys::flags::O_CLOEXEC as u32 != 0)
}

fn run_environment(imp: Impl) {
    let mut sv = Sv::new(imp, "runenv", Some("tr '\\0' ' ' < /proc/$$/cmdline > data/cmdline\nexec sleep 1000"));
    sv.file("notification-fd", "4\n");
    sv.start();
    let pid = sv.wait_up().pid as i32;
    assert!(wait_until(PROMPT, || std::fs::read_to_string(sv.p("data/cmdline")).is_ok_and(|s| !s.is_empty())));
    assert_eq!(std::fs::read_to_string(sv.p("data/cmdline")).unwrap(), "/bin/sh ./run svc ", "{imp:?}");
    // Wait for the exec of sleep, then look at the process.
    assert!(wait_until(PROMPT, || std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")));
    let (_, pgrp, sid) = proc_stat(pid).unwrap();
    assert_eq!((pgrp, sid), (pid, pid), "{imp:?}: run is a session and group leader");
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert_eq!(cwd, sv.dir.canonicalize().unwrap(), "{imp:?}: cwd");
    let sup = fds(sv.sup_pid());
    let run = fds(pid);
    // run gets 0-2, the notification fd, and whatever the test process inherited without
    // close-on-exec (passed on to the supervisor); nothing the supervisor opened itself.
    let inherited: Vec<i32> = fds(std::process::id() as i32)
        .iter()
        .map(|f| f.0)
        .filter(|&n| n > 2 && !fd_cloexec(std::process::id() as i32, n))
        .collect();
    let leaked: Vec<(i32, String)> = sup.iter().filter(|f| inherited.contains(&f.0)).cloned().collect();
    let mut want: Vec<i32> = [0, 1, 2, 4].into_iter().chain(leaked.iter().map(|f| f.0)).collect();
    want.sort();
    let numbers: Vec<i32> = run.iter().map(|f| f.0).collect();
    assert_eq!(numbers, want, "{imp:?}: fds of run: {run:?}; supervisor: {sup:?}");
    for l in &leaked {
        assert!(run.contains(l), "{imp:?}: inherited fd {l:?} differs in run");
    }
    assert_eq!(run[..3], sup[..3], "{imp:?}: stdio inherited from the supervisor");
    assert_eq!(run[0].1, "/dev/null");
    let log = sv.log.canonicalize().unwrap().to_string_lossy().into_owned();
    assert_eq!((run[1].1.as_str(), run[2].1.as_str()), (log.as_str(), log.as_str()));
    // fd 4 is the write end of a pipe whose other end the supervisor holds.
    assert!(run[3].1.starts_with("pipe:["), "{imp:?}: fd 4 = {}", run[3].1);
    assert!(sup.iter().any(|f| f.1 == run[3].1 && f.0 > 2), "{imp:?}: supervisor lacks the pipe");
    let flags = fdinfo_flags(pid, 4).unwrap();
    assert_eq!(
        flags & merit_sys::flags::O_ACCMODE as u32,
        merit_sys::flags::O_WRONLY as u32,
        "{imp:?}: fd 4 write-only"
    );
}

/// argv[0] of run and finish, seen through a program that names itself by argv[0] in its
/// messages: `run` and `finish` are symlinks to env, which fails to exec its first argument.
fn run_argv0(imp: Impl) {
    let mut sv = Sv::new(imp, "argv0", None);
    // env must find no program named `svc` (daemontools installs one): an empty PATH.
    let empty = sv.tmp.join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    sv.path_env = Some(empty);
    std::os::unix::fs::symlink("/usr/bin/env", sv.p("run")).unwrap();
    std::os::unix::fs::symlink("/usr/bin/env", sv.p("finish")).unwrap();
    sv.file("down", "");
    sv.subscribe();
    sv.start();
    sv.ctl("o");
    sv.wait_events("sudD");
    let log = sv.log_text();
    let has = |prefix: &str, arg: &str| log.lines().any(|l| l.starts_with(prefix) && l.contains(arg));
    assert!(has("run: ", "svc"), "{imp:?}: run's argv: {log}");
    // env exited 127, so finish got `127 0 svc` and complains about `127`.
    assert!(has("finish: ", "127"), "{imp:?}: finish's argv: {log}");
    assert_eq!(sv.status().wstat, 127 << 8);
}

/// Whether some process holds a POSIX write lock on `path`; returns its pid.
fn lock_holder(path: &Path) -> Option<i32> {
    let f = std::fs::File::open(path).ok()?;
    merit_sys::lock::write_lock_holder(f.as_raw_fd()).ok()?
}

/// `/proc/locks` entries `(kind, pid)` on the inode of `path`.
fn proc_locks(path: &Path) -> Vec<(String, i32)> {
    let ino = std::fs::metadata(path).unwrap().ino();
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // "1: POSIX  ADVISORY  WRITE 1234 fe:00:5678 0 EOF"
            let i = f.iter().position(|x| *x == "ADVISORY")?;
            let inode: u64 = f.get(i + 3)?.rsplit(':').next()?.parse().ok()?;
            (inode == ino).then(|| (format!("{} {}", f[i - 1], f[i + 1]), f[i + 2].parse().unwrap_or(0)))
        })
        .collect()
}

fn lock_fd(imp: Impl) {
    let mut sv = Sv::new(imp, "lockfd", Some("exec sleep 1000"));
    sv.file("lock-fd", "5\n");
    sv.subscribe();
    sv.start();
    let lockf = sv.p("supervise/service-lock");
    if imp == Impl::Real {
        // s6 2.11.3.2 opens service-lock without O_CREAT: the service never starts.
        sv.wait_log(
            "s6-supervise svc: warning: unable to open supervise/service-lock for writing (waiting 60 seconds): No such file or directory\n",
        );
        assert_eq!(sv.events(), b"s");
        assert_eq!(sv.raw_status()[24..], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0c]);
        assert!(!lockf.exists());
        return;
    }
    let pid = sv.wait_up().pid as i32;
    sv.wait_events("su");
    let m = std::fs::metadata(&lockf).expect("supervise/service-lock created");
    assert!(m.is_file() && m.len() == 0 && m.mode() & 0o777 == 0o644, "{m:?}");
    assert!(wait_until(PROMPT, || std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")));
    let run = fds(pid);
    let want = lockf.canonicalize().unwrap().to_string_lossy().into_owned();
    assert!(run.contains(&(5, want)), "fd 5 of run: {run:?}");
    assert_eq!(lock_holder(&lockf), Some(pid), "run holds the lock");
    assert_eq!(proc_locks(&lockf), [("POSIX WRITE".to_owned(), pid)]);
    // After a restart the new run holds it.
    sv.ctl("k");
    sv.wait_events("sudDu");
    let pid2 = sv.wait_up().pid as i32;
    assert_ne!(pid2, pid);
    assert!(wait_until(PROMPT, || lock_holder(&lockf) == Some(pid2)));
}

/// With `supervise/service-lock` made beforehand, the real s6 starts the service with the file
/// on fd 5 but, as of 2.11.3.2, run holds no lock on it; ours holds it.
fn lock_fd_precreated(imp: Impl) {
    let mut sv = Sv::new(imp, "lockfd2", Some("exec sleep 1000"));
    sv.file("lock-fd", "5");
    std::fs::create_dir(sv.p("supervise")).unwrap();
    std::fs::set_permissions(sv.p("supervise"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(sv.p("supervise/service-lock"), "").unwrap();
    sv.start();
    let pid = sv.wait_up().pid as i32;
    assert!(wait_until(PROMPT, || std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")));
    let lockf = sv.p("supervise/service-lock");
    let want = lockf.canonicalize().unwrap().to_string_lossy().into_owned();
    assert!(fds(pid).contains(&(5, want)), "{imp:?}: fd 5 of run: {:?}", fds(pid));
    match imp {
        Impl::Ours => assert_eq!(lock_holder(&lockf), Some(pid)),
        Impl::Real => assert_eq!(lock_holder(&lockf), None, "s6 2.11.3.2 releases the lock at exec"),
    }
}

/// `o` (once) on a down service with `lock-fd` starts it once: up, not wanted up, and not
/// restarted after it dies. (merit used to give up the child waiting for its lock because
/// "once" leaves the service not wanted up.)
fn lock_fd_once(imp: Impl) {
    let mut sv = Sv::new(imp, "lockonce", Some("exec sleep 1000"));
    sv.file("lock-fd", "5");
    sv.file("down", "");
    std::fs::DirBuilder::new().mode(0o700).create(sv.p("supervise")).unwrap();
    std::fs::write(sv.p("supervise/service-lock"), "").unwrap(); // for the real s6 (see lock_fd)
    sv.subscribe();
    sv.start();
    sv.wait_events("s");
    sv.ctl("o");
    let st = sv.wait_status("up once", |s| s.pid != 0);
    assert!(!st.wantup, "{imp:?}: once is not wanted up: {st:?}");
    let pid = st.pid as i32;
    assert!(wait_until(PROMPT, || std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")));
    let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGTERM);
    sv.wait_status("down after its one run", |s| s.pid == 0 && !s.wantup);
    sv.wait_events("sudD");
    std::thread::sleep(Duration::from_millis(1200)); // not restarted
    assert_eq!(sv.status().pid, 0, "{imp:?}: restarted after a once");
    sv.ctl("x");
    assert_eq!(sv.sup_exit(), 0, "{imp:?}");
}

both!(run_environment, run_argv0, lock_fd, lock_fd_precreated, lock_fd_once);

// ---------------------------------------------------------------------------------------------
// 10. Faults: an unwritable stderr, a held lock, FIFOs in place of the service's files
// ---------------------------------------------------------------------------------------------

/// A warning on a stderr that has no reader (the catch-all logger down): the supervisor goes on
/// (merit used to abort on the failed write and leave its run orphaned).
fn warning_stderr_no_reader(imp: Impl) {
    let mut sv = Sv::new(imp, "diag-epipe", Some("exec sleep 1000"));
    sv.file("notification-fd", "bogus\n");
    let (r, w) = merit_sys::fd::pipe(false).unwrap();
    drop(r);
    sv.stderr = Some(w);
    sv.start();
    let pid = sv.wait_up().pid;
    sv.ctl("k"); // another start, another warning
    let pid2 = sv.wait_status("up again", |s| s.pid != 0 && s.pid != pid && !s.finishing).pid;
    assert!(sv.sup_alive(), "{imp:?}: the supervisor died");
    assert!(alive(pid2 as i32));
    sv.ctl("dx");
    assert_eq!(sv.sup_exit(), 0, "{imp:?}");
}

both!(warning_stderr_no_reader);

/// Stderr is a pipe that nobody reads, full (a stopped or slow logger) and blocking: the
/// supervisor loses its warnings but keeps answering commands. (s6 blocks in this case.)
#[test]
fn warning_stderr_full_does_not_block_ours() {
    let mut sv = Sv::new(Impl::Ours, "diag-full", Some("exit 3"));
    sv.file("notification-fd", "bogus\n");
    let (r, w) = crate::common::full_pipe();
    sv.stderr = Some(w);
    sv.start();
    // Each start warns; each death is recorded. Two deaths: at least two warnings dropped.
    let ok = wait_until(PROMPT, || tally(&sv).len() >= 2);
    assert!(ok, "the service was not restarted: tally {:?}", tally(&sv));
    sv.ctl("d");
    sv.wait_status("down, want down", |s| s.pid == 0 && !s.wantup);
    sv.ctl("x");
    assert_eq!(sv.sup_exit(), 0);
    drop(r);
}

/// Another process holds `supervise/service-lock` (an orphaned run, say): the child waits for
/// the lock, the service is not up meanwhile (run has not run), and the supervisor keeps
/// answering: `d` gives up the waiting child, `u` waits again, and once the lock is free run
/// starts holding it.
#[test]
fn lock_fd_held_elsewhere_ours() {
    let mut sv = Sv::new(Impl::Ours, "lockheld", Some("exec sleep 1000"));
    sv.file("lock-fd", "5\n");
    std::fs::DirBuilder::new().mode(0o700).create(sv.p("supervise")).unwrap();
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(sv.p("supervise/service-lock"))
        .unwrap();
    assert!(merit_sys::lock::try_write_lock(held.as_raw_fd()).unwrap());
    sv.subscribe();
    sv.start();
    sv.wait_log("another instance of the service is already running, child will block");
    let waiting = || {
        crate::common::processes_under(&sv.dir)
            .into_iter()
            .filter(|&p| Some(p) != sv.sup.as_ref().map(|d| d.pid()))
            .collect::<Vec<_>>()
    };
    assert!(wait_until(PROMPT, || waiting().len() == 1), "no child waiting for the lock");
    let child = waiting()[0];
    let st = sv.status();
    assert!(st.pid == 0 && st.wantup, "not up while waiting for the lock: {st:?}");
    sv.ctl("d");
    sv.wait_status("down, want down", |s| s.pid == 0 && !s.wantup);
    assert!(wait_until(PROMPT, || !alive(child)), "the waiting child was not stopped");
    sv.ctl("u");
    assert!(wait_until(PROMPT, || waiting().len() == 1), "no new child waiting for the lock");
    assert_eq!(sv.events(), b"s", "no event while run has not run");
    drop(held); // the lock is free: run gets it and execs
    let pid = sv.wait_up().pid as i32;
    sv.wait_events("su");
    let lockf = sv.p("supervise/service-lock");
    assert!(wait_until(PROMPT, || lock_holder(&lockf) == Some(pid)), "run never took the lock");
    assert!(wait_until(PROMPT, || std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")));
    sv.ctl("dx");
    assert_eq!(sv.sup_exit(), 0);
}

/// A run that cannot be executed, with lock-fd (service-lock made beforehand, so the real s6
/// gets that far): a failed spawn, retried 10 s later, no event, no death, as without lock-fd.
fn lock_fd_exec_failure(imp: Impl) {
    let mut sv = Sv::new(imp, "lockexec", None);
    std::fs::write(sv.p("run"), "#!/bin/sh\nexec sleep 1000\n").unwrap(); // not executable
    sv.file("lock-fd", "5\n");
    std::fs::DirBuilder::new().mode(0o700).create(sv.p("supervise")).unwrap();
    std::fs::write(sv.p("supervise/service-lock"), "").unwrap();
    sv.subscribe();
    sv.start();
    sv.wait_log("s6-supervise svc (child): fatal: unable to exec run: Permission denied\n");
    sv.wait_log("s6-supervise svc: warning: unable to spawn ./run - waiting 10 seconds\n");
    let st = sv.status();
    assert!(st.pid == 0 && st.wantup, "{imp:?}: {st:?}");
    assert_eq!(sv.events(), b"s", "{imp:?}");
    assert!(tally(&sv).is_empty(), "{imp:?}: a failed spawn is no death");
    sv.ctl("dx");
    assert_eq!(sv.sup_exit(), 0);
}

both!(lock_fd_exec_failure);

/// FIFOs (no writer, no reader) in place of every configuration file the supervisor reads, and
/// of `./down`: each is ignored with a warning, nothing freezes.
#[test]
fn fifo_in_place_of_files_ours() {
    let mut sv = Sv::new(Impl::Ours, "fifos", Some("exec sleep 1000"));
    let names = ["timeout-kill", "timeout-finish", "notification-fd", "lock-fd", "down-signal", "max-death-tally"];
    for n in names {
        merit_sys::mkfifo(&sv.p(n), 0o644).unwrap();
    }
    merit_sys::mkfifo(&sv.p("down"), 0o644).unwrap();
    sv.exec("finish", "exit 0"); // timeout-finish is read when finish runs
    sv.start();
    sv.wait_status("down, want down", |s| s.pid == 0 && !s.wantup);
    sv.ctl("u");
    let pid = sv.wait_up().pid;
    sv.ctl("d"); // down-signal, timeout-kill, timeout-finish, max-death-tally
    sv.wait_down();
    sv.ctl("u");
    sv.wait_status("up again", |s| s.pid != 0 && s.pid != pid && !s.finishing);
    sv.ctl("D"); // creates ./down: here a FIFO without a reader
    sv.wait_status("down, want down", |s| s.pid == 0 && !s.finishing && !s.wantup);
    for n in names {
        sv.wait_log(&format!("s6-supervise svc: warning: {n} is not a regular file, ignoring it\n"));
    }
    sv.wait_log("s6-supervise svc: warning: unable to touch ./down: No such device or address\n");
    sv.ctl("x");
    assert_eq!(sv.sup_exit(), 0);
}

/// `supervise/` and `event/` through a dangling symlink: the targets are made with the final
/// modes (the direct case is in `startup_tree`).
fn created_dirs_through_symlinks(imp: Impl) {
    let mut sv = Sv::new(imp, "modes", Some("exec sleep 1000"));
    std::os::unix::fs::symlink("../sup-target", sv.p("supervise")).unwrap();
    std::os::unix::fs::symlink("../ev-target", sv.p("event")).unwrap();
    sv.start();
    let mode = |n: &str| std::fs::metadata(sv.tmp.join(n)).unwrap().mode() & 0o7777;
    assert_eq!((mode("ev-target"), mode("sup-target")), (0o3730, 0o700), "{imp:?}");
    sv.ctl("dx");
    assert_eq!(sv.sup_exit(), 0);
}

both!(created_dirs_through_symlinks);
