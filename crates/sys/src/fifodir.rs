//! The `event/` fifodir (events.md): the notifier side used by `s6-supervise` and the listener
//! side used by `s6-svc -w…` and `s6-svwait`, both exactly as s6 2.11.3.2 names and opens FIFOs.
//!
//! merit adds one class of listener beside s6's: a supervisor holding a start until a service
//! it needs is up ([`Listener::Gate`], FIFOs named `merit-gate:@…`). A notifier writes to
//! those only the events that may let a held start go (see `s6-supervise`'s gate), so that a
//! held supervisor wakes once instead of at every event; s6's programs ignore these names.

use crate::fd::read;
use crate::{cvt, Error, Result};
use std::ffi::CStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Prefix of a subscriber FIFO; names are exactly [`FIFO_NAME_LEN`] bytes.
pub const FIFO_PREFIX: &[u8] = b"ftrig1:@";
pub const FIFO_NAME_LEN: usize = 39;
/// Prefix of a start gate's entry (merit's own); names are exactly [`GATE_NAME_LEN`] bytes.
pub const GATE_PREFIX: &[u8] = b"merit-gate:@";
pub const GATE_NAME_LEN: usize = 43;
/// The byte a notifier writes to a start gate's entry, whatever the event: not one of
/// s6-supervise's control letters (it ignores other bytes), because a gate's entry is most
/// often a hard link to the waiting supervisor's own `supervise/control` ([`GateLink`]).
pub const GATE_WAKE: u8 = b'!';

/// Who listens through an entry of a fifodir.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    /// s6's listeners (`ftrig1:@<label>:<6>`): told every event.
    Ftrig,
    /// A start held for this service (`merit-gate:@<label>:<6>`): told [`GATE_WAKE`], and
    /// only at the events the notifier says may let it go.
    Gate,
}

impl Listener {
    /// The visible name's prefix without the label's `@`, as the hidden name continues it.
    fn stem(self) -> &'static [u8] {
        match self {
            Listener::Ftrig => b"ftrig1:",
            Listener::Gate => b"merit-gate:",
        }
    }

    fn of(name: &[u8]) -> Option<Listener> {
        if name.len() == FIFO_NAME_LEN && name.starts_with(FIFO_PREFIX) {
            Some(Listener::Ftrig)
        } else if name.len() == GATE_NAME_LEN && name.starts_with(GATE_PREFIX) {
            Some(Listener::Gate)
        } else {
            None
        }
    }
}

