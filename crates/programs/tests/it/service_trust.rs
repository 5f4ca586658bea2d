//! `service` as root on a tree it does not own, and `service` saying what happened: copies
//! into the scan directory do not keep set-user-ID bits root did not give, the lock and the
//! control FIFOs are never reached through a symbolic link nor taken for a regular file, a
//! failed restart leaves the service wanted up, a start that does not hold reports why, and a
//! stop that times out says how to escalate.

use crate::common::*;
use crate::service_common::*;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

both!(
    start_of_a_run_that_dies_at_once_fails,
    start_of_a_run_that_cannot_be_executed_says_why,
    stop_of_a_service_ignoring_sigterm_says_how_to_escalate,
    failed_restart_leaves_it_wanted_up,
    control_is_written_only_into_a_fifo,
);

/// Root is needed (to own files as someone else); under CI it must be there.
fn root_or_skip(what: &str) -> bool {
    merit_sys::geteuid() == 0 || cannot_run(what, "needs root")
}

fn start_of_a_run_that_dies_at_once_fails(imp: Impl) {
    let mut t = Tree::new(&format!("svc-dies-{imp:?}"));
    t.add("quits", Spec { exec: Some("exit 3".into()), ..Default::default() });
    t.add("killed", Spec { exec: Some("kill -9 $$".into()), ..Default::default() });
    t.add("fine", Spec::default());
    t.boot(imp, &[]);
    for (name, how) in [("quits", "run exited with code 3"), ("killed", "run was killed by SIGKILL")] {
        let r = t.service(&[name, "start"]);
        assert_eq!((r.out.as_str(), r.code), (format!("Starting {name}... FAIL\n").as_str(), 1), "{}", r.err);
        // (The supervisor restarts it a second later: the reason may say so.)
        let want = format!("service: {name} went down right after it came up: {how}");
        assert!(r.err.starts_with(&want) && r.err.ends_with('\n') && r.err.lines().count() == 1, "{:?}", r.err);
    }
    // A service that stays up is still OK.
    t.service(&["fine", "start"]).ok("Starting fine... OK\n");
    t.shutdown();
}

fn start_of_a_run_that_cannot_be_executed_says_why(imp: Impl) {
    let mut t = Tree::new(&format!("svc-noexec-{imp:?}"));
    t.add("noint", Spec::default());
    write_exec(&t.def("noint").join("run"), "#!/nonexistent/sh\nexit 0\n");
    t.boot(imp, &[]);
    let t0 = Instant::now();
    let r = t.service(&["--timeout", "20", "noint", "start"]);
    let took = t0.elapsed();
    assert_eq!((r.out.as_str(), r.code), ("Starting noint... FAIL\n", 1), "{}", r.err);
    assert_eq!(
        r.err,
        format!(
            "service: noint cannot be started: {}/run: interpreter /nonexistent/sh: No such file or directory\n",
            t.svc("noint").display()
        )
    );
    assert!(took < Duration::from_secs(10), "the whole --timeout was waited: {took:?}");
    t.shutdown();
}

/// A service whose run ignores SIGTERM.
fn stubborn(t: &Tree) {
    t.add("stubborn", Spec { pre: "trap '' TERM".into(), ..Default::default() });
    t.install("stubborn");
}

fn hint(t: &Tree, wanted: &str, pid: i32) -> String {
    format!(
        "service: stubborn did not go down within 0.500 s (--timeout): it is still running (pid {pid}) and ignores its down signal, SIGTERM; {wanted}. To kill it now: s6-svc -k {}; to have its supervisor send SIGKILL after a delay: a timeout-kill file (milliseconds) in its definition\n",
        t.svc("stubborn").display()
    )
}

fn stop_of_a_service_ignoring_sigterm_says_how_to_escalate(imp: Impl) {
    let mut t = Tree::new(&format!("svc-stubborn-stop-{imp:?}"));
    stubborn(&t);
    t.boot(imp, &["stubborn"]);
    let pid = t.pid("stubborn").unwrap();
    let r = t.service(&["--timeout", "0.5", "stubborn", "stop"]);
    assert_eq!((r.out.as_str(), r.code), ("Stopping stubborn... FAIL\n", 1), "{}", r.err);
    assert_eq!(r.err, hint(&t, "it stays wanted down and is down once it exits", pid));
    assert_eq!(t.svstat(&["-o", "up,wantedup"], "stubborn").0, "true false\n");
    // The hint works.
    let st = std::process::Command::new(imp.bin("s6-svc")).arg("-k").arg(t.svc("stubborn")).status().unwrap();
    assert!(st.success());
    assert!(wait_until(PROMPT, || status(&t.svc("stubborn")).is_some_and(|s| !s.is_up())));
    t.shutdown();
}

fn failed_restart_leaves_it_wanted_up(imp: Impl) {
    let mut t = Tree::new(&format!("svc-stubborn-restart-{imp:?}"));
    stubborn(&t);
    t.boot(imp, &["stubborn"]);
    let pid = t.pid("stubborn").unwrap();
    let r = t.service(&["--timeout", "0.5", "stubborn", "restart"]);
    assert_eq!((r.out.as_str(), r.code), ("Restarting stubborn... FAIL\n", 1), "{}", r.err);
    assert_eq!(r.err, hint(&t, "it stays wanted up and starts again when it exits", pid));
    assert_eq!(t.svstat(&["-o", "up,wantedup"], "stubborn").0, "true true\n");
    // When the old process finally dies, the service comes back (as after s6-svc -r).
    assert_eq!(t.pid("stubborn"), Some(pid), "still the process the supervisor started");
    let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGKILL);
    let new = t.wait_up("stubborn", false, Some(pid));
    assert_ne!(new, pid);
    t.shutdown();
}

