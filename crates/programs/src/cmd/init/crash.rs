//! PID 1 without a scanner: it stays up, reaps, keeps a shell on a terminal console, and still
//! shuts down on request.

use super::container::container_mode;
use super::shutdown::last_stage;
use super::{kept_console, say, spawn_error, Layout};
use merit_sys::{signal, system};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// What PID 1 does when there is no scanner to run (it cannot be exec'd and there is no
/// crash script, or the scanner crashed and its crash script, the skeleton's, execs
/// `init crash`): stay up, reap every child, keep an interactive shell on the console when
/// the console is a terminal (started again when it exits, at most every two seconds), and
/// still shut down on request: telinit's signals, SIGTERM (poweroff; "stop" in a container).
/// Outside PID 1 (a system in a folder), exits 111.
pub(super) fn crash_fallback(l: &Layout, why: &str) -> ! {
    say(&format!("{why}: no scanner; init stays up, reaps, and shuts down on request (telinit, SIGTERM)"));
    if merit_sys::getpid() != 1 {
        std::process::exit(111);
    }
    let container = container_mode(l) || system::in_container(&l.root);
    let _ = system::raise_nofile_limit();
    let _ = signal::set_default(signal::SIGPIPE);
    let console = kept_console().unwrap_or(2);
    let _ = merit_sys::fd::set_cloexec(console, true);
    let tty = system::isatty(console);
    if !tty {
        say("the console is not a terminal: no shell");
    }
    let sfd = signal::signalfd(&signal::SCANNER_PID1);
    if let Err(e) = &sfd {
        say(&format!("unable to create a signalfd ({e}): shutdown requests cannot be seen"));
        signal::unblock_all();
    }
    let mut shell: Option<i32> = None;
    let mut next_shell = Instant::now();
    loop {
        while let Ok(Some(r)) = merit_sys::process::reap_one() {
            if shell == Some(r.pid) {
                shell = None;
            }
        }
        if tty && shell.is_none() && Instant::now() >= next_shell {
            next_shell = Instant::now() + Duration::from_secs(2);
            shell = spawn_shell(console);
        }
        match &sfd {
            Ok(fd) => {
                let mut p = [merit_sys::fd::PollFd::new(fd.as_raw_fd())];
                let _ = merit_sys::fd::poll(&mut p, Some(1000));
                while let Ok(Some(sig)) = signal::read_signal(fd.as_raw_fd()) {
                    let Some(action) = requested(sig, container) else { continue };
                    say(&format!("shutdown requested ({action})"));
                    last_stage(l, container, action.to_string());
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// An interactive shell on the console (a terminal), in its own session.
fn spawn_shell(console: i32) -> Option<i32> {
    say("starting a shell on the console");
    match merit_sys::process::spawn(&merit_sys::process::Spawn {
        path: c"/bin/sh",
        argv: &[c"sh".into(), c"-i".into()],
        fd_moves: &[(console, 0), (console, 1), (console, 2)],
        lock_wait: None,
        setsid: true,
        cgroup_procs: None,
    }) {
        Ok(pid) => Some(pid),
        Err(e) => {
            say(&format!("unable to run /bin/sh: {}", spawn_error(&e)));
            None
        }
    }
}

/// The shutdown a signal asks for, if any.
fn requested(sig: signal::Signal, container: bool) -> Option<&'static str> {
    match sig {
        signal::SIGUSR1 => Some("poweroff"),
        signal::SIGUSR2 => Some("halt"),
        signal::SIGINT => Some("reboot"),
        signal::SIGTERM | signal::SIGQUIT if container => Some("stop"),
        signal::SIGTERM | signal::SIGQUIT => Some("poweroff"),
        _ => None,
    }
}
