//! Container mode: our `init --container` (or MERIT_CONTAINER=1) as PID 1 of
//! `unshare --fork --pid --mount --mount-proc`. The main service (a `merit-main` file in its
//! directory) decides the exit status; SIGTERM to PID 1 stops everything within the grace
//! period and exits 0; `--log-stdout` sends service output to init's stdout; orphans are
//! reaped (no zombie survives).

use crate::common::*;
use crate::initns::*;
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn main_service(root: &std::path::Path, body: &str) {
    let d = service(root, "main", body);
    std::fs::write(d.join("merit-main"), "").unwrap();
    finish_recorder(root, "main");
}

/// The main service exits 3 after a moment: the others are stopped (the logged one's last
/// line reaches its log) and the namespace's PID 1 exits 3, which unshare passes on.
/// Container mode comes from the root's `/.dockerenv` here (the flag and MERIT_CONTAINER=1
/// are used by the other tests).
#[test]
fn main_service_exit_code_becomes_the_containers() {
    let Some((_t, root)) = ns_root("ctr-main") else { return };
    skeleton(&root);
    main_service(&root, "sleep 1\nexit 3");
    service(&root, "web", &chatty("web"));
    logger(&root, "web");
    service(&root, "worker", "exec sleep 100000");
    finish_recorder(&root, "worker");
    // No flag: detected as a container by the root's /.dockerenv, as Docker makes it.
    std::fs::write(root.join(".dockerenv"), "").unwrap();
    let mut b = boot(&root, Boot::default());
    let st = b.wait_end(Duration::from_secs(30)).expect("the container did not end");
    let console = b.console_text();
    assert_eq!(st.code(), Some(3), "{st:?}\n{console}");
    assert_eq!(
        finished(&root, "main").iter().map(|f| (f.0, f.1)).collect::<Vec<_>>(),
        vec![(3, 0)],
        "main ran once, its own finish too"
    );
    assert_eq!(
        finished(&root, "worker").iter().map(|f| (f.0, f.1)).collect::<Vec<_>>(),
        vec![(256, 15)],
        "worker stopped by SIGTERM"
    );
    let log = assert_last_line(&root, "web");
    assert!(log.contains("web line 3\n"), "web log: {log:?}");
    assert_nothing_under(&root);
}

/// SIGTERM to the namespace's PID 1 (from the host): every service stops, the one ignoring
/// SIGTERM is killed when the grace period (MERIT_GRACE=3) ends; exit status 0, although the
/// main service died of a signal.
#[test]
fn sigterm_stops_everything_within_the_grace_period() {
    let Some((_t, root)) = ns_root("ctr-term") else { return };
    skeleton(&root);
    main_service(&root, "exec sleep 100000");
    service(&root, "stubborn", STUBBORN);
    finish_recorder(&root, "stubborn");
    service(&root, "polite", &chatty("polite"));
    logger(&root, "polite");
    let mut b = boot(&root, Boot { env: &[("MERIT_CONTAINER", "1"), ("MERIT_GRACE", "3")], ..Boot::default() });
    b.wait_up(&["main", "stubborn", "polite"]);
    let started = Instant::now();
    let _ = merit_sys::signal::kill(b.pid1, merit_sys::signal::SIGTERM);
    let st = b.wait_end(Duration::from_secs(30)).expect("the container did not end after SIGTERM");
    let took = started.elapsed();
    let console = b.console_text();
    assert_eq!(st.code(), Some(0), "{st:?}\n{console}");
    assert!(took >= Duration::from_millis(2800), "ended after {took:?}, before the grace period");
    assert!(took < Duration::from_secs(8), "SIGTERM took {took:?} (grace 3 s)");
    assert_eq!(finished(&root, "stubborn").iter().map(|f| (f.0, f.1)).collect::<Vec<_>>(), vec![(256, 9)]);
    assert_eq!(finished(&root, "main").iter().map(|f| (f.0, f.1)).collect::<Vec<_>>(), vec![(256, 15)]);
    assert_last_line(&root, "polite");
    assert_nothing_under(&root);
}

