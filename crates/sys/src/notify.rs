//! The sd_notify socket of a service (issue 13, opt-in by a `notify-socket` file): an
//! `AF_UNIX` datagram socket the supervisor binds in the service's `supervise/` and names to
//! `run` in `NOTIFY_SOCKET`. What a datagram says is `merit_core::notify`'s business; this module
//! makes the socket and receives datagrams with the sender's credentials.
//!
//! - The socket is non-blocking and close-on-exec (`run` gets the path, not the descriptor), and
//!   has `SO_PASSCRED`, so that every datagram carries the sender's pid, uid and gid as the
//!   kernel saw them (`SCM_CREDENTIALS`, unforgeable without `CAP_SYS_ADMIN`/`CAP_SETUID`): the
//!   supervisor accepts `MAINPID=` only from the service's own processes.
//! - The socket file is created with its final mode by binding under a umask (never a chmod
//!   afterwards). The umask is per process: callers are single-threaded (the supervisor).
//! - A datagram longer than the buffer is reported as truncated (`MSG_TRUNC`, with its real
//!   length), so that the caller ignores it rather than acting on a piece.
//! - Descriptors passed along (`SCM_RIGHTS`) are received close-on-exec and closed at once:
//!   `systemd-notify` (and sd_notify_barrier(3)) sends `BARRIER=1` with a descriptor and waits
//!   until the receiver has closed it; keeping none also means a service cannot make the
//!   supervisor run out of descriptors.

use crate::{cstr, cvt, Error, Result};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// Who sent a datagram, as the kernel says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// One received datagram: its bytes are `buf[..len.min(buf.len())]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The datagram's real length (more than the buffer when truncated).
    pub len: usize,
    /// The datagram did not fit the buffer (`MSG_TRUNC`): ignore it.
    pub truncated: bool,
    /// The sender's credentials (always there with `SO_PASSCRED`, unless the control data was
    /// truncated).
    pub cred: Option<Cred>,
    /// How many descriptors came along (all closed already).
    pub fds: usize,
}

/// Descriptors one datagram may carry (the kernel's `SCM_MAX_FD`).
const FDS_MAX: usize = 253;
/// Room for the control messages: one `ucred`, and `FDS_MAX` descriptors (which may come in
/// several `SCM_RIGHTS` headers), in u64 words for alignment.
const CONTROL_WORDS: usize = (64 + 16 + 16 + FDS_MAX * 4) / 8 + 4;

/// A bound notification socket.
#[derive(Debug)]
pub struct NotifySocket {
    fd: OwnedFd,
}

impl AsFd for NotifySocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for NotifySocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// `sockaddr_un` for a path, with its length; ENAMETOOLONG if it does not fit.
fn sockaddr(path: &Path) -> Result<(libc::sockaddr_un, libc::socklen_t)> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = cstr(path)?;
    let bytes = bytes.as_bytes_with_nul();
    // SAFETY: sockaddr_un is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() > sa.sun_path.len() || path.as_os_str().as_bytes().is_empty() {
        return Err(crate::errno::error(libc::ENAMETOOLONG));
    }
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, &s) in sa.sun_path.iter_mut().zip(bytes) {
        *d = s as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len();
    Ok((sa, len as libc::socklen_t))
}

impl NotifySocket {
    /// Creates the socket and binds it to `path`, a socket file of mode `mode` (e.g. `0o600`
    /// when `run` keeps the supervisor's user, `0o666` when it drops privileges). A socket file
    /// already at `path` (left by a previous supervisor of the service) is removed first;
    /// anything else there is an error (EADDRINUSE), never removed.
    pub fn bind(path: &Path, mode: u32) -> Result<NotifySocket> {
        let (sa, len) = sockaddr(path)?;
        // SAFETY: plain syscall; the fd is owned at once.
        let fd = cvt(unsafe {
            libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0)
        })?;
        // SAFETY: fresh descriptor, owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let on: libc::c_int = 1;
        // SAFETY: `on` is a valid c_int for the duration of the call.
        cvt(unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PASSCRED,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
        if let Ok(m) = std::fs::symlink_metadata(path) {
            use std::os::unix::fs::FileTypeExt;
            if m.file_type().is_socket() {
                std::fs::remove_file(path)?;
            }
        }
        let old = crate::umask(!mode & 0o777);
        // SAFETY: sa is a valid sockaddr_un and len does not exceed its size.
        let r = cvt(unsafe { libc::bind(fd.as_raw_fd(), (&sa as *const libc::sockaddr_un).cast(), len) });
        crate::umask(old);
        r?;
        Ok(NotifySocket { fd })
    }

