//! merit-core: the pure logic of merit, deterministic and free of I/O (and of `unsafe`: it is
//! forbidden here). What a program decides lives here, unit-tested; what it does to the system
//! lives in `merit-sys`; the programs in `merit-programs` join the two. Comments cite the s6
//! format specification by file and section (`status-file.md §2`): it is in `docs/s6-spec/`.
//!
//! - s6 2.11.3.2's on-disk formats: TAI64N labels ([`tai`]), `supervise/status` and
//!   `death_tally` ([`status`]).
//! - A service directory: its small configuration files ([`config`]) and the supervisor's
//!   state machine, a table of states by inputs ([`supervisor`]).
//! - The scanner's decisions: which directories are new or gone, who is due to be spawned,
//!   what a death means, the commands signals and control letters turn into ([`scan`]).
//! - Service dependencies in s6-rc's source format: the graph, cycles, orders, layers
//!   ([`deps`]).
//! - Signals by name and the scanner's signal lists ([`signals`]).
//! - `s6-svstat`'s command line and output ([`svstat`]).
//! - s6-log: its script language, POSIX EREs, framing and logdir rules ([`log`]).
//! - The `service` front end: command line, names, `service list` and `--json` ([`service`]),
//!   and the one table its usage text, man page and completions are generated from.
//! - init's inputs from the booted system: users and groups ([`accounts`]), mount points
//!   ([`mountinfo`]); the `PATH` it gives what it starts ([`search_path`]).
//! - Beyond s6 (opt-in per service): sd_notify datagrams and `watchdog-timeout`
//!   ([`notify`]), restart back-off, giving up and `supervise/merit-state` ([`backoff`]).
#![forbid(unsafe_code)]

pub mod accounts;
pub mod backoff;
pub mod config;
pub mod deps;
pub mod log;
pub mod mountinfo;
pub mod notify;
pub mod scan;
pub mod search_path;
pub mod service;
pub mod signals;
pub mod status;
pub mod supervisor;
pub mod svstat;
pub mod tai;
