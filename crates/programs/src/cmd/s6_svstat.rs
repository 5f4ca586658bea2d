//! `s6-svstat [ -uwNrpest | -o FIELDS ] [ -n ] servicedir`: one line about a supervised
//! service, from `DIR/supervise/status`, `DIR/down` and the wall clock (spec: svstat.md).
//! All decisions and texts are in `merit_core::svstat`; this file only does the I/O, in the
//! real tool's order: options, lock test, status read, clock, `down`, one write.
//!
//! It starts as `execve` left it (no Rust runtime start-up, see `merit_sys::startup`), so that,
//! like the real tool, a vanished reader kills us with SIGPIPE (unless the parent ignored it:
//! then exit 111 `Broken pipe`) and a closed stdout gives exit 111 `Bad file descriptor`.

use merit_core::status::{StatusFile, STATUS_SIZE};
use merit_core::svstat::{self, Fatal};
use merit_core::tai::Tain;
use std::ffi::OsStr;
use std::io::{ErrorKind, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

fn path(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

/// Reads the first 35 bytes of the status file (`open` + `read` until full or end of file);
/// fewer is EPIPE, as for the real tool.
fn read_status(p: &Path) -> std::io::Result<StatusFile> {
    let mut f = std::fs::File::open(p)?;
    let mut buf = [0u8; STATUS_SIZE];
    let mut n = 0;
    while n < STATUS_SIZE {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    StatusFile::decode(&buf[..n]).ok_or_else(|| std::io::Error::from_raw_os_error(merit_sys::errno::EPIPE))
}

fn run(args: &[Vec<u8>]) -> Result<(), Fatal> {
    let opts = svstat::parse_args(args)?;
    let dir = &opts.dir;
    let err = |e: &std::io::Error| merit_sys::strerror(e);

    match merit_sys::lock::supervisor_running(path(svstat::lock_dir(dir))) {
        Ok(true) => {}
        Ok(false) => return Err(Fatal::NotRunning(dir.clone())),
        Err(e) => return Err(Fatal::Check(dir.clone(), err(&e))),
    }

    let status = read_status(path(&svstat::status_path(dir))).map_err(|e| Fatal::ReadStatus(dir.clone(), err(&e)))?;

    let (secs, nanos) = merit_sys::clock::wall();
    let now = Tain::from_unix(secs, nanos);

    // access(DIR/down, F_OK): a stat reports the same errno for the path.
    let down = svstat::down_path(dir);
    let normallyup = match std::fs::metadata(path(&down)) {
        Ok(_) => false,
        Err(e) if e.kind() == ErrorKind::NotFound => true,
        Err(e) => return Err(Fatal::Access(down, err(&e))),
    };

    let line = svstat::render(&status, now, normallyup, opts.numeric, &opts.fields);
    merit_sys::fd::write_all(1, &line).map_err(|e| Fatal::WriteStdout(err(&e)))
}

pub fn main() {
    let args: Vec<Vec<u8>> = merit_sys::startup::args_os().skip(1).map(|a| a.into_vec()).collect();
    if let Err(f) = run(&args) {
        let _ = merit_sys::fd::write_all(2, &f.message());
        std::process::exit(f.exit_code());
    }
}