/// `--log-stdout`: no catch-all logger, the output of a service without a logger appears on
/// init's stdout. Services that leave orphans behind (double-forked `sleep`s, some exiting
/// and restarted every second) leave no zombie: none is seen twice, 100 ms apart, over 4 s.
#[test]
fn log_stdout_and_no_zombies() {
    let Some((_t, root)) = ns_root("ctr-zomb") else { return };
    skeleton(&root);
    service(&root, "talker", "i=0\nwhile :; do i=$((i+1)); echo \"talker says hello $i\"; sleep 0.1; done");
    service(&root, "orphaner", "while :; do (sleep 0.1 &); (sleep 0.05 &); (exec sleep 0.02 &); sleep 0.05; done");
    service(&root, "quitter", "(sleep 0.2 &); (sleep 0.3 &); sleep 0.1; exit 0");
    let mut b = boot(&root, Boot { args: &["--container", "--log-stdout"], ..Boot::default() });
    b.wait_up(&["talker", "orphaner"]);
    assert!(!root.join("s6/run/s6-svscan-log").exists(), "--log-stdout: no catch-all logger");

    let mut previous: HashSet<i32> = HashSet::new();
    let mut seen = 0usize;
    let mut samples = 0;
    let end = Instant::now() + Duration::from_secs(4);
    while Instant::now() < end {
        let now: HashSet<i32> = b.zombies().into_iter().map(|z| z.0).collect();
        let stuck: Vec<&i32> = now.intersection(&previous).collect();
        assert!(stuck.is_empty(), "zombies not reaped within 100 ms: {stuck:?} (zombies now: {:?})", b.zombies());
        seen += now.len();
        samples += 1;
        previous = now;
        std::thread::sleep(Duration::from_millis(100));
    }
    let names: Vec<String> = b
        .processes()
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).ok())
        .map(|c| c.trim().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "sleep"), "the orphaners are running: {names:?}");
    assert!(!names.iter().any(|n| n == "s6-log"), "no logger: {names:?}");
    eprintln!("zombie samples: {samples}, transient zombies seen: {seen}");

    let _ = merit_sys::signal::kill(b.pid1, merit_sys::signal::SIGTERM);
    let st = b.wait_end(Duration::from_secs(30)).expect("the container did not end after SIGTERM");
    let console = b.console_text();
    assert_eq!(st.code(), Some(0), "{st:?}\n{console}");
    assert!(console.contains("talker says hello 3\n"), "service output on init's stdout:\n{console}");
    assert_nothing_under(&root);
}

/// Outside PID 1 (a host running `init --container` from merit.service, or a tree in a folder)
/// init leaves the hostname alone even when /etc/hostname says otherwise: it is the host's.
/// (It used to set it.) In a UTS namespace of its own, so that a regression cannot rename
/// the machine running the tests.
#[test]
fn outside_pid1_the_hostname_is_left_alone() {
    if !can_unshare("container mode in a UTS namespace") {
        return;
    }
    let t = TempDir::new("ctr-hostname");
    let root = t.path().to_path_buf();
    skeleton(&root);
    service(&root, "a", "exec sleep 100000");
    std::fs::write(root.join("etc/hostname"), "from-etc-hostname\n").unwrap();
    let console = root.join("console.out");
    let out = std::fs::File::create(&console).unwrap();
    let mut cmd = command("unshare");
    cmd.args(["--uts", "--", "sh", "-c", "hostname before-init && exec \"$0\" --container --root \"$1\""])
        .arg(ours("init"))
        .arg(&root)
        .env_remove("container")
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    let mut d = Daemon::spawn(cmd);
    let status = root.join("s6/run/a/supervise/status");
    let up = wait_until(PROMPT, || {
        std::fs::read(&status).ok().and_then(|b| merit_core::status::StatusFile::decode(&b)).is_some_and(|s| s.pid != 0)
    });
    let console_text = || std::fs::read_to_string(&console).unwrap_or_default();
    assert!(up, "service a never came up\n{}", console_text());
    let name = std::process::Command::new("nsenter")
        .args(["--target", &d.pid().to_string(), "--uts", "cat", "/proc/sys/kernel/hostname"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&name.stdout), "before-init\n", "{}", console_text());
    d.signal(merit_sys::signal::SIGTERM);
    assert!(d.wait_timeout(Duration::from_secs(20)).is_some(), "init did not stop\n{}", console_text());
    assert!(processes_under(&root).is_empty(), "left: {:?}", processes_under(&root));
}
