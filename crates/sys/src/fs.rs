//! Files and directories: metadata, modes, links, creation and removal, syncing data to disk,
//! directory listings; without allocation on the way.
//!
//! `std::fs` does the same jobs, but the long-lived processes of a tree (the scanner above all)
//! call these in their loops: taking C strings directly (or copying a short `Path` into one on
//! the stack, see [`CPath`]) avoids a copy per call, and keeping the code small and inlined
//! keeps what those processes map of the binary small (see bench/).

use crate::{cvt, cvt_retry, Error, Result};
use std::ffi::{CStr, CString};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

/// A path the calls of this module take: a C string as it is, or a `Path` copied with its NUL
/// into a buffer on the stack (on the heap past [`CPATH_STACK`] bytes), as `std::fs` does.
pub trait CPath {
    /// Runs `f` on the path as a C string. A `Path` containing a NUL byte is `InvalidInput`.
    fn with_cstr<T>(&self, f: impl FnOnce(&CStr) -> Result<T>) -> Result<T>;
}

/// Paths up to this many bytes (NUL included) are made C strings on the stack.
pub const CPATH_STACK: usize = 512;

impl CPath for CStr {
    fn with_cstr<T>(&self, f: impl FnOnce(&CStr) -> Result<T>) -> Result<T> {
        f(self)
    }
}

impl CPath for CString {
    fn with_cstr<T>(&self, f: impl FnOnce(&CStr) -> Result<T>) -> Result<T> {
        f(self)
    }
}

impl CPath for Path {
    fn with_cstr<T>(&self, f: impl FnOnce(&CStr) -> Result<T>) -> Result<T> {
        use std::os::unix::ffi::OsStrExt;
        let b = self.as_os_str().as_bytes();
        let mut buf = [0u8; CPATH_STACK];
        match buf.get_mut(..b.len() + 1) {
            Some(room) => {
                room[..b.len()].copy_from_slice(b);
                room[b.len()] = 0;
                let c = CStr::from_bytes_with_nul(room)
                    .map_err(|_| Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
                f(c)
            }
            None => f(&crate::cstr(self)?),
        }
    }
}

impl CPath for PathBuf {
    fn with_cstr<T>(&self, f: impl FnOnce(&CStr) -> Result<T>) -> Result<T> {
        self.as_path().with_cstr(f)
    }
}

/// What `stat(2)` says about a path (following symlinks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub dev: u64,
    pub ino: u64,
    /// File type and permission bits (`st_mode`).
    pub mode: u32,
    /// Number of hard links.
    pub nlink: u64,
    /// Size in bytes (of a regular file).
    pub size: u64,
}

impl FileStat {
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }
    pub fn is_fifo(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFIFO
    }
    /// The type as a directory entry gives it (`DT_*`, see [`Dir::next_entry`]).
    pub fn d_type(&self) -> u8 {
        match self.mode & libc::S_IFMT {
            libc::S_IFREG => libc::DT_REG,
            libc::S_IFDIR => libc::DT_DIR,
            libc::S_IFLNK => libc::DT_LNK,
            libc::S_IFIFO => libc::DT_FIFO,
            libc::S_IFSOCK => libc::DT_SOCK,
            libc::S_IFCHR => libc::DT_CHR,
            libc::S_IFBLK => libc::DT_BLK,
            _ => libc::DT_UNKNOWN,
        }
    }
}

/// `stat(path)` (following symlinks).
#[inline]
pub fn stat<P: CPath + ?Sized>(path: &P) -> Result<FileStat> {
    path.with_cstr(|c| {
        // SAFETY: an all-zero `struct stat` is valid; the kernel fills it in.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: valid C string and a valid out-pointer.
        cvt(unsafe { libc::stat(c.as_ptr(), &mut st) })?;
        Ok(FileStat::from(&st))
    })
}

