//! Diagnostics and the service directory's configuration files, read at the moment the state
//! machine (or the spawn of `run`) asks for them, as s6 re-reads them.

use crate::msg;
use merit_core::config::{self, parse_down_signal, parse_fd_file, parse_uint_file};
use merit_core::supervisor::{ServiceConfig, SIGTERM};
use merit_sys::strerror;
use std::ffi::CString;

use super::PROG;

/// Prefix of every diagnostic: `s6-supervise DIR: `, through the one diagnostics path
/// ([`msg::put_line`]), which never blocks and never panics.
pub(super) struct Diag {
    /// `s6-supervise DIR`
    pub(super) head: Vec<u8>,
}

impl Diag {
    pub(super) fn new(dir: &[u8]) -> Diag {
        Diag { head: [PROG.as_bytes(), b" ", dir].concat() }
    }
    pub(super) fn warn(&self, msg: &str) {
        msg::put_line(&[&self.head], "warning", &[msg.as_bytes()]);
    }
    pub(super) fn warn_err(&self, msg: &str, e: &std::io::Error) {
        msg::put_line(&[&self.head], "warning", &[msg.as_bytes(), b": ", strerror(e).as_bytes()]);
    }
    /// What the child that failed to exec `run` says, under the name `s6-supervise DIR (child)`.
    pub(super) fn child_exec_failed(&self, e: &std::io::Error) {
        let head = [&self.head[..], b" (child)"].concat();
        msg::put_line(&[&head], "fatal", &[b"unable to exec run: ", strerror(e).as_bytes()]);
    }
    pub(super) fn fatal(&self, code: i32, msg: &str) -> ! {
        msg::put_line(&[&self.head], "fatal", &[msg.as_bytes()]);
        msg::exit(code)
    }
    pub(super) fn fatal_err(&self, code: i32, msg: &str, e: &std::io::Error) -> ! {
        self.fatal(code, &format!("{msg}: {}", strerror(e)))
    }
}

/// Reads a small configuration file of the service directory: `None` when absent, or when it
/// cannot be read or is not a regular file (warned: a FIFO or a device in its place must not
/// freeze the supervisor, and is ignored as s6 ignores an unreadable file).
pub(super) fn read_small(diag: &Diag, name: &str, max: usize) -> Option<Vec<u8>> {
    use merit_sys::fs::Small;
    let c = CString::new(name).ok()?;
    match merit_sys::fs::read_small(&c, max) {
        Ok(Small::Data(b)) => Some(b),
        Ok(Small::Absent) => None,
        Ok(Small::NotRegular) => {
            diag.warn(&format!("{name} is not a regular file, ignoring it"));
            None
        }
        Err(e) => {
            diag.warn_err(&format!("unable to open {name}"), &e);
            None
        }
    }
}

/// The service directory's configuration files, read when the state machine asks.
pub(super) struct DirConfig<'a> {
    pub(super) diag: &'a Diag,
}

impl DirConfig<'_> {
    /// Reads and parses configuration file `name`: `None` when absent or invalid (warned).
    fn read<T>(&self, name: &str, parse: fn(&[u8]) -> Result<T, config::ConfigError>) -> Option<T> {
        let b = read_small(self.diag, name, config::UINT_FILE_MAX)?;
        match parse(&b) {
            Ok(v) => Some(v),
            Err(_) => {
                self.diag.warn(&format!("invalid {name}"));
                None
            }
        }
    }
    pub(super) fn uint(&self, name: &str) -> Option<u32> {
        self.read(name, parse_uint_file)
    }
    pub(super) fn fd_number(&self, name: &str) -> Option<i32> {
        self.read(name, parse_fd_file)
    }
}

impl ServiceConfig for DirConfig<'_> {
    fn down_signal(&mut self) -> merit_core::signals::Signal {
        match read_small(self.diag, "down-signal", config::DOWN_SIGNAL_MAX) {
            Some(b) => parse_down_signal(&b).unwrap_or_else(|_| {
                self.diag.warn("invalid down-signal");
                SIGTERM
            }),
            None => SIGTERM,
        }
    }
    fn timeout_kill(&mut self) -> u32 {
        self.uint("timeout-kill").unwrap_or(0)
    }
    fn timeout_finish(&mut self) -> u32 {
        self.uint("timeout-finish").unwrap_or(5000)
    }
}
