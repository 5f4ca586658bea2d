//! The `event/` fifodir (events.md): the notifier side used by `s6-supervise` and the listener
//! side used by `s6-svc -w…` and `s6-svwait`, both exactly as s6 2.11.3.2 names and opens FIFOs.

use crate::fd::{open, read};
use crate::Result;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Prefix of a subscriber FIFO; names are exactly [`FIFO_NAME_LEN`] bytes.
pub const FIFO_PREFIX: &[u8] = b"ftrig1:@";
pub const FIFO_NAME_LEN: usize = 39;

/// Broadcasts `bytes` to every subscriber FIFO of `dir` (one write each). A FIFO without a
/// reader (ENXIO) or whose reader vanished (EPIPE) is unlinked; other failures skip it.
pub fn notify(dir: &Path, bytes: &[u8]) -> Result<()> {
    let cdir = crate::cstr(dir)?;
    // A few subscribers at most: a small buffer keeps the supervisors' stacks short.
    let mut list = crate::fs::Dir::<512>::open(&cdir)?;
    let mut path = cdir.into_bytes();
    path.push(b'/');
    let base = path.len();
    while let Some(entry) = list.next_name() {
        let Ok(name) = entry else { break };
        let nb = name.to_bytes();
        if nb.len() != FIFO_NAME_LEN || !nb.starts_with(FIFO_PREFIX) {
            continue;
        }
        path.truncate(base);
        path.extend_from_slice(nb);
        path.push(0);
        let Ok(cpath) = std::ffi::CStr::from_bytes_with_nul(&path) else { continue };
        let gone = match crate::fd::open_c(cpath, libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC, 0) {
            Ok(f) => matches!(crate::fd::write(f.as_raw_fd(), bytes), Err(e) if e.raw_os_error() == Some(libc::EPIPE)),
            Err(e) => e.raw_os_error() == Some(libc::ENXIO),
        };
        if gone {
            // SAFETY: valid C string.
            unsafe { libc::unlink(cpath.as_ptr()) };
        }
    }
    Ok(())
}

/// Fills `buf` with random bytes (getrandom, falling back to the clock).
pub fn random_bytes(buf: &mut [u8]) {
    // SAFETY: buf is valid for buf.len() writable bytes.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), libc::GRND_NONBLOCK) };
    if n != buf.len() as isize {
        let mut x = crate::clock::mono_ns() ^ (crate::getpid() as u64) << 32;
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
}

/// A subscription: our FIFO in a fifodir, removed on drop.
pub struct Subscription {
    path: PathBuf,
    reader: OwnedFd,
    _writer: OwnedFd,
}

const NAME_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Subscription {
    /// Subscribes as s6-ftrigrd does: mkfifo `.ftrig1:@<label>:<6 random>` 0600 (umask 0),
    /// open it for reading and for writing (non-blocking), then rename to the visible name.
    /// Creates `dir` (03730) first if it is missing, ignoring failures, like s6-svwait.
    pub fn new(dir: &Path, label: &[u8; 25]) -> Result<Subscription> {
        if !dir.exists() {
            let old = crate::umask(0);
            if std::fs::create_dir(dir).is_ok() {
                let _ = crate::chown(dir, None, Some(crate::getegid()));
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o3730));
            }
            crate::umask(old);
        }
        loop {
            let mut rnd = [0u8; 6];
            random_bytes(&mut rnd);
            let mut name = Vec::with_capacity(FIFO_NAME_LEN + 1);
            name.push(b'.');
            name.extend_from_slice(b"ftrig1:");
            name.extend_from_slice(label);
            name.push(b':');
            name.extend(rnd.iter().map(|b| NAME_CHARS[(b & 63) as usize]));
            let hidden = dir.join(std::ffi::OsStr::from_bytes(&name));
            let old = crate::umask(0);
            let made = crate::mkfifo(&hidden, 0o600);
            crate::umask(old);
            match made {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => continue,
                Err(e) => return Err(e),
            }
            let flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
            let opened = open(&hidden, libc::O_RDONLY | flags, 0)
                .and_then(|r| Ok((r, open(&hidden, libc::O_WRONLY | flags, 0)?)));
            let (reader, writer) = match opened {
                Ok(p) => p,
                Err(e) => {
                    let _ = std::fs::remove_file(&hidden);
                    return Err(e);
                }
            };
            let path = dir.join(std::ffi::OsStr::from_bytes(&name[1..]));
            if let Err(e) = std::fs::rename(&hidden, &path) {
                let _ = std::fs::remove_file(&hidden);
                return Err(e);
            }
            return Ok(Subscription { path, reader, _writer: writer });
        }
    }

    /// The descriptor to poll for readability.
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.reader.as_raw_fd()
    }

    /// Reads whatever event bytes are pending (non-blocking): empty when none.
    pub fn read_events(&self, buf: &mut [u8]) -> Result<usize> {
        match read(self.reader.as_raw_fd(), buf) {
            Ok(n) => Ok(n),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Ok(0),
            Err(e) => Err(e),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
