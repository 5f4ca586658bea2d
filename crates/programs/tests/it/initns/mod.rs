//! Booting our `init` as PID 1 of a PID + mount namespace (`unshare`), over a tree under a root
//! prefix: shared by tests/init*.rs. Every boot is cleaned up: the namespace's PID 1 is killed
//! by its host pid (after checking that its parent is our `unshare`), which ends every process
//! of the namespace.
#![allow(dead_code)]

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A booted namespace: the `unshare` process and, inside it, our init (PID 1 there).
pub struct Booted {
    pub unshare: Daemon,
    /// Host pid of the namespace's PID 1.
    pub pid1: i32,
    pub root: PathBuf,
    /// init's stdout and stderr (the namespace's "console").
    pub console: PathBuf,
    pub started: Instant,
    /// Booted by [`boot_chroot`]: no root prefix, `root` is where its tmpfs is mounted.
    pub chroot: bool,
}

/// How to boot.
#[derive(Default)]
pub struct Boot<'a> {
    /// The init to boot (default: ours, from the cargo build).
    pub init: Option<&'a Path>,
    pub args: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
    /// The root prefix in MERIT_ROOT instead of `--root ROOT` before `args`: then `args` are
    /// init's whole command line (`init shutdown`, words of a kernel command line...).
    pub root_in_env: bool,
    /// Raw `NAME=VALUE` entries added to init's environment as they are, such as `=foo=bar`,
    /// which no std API (nor env(1)) can set.
    pub raw_env: &'a [&'a str],
}

pub fn boot(root: &Path, how: Boot) -> Booted {
    let console = root.join("console.out");
    let out = std::fs::File::create(&console).unwrap();
    let mut cmd = command("unshare");
    cmd.args(["--fork", "--pid", "--mount", "--uts", "--mount-proc", "--propagation", "private"])
        .arg(how.init.map_or_else(|| ours("init"), Path::to_path_buf));
    if how.root_in_env {
        cmd.env("MERIT_ROOT", root);
    } else {
        cmd.arg("--root").arg(root);
    }
    cmd.args(how.args).stdout(out.try_clone().unwrap()).stderr(out);
    // The host's own container marker must not put our init in container mode.
    cmd.env_remove("container");
    for (k, v) in how.env {
        cmd.env(k, v);
    }
    if !how.raw_env.is_empty() {
        raw_environment(&mut cmd, how.raw_env);
    }
    start(cmd, root, console)
}

/// Makes `cmd` exec with its environment plus `raw` entries as they are: std would refuse
/// them, so its child execs by itself (execve in `pre_exec`, with everything prepared before
/// the fork).
fn raw_environment(cmd: &mut std::process::Command, raw: &[&str]) {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    let prog = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(cmd.get_program()))
        .find(|p| p.is_file())
        .expect("program not found on PATH");
    let path = CString::new(prog.as_os_str().as_bytes()).unwrap();
    let argv: Vec<CString> =
        std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|a| CString::new(a.as_bytes()).unwrap()).collect();
    let mut vars: std::collections::BTreeMap<Vec<u8>, Vec<u8>> =
        std::env::vars_os().map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec())).collect();
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => vars.insert(k.as_bytes().to_vec(), v.as_bytes().to_vec()),
            None => vars.remove(k.as_bytes()),
        };
    }
    let envp: Vec<CString> = vars
        .into_iter()
        .map(|(k, v)| CString::new([k, b"=".to_vec(), v].concat()).unwrap())
        .chain(raw.iter().map(|r| CString::new(*r).unwrap()))
        .collect();
    let exec = merit_sys::process::Execve::new(path, argv, envp);
    // SAFETY: the closure only calls execve (async-signal-safe) on memory prepared before.
    unsafe {
        cmd.pre_exec(move || Err(exec.exec()));
    }
}

/// Starts `cmd` (an unshare whose child becomes init) and waits for its PID 1.
fn start(cmd: std::process::Command, root: &Path, console: PathBuf) -> Booted {
    let started = Instant::now();
    let unshare = Daemon::spawn(cmd);
    let mut pid1 = 0;
    assert!(
        wait_until(PROMPT, || {
            let kids =
                std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", unshare.pid())).unwrap_or_default();
            pid1 = kids.split_whitespace().next().and_then(|p| p.parse().ok()).unwrap_or(0);
            pid1 != 0
        }),
        "unshare did not start init"
    );
    Booted { unshare, pid1, root: root.to_path_buf(), console, started, chroot: false }
}

