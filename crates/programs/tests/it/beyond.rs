//! Issue 13, beyond s6: restart back-off and giving up (`restart-delay`, `restart-limit`),
//! sd_notify readiness (`notify-socket`), checked with real processes, the real s6 tools and
//! merit's `service`.

use crate::common::*;
use crate::service_common::*;
use std::path::Path;
use std::time::Duration;

/// A TAI64N stamp in seconds (as f64).
fn secs(t: merit_core::tai::Tain) -> f64 {
    (t.secs - merit_core::tai::TAI64_BASE) as f64 + f64::from(t.nanos) / 1e9
}

/// The up stamps of the next `n` lives of `run` (a new pid each), polled from the status file.
fn up_stamps(svc: &Path, n: usize, timeout: Duration) -> Vec<f64> {
    let mut seen: Vec<(u64, f64)> = Vec::new();
    wait_until(timeout, || {
        if let Some(st) = status(svc) {
            if st.is_up() && seen.last().map_or(true, |l| l.0 != st.pid) {
                seen.push((st.pid, secs(st.stamp)));
            }
        }
        seen.len() >= n
    });
    seen.into_iter().map(|s| s.1).collect()
}

/// `restart-delay 1200 4800`: a service that dies at once is started again after 1.2 s, then
/// 2.4 s, then 4.8 s (each gap measured between the up stamps of successive lives, which last
/// 0.3 s each).
#[test]
fn restart_delay_doubles() {
    let t = TempDir::new("beyond-delay");
    let svc = t.join("svc");
    make_service(&svc, "sleep 0.3; exit 3");
    std::fs::write(svc.join("restart-delay"), "1200 4800\n").unwrap();
    let _sup = start_supervisor(Impl::Ours, &svc);
    let ups = up_stamps(&svc, 4, Duration::from_secs(30));
    assert_eq!(ups.len(), 4, "{ups:?}");
    let gaps: Vec<f64> = ups.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, want) in gaps.iter().zip([1.2, 2.4, 4.8]) {
        assert!(*gap >= want + 0.25 && *gap < want + 1.0, "gaps {gaps:?}, want {want} + 0.3");
    }
    let m = std::fs::read_to_string(svc.join("supervise/merit-state")).unwrap();
    assert!(m.starts_with("merit-state 1\nfailed 0\n"), "{m}");
}

/// Without the new files, s6's one-second rule alone (and no merit-state file).
#[test]
fn without_the_files_restart_is_s6s() {
    let t = TempDir::new("beyond-plain");
    let svc = t.join("svc");
    make_service(&svc, "sleep 0.3; exit 3");
    let _sup = start_supervisor(Impl::Ours, &svc);
    let ups = up_stamps(&svc, 3, Duration::from_secs(15));
    assert_eq!(ups.len(), 3, "{ups:?}");
    for w in ups.windows(2) {
        assert!(w[1] - w[0] < 1.9, "{ups:?}");
    }
    assert!(!svc.join("supervise/merit-state").exists());
}

