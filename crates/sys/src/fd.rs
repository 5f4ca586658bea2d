//! File descriptors: pipes, non-blocking flags, raw reads and writes, poll, dup2.

use crate::{cvt, cvt_retry, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `pipe2(O_CLOEXEC [| O_NONBLOCK])`: (read end, write end).
pub fn pipe(nonblock: bool) -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    let flags = libc::O_CLOEXEC | if nonblock { libc::O_NONBLOCK } else { 0 };
    // SAFETY: fds is a valid array of two ints.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
    // SAFETY: pipe2 succeeded, so both fds are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Opens a path with raw `open(2)` flags and mode.
pub fn open(path: &std::path::Path, flags: i32, mode: u32) -> Result<OwnedFd> {
    open_c(&crate::cstr(path)?, flags, mode)
}

/// [`open`] for a C string. The syscall itself: musl's `open()` follows an `O_CLOEXEC` open
/// with an `fcntl(F_SETFD)` for kernels older than 2.6.23, one more syscall per open.
pub fn open_c(path: &std::ffi::CStr, flags: i32, mode: u32) -> Result<OwnedFd> {
    // SAFETY: valid C string; the returned fd, if any, is new and ours.
    let fd = cvt_retry(|| unsafe {
        libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), flags | libc::O_LARGEFILE, mode as libc::c_uint)
    })?;
    // SAFETY: openat succeeded.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

pub fn set_nonblock(fd: RawFd, on: bool) -> Result<()> {
    // SAFETY: fcntl on an fd number: worst case EBADF.
    let fl = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    let nfl = if on { fl | libc::O_NONBLOCK } else { fl & !libc::O_NONBLOCK };
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, nfl) }).map(drop)
}

pub fn set_cloexec(fd: RawFd, on: bool) -> Result<()> {
    let v = if on { libc::FD_CLOEXEC } else { 0 };
    // SAFETY: fcntl on an fd number: worst case EBADF.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, v) }).map(drop)
}

/// `read(2)`, retried on EINTR. `Ok(0)` is end of file.
pub fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: buf is valid for buf.len() writable bytes.
    cvt_retry(|| unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) as isize }).map(|n| n as usize)
}

/// `write(2)`, retried on EINTR (one call: may be short).
pub fn write(fd: RawFd, buf: &[u8]) -> Result<usize> {
    // SAFETY: buf is valid for buf.len() readable bytes.
    cvt_retry(|| unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) as isize }).map(|n| n as usize)
}

/// Writes everything, looping over short writes.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        let n = write(fd, buf)?;
        buf = &buf[n..];
    }
    Ok(())
}

/// `dup2(from, to)`.
pub fn dup2(from: RawFd, to: RawFd) -> Result<()> {
    // SAFETY: dup2 on fd numbers; closes `to` if open, which is the intent.
    cvt_retry(|| unsafe { libc::dup2(from, to) }).map(drop)
}

/// Whether fd `n` is open.
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// Makes sure fds 0, 1, 2 are open (`/dev/null` otherwise: 0 read-only, 1-2 write-only).
pub fn ensure_stdio() {
    for fd in 0..3 {
        if !is_open(fd) {
            let flags = if fd == 0 { libc::O_RDONLY } else { libc::O_WRONLY };
            if let Ok(f) = open(std::path::Path::new("/dev/null"), flags, 0) {
                let raw = f.as_raw_fd();
                if raw != fd {
                    let _ = dup2(raw, fd);
                } else {
                    std::mem::forget(f);
                }
            }
        }
    }
}

/// Points fds 0 and 1 at `/dev/null` (s6-supervise's reaction to `x`).
pub fn stdio_to_null() -> Result<()> {
    let r = open(std::path::Path::new("/dev/null"), libc::O_RDONLY, 0)?;
    dup2(r.as_raw_fd(), 0)?;
    let w = open(std::path::Path::new("/dev/null"), libc::O_WRONLY, 0)?;
    dup2(w.as_raw_fd(), 1)
}

/// One entry of a [`poll`] set.
#[derive(Clone, Copy, Debug)]
pub struct PollFd {
    pub fd: RawFd,
    pub readable: bool,
    /// Set by `poll`: readable, hung up or in error.
    pub ready: bool,
}

