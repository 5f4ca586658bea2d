//! merit-sys: every syscall merit makes and every `unsafe` block it contains.
//!
//! Each wrapper is small, returns `std::io::Result`, and documents why its `unsafe` is sound.
//! Programs and `merit-core` never call `libc` themselves. Modules by subsystem: descriptors,
//! pipes and the one `poll` ([`fd`]), files and directories ([`fs`]), locks and "is a
//! supervisor running" ([`lock`]), `event/` fifodirs ([`fifodir`]), processes ([`process`]),
//! signals ([`signal`], names from `merit_core::signals`), clocks ([`clock`]), whole-system
//! calls of init ([`system`]), sd_notify sockets ([`notify`]), cgroup v2 ([`cgroup`]), and
//! the executables' entry without the Rust runtime's start-up ([`startup`], [`entry!`],
//! [`hot!`]).

pub mod cgroup;
pub mod clock;
pub mod fd;
pub mod fifodir;
pub mod fs;
pub mod lock;
pub mod notify;
pub mod process;
pub mod signal;
pub mod startup;
pub mod system;

pub use std::io::{Error, Result};

/// Converts a `-1`-on-error return value into a `Result`.
pub(crate) fn cvt<T: PartialEq + From<i8>>(r: T) -> Result<T> {
    if r == T::from(-1) {
        Err(Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Same as [`cvt`], retrying on EINTR.
pub(crate) fn cvt_retry<T: PartialEq + From<i8>>(mut f: impl FnMut() -> T) -> Result<T> {
    loop {
        match cvt(f()) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// A path as a NUL-terminated C string.
pub fn cstr(p: impl AsRef<std::ffi::OsStr>) -> Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_ref().as_bytes())
        .map_err(|_| Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// The bytes of `parts` one after the other, in a vector of exactly that size (no growth). For
/// paths built on a path that a long-running process takes rarely: a plain copy into a
/// zeroed buffer runs code every process runs anyway (memcpy), where `Vec::extend_from_slice`
/// is one more generic function whose page a process must fault in (bench/deps.py).
pub fn concat_bytes(parts: &[&[u8]]) -> Vec<u8> {
    let total = parts.iter().map(|p| p.len()).sum();
    let mut v = vec![0u8; total];
    let mut at = 0;
    for p in parts {
        if let Some(room) = v.get_mut(at..at + p.len()) {
            room.copy_from_slice(p);
        }
        at += p.len();
    }
    v
}

/// The process's `errno`-style description, as s6 prints it (`strerror`).
pub fn strerror(e: &Error) -> String {
    match e.raw_os_error() {
        // SAFETY: strerror returns a pointer to a static or thread-local NUL-terminated string.
        Some(code) => unsafe { std::ffi::CStr::from_ptr(libc::strerror(code)).to_string_lossy().into_owned() },
        None => e.to_string(),
    }
}

/// The umask as last set through [`umask`] (`u32::MAX`: never set by this process, unknown).
/// merit's programs are single-threaded and change the umask only through [`umask`].
static KNOWN_UMASK: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(u32::MAX);

/// Sets the umask, returning the previous one.
pub fn umask(mask: u32) -> u32 {
    KNOWN_UMASK.store(mask & 0o777, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: umask cannot fail and touches no memory.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// The current umask when this process has set it through [`umask`] (no call needed to know
/// it), else `None`.
pub fn known_umask() -> Option<u32> {
    match KNOWN_UMASK.load(std::sync::atomic::Ordering::Relaxed) {
        u32::MAX => None,
        m => Some(m),
    }
}

/// The current umask (read by setting and restoring it).
pub fn get_umask() -> u32 {
    let m = umask(0o022);
    umask(m);
    m
}

pub fn getegid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getegid() }
}

pub fn geteuid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::geteuid() }
}

pub fn getpid() -> i32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getpid() }
}

/// `mkfifo(path, mode)`.
pub fn mkfifo(path: &std::path::Path, mode: u32) -> Result<()> {
    let c = cstr(path)?;
    // SAFETY: c is a valid NUL-terminated string for the duration of the call.
    cvt(unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// `chown(path, uid, gid)`; `None` keeps the current value.
pub fn chown(path: &std::path::Path, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    let c = cstr(path)?;
    let u = uid.unwrap_or(u32::MAX);
    let g = gid.unwrap_or(u32::MAX);
    // SAFETY: valid C string; -1 (u32::MAX) means "unchanged".
    cvt(unsafe { libc::chown(c.as_ptr(), u, g) }).map(drop)
}

/// `rename(from, to)` relative to the cwd or absolute.
pub fn rename(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    std::fs::rename(from, to)
}

/// `open(2)` flags, re-exported so programs need not link `libc` themselves.
pub mod flags {
    pub use libc::{
        O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR,
        O_TRUNC, O_WRONLY,
    };
}

/// errno values by name, so that programs never compare with a raw number.
pub mod errno {
    pub use libc::{
        EACCES, EAGAIN, EBADF, EBUSY, EEXIST, EINTR, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, ENXIO, EPERM, EPIPE,
        EROFS, ESRCH, ETXTBSY,
    };

    /// Whether `e` is this errno.
    pub fn is(e: &std::io::Error, errno: i32) -> bool {
        e.raw_os_error() == Some(errno)
    }

    /// An `io::Error` for this errno.
    pub fn error(errno: i32) -> std::io::Error {
        std::io::Error::from_raw_os_error(errno)
    }
}