/// `restart-limit 3 30`: the third death within 30 s gives up. The supervisor still answers,
/// the real s6-svstat shows the service down and not wanted up, `service list` says `failed`,
/// `service NAME status` says why, `--json` too; `s6-svc -u` clears it.
#[test]
fn restart_limit_gives_up() {
    let mut t = Tree::new("beyond-limit");
    t.add("crashy", Spec { exec: Some("exit 3".into()), ..Default::default() });
    std::fs::write(t.def("crashy").join("restart-limit"), "3 30\n").unwrap();
    t.enable("crashy");
    t.install("crashy");
    t.boot(Impl::Ours, &[]);
    let svc = t.svc("crashy");
    let failed = || {
        std::fs::read(svc.join("supervise/merit-state"))
            .ok()
            .and_then(|b| merit_core::backoff::MeritState::decode(&b).ok())
            .is_some_and(|m| m.failed)
    };
    assert!(
        wait_until(Duration::from_secs(20), || failed() && status(&svc).is_some_and(|s| !s.is_up())),
        "never gave up"
    );
    let st = status(&svc).unwrap();
    assert!(!st.is_up() && !st.wantup, "{st:?}");
    // Stays down: no fourth life.
    std::thread::sleep(Duration::from_millis(1500));
    let st2 = status(&svc).unwrap();
    assert!(!st2.is_up() && st2.stamp == st.stamp, "restarted after giving up: {st2:?}");
    // Still supervised and answering.
    assert!(t.svok("crashy"));
    let (out, code) = t.svstat(&["-n"], "crashy");
    assert!(out.starts_with("down (exitcode 3) ") && !out.contains("want up"), "{out}");
    assert_eq!(code, 0);
    let list = t.service(&["list"]);
    assert!(list.out.contains("\ncrashy             failed              enabled\n"), "{}", list.out);
    let r = t.service(&["crashy", "status"]);
    let mut lines = r.out.lines();
    assert!(lines.next().is_some_and(|l| l.starts_with("down (exitcode 3) ")), "{}", r.out);
    assert_eq!(lines.next(), Some("failed: 3 deaths in 30 s, last exit code 3"), "{}", r.out);
    assert_eq!(r.code, 3);
    let j = t.service(&["--json", "crashy", "status"]);
    assert!(
        j.out.contains("\"status\":\"failed\"")
            && j.out.contains(",\"failed\":\"failed: 3 deaths in 30 s, last exit code 3\",\"restart_delay_ms\":0,"),
        "{}",
        j.out
    );
    // s6-svc -u clears it: a run that lives now comes up.
    write_exec(&svc.join("run"), "#!/bin/sh\nexec sleep 100000\n");
    let st = std::process::Command::new(ours("s6-svc")).args(["-u"]).arg(&svc).status().unwrap();
    assert!(st.success());
    assert!(wait_until(PROMPT, || status(&svc).is_some_and(|s| s.is_up())));
    assert!(wait_until(PROMPT, || !failed()));
    let list = t.service(&["list"]);
    assert!(list.out.contains("\ncrashy             up                  enabled\n"), "{}", list.out);
    let r = t.service(&["crashy", "status"]);
    assert_eq!(r.out.lines().count(), 1, "{}", r.out);
    t.shutdown();
}

/// The policy files are read again at `s6-svc -u`: a `restart-limit` added to a crash-looping
/// service takes effect there (it gives up after 2 deaths), and one removed there stops the
/// giving up (the service restarts past the old limit), without restarting the supervisor.
#[test]
fn policy_files_are_read_again_at_up() {
    let mut t = Tree::new("beyond-reread");
    // Each life leaves a line in `lives` (run's working directory is the service directory).
    t.add("crashy", Spec { exec: Some("echo x >> lives; exit 3".into()), ..Default::default() });
    t.enable("crashy");
    t.install("crashy");
    t.boot(Impl::Ours, &[]);
    let svc = t.svc("crashy");
    let failed = || {
        std::fs::read(svc.join("supervise/merit-state"))
            .ok()
            .and_then(|b| merit_core::backoff::MeritState::decode(&b).ok())
            .is_some_and(|m| m.failed)
    };
    let lives = || std::fs::read_to_string(svc.join("lives")).map(|s| s.lines().count()).unwrap_or(0);
    // Crash-looping, no policy: no merit-state, never gives up.
    assert!(wait_until(PROMPT, || lives() >= 2));
    assert!(!svc.join("supervise/merit-state").exists());
    std::fs::write(svc.join("restart-limit"), "2 30\n").unwrap();
    let up = |svc: &Path| {
        let st = std::process::Command::new(ours("s6-svc")).args(["-u"]).arg(svc).status().unwrap();
        assert!(st.success());
    };
    up(&svc);
    assert!(
        wait_until(Duration::from_secs(20), || failed() && status(&svc).is_some_and(|s| !s.is_up() && !s.wantup)),
        "the added restart-limit did not apply"
    );
    assert!(t.svok("crashy"));
    // Removed: `u` clears the failure and the service loops again past 2 deaths.
    std::fs::remove_file(svc.join("restart-limit")).unwrap();
    let before = lives();
    up(&svc);
    assert!(wait_until(PROMPT, || !svc.join("supervise/merit-state").exists()), "merit-state left");
    assert!(wait_until(Duration::from_secs(20), || lives() >= before + 4), "stopped restarting after {}", lives());
    assert!(status(&svc).unwrap().wantup);
    t.shutdown();
}

