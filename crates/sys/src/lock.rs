//! POSIX record locks (`fcntl` `F_SETLK`/`F_GETLK`, whole file): the only kind the real s6 tools
//! take and test. `flock(2)` locks would be invisible to them.

use crate::{cvt, Result};
use std::os::fd::RawFd;

fn whole_file(kind: libc::c_short) -> libc::flock {
    // SAFETY: flock is plain data; zeroed is valid (l_start = l_len = 0: the whole file).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl
}

/// Takes a write lock on the whole file without waiting. `Ok(false)` if someone else holds it.
pub fn try_write_lock(fd: RawFd) -> Result<bool> {
    let fl = whole_file(libc::F_WRLCK as libc::c_short);
    // SAFETY: fl is a valid flock for the duration of the call.
    match cvt(unsafe { libc::fcntl(fd, libc::F_SETLK, &fl) }) {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Takes a write lock on the whole file, waiting for it.
pub fn write_lock_wait(fd: RawFd) -> Result<()> {
    let fl = whole_file(libc::F_WRLCK as libc::c_short);
    // SAFETY: as above.
    crate::cvt_retry(|| unsafe { libc::fcntl(fd, libc::F_SETLKW, &fl) }).map(drop)
}

/// Whether another process holds a lock that conflicts with a read lock (`F_GETLK` probe):
/// how s6-svok tells that a supervisor is running.
pub fn is_write_locked_by_other(fd: RawFd) -> Result<bool> {
    let mut fl = whole_file(libc::F_RDLCK as libc::c_short);
    // SAFETY: fl is valid and writable.
    cvt(unsafe { libc::fcntl(fd, libc::F_GETLK, &mut fl) })?;
    Ok(fl.l_type != libc::F_UNLCK as libc::c_short)
}

/// The pid of a process holding a lock on `fd`'s file that conflicts with a read lock (a
/// write lock), or `None` (`F_GETLK` probe; our own locks never conflict with us).
pub fn write_lock_holder(fd: RawFd) -> Result<Option<i32>> {
    let mut fl = whole_file(libc::F_RDLCK as libc::c_short);
    // SAFETY: fl is valid and writable.
    cvt(unsafe { libc::fcntl(fd, libc::F_GETLK, &mut fl) })?;
    Ok((fl.l_type != libc::F_UNLCK as libc::c_short).then_some(fl.l_pid))
}

/// Is an `s6-supervise` running on service directory `dir`? (`s6-svok`'s test.) Opens
/// `DIR/supervise/lock` read-only and probes it with `F_GETLK`. The path is built by byte
/// concatenation like the C tools, so `DIR` is used verbatim (an empty `DIR` yields
/// `/supervise/lock`). `Ok(false)` when the lock file does not exist (`s6-svok` exit 1).
pub fn supervisor_running(dir: &std::path::Path) -> Result<bool> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let mut path = dir.as_os_str().as_bytes().to_vec();
    path.extend_from_slice(b"/supervise/lock");
    let path = std::path::Path::new(std::ffi::OsStr::from_bytes(&path));
    match crate::fd::open(path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC, 0) {
        Ok(f) => is_write_locked_by_other(f.as_raw_fd()),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn write_lock_holder_names_the_other_process() {
        let p = std::env::temp_dir().join(format!("merit-sys-lock-{}", std::process::id()));
        let f = std::fs::File::create(&p).unwrap();
        let fd = f.as_raw_fd();
        assert_eq!(write_lock_holder(fd).unwrap(), None);
        // A child takes the lock (on the descriptor it keeps across its exec) and sleeps.
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("5");
        // SAFETY: fcntl only, async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                crate::fd::set_cloexec(fd, false)?;
                try_write_lock(fd).map(drop)
            });
        }
        let mut child = cmd.spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut holder = None;
        while holder.is_none() && std::time::Instant::now() < deadline {
            holder = write_lock_holder(fd).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_file(&p);
        assert_eq!(holder, Some(child.id() as i32));
        assert!(!is_write_locked_by_other(fd).unwrap(), "released when the holder died");
    }
}