/// `lstat(path)` (not following a symlink: a link is described itself).
pub fn lstat<P: CPath + ?Sized>(path: &P) -> Result<FileStat> {
    path.with_cstr(|c| {
        // SAFETY: an all-zero `struct stat` is valid; the kernel fills it in.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: valid C string and a valid out-pointer.
        cvt(unsafe { libc::lstat(c.as_ptr(), &mut st) })?;
        Ok(FileStat::from(&st))
    })
}

/// `fstat(fd)`.
pub fn fstat(fd: RawFd) -> Result<FileStat> {
    // SAFETY: an all-zero `struct stat` is valid; the kernel fills it in.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid out-pointer; a bad fd number gives EBADF.
    cvt(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(FileStat::from(&st))
}

impl From<&libc::stat> for FileStat {
    // The field types of `struct stat` differ between targets (32-bit, other libcs).
    #[allow(clippy::unnecessary_cast)]
    fn from(st: &libc::stat) -> FileStat {
        FileStat {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            mode: st.st_mode as u32,
            nlink: st.st_nlink as u64,
            size: st.st_size.max(0) as u64,
        }
    }
}

/// `chmod(path, mode)` (the umask does not apply).
pub fn chmod<P: CPath + ?Sized>(path: &P, mode: u32) -> Result<()> {
    // SAFETY: valid C string.
    path.with_cstr(|c| cvt(unsafe { libc::chmod(c.as_ptr(), mode as libc::mode_t) }).map(drop))
}

/// `fchmod(fd, mode)`.
pub fn fchmod(fd: RawFd, mode: u32) -> Result<()> {
    // SAFETY: plain integers.
    cvt(unsafe { libc::fchmod(fd, mode as libc::mode_t) }).map(drop)
}

/// What `statvfs(2)` says about the filesystem holding a path, in blocks of `block_size` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsSpace {
    /// Fragment size (`f_frsize`): the unit of the counts below.
    pub block_size: u64,
    /// Size of the filesystem (`f_blocks`).
    pub blocks: u64,
    /// Free blocks (`f_bfree`), those reserved for root included.
    pub free: u64,
    /// Free blocks an unprivileged user may use (`f_bavail`).
    pub available: u64,
}

/// `statvfs(path)`: the size and free space of the filesystem holding `path`.
// The field types of `struct statvfs` differ between targets.
#[allow(clippy::unnecessary_cast)]
pub fn space<P: CPath + ?Sized>(path: &P) -> Result<FsSpace> {
    path.with_cstr(|c| {
        // SAFETY: an all-zero `struct statvfs` is valid; the kernel fills it in.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: valid C string and a valid out-pointer.
        cvt(unsafe { libc::statvfs(c.as_ptr(), &mut st) })?;
        Ok(FsSpace {
            block_size: st.f_frsize as u64,
            blocks: st.f_blocks as u64,
            free: st.f_bfree as u64,
            available: st.f_bavail as u64,
        })
    })
}

/// `mknod(path, S_IFCHR | mode, makedev(major, minor))`: a character device node (subject to
/// the umask; needs CAP_MKNOD).
pub fn mknod_char<P: CPath + ?Sized>(path: &P, mode: u32, major: u32, minor: u32) -> Result<()> {
    let dev = libc::makedev(major, minor);
    // SAFETY: valid C string; plain integers otherwise.
    path.with_cstr(|c| cvt(unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | mode as libc::mode_t, dev) }).map(drop))
}

/// `mkdir(path, mode)` (subject to the umask).
pub fn mkdir<P: CPath + ?Sized>(path: &P, mode: u32) -> Result<()> {
    // SAFETY: valid C string.
    path.with_cstr(|c| cvt(unsafe { libc::mkdir(c.as_ptr(), mode as libc::mode_t) }).map(drop))
}

/// `link(from, to)`.
pub fn link<P: CPath + ?Sized, Q: CPath + ?Sized>(from: &P, to: &Q) -> Result<()> {
    // SAFETY: valid C strings.
    from.with_cstr(|a| to.with_cstr(|b| cvt(unsafe { libc::link(a.as_ptr(), b.as_ptr()) }).map(drop)))
}