// ------------------------------------------------------------------------------------------
// notify-socket

const SYSTEMD_NOTIFY: &str = "/usr/bin/systemd-notify";

/// Whether the real systemd-notify is here (installed by .ci/run; required under CI).
fn have_systemd_notify() -> bool {
    Path::new(SYSTEMD_NOTIFY).exists() || !cannot_run("notify-socket tests", "/usr/bin/systemd-notify is not installed")
}

/// Starts our s6-supervise on `svc` with its stderr kept in `err`.
fn supervise_logged(svc: &Path, err: &Path) -> Daemon {
    let mut cmd = command(ours("s6-supervise"));
    cmd.arg(svc.file_name().unwrap())
        .current_dir(svc.parent().unwrap())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(err).unwrap());
    let d = Daemon::spawn(cmd);
    assert!(wait_until(PROMPT, || merit_sys::lock::supervisor_running(svc).unwrap_or(false) && status(svc).is_some()));
    d
}

fn merit_state(svc: &Path) -> merit_core::backoff::MeritState {
    std::fs::read(svc.join("supervise/merit-state"))
        .ok()
        .and_then(|b| merit_core::backoff::MeritState::decode(&b).ok())
        .unwrap_or_default()
}

/// `systemd-notify --status=` and `--ready` from the run script (after a second): `service
/// start` waits for READY=1, `s6-svwait -U` (ours and the real one) return on it, `service
/// status` and `--json` show the STATUS text; `MAINPID=` from the service is accepted.
#[test]
fn systemd_notify_from_the_run_script() {
    if !have_systemd_notify() {
        return;
    }
    let mut t = Tree::new("beyond-notify");
    let pre = format!(
        "sleep 1\n{n} --status='listening on :80'\n{n} ERRNO=110\n{n} MAINPID=$$\n{n} --ready",
        n = SYSTEMD_NOTIFY
    );
    t.add("web", Spec { pre, ..Default::default() });
    std::fs::write(t.def("web").join("notify-socket"), "").unwrap();
    t.boot(Impl::Ours, &[]);
    let started = std::time::Instant::now();
    t.service(&["start", "web"]).ok("Starting web... OK\n");
    assert!(started.elapsed() >= Duration::from_millis(900), "start did not wait for READY=1");
    let svc = t.svc("web");
    let st = status(&svc).unwrap();
    assert!(st.is_up() && st.ready, "{st:?}");
    let r = t.service(&["web", "status"]);
    let lines: Vec<&str> = r.out.lines().collect();
    assert!(lines[0].starts_with(&format!("up (pid {}) ", st.pid)), "{}", r.out);
    let errno = format!("errno: 110 ({})", merit_sys::strerror(&std::io::Error::from_raw_os_error(110)));
    assert_eq!(
        &lines[1..],
        ["notify: ready", "status: listening on :80", &errno, &format!("main pid: {}", st.pid)],
        "{}",
        r.out
    );
    let j = t.service(&["--json", "web", "status"]);
    assert!(
        j.out.contains(&format!(
            ",\"notify\":\"ready\",\"notify_status\":\"listening on :80\",\"notify_errno\":110,\"main_pid\":{},\"cgroup\":null,\
             \"cgroup_left\":null,\"memory_current\":null,\"pids_current\":null,\"cpu_usec\":null}}",
            st.pid
        )),
        "{}",
        j.out
    );
    // Down, then up: s6-svwait -U, ours and the real one, return when READY=1 comes again.
    let svc_cmd = |b: std::path::PathBuf, args: &[&str]| {
        let st = std::process::Command::new(b).args(args).arg(&svc).status().unwrap();
        assert!(st.success(), "{args:?}");
    };
    svc_cmd(ours("s6-svc"), &["-wD", "-T", "10000", "-d"]);
    let mut waiters: Vec<_> = [ours("s6-svwait")]
        .into_iter()
        .chain(have_real_s6().then(|| real("s6-svwait")))
        .map(|b| std::process::Command::new(b).args(["-U", "-t", "20000"]).arg(&svc).spawn().unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    svc_cmd(ours("s6-svc"), &["-u"]);
    for w in &mut waiters {
        assert!(w.wait().unwrap().success());
    }
    assert!(started.elapsed() >= Duration::from_millis(900), "s6-svwait -U returned before READY=1");
    // Ours s6-svc -wU too (the real one needs a notification-fd file: see below).
    svc_cmd(ours("s6-svc"), &["-wD", "-T", "10000", "-d"]);
    let started = std::time::Instant::now();
    svc_cmd(ours("s6-svc"), &["-wU", "-T", "20000", "-u"]);
    assert!(started.elapsed() >= Duration::from_millis(900), "s6-svc -wU returned before READY=1");
    assert!(status(&svc).unwrap().ready);
    t.shutdown();
}

/// READY=1 from a child of run (a background subshell), and the real `s6-svc -wU` on a
/// service that also has a notification-fd file (the real s6-svc checks for it).
#[test]
fn systemd_notify_from_a_child_and_real_svc_wu() {
    if !have_systemd_notify() || !have_real_s6() {
        return;
    }
    let t = TempDir::new("beyond-child");
    let svc = t.join("svc");
    make_service(&svc, &format!("( sleep 1; {SYSTEMD_NOTIFY} --ready ) &\nexec sleep 100000"));
    std::fs::write(svc.join("notify-socket"), "").unwrap();
    std::fs::write(svc.join("notification-fd"), "3\n").unwrap();
    let _sup = supervise_logged(&svc, &t.join("err"));
    assert!(wait_until(PROMPT, || status(&svc).is_some_and(|s| s.is_up() && s.ready)));
    let st = std::process::Command::new(real("s6-svc")).args(["-wD", "-T", "20000", "-d"]).arg(&svc).status().unwrap();
    assert!(st.success());
    let started = std::time::Instant::now();
    let st = std::process::Command::new(real("s6-svc")).args(["-wU", "-T", "20000", "-u"]).arg(&svc).status().unwrap();
    assert!(st.success() && started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    let s = status(&svc).unwrap();
    assert!(s.is_up() && s.ready);
    assert_eq!(merit_state(&svc).notify, Some(merit_core::backoff::NotifyPhase::Ready));
}

/// Malformed datagrams and a MAINPID= from a process that is not the service's are ignored
/// with a warning; the supervisor goes on, and a later READY=1 counts.
#[test]
fn bad_datagrams_are_ignored() {
    let t = TempDir::new("beyond-bad");
    let svc = t.join("svc");
    make_service(&svc, "exec sleep 100000");
    std::fs::write(svc.join("notify-socket"), "").unwrap();
    let err = t.join("err");
    let _sup = supervise_logged(&svc, &err);
    assert!(wait_until(PROMPT, || status(&svc).is_some_and(|s| s.is_up())));
    let sock = std::os::unix::net::UnixDatagram::unbound().unwrap();
    let to = svc.join("supervise/notify");
    for d in [&b"READY=1\0x"[..], b"garbage", &vec![b'a'; 5000], b"MAINPID=4242\nSTATUS=hello\n"] {
        sock.send_to(d, &to).unwrap();
    }
    let e = || std::fs::read_to_string(&err).unwrap_or_default();
    assert!(wait_until(PROMPT, || e().contains("MAINPID=4242")), "{}", e());
    let e = e();
    assert!(
        e.contains("warning: ignoring a malformed notification from pid ") && e.contains("NUL byte at offset 7"),
        "{e}"
    );
    assert!(e.contains("line 1 is not KEY=VALUE"), "{e}");
    assert!(e.contains("datagram of 5000 bytes"), "{e}");
    assert!(
        e.contains(&format!(
            "warning: ignoring MAINPID=4242 from pid {}: not a process of the service",
            std::process::id()
        )),
        "{e}"
    );
    assert!(!status(&svc).unwrap().ready, "a malformed READY=1 counted");
    let m = merit_state(&svc);
    assert_eq!((m.status.as_deref(), m.mainpid), (Some("hello"), None));
    sock.send_to(b"READY=1", &to).unwrap();
    assert!(wait_until(PROMPT, || status(&svc).is_some_and(|s| s.ready)));
}

/// `watchdog-timeout`: a run that stops pinging is restarted; one that pings is left alone.
#[test]
fn watchdog_restarts_a_silent_service() {
    if !have_systemd_notify() {
        return;
    }
    let t = TempDir::new("beyond-watchdog");
    let quiet = t.join("quiet");
    make_service(&quiet, &format!("{SYSTEMD_NOTIFY} --ready\nexec sleep 100000"));
    let pinging = t.join("pinging");
    make_service(
        &pinging,
        &format!("{SYSTEMD_NOTIFY} --ready\nwhile :; do {SYSTEMD_NOTIFY} WATCHDOG=1; sleep 0.2; done"),
    );
    for s in [&quiet, &pinging] {
        std::fs::write(s.join("notify-socket"), "").unwrap();
        std::fs::write(s.join("watchdog-timeout"), "1500\n").unwrap();
    }
    let _a = supervise_logged(&quiet, &t.join("err-quiet"));
    let _b = supervise_logged(&pinging, &t.join("err-pinging"));
    assert!(wait_until(PROMPT, || [&quiet, &pinging].iter().all(|s| status(s).is_some_and(|s| s.is_up()))));
    let (q0, p0) = (status(&quiet).unwrap().pid, status(&pinging).unwrap().pid);
    assert!(wait_until(PROMPT, || status(&quiet).is_some_and(|s| s.is_up() && s.pid != q0)), "not restarted");
    assert_eq!(status(&pinging).unwrap().pid, p0, "a pinging service was restarted");
    let e = std::fs::read_to_string(t.join("err-quiet")).unwrap();
    assert!(e.contains("warning: no WATCHDOG=1 within watchdog-timeout: restarting the service"), "{e}");
}

// ------------------------------------------------------------------------------------------
// A cgroup per service

/// The pids whose command line is exactly `words`.
fn pids_running(words: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = words.iter().flat_map(|w| w.bytes().chain([0])).collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == want))
        .collect()
}

