//! Booting our `init` as PID 1 of a PID + mount namespace (`unshare`), over a tree under a root
//! prefix: shared by tests/init*.rs. Every boot is cleaned up: the namespace's PID 1 is killed
//! by its host pid (after checking that its parent is our `unshare`), which ends every process
//! of the namespace.
#![allow(dead_code)]

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Root and `unshare` are needed; under CI=true their absence is a failure.
pub fn can_unshare() -> bool {
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
pub struct Booted {
    pub unshare: Daemon,
    /// Host pid of the namespace's PID 1.
    pub pid1: i32,
    pub root: PathBuf,
    /// init's stdout and stderr (the namespace's "console").
    pub console: PathBuf,
    pub started: Instant,
}

/// How to boot.
#[derive(Default)]
pub struct Boot<'a> {
    /// The init to boot (default: ours, from the cargo build).
    pub init: Option<&'a Path>,
    pub args: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
}

pub fn boot(root: &Path, how: Boot) -> Booted {
    let console = root.join("console.out");
    let out = std::fs::File::create(&console).unwrap();
    let mut cmd = command("unshare");
    cmd.args(["--fork", "--pid", "--mount", "--uts", "--mount-proc", "--propagation", "private"])
        .arg(how.init.map_or_else(|| ours("init"), Path::to_path_buf))
        .arg("--root")
        .arg(root)
        .args(how.args)
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    for (k, v) in how.env {
        cmd.env(k, v);
    }
    let started = Instant::now();
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
    Booted { unshare, pid1, root: root.to_path_buf(), console, started }
}

impl Booted {
    /// A path under the root prefix, as seen inside the namespace's mounts (/s6 and /run are
    /// tmpfs mounted there, invisible from the host, except in container mode).
    pub fn inside(&self, rel: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{}/{}", self.pid1, self.root.display(), rel))
    }

    /// Runs a command inside the namespace, with MERIT_ROOT set.
    pub fn nsenter(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("nsenter")
            .args(["-t", &self.pid1.to_string(), "-p", "-m", "-u", "--"])
            .args(args)
            .env("MERIT_ROOT", &self.root)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// `init telinit N` inside the namespace; asserts that it succeeded.
    pub fn telinit(&self, level: &str) {
        let out = self.nsenter(&[ours("init").to_str().unwrap(), "telinit", level]);
        assert!(out.status.success(), "telinit {level}: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn is_up(&self, name: &str) -> bool {
        status(&self.inside(&format!("s6/run/{name}"))).is_some_and(|s| s.is_up())
    }

    /// Waits until every named service (and its logger, when it has one) is up.
    pub fn wait_up(&self, names: &[&str]) {
        let ok = wait_until(Duration::from_secs(30), || {
            names.iter().all(|n| {
                self.is_up(n) && (!self.inside(&format!("s6/run/{n}/log")).is_dir() || self.is_up(&format!("{n}/log")))
            })
        });
        assert!(ok, "services did not come up: {names:?}\nconsole:\n{}", self.console_text());
    }

    /// Waits for the namespace to end; its exit status (unshare passes its child's on).
    pub fn wait_end(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        self.unshare.wait_timeout(timeout)
    }

    /// `telinit 0`; init must then end by reboot(2) within 30 s and leave nothing running
    /// under the root. `what` names the case in the messages.
    pub fn halt_cleanly(&mut self, what: &str) {
        self.telinit("0");
        let st = self.wait_end(Duration::from_secs(30)).unwrap_or_else(|| panic!("{what}: init did not end"));
        assert_halted(&st, &format!("{what}\n{}", self.console_text()));
        let left = crate::common::processes_under(&self.root);
        assert!(left.is_empty(), "{what}: processes left: {left:?}");
    }

    pub fn console_text(&self) -> String {
        std::fs::read_to_string(&self.console).unwrap_or_default()
    }

    /// Host pids of every process of the namespace (PID 1 included).
    pub fn processes(&self) -> Vec<i32> {
        let Ok(ns) = std::fs::read_link(format!("/proc/{}/ns/pid", self.pid1)) else { return Vec::new() };
        let mut v = Vec::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            if std::fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|l| l == ns) {
                v.push(pid);
            }
        }
        v
    }

