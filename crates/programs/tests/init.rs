//! `init` as PID 1 of a PID namespace (unshare), over a tree under a root prefix: boot, the
//! services come up, `service list` shows them, `telinit 0` shuts everything down in order and
//! every service's last line reaches its log; nothing is left running.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Root and `unshare` are needed; under CI=true their absence is a failure.
fn can_unshare() -> bool {
    let root = unsafe { libc::geteuid() } == 0;
    let ok = root
        && std::process::Command::new("unshare")
            .args(["--fork", "--pid", "--mount", "--uts", "--mount-proc", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but cannot run unshare --pid --mount as root");
        }
        eprintln!("SKIP: needs root and unshare(1) for PID/mount namespaces");
    }
    ok
}

/// A booted namespace: the `unshare` process and, inside it, our init (PID 1 there).
struct Booted {
    unshare: Daemon,
    pid1: i32,
    root: PathBuf,
}

impl Booted {
    /// A path under the root prefix, as seen inside the namespace's mounts.
    fn inside(&self, rel: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{}/{}", self.pid1, self.root.display(), rel))
    }

    fn nsenter(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("nsenter")
            .args(["-t", &self.pid1.to_string(), "-p", "-m", "-u", "--"])
            .args(args)
            .env("MERIT_ROOT", &self.root)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for Booted {
    fn drop(&mut self) {
        // Killing the namespace's PID 1 ends every process in it.
        if std::fs::read_to_string(format!("/proc/{}/comm", self.pid1)).is_ok_and(|c| c.trim() == "s6-svscan" || c.trim() == "init") {
            unsafe { libc::kill(self.pid1, libc::SIGKILL) };
        }
    }
}

fn boot(root: &Path, extra: &[&str]) -> Booted {
    let mut cmd = command("unshare");
    cmd.args(["--fork", "--pid", "--mount", "--uts", "--mount-proc", "--propagation", "private"])
        .arg(ours("init"))
        .arg("--root")
        .arg(root)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let unshare = Daemon::spawn(cmd);
    let mut pid1 = 0;
    assert!(
        wait_until(PROMPT, || {
            let kids = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", unshare.pid())).unwrap_or_default();
            pid1 = kids.split_whitespace().next().and_then(|p| p.parse().ok()).unwrap_or(0);
            pid1 != 0
        }),
        "unshare did not start init"
    );
    Booted { unshare, pid1, root: root.to_path_buf() }
}

/// The skeleton plus `n` enabled services with loggers; each service prints a numbered line
/// every 50 ms and, on SIGTERM, a last line.
fn make_tree(root: &Path, n: usize) -> Vec<String> {
    let st = std::process::Command::new(ours("init")).arg("skeleton").arg(root).status().unwrap();
    assert!(st.success());
    std::fs::create_dir_all(root.join("var/log")).unwrap();
    std::fs::write(root.join("etc/hostname"), "merit-test\n").unwrap();
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("svc{i:02}");
        let d = root.join("etc/s6/services/available").join(&name);
        std::fs::create_dir_all(d.join("log")).unwrap();
        write_exec(
            &d.join("run"),
            &format!(
                "#!/bin/sh\nexec 2>&1\ntrap 'echo \"{name} last line\"; exit 0' TERM\ni=0\nwhile :; do i=$((i+1)); echo \"{name} line $i\"; sleep 0.05; done\n"
            ),
        );
        write_exec(&d.join("log/run"), &format!("#!/bin/sh\nexec cat >> {}\n", root.join("var/log").join(&name).display()));
        std::os::unix::fs::symlink(format!("../available/{name}"), root.join("etc/s6/services/enabled").join(&name)).unwrap();
        names.push(name);
    }
    names
}

#[test]
fn pid_namespace_boot_and_telinit_0() {
    if !can_unshare() {
        return;
    }
    let t = TempDir::new("init-boot");
    let root = t.path().to_path_buf();
    let names = make_tree(&root, 10);
    let b = boot(&root, &[]);

    // All services and their loggers come up.
    assert!(
        wait_until(Duration::from_secs(30), || names.iter().all(|n| {
            status(&b.inside(&format!("s6/run/{n}"))).is_some_and(|s| s.is_up())
                && status(&b.inside(&format!("s6/run/{n}/log"))).is_some_and(|s| s.is_up())
        })),
        "services did not come up"
    );
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
    assert!(wait_until(PROMPT, || names.iter().all(|n| {
        std::fs::read_to_string(root.join("var/log").join(n)).is_ok_and(|s| s.contains(" line 3\n"))
    })));

    // telinit 0: everything stops, the namespace's init ends.
    let out = b.nsenter(&[ours("init").to_str().unwrap(), "telinit", "0"]);
    assert!(out.status.success(), "telinit: {}", String::from_utf8_lossy(&out.stderr));
    let mut b = b;
    let st = b.unshare.wait_timeout(Duration::from_secs(40));
    assert!(st.is_some(), "init did not end after telinit 0");
    for n in &names {
        let log = std::fs::read_to_string(root.join("var/log").join(n)).unwrap();
        assert!(log.ends_with(&format!("{n} last line\n")), "{n}: last line missing; log ends {:?}", &log[log.len().saturating_sub(80)..]);
    }
    assert!(processes_under(&root).is_empty(), "processes left: {:?}", processes_under(&root));
}

#[test]
fn telinit_refuses_other_levels() {
    for arg in ["1", "3", "x", ""] {
        let out = std::process::Command::new(ours("init")).args(["telinit", arg]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("Unsupported signal: {arg}\n"));
    }
}
