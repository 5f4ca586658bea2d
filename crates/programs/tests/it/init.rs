//! `init` as PID 1 of a PID namespace (unshare), over a tree under a root prefix: boot, the
//! services come up, `service list` shows them, `telinit 0` shuts everything down in order and
//! every service's last line reaches its log; nothing is left running. A shutdown requested
//! twice is one shutdown.

use crate::common::*;
use crate::initns::*;
use std::path::Path;
use std::time::Duration;

/// The skeleton plus `n` enabled services with loggers; each service prints a numbered line
/// every 50 ms and, on SIGTERM, a last line.
fn make_tree(root: &Path, n: usize) -> Vec<String> {
    skeleton(root);
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("svc{i:02}");
        service(root, &name, &chatty(&name));
        logger(root, &name);
        names.push(name);
    }
    names
}

#[test]
fn pid_namespace_boot_and_telinit_0() {
    let Some((_t, root)) = ns_root("init-boot") else { return };
    let names = make_tree(&root, 10);
    let mut b = boot(&root, Boot::default());
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    b.wait_up(&refs);
    // The hostname was set in the namespace.
    let h = b.nsenter(&["hostname"]);
    assert_eq!(String::from_utf8_lossy(&h.stdout).trim(), "merit-test");
    // service list, inside the namespace.
    let out = b.nsenter(&[ours("service").to_str().unwrap(), "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for n in &names {
        assert!(text.contains(&format!("\n{n:<19}{:<20}enabled\n", "up")), "{text}");
    }
    // Lines flow to the logs.
    assert!(wait_until(PROMPT, || names
        .iter()
        .all(|n| { std::fs::read_to_string(root.join("var/log").join(n)).is_ok_and(|s| s.contains(" line 3\n")) })));

    // telinit 0: everything stops, the namespace's init ends.
    b.telinit("0");
    let st = b.wait_end(Duration::from_secs(40));
    assert!(st.is_some(), "init did not end after telinit 0");
    assert_halted(&st.unwrap(), &b.console_text());
    for n in &names {
        assert_last_line(&root, n);
    }
    assert_nothing_under(&root);
}

/// Two `telinit 0` in a row (the second while the first shutdown runs), then a third once the
/// services are going down: one clean shutdown, rc.shutdown run once, every service stopped
/// once, every log ending with its last line.
#[test]
fn shutdown_requested_twice_is_one_shutdown() {
    let Some((_t, root)) = ns_root("init-twice") else { return };
    let names = make_tree(&root, 3);
    for n in &names {
        finish_recorder(&root, n);
    }
    let record = root.join("var/log/rc.shutdown");
    write_exec(
        &root.join("etc/s6/rc.shutdown"),
        &format!("#!/bin/sh\necho \"rc.shutdown $1\" >> {}\n", record.display()),
    );
    let mut b = boot(&root, Boot::default());
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    b.wait_up(&refs);
    b.telinit("0");
    b.telinit("0");
    std::thread::sleep(Duration::from_millis(100));
    // The namespace may already be gone: a third request is best effort.
    let _ = b.nsenter(&[ours("init").to_str().unwrap(), "telinit", "0"]);
    let st = b.wait_end(Duration::from_secs(40)).expect("init did not end after telinit 0");
    assert_halted(&st, &b.console_text());
    assert_eq!(std::fs::read_to_string(&record).unwrap(), "rc.shutdown halt\n", "rc.shutdown runs once");
    for n in &names {
        let f = finished(&root, n);
        assert_eq!(f.len(), 1, "{n} stopped once: {f:?}");
        let log = assert_last_line(&root, n);
        assert_eq!(log.matches("last line").count(), 1, "{n}");
    }
    assert_nothing_under(&root);
}

#[test]
fn telinit_refuses_other_levels() {
    for arg in ["1", "3", "x", ""] {
        let out = std::process::Command::new(ours("init")).args(["telinit", arg]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("Unsupported signal: {arg}\n"));
    }
}

/// Run by hand on a running system (not PID 1, no root prefix, not a container), init refuses
/// before doing anything: its stage 1 would mount tmpfs over the system's /run and /s6. Run in
/// a private mount namespace, so that a broken refusal could not touch the host's mounts.
#[test]
fn init_refuses_to_boot_outside_pid_1_without_a_root() {
    if !can_unshare("booting init in a PID namespace") {
        return;
    }
    let t = TempDir::new("init-not-pid1");
    let out = std::process::Command::new("timeout")
        .args(["20", "unshare", "--mount", "--propagation", "private"])
        .arg(ours("init"))
        .current_dir(t.path())
        .env_remove("MERIT_ROOT")
        .env_remove("MERIT_CONTAINER")
        .env_remove("container")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(100), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "init: fatal: not process 1: run me as the system's init, or with --root DIR (or MERIT_ROOT) for a system in a folder, or with --container\n"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
}

/// Under a root prefix with no init running there (or a stale pid file naming some other
/// process, e.g. the host's PID 1), telinit signals nobody.
#[test]
fn telinit_under_a_root_prefix_never_falls_back_to_pid_1() {
    let t = TempDir::new("init-stale");
    std::fs::create_dir_all(t.join("run/merit")).unwrap();
    std::fs::create_dir_all(t.join("s6/run")).unwrap();
    for stale in [None, Some("1\n"), Some(format!("{}\n", std::process::id()).as_str())] {
        if let Some(p) = stale {
            std::fs::write(t.join("run/merit/pid"), p).unwrap();
        }
        let out = std::process::Command::new(ours("init"))
            .args(["telinit", "0"])
            .env("MERIT_ROOT", t.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(111), "{stale:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("no init running under"), "{stale:?}");
    }
}

/// A shutdown requested before the scanner listens (rc.init signals PID 1 at once, while
/// stage 1 may still be running) is not lost: stage 1 keeps the signals blocked across the
/// exec of s6-svscan, which finds it pending and shuts down.
#[test]
fn shutdown_requested_during_stage_1_is_kept_pending() {
    let Some((_t, root)) = ns_root("init-early") else { return };
    skeleton(&root);
    service(&root, "a", "exec sleep 100000");
    let record = root.join("var/log/rc.shutdown");
    write_exec(&root.join("etc/s6/rc.init"), "#!/bin/sh\nkill -USR2 1\n\"$MERIT_INIT\" copy-enabled\n");
    write_exec(
        &root.join("etc/s6/rc.shutdown"),
        &format!("#!/bin/sh\necho \"rc.shutdown $1\" >> {}\n", record.display()),
    );
    let mut b = boot(&root, Boot::default());
    let st = b.wait_end(Duration::from_secs(30)).expect("the early shutdown request was lost");
    assert_halted(&st, &b.console_text());
    assert_eq!(std::fs::read_to_string(&record).unwrap(), "rc.shutdown halt\n");
    assert_nothing_under(&root);
}

/// Mere's own catch-all logger (its `s6-svscan-log` run script, unchanged: execline, then
/// `s6-applyuidgid -u 99 -g 99` and `s6-log ... /s6/uncaught-logs`) in a system whose
/// /etc/passwd says nobody is 99: booted in a chroot (its paths are absolute), init gives
/// /s6/uncaught-logs to that nobody and nogroup, and rc.init's lines reach the catch-all log.
#[test]
fn mere_catch_all_logger_runs_as_the_booted_systems_nobody() {
    if !can_unshare("booting init in a PID namespace") || !can_chroot() {
        return;
    }
    let t = TempDir::new("init-mere-log");
    let stage = t.join("stage");
    chroot_system(&stage);
    let st = std::process::Command::new(ours("init")).arg("skeleton").arg(&stage).status().unwrap();
    assert!(st.success());
    write_exec(&stage.join("etc/s6/init-services/s6-svscan-log/run"), include_str!("initns/mere-s6-svscan-log"));
    std::fs::write(
        stage.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:99:99:nobody:/:/usr/bin/nologin\n",
    )
    .unwrap();
    std::fs::write(stage.join("etc/group"), "root:x:0:root\nnogroup:x:99:\nnobody:x:65534:\n").unwrap();
    write_exec(
        &stage.join("etc/s6/rc.init"),
        "#!/bin/sh\necho 'rc.init: hello, catch-all'\n\"$MERIT_INIT\" copy-enabled\n",
    );
    service(&stage, "a", "exec sleep 100000");
    let mut b = boot_chroot(&stage, &t.join("mnt"));
    b.wait_up(&["s6-svscan-log", "a"]);
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(b.inside("s6/uncaught-logs")).unwrap();
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (99, 99, 0o2700));
    let current = b.inside("s6/uncaught-logs/current");
    assert!(
        wait_until(PROMPT, || std::fs::read_to_string(&current)
            .is_ok_and(|s| s.contains(" rc.init: hello, catch-all\n"))),
        "nothing in the catch-all log: {:?}\nconsole:\n{}",
        std::fs::read_to_string(&current),
        b.console_text()
    );
    b.telinit("0");
    let st = b.wait_end(Duration::from_secs(30)).expect("init did not end after telinit 0");
    let console = b.console_text();
    assert_halted(&st, &console);
    assert!(!console.contains("Permission denied"), "{console}");
    assert!(processes_under(&t.join("mnt")).is_empty());
}

/// Merit in /sbin and another program of the same name in /bin, earlier in the default PATH
/// (Debian's s6 beside merit on Mere): the tree init starts runs merit's programs. A run script
/// sees merit's directory first on its PATH (once), so its `s6-svc` is merit's.
#[test]
fn the_tree_runs_merits_programs_before_same_named_ones_earlier_in_path() {
    if !can_unshare("booting init in a PID namespace") || !can_chroot() {
        return;
    }
    let t = TempDir::new("init-path");
    let stage = t.join("stage");
    chroot_system(&stage);
    let st = std::process::Command::new(ours("init")).arg("skeleton").arg(&stage).status().unwrap();
    assert!(st.success());
    for fake in ["s6-svc", "s6-svscanctl", "s6-svscan"] {
        write_exec(&stage.join("bin").join(fake), "#!/bin/sh\necho not merit\nexit 1\n");
    }
    service(&stage, "a", "{ echo \"$PATH\"; command -v s6-svc; } > /var/log/path\nexec sleep 100000");
    let mut b = boot_chroot(&stage, &t.join("mnt"));
    b.wait_up(&["a"]);
    let record = b.inside("var/log/path");
    let recorded = || std::fs::read_to_string(&record).is_ok_and(|s| s.lines().count() == 2);
    assert!(wait_until(PROMPT, recorded), "the run script did not run\n{}", b.console_text());
    let seen = std::fs::read_to_string(&record).unwrap();
    let mut lines = seen.lines();
    let path = lines.next().unwrap_or_default();
    assert!(path.starts_with("/sbin:"), "merit's directory is not first on PATH: {seen:?}");
    assert_eq!(path.split(':').filter(|d| *d == "/sbin").count(), 1, "{seen:?}");
    assert!(path.split(':').any(|d| d == "/bin"), "{seen:?}");
    assert_eq!(lines.next(), Some("/sbin/s6-svc"), "{seen:?}");
    b.telinit("0");
    let st = b.wait_end(Duration::from_secs(30)).expect("init did not end after telinit 0");
    assert_halted(&st, &b.console_text());
    assert!(processes_under(&t.join("mnt")).is_empty());
}

/// A PATH set by /etc/s6/env (the envdir init reads) that puts a folder with another `s6-svc`
/// first and trails a colon: init still puts merit's directory first, once, and adds no empty
/// entry (the service's own folder).
#[test]
fn a_path_from_etc_s6_env_gets_merits_directory_first() {
    let Some((_t, root)) = ns_root("init-envpath") else { return };
    skeleton(&root);
    let fake = root.join("fake-bin");
    std::fs::create_dir_all(&fake).unwrap();
    write_exec(&fake.join("s6-svc"), "#!/bin/sh\necho not merit\nexit 1\n");
    let ourdir = ours("init").parent().unwrap().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("etc/s6/env")).unwrap();
    std::fs::write(root.join("etc/s6/env/PATH"), format!("{}:/usr/bin:/bin:{}:\n", fake.display(), ourdir.display()))
        .unwrap();
    let record = root.join("var/log/path");
    std::fs::create_dir_all(root.join("var/log")).unwrap();
    service(
        &root,
        "a",
        &format!(
            "{{ echo \"$PATH\"; command -v s6-svc; }} > {0}.tmp\nmv {0}.tmp {0}\nexec sleep 100000",
            record.display()
        ),
    );
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["a"]);
    assert!(wait_until(PROMPT, || record.is_file()), "the run script did not run\n{}", b.console_text());
    let seen = std::fs::read_to_string(&record).unwrap();
    let ourdir = ourdir.to_str().unwrap();
    assert_eq!(
        seen,
        format!("{ourdir}:{}:/usr/bin:/bin\n{ourdir}/s6-svc\n", fake.display()),
        "console:\n{}",
        b.console_text()
    );
    b.telinit("0");
    let st = b.wait_end(Duration::from_secs(30)).expect("init did not end after telinit 0");
    assert_halted(&st, &b.console_text());
    assert_nothing_under(&root);
}
