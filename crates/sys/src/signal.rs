//! Signals: blocking them into a `signalfd`, dispositions, `kill`.

use crate::{cvt, Result};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

fn set_of(sigs: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset with valid numbers cannot fail.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        for &g in sigs {
            libc::sigaddset(&mut s, g);
        }
        s
    }
}

/// Blocks `sigs` and returns a non-blocking, close-on-exec signalfd that reports them.
pub fn signalfd(sigs: &[i32]) -> Result<OwnedFd> {
    let set = set_of(sigs);
    // SAFETY: set is a valid sigset.
    cvt(unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) })?;
    // SAFETY: -1 asks for a new fd; set is valid.
    let fd = cvt(unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) })?;
    // SAFETY: signalfd returned a fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads one pending signal from a signalfd: `Ok(None)` when none is pending.
pub fn read_signal(fd: RawFd) -> Result<Option<i32>> {
    // SAFETY: signalfd_siginfo is plain data.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: info is valid for `size` writable bytes.
    let n = unsafe { libc::read(fd, (&mut info as *mut libc::signalfd_siginfo).cast(), size) };
    if n < 0 {
        let e = crate::Error::last_os_error();
        if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR)) {
            return Ok(None);
        }
        return Err(e);
    }
    Ok((n as usize == size).then_some(info.ssi_signo as i32))
}

extern "C" fn noop_handler(_: libc::c_int) {}

/// Installs a handler that does nothing (s6-supervise does this for SIGPIPE so that a write to
/// a closed FIFO returns EPIPE, and so that children get the default disposition back at exec).
pub fn set_noop_handler(sig: i32) -> Result<()> {
    // SAFETY: sigaction is plain data; the handler is a valid extern "C" fn.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = noop_handler as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = libc::SA_RESTART;
        cvt(libc::sigaction(sig, &sa, std::ptr::null_mut()))?;
    }
    if (1..64).contains(&sig) {
        HANDLED.fetch_or(1 << sig, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}

/// The signals given a handler by [`set_noop_handler`] (bit `sig`): a child that shares our
/// memory until its exec sets them back to the default first (see `process`), so that no
/// handler of ours runs in it.
pub(crate) static HANDLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sets `sig` back to its default disposition.
pub fn set_default(sig: i32) -> Result<()> {
    // SAFETY: SIG_DFL is always a valid disposition.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut sa.sa_mask);
        cvt(libc::sigaction(sig, &sa, std::ptr::null_mut())).map(drop)
    }
}

/// Ignores `sig`.
pub fn ignore(sig: i32) -> Result<()> {
    // SAFETY: SIG_IGN is always a valid disposition.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_IGN;
        libc::sigemptyset(&mut sa.sa_mask);
        cvt(libc::sigaction(sig, &sa, std::ptr::null_mut())).map(drop)
    }
}

/// `kill(pid, sig)`.
pub fn kill(pid: i32, sig: i32) -> Result<()> {
    // SAFETY: kill takes plain integers.
    cvt(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// `killpg(getpgid(pid), sig)`.
pub fn kill_group_of(pid: i32, sig: i32) -> Result<()> {
    // SAFETY: plain integers.
    let pg = cvt(unsafe { libc::getpgid(pid) })?;
    // SAFETY: plain integers.
    cvt(unsafe { libc::killpg(pg, sig) }).map(drop)
}

pub use merit_core::signals::*;

// merit_core names signals by their Linux numbers without linking libc: check them here.
const _: () = {
    assert!(SIGHUP == libc::SIGHUP && SIGINT == libc::SIGINT && SIGQUIT == libc::SIGQUIT);
    assert!(SIGABRT == libc::SIGABRT && SIGKILL == libc::SIGKILL && SIGUSR1 == libc::SIGUSR1);
    assert!(SIGUSR2 == libc::SIGUSR2 && SIGPIPE == libc::SIGPIPE && SIGALRM == libc::SIGALRM);
    assert!(SIGTERM == libc::SIGTERM && SIGCHLD == libc::SIGCHLD && SIGCONT == libc::SIGCONT);
    assert!(SIGSTOP == libc::SIGSTOP && SIGWINCH == libc::SIGWINCH && SIGPWR == libc::SIGPWR);
};

/// Empties the signal mask (before exec'ing a successor such as `.s6-svscan/finish`).
pub fn unblock_all() {
    let set = set_of(&[]);
    // SAFETY: set is a valid sigset.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) };
}

/// Blocks `sigs` (adds them to the signal mask).
pub fn block(sigs: &[i32]) {
    let set = set_of(sigs);
    // SAFETY: set is a valid sigset.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

/// Sets every signal that is ignored back to its default disposition: an init must not pass on
/// to what it starts a signal its launcher ignored. Through the raw system call, which (unlike
/// the C library's sigaction) also reaches the signals the C library reserves (32-34).
pub fn default_all() {
    // The kernel's struct sigaction, zeroed: handler SIG_DFL, no flags, (restorer,) empty mask.
    // Four words cover its layout with or without sa_restorer.
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        let mut old = [0u64; 4];
        let new = [0u64; 4];
        // SAFETY: `old` and `new` are valid, large enough kernel sigaction structures; 8 is
        // the size of the kernel's sigset_t.
        unsafe {
            if libc::syscall(libc::SYS_rt_sigaction, sig, std::ptr::null::<u64>(), old.as_mut_ptr(), 8) == 0
                && old[0] == libc::SIG_IGN as u64
            {
                libc::syscall(libc::SYS_rt_sigaction, sig, new.as_ptr(), std::ptr::null_mut::<u64>(), 8);
            }
        }
    }
}