impl PollFd {
    pub fn new(fd: RawFd) -> PollFd {
        PollFd { fd, readable: true, ready: false }
    }
}

/// `poll(2)` for readability with a timeout in ms (`None` = infinite). EINTR counts as a
/// wake-up with nothing ready. Up to 8 descriptors are handled without allocating (the
/// supervisor's loop); more (a listener over many services) use a heap array.
pub fn poll(fds: &mut [PollFd], timeout_ms: Option<u64>) -> Result<usize> {
    let to_raw = |f: &PollFd| libc::pollfd { fd: if f.readable { f.fd } else { -1 }, events: libc::POLLIN, revents: 0 };
    let mut stack = [libc::pollfd { fd: -1, events: 0, revents: 0 }; 8];
    let mut heap = Vec::new();
    let raw: &mut [libc::pollfd] = if fds.len() <= stack.len() {
        for (r, f) in stack.iter_mut().zip(fds.iter()) {
            *r = to_raw(f);
        }
        &mut stack[..fds.len()]
    } else {
        heap.extend(fds.iter().map(to_raw));
        &mut heap
    };
    let t = timeout_ms.map(|t| t.min(i32::MAX as u64) as i32).unwrap_or(-1);
    // SAFETY: raw holds raw.len() initialised pollfd structures.
    let n = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, t) };
    if n < 0 {
        let e = crate::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    for (r, f) in raw.iter().zip(fds.iter_mut()) {
        f.ready = r.revents != 0;
    }
    Ok(n as usize)
}

/// [`poll`] under the name the listeners use.
pub fn poll_many(fds: &mut [PollFd], timeout_ms: Option<u64>) -> Result<usize> {
    poll(fds, timeout_ms)
}

/// Writes `data` to a file atomically as s6 does: `NAME.new` (`O_WRONLY|O_CREAT|O_TRUNC`,
/// 0666 & ~umask), one write, rename over `NAME`. No fsync.
pub fn write_replace(dir_rel_new: &std::path::Path, final_path: &std::path::Path, data: &[u8]) -> Result<()> {
    let f =
        open(dir_rel_new, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NONBLOCK | libc::O_CLOEXEC, 0o666)?;
    write_all(f.as_raw_fd(), data)?;
    drop(f);
    std::fs::rename(dir_rel_new, final_path)
}

/// Duplicates `fd` to the lowest free descriptor `>= min`, close-on-exec.
pub fn dup_above(fd: RawFd, min: RawFd) -> Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on an fd number returns a fresh fd or -1.
    let n = cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })?;
    // SAFETY: fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// `ftruncate(fd, 0)`.
pub fn truncate(fd: RawFd) -> Result<()> {
    // SAFETY: plain integers.
    cvt(unsafe { libc::ftruncate(fd, 0) }).map(drop)
}

