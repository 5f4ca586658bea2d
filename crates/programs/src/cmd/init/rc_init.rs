//! `/etc/s6/rc.init`, started by stage 1 beside the scanner, and its built-in stand-in
//! `init copy-enabled` (also what Mere's rc.init and the skeleton's call).

use super::container::{container_mode, mark_main_service};
use super::{kept_console, say, spawn_error, Layout};
use crate::svdir::{self, Deadline};
use merit_sys::{signal, system};
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

/// How long rc.init waits for the catch-all logger to read its FIFO.
const RC_INIT_WAIT: Duration = Duration::from_secs(5);

/// `/etc/s6/rc.init` in the background, in its own session, with the default signal
/// dispositions, an empty signal mask and no descriptor of ours but 0-2. Whatever it does
/// (fail, hang) the boot goes on: the scanner is exec'd right after. When it is missing or
/// cannot be run, the built-in `init copy-enabled` takes its place so that the enabled
/// services still come up.
///
/// Its output goes to the catch-all logger's `fifo` (None: `--log-stdout`, ours), opened,
/// like Mere's s6-init does (`redirfd -w 1 fifo`), once the logger reads it: a write
/// before would fail with EPIPE and, SIGPIPE being at its default, kill it. A logger that
/// does not read within [`RC_INIT_WAIT`] leaves rc.init's output on the console.
pub(super) fn spawn(l: &Layout, fifo: Option<&Path>) {
    match system::fork_single_threaded() {
        Ok(0) => child(l, fifo),
        Ok(_) => {}
        Err(e) => {
            say(&format!("unable to fork for rc.init: {e}; starting it at once"));
            run(l, true);
        }
    }
}

/// The forked child of [`spawn`]: never returns.
fn child(l: &Layout, fifo: Option<&Path>) -> ! {
    let _ = signal::set_default(signal::SIGPIPE);
    signal::unblock_all();
    let _ = merit_sys::process::setsid();
    if let Some(fifo) = fifo {
        wait_for_logger(fifo);
    }
    run(l, false);
    std::process::exit(111)
}

/// Runs rc.init (else `init copy-enabled`): in a new child when `spawn`, else by exec'ing
/// into it (the caller is the child of [`spawn`]). Returns when neither could be started.
fn run(l: &Layout, spawn: bool) {
    let rc = l.p("/etc/s6/rc.init");
    let start = |path: &CString, argv: &[CString]| -> Result<(), String> {
        if spawn {
            merit_sys::process::spawn(&merit_sys::process::Spawn {
                path,
                argv,
                fd_moves: &[],
                lock_wait: None,
                setsid: true,
                cgroup_procs: None,
            })
            .map(drop)
            .map_err(|e| spawn_error(&e))
        } else {
            Err(merit_sys::strerror(&merit_sys::process::execv(path, argv)))
        }
    };
    if rc.exists() {
        let Ok(c) = CString::new(rc.as_os_str().as_encoded_bytes()) else { return };
        match start(&c, std::slice::from_ref(&c)) {
            Ok(()) => return,
            Err(e) => say(&format!("unable to start {}: {e}", rc.display())),
        }
    } else {
        say(&format!("{} not found", rc.display()));
    }
    say("copying the enabled services (init copy-enabled)");
    let me = crate::exe::sibling("init");
    let Some(Ok(me)) = me.map(|p| CString::new(p.into_os_string().into_encoded_bytes())) else {
        say("unable to find my own executable: enabled services are not started");
        return;
    };
    if let Err(e) = start(&me, &[c"init".into(), c"copy-enabled".into()]) {
        say(&format!("unable to run init copy-enabled: {e}"));
    }
}

/// Points 1 and 2 at `fifo` once a reader has it open (a non-blocking open for writing fails
/// with ENXIO until then), within [`RC_INIT_WAIT`]; else at the console (else /dev/null).
fn wait_for_logger(fifo: &Path) {
    use merit_sys::flags::*;
    let open = || merit_sys::fd::open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
    let mut opened = open();
    let no_reader = |r: &std::io::Result<_>| matches!(r, Err(e) if e.raw_os_error() == Some(merit_sys::errno::ENXIO));
    Deadline::after_ms(RC_INIT_WAIT.as_millis() as u64).wait_until(Duration::from_millis(10), || {
        if no_reader(&opened) {
            opened = open();
        }
        !no_reader(&opened)
    });
    let to = match &opened {
        Ok(w) => {
            let _ = merit_sys::fd::set_nonblock(w.as_raw_fd(), false);
            w.as_raw_fd()
        }
        Err(e) => {
            say(&format!(
                "the catch-all logger does not read {} ({}): rc.init's output goes to the console",
                fifo.display(),
                merit_sys::strerror(e)
            ));
            let null = merit_sys::fd::open(Path::new("/dev/null"), O_WRONLY | O_CLOEXEC, 0).ok();
            match kept_console().or(null.as_ref().map(|n| n.as_raw_fd())) {
                Some(c) => c,
                None => return,
            }
        }
    };
    let _ = merit_sys::fd::dup2(to, 1);
    let _ = merit_sys::fd::dup2(to, 2);
}

/// `init copy-enabled`: every service of `enabled/`, and what they need (pulled in, each said
/// on the catch-all log), copied into the scan directory in dependency order (see
/// [`crate::tree::Tree::copy_enabled`]), then a rescan request. In a container, a main
/// service's `finish` is wrapped before the copy is renamed into place, so that even a main
/// service that dies at once is seen as such.
pub(super) fn copy_enabled() -> i32 {
    let l = Layout::from_env(None);
    let t = l.tree();
    let container = container_mode(&l);
    let failed = t.copy_enabled(&|copy| if container { mark_main_service(copy) } else { Ok(()) }, &|m| say(m));
    for (name, e) in &failed {
        say(&format!("unable to copy {name} into {}: {e}", t.scan.display()));
    }
    match svdir::write_control(&t.scan, svdir::SVSCAN, b"a") {
        Ok(()) => {}
        // The scanner is not listening yet: its first scan will see every copy.
        Err(svdir::ControlError::NotListening) => {}
        // At boot rc.init runs beside the scanner's start: `.s6-svscan` (copied from
        // init-services) exists but the scanner has not made its control FIFO yet. Same case.
        Err(svdir::ControlError::BadSubdir(e)) if e.raw_os_error() == Some(merit_sys::errno::ENOENT) => {}
        Err(e) => {
            say(&format!("unable to ask the scanner to rescan {}: {e:?}", t.scan.display()));
            return 111;
        }
    }
    if failed.is_empty() {
        0
    } else {
        1
    }
}
