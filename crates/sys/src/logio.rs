//! Syscalls used by the loggers (`s6-log`, `s6-tai64n`, `s6-tai64nlocal`): peeking at a pipe
//! with `tee(2)`, pipe sizes, `FIONREAD`, `fsync`, modes, links, `poll` for reading and writing,
//! and spawning an s6-log processor in its logdir.

use crate::{cvt, cvt_retry, Error, Result};
use std::ffi::{CStr, CString};
use std::os::fd::{OwnedFd, RawFd};
use std::path::Path;

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

/// `fsync(fd)`.
pub fn fsync(fd: RawFd) -> Result<()> {
    // SAFETY: plain integer.
    cvt_retry(|| unsafe { libc::fsync(fd) }).map(drop)
}

/// `sync_file_range(fd, offset, len, SYNC_FILE_RANGE_WRITE)`: starts writing back that range of
/// a file without waiting, so that a later `fsync` has less to wait for.
pub fn start_writeback(fd: RawFd, offset: u64, len: u64) -> Result<()> {
    // SAFETY: plain integers.
    cvt_retry(|| unsafe {
        libc::sync_file_range(fd, offset as libc::off64_t, len as libc::off64_t, libc::SYNC_FILE_RANGE_WRITE)
    })
    .map(drop)
}

/// `fchmod(fd, mode)`.
pub fn fchmod(fd: RawFd, mode: u32) -> Result<()> {
    // SAFETY: plain integers.
    cvt(unsafe { libc::fchmod(fd, mode as libc::mode_t) }).map(drop)
}

