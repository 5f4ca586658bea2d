//! `s6-svc [ -wu | -wU | -wd | -wD | -wr | -wR ] [ -T timeout ] [ -abqhkti12pcyroduDUxOQ ] servicedir`
//!
//! Sends command letters to `DIR/supervise/control` (control.md §3). With `-w`, where the real
//! tool execs `s6-svlisten1` (letters given) or `s6-svwait` (no letters), this one does the same
//! work itself: subscribe to `DIR/event`, read the status, write the letters, then wait. Its
//! diagnostics then carry the name of the program the real one would have exec'd, so the output
//! is byte-identical.

use crate::getopt::{Getopt, Opt};
use crate::msg::{self, bytes_path};
use crate::svdir::{self, Deadline, Flavor, Goal, Waiter, Wording, SUPERVISE};

const PROG: &str = "s6-svc";
const USAGE: &str = "s6-svc [ -wu | -wU | -wd | -wD | -wr | -wR ] [ -T timeout ] [ -abqhkti12pcyroduDUxOQ ] servicedir";
/// The real tool's buffer holds 63 bytes including a leading `-`.
const MAX_LETTERS: usize = 62;

pub fn main() {
    let args = msg::args();
    let mut letters: Vec<u8> = Vec::new();
    let mut timeout: u32 = 0;
    let mut goal: Option<Goal> = None;
    let mut opts = Getopt::new(&args, b"abqhkti12pcyroduDUxOQT:w:");
    for opt in opts.by_ref() {
        match opt {
            Opt::Letter(b'T', Some(a)) => match msg::parse_uint(a) {
                Some(t) => timeout = t,
                None => msg::die_usage(PROG, USAGE),
            },
            Opt::Letter(b'w', Some(a)) => match a.first().copied().and_then(Goal::from_letter) {
                Some(g) => goal = Some(g),
                None => msg::die_usage(PROG, USAGE),
            },
            Opt::Letter(c, None) => {
                if letters.len() >= MAX_LETTERS {
                    msg::die(PROG, 100, &[b"too many commands"]);
                }
                letters.push(c);
            }
            _ => msg::die_usage(PROG, USAGE),
        }
    }
    let rest = opts.rest();
    let Some(dir_bytes) = rest.first() else { msg::die_usage(PROG, USAGE) };
    if rest.len() > 1 {
        msg::warn(PROG, &[b"ignoring extra arguments"]);
    }
    if dir_bytes.is_empty() {
        msg::die(PROG, 100, &[b"invalid service path"]);
    }
    let dir = bytes_path(dir_bytes);

    let Some(mut goal) = goal else {
        if let Err(e) = svdir::send_control(dir, &letters) {
            e.to_fatal(dir_bytes, SUPERVISE, Wording::Svc).die(PROG);
        }
        return;
    };

    if goal.needs_readiness() {
        match svdir::notification_fd_present(dir) {
            Ok(true) => {}
            Ok(false) => {
                goal = goal.without_readiness();
                msg::warn(
                    PROG,
                    &[dir_bytes, b"/notification-fd not present - ignoring request for readiness notification"],
                );
            }
            Err(e) => msg::Fatal::sys(111, &[b"unable to access ", dir_bytes, b"/notification-fd"], &e).die(PROG),
        }
    }

    // What the real s6-svc execs: s6-svlisten1 (which spawns `s6-svc -LETTERS -- DIR` after
    // subscribing) when there are letters, s6-svwait otherwise.
    let flavor = if letters.is_empty() { Flavor::Svwait } else { Flavor::Svlisten1 };
    let deadline = Deadline::after_ms(timeout as u64);
    let outcome = (|| {
        let mut waiter = Waiter::new(&[dir])?;
        if !letters.is_empty() {
            // The spawned s6-svc's failure is reported but does not stop the listener.
            if let Err(e) = svdir::send_control(dir, &letters) {
                let f = e.to_fatal(dir_bytes, SUPERVISE, Wording::Svc);
                msg::put(PROG, "fatal", &[&f.text]);
            }
        }
        waiter.wait_goal(goal, false, flavor, deadline)
        // the waiter (and its FIFO) is dropped here, before any exit
    })();
    match outcome {
        Ok(0) => {}
        Ok(n) => match flavor {
            Flavor::Svlisten1 => {
                msg::die(flavor.prog(), 1, &[dir_bytes, b" failed permanently or its supervisor died"])
            }
            Flavor::Svwait => msg::die(
                flavor.prog(),
                n as i32,
                &[b"some services reported permanent failure or their supervisor died"],
            ),
        },
        Err(e) => e.to_fatal().die(flavor.prog()),
    }
}
