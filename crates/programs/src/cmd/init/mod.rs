//! merit's `init`: stage 1 of a Mere-style boot, the shutdown stages, and `telinit`.
//!
//! ```text
//! init [--root DIR] [--container] [--log-stdout] [--grace SECONDS]   stage 1 (PID 1)
//! telinit 0|6|7 ; halt ; poweroff ; reboot          request a shutdown (also: init telinit N)
//! init copy-enabled       copy every enabled service into the scan directory, then rescan
//! init skeleton DESTDIR   lay out DESTDIR/etc/s6 (rc.init, rc.shutdown, init-services, ...)
//! init shutdown ACTION    the orderly teardown (run by the scanner's signal scripts)
//! init finish             the last stage (the scanner's .s6-svscan/finish)
//! init crash              no scanner: PID 1 stays up (the scanner's .s6-svscan/crash)
//! init main-finish CODE SIG DIR   finish wrapper of a container's main service
//! ```
//!
//! How a shutdown travels: `telinit` writes the action into `/s6/run/.shutdown` and sends PID 1
//! a signal that names it (SIGUSR2 halt, SIGUSR1 poweroff, SIGINT reboot; SIGTERM means
//! "stop" in a container and poweroff otherwise). Stage 1 blocks those signals before anything
//! else and keeps them blocked across the exec of `s6-svscan`, so a request made before the
//! scanner listens stays pending and is acted upon as soon as it does. The scanner runs
//! `.s6-svscan/SIG*`, which runs `init shutdown ACTION`: services are brought down (each within
//! its `timeout-kill`, and all within the grace period, after which they are SIGKILLed), their
//! loggers drain their pipes and exit, then the catch-all logger; the scanner then execs
//! `.s6-svscan/finish` = `init finish`, which runs `/etc/s6/rc.shutdown ACTION`, TERMs then KILLs
//! what remains, syncs, unmounts, and calls reboot(2) (in a container: exits with the main
//! service's code).
//!
//! Under a root prefix (`--root DIR` or `MERIT_ROOT`), every path lives under DIR (init neither
//! chroots nor pivots) and `MERIT_ROOT` is exported to everything it starts.
//!
//! Container mode (`--container`, `MERIT_CONTAINER=1`, or PID 1 with `container` in the
//! environment or a `/.dockerenv` or `/run/.containerenv` under the root): no mounts; SIGTERM
//! means "stop"; a service with a `merit-main` file gets a `finish` wrapper (`init main-finish`)
//! that records its exit code and stops the container, whose exit status it becomes (a shutdown
//! already under way keeps 0). `--log-stdout`: no catch-all logger, output stays on init's stdout.
//!
//! Robustness rules: PID 1 never panics nor exits, whatever its argv and environment: as PID 1
//! every word of its command line but its options is ignored with a warning (`finish` and
//! `crash` aside, once stage 1 has run); without a scanner it stays up, reaping, with a shell on
//! a terminal console, and still shuts down on request (`init crash`). Stage 1 never panics
//! (its stderr may be a FIFO without a reader: messages go to the console descriptor it keeps);
//! what it starts inherits no descriptor but 0-2 and no ignored signal; a missing or unrunnable `rc.init` is replaced by the
//! built-in `init copy-enabled`; state left in `/run/merit` by an earlier boot is removed; the
//! scripts call `"$MERIT_INIT"` (the path of our `init`, exported: the `init` link beside the
//! multi-call binary, never `merit` itself) since a busybox shell may prefer its
//! own `init` applet.

//!
//! The parts, one file each: `stage1.rs` (the boot, as a list of steps), `rc_init.rs` (rc.init,
//! its built-in `init copy-enabled`), `shutdown.rs` (`init shutdown`, `init finish`), `crash.rs`
//! (PID 1 without a scanner), `telinit.rs`, `container.rs` (a container's main service). This
//! module dispatches, and holds what they share: where everything is (`Layout`) and how init
//! speaks (`say`).

mod container;
mod crash;
mod rc_init;
mod shutdown;
mod stage1;
mod telinit;

use crate::tree::{self, Tree};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

/// The console as stage 1 keeps it for the scanner (`-X`): once stdout and stderr point at the
/// catch-all logger's FIFO, whose reader may not run yet, stage 1 speaks there instead.
static CONSOLE: AtomicI32 = AtomicI32::new(-1);

/// The console stage 1 keeps, if it has made it yet.
fn kept_console() -> Option<i32> {
    match CONSOLE.load(Ordering::Relaxed) {
        -1 => None,
        c => Some(c),
    }
}

/// Says something on stderr (or stage 1's console), never failing: PID 1 must not panic on
/// EPIPE or a closed descriptor, nor block on a stopped terminal or a full catch-all FIFO. The
/// one diagnostics path of every program ([`crate::msg::console`]: a terminal merely busy gets
/// a little time to drain).
fn say(msg: &str) {
    crate::msg::console(kept_console().unwrap_or(2), &[b"init: ", msg.as_bytes()]);
}

