//! `telinit 0|6|7` (also `halt`, `reboot`, `poweroff`, `init telinit N`): request a shutdown.
//! The action is written into `/s6/run/.shutdown` for rc.shutdown and PID 1 (or, under a root
//! prefix, the init recorded there) gets the signal that names it.

use super::Layout;
use merit_sys::signal;
use std::path::Path;

pub(super) fn telinit(arg: Option<&str>) -> i32 {
    let (action, sig) = match arg {
        Some("0") => ("halt", signal::SIGUSR2),
        Some("6") => ("reboot", signal::SIGINT),
        Some("7") => ("poweroff", signal::SIGUSR1),
        other => {
            // On stdout, as Mere's telinit says it; a write error must not panic.
            let line = format!("Unsupported signal: {}\n", other.unwrap_or(""));
            let _ = merit_sys::fd::write_all(1, line.as_bytes());
            return 1;
        }
    };
    let l = Layout::from_env(None);
    // Kept for rc.shutdown (best effort: /s6 may not be mounted yet; the signal carries the
    // action anyway).
    let _ = std::fs::write(l.scan().join(".shutdown"), format!("{action}\n"));
    let pid = target_pid(&l);
    if pid == 0 {
        crate::msg::say(&[format!("telinit: no init running under {}", l.root.display()).as_bytes()]);
        return 111;
    }
    if let Err(e) = signal::kill(pid, sig) {
        crate::msg::say(&[
            format!("telinit: unable to signal init (pid {pid}): {}", merit_sys::strerror(&e)).as_bytes()
        ]);
        return 111;
    }
    0
}

/// PID 1, or under a root prefix the pid that stage 1 recorded, once checked to still be a
/// merit init or s6-svscan working in that root's scan directory. Under a root prefix there
/// is no fallback to PID 1: a recorded pid may be PID 1 *of a namespace*, and the same number
/// seen from outside it is the host's init, which must never receive a shutdown signal meant
/// for a system in a folder.
pub(super) fn target_pid(l: &Layout) -> i32 {
    if l.root.as_os_str().is_empty() {
        return 1;
    }
    let recorded = std::fs::read_to_string(l.state().join("pid")).ok().and_then(|s| s.trim().parse::<i32>().ok());
    match recorded {
        Some(p) if p > 0 && is_our_init(p, &l.scan()) => p,
        _ => 0,
    }
}

/// `pid` runs our init (or the scanner it became) with `scan` as its working directory: named
/// `init`, `s6-svscan`, or `merit` (`merit init`, the multi-call binary called by its own
/// name, until its exec of the scanner). One check for telinit's target and for init's refusal
/// of a second instance.
pub(super) fn is_our_init(pid: i32, scan: &Path) -> bool {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
    matches!(comm.trim(), "init" | "s6-svscan" | "merit") && cwd.is_some() && cwd == scan.canonicalize().ok()
}