/// `unlink(path)`.
pub fn unlink<P: CPath + ?Sized>(path: &P) -> Result<()> {
    // SAFETY: valid C string.
    path.with_cstr(|c| cvt(unsafe { libc::unlink(c.as_ptr()) }).map(drop))
}

/// `unlink(path)`, ignoring every error (skalibs' `unlink_void`).
pub fn unlink_void<P: CPath + ?Sized>(path: &P) {
    let _ = unlink(path);
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

/// What [`read_small`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Small {
    /// No such file.
    Absent,
    /// Something that is not a regular file (a FIFO, a device, a directory...): not read.
    NotRegular,
    /// Its first bytes (at most the requested number).
    Data(Vec<u8>),
}

/// Reads at most `max` bytes of a small configuration file, following symlinks. It is opened
/// non-blocking and read only when it is a regular file: a FIFO planted in its place must not
/// freeze a long-running reader (a blocking open of a FIFO waits for a writer, its read for
/// data).
pub fn read_small(path: &CStr, max: usize) -> Result<Small> {
    let f = match crate::fd::open_c(path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC, 0) {
        Ok(f) => f,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT)) => return Ok(Small::Absent),
        Err(e) => return Err(e),
    };
    use std::os::fd::AsRawFd;
    let st = fstat(f.as_raw_fd())?;
    if !st.is_file() {
        return Ok(Small::NotRegular);
    }
    // A buffer the size of the file (one more byte to see its end), grown if it grew: a
    // long-running reader (the supervisor, at each death) must not churn `max` bytes a call.
    let mut cap = (st.size as usize).saturating_add(1).min(max);
    let mut buf = vec![0u8; cap];
    let mut got = 0;
    loop {
        let Some(rest) = buf.get_mut(got..).filter(|r| !r.is_empty()) else {
            if cap == max {
                break;
            }
            cap = cap.saturating_mul(2).min(max);
            buf.resize(cap, 0);
            continue;
        };
        match crate::fd::read(f.as_raw_fd(), rest)? {
            0 => break,
            n => got += n,
        }
    }
    buf.truncate(got);
    Ok(Small::Data(buf))
}

/// Reads the start of a small file of fixed size (a `supervise/status`) into `buf` with one
/// open, one read and one close: `None` when the file does not exist. The open does not block
/// (a FIFO planted in its place reads as empty: no writer, no data), and no `fstat` is made:
/// for a caller that looks often (a start held for a dependency), each saved call counts. A
/// short count means the file was shorter (a regular file's read returns all it can).
pub fn read_into(path: &CStr, buf: &mut [u8]) -> Result<Option<usize>> {
    let f = match crate::fd::open_c(path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC, 0) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    use std::os::fd::AsRawFd;
    match crate::fd::read(f.as_raw_fd(), buf) {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Ok(Some(0)),
        Err(e) => Err(e),
    }
}

/// `readlink(path)`: the link's target bytes (any length).
pub fn readlink(path: &CStr) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: valid C string; the buffer is writable for its length.
        let n = cvt(unsafe { libc::readlink(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })? as usize;
        if n < buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        // Possibly truncated: try again with more room.
        buf.resize(buf.len() * 2, 0);
    }
}

/// An open directory, read entry by entry with `getdents64(2)` into a buffer inside this
/// value: no allocation (libc's `opendir` allocates its buffer, which in a static musl binary
/// means an mmap and a munmap, and their page faults, for every listing).
///
/// `N` is the buffer's size: the default suits long listings; a process that lists a small
/// directory often from deep in its stack (a supervisor's `event/`) takes a smaller one.
pub struct Dir<const N: usize = 2048> {
    fd: std::os::fd::OwnedFd,
    buf: DirBuf<N>,
    /// Used instead of `buf` once the kernel has said that `buf` cannot hold one entry (EINVAL:
    /// names longer than 255 bytes exist on some file systems, e.g. FUSE).
    big: Vec<u64>,
    /// Bytes of the buffer in use filled by the last getdents64, and the offset of the next
    /// entry.
    len: usize,
    pos: usize,
}