/// Whether a chroot boot can be made: busybox-static and execline (as installed by `.ci/run`);
/// under CI=true their absence is a failure.
pub fn can_chroot() -> bool {
    let ok = Path::new("/bin/busybox").is_file()
        && Path::new("/usr/bin/execlineb").is_file()
        && Path::new("/usr/lib/execline/bin").is_dir();
    if !ok {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true but busybox-static or execline is missing");
        eprintln!("SKIP: needs busybox-static and execline for a chroot boot");
    }
    ok
}

/// Shared libraries `ldd` names for `exe` (the loader included).
fn ldd(exe: &Path) -> Vec<PathBuf> {
    let out = std::process::Command::new("ldd").arg(exe).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let p = match l.split_once("=>") {
                Some((_, r)) => r.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            p.starts_with('/').then(|| PathBuf::from(p))
        })
        .collect()
}

/// Copies a host file to the same path under `root` (symlinks followed), keeping its mode.
fn copy_in(root: &Path, host: &Path) {
    let to = root.join(host.strip_prefix("/").unwrap());
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(host, &to).unwrap();
}

/// A system to boot without a root prefix, in a chroot: `root` gets our multi-call binary in
/// /sbin (a link per program), busybox as /bin/sh, Debian's execline (as /bin/execlineb, the
/// path Mere's scripts use), and the libraries they need. The caller lays out /etc.
pub fn chroot_system(root: &Path) {
    let sbin = root.join("sbin");
    std::fs::create_dir_all(&sbin).unwrap();
    std::fs::copy(ours("merit"), sbin.join("merit")).unwrap();
    for l in ldd(&ours("merit")) {
        copy_in(root, &l);
    }
    let names = [
        "init",
        "s6-svscan",
        "s6-supervise",
        "s6-svscanctl",
        "s6-svc",
        "s6-svok",
        "s6-svstat",
        "s6-svwait",
        "s6-log",
        "s6-applyuidgid",
    ];
    for n in names {
        std::os::unix::fs::symlink("merit", sbin.join(n)).unwrap();
    }
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in ["sh", "cat", "ls", "sleep", "grep", "mkdir"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::fs::copy("/usr/bin/execlineb", root.join("bin/execlineb")).unwrap();
    for e in std::fs::read_dir("/usr/lib/execline/bin").unwrap().flatten() {
        copy_in(root, &e.path());
        for l in ldd(&e.path()) {
            copy_in(root, &l);
        }
    }
    for d in ["proc", "dev", "tmp", "var/log"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
}

/// Boots `stage` (see [`chroot_system`]) as PID 1 of a PID + mount namespace, chrooted, with no
/// root prefix: what a real boot sees. The system is first copied onto a tmpfs mounted at
/// `mnt` (with a tmpfs /dev holding /dev/null), so that the last stage's unmounting and
/// read-only remount of `/` touch nothing of the host.
pub fn boot_chroot(stage: &Path, mnt: &Path) -> Booted {
    std::fs::create_dir_all(mnt).unwrap();
    let console = mnt.parent().unwrap().join("console.out");
    let out = std::fs::File::create(&console).unwrap();
    let mut cmd = command("unshare");
    cmd.args(["--fork", "--pid", "--mount", "--uts", "--propagation", "private", "/bin/sh", "-c"])
        .arg(
            "set -e; mount -t tmpfs -o mode=0755 tmpfs \"$1\"; cp -a \"$2\"/. \"$1\"/; \
             mount -t tmpfs -o mode=0755 tmpfs \"$1/dev\"; mknod -m 666 \"$1/dev/null\" c 1 3; \
             exec chroot \"$1\" /sbin/init",
        )
        .args(["sh".as_ref(), mnt.as_os_str(), stage.as_os_str()])
        .env_remove("container")
        .env_remove("MERIT_ROOT")
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    let mut b = start(cmd, mnt, console);
    b.chroot = true;
    b
}

impl Booted {
    /// A path under the root prefix, as seen inside the namespace's mounts (/s6 and /run are
    /// tmpfs mounted there, invisible from the host, except in container mode).
    pub fn inside(&self, rel: &str) -> PathBuf {
        if self.chroot {
            return PathBuf::from(format!("/proc/{}/root/{}", self.pid1, rel));
        }
        PathBuf::from(format!("/proc/{}/root{}/{}", self.pid1, self.root.display(), rel))
    }

    /// Runs a command inside the namespace, with MERIT_ROOT set (in a chroot boot: in the
    /// chroot, without MERIT_ROOT).
    pub fn nsenter(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = std::process::Command::new("nsenter");
        cmd.args(["-t", &self.pid1.to_string(), "-p", "-m", "-u"]);
        if self.chroot {
            cmd.args(["-r", "-w"]).env_remove("MERIT_ROOT");
        } else {
            cmd.env("MERIT_ROOT", &self.root);
        }
        cmd.arg("--").args(args).stdin(Stdio::null()).output().unwrap()
    }

    /// `init telinit N` inside the namespace; asserts that it succeeded.
    pub fn telinit(&self, level: &str) {
        let init = if self.chroot { PathBuf::from("/sbin/init") } else { ours("init") };
        let out = self.nsenter(&[init.to_str().unwrap(), "telinit", level]);
        assert!(out.status.success(), "telinit {level}: {out:?}\nconsole:\n{}", self.console_text());
    }

    /// `init telinit N` inside a namespace whose shutdown may overtake telinit's own exit on a
    /// loaded machine: the last stage's TERM/KILL of every process, or the end of the
    /// namespace, may kill it. Success, or killed so and the namespace then ends.
    pub fn telinit_may_end(&mut self, level: &str) {
        use std::os::unix::process::ExitStatusExt;
        let init = if self.chroot { PathBuf::from("/sbin/init") } else { ours("init") };
        let out = self.nsenter(&[init.to_str().unwrap(), "telinit", level]);
        let killed = matches!(out.status.signal(), Some(merit_sys::signal::SIGKILL | merit_sys::signal::SIGTERM));
        let ended = killed && self.wait_end(Duration::from_secs(30)).is_some();
        assert!(out.status.success() || ended, "telinit {level}: {out:?}\nconsole:\n{}", self.console_text());
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
        self.telinit_may_end("0");
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

    /// Zombies of the namespace: host pid and parent's host pid. (A zombie's /proc/PID/ns
    /// links cannot be read: a zombie is the namespace's when its parent is.)
    pub fn zombies(&self) -> Vec<(i32, i32)> {
        let living = self.processes();
        let mut v = Vec::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            let Ok(st) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            let Some((_, rest)) = st.rsplit_once(')') else { continue };
            let mut f = rest.split_whitespace();
            let (Some(state), Some(Ok(ppid))) = (f.next(), f.next().map(str::parse::<i32>)) else { continue };
            if state == "Z" && living.contains(&ppid) {
                v.push((pid, ppid));
            }
        }
        v
    }
}

/// How a non-container init ends in a PID namespace: its reboot(2) (halt or poweroff) makes the
/// kernel end the namespace's PID 1 with SIGINT, which unshare passes on.
pub fn assert_halted(st: &std::process::ExitStatus, console: &str) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(merit_sys::signal::SIGINT), "{st:?}: not ended by reboot(2)\n{console}");
}

