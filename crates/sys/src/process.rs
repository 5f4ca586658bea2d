//! Spawning children (clone-vfork or fork, then exec; s6-log's processors), reaping them,
//! sessions.

use crate::{cvt, Error, Result};
use std::ffi::{CStr, CString};
use std::os::fd::RawFd;

/// What a child needs before `execv`.
pub struct Spawn<'a> {
    /// Program path passed to `execv`.
    pub path: &'a CStr,
    /// argv, `argv[0]` included.
    pub argv: &'a [CString],
    /// Descriptors to move into place in the child, `(from, to)`, in order; `to` is left open
    /// across exec (not close-on-exec).
    pub fd_moves: &'a [(RawFd, RawFd)],
    /// After the moves: take a blocking write lock on this fd before exec. The move sources are
    /// closed first (the caller must hold no other descriptor of that file across the spawn).
    pub lock_wait: Option<RawFd>,
    /// Become a session (and process group) leader.
    pub setsid: bool,
    /// A `cgroup.procs` file open for writing: the child writes `0` to it first, joining that
    /// cgroup before anything else (so that whatever it starts is in it too). A failed write
    /// leaves the child where it was.
    pub cgroup_procs: Option<RawFd>,
}

/// Why a spawn failed.
#[derive(Debug)]
pub enum SpawnError {
    /// pipe/fork failed: nothing was started.
    Fork(Error),
    /// The child (this pid) could not exec: it has exited 127 and been reaped.
    Exec(i32, Error),
}

/// Starts a child and execs. Returns the child's pid once the exec has succeeded.
///
/// The child shares our memory until its exec (`clone(CLONE_VM|CLONE_VFORK)`, what
/// `posix_spawn` does): no page tables to copy, no copy-on-write faults in either process
/// afterwards, and we are resumed as soon as the exec has replaced the child's memory (or the
/// child has exited). [`Spawn::lock_wait`] must be `None` (EINVAL otherwise): a child that
/// waits for a lock cannot have its exec waited for, use [`spawn_detached`].
pub fn spawn(s: &Spawn) -> std::result::Result<i32, SpawnError> {
    if s.lock_wait.is_some() {
        return Err(SpawnError::Fork(Error::from_raw_os_error(libc::EINVAL)));
    }
    let mut err: i32 = 0;
    let pid = vfork_exec(s, Failure::Record(&mut err)).map_err(SpawnError::Fork)?;
    // SAFETY: the child wrote `err` (if at all) before it exited; it is gone now (the kernel
    // resumed us at its exit or exec), so nothing else accesses it.
    let err = unsafe { std::ptr::read_volatile(&err) };
    if err != 0 {
        let _ = wait_pid(pid);
        return Err(SpawnError::Exec(pid, Error::from_raw_os_error(err)));
    }
    Ok(pid)
}

/// Starts a child like [`spawn`] but returns at once, without learning whether its exec
/// succeeded: on failure the child writes `fail_prefix`, the `strerror` of the cause and a
/// newline to its stderr (never blocking, see [`crate::fd::write_diag`]) and exits
/// `fail_code`, and the caller learns of it by reaping (s6-svscan's way with its supervisors).
///
/// With [`Spawn::lock_wait`] the child is forked, not clone-vforked: it may wait a long time
/// for the lock (held, say, by an orphaned instance of the service), and we must go on
/// answering commands and signals meanwhile.
pub fn spawn_detached(s: &Spawn, fail_prefix: &[u8], fail_code: i32) -> Result<i32> {
    let failure = Failure::Message(fail_prefix, fail_code);
    if s.lock_wait.is_some() {
        return fork_exec(s, failure);
    }
    vfork_exec(s, failure)
}

/// Starts a child that may wait for [`Spawn::lock_wait`] before its exec, and returns at once
/// with its pid and the read end (non-blocking, close-on-exec) of a report pipe: end of file
/// there once the exec has succeeded (or the child died before it), or 4 bytes, the errno of
/// a failed exec, after which the child exits 127. The caller watches that pipe instead of
/// being held by a child that may wait a long time for its lock.
pub fn spawn_pending(s: &Spawn) -> Result<(i32, std::os::fd::OwnedFd)> {
    use std::os::fd::AsRawFd;
    let (rep_r, rep_w) = crate::fd::pipe(true)?;
    let pid = fork_exec(s, Failure::Report(rep_w.as_raw_fd()))?;
    drop(rep_w);
    Ok((pid, rep_r))
}

/// What a report pipe of [`spawn_pending`] says so far.
#[derive(Debug)]
pub enum Report {
    /// Nothing yet: the child has neither exec'd nor died.
    Pending,
    /// End of file: the exec succeeded, or the child died before it.
    Closed,
    /// The exec failed with this error.
    ExecFailed(Error),
}

