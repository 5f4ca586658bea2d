//! Shared test harness: fresh temp folders, our and the real s6 binaries, daemons started in
//! their own session with default signal dispositions and stopped by PID, polling with deadlines.
#![allow(dead_code)]

/// Two tests of each case `fn NAME(imp: Impl)`: `NAME::ours` over our programs and `NAME::real`
/// over the real s6 (which proves the case asserts what s6 does; skipped with a message when s6
/// is not installed, a failure under CI=true).
macro_rules! both {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[test]
            fn ours() {
                super::$name($crate::common::Impl::Ours)
            }
            #[test]
            fn real() {
                if $crate::common::have_real_s6() {
                    super::$name($crate::common::Impl::Real)
                }
            }
        }
    )* };
}

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod podman;

/// A fresh directory under the system temp dir, removed (after its processes) on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let base = std::env::temp_dir();
        let mut rnd = [0u8; 6];
        merit_sys::fifodir::random_bytes(&mut rnd);
        let name: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let p = base.join(format!("merit-test-{tag}-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        kill_processes_under(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// SIGKILLs every process whose cwd or executable lies under `dir`: processes this test started
/// (service dirs are the cwd of `run`, `finish` and `s6-supervise`). Checked per PID through
/// /proc just before the signal, so a reused PID of someone else is never hit.
pub fn kill_processes_under(dir: &Path) {
    let Ok(dir) = dir.canonicalize() else { return };
    for _ in 0..3 {
        let mut found = false;
        for pid in processes_under(&dir) {
            found = true;
            let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGKILL);
        }
        if !found {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn processes_under(dir: &Path) -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut v = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else { return v };
    for e in rd.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        if pid == me {
            continue;
        }
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        if cwd.iter().chain(exe.iter()).any(|p| p.starts_with(dir)) {
            v.push(pid);
        }
    }
    v
}

/// Whether the tests run under CI=true, where a test that cannot run is a failure.
pub fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// `what` cannot run here because of `why`: under CI=true a failure, elsewhere a `SKIP:` line.
/// Returns false, so that a check reads `have_x() || cannot_run(..)`.
pub fn cannot_run(what: &str, why: &str) -> bool {
    if ci() {
        panic!("CI=true but {what} cannot run: {why}");
    }
    eprintln!("SKIP: {what}: {why}");
    false
}

/// Root and a working `unshare` for PID, mount and UTS namespaces (private propagation);
/// otherwise [`cannot_run`].
pub fn can_unshare(what: &str) -> bool {
    if merit_sys::geteuid() != 0 {
        return cannot_run(what, "needs root (namespaces)");
    }
    let ok = Command::new("unshare")
        .args(["--fork", "--pid", "--mount", "--uts", "--mount-proc", "--propagation", "private", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok || cannot_run(what, "`unshare --pid --mount --uts` does not work here")
}

/// The repository's top folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_default()
}

/// Path of one of our binaries (built by cargo next to the test executable).
pub fn ours(name: &str) -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_s6-supervise"));
    exe.parent().unwrap().join(name)
}

/// Whether the real s6 tools (and execline) are installed. Under CI=true their absence is a
/// failure; elsewhere the caller skips, and this prints why.
pub fn have_real_s6() -> bool {
    let ok = Path::new("/usr/bin/s6-supervise").exists() && Path::new("/usr/bin/s6-svstat").exists();
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but the real s6 binaries are not installed (/usr/bin/s6-supervise)");
        }
        eprintln!("SKIP: real s6 not installed (apt-get install s6 execline); oracle test skipped");
    }
    ok
}

/// Runs `case` when the real s6 is installed (see [`have_real_s6`]): for the tests of ours that
/// need s6 as the oracle or as the other side.
pub fn with_real_s6(case: impl FnOnce()) {
    if have_real_s6() {
        case()
    }
}

/// Path of a real s6 binary.
pub fn real(name: &str) -> PathBuf {
    PathBuf::from("/usr/bin").join(name)
}

/// A command that starts in a new session with SIGINT/SIGQUIT/SIGPIPE/SIGTERM/SIGHUP at their
/// default dispositions and an empty signal mask (whatever the test runner inherited).
pub fn command(prog: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(prog);
    // SAFETY: the closure runs between fork and exec; it only makes system calls.
    unsafe {
        c.pre_exec(|| {
            use merit_sys::signal::*;
            for s in [SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGHUP, SIGCHLD] {
                let _ = set_default(s);
            }
            unblock_all();
            let _ = merit_sys::process::setsid();
            Ok(())
        });
    }
    c
}

/// Runs a command to completion with stdin from /dev/null.
pub fn run(prog: impl AsRef<std::ffi::OsStr>, args: &[&str], cwd: &Path) -> Output {
    command(prog).args(args).current_dir(cwd).stdin(Stdio::null()).output().unwrap()
}

/// A long-running process (supervisor, scanner) that is stopped by PID on drop.
pub struct Daemon {
    pub child: Child,
}

