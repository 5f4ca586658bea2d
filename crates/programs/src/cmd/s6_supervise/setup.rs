//! What s6-supervise does before its loop: the service directory's `event/` and `supervise/`,
//! the lock that makes it the only supervisor of the directory, and the control FIFO
//! (servicedir.md §3).

use super::config::Diag;
use super::{open_flags, PROG};
use crate::msg;
use merit_sys::{fd, lock, signal, strerror};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// Reads the command line and enters the service directory: the diagnostics prefix, and the
/// argument as given (passed verbatim to `run` and `finish`).
pub(super) fn enter_service_dir() -> (Diag, CString) {
    // First: a diagnostic to a reader that goes away must not kill us. A handler, not SIG_IGN,
    // so that run and finish start with the default disposition (exec resets handlers).
    let sigpipe = signal::set_noop_handler(signal::SIGPIPE);
    let args: Vec<std::ffi::OsString> = merit_sys::startup::args_os().collect();
    let Some(dir) = args.get(1) else { msg::die_usage(PROG, "s6-supervise dir") };
    use std::os::unix::ffi::OsStrExt;
    let diag = Diag::new(dir.as_bytes());
    let dir_arg = match CString::new(dir.as_bytes()) {
        Ok(c) => c,
        Err(_) => diag.fatal(100, "invalid service directory name"),
    };
    if let Err(e) = sigpipe {
        diag.fatal_err(111, "unable to ignore SIGPIPE", &e);
    }
    fd::ensure_stdio();
    if let Err(e) = fd::chdir(Path::new(dir)) {
        // s6 prints this one without the directory in the prefix.
        msg::die(PROG, 111, &[b"unable to chdir to ", dir.as_bytes(), b": ", strerror(&e).as_bytes()]);
    }
    (diag, dir_arg)
}

/// Makes `event/` and `supervise/`, takes `supervise/lock` (returned: held for the life of the
/// supervisor) and makes the FIFO `supervise/control`, all under umask 0.
pub(super) fn make_supervise(diag: &Diag) -> OwnedFd {
    let old_umask = merit_sys::umask(0);
    make_dir(diag, "event", 0o3730, true);
    make_dir(diag, "supervise", 0o700, false);
    let lock_fd = match fd::open(Path::new("supervise/lock"), open_flags::LOCK_OPEN, 0o644) {
        Ok(f) => f,
        Err(e) => diag.fatal_err(111, "unable to open supervise/lock", &e),
    };
    match lock::try_write_lock(lock_fd.as_raw_fd()) {
        Ok(true) => {}
        Ok(false) => diag.fatal(100, "another instance of s6-supervise is already running"),
        Err(e) => diag.fatal_err(111, "unable to lock supervise/lock", &e),
    }
    match merit_sys::mkfifo(Path::new("supervise/control"), 0o600) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            use std::os::unix::fs::FileTypeExt;
            match std::fs::metadata("supervise/control") {
                Ok(m) if m.file_type().is_fifo() => {}
                _ => diag.fatal(100, "supervise/control is not a FIFO"),
            }
        }
        Err(e) => diag.fatal_err(111, "unable to mkfifo supervise/control", &e),
    }
    merit_sys::umask(old_umask);
    lock_fd
}

/// Opens `supervise/control` for reading, and for writing too: with a writer of our own the
/// FIFO never reports end of file. Both are to be kept open.
pub(super) fn open_control(diag: &Diag) -> (OwnedFd, OwnedFd) {
    let control = match fd::open(Path::new("supervise/control"), open_flags::CONTROL_READ, 0) {
        Ok(f) => f,
        Err(e) => diag.fatal_err(111, "unable to read supervise/control", &e),
    };
    let control_w = match fd::open(Path::new("supervise/control"), open_flags::CONTROL_WRITE, 0) {
        Ok(f) => f,
        Err(e) => diag.fatal_err(111, "unable to write supervise/control", &e),
    };
    (control, control_w)
}

/// The signals the loop reads, from a signalfd.
pub(super) fn open_signals(diag: &Diag) -> OwnedFd {
    match signal::signalfd(&[signal::SIGCHLD, signal::SIGTERM, signal::SIGHUP, signal::SIGQUIT, signal::SIGINT]) {
        Ok(f) => f,
        Err(e) => diag.fatal_err(111, "unable to create signalfd", &e),
    }
}

/// Empties `supervise/death_tally` (a new supervisor, a new tally), and says whether the
/// service is wanted up: no `./down`.
pub(super) fn reset_tally_and_read_down(diag: &Diag) -> bool {
    if let Err(e) = fd::open(Path::new("supervise/death_tally"), open_flags::CREATE_TRUNC, 0o666) {
        diag.fatal_err(111, "unable to truncate supervise/death_tally", &e);
    }
    match fd::exists(Path::new("down")) {
        Ok(d) => !d,
        Err(e) => diag.fatal_err(111, "unable to access ./down", &e),
    }
}

/// Creates `event/` or `supervise/` as s6 does (servicedir.md §3 step 2), under umask 0.
///
/// The directory is made with its final permission bits by mkdir(2) itself, so that no other
/// user can ever plant a FIFO `control`, a symlink `status.new` or anything else in it. Only
/// the setgid bit of `event/` cannot be given by mkdir(2) (Linux drops it): that directory is
/// made 0700 first, then given its group and final mode, as s6's fifodir_make does, so it is
/// never wider than its final mode.
fn make_dir(diag: &Diag, name: &str, mode: u32, chown_group: bool) {
    use std::os::unix::fs::DirBuilderExt;
    let p = Path::new(name);
    let first = if mode & 0o2000 != 0 { mode & 0o700 } else { mode & 0o1777 };
    let mkdir = |p: &Path| std::fs::DirBuilder::new().mode(first).create(p);
    let created = match mkdir(p) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => false,
                Ok(_) => diag.fatal(100, &format!("{name} exists and is not a directory")),
                Err(_) => {
                    // A dangling symlink: create its target.
                    let target = match std::fs::read_link(p) {
                        Ok(t) => t,
                        Err(e) => diag.fatal_err(111, &format!("unable to readlink {name}"), &e),
                    };
                    if let Err(e) = mkdir(&target) {
                        diag.fatal_err(111, &format!("unable to mkdir {}", target.display()), &e);
                    }
                    true
                }
            }
        }
        Err(e) => diag.fatal_err(111, &format!("unable to mkdir {name}"), &e),
    };
    if created && first != mode {
        use std::os::unix::fs::PermissionsExt;
        if chown_group {
            if let Err(e) = merit_sys::chown(p, None, Some(merit_sys::getegid())) {
                diag.fatal_err(111, &format!("unable to chown {name}"), &e);
            }
        }
        if let Err(e) = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)) {
            diag.fatal_err(111, &format!("unable to chmod {name}"), &e);
        }
    }
}
