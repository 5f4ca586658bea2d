//! `s6-svwait [ -U | -u | -d | -D | -r | -R ] [ -a | -o ] [ -t timeout ] servicedir...`
//!
//! Waits until all (`-a`, default) or one (`-o`) of the services reach the wanted state
//! (control.md §3.1). Exit 0; 99 on timeout; n = number of permanent-failure / supervisor-death
//! events; 100 usage; 111 system error.

use crate::getopt::{Getopt, Opt};
use crate::msg::{self, bytes_path};
use crate::svdir::{Deadline, Flavor, Goal, Waiter};

const PROG: &str = "s6-svwait";
const USAGE: &str = "s6-svwait [ -U | -u | -d | -D | -r | -R ] [ -a | -o ] [ -t timeout ] servicedir...";

pub fn main() {
    // Like the real s6-svwait.
    let _ = merit_sys::signal::ignore(merit_sys::signal::SIGPIPE);
    let args = msg::args();
    let mut goal = Goal::Up;
    let mut any = false;
    let mut timeout: u32 = 0;
    let mut opts = Getopt::new(&args, b"UudDrRaot:");
    for opt in opts.by_ref() {
        match opt {
            Opt::Letter(b'a', None) => any = false,
            Opt::Letter(b'o', None) => any = true,
            Opt::Letter(b't', Some(a)) => match msg::parse_uint(a) {
                Some(t) => timeout = t,
                None => msg::die_usage(PROG, USAGE),
            },
            Opt::Letter(c, None) => match Goal::from_letter(c) {
                Some(g) => goal = g,
                None => msg::die_usage(PROG, USAGE),
            },
            _ => msg::die_usage(PROG, USAGE),
        }
    }
    let dirs: Vec<&std::path::Path> = opts.rest().iter().map(|d| bytes_path(d)).collect();
    if dirs.is_empty() {
        msg::die_usage(PROG, USAGE);
    }
    let deadline = Deadline::after_ms(timeout as u64);
    let outcome = Waiter::new(&dirs).and_then(|mut w| w.wait_goal(goal, any, Flavor::Svwait, deadline));
    match outcome {
        Ok(0) => {}
        Ok(n) => msg::die(PROG, n as i32, &[b"some services reported permanent failure or their supervisor died"]),
        Err(e) => e.to_fatal().die(PROG),
    }
}
