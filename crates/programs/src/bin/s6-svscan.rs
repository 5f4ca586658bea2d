//! `s6-svscan`: see [`merit_programs::cmd::s6_svscan`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_svscan::main);