/// A daemon that double-forks (its grandchild, in a session of its own, outlives run) is fully
/// stopped by `service stop` when the service has a `cgroup` file: everything left in its
/// cgroup is killed once run has died, and `service status` says how many were left.
///
/// Needs root and a writable cgroup2 hierarchy (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified`
/// on hybrid hosts): skipped otherwise, CI included (its runners may not have one; the QEMU
/// boot is where cgroup2 is guaranteed).
#[test]
fn cgroup_stops_a_double_forking_daemon() {
    if !is_root("cgroup per service") {
        return;
    }
    let mount = match merit_sys::cgroup::find(Path::new("/")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("SKIP: cgroup per service: {e}");
            return;
        }
    };
    let mut t = Tree::new("beyond-cgroup");
    let tag = format!("{}", 7_000_000 + std::process::id() % 1_000_000);
    let pre = format!("( setsid sleep {tag} & )");
    t.add("dfork", Spec { pre, ..Default::default() });
    std::fs::write(t.def("dfork").join("cgroup"), "").unwrap();
    let base = format!("merit-test-{}", std::process::id());
    let mut cmd = command(ours("s6-svscan"));
    cmd.arg(t.scan())
        .env("MERIT_CGROUP_BASE", &base)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    t.scanner = Some((Daemon::spawn(cmd), Impl::Ours));
    assert!(wait_until(PROMPT, || t.scan().join(".s6-svscan/control").exists()));
    std::thread::sleep(Duration::from_millis(200));
    t.service(&["start", "dfork"]).ok("Starting dfork... OK\n");
    assert!(wait_until(PROMPT, || pids_running(&["sleep", &tag]).len() == 1), "the grandchild did not start");
    let cg = mount.join(&base).join("dfork");
    let procs = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap();
    assert_eq!(procs.lines().count(), 2, "run and its grandchild in the cgroup: {procs}");
    let r = t.service(&["dfork", "status"]);
    assert!(r.out.lines().nth(1).is_some_and(|l| l.starts_with(&format!("cgroup: {}", cg.display()))), "{}", r.out);
    t.service(&["stop", "dfork"]).ok("Stopping dfork... OK\n");
    assert!(wait_until(PROMPT, || pids_running(&["sleep", &tag]).is_empty()), "the grandchild outlived stop");
    let r = t.service(&["dfork", "status"]);
    assert!(r.out.contains("\nleft behind at the last stop: 1 processes, killed\n"), "{}", r.out);
    let j = t.service(&["--json", "dfork", "status"]);
    assert!(j.out.contains(",\"cgroup_left\":1,"), "{}", j.out);
    t.shutdown();
    let _ = std::fs::remove_dir(&cg);
    let _ = std::fs::remove_dir(mount.join(&base));
}