fn control_is_written_only_into_a_fifo(imp: Impl) {
    let mut t = Tree::new(&format!("svc-ctl-{imp:?}"));
    t.add("up1", Spec::default());
    t.install("up1");
    t.boot(imp, &["up1"]);
    let pid = t.pid("up1").unwrap();
    let ctl = t.svc("up1/supervise/control");
    let parked = t.svc("up1/supervise/control.parked");
    std::fs::rename(&ctl, &parked).unwrap();
    let victim = t.root().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, &ctl).unwrap();
    let unable =
        |why: &str| format!("service: unable to control {}: {} {why}\n", t.svc("up1").display(), ctl.display());
    for (cmd, out) in [("reload", "Reloading up1... FAIL\n"), ("stop", "Stopping up1... FAIL\n")] {
        let r = t.service(&["up1", cmd]);
        assert_eq!(
            (r.out.as_str(), r.err.as_str(), r.code),
            (out, unable("is a symbolic link, not a FIFO").as_str(), 1)
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n", "written through the link");
    std::fs::remove_file(&ctl).unwrap();
    std::fs::write(&ctl, "").unwrap();
    let r = t.service(&["up1", "reload"]);
    assert_eq!(
        (r.out.as_str(), r.err.as_str(), r.code),
        ("Reloading up1... FAIL\n", unable("is not a FIFO").as_str(), 1)
    );
    assert_eq!(std::fs::read(&ctl).unwrap(), b"", "written into a regular file");
    std::fs::remove_file(&ctl).unwrap();
    std::fs::rename(&parked, &ctl).unwrap();
    assert_eq!(t.pid("up1"), Some(pid), "nothing reached the service");
    t.service(&["up1", "reload"]).ok("Reloading up1... OK\n");
    t.shutdown();
}

/// The per-service lock is never opened through a symbolic link (root would create or lock the
/// target), nor when it is not a regular file (a FIFO would block).
#[test]
fn lock_is_a_regular_file_reached_without_links() {
    let t = Tree::new("svc-lock");
    t.add("a", Spec::default());
    let lock = t.scan().join(".service-a.lock");
    let victim = t.root().join("victim");
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let r = t.service(&["a", "enable"]);
    let want = |why: &str| format!("service: unable to lock {}: {why}\n", lock.display());
    assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", want("a symbolic link, not a lock file").as_str(), 1));
    assert!(std::fs::symlink_metadata(&victim).is_err(), "the link's target was created");
    assert!(std::fs::symlink_metadata(t.link("a")).is_err(), "enabled although the lock was refused");

    std::fs::remove_file(&lock).unwrap();
    merit_sys::mkfifo(&lock, 0o600).unwrap();
    let mut child = t
        .service_cmd(&["a", "enable"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let exited = wait_until(Duration::from_secs(10), || matches!(child.try_wait(), Ok(Some(_))));
    if !exited {
        let _ = child.kill(); // our own child, by its pid
    }
    let r = Run::from(child.wait_with_output().unwrap());
    assert!(exited, "service blocked opening a FIFO as its lock");
    assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", want("not a regular file").as_str(), 1));
}

/// Root copying a definition it does not own into the scan directory: the set-user-ID and
/// set-group-ID bits of files (and directories) owned by someone else are not kept; those of
/// root's own files are.
#[test]
fn copies_do_not_keep_setuid_bits_root_did_not_give() {
    if !root_or_skip("copying files owned by another user") {
        return;
    }
    let mut t = Tree::new("svc-suid");
    t.add("s", Spec::default());
    let d = t.def("s");
    let nobody = Some(65534);
    let file = |name: &str, owner: Option<u32>, mode: u32| {
        let p = d.join(name);
        std::fs::write(&p, format!("{name}\n")).unwrap();
        merit_sys::chown(&p, owner, owner).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    std::fs::create_dir(d.join("dir")).unwrap();
    file("suid", nobody, 0o4755);
    file("sgid", nobody, 0o2755);
    file("dir/inner", nobody, 0o6750);
    file("mine", Some(0), 0o4755);
    merit_sys::chown(&d.join("dir"), nobody, nobody).unwrap();
    std::fs::set_permissions(d.join("dir"), std::fs::Permissions::from_mode(0o2775)).unwrap();
    merit_sys::chown(&d, nobody, nobody).unwrap();
    t.boot(Impl::Ours, &[]);
    t.service(&["s", "start"]).ok("Starting s... OK\n");
    let mode = |name: &str| std::fs::symlink_metadata(t.svc("s").join(name)).unwrap().permissions().mode() & 0o7777;
    for (name, want) in
        [("suid", 0o755), ("sgid", 0o755), ("dir/inner", 0o750), ("dir", 0o775), ("mine", 0o4755), ("run", 0o755)]
    {
        assert_eq!(mode(name), want, "{name}: {:o}", mode(name));
        if name != "dir" {
            assert_eq!(std::fs::read(t.svc("s").join(name)).unwrap(), std::fs::read(d.join(name)).unwrap(), "{name}");
        }
    }
    t.shutdown();
}