/// The entry types [`Dir::next_entry`] gives (`d_type`).
pub const DT_UNKNOWN: u8 = libc::DT_UNKNOWN;
pub const DT_FIFO: u8 = libc::DT_FIFO;
pub const DT_DIR: u8 = libc::DT_DIR;
pub const DT_REG: u8 = libc::DT_REG;
pub const DT_LNK: u8 = libc::DT_LNK;
pub const DT_SOCK: u8 = libc::DT_SOCK;

/// 8-byte aligned, as `struct linux_dirent64` needs.
#[repr(C, align(8))]
struct DirBuf<const N: usize>([u8; N]);

/// Room for one entry with a 255-byte name: 19 bytes of header, the name, its NUL, rounded up.
const MIN_DIR_BUF: usize = 280;

impl<const N: usize> Dir<N> {
    /// Opens `path` (`O_RDONLY|O_DIRECTORY|O_CLOEXEC`).
    pub fn open(path: &CStr) -> Result<Dir<N>> {
        const { assert!(N >= MIN_DIR_BUF) };
        let fd = crate::fd::open_c(path, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)?;
        Ok(Dir { fd, buf: DirBuf([0; N]), big: Vec::new(), len: 0, pos: 0 })
    }

    fn bytes(&self) -> &[u8] {
        if self.big.is_empty() {
            &self.buf.0
        } else {
            // SAFETY: a u64 slice viewed as bytes: same memory, u8 has no alignment needs.
            unsafe { std::slice::from_raw_parts(self.big.as_ptr().cast(), self.big.len() * 8) }
        }
    }

    fn fill(&mut self) -> Result<usize> {
        use std::os::fd::AsRawFd;
        loop {
            let (ptr, cap) = if self.big.is_empty() {
                (self.buf.0.as_mut_ptr(), N)
            } else {
                (self.big.as_mut_ptr().cast::<u8>(), self.big.len() * 8)
            };
            // SAFETY: the buffer is valid for `cap` bytes; the kernel writes whole records.
            let n = unsafe { libc::syscall(libc::SYS_getdents64, self.fd.as_raw_fd(), ptr, cap) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINVAL) && self.big.len() < 8192 {
                // The next entry does not fit: retry with a larger buffer (64 KiB at most).
                self.big = vec![0u64; (self.big.len() * 2).max(1024)];
                continue;
            }
            return Err(e);
        }
    }

    /// The next entry's name (`.` and `..` included, as the kernel gives them); `None` at the
    /// end. The name borrows the buffer, so it lives until the next call.
    pub fn next_name(&mut self) -> Option<Result<&CStr>> {
        self.next_entry().map(|r| r.map(|(name, _)| name))
    }