/// `access(path, F_OK)`: `Ok(false)` on ENOENT/ENOTDIR.
pub fn exists(path: &std::path::Path) -> Result<bool> {
    let c = crate::cstr(path)?;
    // SAFETY: valid C string.
    match cvt(unsafe { libc::access(c.as_ptr(), libc::F_OK) }) {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `chdir(path)`.
pub fn chdir(path: &std::path::Path) -> Result<()> {
    std::env::set_current_dir(path)
}

/// Closes a descriptor number that nobody owns as an `OwnedFd` (e.g. one inherited by number).
pub fn close(fd: RawFd) {
    // SAFETY: the caller owns this fd number and does not use it afterwards.
    unsafe { libc::close(fd) };
}

/// Writes one diagnostic line to `fd` without ever blocking and (but for a reader that goes
/// away during the call) without raising SIGPIPE;
/// returns whether it was written. A diagnostic must never hold up a long-running process:
/// in Mere every supervisor's stderr is the catch-all logger's FIFO, which may be full, have
/// no reader, or be a non-blocking pipe that answers EAGAIN.
///
/// * a regular file: a plain write (it cannot block for long);
/// * a socket: `send(MSG_DONTWAIT | MSG_NOSIGNAL)`;
/// * anything else (FIFO, pipe, terminal): a write through a descriptor of our own opened on
///   `/proc/self/fd/N` with `O_NONBLOCK` (the inherited one is shared with our children and
///   other processes, so its flags are not ours to change). A FIFO with no reader gives ENXIO
///   there, not SIGPIPE. Without /proc (or if that open is refused), the line is written only
///   when `poll` says there is room, which a line of at most `PIPE_BUF` bytes then fills in
///   one atomic write.
///
/// Async-signal-safe and allocation-free: a child between fork (or clone-vfork) and exec uses
/// it too. A line longer than `PIPE_BUF` may be cut short on a pipe; the rest is dropped.
pub fn write_diag(fd: RawFd, line: &[u8]) -> bool {
    // SAFETY: fstat into a zeroed stat buffer we own.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return false;
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => write_all(fd, line).is_ok(),
        libc::S_IFSOCK => {
            // SAFETY: line is valid for line.len() bytes.
            let n =
                unsafe { libc::send(fd, line.as_ptr().cast(), line.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
            n >= 0
        }
        kind => {
            let mut path = [0u8; 32];
            let c = proc_fd_path(fd, &mut path);
            match open_c(c, libc::O_WRONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC, 0) {
                Ok(own) => write(own.as_raw_fd(), line).is_ok(),
                // A FIFO or pipe with no reader: the line has nowhere to go.
                Err(e) if kind == libc::S_IFIFO && e.raw_os_error() == Some(libc::ENXIO) => false,
                // Refused (EACCES after a change of user, no /proc, a terminal that is not our
                // controlling one as /dev/tty...): the inherited description, when poll says
                // there is room. Another writer could fill the last room between the two, a
                // race this accepts rather than lose every line of such a process.
                Err(_) => {
                    let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
                    // SAFETY: one valid pollfd.
                    let ready = unsafe { libc::poll(&mut p, 1, 0) } == 1
                        && p.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) == 0;
                    ready && write(fd, line).is_ok()
                }
            }
        }
    }
}

/// `/proc/self/fd/N` as a C string in `buf`, without allocating.
fn proc_fd_path(fd: RawFd, buf: &mut [u8; 32]) -> &std::ffi::CStr {
    const HEAD: &[u8] = b"/proc/self/fd/";
    let mut digits = [0u8; 10];
    let mut n = fd.max(0) as u32;
    let mut nd = 0;
    loop {
        if let Some(d) = digits.get_mut(nd) {
            *d = b'0' + (n % 10) as u8;
        }
        nd += 1;
        n /= 10;
        if n == 0 || nd == digits.len() {
            break;
        }
    }
    let mut len = 0;
    for &b in HEAD.iter().chain(digits[..nd].iter().rev()) {
        if let Some(slot) = buf.get_mut(len) {
            *slot = b;
            len += 1;
        }
    }
    // HEAD (14) + 10 digits + NUL fit in 32 bytes.
    std::ffi::CStr::from_bytes_until_nul(&buf[..]).unwrap_or(c"/proc/self/fd/2")
}

#[cfg(test)]
mod diag_tests {
    use super::*;

    #[test]
    fn proc_fd_paths() {
        let mut b = [0u8; 32];
        assert_eq!(proc_fd_path(2, &mut b).to_bytes(), b"/proc/self/fd/2");
        let mut b = [0u8; 32];
        assert_eq!(proc_fd_path(1234, &mut b).to_bytes(), b"/proc/self/fd/1234");
        let mut b = [0u8; 32];
        assert_eq!(proc_fd_path(i32::MAX, &mut b).to_bytes(), b"/proc/self/fd/2147483647");
    }

    /// A full pipe, a pipe with no reader, a regular file: never blocks, never raises SIGPIPE.
    #[test]
    fn never_blocks() {
        let (r, w) = pipe(true).unwrap();
        let chunk = [b'x'; 4096];
        while write(w.as_raw_fd(), &chunk).is_ok() {}
        set_nonblock(w.as_raw_fd(), false).unwrap(); // the inherited description blocks
        assert!(!write_diag(w.as_raw_fd(), b"full\n"));
        drop(r);
        assert!(!write_diag(w.as_raw_fd(), b"no reader\n"));
        let (r, w) = pipe(false).unwrap();
        assert!(write_diag(w.as_raw_fd(), b"room\n"));
        let mut buf = [0u8; 16];
        assert_eq!(read(r.as_raw_fd(), &mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"room\n");
    }
}