/// Broadcasts `bytes` to every subscriber FIFO of `dir` (one write each), and [`GATE_WAKE`]
/// to the start gates' entries too when `to_gates`. A FIFO without a reader (ENXIO) or whose
/// reader vanished (EPIPE) is unlinked; other failures skip it. An entry is opened without
/// following a symbolic link and written only when it is a FIFO: a hard link to another file
/// planted under a listener's name by a member of the fifodir's group gets nothing.
pub fn notify(dir: &Path, bytes: &[u8], to_gates: bool) -> Result<()> {
    let cdir = crate::cstr(dir)?;
    // A few subscribers at most: a small buffer keeps the supervisors' stacks short.
    let mut list = crate::fs::Dir::<512>::open(&cdir)?;
    let mut path = cdir.into_bytes();
    path.push(b'/');
    let base = path.len();
    while let Some(entry) = list.next_name() {
        let Ok(name) = entry else { break };
        let nb = name.to_bytes();
        match Listener::of(nb) {
            Some(Listener::Ftrig) => {}
            Some(Listener::Gate) if to_gates => {}
            _ => continue,
        }
        path.truncate(base);
        path.extend_from_slice(nb);
        path.push(0);
        let Ok(cpath) = std::ffi::CStr::from_bytes_with_nul(&path) else { continue };
        let what: &[u8] = if nb.starts_with(GATE_PREFIX) { &[GATE_WAKE] } else { bytes };
        let flags = libc::O_WRONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let gone = match crate::fd::open_c(cpath, flags, 0) {
            Ok(f) if crate::fs::fstat(f.as_raw_fd()).is_ok_and(|st| st.is_fifo()) => {
                matches!(crate::fd::write(f.as_raw_fd(), what), Err(e) if e.raw_os_error() == Some(libc::EPIPE))
            }
            Ok(_) => false,
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

/// Makes a fifodir as s6's fifodir_make does: 0700 (never wider than its final mode), our
/// effective group, then 03730 (mkdir(2) cannot give the setgid bit). Failures are ignored, as
/// s6-svwait ignores them: the mkfifo that follows tells. Whether it was made here.
fn make_fifodir(dir: &CStr) -> bool {
    if crate::fs::mkdir(dir, 0o700).is_err() {
        return false;
    }
    // Given its group and mode through a descriptor of the directory just made, not by path:
    // a supervisor makes this in a sibling service's directory, where a symlink put in its
    // place meanwhile must not be followed.
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let Ok(d) = crate::fd::open_c(dir, flags, 0) else { return true };
    // SAFETY: a valid descriptor; -1 (u32::MAX) keeps the owner.
    let _ = cvt(unsafe { libc::fchown(d.as_raw_fd(), u32::MAX, crate::getegid()) });
    let _ = crate::fs::fchmod(d.as_raw_fd(), 0o3730);
    true
}

/// Six characters of a FIFO name: unique enough among the subscribers of one fifodir (a name
/// taken makes mkfifo fail with EEXIST, and another is drawn), without a getrandom(2) call:
/// our pid, the clock and a counter mixed (splitmix64).
fn name_suffix(out: &mut [u8; 6]) {
    static DRAWN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = DRAWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut x =
        crate::clock::mono_ns() ^ (u64::from(crate::getpid() as u32) << 40) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    for (i, b) in out.iter_mut().enumerate() {
        *b = NAME_CHARS[((x >> (6 * i)) & 63) as usize];
    }
}

impl Subscription {
    /// Subscribes as s6-ftrigrd does: mkfifo `.ftrig1:@<label>:<6 characters>` 0600, open it
    /// for reading and for writing (non-blocking), then rename it to the visible name (a
    /// notifier unlinks a visible FIFO it cannot open, so it must have its reader first).
    /// Creates `dir` (03730) when it is missing, ignoring failures, like s6-svwait.
    ///
    /// Lean on purpose: a supervisor holding a start for a dependency subscribes once per
    /// held start, a thousand of them at a boot. So no stat(2) before (a missing `dir` is the
    /// mkfifo's ENOENT), no umask(2) around the mkfifo when this process knows its umask leaves
    /// 0600 alone ([`crate::known_umask`]), and no getrandom(2) ([`name_suffix`]).
    pub fn new(dir: &Path, label: &[u8; 25]) -> Result<Subscription> {
        Subscription::with(dir, label, Listener::Ftrig)
    }

    /// [`Subscription::new`] for a given class of listener.
    pub fn with(dir: &Path, label: &[u8; 25], class: Listener) -> Result<Subscription> {
        // The hidden name (a dot first) until the FIFO has its reader.
        let hidden = create_entry(dir, true, class, label, |p| match crate::known_umask() {
            Some(m) if m & 0o600 == 0 => mkfifo_c(p),
            _ => {
                let old = crate::umask(0);
                let r = mkfifo_c(p);
                crate::umask(old);
                r
            }
        })?;
        // Where the dot is: before the name and its NUL.
        let name_len = if class == Listener::Ftrig { FIFO_NAME_LEN } else { GATE_NAME_LEN };
        let dot = hidden.len().saturating_sub(name_len + 2);
        let hidden_c = CStr::from_bytes_with_nul(&hidden)
            .map_err(|_| Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
        let flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
        let opened = crate::fd::open_c(hidden_c, libc::O_RDONLY | flags, 0)
            .and_then(|r| Ok((r, crate::fd::open_c(hidden_c, libc::O_WRONLY | flags, 0)?)));
        let (reader, writer) = match opened {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: valid C string.
                unsafe { libc::unlink(hidden_c.as_ptr()) };
                return Err(e);
            }
        };
        let mut visible = hidden.clone();
        visible.remove(dot);
        let visible_c = CStr::from_bytes_with_nul(&visible)
            .map_err(|_| Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
        // SAFETY: valid C strings.
        if let Err(e) = cvt(unsafe { libc::rename(hidden_c.as_ptr(), visible_c.as_ptr()) }) {
            // SAFETY: valid C string.
            unsafe { libc::unlink(hidden_c.as_ptr()) };
            return Err(e);
        }
        visible.pop();
        let path = PathBuf::from(std::ffi::OsString::from_vec(visible));
        Ok(Subscription { path, reader, _writer: writer })
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

/// Creates a listener's entry in `dir` with `make` (a mkfifo, a link): named
/// `[.]STEM<label>:<6 characters>`, drawing other characters while the name is taken (EEXIST),
/// and making `dir` (03730) once when it is missing (ENOENT), as s6-svwait does. Returns the
/// path made, with its NUL.
fn create_entry(
    dir: &Path,
    hidden: bool,
    class: Listener,
    label: &[u8; 25],
    mut make: impl FnMut(&CStr) -> Result<()>,
) -> Result<Vec<u8>> {
    let d = dir.as_os_str().as_bytes();
    let dot: &[u8] = if hidden { b"/." } else { b"/" };
    // The name's six characters and the NUL, filled below.
    let mut path = crate::concat_bytes(&[d, dot, class.stem(), label, b":", &[0; 7]]);
    let suffix = path.len() - 7;
    let mut made_dir = false;
    for _ in 0..64 {
        let mut rnd = [0u8; 6];
        name_suffix(&mut rnd);
        if let Some(room) = path.get_mut(suffix..suffix + 6) {
            room.copy_from_slice(&rnd);
        }
        let c = CStr::from_bytes_with_nul(&path)
            .map_err(|_| Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
        match make(c) {
            Ok(()) => return Ok(path),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => continue,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && !made_dir => {
                made_dir = true;
                make_fifodir(&crate::cstr(dir)?);
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::from_raw_os_error(libc::EEXIST))
}

/// A start gate's entry that is a hard link to the waiting supervisor's own control FIFO
/// (`supervise/control`), in the fifodir of the service it waits for; removed on drop.
///
/// One link(2) to subscribe and one unlink(2) to leave, where a FIFO of its own costs a
/// mkfifo, two opens and a rename, then an unlink and two closes, and a descriptor more to
/// poll: the notifier's [`GATE_WAKE`] arrives on the control FIFO the supervisor reads anyway.
/// Not possible across file systems (EXDEV), or where `fs.protected_hardlinks` refuses a FIFO
/// we do not own (EPERM): the caller then subscribes a FIFO ([`Subscription::with`]).
pub struct GateLink {
    path: std::ffi::CString,
    made_dir: bool,
}

impl GateLink {
    /// Links `control` (whose device and inode numbers are `id`) in `dir`, creating `dir`
    /// (03730) when it is missing, as [`Subscription::new`] does. The name is made from `id`,
    /// `merit-gate:@<inode, 16 hex><device, 8 hex>:linked`, so that a link left by a
    /// supervisor killed while it held a start (its drop never ran) is found and taken over by
    /// the next one, which reopens the same control FIFO: at most one link per control FIFO is
    /// ever left. Should that name be another file's, `merit-gate:@<label>:<6 characters>`.
    pub fn new(dir: &Path, label: &[u8; 25], control: &CStr, id: (u64, u64)) -> Result<GateLink> {
        let (dev, ino) = id;
        let mut hex = [0u8; 24];
        put_hex(hex.get_mut(..16).unwrap_or_default(), ino);
        put_hex(hex.get_mut(16..).unwrap_or_default(), dev & 0xffff_ffff);
        let own = crate::concat_bytes(&[dir.as_os_str().as_bytes(), b"/merit-gate:@", &hex, b":linked\0"]);
        let own = std::ffi::CString::from_vec_with_nul(own)
            .map_err(|_| Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
        let link = || {
            // SAFETY: valid C strings.
            cvt(unsafe { libc::link(control.as_ptr(), own.as_ptr()) }).map(drop)
        };
        let mut r = link();
        let mut made_dir = false;
        if r.as_ref().is_err_and(|e| e.raw_os_error() == Some(libc::ENOENT)) {
            made_dir = make_fifodir(&crate::cstr(dir)?);
            r = link();
        }
        match r {
            Ok(()) => return Ok(GateLink { path: own, made_dir }),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                if crate::fs::lstat(own.as_c_str()).is_ok_and(|st| (st.dev, st.ino) == id) {
                    return Ok(GateLink { path: own, made_dir });
                }
            }
            Err(e) => return Err(e),
        }
        let path = create_entry(dir, false, Listener::Gate, label, |p| {
            // SAFETY: valid C strings.
            cvt(unsafe { libc::link(control.as_ptr(), p.as_ptr()) }).map(drop)
        })?;
        let path = std::ffi::CString::from_vec_with_nul(path)
            .map_err(|_| Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
        Ok(GateLink { path, made_dir })
    }

    pub fn path(&self) -> &CStr {
        &self.path
    }

    /// Whether this call made `dir`: then the service it belongs to had no supervisor yet
    /// (s6-supervise makes its `event/` first thing), so it is not up.
    pub fn made_dir(&self) -> bool {
        self.made_dir
    }
}

impl Drop for GateLink {
    fn drop(&mut self) {
        // SAFETY: valid C string.
        unsafe { libc::unlink(self.path.as_ptr()) };
    }
}

/// `v`'s low bits as lowercase hex digits, as many as `out` holds.
fn put_hex(out: &mut [u8], v: u64) {
    let n = out.len();
    for (i, d) in out.iter_mut().enumerate() {
        *d = b"0123456789abcdef"[((v >> (4 * (n - 1 - i))) & 15) as usize];
    }
}

/// `mkfifo(path, 0600)` (as `mknod(S_IFIFO)`).
fn mkfifo_c(path: &CStr) -> Result<()> {
    // SAFETY: valid C string.
    cvt(unsafe { libc::mknod(path.as_ptr(), libc::S_IFIFO | 0o600, 0) }).map(drop)
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("merit-sys-fifodir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        d
    }

    const LABEL: &[u8; 25] = b"@400000006b127b1a2a5de7f8";

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn names_of_each_listener_and_what_each_is_told() {
        let d = scratch("names");
        let ev = d.join("event");
        // Made when missing: 03730 (the setgid bit given by chmod after a 0700 mkdir).
        let s6 = Subscription::new(&ev, LABEL).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&ev).unwrap().permissions().mode() & 0o7777, 0o3730);
        let gate = Subscription::with(&ev, LABEL, Listener::Gate).unwrap();
        crate::mkfifo(&d.join("control"), 0o600).unwrap();
        let control_r =
            crate::fd::open(&d.join("control"), libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC, 0).unwrap();
        let ctl = crate::fs::stat(&d.join("control")).unwrap();
        let link = GateLink::new(&ev, LABEL, &crate::cstr(d.join("control")).unwrap(), (ctl.dev, ctl.ino)).unwrap();
        // Its name comes from the control FIFO's numbers; a second one (a supervisor killed
        // while holding a start left the first) takes the same entry over.
        let again = GateLink::new(&ev, LABEL, &crate::cstr(d.join("control")).unwrap(), (ctl.dev, ctl.ino)).unwrap();
        assert_eq!(again.path(), link.path());
        std::mem::forget(again);
        let all = names(&ev);
        assert_eq!(all.len(), 3, "{all:?}");
        for n in &all {
            let b = n.as_bytes();
            let class = Listener::of(b).unwrap_or_else(|| panic!("{n}"));
            let len = if class == Listener::Ftrig { FIFO_NAME_LEN } else { GATE_NAME_LEN };
            assert_eq!(b.len(), len, "{n}");
            let tail = &b[len - 7..];
            assert_eq!(tail[0], b':', "{n}");
            assert!(tail[1..].iter().all(|c| NAME_CHARS.contains(c)), "{n}");
            // Made with a label, but for the gate link named after its control FIFO.
            assert!(n.contains(std::str::from_utf8(LABEL).unwrap()) || n.ends_with(":linked"), "{n}");
        }
        assert_eq!(s6.path().file_name().unwrap().len(), FIFO_NAME_LEN);
        let link_name = Path::new(std::ffi::OsStr::from_bytes(link.path().to_bytes())).file_name().unwrap();
        assert!(all.iter().any(|n| n.as_str() == link_name), "{link_name:?}");
        assert_ne!(gate.path().file_name(), Some(link_name));

        let read_all = |fd: std::os::fd::RawFd| {
            let mut buf = [0u8; 64];
            match read(fd, &mut buf) {
                Ok(n) => buf[..n].to_vec(),
                Err(_) => Vec::new(),
            }
        };
        notify(&ev, b"u", false).unwrap();
        assert_eq!(read_all(s6.fd()), b"u");
        assert_eq!(read_all(gate.fd()), b"");
        assert_eq!(read_all(control_r.as_raw_fd()), b"");
        notify(&ev, b"U", true).unwrap();
        assert_eq!(read_all(s6.fd()), b"U");
        assert_eq!(read_all(gate.fd()), [GATE_WAKE]);
        assert_eq!(read_all(control_r.as_raw_fd()), [GATE_WAKE]);

        // Each removes its entry when dropped.
        drop((s6, gate, link));
        assert!(names(&ev).is_empty(), "{:?}", names(&ev));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_gate_link_needs_the_control_fifo() {
        let d = scratch("nolink");
        let e = GateLink::new(&d.join("event"), LABEL, c"/nonexistent/control", (1, 2)).err().unwrap();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn suffixes_differ_from_one_draw_to_the_next() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            let mut s = [0u8; 6];
            name_suffix(&mut s);
            assert!(s.iter().all(|c| NAME_CHARS.contains(c)));
            seen.insert(s);
        }
        assert_eq!(seen.len(), 1000);
    }
}