impl Drop for Booted {
    fn drop(&mut self) {
        // Killing the namespace's PID 1 ends every process in it. Checked first: its parent
        // must still be our unshare (a reused pid is someone else's).
        let ppid = std::fs::read_to_string(format!("/proc/{}/stat", self.pid1)).ok().and_then(|s| {
            s.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().nth(1).and_then(|p| p.parse::<i32>().ok()))
        });
        if ppid == Some(self.unshare.pid()) {
            let _ = merit_sys::signal::kill(self.pid1, merit_sys::signal::SIGKILL);
        }
    }
}

/// The log of service `name` (`ROOT/var/log/NAME`), asserting that it ends with the line the
/// service writes last (`NAME last line`, [`chatty`]'s on SIGTERM).
pub fn assert_last_line(root: &Path, name: &str) -> String {
    let log = std::fs::read_to_string(root.join("var/log").join(name)).unwrap();
    let tail = &log[log.len().saturating_sub(80)..];
    assert!(log.ends_with(&format!("{name} last line\n")), "{name}: last line missing; log ends {tail:?}");
    log
}

/// Asserts that no process has its working directory or executable under `root`.
pub fn assert_nothing_under(root: &Path) {
    let left = processes_under(root);
    assert!(left.is_empty(), "processes left: {left:?}");
}

/// A fresh folder to boot init in (`TempDir::new(tag)`) and its path, the root of the system;
/// `None`, after saying why, where PID namespaces cannot be made (the test then skips).
pub fn ns_root(tag: &str) -> Option<(TempDir, PathBuf)> {
    if !can_unshare("booting init in a PID namespace") {
        return None;
    }
    let t = TempDir::new(tag);
    let root = t.path().to_path_buf();
    Some((t, root))
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
            (f.len() == 4 && f[0] == name)
                .then(|| (f[1].parse().unwrap_or(-1), f[2].parse().unwrap_or(-1), f[3].parse().unwrap_or(0)))
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
