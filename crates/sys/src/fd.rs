//! File descriptors: opening, pipes (and peeking at one with `tee`), non-blocking flags, raw
//! reads and writes, poll, dup2, close, never-blocking diagnostics.

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

/// `tee(fd_in, fd_out, len, SPLICE_F_NONBLOCK)`: duplicates up to `len` bytes from the pipe
/// `fd_in` into the pipe `fd_out` **without consuming them**. `Ok(0)` means `fd_in` has no
/// writer and no data (end of file). EINVAL means one of the descriptors is not a pipe.
pub fn tee(fd_in: RawFd, fd_out: RawFd, len: usize) -> Result<usize> {
    // SAFETY: tee takes plain integers and touches no memory of ours.
    cvt_retry(|| unsafe { libc::tee(fd_in, fd_out, len, libc::SPLICE_F_NONBLOCK) as isize }).map(|n| n as usize)
}

/// `splice(fd_in, fd_out, len)`: moves up to `len` bytes from the pipe `fd_in` to `fd_out`
/// inside the kernel. With `fd_out` open on `/dev/null` this consumes bytes from a pipe without
/// copying them to us. EINVAL means one of the descriptors cannot splice.
pub fn splice(fd_in: RawFd, fd_out: RawFd, len: usize) -> Result<usize> {
    // SAFETY: null offsets (both are used at their current position); plain integers otherwise.
    // SPLICE_F_NONBLOCK: never wait for data (some kernels look only at this flag, not at the
    // descriptors' O_NONBLOCK); EAGAIN then.
    cvt_retry(|| unsafe {
        libc::splice(fd_in, std::ptr::null_mut(), fd_out, std::ptr::null_mut(), len, libc::SPLICE_F_NONBLOCK) as isize
    })
    .map(|n| n as usize)
}

/// `ioctl(fd, FIONREAD)`: bytes waiting in a pipe (or socket, tty).
pub fn fionread(fd: RawFd) -> Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int to the pointer, which is valid.
    cvt(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) })?;
    Ok(n.max(0) as usize)
}

/// `fcntl(fd, F_GETPIPE_SZ)`.
pub fn pipe_size(fd: RawFd) -> Result<usize> {
    // SAFETY: plain integers.
    cvt(unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) }).map(|n| n as usize)
}

/// `fcntl(fd, F_SETPIPE_SZ, size)`: returns the new size.
pub fn set_pipe_size(fd: RawFd, size: usize) -> Result<usize> {
    let size = size.min(i32::MAX as usize) as libc::c_int;
    // SAFETY: plain integers.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, size) }).map(|n| n as usize)
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

/// Opens `path` `O_WRONLY|O_APPEND|O_CREAT|O_NONBLOCK|O_CLOEXEC`, mode 0666 (& ~umask):
/// skalibs' `openc_append`.
pub fn open_append(path: &std::path::Path) -> Result<OwnedFd> {
    open(path, libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_NONBLOCK | libc::O_CLOEXEC, 0o666)
}

/// Opens `path` `O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC` 0666: skalibs' `openc_trunc`.
pub fn open_trunc(path: &std::path::Path) -> Result<OwnedFd> {
    open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NONBLOCK | libc::O_CLOEXEC, 0o666)
}

/// Opens `path` `O_WRONLY|O_CREAT|O_NONBLOCK|O_CLOEXEC` 0666 without truncating: skalibs'
/// `openc_create` (s6-log's `lock` file).
pub fn open_create(path: &std::path::Path) -> Result<OwnedFd> {
    open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_NONBLOCK | libc::O_CLOEXEC, 0o666)
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
            // Opened close-on-exec like every descriptor; the copy on 0, 1 or 2 is not.
            let flags = if fd == 0 { libc::O_RDONLY } else { libc::O_WRONLY } | libc::O_CLOEXEC;
            if let Ok(f) = open(std::path::Path::new("/dev/null"), flags, 0) {
                let raw = f.as_raw_fd();
                if raw != fd {
                    let _ = dup2(raw, fd);
                } else if set_cloexec(fd, false).is_ok() {
                    std::mem::forget(f);
                }
            }
        }
    }
}

