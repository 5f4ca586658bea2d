//! `merit`: the multi-call binary. Runs the program named by the basename of `argv[0]` (see
//! [`merit_programs::cmd`]): installed as one file with a symlink `NAME -> merit` per program
//! (and `telinit`, `halt`, `poweroff`, `reboot` for `init`), so that every process of a
//! supervision tree maps the same executable and shares its pages.

#![no_main]
#![forbid(unsafe_code)]

use std::os::unix::ffi::OsStrExt;

merit_sys::entry!(dispatch);

// Unused only in a test build of this binary (test = false; `clippy --all-targets` builds one).
#[cfg_attr(test, allow(dead_code))]
fn dispatch() {
    let arg0 = merit_sys::startup::args_os().next().unwrap_or_default();
    let name = arg0.as_bytes().rsplit(|&b| b == b'/').next().unwrap_or_default();
    if let Some(main) = merit_programs::cmd::lookup(name) {
        merit_programs::exe::set_multicall();
        return main();
    }
    let mut m = String::from(
        "merit: usage: PROGRAM [ARGS...], through a link PROGRAM -> merit (argv[0] names the program); programs:\n",
    );
    for (p, _) in merit_programs::cmd::PROGRAMS {
        let aliases: Vec<&str> = merit_programs::cmd::ALIASES.iter().filter(|(_, t)| t == p).map(|(a, _)| *a).collect();
        if aliases.is_empty() {
            m += &format!("  {p}\n");
        } else {
            m += &format!("  {p} (also {})\n", aliases.join(", "));
        }
    }
    use std::io::Write;
    let _ = std::io::stderr().write_all(m.as_bytes());
    std::process::exit(100);
}
