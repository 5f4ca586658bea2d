//! `s6-tai64n`: prefixes every line of stdin with a TAI64N label of the wall clock read when the
//! line is complete (spec/tai64n.md §4). Arguments are ignored. An unterminated last line gets
//! its `\n`. Output is flushed before every read. Exit 0 at end of file; 111 on any I/O error,
//! reported (as s6 does) as `unable to read from stdin: ERROR`.

use merit_core::tai::Tain;
use merit_sys::fd;

const PROG: &str = "s6-tai64n";

fn die_io(e: &std::io::Error) -> ! {
    let msg = format!("{PROG}: fatal: unable to read from stdin: {}\n", merit_sys::strerror(e));
    let _ = fd::write_all(2, msg.as_bytes());
    std::process::exit(111)
}

fn stamp(out: &mut Vec<u8>) {
    let (s, ns) = merit_sys::clock::wall();
    out.extend_from_slice(&Tain::from_unix(s, ns).label());
    out.push(b' ');
}

pub fn main() {
    crate::lines::filter_stdin(
        |line, out| {
            stamp(out);
            out.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                out.push(b'\n');
            }
        },
        die_io,
    );
}