impl Daemon {
    /// Spawns, retrying on ETXTBSY: a binary a test has just copied may still be open for
    /// writing in a child another test thread forked meanwhile (until that child execs).
    pub fn spawn(mut cmd: Command) -> Daemon {
        for _ in 0..100 {
            match cmd.stdin(Stdio::null()).spawn() {
                Ok(child) => return Daemon { child },
                Err(e) if e.raw_os_error() == Some(merit_sys::errno::ETXTBSY) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("spawn {cmd:?}: {e}"),
            }
        }
        panic!("spawn {cmd:?}: text file busy for 2 s");
    }
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
    /// Sends a signal, if the child has not been reaped yet.
    pub fn signal(&mut self, sig: i32) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = merit_sys::signal::kill(self.pid(), sig);
        }
    }
    /// Waits for exit up to `timeout`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.signal(merit_sys::signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Polls `f` every 10 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A generous deadline for "should happen promptly" on a loaded 2-core machine.
pub const PROMPT: Duration = Duration::from_secs(10);

/// Writes an executable file.
pub fn write_exec(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Makes a service directory `dir` whose run script is `run` (a `#!/bin/sh` body).
pub fn make_service(dir: &Path, run: &str) {
    std::fs::create_dir_all(dir).unwrap();
    write_exec(&dir.join("run"), &format!("#!/bin/sh\n{run}\n"));
}

/// Reads and decodes `DIR/supervise/status`.
pub fn status(dir: &Path) -> Option<merit_core::status::StatusFile> {
    let b = std::fs::read(dir.join("supervise/status")).ok()?;
    merit_core::status::StatusFile::decode(&b)
}

/// Which supervisor implementation a test drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    Ours,
    Real,
}

impl Impl {
    pub fn bin(self, name: &str) -> PathBuf {
        match self {
            Impl::Ours => ours(name),
            Impl::Real => real(name),
        }
    }
}

/// Starts `s6-supervise NAME` (cwd = parent of the service dir) and waits for its status file.
pub fn start_supervisor(imp: Impl, svc: &Path) -> Daemon {
    let parent = svc.parent().unwrap();
    let name = svc.file_name().unwrap();
    let mut cmd = command(imp.bin("s6-supervise"));
    cmd.arg(name).current_dir(parent).stdout(Stdio::null()).stderr(Stdio::null());
    let d = Daemon::spawn(cmd);
    assert!(
        wait_until(PROMPT, || merit_sys::lock::supervisor_running(svc).unwrap_or(false) && status(svc).is_some()),
        "{imp:?} s6-supervise did not start on {}",
        svc.display()
    );
    d
}

/// One row of the suite's table (`scripts/suite`): printed as
/// `SUITE<TAB>CASE<TAB>FIGURE<TAB>LIMIT<TAB>pass|fail`, and appended in one write to the file
/// named by `MERIT_SUITE_REPORT` when it is set.
pub fn suite_row(case: &str, figure: &str, limit: &str, pass: bool) {
    let clean = |s: &str| s.replace(['\t', '\n'], " ");
    let line = format!(
        "SUITE\t{}\t{}\t{}\t{}\n",
        clean(case),
        clean(figure),
        clean(limit),
        if pass { "pass" } else { "fail" }
    );
    print!("{line}");
    if let Some(p) = std::env::var_os("MERIT_SUITE_REPORT") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(p) {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Whether we are root. Under CI=true a test that needs root must run: its absence is a
/// failure; elsewhere the caller skips, and this prints why.
pub fn is_root(what: &str) -> bool {
    if merit_sys::geteuid() == 0 {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {what} needs root");
    }
    eprintln!("SKIP: {what}: not root");
    false
}

/// A blocking pipe whose buffer is full: (read end, kept by the caller; write end).
pub fn full_pipe() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::AsRawFd;
    let (r, w) = merit_sys::fd::pipe(true).unwrap();
    let chunk = [b'#'; 4096];
    while merit_sys::fd::write(w.as_raw_fd(), &chunk).is_ok() {}
    merit_sys::fd::set_nonblock(w.as_raw_fd(), false).unwrap();
    (r, w)
}

/// An unprivileged uid of this test process alone (derived from its pid, so that two test
/// runs at once do not share RLIMIT_NPROC counts or files).
pub fn test_uid() -> u32 {
    50_000 + std::process::id() % 10_000
}

/// Makes `cmd` run as `uid` (gid the same, no supplementary groups), with a soft RLIMIT_NPROC
/// of `nproc` when given (the hard limit is left alone: raising it needs CAP_SYS_RESOURCE,
/// which containers lack).
pub fn as_user(cmd: &mut Command, uid: u32, nproc: Option<u64>) {
    use merit_sys::system::{setrlimit, Resource};
    let (_, hard) = merit_sys::system::getrlimit(Resource::Nproc).unwrap();
    unsafe {
        cmd.pre_exec(move || {
            if let Some(n) = nproc {
                setrlimit(Resource::Nproc, n.min(hard), hard)?;
            }
            merit_sys::system::set_credentials(uid, uid, &[])
        });
    }
}

// The tests' one random generator (splitmix64), the fuzzers' settings and report rows, shared
// with merit-core's tests.
#[path = "../../../../core/tests/support/shared.rs"]
mod shared;
pub use shared::{env_u64, fuzz_seed, report_row, Rng};

impl Rng {
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// An index below `n` (0 when `n` is 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
    pub fn one_in(&mut self, n: usize) -> bool {
        self.index(n) == 0
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.index(v.len())]
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
