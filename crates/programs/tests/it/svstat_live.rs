//! `s6-svstat` on live services in every state, ours against the real one on the same status
//! file at the same moment, for the option combinations of spec/svstat.md; the services are
//! run by our supervisor and by the real one.

use crate::common::*;
use std::path::Path;
use std::process::Stdio;

const OPTION_SETS: [&[&str]; 8] = [
    &[],
    &["-n"],
    &["-o", "up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor"],
    &["-uwNrpest"],
    &["-o", "p,pi,s,signu,r,readys,updown"],
    &["-n", "-o", "up,pid", "-e", "-s"],
    &["-t", "-o", "readyfor,updownfor"],
    &["-N", "-r", "-w", "-n"],
];

fn svstat(bin: &Path, args: &[&str], dir: &Path) -> (Vec<u8>, Vec<u8>, Option<i32>) {
    let out = std::process::Command::new(bin).args(args).arg(dir).stdin(Stdio::null()).output().unwrap();
    (out.stdout, out.stderr, out.status.code())
}

/// Ours and the real one agree on `dir` for every option set (retried when a second ticks
/// between the two runs).
fn agree(dir: &Path, state: &str) {
    for args in OPTION_SETS {
        let mut last = None;
        let ok = (0..5).any(|_| {
            let a = svstat(&ours("s6-svstat"), args, dir);
            let b = svstat(&real("s6-svstat"), args, dir);
            let same = a == b;
            last = Some((a, b));
            same
        });
        let (a, b) = last.unwrap();
        assert!(
            ok,
            "{state} {args:?}: ours {:?} / real {:?}",
            String::from_utf8_lossy(&a.0),
            String::from_utf8_lossy(&b.0)
        );
    }
}

fn svc(imp: Impl, args: &[&str], dir: &Path) {
    let st = std::process::Command::new(imp.bin("s6-svc")).args(args).arg(dir).status().unwrap();
    assert!(st.success(), "s6-svc {args:?}");
}

fn live_states(imp: Impl) {
    let t = TempDir::new(&format!("svstat-live-{imp:?}"));
    let check = |name: &str, cond: &dyn Fn(&merit_core::status::StatusFile) -> bool, dir: &Path| {
        assert!(wait_until(PROMPT, || status(dir).is_some_and(|s| cond(&s))), "{imp:?}: state {name} not reached");
        agree(dir, name);
    };

    // up; paused; normally down
    let up = t.join("up");
    make_service(&up, "exec sleep 100000");
    let _d1 = start_supervisor(imp, &up);
    check("up", &|s| s.is_up(), &up);
    svc(imp, &["-p"], &up);
    check("paused", &|s| s.paused, &up);
    svc(imp, &["-c"], &up);
    std::fs::write(up.join("down"), "").unwrap();
    check("normally down", &|s| s.is_up() && !s.paused, &up);
    std::fs::remove_file(up.join("down")).unwrap();

    // up and ready
    let ready = t.join("ready");
    make_service(&ready, "echo >&3\nexec sleep 100000");
    std::fs::write(ready.join("notification-fd"), "3\n").unwrap();
    let _d2 = start_supervisor(imp, &ready);
    check("up and ready", &|s| s.is_up() && s.ready, &ready);

    // down by signal (ready after finish)
    svc(imp, &["-d"], &ready);
    check("down by signal", &|s| !s.is_up() && s.ready && s.wstat == 15, &ready);

    // down by exit code, normally down (./down present), run once
    let code = t.join("code");
    make_service(&code, "exit 3");
    std::fs::write(code.join("down"), "").unwrap();
    let _d3 = start_supervisor(imp, &code);
    check("never started, normally down", &|s| !s.is_up() && !s.wantup, &code);
    svc(imp, &["-o"], &code);
    check("down by exit code", &|s| !s.is_up() && s.ready && s.wstat == 0x300, &code);

    // want up: a run that keeps failing, caught inside the restart delay
    let flaky = t.join("flaky");
    make_service(&flaky, "exit 7");
    let _d4 = start_supervisor(imp, &flaky);
    check("want up", &|s| !s.is_up() && s.wantup && s.wstat == 0x700 && s.pid == 0, &flaky);

    // finishing: finish sleeps
    let fin = t.join("fin");
    make_service(&fin, "exec sleep 100000");
    write_exec(&fin.join("finish"), "#!/bin/sh\nexec sleep 3\n");
    let _d5 = start_supervisor(imp, &fin);
    check("up before finishing", &|s| s.is_up(), &fin);
    svc(imp, &["-d"], &fin);
    check("finishing", &|s| s.finishing, &fin);
}

#[test]
fn live_states_under_our_supervisor() {
    with_real_s6(|| live_states(Impl::Ours));
}

#[test]
fn live_states_under_real_supervisor() {
    with_real_s6(|| live_states(Impl::Real));
}
