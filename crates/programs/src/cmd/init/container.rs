//! Container mode: how it is recognised after stage 1, and a container's main service (a
//! service with a `merit-main` file), whose end stops the container with its exit code.

use super::{env_flag, say, telinit::target_pid, Layout};
use merit_sys::signal;
use std::path::Path;

pub(super) fn container_mode(l: &Layout) -> bool {
    env_flag("MERIT_CONTAINER") || l.state().join("container").exists()
}

/// The file that marks a container's main service.
const MAIN_MARK: &str = "merit-main";

/// Wraps the `finish` of a main service (a copy that has a `merit-main` file): the wrapper
/// records the exit code, starts the container's shutdown and exits 125 so that the service is
/// not restarted.
pub(super) fn mark_main_service(dir: &Path) -> std::io::Result<()> {
    if !dir.join(MAIN_MARK).exists() {
        return Ok(());
    }
    if dir.join("finish").exists() {
        std::fs::rename(dir.join("finish"), dir.join("finish.merit-main"))?;
    }
    // Created executable in one call (no chmod afterwards: nobody may swap it in between).
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o755).open(dir.join("finish"))?;
    f.write_all(b"#!/bin/sh\nexec \"${MERIT_INIT:-init}\" main-finish \"$@\"\n")
}

/// `init main-finish CODE SIG DIR`: the wrapper's body (the service's own finish first).
pub(super) fn main_finish(args: &[String]) -> i32 {
    let code: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(0);
    let sig: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    if Path::new("finish.merit-main").exists() {
        let _ = std::process::Command::new("./finish.merit-main").args(args).status();
    }
    let exit = if code == 256 { sig.saturating_add(128) } else { code };
    let l = Layout::from_env(None);
    // Stopped by a shutdown already under way (SIGTERM to the container, telinit): that
    // shutdown decides the exit status (0), not the signal the main service died of.
    if l.state().join("shutting-down").exists() {
        return 125;
    }
    let _ = std::fs::create_dir_all(l.state());
    let _ = std::fs::write(l.state().join("exit-code"), format!("{exit}\n"));
    match target_pid(&l) {
        0 => say("no init to stop"),
        pid => {
            let _ = signal::kill(pid, signal::SIGTERM);
        }
    }
    125
}