    /// Receives one datagram into `buf` without blocking: `Ok(None)` when none is waiting.
    /// Descriptors that came along are closed. Give a buffer one byte larger than the largest
    /// datagram accepted, so that an oversized one shows as truncated.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<Received>> {
        let mut control = [0u64; CONTROL_WORDS];
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        // SAFETY: msghdr is plain data; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let flags = libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC | libc::MSG_TRUNC;
        let n = loop {
            // SAFETY: msg points at iov (into buf, of its length) and control (of its length),
            // all alive for the call.
            let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, flags) };
            if n >= 0 {
                break n as usize;
            }
            let e = Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(None),
                _ => return Err(e),
            }
        };
        let mut got = Received { len: n, truncated: msg.msg_flags & libc::MSG_TRUNC != 0, cred: None, fds: 0 };
        // SAFETY: msg was filled by recvmsg: CMSG_FIRSTHDR/NXTHDR walk the control buffer within
        // msg_controllen, and each header's data is read within its cmsg_len.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let data = libc::CMSG_DATA(c);
                let data_len = ((*c).cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
                if (*c).cmsg_level == libc::SOL_SOCKET {
                    if (*c).cmsg_type == libc::SCM_CREDENTIALS && data_len >= std::mem::size_of::<libc::ucred>() {
                        let u: libc::ucred = std::ptr::read_unaligned(data.cast());
                        got.cred = Some(Cred { pid: u.pid, uid: u.uid, gid: u.gid });
                    } else if (*c).cmsg_type == libc::SCM_RIGHTS {
                        let count = data_len / std::mem::size_of::<libc::c_int>();
                        for i in 0..count {
                            let fd: libc::c_int = std::ptr::read_unaligned(data.cast::<libc::c_int>().add(i));
                            // Closing it is what releases a BARRIER=1 sender.
                            drop(OwnedFd::from_raw_fd(fd));
                        }
                        got.fds += count;
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Ok(Some(got))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    use std::os::unix::net::UnixDatagram;
    use std::time::{Duration, Instant};

    /// The umask is per process: the tests that bind take turns.
    static UMASK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn tmpdir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("merit-sys-notify-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn bind(path: &Path, mode: u32) -> NotifySocket {
        let _g = UMASK.lock().unwrap_or_else(|e| e.into_inner());
        NotifySocket::bind(path, mode).unwrap()
    }

    /// Polls for one datagram until the deadline.
    fn recv_within(s: &NotifySocket, buf: &mut [u8], secs: u64) -> Option<Received> {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(r) = s.recv(buf).unwrap() {
                return Some(r);
            }
            if Instant::now() > end {
                return None;
            }
            let mut p = [crate::fd::PollFd::new(s.as_raw_fd())];
            let _ = crate::fd::poll(&mut p, Some(50));
        }
    }

    #[test]
    fn binds_with_its_final_mode_and_receives_with_credentials() {
        let d = tmpdir("basic");
        let path = d.join("notify");
        let s = bind(&path, 0o600);
        let m = std::fs::symlink_metadata(&path).unwrap();
        assert!(m.file_type().is_socket());
        assert_eq!(m.permissions().mode() & 0o7777, 0o600);
        let s2 = bind(&d.join("other"), 0o666);
        assert_eq!(std::fs::metadata(d.join("other")).unwrap().permissions().mode() & 0o7777, 0o666);
        drop(s2);
        // Close-on-exec and non-blocking.
        // SAFETY: fcntl queries on an open descriptor.
        let (fdfl, flfl) =
            unsafe { (libc::fcntl(s.as_raw_fd(), libc::F_GETFD), libc::fcntl(s.as_raw_fd(), libc::F_GETFL)) };
        assert!(fdfl & libc::FD_CLOEXEC != 0 && flfl & libc::O_NONBLOCK != 0);

        let mut buf = [0u8; 4097];
        assert_eq!(s.recv(&mut buf).unwrap(), None, "nothing waiting: no block");
        let tx = UnixDatagram::unbound().unwrap();
        tx.send_to(b"READY=1\nSTATUS=up", &path).unwrap();
        let r = recv_within(&s, &mut buf, 5).unwrap();
        assert_eq!(&buf[..r.len], b"READY=1\nSTATUS=up");
        assert!(!r.truncated);
        assert_eq!(r.fds, 0);
        assert_eq!(r.cred, Some(Cred { pid: crate::getpid(), uid: crate::geteuid(), gid: crate::getegid() }));

        // An empty datagram is a datagram.
        tx.send_to(b"", &path).unwrap();
        assert_eq!(recv_within(&s, &mut buf, 5).unwrap().len, 0);

        // Oversized: reported with its real length, never taken as the piece that fitted.
        tx.send_to(&[b'x'; 5000], &path).unwrap();
        let r = recv_within(&s, &mut buf, 5).unwrap();
        assert!(r.truncated);
        assert_eq!(r.len, 5000);
        tx.send_to(&[b'y'; 4097], &path).unwrap();
        let r = recv_within(&s, &mut buf, 5).unwrap();
        assert_eq!((r.len, r.truncated), (4097, false));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_stale_socket_is_replaced_and_anything_else_refused() {
        let d = tmpdir("stale");
        let path = d.join("notify");
        let old = bind(&path, 0o600);
        drop(old);
        let s = bind(&path, 0o600);
        UnixDatagram::unbound().unwrap().send_to(b"READY=1", &path).unwrap();
        assert!(recv_within(&s, &mut [0u8; 64], 5).is_some(), "the new socket is the one bound");
        let file = d.join("file");
        std::fs::write(&file, b"keep").unwrap();
        let e = {
            let _g = UMASK.lock().unwrap_or_else(|e| e.into_inner());
            NotifySocket::bind(&file, 0o600).unwrap_err()
        };
        assert_eq!(e.raw_os_error(), Some(libc::EADDRINUSE));
        assert_eq!(std::fs::read(&file).unwrap(), b"keep");
        let long = d.join("x".repeat(120));
        assert_eq!(NotifySocket::bind(&long, 0o600).unwrap_err().raw_os_error(), Some(libc::ENAMETOOLONG));
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A child process sends: the credentials are the child's, not ours. As root, a child that
    /// became another user is refused by a 0600 socket and accepted by a 0666 one, and the
    /// kernel reports its uid and gid.
    #[test]
    fn datagrams_from_a_child_process() {
        let d = tmpdir("child");
        let path = d.join("notify");
        let s = bind(&path, 0o600);
        let mut buf = [0u8; 4097];
        let (pid, status) = send_from_child(&path, b"READY=1\nMAINPID=2", None);
        assert_eq!(status, 0);
        let r = recv_within(&s, &mut buf, 5).unwrap();
        assert_eq!(&buf[..r.len], b"READY=1\nMAINPID=2");
        assert_eq!(r.cred.map(|c| c.pid), Some(pid));
        assert_ne!(pid, crate::getpid());

        if crate::geteuid() != 0 {
            eprintln!("skipped: the part as another user needs root");
            let _ = std::fs::remove_dir_all(&d);
            return;
        }
        let (_, status) = send_from_child(&path, b"READY=1", Some(65534));
        assert_eq!(status, libc::EACCES, "a 0600 socket refuses another user");
        let open = d.join("open");
        let s = bind(&open, 0o666);
        let (pid, status) = send_from_child(&open, b"STATUS=nobody", Some(65534));
        assert_eq!(status, 0);
        let r = recv_within(&s, &mut buf, 5).unwrap();
        assert_eq!(&buf[..r.len], b"STATUS=nobody");
        assert_eq!(r.cred, Some(Cred { pid, uid: 65534, gid: 65534 }));
        let _ = std::fs::remove_dir_all(&d);
    }

    /// Forks a child that (optionally) becomes uid/gid `user`, sends `msg` to `path` and exits
    /// with 0 or the errno of the failure. Returns (child pid, exit code).
    fn send_from_child(path: &Path, msg: &[u8], user: Option<u32>) -> (i32, i32) {
        let (sa, len) = sockaddr(path).unwrap();
        // SAFETY: the child only makes async-signal-safe calls (setgroups, setgid, setuid,
        // socket, sendto, _exit) on data prepared before the fork.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                let err = || *libc::__errno_location();
                if let Some(u) = user {
                    if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(u) != 0 || libc::setuid(u) != 0 {
                        libc::_exit(100);
                    }
                }
                let fd = libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
                if fd < 0 {
                    libc::_exit(101);
                }
                let r =
                    libc::sendto(fd, msg.as_ptr().cast(), msg.len(), 0, (&sa as *const libc::sockaddr_un).cast(), len);
                libc::_exit(if r < 0 { err() } else { 0 });
            }
            let mut status = 0;
            assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
            assert!(libc::WIFEXITED(status));
            (pid, libc::WEXITSTATUS(status))
        }
    }

    /// The notifier nobody here wrote: systemd-notify (Debian package `systemd`, installed by
    /// .ci/run; systemd need not run). Observed with systemd 252: `--ready` sends `READY=1`,
    /// then `BARRIER=1` with a descriptor and waits until it is closed; as root the first
    /// datagram carries its parent's pid.
    #[test]
    fn real_systemd_notify() {
        let bin = Path::new("/usr/bin/systemd-notify");
        if !bin.exists() {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true: systemd-notify must be installed");
            eprintln!("skipped: /usr/bin/systemd-notify not installed (Debian package systemd)");
            return;
        }
        let d = tmpdir("systemd-notify");
        let path = d.join("notify");
        let s = bind(&path, 0o600);
        let mut buf = [0u8; 4097];
        for (args, want) in
            [(&["--ready"][..], &b"READY=1"[..]), (&["--status=hello world"][..], b"STATUS=hello world")]
        {
            let mut child = std::process::Command::new(bin).args(args).env("NOTIFY_SOCKET", &path).spawn().unwrap();
            let mut seen = Vec::new();
            let end = Instant::now() + Duration::from_secs(10);
            let status = loop {
                while let Some(r) = s.recv(&mut buf).unwrap() {
                    assert!(!r.truncated);
                    seen.push((buf[..r.len].to_vec(), r.fds, r.cred));
                }
                if let Some(st) = child.try_wait().unwrap() {
                    break st;
                }
                assert!(Instant::now() < end, "systemd-notify {args:?} still running; got {seen:?}");
                let mut p = [crate::fd::PollFd::new(s.as_raw_fd())];
                let _ = crate::fd::poll(&mut p, Some(20));
            };
            while let Some(r) = s.recv(&mut buf).unwrap() {
                seen.push((buf[..r.len].to_vec(), r.fds, r.cred));
            }
            // Exit 0: the barrier was released because recv closed the descriptor.
            assert!(status.success(), "systemd-notify {args:?}: {status:?}; got {seen:?}");
            let first = seen.first().unwrap_or_else(|| panic!("nothing from systemd-notify {args:?}"));
            assert_eq!(first.0, want);
            assert_eq!(first.1, 0);
            let pid = first.2.unwrap().pid;
            assert!(pid == crate::getpid() || pid == child.id() as i32, "pid {pid}");
            // Versions with the barrier send it after, with one descriptor, which was closed.
            for (msg, fds, _) in &seen[1..] {
                assert_eq!((msg.as_slice(), *fds), (&b"BARRIER=1"[..], 1));
            }
        }
        // From a run script: as root, the datagram carries the script's pid (systemd-notify's
        // parent), the service's own process; otherwise systemd-notify's own pid.
        let mut sh = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg("/usr/bin/systemd-notify --ready --status=from-sh; exit 0")
            .env("NOTIFY_SOCKET", &path)
            .spawn()
            .unwrap();
        let r = recv_within(&s, &mut buf, 10).expect("nothing from systemd-notify under sh");
        assert_eq!(&buf[..r.len], b"READY=1\nSTATUS=from-sh");
        if crate::geteuid() == 0 {
            assert_eq!(r.cred.map(|c| c.pid), Some(sh.id() as i32));
        }
        let end = Instant::now() + Duration::from_secs(10);
        while sh.try_wait().unwrap().is_none() {
            let _ = s.recv(&mut buf);
            assert!(Instant::now() < end, "systemd-notify under sh did not finish");
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
