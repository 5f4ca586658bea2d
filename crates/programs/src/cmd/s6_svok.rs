//! `s6-svok servicedir`: exit 0 if an s6-supervise holds `DIR/supervise/lock`, 1 if not,
//! 100 without argument, 111 on error (control.md §4). No option parsing: the first argument
//! is the directory, extra ones are ignored.

use crate::msg::{self, bytes_path};
use crate::svdir;

const PROG: &str = "s6-svok";

pub fn main() {
    let args = msg::args();
    let Some(dir) = args.first() else { msg::die_usage(PROG, "s6-svok servicedir") };
    match svdir::supervisor_running(bytes_path(dir)) {
        Ok(true) => {}
        Ok(false) => msg::exit(1),
        Err(e) => msg::Fatal::sys(111, &[b"unable to check ", dir], &e).die(PROG),
    }
}
