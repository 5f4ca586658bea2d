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
    assert!(wait_until(Duration::from_secs(20), failed), "never gave up");
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
            && j.out.contains(",\"failed\":\"failed: 3 deaths in 30 s, last exit code 3\",\"restart_delay_ms\":0}"),
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
