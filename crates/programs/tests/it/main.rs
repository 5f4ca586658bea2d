//! merit's integration tests: one test crate (one binary to build and link), a module per
//! program or subject, sharing one harness.
//!
//! - [`common`]: temp folders, our and the real s6 binaries, daemons stopped by PID, polling
//!   with deadlines, `both!` (a case over ours and over the real s6), `cannot_run` (skip, or
//!   fail under CI=true), `can_unshare`, the random generator, the suite's report rows.
//! - [`service_common`]: a Mere-like tree under a root prefix for the `service_*` modules.
//! - [`initns`]: booting our init as PID 1 of a PID + mount namespace for the `init*` modules.
//!
//! Run one module with a filter: `cargo test -p merit-programs --test it -- supervise::`.

#[macro_use]
mod common;
mod initns;
mod service_common;

mod beyond;
mod boot_order;
mod client_tools;
mod faults;
mod fuzz_programs;
mod init;
mod init_container;
mod init_faults;
mod init_install;
mod init_podman;
mod init_qemu;
mod log;
mod log_loss;
mod multicall;
mod package;
mod privilege;
mod service;
mod service_commands;
mod service_deps;
mod service_docs;
mod service_input;
mod service_race;
mod service_trust;
mod supervise;
mod svscan;
mod svstat;
mod svstat_live;
mod tai64n;