/// Where everything is, under the root prefix.
struct Layout {
    root: PathBuf,
}

impl Layout {
    fn from_env(flag: Option<PathBuf>) -> Layout {
        let root = flag.or_else(|| std::env::var_os("MERIT_ROOT").map(PathBuf::from)).unwrap_or_default();
        Layout { root }
    }
    fn p(&self, abs: &str) -> PathBuf {
        tree::under(&self.root, Path::new(abs))
    }
    fn scan(&self) -> PathBuf {
        self.p("/s6/run")
    }
    fn state(&self) -> PathBuf {
        self.p("/run/merit")
    }
    fn tree(&self) -> Tree {
        Tree::new(
            &self.root,
            Path::new(tree::DEFAULT_SCAN),
            Path::new(tree::DEFAULT_AVAILABLE),
            Path::new(tree::DEFAULT_ENABLED),
        )
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn grace_ms() -> u64 {
    std::env::var("MERIT_GRACE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map_or(10_000, |s| (s * 1000.0) as u64)
}

pub fn main() {
    let args: Vec<String> = merit_sys::startup::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    if merit_sys::getpid() == 1 {
        pid1_main(&args);
    }
    let prog = args.first().map(|a| a.rsplit('/').next().unwrap_or(a).to_string()).unwrap_or_default();
    let rest = args.get(1..).unwrap_or(&[]);
    match prog.as_str() {
        "telinit" => std::process::exit(telinit::telinit(args.get(1).map(String::as_str))),
        "halt" => std::process::exit(telinit::telinit(Some("0"))),
        "reboot" => std::process::exit(telinit::telinit(Some("6"))),
        "poweroff" => std::process::exit(telinit::telinit(Some("7"))),
        _ => {}
    }
    match args.get(1).map(String::as_str) {
        Some("telinit") => std::process::exit(telinit::telinit(args.get(2).map(String::as_str))),
        Some("copy-enabled") => std::process::exit(rc_init::copy_enabled()),
        Some("skeleton") => skeleton(args.get(2)),
        Some("shutdown") => {
            std::process::exit(shutdown::shutdown(args.get(2).map(String::as_str).unwrap_or("poweroff")))
        }
        Some("finish") => shutdown::finish(),
        Some("crash") => crash::crash_fallback(&Layout::from_env(None), "s6-svscan crashed"),
        Some("main-finish") => std::process::exit(container::main_finish(args.get(2..).unwrap_or(&[]))),
        _ => stage1::stage1(rest),
    }
}

/// As PID 1, whatever argv and environment the kernel or a container runtime hands us, we
/// boot (and never exit): the subcommands are for an init run outside PID 1, and a word of
/// the kernel command line (`single`, `shutdown`...) is only a warning. Two exceptions, the
/// stages that PID 1 execs into itself: `finish` (the scanner's `.s6-svscan/finish`) and
/// `crash` (its `.s6-svscan/crash`), honoured only when stage 1 has run, i.e. when its
/// `MERIT_INIT` is in the environment (a kernel command line only sets it on purpose).
fn pid1_main(args: &[String]) -> ! {
    let staged = std::env::var_os("MERIT_INIT").is_some();
    match args.get(1).map(String::as_str) {
        Some("finish") if staged => shutdown::finish(),
        Some("crash") if staged => crash::crash_fallback(&Layout::from_env(None), "s6-svscan crashed"),
        _ => stage1::stage1(args.get(1..).unwrap_or(&[])),
    }
}

/// `init skeleton DESTDIR`.
fn skeleton(dest: Option<&String>) -> ! {
    let Some(d) = dest else { usage() };
    match crate::skeleton::lay_out(Path::new(d)) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            say(&format!("unable to lay out {d}/etc/s6: {e}"));
            std::process::exit(111)
        }
    }
}

fn usage() -> ! {
    say("usage: init [--root DIR] [--container] [--log-stdout] [--grace SECONDS]");
    say("usage: init telinit 0|6|7 | copy-enabled | skeleton DESTDIR | shutdown ACTION | finish");
    std::process::exit(100)
}

fn spawn_error(e: &merit_sys::process::SpawnError) -> String {
    match e {
        merit_sys::process::SpawnError::Fork(e) | merit_sys::process::SpawnError::Exec(_, e) => merit_sys::strerror(e),
    }
}

/// The mount points of /proc/self/mountinfo, in mount order, whatever their bytes.
fn mount_points() -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    merit_core::mountinfo::mount_points(&merit_sys::system::mountinfo())
        .into_iter()
        .map(|m| PathBuf::from(std::ffi::OsString::from_vec(m)))
        .collect()
}

/// Whether `p` is a mount point.
fn is_mount_point(p: &Path) -> bool {
    let Ok(canon) = p.canonicalize() else { return false };
    mount_points().contains(&canon)
}
