//! `service`: the seed's transcript replayed byte for byte (PIDs and seconds masked) over a tree
//! under a root prefix, booted with our scanner and supervisors, and again with real s6's.

use crate::common::*;
use crate::service_common::mask;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

const SERVICES: [&str; 5] = ["dropbear", "klogd", "nginx", "ntpd", "syslogd"];

/// A Mere-like tree under `root`: the five services of the transcript, each a copy of `sleep`
/// named after the service (so that "pgrep NAME" means something) with a logger, all enabled
/// and copied into the scan directory as rc.init would.
pub struct MereTree {
    pub dir: TempDir,
    pub scanner: Option<Daemon>,
}

impl MereTree {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn scan(&self) -> PathBuf {
        self.dir.join("s6/run")
    }

    pub fn build(tag: &str) -> MereTree {
        let dir = TempDir::new(tag);
        let r = dir.path().to_path_buf();
        for d in ["s6/run", "etc/s6/services/available", "etc/s6/services/enabled", "bin", "var/log"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        for n in SERVICES {
            std::fs::copy("/bin/sleep", r.join("bin").join(n)).unwrap();
            let d = r.join("etc/s6/services/available").join(n);
            std::fs::create_dir_all(d.join("log")).unwrap();
            write_exec(
                &d.join("run"),
                &format!("#!/bin/sh\necho \"{n} starting\"\nexec {} 100000\n", r.join("bin").join(n).display()),
            );
            write_exec(
                &d.join("log/run"),
                &format!("#!/bin/sh\nexec cat >> {}\n", r.join("var/log").join(n).display()),
            );
            std::os::unix::fs::symlink(format!("../available/{n}"), r.join("etc/s6/services/enabled").join(n)).unwrap();
            let out = std::process::Command::new("cp").arg("-a").arg(&d).arg(r.join("s6/run")).status().unwrap();
            assert!(out.success());
        }
        MereTree { dir, scanner: None }
    }

    /// Starts a scanner (ours, or real s6-svscan with real s6-supervise) and waits until every
    /// service and logger is up.
    pub fn boot(&mut self, imp: Impl) {
        let mut cmd = command(imp.bin("s6-svscan"));
        cmd.arg(self.scan()).stdout(Stdio::null()).stderr(Stdio::null());
        self.scanner = Some(Daemon::spawn(cmd));
        let scan = self.scan();
        assert!(
            wait_until(PROMPT, || SERVICES.iter().all(|n| {
                status(&scan.join(n)).is_some_and(|s| s.is_up())
                    && status(&scan.join(n).join("log")).is_some_and(|s| s.is_up())
            })),
            "{imp:?}: the tree did not come up"
        );
    }

    pub fn service(&self, args: &[&str]) -> (String, String, i32) {
        let out = command(ours("service"))
            .arg("--root")
            .arg(self.root())
            .args(args)
            .env_remove("MERIT_ROOT")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }

    /// `pgrep NAME` restricted to this tree: processes whose executable is our copy.
    pub fn pgrep(&self, name: &str) -> Vec<i32> {
        let exe = self.root().join("bin").join(name);
        let mut v = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            if std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_deref() == Some(exe.as_path()) {
                v.push(pid);
            }
        }
        v
    }

    pub fn shutdown(&mut self) {
        if let Some(mut d) = self.scanner.take() {
            let _ = std::process::Command::new(Impl::Ours.bin("s6-svscanctl")).arg("-t").arg(self.scan()).status();
            d.wait_timeout(Duration::from_secs(20));
        }
    }
}

impl Drop for MereTree {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn table(states: [(&str, &str); 5]) -> String {
    let mut s = String::from(
        "\nService            Status              OnBoot\n~~~~~~~            ~~~~~~~~            ~~~~~~~~\n",
    );
    for (n, (st, boot)) in SERVICES.iter().zip(states) {
        s += &format!("{:<19}{:<20}{}\n", n, st, boot);
    }
    s + "\n"
}

fn pid_in(line: &str) -> i32 {
    line.split("(pid ").nth(1).and_then(|r| r.split(')').next()).and_then(|p| p.parse().ok()).unwrap_or(-1)
}

fn replay(imp: Impl) {
    let mut t = MereTree::build(&format!("transcript-{imp:?}"));
    t.boot(imp);
    let up = ("up", "enabled");
    let ok = |r: (String, String, i32), want: &str| {
        assert_eq!(r.0, want, "{imp:?} stdout (stderr: {})", r.1);
        assert_eq!(r.2, 0, "{imp:?} exit code for {want:?}");
    };

    ok(t.service(&["list"]), &table([up; 5]));
    ok(t.service(&["klogd", "disable"]), "Disabling klogd from launching at boot... OK\n");
    ok(t.service(&["list"]), &table([up, ("up", "disabled"), up, up, up]));
    // $ ls -l /etc/s6/services/enabled/klogd: No such file or directory
    assert!(std::fs::symlink_metadata(t.root().join("etc/s6/services/enabled/klogd")).is_err());

    let (out, _, code) = t.service(&["klogd", "status"]);
    assert_eq!(mask(&out), "up (pid N) N seconds\n", "{imp:?}");
    assert_eq!(code, 0);
    assert_eq!(t.pgrep("klogd"), vec![pid_in(&out)], "{imp:?}: pgrep klogd shows the status pid");

    ok(t.service(&["klogd", "stop"]), "Stopping klogd... OK\n");
    let (out, _, code) = t.service(&["klogd", "status"]);
    assert_eq!(mask(&out), "down (signal N) N seconds, normally up, ready N seconds\n", "{imp:?}");
    assert!(out.starts_with("down (signal 15) "), "{out}");
    assert_eq!(code, 3, "status of a down service exits 3");
    assert!(t.pgrep("klogd").is_empty(), "{imp:?}: pgrep klogd shows nothing");

    ok(t.service(&["list"]), &table([up, ("down", "disabled"), up, up, up]));
    ok(t.service(&["klogd", "enable"]), "Enabling klogd to launch at boot... OK\n");
    // $ file /etc/s6/services/enabled/klogd: symbolic link to ../available/klogd
    assert_eq!(
        std::fs::read_link(t.root().join("etc/s6/services/enabled/klogd")).unwrap(),
        PathBuf::from("../available/klogd")
    );
    ok(t.service(&["list"]), &table([up, ("unknown", "enabled"), up, up, up]));
    ok(t.service(&["klogd", "start"]), "Starting klogd... OK\n");
    ok(t.service(&["list"]), &table([up; 5]));
    let (out, _, code) = t.service(&["klogd", "status"]);
    assert_eq!(mask(&out), "up (pid N) N seconds\n");
    assert_eq!(code, 0);
    assert_eq!(t.pgrep("klogd"), vec![pid_in(&out)]);

    t.shutdown();
    assert!(SERVICES.iter().all(|n| t.pgrep(n).is_empty()), "{imp:?}: services left after shutdown");
}

#[test]
fn transcript_replay_ours() {
    replay(Impl::Ours);
}

#[test]
fn transcript_replay_real_s6() {
    with_real_s6(|| replay(Impl::Real));
}