    /// The next entry's name and type (`d_type`: one of the `DT_*` constants, [`DT_UNKNOWN`]
    /// when the file system does not say: then ask `lstat`); `None` at the end.
    pub fn next_entry(&mut self) -> Option<Result<(&CStr, u8)>> {
        if self.pos >= self.len {
            match self.fill() {
                Err(e) => return Some(Err(e)),
                Ok(0) => return None,
                Ok(n) => (self.len, self.pos) = (n, 0),
            }
        }
        // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
        let (pos, len) = (self.pos, self.len);
        let rec = &self.bytes()[pos..len];
        let reclen = if rec.len() >= 20 { u16::from_ne_bytes([rec[16], rec[17]]) as usize } else { 0 };
        if reclen < 20 || reclen > rec.len() {
            // Not a record the kernel writes: stop here rather than loop or read past the end.
            self.pos = self.len;
            return Some(Err(Error::from_raw_os_error(libc::EIO)));
        }
        self.pos += reclen;
        let rec = &self.bytes()[pos..pos + reclen];
        let kind = rec.get(18).copied().unwrap_or(DT_UNKNOWN);
        Some(CStr::from_bytes_until_nul(&rec[19..]).map(|n| (n, kind)).map_err(|_| Error::from_raw_os_error(libc::EIO)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, empty directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("merit-sys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        d
    }

    #[test]
    fn stat_readlink_and_listing() {
        let d = scratch("fs");
        std::fs::write(d.join("f"), b"x").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        let long = "t".repeat(600);
        std::os::unix::fs::symlink(&long, d.join("l")).unwrap();
        let c = |p: &std::path::Path| crate::cstr(p).unwrap();

        assert!(stat(&c(&d.join("f"))).unwrap().is_file());
        assert!(stat(&c(&d.join("sub"))).unwrap().is_dir());
        assert_eq!(stat(&c(&d.join("nope"))).unwrap_err().raw_os_error(), Some(libc::ENOENT));
        assert_eq!(readlink(&c(&d.join("l"))).unwrap(), long.as_bytes());
        assert_eq!(readlink(&c(&d.join("f"))).unwrap_err().raw_os_error(), Some(libc::EINVAL));

        let mut dir: Dir = Dir::open(&c(&d)).unwrap();
        let mut names = Vec::new();
        while let Some(n) = dir.next_name() {
            names.push(n.unwrap().to_bytes().to_vec());
        }
        names.sort();
        assert_eq!(names, [&b"."[..], b"..", b"f", b"l", b"sub"]);
        assert!(Dir::<2048>::open(&c(&d.join("f"))).is_err());

        // More entries than one getdents64 buffer holds.
        for i in 0..300 {
            std::fs::write(d.join(format!("entry-with-a-longish-name-{i:04}")), b"").unwrap();
        }
        let mut dir = Dir::<512>::open(&c(&d)).unwrap();
        let mut n = 0;
        while let Some(name) = dir.next_name() {
            n += name.unwrap().to_bytes().starts_with(b"entry-with-a-longish-name-") as usize;
        }
        assert_eq!(n, 300);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn entry_types_and_fixed_size_reads() {
        let d = scratch("types");
        std::fs::write(d.join("f"), b"0123456789").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink("f", d.join("l")).unwrap();
        crate::mkfifo(&d.join("p"), 0o600).unwrap();
        let c = |p: &std::path::Path| crate::cstr(p).unwrap();
        let mut dir: Dir = Dir::open(&c(&d)).unwrap();
        let mut seen = Vec::new();
        while let Some(e) = dir.next_entry() {
            let (name, t) = e.unwrap();
            let name = name.to_string_lossy().into_owned();
            // Where the file system does not say, lstat does (as callers do).
            let t = if t == DT_UNKNOWN { lstat(&d.join(&name)).unwrap().d_type() } else { t };
            seen.push((name, t));
        }
        seen.sort();
        let want: Vec<(String, u8)> =
            [(".", DT_DIR), ("..", DT_DIR), ("f", DT_REG), ("l", DT_LNK), ("p", DT_FIFO), ("sub", DT_DIR)]
                .iter()
                .map(|(n, t)| (n.to_string(), *t))
                .collect();
        assert_eq!(seen, want);
        assert_eq!(lstat(&d.join("l")).unwrap().d_type(), DT_LNK);
        assert_eq!(stat(&d.join("l")).unwrap().d_type(), DT_REG);

        let mut buf = [0u8; 4];
        assert_eq!(read_into(&c(&d.join("f")), &mut buf).unwrap(), Some(4));
        assert_eq!(&buf, b"0123");
        assert_eq!(read_into(&c(&d.join("nope")), &mut buf).unwrap(), None);
        // A FIFO in place of the file: no writer, no data, no blocking.
        assert_eq!(read_into(&c(&d.join("p")), &mut buf).unwrap(), Some(0));
        assert!(read_into(&c(&d.join("sub")), &mut buf).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn space_and_device_nodes() {
        let d = scratch("space");
        let s = space(&d).unwrap();
        assert!(s.block_size > 0 && s.blocks > 0, "{s:?}");
        assert!(s.available <= s.free && s.free <= s.blocks, "{s:?}");
        assert_eq!(space(&d.join("nope")).unwrap_err().raw_os_error(), Some(libc::ENOENT));
        // /dev/null's numbers (1, 3); refused without CAP_MKNOD (or on a nodev mount).
        match mknod_char(&d.join("null"), 0o666, 1, 3) {
            Ok(()) => {
                use std::os::unix::fs::{FileTypeExt, MetadataExt};
                let m = std::fs::metadata(d.join("null")).unwrap();
                assert!(m.file_type().is_char_device());
                assert_eq!(m.rdev(), std::fs::metadata("/dev/null").unwrap().rdev());
            }
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}"),
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A FIFO (with no writer: a blocking open would wait forever) or a directory is refused
    /// at once; a regular file is read up to the limit.
    #[test]
    fn small_files() {
        let d = scratch("small");
        let c = |p: &std::path::Path| crate::cstr(p).unwrap();
        std::fs::write(d.join("f"), b"abcdef").unwrap();
        assert_eq!(read_small(&c(&d.join("f")), 3).unwrap(), Small::Data(b"abc".to_vec()));
        assert_eq!(read_small(&c(&d.join("f")), 100).unwrap(), Small::Data(b"abcdef".to_vec()));
        assert_eq!(read_small(&c(&d.join("nope")), 3).unwrap(), Small::Absent);
        crate::mkfifo(&d.join("fifo"), 0o600).unwrap();
        assert_eq!(read_small(&c(&d.join("fifo")), 3).unwrap(), Small::NotRegular);
        assert_eq!(read_small(&c(&d), 3).unwrap(), Small::NotRegular);
        std::fs::remove_dir_all(&d).unwrap();
    }
}

/// `*at(2)` calls relative to an open directory: a tree is built under a directory descriptor,
/// so that nobody renaming or replacing a directory on the path while it is being built can
/// redirect what is created (the scan directory may belong to another user than the caller).
pub mod at {
    use crate::{cvt, cvt_retry, Result};
    use std::ffi::CStr;
    use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

    /// `openat(dir, name, flags | O_CLOEXEC, mode)`.
    pub fn open(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> Result<OwnedFd> {
        // SAFETY: valid descriptor and C string; the returned fd, if any, is new and ours.
        let fd = cvt_retry(|| unsafe {
            libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::c_uint)
        })?;
        // SAFETY: openat succeeded.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
    }

    /// `mkdirat(dir, name, mode)`.
    pub fn mkdir(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<()> {
        // SAFETY: valid descriptor and C string.
        cvt(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode as libc::mode_t) }).map(drop)
    }

    /// `mkfifoat(dir, name, mode)` (as `mknodat(S_IFIFO)`).
    pub fn mkfifo(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<()> {
        // SAFETY: valid descriptor and C string.
        cvt(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), libc::S_IFIFO | mode as libc::mode_t, 0) }).map(drop)
    }

    /// `symlinkat(target, dir, name)`.
    pub fn symlink(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> Result<()> {
        // SAFETY: valid C strings and descriptor.
        cvt(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) }).map(drop)
    }

    /// `fchmodat(dir, name, mode, 0)`: follows a symlink, so only for a name the caller has just
    /// created in a directory nobody else can write.
    pub fn chmod(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<()> {
        // SAFETY: valid descriptor and C string.
        cvt(unsafe { libc::fchmodat(dir.as_raw_fd(), name.as_ptr(), mode as libc::mode_t, 0) }).map(drop)
    }
}