/// Points fds 0 and 1 at `/dev/null` (s6-supervise's reaction to `x`).
pub fn stdio_to_null() -> Result<()> {
    let r = open(std::path::Path::new("/dev/null"), libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    dup2(r.as_raw_fd(), 0)?;
    let w = open(std::path::Path::new("/dev/null"), libc::O_WRONLY | libc::O_CLOEXEC, 0)?;
    dup2(w.as_raw_fd(), 1)
}

/// One entry of a [`poll`] set: what to watch on `fd` and, once `poll` returns, what it is
/// ready for. [`PollFd::new`] watches for reading, [`PollFd::watch`] for either or both.
#[derive(Clone, Copy, Debug, Default)]
pub struct PollFd {
    pub fd: RawFd,
    /// Watch for reading.
    pub readable: bool,
    /// Watch for writing.
    pub writable: bool,
    /// Set by `poll`: watched for reading and readable, hung up or in error.
    pub ready: bool,
    /// Set by `poll`: watched for writing and writable, hung up or in error.
    pub can_write: bool,
    /// Set by `poll`: hung up.
    pub hup: bool,
}

impl PollFd {
    /// Watch `fd` for reading.
    pub fn new(fd: RawFd) -> PollFd {
        PollFd::watch(fd, true, false)
    }

    /// Watch `fd` for reading and/or writing; an entry watching neither is skipped.
    pub fn watch(fd: RawFd, read: bool, write: bool) -> PollFd {
        PollFd { fd, readable: read, writable: write, ..Default::default() }
    }
}

/// `poll(2)` with a timeout in ms (`None` = infinite). EINTR counts as a wake-up with nothing
/// ready. Up to 8 descriptors are handled without allocating (the loops of the supervisor and
/// of s6-log); more (a listener over many services) use a heap array.
pub fn poll(fds: &mut [PollFd], timeout_ms: Option<u64>) -> Result<usize> {
    let to_raw = |f: &PollFd| {
        let events = if f.readable { libc::POLLIN } else { 0 } | if f.writable { libc::POLLOUT } else { 0 };
        libc::pollfd { fd: if events != 0 { f.fd } else { -1 }, events, revents: 0 }
    };
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
            for f in fds.iter_mut() {
                (f.ready, f.can_write, f.hup) = (false, false, false);
            }
            return Ok(0);
        }
        return Err(e);
    }
    for (r, f) in raw.iter().zip(fds.iter_mut()) {
        let bad = r.revents & (libc::POLLERR | libc::POLLNVAL) != 0;
        f.hup = r.revents & libc::POLLHUP != 0;
        f.ready = f.readable && (r.revents & libc::POLLIN != 0 || f.hup || bad);
        f.can_write = f.writable && (r.revents & libc::POLLOUT != 0 || f.hup || bad);
    }
    Ok(n as usize)
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

/// `ftruncate(fd, len)`.
pub fn truncate(fd: RawFd, len: u64) -> Result<()> {
    let len = libc::off_t::try_from(len).map_err(|_| crate::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: plain integers.
    cvt_retry(|| unsafe { libc::ftruncate(fd, len) as isize }).map(drop)
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
mod tests {
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

    #[test]
    fn tee_peeks_without_consuming() {
        let (r, w) = pipe(true).unwrap();
        let (pr, pw) = pipe(true).unwrap();
        write_all(w.as_raw_fd(), b"hello\n").unwrap();
        assert_eq!(fionread(r.as_raw_fd()).unwrap(), 6);
        assert_eq!(tee(r.as_raw_fd(), pw.as_raw_fd(), 1 << 20).unwrap(), 6);
        assert_eq!(fionread(r.as_raw_fd()).unwrap(), 6);
        let mut b = [0u8; 16];
        assert_eq!(read(pr.as_raw_fd(), &mut b).unwrap(), 6);
        assert_eq!(&b[..6], b"hello\n");
        // A regular file is not a pipe.
        let f = open(std::path::Path::new("/dev/null"), libc::O_RDONLY, 0).unwrap();
        let e = tee(f.as_raw_fd(), pw.as_raw_fd(), 10).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
        drop(w);
        let mut d = [0u8; 16];
        assert_eq!(read(r.as_raw_fd(), &mut d).unwrap(), 6);
        assert_eq!(tee(r.as_raw_fd(), pw.as_raw_fd(), 10).unwrap(), 0);
        assert!(pipe_size(r.as_raw_fd()).unwrap() >= 4096);
    }
}
