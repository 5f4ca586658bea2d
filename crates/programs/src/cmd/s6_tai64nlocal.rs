//! `s6-tai64nlocal [ -g ]`: replaces a leading TAI64N label on each line of stdin by the local
//! time it stands for (UTC with `-g`), as `YYYY-MM-DD HH:MM:SS.nnnnnnnnn`, keeping everything after
//! the 25-character label byte for byte (spec/tai64n.md §3, §5).
//!
//! A line (with its `\n`, if any) is converted only if it is longer than 25 bytes, starts with
//! `@` + 24 hex digits (either case) and the label converts; otherwise it is copied unchanged.
//! Leap seconds print as `:60` (skalibs' table), or through the zone itself for `right/` zones:
//! then the label is handed to `localtime_r`/`gmtime_r` as is, with or without `-g` (glibc's
//! `gmtime_r` applies the zone's leap seconds too), as skalibs does.
//! Exit 0 at end of file, 100 on a usage error, 111 on an I/O error (reported, as s6 does, as
//! `unable to read from stdin: ERROR`).

use merit_core::log::format::local_stamp;
use merit_core::tai::{display_second, Tain};
use merit_sys::fd;

const PROG: &str = "s6-tai64nlocal";

fn die_io(e: &std::io::Error) -> ! {
    let msg = format!("{PROG}: fatal: unable to read from stdin: {}\n", merit_sys::strerror(e));
    let _ = fd::write_all(2, msg.as_bytes());
    std::process::exit(111)
}

/// Is the local zone a `right/` zone (its `time_t` counts leap seconds)?
fn zone_is_right() -> bool {
    merit_sys::clock::broken_down(78796800, false).is_some_and(|t| t.second == 60)
}

fn convert(line: &[u8], utc: bool, right: bool, out: &mut Vec<u8>) {
    if line.len() > 25 {
        if let Some(t) = Tain::parse_label(line) {
            if let Some((u, leap)) = display_second(t.secs, right) {
                if let Some(tm) = merit_sys::clock::broken_down(u, utc) {
                    let sec = tm.second + leap as u32;
                    out.extend_from_slice(
                        local_stamp(tm.year, tm.month, tm.day, tm.hour, tm.minute, sec, t.nanos).as_bytes(),
                    );
                    out.extend_from_slice(&line[25..]);
                    return;
                }
            }
        }
    }
    out.extend_from_slice(line);
}

pub fn main() {
    let mut utc = false;
    for a in merit_sys::startup::args_os().skip(1) {
        let a = a.into_encoded_bytes();
        if a == b"--" {
            break;
        }
        if a.len() < 2 || a[0] != b'-' {
            break;
        }
        for &c in &a[1..] {
            if c == b'g' {
                utc = true;
            } else {
                let _ = fd::write_all(2, format!("{PROG}: usage: {PROG} [ -g ]\n").as_bytes());
                std::process::exit(100);
            }
        }
    }
    let right = zone_is_right();
    crate::lines::filter_stdin(|line, out| convert(line, utc, right, out), die_io);
}
