//! The merit programs ([`cmd`], one module each) and their shared helpers.
//!
//! * [`cmd`]: every program's `main`, and the table the multi-call binary `merit` dispatches on.
//! * [`exe`]: our own executable and the programs next to it (whether or not we run as `merit`).
//! * [`msg`]: `PROG: fatal: ...` / `warning` / `usage` diagnostics and exit helpers.
//! * [`getopt`]: command-line parsing identical to skalibs' `subgetopt_r`.
//! * [`svdir`]: client operations on a service directory (control FIFO, status file, lock
//!   probe, listening to `event/`), shared by `s6-svc`, `s6-svok`, `s6-svwait` and later
//!   `s6-svscanctl` and the `service` front end.

pub mod cmd;
pub mod exe;

/// Defines the C `main` of an executable (which must be `#![no_main]`) that runs `program`
/// without the Rust runtime's start-up: see [`merit_sys::startup`].
#[macro_export]
macro_rules! entry {
    ($program:path) => {
        // Not in a test build: a test harness has its own `main`.
        #[cfg(not(test))]
        #[no_mangle]
        // Called by the C runtime alone, with its own argc and argv.
        #[allow(clippy::not_unsafe_ptr_arg_deref)]
        pub extern "C" fn main(
            argc: ::std::os::raw::c_int,
            argv: *const *const ::std::os::raw::c_char,
        ) -> ::std::os::raw::c_int {
            // SAFETY: the C runtime calls `main` with its own argc and argv.
            unsafe { ::merit_sys::startup::enter(argc, argv, $program) }
        }
    };
}
pub mod getopt;
pub mod lines;
pub mod msg;
pub mod skeleton;
pub mod svdir;
pub mod tree;
