//! Faults around `init` as PID 1 of a PID namespace: services that ignore SIGTERM at shutdown
//! (killed after their `timeout-kill`, or after the global grace period), an `rc.init` that
//! fails or is missing, and the scanner failing internally (the crash path), provoked from
//! outside: no test-only switch in the programs.

mod common;
mod initns;

use common::*;
use initns::*;
use std::time::{Duration, Instant};

/// MERIT_GRACE=2: `tk` ignores SIGTERM but has timeout-kill 300 ms (its supervisor kills it);
/// `stubborn` ignores SIGTERM with no timeout-kill (init kills it when the grace period ends);
/// `polite` stops at once. The whole shutdown ends soon after the grace period.
#[test]
fn services_ignoring_term_are_killed_at_shutdown() {
    if !can_unshare() {
        return;
    }
    let t = TempDir::new("init-stubborn");
    let root = t.path().to_path_buf();
    skeleton(&root);
    let tk = service(&root, "tk", STUBBORN);
    std::fs::write(tk.join("timeout-kill"), "300\n").unwrap();
    service(&root, "stubborn", STUBBORN);
    service(&root, "polite", &chatty("polite"));
    logger(&root, "polite");
    for n in ["tk", "stubborn", "polite"] {
        finish_recorder(&root, n);
    }
    let mut b = boot(&root, Boot { env: &[("MERIT_GRACE", "2")], ..Boot::default() });
    b.wait_up(&["tk", "stubborn", "polite"]);
    let t0 = now_ms();
    let started = Instant::now();
    b.telinit("0");
    let st = b.wait_end(Duration::from_secs(30)).expect("init did not end");
    let took = started.elapsed();
    let console = b.console_text();
    assert_halted(&st, &console);

    let one = |n: &str| {
        let f = finished(&root, n);
        assert_eq!(f.len(), 1, "{n}: {f:?}\n{console}");
        f[0]
    };
    let (code, sig, at) = one("tk");
    assert_eq!((code, sig), (256, 9), "tk: SIGKILLed by its supervisor");
    assert!(at - t0 < 1500, "tk killed {} ms after telinit (timeout-kill 300)", at - t0);
    let (code, sig, at) = one("stubborn");
    assert_eq!((code, sig), (256, 9), "stubborn: SIGKILLed at the end of the grace period");
    assert!(at - t0 >= 1800, "stubborn killed after {} ms, before the grace period (2 s) ended", at - t0);
    assert!(at - t0 < 4500, "stubborn killed only after {} ms (grace 2 s)", at - t0);
    let (code, sig, _) = one("polite");
    assert_eq!((code, sig), (0, 0), "polite exits 0 on its SIGTERM trap");
    assert!(console.contains("stubborn did not stop within 2000 ms: killing it"), "{console}");
    assert!(!console.contains("/tk did not stop"), "tk was the supervisor's to kill:\n{console}");
    assert!(took < Duration::from_secs(12), "shutdown took {took:?}");
    assert!(std::fs::read_to_string(root.join("var/log/polite")).unwrap().ends_with("polite last line\n"));
    assert!(processes_under(&root).is_empty(), "processes left: {:?}", processes_under(&root));
}

/// rc.init exits 1 at once: the scanner still runs its init-services, and the system shuts
/// down cleanly.
#[test]
fn failing_rc_init_does_not_stop_the_boot() {
    if !can_unshare() {
        return;
    }
    let t = TempDir::new("init-rcfail");
    let root = t.path().to_path_buf();
    skeleton(&root);
    write_exec(&root.join("etc/s6/rc.init"), "#!/bin/sh\necho rc.init failing\nexit 1\n");
    // A service of the scanner's own (init-services), and an enabled one that rc.init never
    // gets to copy.
    let early = root.join("etc/s6/init-services/early");
    make_service(&early, "exec sleep 100000");
    service(&root, "late", "exec sleep 100000");
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["early", "s6-svscan-log"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!b.inside("s6/run/late").exists(), "rc.init failed before copying: late must not run");
    b.halt_cleanly("failing rc.init");
}

/// rc.init writes at once, before the catch-all logger has opened its FIFO (a FIFO without a
/// reader): the writes fail (EPIPE) but rc.init is not killed by SIGPIPE, and goes on.
#[test]
fn rc_init_writing_before_the_catch_all_logger_survives() {
    if !can_unshare() {
        return;
    }
    let t = TempDir::new("init-rcpipe");
    let root = t.path().to_path_buf();
    skeleton(&root);
    write_exec(
        &root.join("etc/s6/rc.init"),
        "#!/bin/sh\ni=0\nwhile [ $i -lt 200 ]; do echo \"rc.init early line $i\"; i=$((i+1)); done\n\
         echo survived > \"$MERIT_ROOT/rc-init-survived\"\n",
    );
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["s6-svscan-log"]);
    let marker = root.join("rc-init-survived");
    assert!(wait_until(PROMPT, || marker.exists()), "rc.init was killed before its end:\n{}", b.console_text());
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "survived\n");
    b.halt_cleanly("rc.init writing early");
}

