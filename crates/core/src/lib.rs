//! merit-core: the pure logic of merit.
//!
//! Everything here is deterministic and free of I/O: the s6 2.11.3.2 on-disk formats
//! ([`tai`], [`status`]), the parsing of service-directory configuration files ([`config`]),
//! signal names ([`signals`]), users and groups in
//! passwd/group files ([`accounts`]), mount points in `mountinfo` ([`mountinfo`]), `s6-svstat`'s rendering ([`svstat`]), and the supervisor's state
//! machine ([`supervisor`]). The syscalls live in `merit-sys`; the programs in `merit-programs`.

pub mod accounts;
pub mod config;
pub mod deps;
pub mod log;
pub mod mountinfo;
pub mod service;
pub mod signals;
pub mod status;
pub mod supervisor;
pub mod svstat;
pub mod tai;
