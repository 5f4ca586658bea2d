//! Shared by the `service_*` tests: a Mere-like tree under a root prefix, booted with our scanner
//! or the real s6-svscan, driven with our `service`, checked through the status files and the
//! real `s6-svstat` (ours when s6 is not installed).
#![allow(dead_code)]

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

pub const SCAN: &str = "s6/run";
pub const AVAILABLE: &str = "etc/s6/services/available";
pub const ENABLED: &str = "etc/s6/services/enabled";

/// `service`'s commands, in the order of its usage text (what the tests expect; the program's
/// own list is `merit_core::service::doc::COMMANDS`).
pub const SERVICE_COMMANDS: [&str; 14] = [
    "list",
    "enable",
    "disable",
    "start",
    "stop",
    "status",
    "restart",
    "reload",
    "resup",
    "unsup",
    "logs",
    "needs",
    "needed-by",
    "graph",
];

/// The commands that take a service name: all but `list` and `graph`.
pub fn named_commands() -> Vec<&'static str> {
    SERVICE_COMMANDS.into_iter().filter(|c| !["list", "graph"].contains(c)).collect()
}

/// How a test service is made.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// Lines of the `run` script before the final `exec` (a `#!/bin/sh` script).
    pub pre: String,
    /// The final line; default `exec ROOT/bin/NAME 100000` (a copy of `sleep` named after the
    /// service, so that its processes can be found by executable).
    pub exec: Option<String>,
    /// A logger: `log/run` runs s6-log into `ROOT/var/log/NAME` (TAI64N stamps).
    pub logger: bool,
    /// `notification-fd` content.
    pub notification_fd: Option<u32>,
    /// A `down` file.
    pub down: bool,
    /// A `restart` script body.
    pub restart: Option<String>,
}

pub struct Tree {
    pub dir: TempDir,
    pub scanner: Option<(Daemon, Impl)>,
}

/// The output of one `service` run.
#[derive(Debug)]
pub struct Run {
    pub out: String,
    pub err: String,
    pub code: i32,
}

impl Run {
    pub fn from(o: Output) -> Run {
        Run {
            out: String::from_utf8_lossy(&o.stdout).into_owned(),
            err: String::from_utf8_lossy(&o.stderr).into_owned(),
            code: o.status.code().unwrap_or(-1),
        }
    }
    #[track_caller]
    pub fn ok(&self, stdout: &str) {
        assert_eq!((self.out.as_str(), self.code), (stdout, 0), "stderr: {}", self.err);
    }
}

/// The program that gets logs written: the real s6-log when installed, else ours.
pub fn s6_log() -> PathBuf {
    if Path::new("/usr/bin/s6-log").exists() {
        real("s6-log")
    } else {
        ours("s6-log")
    }
}

/// The s6-svstat the tests believe: the real one when installed, else ours.
pub fn svstat_bin() -> PathBuf {
    if Path::new("/usr/bin/s6-svstat").exists() {
        real("s6-svstat")
    } else {
        ours("s6-svstat")
    }
}

impl Tree {
    pub fn new(tag: &str) -> Tree {
        let dir = TempDir::new(tag);
        for d in [SCAN, AVAILABLE, ENABLED, "bin", "var/log"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        Tree { dir, scanner: None }
    }
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn scan(&self) -> PathBuf {
        self.dir.join(SCAN)
    }
    pub fn svc(&self, name: &str) -> PathBuf {
        self.scan().join(name)
    }
    pub fn def(&self, name: &str) -> PathBuf {
        self.dir.join(AVAILABLE).join(name)
    }
    pub fn link(&self, name: &str) -> PathBuf {
        self.dir.join(ENABLED).join(name)
    }
    pub fn logdir(&self, name: &str) -> PathBuf {
        self.dir.join("var/log").join(name)
    }
    pub fn exe(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }

    /// Defines `available/NAME`.
    pub fn add(&self, name: &str, spec: Spec) {
        let exe = self.exe(name);
        if !exe.exists() {
            std::fs::copy("/bin/sleep", &exe).unwrap();
        }
        let d = self.def(name);
        std::fs::create_dir_all(&d).unwrap();
        let exec = spec.exec.clone().unwrap_or_else(|| format!("exec {} 100000", exe.display()));
        write_exec(&d.join("run"), &format!("#!/bin/sh\n{}\n{}\n", spec.pre, exec));
        if spec.logger {
            std::fs::create_dir_all(d.join("log")).unwrap();
            std::fs::create_dir_all(self.logdir(name)).unwrap();
            write_exec(
                &d.join("log/run"),
                &format!("#!/bin/sh\nexec {} -b -- t {}\n", s6_log().display(), self.logdir(name).display()),
            );
        }
        if let Some(fd) = spec.notification_fd {
            std::fs::write(d.join("notification-fd"), format!("{fd}\n")).unwrap();
        }
        if spec.down {
            std::fs::write(d.join("down"), "").unwrap();
        }
        if let Some(body) = &spec.restart {
            write_exec(&d.join("restart"), &format!("#!/bin/sh\n{body}\n"));
        }
    }

    /// `enabled/NAME -> ../available/NAME`.
    pub fn enable(&self, name: &str) {
        std::os::unix::fs::symlink(format!("../available/{name}"), self.link(name)).unwrap();
    }

    /// Copies the definition into the scan directory (rc.init's step).
    pub fn install(&self, name: &str) {
        let st = std::process::Command::new("cp").arg("-a").arg(self.def(name)).arg(self.scan()).status().unwrap();
        assert!(st.success());
    }

    /// Starts a scanner and waits for the given services (and their loggers) to be up.
    pub fn boot(&mut self, imp: Impl, up: &[&str]) {
        let mut cmd = command(imp.bin("s6-svscan"));
        cmd.arg(self.scan()).stdout(Stdio::null()).stderr(Stdio::null());
        self.scanner = Some((Daemon::spawn(cmd), imp));
        let scan = self.scan();
        assert!(
            wait_until(PROMPT, || scan.join(".s6-svscan/control").exists()
                && up.iter().all(|n| {
                    let d = scan.join(n);
                    status(&d).is_some_and(|s| s.is_up())
                        && (!d.join("log").exists() || status(&d.join("log")).is_some_and(|s| s.is_up()))
                })),
            "{imp:?}: the tree did not come up"
        );
        // The scanner listens on its control FIFO (a non-blocking open for writing succeeds).
        assert!(wait_until(PROMPT, || {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(merit_sys::flags::O_NONBLOCK)
                .open(scan.join(".s6-svscan/control"))
                .is_ok()
        }));
    }

    /// Runs our `service --root ROOT ARGS...`.
    pub fn service(&self, args: &[&str]) -> Run {
        Run::from(self.service_cmd(args).output().unwrap())
    }

    pub fn service_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = command(ours("service"));
        c.arg("--root")
            .arg(self.root())
            .args(args)
            .env_remove("MERIT_ROOT")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        c
    }