/// Without a cgroup file, a double-forking daemon's grandchild survives stop, as under s6.
#[test]
fn without_cgroup_file_leftovers_survive() {
    let t = TempDir::new("beyond-nocg");
    let svc = t.join("svc");
    let tag = format!("{}", 8_000_000 + std::process::id() % 1_000_000);
    make_service(&svc, &format!("( setsid sleep {tag} & )\nexec sleep 100000"));
    let _sup = start_supervisor(Impl::Ours, &svc);
    assert!(wait_until(PROMPT, || pids_running(&["sleep", &tag]).len() == 1));
    let st = std::process::Command::new(ours("s6-svc")).args(["-wD", "-T", "10000", "-d"]).arg(&svc).status().unwrap();
    assert!(st.success());
    std::thread::sleep(Duration::from_millis(300));
    let left = pids_running(&["sleep", &tag]);
    assert_eq!(left.len(), 1);
    for p in left {
        let _ = merit_sys::signal::kill(p, merit_sys::signal::SIGKILL);
    }
    assert!(!svc.join("supervise/merit-state").exists());
}

/// A limit the kernel refuses is warned with the file and the value, and the service still
/// starts; without a usable cgroup2 hierarchy (not root, v1 only, read-only) the supervisor
/// warns once and runs the service as s6 does.
#[test]
fn refused_limit_or_no_cgroup_warns_and_runs() {
    let t = TempDir::new("beyond-limit-file");
    let svc = t.join("svc");
    make_service(&svc, "exec sleep 100000");
    std::fs::write(svc.join("pids-max"), "lots\n").unwrap();
    let err = t.join("err");
    let base = format!("merit-test-lim-{}", std::process::id());
    let mut cmd = command(ours("s6-supervise"));
    cmd.arg("svc")
        .current_dir(t.path())
        .env("MERIT_CGROUP_BASE", &base)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let sup = Daemon::spawn(cmd);
    assert!(wait_until(PROMPT, || status(&svc).is_some_and(|s| s.is_up())), "the service did not start");
    let e = std::fs::read_to_string(&err).unwrap();
    let usable = merit_sys::cgroup::find(Path::new("/"));
    match &usable {
        Ok(mount) => {
            let cg = mount.join(&base).join("svc");
            assert!(
                e.contains(&format!(
                    "s6-supervise svc: warning: unable to set pids-max to \"lots\" ({}/pids.max): ",
                    cg.display()
                )) && e.contains("; the service runs without this limit\n"),
                "{e}"
            );
        }
        Err(why) => assert!(
            e.contains(&format!(
                "s6-supervise svc: warning: no usable cgroup2 hierarchy ({why}): running the service without its own cgroup\n"
            )),
            "{e}"
        ),
    }
    assert_eq!(e.lines().count(), 1, "one warning: {e}");
    drop(sup);
    if let Ok(mount) = usable {
        kill_processes_under(t.path());
        let cg = mount.join(&base).join("svc");
        assert!(wait_until(PROMPT, || std::fs::remove_dir(&cg).is_ok() || !cg.exists()));
        let _ = std::fs::remove_dir(mount.join(&base));
    }
}

