//! Container mode under a real container runtime: our `init --log-stdout` as PID 1 of a podman
//! container (rootful, runc, podman's default seccomp profile and capabilities: no
//! CAP_SYS_ADMIN, so no sethostname). The image is made here FROM scratch (`podman import` of a
//! tarball): busybox-static in /bin with every applet linked there (so /bin/init is busybox's
//! init and /bin/sh prefers its applets), our static multi-call binary (dist/bin, made by
//! scripts/build) as /bin/merit with its program links beside it but `init`, which is
//! /sbin/init -> /bin/merit (found on podman's PATH for the command `init`), and /etc/s6 from
//! `init skeleton`. rc.init prints a marker line before `init copy-enabled`, so `podman logs`
//! counts how many times stage 1 ran.
//!
//! Checked: stage 1 runs exactly once and says nothing about the hostname (podman sets it),
//! the services come up and their output reaches `podman logs`; a second stage 1 started in the
//! running container is refused; `podman stop` ends the container by SIGTERM within the grace
//! period with status 0 (never 137, SIGKILL), and so does the SIGRTMIN+3 podman sends instead
//! when the command is `/sbin/init` (its systemd mode); a main service (`merit-main`) that exits 3 makes
//! the container exit 3, one killed by SIGUSR1 makes it exit 128+10. The times from `podman
//! run` to every service up and from `podman stop` to the exit are printed.
//!
//! Runs as root with `podman` and `runc` (Debian packages, installed by .ci/run); under CI=true
//! a missing piece fails the test, elsewhere it is skipped with the reason. Everything podman
//! stores lives under the test's temp folder (tests/common/podman.rs: `default_ulimits = []`,
//! runc); the containers and the image are removed at the end. MERIT_DIST=dir overrides dist/bin.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::podman::{missing, text, Podman};

/// Not possible here: fail under CI, skip (with the reason) elsewhere.
fn unavailable(why: &str) {
    cannot_run("the podman test", why);
}

const IMAGE: &str = "localhost/merit-podman-test:latest";

/// This test's image: `init --log-stdout` as the command, and what every container passes once
/// stopped.
trait InitImage {
    fn start(&mut self, name: &str, extra: &[&str]);
    fn start_as(&mut self, name: &str, extra: &[&str], command: &str);
    fn stop(&self, name: &str) -> Duration;
}

impl InitImage for Podman {
    /// `podman run -d` with our init; the container's name is remembered for the cleanup.
    fn start(&mut self, name: &str, extra: &[&str]) {
        self.start_as(name, extra, "init");
    }

    /// The same with `init` named as `command` (`/sbin/init`: podman's systemd mode).
    fn start_as(&mut self, name: &str, extra: &[&str], command: &str) {
        self.run_detached(name, extra, &[command, "--log-stdout"]);
    }

    /// `podman stop` (SIGTERM or the container's stop signal, SIGKILL after 20 s): how long
    /// it took; the container must have exited 0 without the SIGKILL.
    fn stop(&self, name: &str) -> Duration {
        let stopping = Instant::now();
        let out = self.run(&["stop", "-t", "20", name]);
        let took = stopping.elapsed();
        assert!(out.status.success(), "podman stop: {}", text(&out));
        assert!(!text(&out).contains("SIGKILL"), "podman stop had to SIGKILL: {}", text(&out));
        let logs = self.logs(name);
        assert_eq!(self.exit_code(name), "0", "podman stop {name}: exit status\n{logs}");
        assert!(took < Duration::from_secs(10), "podman stop {name} took {took:?}\n{logs}");
        assert_clean_logs(&logs);
        took
    }
}

