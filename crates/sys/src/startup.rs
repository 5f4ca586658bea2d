//! The process state as `execve` handed it over, recorded before the Rust runtime changes it.
//!
//! Before `main`, Rust's runtime reopens any closed descriptor among 0, 1, 2 on `/dev/null` and
//! sets SIGPIPE to "ignore". A C program (the real s6 tools) sees neither: writing to a closed
//! stdout fails with EBADF, and writing to a pipe without reader kills it with SIGPIPE unless
//! its parent ignored the signal. A constructor in `.init_array` (run by glibc and musl before
//! `main`, hence before the runtime's changes) records the original state, and
//! [`undo_runtime_fixups`] puts it back.

use std::sync::atomic::{AtomicU8, Ordering};

const RECORDED: u8 = 0x80;
const SIGPIPE_IGNORED: u8 = 0x08;

/// Bit `fd` (0..3): that descriptor was closed at exec. [`SIGPIPE_IGNORED`], [`RECORDED`].
static STATE: AtomicU8 = AtomicU8::new(0);

extern "C" fn record_initial_state() {
    let mut s = RECORDED;
    for fd in 0..3 {
        // SAFETY: F_GETFD on any descriptor number only reads its flags (EBADF if closed).
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            s |= 1 << fd;
        }
    }
    // SAFETY: a null new action only queries; `old` is valid, writable plain data.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN {
            s |= SIGPIPE_IGNORED;
        }
    }
    STATE.store(s, Ordering::Relaxed);
}

#[used]
#[link_section = ".init_array"]
static RECORD_INITIAL_STATE: extern "C" fn() = record_initial_state;

/// Closes again the descriptors among 0, 1, 2 that were closed at exec (the runtime put
/// `/dev/null` there) and gives SIGPIPE back its disposition at exec (default unless the parent
/// ignored it). Call first thing in `main`, before opening anything. Does nothing if the
/// constructor did not run.
pub fn undo_runtime_fixups() {
    // Referencing the constructor keeps it linked whatever the codegen-unit split.
    let _ = std::hint::black_box(&RECORD_INITIAL_STATE);
    let s = STATE.load(Ordering::Relaxed);
    if s & RECORDED == 0 {
        return;
    }
    for fd in 0..3 {
        if s & (1 << fd) != 0 {
            // SAFETY: fd is 0, 1 or 2, which the runtime opened on /dev/null and nobody owns.
            unsafe { libc::close(fd) };
        }
    }
    let _ = if s & SIGPIPE_IGNORED != 0 {
        crate::signal::ignore(libc::SIGPIPE)
    } else {
        crate::signal::set_default(libc::SIGPIPE)
    };
}