/// Reads a report pipe of [`spawn_pending`] without blocking.
pub fn read_report(fd: RawFd) -> Report {
    let mut buf = [0u8; 4];
    match crate::fd::read(fd, &mut buf) {
        Ok(4) => Report::ExecFailed(Error::from_raw_os_error(i32::from_ne_bytes(buf))),
        Ok(_) => Report::Closed,
        Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Report::Pending,
        Err(_) => Report::Closed,
    }
}

/// `fork`, and [`child`] in the child; returns the child's pid at once.
fn fork_exec(s: &Spawn, failure: Failure) -> Result<i32> {
    let mut argv: Vec<*const libc::c_char> = s.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: fork in a process that, in the child, only calls async-signal-safe functions
    // (sigprocmask, sigaction, dup2, fcntl, setsid, execv, write, _exit, and strerror, a table
    // lookup) on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: see above; everything used here was allocated before fork.
        unsafe { child(s, &argv, failure) }
    }
    Ok(pid)
}

/// Room for the child's stack between clone and exec: it only makes a few libc calls.
const CHILD_STACK: usize = 16 * 1024;

#[repr(C, align(16))]
struct ChildStack(std::cell::UnsafeCell<[u8; CHILD_STACK]>);
// SAFETY: used only while CHILD_STACK_LOCK is held.
unsafe impl Sync for ChildStack {}
/// In .bss: only the pages the child really touches are ever allocated, once per process.
static CHILD_STACK_MEM: ChildStack = ChildStack(std::cell::UnsafeCell::new([0; CHILD_STACK]));
static CHILD_STACK_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What the child of [`vfork_exec`] needs.
struct ChildArgs<'a> {
    spawn: &'a Spawn<'a>,
    argv: &'a [*const libc::c_char],
    failure: Failure<'a>,
}

