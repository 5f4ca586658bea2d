//! The merit programs ([`cmd`], one module each) and their shared helpers.
//!
//! No `unsafe` here (forbidden): every system call goes through `merit_sys`, which also holds
//! the executables' entry point and the hot-code placement (`merit_sys::hot!`); each executable
//! in `src/bin/` is one line, `merit_sys::entry!(program)`. Comments cite the s6 format
//! specification by file and section (`control.md §3`): it is in `docs/s6-spec/`.
//!
//! * [`cmd`]: every program's `main`, and the table the multi-call binary `merit` dispatches on.
//! * [`exe`]: our own executable and the programs next to it (whether or not we run as `merit`).
//! * [`msg`]: `PROG: fatal: ...` / `warning` / `usage` diagnostics and exit helpers.
//! * [`getopt`]: command-line parsing identical to skalibs' `subgetopt_r`.
//! * [`svdir`]: client operations on a service directory (control FIFO, status file, lock
//!   probe, listening to `event/`), shared by `s6-svc`, `s6-svok`, `s6-svwait` and later
//!   `s6-svscanctl` and the `service` front end.

#![forbid(unsafe_code)]

pub mod cmd;
pub mod exe;

pub mod getopt;
pub mod lines;
pub mod msg;
pub mod skeleton;
pub mod svdir;
pub mod tree;
