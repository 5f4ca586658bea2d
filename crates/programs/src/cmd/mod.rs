//! The programs themselves, one module each, with a `pub fn main()`.
//!
//! Each program is built twice: as its own thin executable (`src/bin/NAME.rs`, which only calls
//! `cmd::NAME::main`, what `cargo test` and development use), and inside the multi-call binary
//! `merit` (`src/bin/merit.rs`), which [`lookup`]s the basename of its `argv[0]`. The release
//! layout (scripts/build, scripts/install) is the single static `merit` plus one symlink per
//! program name: the scanner, its supervisors and its loggers then map one file and share its
//! page-cache pages (text, rodata) the way the real s6's processes share libc and libskarnet,
//! instead of each program's pages being charged to the few processes that map that program.
//!
//! A program must not care how it was started: it never assumes that `/proc/self/exe` is named
//! after it. To run a sibling program it uses [`crate::exe::sibling`], and it passes the
//! program's own name as `argv[0]` (which is what the multi-call binary dispatches on).

pub mod init;
pub mod s6_applyuidgid;
pub mod s6_log;
pub mod s6_supervise;
pub mod s6_svc;
pub mod s6_svok;
pub mod s6_svscan;
pub mod s6_svscanctl;
pub mod s6_svstat;
pub mod s6_svwait;
pub mod s6_tai64n;
pub mod s6_tai64nlocal;
pub mod service;

/// Every program, by the name it is installed and invoked as.
pub const PROGRAMS: &[(&str, fn())] = &[
    ("init", init::main),
    ("s6-applyuidgid", s6_applyuidgid::main),
    ("s6-log", s6_log::main),
    ("s6-supervise", s6_supervise::main),
    ("s6-svc", s6_svc::main),
    ("s6-svok", s6_svok::main),
    ("s6-svscan", s6_svscan::main),
    ("s6-svscanctl", s6_svscanctl::main),
    ("s6-svstat", s6_svstat::main),
    ("s6-svwait", s6_svwait::main),
    ("s6-tai64n", s6_tai64n::main),
    ("s6-tai64nlocal", s6_tai64nlocal::main),
    ("service", service::main),
];

/// Other names of a program: `init` acts on the name it is called by (`telinit 0`, `halt`...).
pub const ALIASES: &[(&str, &str)] = &[("telinit", "init"), ("halt", "init"), ("poweroff", "init"), ("reboot", "init")];

/// The program that the name `name` (a program name or an alias) runs, if any.
pub fn program(name: &[u8]) -> Option<&'static str> {
    let name = ALIASES.iter().find(|(a, _)| a.as_bytes() == name).map_or(name, |(_, p)| p.as_bytes());
    PROGRAMS.iter().find(|(p, _)| p.as_bytes() == name).map(|(p, _)| *p)
}

/// The `main` of the program called `name` (a program name or an alias), if there is one.
pub fn lookup(name: &[u8]) -> Option<fn()> {
    let p = program(name)?;
    PROGRAMS.iter().find(|(q, _)| *q == p).map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lookup_by_name_and_alias() {
        for (name, _) in super::PROGRAMS {
            assert_eq!(super::program(name.as_bytes()), Some(*name));
            assert!(super::lookup(name.as_bytes()).is_some(), "{name}");
        }
        for alias in ["telinit", "halt", "poweroff", "reboot"] {
            assert_eq!(super::program(alias.as_bytes()), Some("init"), "{alias}");
            assert!(super::lookup(alias.as_bytes()).is_some(), "{alias}");
        }
        for other in ["merit", "", "s6-svscan2", "S6-SVSCAN", "s6-svscan/"] {
            assert!(super::program(other.as_bytes()).is_none(), "{other}");
            assert!(super::lookup(other.as_bytes()).is_none(), "{other}");
        }
    }
}