extern "C" fn child_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` that vfork_exec keeps alive (it is suspended until we
    // exec or exit, and we do not return).
    unsafe {
        let a = &*(arg as *const ChildArgs);
        child(a.spawn, a.argv, a.failure)
    }
}

/// `clone(CLONE_VM|CLONE_VFORK|SIGCHLD)` running [`child`] on [`CHILD_STACK_MEM`]; returns the
/// child's pid once it has exec'd or exited.
fn vfork_exec(s: &Spawn, failure: Failure) -> Result<i32> {
    let mut argv: Vec<*const libc::c_char> = s.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let args = ChildArgs { spawn: s, argv: &argv, failure };
    let _guard = CHILD_STACK_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    // SAFETY: the child runs on its own stack (the static buffer, ours while the lock is held)
    // and, until its exec, only reads `args` and calls async-signal-safe libc functions plus
    // strerror (a table lookup) and, for `Failure::Record`, writes one i32 we then read. It
    // never returns into our frames. CLONE_VFORK suspends us until it has exec'd or exited, so
    // `args`, `argv` and the stack outlive its use of them. Signals: the child sets every
    // handler merit installed back to the default before it unblocks signals (`child`).
    let pid = unsafe {
        let top = (CHILD_STACK_MEM.0.get() as *mut u8).add(CHILD_STACK);
        libc::clone(
            child_entry,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &args as *const ChildArgs as *mut libc::c_void,
        )
    };
    if pid < 0 {
        return Err(Error::last_os_error());
    }
    Ok(pid)
}

/// What the child does when it cannot get to its exec.
#[derive(Clone, Copy)]
enum Failure<'a> {
    /// Write errno (4 bytes, native order) to this close-on-exec pipe, exit 127 (forked child).
    Report(RawFd),
    /// Store errno here, exit 127 (child sharing our memory).
    Record(*mut i32),
    /// Write this prefix, strerror(errno) and a newline to fd 2, exit with this code.
    Message(&'a [u8], i32),
}

unsafe fn child(s: &Spawn, argv: &[*const libc::c_char], failure: Failure) -> ! {
    let fail = |failure: Failure| -> ! {
        let e = *libc::__errno_location();
        match failure {
            Failure::Report(fd) => {
                let b = e.to_ne_bytes();
                libc::write(fd, b.as_ptr().cast(), 4);
                libc::_exit(127)
            }
            Failure::Record(slot) => {
                std::ptr::write_volatile(slot, if e == 0 { libc::EIO } else { e });
                libc::_exit(127)
            }
            Failure::Message(prefix, code) => {
                // One line, one write, on our stack: never blocking our parent (which, after
                // clone-vfork, is suspended until we exit).
                let why = std::ffi::CStr::from_ptr(libc::strerror(e)).to_bytes();
                let mut line = [0u8; 1024];
                let mut len = 0;
                for part in [prefix, why] {
                    for (slot, &b) in line.iter_mut().take(1023).skip(len).zip(part) {
                        *slot = b;
                        len += 1;
                    }
                }
                if let Some(nl) = line.get_mut(len) {
                    *nl = b'\n';
                    len += 1;
                }
                crate::fd::write_diag(2, line.get(..len).unwrap_or(&line));
                libc::_exit(code)
            }
        }
    };
    let report = failure;
    {
        // Possibly sharing our parent's memory (vfork_exec): no handler of the parent's may
        // run here once signals are unblocked. exec would reset them to the default anyway.
        let handled = crate::signal::HANDLED.load(std::sync::atomic::Ordering::Relaxed);
        for sig in 1..64 {
            if handled & (1 << sig) != 0 {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    }
    let mut set: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut set);
    libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    if let Some(fd) = s.cgroup_procs {
        // Before the moves, which may overwrite this descriptor's number.
        libc::write(fd, b"0".as_ptr().cast(), 1);
    }
    for &(from, to) in s.fd_moves {
        if from == to {
            if libc::fcntl(to, libc::F_SETFD, 0) < 0 {
                fail(report);
            }
        } else if libc::dup2(from, to) < 0 {
            fail(report);
        }
    }
    if s.setsid && libc::setsid() < 0 {
        fail(report);
    }
    if let Some(fd) = s.lock_wait {
        // A POSIX lock is released when the process closes *any* descriptor of the file: close
        // the move sources now, or their close-on-exec would drop the lock at exec.
        for &(from, to) in s.fd_moves {
            if from != to {
                libc::close(from);
            }
        }
        let mut fl: libc::flock = std::mem::zeroed();
        fl.l_type = libc::F_WRLCK as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        while libc::fcntl(fd, libc::F_SETLKW, &fl) < 0 {
            if *libc::__errno_location() != libc::EINTR {
                fail(report);
            }
        }
    }
    libc::execv(s.path.as_ptr(), argv.as_ptr());
    fail(report)
}

/// A reaped child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reaped {
    pub pid: i32,
    /// Raw wait status.
    pub status: i32,
}

/// `waitpid(-1, WNOHANG)`: one dead child, if any.
pub fn reap_one() -> Result<Option<Reaped>> {
    let mut st = 0;
    // SAFETY: st is a valid int.
    let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
    match r {
        0 => Ok(None),
        r if r < 0 => {
            let e = Error::last_os_error();
            if e.raw_os_error() == Some(libc::ECHILD) {
                Ok(None)
            } else {
                Err(e)
            }
        }
        pid => Ok(Some(Reaped { pid, status: st })),
    }
}

/// Blocking `waitpid(pid)`.
pub fn wait_pid(pid: i32) -> Result<i32> {
    let mut st = 0;
    // SAFETY: st is a valid int.
    crate::cvt_retry(|| unsafe { libc::waitpid(pid, &mut st, 0) })?;
    Ok(st)
}

/// `setsid()`.
pub fn setsid() -> Result<()> {
    // SAFETY: no arguments.
    cvt(unsafe { libc::setsid() }).map(drop)
}

/// `execv` (returns only on failure).
pub fn execv(path: &CStr, argv: &[CString]) -> Error {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    a.push(std::ptr::null());
    // SAFETY: path and every argv entry are valid C strings; the array is NULL-terminated.
    unsafe { libc::execv(path.as_ptr(), a.as_ptr()) };
    Error::last_os_error()
}

/// An `execve` prepared in advance: the NULL-terminated pointer arrays are built when it is
/// made, so that [`Execve::exec`] allocates nothing and may run in a child between fork and exec
/// (a `pre_exec` closure). Unlike `std::process::Command`, the environment is passed exactly as
/// given: entries without `=`, empty names or duplicates included.
pub struct Execve {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    argv_p: Vec<*const libc::c_char>,
    envp_p: Vec<*const libc::c_char>,
}

// SAFETY: the pointers point into the heap buffers of `argv` and `envp`, which the value owns,
// never changes after `new`, and which do not move when the value moves; they are only read.
unsafe impl Send for Execve {}
// SAFETY: as above; `exec` takes `&self` and only reads.
unsafe impl Sync for Execve {}

impl Execve {
    pub fn new(path: CString, argv: Vec<CString>, envp: Vec<CString>) -> Execve {
        let nul_ended = |v: &[CString]| v.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
        let (argv_p, envp_p) = (nul_ended(&argv), nul_ended(&envp));
        Execve { path, argv, envp, argv_p, envp_p }
    }

    /// The argv and environment it will pass.
    pub fn args(&self) -> (&[CString], &[CString]) {
        (&self.argv, &self.envp)
    }

    /// `execve(path, argv, envp)`: returns only on failure. Async-signal-safe.
    pub fn exec(&self) -> Error {
        // SAFETY: path is a valid C string; both arrays are NULL-terminated arrays of pointers to
        // C strings owned by self, alive for the call.
        unsafe { libc::execve(self.path.as_ptr(), self.argv_p.as_ptr(), self.envp_p.as_ptr()) };
        Error::last_os_error()
    }
}

/// `execvp`-like: `execv` of `prog`, searching PATH when it has no `/`.
pub fn execvp(prog: &str, argv: &[CString]) -> Error {
    if prog.contains('/') {
        return match CString::new(prog) {
            Ok(p) => execv(&p, argv),
            Err(_) => Error::from_raw_os_error(libc::ENOENT),
        };
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    let mut last = Error::from_raw_os_error(libc::ENOENT);
    for dir in path.split(':') {
        let full = format!("{}/{}", if dir.is_empty() { "." } else { dir }, prog);
        if let Ok(p) = CString::new(full) {
            last = execv(&p, argv);
        }
    }
    last
}

/// Blocking `waitpid(-1)`: the pid of the next child to die. ECHILD when there is none.
pub fn wait_any() -> Result<i32> {
    let mut st = 0;
    // SAFETY: st is a valid int.
    crate::cvt_retry(|| unsafe { libc::waitpid(-1, &mut st, 0) })
}

/// Spawns an s6-log processor: the child `chdir`s to `dir`, opens `previous` on fd 0,
/// `processed` (truncated) on fd 1, `state` on fd 4 and `newstate` (truncated) on fd 5, restores
/// an empty signal mask, and execs `argv[0]` with `argv`. Every other descriptor of ours is
/// close-on-exec. On a failure in the child, it writes `PROG (processor child): fatal: unable to
/// ...` on stderr and exits 111 (the parent sees it as a failed processor).
pub fn spawn_processor(prog: &str, dir: &std::path::Path, argv: &[Vec<u8>]) -> Result<i32> {
    let cdir = crate::cstr(dir)?;
    let cargv: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.clone()).map_err(|_| Error::from_raw_os_error(libc::EINVAL)))
        .collect::<Result<_>>()?;
    if cargv.is_empty() {
        return Err(Error::from_raw_os_error(libc::EINVAL));
    }
    let mut ptrs: Vec<*const libc::c_char> = cargv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let head = format!("{prog} (processor child): fatal: unable to ");
    let msg = |what: &str| -> Vec<u8> { format!("{head}{what}").into_bytes() };
    let m_chdir =
        [msg("chdir to ").as_slice(), std::os::unix::ffi::OsStrExt::as_bytes(dir.as_os_str()), b": "].concat();
    let files: [(&CStr, i32, RawFd, Vec<u8>); 4] = [
        (c"previous", libc::O_RDONLY, 0, msg("open_readb previous: ")),
        (c"processed", libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 1, msg("open_trunc processed: ")),
        (c"state", libc::O_RDONLY, 4, msg("open_readb state: ")),
        (c"newstate", libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 5, msg("open_trunc newstate: ")),
    ];
    let m_exec = [msg("exec ").as_slice(), &argv[0], b": "].concat();
    let m_move = msg("fd_move: ");
    // SAFETY: in the child, only async-signal-safe calls are made (chdir, open, dup2, close,
    // sigprocmask, execv, write, strerror on a static table, _exit) on memory prepared before
    // the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Error::last_os_error());
    }
    if pid > 0 {
        return Ok(pid);
    }
    // Child.
    unsafe fn die(m: &[u8]) -> ! {
        let e = *libc::__errno_location();
        libc::write(2, m.as_ptr().cast(), m.len());
        let s = libc::strerror(e);
        libc::write(2, s.cast(), libc::strlen(s));
        libc::write(2, b"\n".as_ptr().cast(), 1);
        libc::_exit(111)
    }
    // SAFETY: see above.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        if libc::chdir(cdir.as_ptr()) < 0 {
            die(&m_chdir);
        }
        for (name, flags, target, m) in files.iter() {
            let fd = libc::open(name.as_ptr(), *flags, 0o666 as libc::c_uint);
            if fd < 0 {
                die(m);
            }
            if fd != *target {
                if libc::dup2(fd, *target) < 0 {
                    die(&m_move);
                }
                libc::close(fd);
            }
        }
        libc::execv(ptrs[0], ptrs.as_ptr());
        die(&m_exec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execve_passes_the_environment_verbatim() {
        let c = |s: &str| CString::new(s).unwrap();
        let e = Execve::new(c("/usr/bin/env"), vec![c("env")], vec![c("A=1"), c("noequals"), c("=x"), c("A=2")]);
        assert_eq!(e.args().1.len(), 4);
        let mut cmd = std::process::Command::new("/nonexistent");
        // SAFETY: the closure only calls execve on memory prepared before the fork.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || Err(e.exec()));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "A=1\nnoequals\n=x\nA=2\n");
        let bad = Execve::new(c("/nonexistent/x"), vec![c("x")], vec![]);
        assert_eq!(bad.exec().raw_os_error(), Some(libc::ENOENT));
    }
}
