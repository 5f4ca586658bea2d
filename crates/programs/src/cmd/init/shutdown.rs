//! The shutdown: `init shutdown ACTION` (the orderly teardown, run by the scanner's signal
//! scripts) and `init finish` (the last stage, exec'd by the scanner: PID 1 on a real system).

use super::container::container_mode;
use super::{grace_ms, mount_points, say, Layout};
use crate::svdir::{self, Deadline};
use merit_sys::signal;
use merit_sys::system::{self, RebootAction};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often the shutdown looks again at what it waits for.
const STEP: Duration = Duration::from_millis(20);

/// Points our stdout/stderr at init's console (recorded by stage 1; the scanner holds it), else
/// /dev/console, else /dev/null.
fn console_output(l: &Layout) {
    use merit_sys::flags::*;
    let recorded = std::fs::read_to_string(l.state().join("console")).ok().map(|s| PathBuf::from(s.trim()));
    let opened = recorded
        .and_then(|p| merit_sys::fd::open(&p, O_WRONLY | O_CLOEXEC, 0).ok())
        .or_else(|| merit_sys::fd::open(Path::new("/dev/console"), O_WRONLY | O_NOCTTY | O_CLOEXEC, 0).ok());
    if let Some(c) = opened {
        let _ = merit_sys::fd::dup2(c.as_raw_fd(), 1);
        let _ = merit_sys::fd::dup2(c.as_raw_fd(), 2);
    } else if let Ok(n) = merit_sys::fd::open(Path::new("/dev/null"), O_WRONLY, 0) {
        let _ = merit_sys::fd::dup2(n.as_raw_fd(), 1);
        let _ = merit_sys::fd::dup2(n.as_raw_fd(), 2);
    }
}

/// `init shutdown ACTION`: the services down, then their loggers, then the catch-all logger;
/// the scanner then runs `init finish`. Run once: a second request while one runs changes
/// nothing.
pub(super) fn shutdown(action: &str) -> i32 {
    let l = Layout::from_env(None);
    let container = container_mode(&l);
    let action = match action {
        "term" if container => "stop",
        "term" => "poweroff",
        a => a,
    };
    // Our own output must not keep the catch-all logger's FIFO open.
    console_output(&l);
    if !first_request(&l) {
        return 0;
    }
    let scan = l.scan();
    let _ = std::fs::write(scan.join(".shutdown"), format!("{action}\n"));
    bring_down(&scan, grace_ms());
    0
}

/// Whether no shutdown is running yet (the marker `shutting-down` is made now). The marker is
/// only that: when it cannot be made (/run full, read-only, missing), the shutdown proceeds all
/// the same.
fn first_request(l: &Layout) -> bool {
    use merit_sys::flags::*;
    let _ = std::fs::create_dir_all(l.state());
    let marker = l.state().join("shutting-down");
    match merit_sys::fd::open(&marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) {
        Ok(f) => {
            // Our pid, so that the last stage outside PID 1 can wait for us (see
            // `wait_for_shutdown`).
            let _ = merit_sys::fd::write(f.as_raw_fd(), format!("{}\n", merit_sys::getpid()).as_bytes());
            true
        }
        Err(e) if e.raw_os_error() == Some(merit_sys::errno::EEXIST) => false,
        Err(e) => {
            say(&format!(
                "unable to create {}: {}: shutting down all the same",
                marker.display(),
                merit_sys::strerror(&e)
            ));
            true
        }
    }
}