fn write_exec(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// An enabled service whose `run` is a busybox sh script.
fn service(root: &Path, name: &str, body: &str) -> PathBuf {
    let d = root.join("etc/s6/services/available").join(name);
    std::fs::create_dir_all(&d).unwrap();
    write_exec(&d.join("run"), &format!("#!/bin/sh\nexec 2>&1\n{body}\n"));
    std::os::unix::fs::symlink(format!("../available/{name}"), root.join("etc/s6/services/enabled").join(name))
        .unwrap();
    d
}

/// Marker printed by rc.init, once per stage 1.
const MARKER: &str = "merit-test: stage 1 ran";

/// The root file system of the image.
fn rootfs(dist: &Path, busybox: &Path, root: &Path) {
    for d in ["bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "run", "s6"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    let list = Command::new(busybox).arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines().filter(|a| !a.is_empty() && *a != "busybox") {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    // merit in /bin, over busybox's applets of the same names, except init: /bin/init stays
    // busybox's, ours is /sbin/init.
    std::fs::copy(dist.join("merit"), root.join("bin/merit")).unwrap();
    for e in std::fs::read_dir(dist).unwrap().flatten() {
        let name = e.file_name();
        if name == "merit" || name == "init" {
            continue;
        }
        let link = root.join("bin").join(&name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("merit", link).unwrap();
    }
    std::os::unix::fs::symlink("/bin/merit", root.join("sbin/init")).unwrap();
    let st = Command::new(dist.join("init")).arg("skeleton").arg(root).status().unwrap();
    assert!(st.success(), "init skeleton: {st:?}");
    write_exec(
        &root.join("etc/s6/rc.init"),
        &format!("#!/bin/sh\necho '{MARKER}'\nexec \"${{MERIT_INIT:-init}}\" copy-enabled\n"),
    );
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
    service(root, "alpha", "echo 'alpha is up'\nexec sleep 100000");
    service(root, "beta", "echo 'beta is up'\nexec sleep 100000");
    // The main service: what it does comes from /etc/main-mode, bind-mounted per container.
    let main = service(
        root,
        "main",
        "echo 'main is up'\ncase $(cat /etc/main-mode 2>/dev/null) in\n\
         exit3) sleep 1; echo 'main exits 3'; exit 3 ;;\n\
         usr1) sleep 1; echo 'main dies of SIGUSR1'; kill -USR1 $$; sleep 5 ;;\n\
         *) exec sleep 100000 ;;\nesac",
    );
    std::fs::write(main.join("merit-main"), "").unwrap();
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.lines().filter(|l| l.contains(needle)).count()
}

/// The checks every container passes once it has ended.
fn assert_clean_logs(logs: &str) {
    assert_eq!(count(logs, MARKER), 1, "stage 1 must run exactly once:\n{logs}");
    assert_eq!(count(logs, "hostname"), 0, "podman sets the hostname; nothing to say:\n{logs}");
    assert_eq!(count(logs, "unable to"), 0, "no errors expected:\n{logs}");
    assert_eq!(count(logs, "must be run as PID 1"), 0, "busybox's init was run by a script:\n{logs}");
}

#[test]
fn podman_container_mode() {
    if let Some(why) = missing() {
        return unavailable(&why);
    }
    let busybox = PathBuf::from("/bin/busybox");
    if !busybox.is_file() {
        return unavailable("/bin/busybox missing (apt-get install busybox-static)");
    }
    let dist = std::env::var_os("MERIT_DIST").map(PathBuf::from).unwrap_or_else(|| workspace().join("dist/bin"));
    if !dist.join("merit").is_file() || !dist.join("init").is_file() {
        return unavailable(&format!("{} has no merit: run scripts/build first", dist.display()));
    }

    let t = TempDir::new("podman");
    let root = t.join("rootfs");
    rootfs(&dist, &busybox, &root);
    let tar = t.join("rootfs.tar");
    let st = Command::new("tar").arg("-C").arg(&root).arg("-cf").arg(&tar).arg(".").status().unwrap();
    assert!(st.success(), "tar: {st:?}");
    let mut p = Podman::new(t.path(), IMAGE);
    let out = p.run(&["import", &tar.to_string_lossy(), IMAGE]);
    if !out.status.success() {
        return unavailable(&format!("podman import failed: {}", text(&out)));
    }
    for (mode, content) in [("forever", "forever\n"), ("exit3", "exit3\n"), ("usr1", "usr1\n")] {
        std::fs::write(t.join(format!("mode-{mode}")), content).unwrap();
    }
    let mode = |m: &str| format!("{}:/etc/main-mode:ro", t.join(format!("mode-{m}")).display());
    let services = ["alpha", "beta", "main"];

    // 1. Up, once; a second stage 1 refused; `podman stop` by SIGTERM, status 0.
    let started = Instant::now();
    p.start("merit-stop", &["-v", &mode("forever")]);
    p.wait_up("merit-stop", &services, Duration::from_secs(30));
    let up_after = started.elapsed();
    for line in ["alpha is up", "beta is up", "main is up"] {
        assert!(
            wait_until(Duration::from_secs(10), || count(&p.logs("merit-stop"), line) == 1),
            "{line:?} once in podman logs:\n{}",
            p.logs("merit-stop")
        );
    }
    // A process of the supervision tree inherits MERIT_CONTAINER=1: `init` run from there with
    // an argument stage 1 does not know must not start a second stage 1 (which would wipe
    // /s6/run under the running scanner and exec a second one).
    let again =
        p.run_for(&["exec", "-e", "MERIT_CONTAINER=1", "merit-stop", "init", "--log-stdout"], Duration::from_secs(20));
    assert_eq!(again.status.code(), Some(100), "second stage 1: {}", text(&again));
    assert!(
        text(&again).contains("init: fatal: init is already running (pid 1, scanning /s6/run)"),
        "{}",
        text(&again)
    );
    assert!(p.all_up("merit-stop", &services), "services after the refused stage 1:\n{}", p.logs("merit-stop"));
    let stop_took = p.stop("merit-stop");
    assert!(p.logs("merit-stop").contains("init: all services stopped (stop): exiting 0"), "{}", p.logs("merit-stop"));
    eprintln!("podman: run -> alpha, beta, main up: {up_after:?}; stop -> exited: {stop_took:?}");

    // 2. Started as /sbin/init, podman's systemd mode: its stop signal is SIGRTMIN+3, which
    //    the scanner (PID 1) diverts to .s6-svscan/SIGRTMIN+3 (a halt: an orderly stop).
    p.start_as("merit-systemd", &["-v", &mode("forever")], "/sbin/init");
    assert_eq!(
        p.ok(&["inspect", "--format", "{{.Config.StopSignal}}", "merit-systemd"]),
        "37",
        "systemd mode's stop signal"
    );
    p.wait_up("merit-systemd", &services, Duration::from_secs(30));
    let systemd_took = p.stop("merit-systemd");
    assert!(
        p.logs("merit-systemd").contains("init: all services stopped (halt): exiting 0"),
        "{}",
        p.logs("merit-systemd")
    );
    eprintln!("podman: /sbin/init (systemd mode): stop (SIGRTMIN+3) -> exited: {systemd_took:?}");

    // 3. The main service exits 3: so does the container.
    p.start("merit-exit3", &["-v", &mode("exit3")]);
    let out = p.run(&["wait", "merit-exit3"]);
    let logs = p.logs("merit-exit3");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3", "podman wait: {}\n{logs}", text(&out));
    assert!(logs.contains("main exits 3") && logs.contains("alpha is up"), "{logs}");
    assert!(logs.contains("init: all services stopped (stop): exiting 3"), "{logs}");
    assert_clean_logs(&logs);

    // 4. The main service dies of SIGUSR1 (10): the container exits 128 + 10.
    p.start("merit-usr1", &["-v", &mode("usr1")]);
    let out = p.run(&["wait", "merit-usr1"]);
    let logs = p.logs("merit-usr1");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "138", "podman wait: {}\n{logs}", text(&out));
    assert!(logs.contains("main dies of SIGUSR1"), "{logs}");
    assert_clean_logs(&logs);
}