    /// `s6-svstat ARGS SCAN/NAME` (the real one when installed): stdout and exit code.
    pub fn svstat(&self, args: &[&str], name: &str) -> (String, i32) {
        let o = std::process::Command::new(svstat_bin())
            .args(args)
            .arg(self.svc(name))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (String::from_utf8_lossy(&o.stdout).into_owned(), o.status.code().unwrap_or(-1))
    }

    /// Is a supervisor running on SCAN/NAME (the real `s6-svok` when installed)?
    pub fn svok(&self, name: &str) -> bool {
        let bin = if Path::new("/usr/bin/s6-svok").exists() { real("s6-svok") } else { ours("s6-svok") };
        std::process::Command::new(bin).arg(self.svc(name)).status().unwrap().success()
    }

    /// Processes of the service's executable copy (`pgrep NAME` restricted to this tree).
    pub fn pgrep(&self, name: &str) -> Vec<i32> {
        let exe = self.exe(name);
        let mut v = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            if std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_deref() == Some(exe.as_path()) {
                v.push(pid);
            }
        }
        v
    }

    /// Processes whose working directory is the service's copy, its logger's, or a hidden
    /// copy of it (supervisors, run, log/run), deleted or not.
    pub fn processes_of(&self, name: &str) -> Vec<(i32, String)> {
        let scan = self.scan().canonicalize().unwrap();
        let plain = scan.join(name);
        let hidden = format!("{}/.{name}.", scan.display());
        let mut v = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd")) else { continue };
            let c = cwd.to_string_lossy().into_owned();
            if cwd.starts_with(&plain) || c.starts_with(&hidden) {
                v.push((pid, c));
            }
        }
        v
    }

    /// The pid in the status file when up.
    pub fn pid(&self, name: &str) -> Option<i32> {
        status(&self.svc(name)).filter(|s| s.is_up()).map(|s| s.pid as i32)
    }

    /// Waits for SCAN/NAME to be up (and ready) with a pid other than `not`.
    #[track_caller]
    pub fn wait_up(&self, name: &str, ready: bool, not: Option<i32>) -> i32 {
        let d = self.svc(name);
        let mut pid = 0;
        assert!(
            wait_until(PROMPT, || {
                status(&d).is_some_and(|s| {
                    pid = s.pid as i32;
                    s.is_up() && (!ready || s.ready) && Some(pid) != not
                })
            }),
            "{name} did not come up"
        );
        pid
    }

    pub fn scanner_impl(&self) -> Impl {
        self.scanner.as_ref().map(|s| s.1).unwrap_or(Impl::Ours)
    }

    /// Stops the scanner with `s6-svscanctl -t` (of its own implementation) and waits.
    pub fn shutdown(&mut self) {
        if let Some((mut d, imp)) = self.scanner.take() {
            let _ = std::process::Command::new(imp.bin("s6-svscanctl")).arg("-t").arg(self.scan()).status();
            d.wait_timeout(Duration::from_secs(20));
        }
    }

    /// Every entry of the tree: path, kind, mode, link target or content (FIFOs and sockets by
    /// kind only), sorted. Two equal snapshots mean nothing on disk changed.
    pub fn snapshot(&self) -> Vec<String> {
        let mut v = Vec::new();
        snap(self.root(), self.root(), &mut v);
        v.sort();
        v
    }
}

fn snap(root: &Path, p: &Path, out: &mut Vec<String>) {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let Ok(rd) = std::fs::read_dir(p) else { return };
    for e in rd.flatten() {
        let path = e.path();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let Ok(m) = std::fs::symlink_metadata(&path) else { continue };
        let mode = m.permissions().mode() & 0o7777;
        let ft = m.file_type();
        let what = if ft.is_symlink() {
            format!("link {}", std::fs::read_link(&path).unwrap().display())
        } else if ft.is_dir() {
            snap(root, &path, out);
            "dir".to_string()
        } else if ft.is_fifo() {
            "fifo".to_string()
        } else if ft.is_socket() {
            "socket".to_string()
        } else {
            let data = std::fs::read(&path).unwrap_or_default();
            format!("file {} {:x}", data.len(), fnv(&data))
        };
        out.push(format!("{rel} {mode:o} {what}"));
    }
}

fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

impl Drop for Tree {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Replaces every run of digits by `N`.
pub fn mask(s: &str) -> String {
    let mut o = String::new();
    let mut in_num = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_num {
                o.push('N');
            }
            in_num = true;
        } else {
            o.push(c);
            in_num = false;
        }
    }
    o
}