    /// Zombies of the namespace: host pid and parent's host pid.
    pub fn zombies(&self) -> Vec<(i32, i32)> {
        self.processes()
            .into_iter()
            .filter_map(|p| {
                let st = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                let rest = st.rsplit_once(')')?.1;
                let mut f = rest.split_whitespace();
                let state = f.next()?;
                let ppid: i32 = f.next()?.parse().ok()?;
                (state == "Z").then_some((p, ppid))
            })
            .collect()
    }
}

/// How a non-container init ends in a PID namespace: its reboot(2) (halt or poweroff) makes the
/// kernel end the namespace's PID 1 with SIGINT, which unshare passes on.
pub fn assert_halted(st: &std::process::ExitStatus, console: &str) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(libc::SIGINT), "{st:?}: not ended by reboot(2)\n{console}");
}

impl Drop for Booted {
    fn drop(&mut self) {
        // Killing the namespace's PID 1 ends every process in it. Checked first: its parent
        // must still be our unshare (a reused pid is someone else's).
        let ppid = std::fs::read_to_string(format!("/proc/{}/stat", self.pid1))
            .ok()
            .and_then(|s| s.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().nth(1).and_then(|p| p.parse::<i32>().ok())));
        if ppid == Some(self.unshare.pid()) {
            unsafe { libc::kill(self.pid1, libc::SIGKILL) };
        }
    }
}

/// `init skeleton ROOT`, a hostname and ROOT/var/log.
pub fn skeleton(root: &Path) {
    let st = std::process::Command::new(ours("init")).arg("skeleton").arg(root).status().unwrap();
    assert!(st.success());
    std::fs::create_dir_all(root.join("var/log")).unwrap();
    std::fs::write(root.join("etc/hostname"), "merit-test\n").unwrap();
}

/// An available and enabled service whose run script has `body` after `#!/bin/sh`.
/// Returns its definition directory.
pub fn service(root: &Path, name: &str, body: &str) -> PathBuf {
    let d = root.join("etc/s6/services/available").join(name);
    std::fs::create_dir_all(&d).unwrap();
    write_exec(&d.join("run"), &format!("#!/bin/sh\n{body}\n"));
    let link = root.join("etc/s6/services/enabled").join(name);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(format!("../available/{name}"), link).unwrap();
    d
}

/// Gives a service a logger that appends to ROOT/var/log/NAME.
pub fn logger(root: &Path, name: &str) {
    let d = root.join("etc/s6/services/available").join(name).join("log");
    std::fs::create_dir_all(&d).unwrap();
    write_exec(&d.join("run"), &format!("#!/bin/sh\nexec cat >> {}\n", root.join("var/log").join(name).display()));
}

/// Gives a service a `finish` that appends `NAME CODE SIGNAL MILLISECONDS` to
/// ROOT/var/log/finished (wall-clock milliseconds, comparable with [`now_ms`]).
pub fn finish_recorder(root: &Path, name: &str) {
    let d = root.join("etc/s6/services/available").join(name);
    write_exec(
        &d.join("finish"),
        &format!(
            "#!/bin/sh\necho \"{name} $1 $2 $(($(date +%s%N)/1000000))\" >> {}\n",
            root.join("var/log/finished").display()
        ),
    );
}

/// Lines of ROOT/var/log/finished for `name`: (code, signal, ms).
pub fn finished(root: &Path, name: &str) -> Vec<(i64, i64, u128)> {
    std::fs::read_to_string(root.join("var/log/finished"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 4 && f[0] == name).then(|| (f[1].parse().unwrap_or(-1), f[2].parse().unwrap_or(-1), f[3].parse().unwrap_or(0)))
        })
        .collect()
}

pub fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
}

/// A run script body that prints a numbered line every 50 ms and a last line on SIGTERM.
pub fn chatty(name: &str) -> String {
    format!("exec 2>&1\ntrap 'echo \"{name} last line\"; exit 0' TERM\ni=0\nwhile :; do i=$((i+1)); echo \"{name} line $i\"; sleep 0.05; done")
}

/// A run script body that ignores SIGTERM (the shell and its `sleep`s alike).
pub const STUBBORN: &str = "trap '' TERM\nwhile :; do sleep 0.1; done";
