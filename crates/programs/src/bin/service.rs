//! `service`: see [`merit_programs::cmd::service`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::service::main);
