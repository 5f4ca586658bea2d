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

/// The longest diagnostic line: `PIPE_BUF`, so that a line reaches a pipe in one atomic write.
/// Longer ones are cut, keeping the newline.
pub const LINE_MAX: usize = 4096;

/// Writes `PROG: KIND: PARTS...\n` on stderr in one write; errors are ignored.
pub fn put(prog: &str, kind: &str, parts: &[&[u8]]) {
    put_line(&[prog.as_bytes()], kind, parts);
}

/// The one diagnostics path of every program: `HEAD...: KIND: PARTS...\n` on stderr, built
/// on the stack and written by [`merit_sys::fd::write_diag`], which never blocks and never
/// fails loudly. A full or reader-less stderr (the catch-all logger down, restarting or slow)
/// loses the line, never the process. Nothing here can panic.
pub fn put_line(head: &[&[u8]], kind: &str, parts: &[&[u8]]) {
    let sep: &[&[u8]] = &[b": ", kind.as_bytes(), b": "];
    write_line(head.iter().chain(sep).chain(parts).copied());
}

/// `PARTS...\n` on stderr, verbatim (no program name, no kind), in one write that waits for
/// room: for short-lived front ends (`service`) whose messages have their own shape and whose
/// user reads them, like any command's output. Long-running programs use [`put_line`].
pub fn say(parts: &[&[u8]]) {
    let mut buf = [0u8; LINE_MAX];
    let len = compose(&mut buf, parts.iter().copied());
    let _ = merit_sys::fd::write_all(2, buf.get(..len).unwrap_or(&buf));
}

/// How long [`console`] lets a busy terminal make room for a line.
pub const CONSOLE_PATIENCE_MS: u64 = 500;

/// `PARTS...\n` verbatim on `fd`, a console (init's: a terminal, a file, the catch-all
/// logger's FIFO...), through [`merit_sys::fd::write_diag`] like every diagnostic: never
/// blocking, never failing loudly. A terminal merely busy (a slow serial line) drains, so the
/// line is tried again, every 10 ms within [`CONSOLE_PATIENCE_MS`]; a terminal stopped by flow
/// control (Ctrl-S, a serial line's XOFF) must not stop PID 1 (its reaping, its shutdown): the
/// line is lost then. Anything but a terminal gets one try.
pub fn console(fd: i32, parts: &[&[u8]]) {
    let mut buf = [0u8; LINE_MAX];
    let len = compose(&mut buf, parts.iter().copied());
    let line = buf.get(..len).unwrap_or(&buf);
    if merit_sys::fd::write_diag(fd, line) || !merit_sys::system::isatty(fd) {
        return;
    }
    let patience = crate::svdir::Deadline::after_ms(CONSOLE_PATIENCE_MS);
    patience.wait_until(std::time::Duration::from_millis(10), || merit_sys::fd::write_diag(fd, line));
}

fn write_line<'a>(pieces: impl Iterator<Item = &'a [u8]>) {
    let mut buf = [0u8; LINE_MAX];
    let len = compose(&mut buf, pieces);
    merit_sys::fd::write_diag(2, buf.get(..len).unwrap_or(&buf));
}

/// Lays out the pieces and a newline in `buf`, cut to its size with the newline kept; returns
/// the length.
fn compose<'a>(buf: &mut [u8], pieces: impl Iterator<Item = &'a [u8]>) -> usize {
    let Some(room) = buf.len().checked_sub(1) else { return 0 };
    let mut len = 0;
    for piece in pieces {
        for (slot, &b) in buf.iter_mut().take(room).skip(len).zip(piece.iter()) {
            *slot = b;
            len += 1;
        }
    }
    if let Some(nl) = buf.get_mut(len) {
        *nl = b'\n';
        len += 1;
    }
    len
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
    fn compose_lines() {
        fn line(buf: &mut [u8], head: &[&[u8]], kind: &str, parts: &[&[u8]]) -> usize {
            let sep: &[&[u8]] = &[b": ", kind.as_bytes(), b": "];
            compose(buf, head.iter().chain(sep).chain(parts).copied())
        }
        let mut buf = [0u8; LINE_MAX];
        let n = line(&mut buf, &[b"s6-supervise ", b"svc"], "warning", &[b"invalid ", b"lock-fd"]);
        assert_eq!(&buf[..n], b"s6-supervise svc: warning: invalid lock-fd\n");
        let long = vec![b'a'; 10_000];
        let n = line(&mut buf, &[b"p"], "fatal", &[&long, b"tail"]);
        assert_eq!(n, LINE_MAX);
        assert_eq!(&buf[..12], b"p: fatal: aa");
        assert_eq!(buf[LINE_MAX - 2..], *b"a\n");
        let mut small = [0u8; 6];
        let n = line(&mut small, &[b"prog"], "x", &[]);
        assert_eq!(&small[..n], b"prog:\n");
        assert_eq!(line(&mut [], &[b"p"], "x", &[]), 0);
        let n = compose(&mut buf, [&b"service: "[..], b"no"].into_iter());
        assert_eq!(&buf[..n], b"service: no\n");
    }

    #[test]
    fn fatal_text() {
        let e = std::io::Error::from_raw_os_error(merit_sys::errno::ENOENT);
        let f = Fatal::sys(111, &[b"unable to control ", b"x"], &e);
        assert_eq!(f.text, b"unable to control x: No such file or directory");
    }
}
