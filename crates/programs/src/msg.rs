//! Diagnostics in the skarnet format and exit helpers.
//!
//! Every message is one line on stderr, written with a single `write(2)`:
//! `PROG: fatal: TEXT`, `PROG: warning: TEXT` or `PROG: usage: USAGE`. Texts are bytes, since
//! they embed paths given on the command line.
//!
//! Fatal errors are carried as [`Fatal`] values rather than exiting on the spot, so that a
//! program can let its destructors run (a listener must unlink its FIFO) before [`Fatal::die`].

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Writes `PROG: KIND: PARTS...\n` on stderr in one write; errors are ignored.
pub fn put(prog: &str, kind: &str, parts: &[&[u8]]) {
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(prog.as_bytes());
    buf.extend_from_slice(b": ");
    buf.extend_from_slice(kind.as_bytes());
    buf.extend_from_slice(b": ");
    for p in parts {
        buf.extend_from_slice(p);
    }
    buf.push(b'\n');
    let _ = merit_sys::fd::write_all(2, &buf);
}

/// `PROG: warning: PARTS...`
pub fn warn(prog: &str, parts: &[&[u8]]) {
    put(prog, "warning", parts);
}

/// `PROG: fatal: PARTS...`, then exit with `code`.
pub fn die(prog: &str, code: i32, parts: &[&[u8]]) -> ! {
    put(prog, "fatal", parts);
    exit(code)
}

/// `PROG: usage: USAGE`, then exit 100.
pub fn die_usage(prog: &str, usage: &str) -> ! {
    put(prog, "usage", &[usage.as_bytes()]);
    exit(100)
}

/// Exits without running destructors of the caller's frames (like `_exit` after stdio is done).
pub fn exit(code: i32) -> ! {
    std::process::exit(code)
}

/// `strerror` of an I/O error, as bytes.
pub fn strerror(e: &std::io::Error) -> Vec<u8> {
    merit_sys::strerror(e).into_bytes()
}

/// The bytes of a path.
pub fn path_bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

/// A path from command-line bytes.
pub fn bytes_path(b: &[u8]) -> &Path {
    Path::new(std::ffi::OsStr::from_bytes(b))
}

/// A fatal error waiting to be reported: exit code and message text (without `PROG: fatal: `).
#[derive(Debug)]
pub struct Fatal {
    pub code: i32,
    pub text: Vec<u8>,
}

impl Fatal {
    /// A message from parts.
    pub fn new(code: i32, parts: &[&[u8]]) -> Fatal {
        Fatal { code, text: parts.concat() }
    }

    /// A message from parts followed by `: <strerror>`.
    pub fn sys(code: i32, parts: &[&[u8]], e: &std::io::Error) -> Fatal {
        let mut text = parts.concat();
        text.extend_from_slice(b": ");
        text.extend_from_slice(&strerror(e));
        Fatal { code, text }
    }

    /// Prints `PROG: fatal: TEXT` and exits with the code.
    pub fn die(self, prog: &str) -> ! {
        die(prog, self.code, &[&self.text])
    }
}

/// The arguments after `argv[0]`, as bytes.
pub fn args() -> Vec<Vec<u8>> {
    use std::os::unix::ffi::OsStringExt;
    merit_sys::startup::args_os().skip(1).map(|a| a.into_vec()).collect()
}

/// Parses a decimal `unsigned int` as skalibs' `uint0_scan` does: digits only, whole string,
/// not empty, fits in 32 bits.
pub fn parse_uint(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u32)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint0_scan() {
        assert_eq!(parse_uint(b"0"), Some(0));
        assert_eq!(parse_uint(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_uint(b"4294967296"), None);
        assert_eq!(parse_uint(b""), None);
        assert_eq!(parse_uint(b"+1"), None);
        assert_eq!(parse_uint(b"1 "), None);
    }

    #[test]
    fn fatal_text() {
        let e = std::io::Error::from_raw_os_error(merit_sys::flags::ENOENT);
        let f = Fatal::sys(111, &[b"unable to control ", b"x"], &e);
        assert_eq!(f.text, b"unable to control x: No such file or directory");
    }
}