/// `chmod(path, mode)`.
pub fn chmod(path: &Path, mode: u32) -> Result<()> {
    let c = crate::cstr(path)?;
    // SAFETY: valid C string.
    cvt(unsafe { libc::chmod(c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// `mkdir(path, mode)` (subject to the umask).
pub fn mkdir(path: &Path, mode: u32) -> Result<()> {
    let c = crate::cstr(path)?;
    // SAFETY: valid C string.
    cvt(unsafe { libc::mkdir(c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// `link(from, to)`.
pub fn link(from: &Path, to: &Path) -> Result<()> {
    let a = crate::cstr(from)?;
    let b = crate::cstr(to)?;
    // SAFETY: valid C strings.
    cvt(unsafe { libc::link(a.as_ptr(), b.as_ptr()) }).map(drop)
}

/// `unlink(path)`.
pub fn unlink(path: &Path) -> Result<()> {
    let c = crate::cstr(path)?;
    // SAFETY: valid C string.
    cvt(unsafe { libc::unlink(c.as_ptr()) }).map(drop)
}

/// `unlink(path)`, ignoring every error (skalibs' `unlink_void`).
pub fn unlink_void(path: &Path) {
    let _ = unlink(path);
}

/// What `stat(2)` says about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub mode: u32,
    pub nlink: u64,
    pub size: u64,
}

/// `stat(path)`; `Ok(None)` on ENOENT.
pub fn stat(path: &Path) -> Result<Option<Stat>> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some(Stat { mode: m.mode() & 0o7777, nlink: m.nlink(), size: m.size() })),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `close(fd)` of a raw descriptor number we do not own through an `OwnedFd` (the `-d`
/// notification descriptor).
pub fn close(fd: RawFd) -> Result<()> {
    // SAFETY: the caller owns this descriptor number and will not use it again.
    cvt(unsafe { libc::close(fd) }).map(drop)
}

/// The current umask (read by setting and restoring it).
pub fn get_umask() -> u32 {
    let m = crate::umask(0o022);
    crate::umask(m);
    m
}

/// One entry of [`poll`]: watch for reading and/or writing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Poll {
    pub fd: RawFd,
    pub read: bool,
    pub write: bool,
    /// Results: readable (or hung up / error), writable (or error), hung up.
    pub can_read: bool,
    pub can_write: bool,
    pub hup: bool,
}

impl Poll {
    pub fn new(fd: RawFd, read: bool, write: bool) -> Poll {
        Poll { fd, read, write, ..Default::default() }
    }
}

/// `poll(2)` with a timeout in ms (`None` = infinite). EINTR counts as a wake-up with nothing
/// ready. Entries watching nothing are skipped.
pub fn poll(fds: &mut [Poll], timeout_ms: Option<u64>) -> Result<usize> {
    let mut raw: Vec<libc::pollfd> = fds
        .iter()
        .map(|f| {
            let mut ev = 0;
            if f.read {
                ev |= libc::POLLIN;
            }
            if f.write {
                ev |= libc::POLLOUT;
            }
            libc::pollfd { fd: if ev != 0 { f.fd } else { -1 }, events: ev, revents: 0 }
        })
        .collect();
    let t = timeout_ms.map(|t| t.min(i32::MAX as u64) as i32).unwrap_or(-1);
    // SAFETY: raw holds raw.len() initialised pollfd structures.
    let n = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, t) };
    if n < 0 {
        let e = Error::last_os_error();
        if e.kind() == std::io::ErrorKind::Interrupted {
            for f in fds.iter_mut() {
                f.can_read = false;
                f.can_write = false;
                f.hup = false;
            }
            return Ok(0);
        }
        return Err(e);
    }
    for (r, f) in raw.iter().zip(fds.iter_mut()) {
        let bad = r.revents & (libc::POLLERR | libc::POLLNVAL) != 0;
        f.hup = r.revents & libc::POLLHUP != 0;
        f.can_read = f.read && (r.revents & libc::POLLIN != 0 || f.hup || bad);
        f.can_write = f.write && (r.revents & libc::POLLOUT != 0 || bad || f.hup);
    }
    Ok(n as usize)
}

/// Opens `path` `O_WRONLY|O_APPEND|O_CREAT|O_NONBLOCK|O_CLOEXEC`, mode 0666 (& ~umask):
/// skalibs' `openc_append`.
pub fn open_append(path: &Path) -> Result<OwnedFd> {
    crate::fd::open(path, libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_NONBLOCK | libc::O_CLOEXEC, 0o666)
}

/// Opens `path` `O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC` 0666: skalibs' `openc_trunc`.
pub fn open_trunc(path: &Path) -> Result<OwnedFd> {
    crate::fd::open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NONBLOCK | libc::O_CLOEXEC, 0o666)
}

/// Opens `path` `O_WRONLY|O_CREAT|O_NONBLOCK|O_CLOEXEC` 0666 without truncating: skalibs'
/// `openc_create` (s6-log's `lock` file).
pub fn open_create(path: &Path) -> Result<OwnedFd> {
    crate::fd::open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_NONBLOCK | libc::O_CLOEXEC, 0o666)
}

/// Spawns an s6-log processor: the child `chdir`s to `dir`, opens `previous` on fd 0,
/// `processed` (truncated) on fd 1, `state` on fd 4 and `newstate` (truncated) on fd 5, restores
/// an empty signal mask, and execs `argv[0]` with `argv`. Every other descriptor of ours is
/// close-on-exec. On a failure in the child, it writes `PROG (processor child): fatal: unable to
/// ...` on stderr and exits 111 (the parent sees it as a failed processor).
pub fn spawn_processor(prog: &str, dir: &Path, argv: &[Vec<u8>]) -> Result<i32> {
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

/// A signalfd-independent way to wait: sleep `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn tee_peeks_without_consuming() {
        let (r, w) = crate::fd::pipe(true).unwrap();
        let (pr, pw) = crate::fd::pipe(true).unwrap();
        crate::fd::write_all(w.as_raw_fd(), b"hello\n").unwrap();
        assert_eq!(fionread(r.as_raw_fd()).unwrap(), 6);
        assert_eq!(tee(r.as_raw_fd(), pw.as_raw_fd(), 1 << 20).unwrap(), 6);
        assert_eq!(fionread(r.as_raw_fd()).unwrap(), 6);
        let mut b = [0u8; 16];
        assert_eq!(crate::fd::read(pr.as_raw_fd(), &mut b).unwrap(), 6);
        assert_eq!(&b[..6], b"hello\n");
        // A regular file is not a pipe.
        let f = crate::fd::open(Path::new("/dev/null"), libc::O_RDONLY, 0).unwrap();
        let e = tee(f.as_raw_fd(), pw.as_raw_fd(), 10).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
        drop(w);
        let mut d = [0u8; 16];
        assert_eq!(crate::fd::read(r.as_raw_fd(), &mut d).unwrap(), 6);
        assert_eq!(tee(r.as_raw_fd(), pw.as_raw_fd(), 10).unwrap(), 0);
        assert!(pipe_size(r.as_raw_fd()).unwrap() >= 4096);
    }
}