/// The same in a PID namespace booted by our init (where the host has a writable cgroup2):
/// init mounts cgroup2 on ROOT/sys/fs/cgroup (nothing is mounted there in the new mount
/// namespace), the supervisor makes the service's cgroup below it, and `service stop` from
/// inside the namespace leaves nothing of the double-forking daemon.
/// Mere's rc.init mounts a tmpfs over /sys/fs/cgroup (for its cgroup v1 hierarchies) after
/// init mounted cgroup2 there. A supervisor started then (in a private mount namespace here:
/// the host keeps its mounts) finds the cgroup2 hierarchy that mountinfo lists covered, says
/// so, and runs its service without a cgroup: no directory made in that tmpfs, no merit-state
/// cgroup. (Before, it made /sys/fs/cgroup/merit/NAME in the tmpfs and failed on its
/// cgroup.procs.)
#[test]
fn a_covered_cgroup2_hierarchy_is_not_used() {
    if !can_unshare("a covered cgroup2 hierarchy") {
        return;
    }
    if let Err(e) = merit_sys::cgroup::find(Path::new("/")) {
        eprintln!("SKIP: a covered cgroup2 hierarchy: {e}");
        return;
    }
    let t = TempDir::new("beyond-covered");
    let svc = t.join("svc");
    make_service(&svc, "echo started > started\nexec sleep 100000");
    std::fs::write(svc.join("cgroup"), "").unwrap();
    let script = "mount -t tmpfs cgroupfs /sys/fs/cgroup || exit 1\n\"$0\" svc\n\
                  ls -A /sys/fs/cgroup > cgroup-listing";
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(ours("s6-supervise"))
        .current_dir(t.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(t.join("err")).unwrap());
    let mut d = Daemon::spawn(cmd);
    let err = || std::fs::read_to_string(t.join("err")).unwrap_or_default();
    assert!(wait_until(PROMPT, || svc.join("started").exists()), "{}", err());
    let st = std::process::Command::new(ours("s6-svc")).args(["-dx"]).arg(&svc).status().unwrap();
    assert!(st.success());
    assert!(d.wait_timeout(Duration::from_secs(10)).is_some_and(|s| s.success()), "{}", err());
    let e = err();
    assert!(e.contains("is covered by another mount): running the service without its own cgroup"), "{e}");
    assert_eq!(std::fs::read_to_string(t.join("cgroup-listing")).unwrap(), "", "made in the tmpfs");
    let m = std::fs::read(svc.join("supervise/merit-state"))
        .ok()
        .and_then(|b| merit_core::backoff::MeritState::decode(&b).ok());
    assert!(m.as_ref().map_or(true, |m| m.cgroup.is_none()), "{m:?}");
}

