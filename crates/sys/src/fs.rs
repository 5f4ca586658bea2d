//! File metadata, links and directory listings, without allocation on the way.
//!
//! `std::fs` does the same jobs, but the long-lived processes of a tree (the scanner above all)
//! call these in their loops: taking C strings directly avoids a copy per call, and keeping the
//! code small and inlined keeps what those processes map of the binary small (see bench/).

use crate::{cvt, Error, Result};
use std::ffi::CStr;

/// What `stat(2)` says about a path (following symlinks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
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
}

/// `stat(path)`.
#[inline]
pub fn stat(path: &CStr) -> Result<FileStat> {
    // SAFETY: an all-zero `struct stat` is valid; the kernel fills it in.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid C string and a valid out-pointer.
    cvt(unsafe { libc::stat(path.as_ptr(), &mut st) })?;
    Ok(FileStat { dev: st.st_dev as u64, ino: st.st_ino as u64, mode: st.st_mode as u32 })
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

/// An open directory, read entry by entry (`opendir`/`readdir`).
pub struct Dir {
    dir: *mut libc::DIR,
}

impl Dir {
    /// `opendir(path)`.
    pub fn open(path: &CStr) -> Result<Dir> {
        // SAFETY: valid C string.
        let dir = unsafe { libc::opendir(path.as_ptr()) };
        if dir.is_null() {
            return Err(Error::last_os_error());
        }
        Ok(Dir { dir })
    }

    /// The next entry's name (`.` and `..` included, as readdir gives them); `None` at the end.
    /// The name borrows the directory's buffer, so it lives until the next call.
    pub fn next_name(&mut self) -> Option<Result<&CStr>> {
        // SAFETY: errno is thread-local; readdir sets it only on error.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: `dir` is an open DIR* that only this value uses.
        let ent = unsafe { libc::readdir(self.dir) };
        if ent.is_null() {
            let e = Error::last_os_error();
            return if e.raw_os_error() == Some(0) { None } else { Some(Err(e)) };
        }
        // SAFETY: readdir returned a valid dirent whose d_name is NUL-terminated, valid until
        // the next readdir/closedir on this DIR*, which needs `&mut self` (so after the borrow).
        Some(Ok(unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) }))
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: opened by `open`, closed once here.
        unsafe { libc::closedir(self.dir) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_readlink_and_listing() {
        let d = std::env::temp_dir().join(format!("merit-sys-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
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

        let mut dir = Dir::open(&c(&d)).unwrap();
        let mut names = Vec::new();
        while let Some(n) = dir.next_name() {
            names.push(n.unwrap().to_bytes().to_vec());
        }
        names.sort();
        assert_eq!(names, [&b"."[..], b"..", b"f", b"l", b"sub"]);
        assert!(Dir::open(&c(&d.join("f"))).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