/// The services of `scan` down within `grace` ms (in reverse dependency order when they
/// declare dependencies: see [`in_reverse_order`]), then their loggers, then the catch-all
/// logger.
fn bring_down(scan: &Path, grace: u64) {
    let services: Vec<PathBuf> = std::fs::read_dir(scan)
        .map(|rd| {
            rd.flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    let (catch_all, mains): (Vec<PathBuf>, Vec<PathBuf>) =
        services.into_iter().partition(|p| p.ends_with("s6-svscan-log"));
    let loggers: Vec<PathBuf> = mains.iter().map(|p| p.join("log")).filter(|p| p.is_dir()).collect();

    // 0. With dependencies: the services that others need are stopped after those.
    let whole = Deadline::after_ms(grace.max(1));
    let left = if in_reverse_order(&mains, whole, grace) { whole.remaining_ms().unwrap_or(0) } else { grace };
    // 1. The scanner stops every service (down-signal, timeout-kill), HUPs the loggers'
    //    supervisors, closes the log pipes, and waits for all of its supervisors.
    if svdir::write_control(scan, svdir::SVSCAN, b"t").is_err() {
        // No scanner listening: bring the services down ourselves.
        for d in &mains {
            let _ = svdir::send_control(d, b"dx");
        }
    }
    // 2. Services within the grace period, then SIGKILL.
    for d in still_running(&mains, left) {
        say(&format!("{} did not stop within {} ms: killing it", d.display(), grace));
        let _ = svdir::send_control(&d, b"k");
    }
    // 3. Loggers drain their pipes (EOF once the service and the scanner closed them).
    for d in still_running(&loggers, grace.clamp(1000, 5000)) {
        let _ = svdir::send_control(&d, b"hx");
    }
    // 4. The catch-all logger: EOF when the last writer is gone; otherwise SIGHUP (flush and
    //    exit) after a short while, since strays may hold the FIFO.
    for d in still_running(&catch_all, 1000) {
        let _ = svdir::send_control(&d, b"hx");
    }
}

/// Stops the services of `mains` that others need only once those are down: the dependency
/// graph of the scan-directory copies (`dependencies.d/`, `dependencies`), gone through layer
/// by layer in reverse dependency order (first the services nobody needs, those without
/// dependencies among them; a service only once everything that needs it is down), each
/// layer in parallel, each service given its own `timeout-kill` (else what is
/// left of the grace) before `k`, all within `whole`. The last layer is
/// left to the scanner's `t`, with the loggers. Without dependencies nothing is done here
/// (the shutdown is what it always was); a cycle is said and the order given up. Whether
/// something was stopped here.
fn in_reverse_order(mains: &[PathBuf], whole: Deadline, grace: u64) -> bool {
    let by_name: std::collections::BTreeMap<String, PathBuf> =
        mains.iter().filter_map(|d| d.file_name().map(|n| (n.to_string_lossy().into_owned(), d.clone()))).collect();
    let (graph, _) = crate::tree::dependency_graph(by_name.keys().cloned(), |n| by_name.get(n).cloned());
    let set: std::collections::BTreeSet<String> = by_name.keys().cloned().collect();
    if !set.iter().any(|n| graph.direct_needs(n).iter().any(|d| set.contains(d))) {
        return false;
    }
    // Layers of the reversed graph: the first is what nobody needs.
    let layers = match graph.reverse().layers(Some(&set)) {
        Ok(l) => l,
        Err(e) => {
            say(&format!("{}: stopping the services in no particular order", e.message()));
            return false;
        }
    };
    for layer in layers.iter().take(layers.len().saturating_sub(1)) {
        let dirs: Vec<&PathBuf> = layer.iter().filter_map(|n| by_name.get(n)).collect();
        for d in &dirs {
            let _ = svdir::send_control(d, b"d");
        }
        let left = whole.remaining_ms().unwrap_or(0);
        // Each one's own limit: its timeout-kill, else what is left of the grace.
        let mut limits: Vec<(&PathBuf, Deadline, bool)> = dirs
            .iter()
            .map(|d| {
                let tk = std::fs::read_to_string(d.join("timeout-kill"))
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|&t| t > 0);
                (*d, Deadline::after_ms(tk.map_or(left, |t| t.min(left)).max(1)), false)
            })
            .collect();
        whole.wait_until(STEP, || {
            let mut all_down = true;
            for (d, limit, killed) in limits.iter_mut() {
                if is_down(d) {
                    continue;
                }
                all_down = false;
                if !*killed && limit.passed() {
                    say(&format!("{} did not stop within its time: killing it", d.display()));
                    let _ = svdir::send_control(d, b"k");
                    *killed = true;
                }
            }
            all_down
        });
        if whole.passed() {
            say(&format!("the services did not stop within {grace} ms"));
            return true;
        }
    }
    true
}

/// Down: no `run` nor `finish` (a pid of 0), or no supervisor.
fn is_down(d: &Path) -> bool {
    !svdir::supervisor_running(d).unwrap_or(false) || svdir::read_status(d).map_or(true, |s| s.pid == 0)
}

/// The service directories of `dirs` whose supervisor still runs after at most `ms` ms of
/// waiting for them all to be gone.
fn still_running(dirs: &[PathBuf], ms: u64) -> Vec<PathBuf> {
    let running =
        || -> Vec<PathBuf> { dirs.iter().filter(|d| svdir::supervisor_running(d).unwrap_or(false)).cloned().collect() };
    // 0 ms is "at once", not Deadline's "never".
    Deadline::after_ms(ms.max(1)).wait_until(STEP, || running().is_empty());
    running()
}

/// `init finish`: the last stage, for the action recorded in `.shutdown`.
pub(super) fn finish() -> ! {
    let l = Layout::from_env(None);
    let container = container_mode(&l);
    let action = std::fs::read_to_string(l.scan().join(".shutdown"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| if container { "stop".into() } else { "poweroff".into() });
    last_stage(&l, container, action)
}

/// rc.shutdown, then (as PID 1) everything killed, sync, unmount, reboot(2); a container's
/// init (or an init outside PID 1) exits instead. PID 1 never exits: should reboot(2) fail,
/// it stays up, reaping.
pub(super) fn last_stage(l: &Layout, container: bool, action: String) -> ! {
    let pid1 = merit_sys::getpid() == 1;
    let exit_code: i32 =
        std::fs::read_to_string(l.state().join("exit-code")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    signal::unblock_all();
    run_rc_shutdown(l, &action);
    if pid1 {
        kill_everything();
    }
    system::sync();
    if container || !pid1 {
        if !pid1 {
            wait_for_shutdown(l);
        }
        let code = if container { exit_code } else { 0 };
        say(&format!("all services stopped ({action}): exiting {code}"));
        std::process::exit(code);
    }
    // Our working directory (the scan directory, on /s6) would keep its filesystem busy.
    let _ = std::env::set_current_dir("/");
    unmount_all(&l.root);
    system::sync();
    let (what, doing) = match action.as_str() {
        "halt" => (RebootAction::Halt, "halting"),
        "reboot" => (RebootAction::Reboot, "rebooting"),
        _ => (RebootAction::Poweroff, "powering off"),
    };
    say(&format!("all services stopped, filesystems unmounted: {doing}"));
    let e = system::reboot(what);
    say(&format!("reboot(2) failed: {e}"));
    loop {
        if merit_sys::process::wait_any().is_err() {
            std::thread::sleep(Duration::from_secs(10));
        }
    }
}

/// Outside PID 1 (merit.service on a host) our exit ends the tree for its manager, which then
/// kills what is left (systemd's KillMode=mixed): the `init shutdown` that asked for this end
/// may still be finishing its last look at the loggers. Wait for it (its pid is in the
/// `shutting-down` marker, checked to still be an `init shutdown`), at most 3 s.
fn wait_for_shutdown(l: &Layout) {
    let Some(pid) = std::fs::read_to_string(l.state().join("shutting-down"))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|&p| p > 0 && p != merit_sys::getpid())
    else {
        return;
    };
    let is_shutdown = || {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.split(|&b| b == 0).nth(1).is_some_and(|a| a == b"shutdown"))
    };
    Deadline::after_ms(3000).wait_until(STEP, || !is_shutdown());
}

/// `/etc/s6/rc.shutdown ACTION`, if there is one, bounded by the grace period (at least 1 s).
fn run_rc_shutdown(l: &Layout, action: &str) {
    let rc = l.p("/etc/s6/rc.shutdown");
    if !rc.exists() {
        return;
    }
    match std::process::Command::new(&rc).arg(action).spawn() {
        Ok(mut child) => {
            let deadline = Deadline::after_ms(grace_ms().max(1000));
            if !deadline.wait_until(STEP, || matches!(child.try_wait(), Ok(Some(_)))) {
                say("rc.shutdown took too long: killing it");
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        Err(e) => say(&format!("unable to run {}: {e}", rc.display())),
    }
}

/// Everything else (PID 1 only): TERM, a moment (2 s, or until no child is left), KILL;
/// reaping as we go.
fn kill_everything() {
    let _ = system::kill_all(signal::SIGTERM);
    let _ = system::kill_all(signal::SIGCONT);
    Deadline::after_ms(2000).wait_until(STEP, || {
        while let Ok(Some(_)) = merit_sys::process::reap_one() {}
        !system::has_children()
    });
    let _ = system::kill_all(signal::SIGKILL);
    while let Ok(Some(_)) = merit_sys::process::reap_one() {}
    std::thread::sleep(Duration::from_millis(50));
    while let Ok(Some(_)) = merit_sys::process::reap_one() {}
}

/// Unmounts what lies under the root prefix (everything but `/` itself when there is none),
/// newest first; what cannot be unmounted is remounted read-only.
fn unmount_all(root: &Path) {
    let base = if root.as_os_str().is_empty() {
        PathBuf::from("/")
    } else {
        root.canonicalize().unwrap_or(root.to_path_buf())
    };
    let mut points: Vec<PathBuf> = mount_points().into_iter().filter(|m| m.starts_with(&base) && *m != base).collect();
    points.reverse();
    for m in points {
        if system::umount(&m, false).is_err() {
            let _ = system::remount_readonly(&m);
        }
    }
    if base == Path::new("/") {
        let _ = system::remount_readonly(&base);
    }
}