#[test]
fn cgroup_in_a_pid_namespace() {
    use crate::initns::*;
    if !can_unshare("a cgroup per service in a PID namespace") {
        return;
    }
    if let Err(e) = merit_sys::cgroup::find(Path::new("/")) {
        eprintln!("SKIP: a cgroup per service in a PID namespace: {e}");
        return;
    }
    let t = TempDir::new("beyond-cgns");
    let root = t.path().to_path_buf();
    skeleton(&root);
    let base = format!("merit-test-ns-{}", std::process::id());
    std::fs::write(root.join("etc/s6/env/MERIT_CGROUP_BASE"), format!("{base}\n")).unwrap();
    for d in ["sys", "proc", "dev"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let tag = format!("{}", 6_000_000 + std::process::id() % 1_000_000);
    let d = service(&root, "dfork", &format!("( setsid sleep {tag} & )\nexec sleep 100000"));
    std::fs::write(d.join("cgroup"), "").unwrap();
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["dfork"]);
    assert!(wait_until(PROMPT, || pids_running(&["sleep", &tag]).len() == 1), "the grandchild did not start");
    let out = b.nsenter(&[ours("service").to_str().unwrap(), "dfork", "status"]);
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(status.lines().any(|l| l.starts_with("cgroup: ") && l.contains(&base)), "{status}\n{}", b.console_text());
    let out = b.nsenter(&[ours("service").to_str().unwrap(), "stop", "dfork"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Stopping dfork... OK\n", "{out:?}");
    assert!(wait_until(PROMPT, || pids_running(&["sleep", &tag]).is_empty()), "the grandchild outlived stop");
    b.halt_cleanly("cgroup test");
    if let Ok(m) = merit_sys::cgroup::find(Path::new("/")) {
        let _ = std::fs::remove_dir(m.join(&base).join("dfork"));
        let _ = std::fs::remove_dir(m.join(&base));
    }
}