/// No rc.init at all (or one that is not executable): init says so and copies the enabled
/// services itself.
#[test]
fn missing_rc_init_falls_back_to_copying_enabled_services() {
    if !can_unshare() {
        return;
    }
    for variant in ["missing", "not executable"] {
        let t = TempDir::new("init-norc");
        let root = t.path().to_path_buf();
        skeleton(&root);
        let rc = root.join("etc/s6/rc.init");
        match variant {
            "missing" => std::fs::remove_file(&rc).unwrap(),
            _ => merit_sys::system::chmod(&rc, 0o644).unwrap(),
        }
        service(&root, "a", "exec sleep 100000");
        service(&root, "b", &chatty("b"));
        logger(&root, "b");
        let mut b = boot(&root, Boot::default());
        b.wait_up(&["a", "b"]);
        let console = b.console_text();
        assert!(console.contains("copying the enabled services"), "{variant}: {console}");
        b.halt_cleanly(variant);
    }
}

/// The crash script of the test: records that it ran (and the descriptor limit it got), then
/// exits 7, which ends the namespace.
fn crash_script(root: &std::path::Path) -> std::path::PathBuf {
    let marker = root.join("crashed");
    write_exec(
        &root.join("etc/s6/init-services/.s6-svscan/crash"),
        &format!("#!/bin/sh\necho \"crash script ran, nofile $(ulimit -n)\" > {}\nexit 7\n", marker.display()),
    );
    marker
}

/// The scanner fails internally: its descriptor limit is lowered from outside (prlimit) to 1,
/// below the 2 descriptors it polls, so its next poll(2) fails with EINVAL; it then execs
/// `.s6-svscan/crash` (with the soft limit raised back so that the script can run).
#[test]
fn scanner_failing_runs_the_crash_script() {
    if !can_unshare() {
        return;
    }
    if std::process::Command::new("prlimit").arg("--version").output().is_err() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true but prlimit (util-linux) is missing");
        eprintln!("SKIP: prlimit(1) not installed");
        return;
    }
    let t = TempDir::new("init-crash");
    let root = t.path().to_path_buf();
    skeleton(&root);
    let marker = crash_script(&root);
    service(&root, "a", "exec sleep 100000");
    // --log-stdout: the scanner's warnings reach our console file, not the catch-all logger.
    let mut b = boot(&root, Boot { args: &["--log-stdout"], ..Boot::default() });
    b.wait_up(&["a"]);
    let st = std::process::Command::new("prlimit").args(["--pid", &b.pid1.to_string(), "--nofile=1:"]).status().unwrap();
    assert!(st.success());
    // Wake the scanner up (a rescan request): it comes back to poll(2) with the low limit.
    let st = b.nsenter(&[ours("s6-svscanctl").to_str().unwrap(), "-a", b.root.join("s6/run").to_str().unwrap()]);
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let st = b.wait_end(Duration::from_secs(20)).expect("the namespace did not end after the crash script");
    assert_eq!(st.code(), Some(7), "the crash script's exit status\n{}", b.console_text());
    let text = std::fs::read_to_string(&marker).unwrap_or_default();
    assert!(text.starts_with("crash script ran"), "marker: {text:?}\n{}", b.console_text());
    let console = b.console_text();
    assert!(console.contains("unable to poll: Invalid argument"), "{console}");
    assert!(console.contains("executing into .s6-svscan/crash"), "{console}");
}

/// The scanner cannot exec its finish (not executable): that too ends in the crash script.
#[test]
fn scanner_unable_to_exec_finish_runs_the_crash_script() {
    if !can_unshare() {
        return;
    }
    let t = TempDir::new("init-crash2");
    let root = t.path().to_path_buf();
    skeleton(&root);
    let marker = crash_script(&root);
    merit_sys::system::chmod(&root.join("etc/s6/init-services/.s6-svscan/finish"), 0o644).unwrap();
    service(&root, "a", "exec sleep 100000");
    let mut b = boot(&root, Boot { args: &["--log-stdout"], ..Boot::default() });
    b.wait_up(&["a"]);
    b.telinit("0");
    let st = b.wait_end(Duration::from_secs(30)).expect("the namespace did not end after the crash script");
    let console = b.console_text();
    assert_eq!(st.code(), Some(7), "{console}");
    assert!(std::fs::read_to_string(&marker).unwrap_or_default().starts_with("crash script ran"), "{console}");
    assert!(console.contains("unable to exec finish script .s6-svscan/finish: Permission denied"), "{console}");
}
