//! `s6-log`: see [`merit_programs::cmd::s6_log`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_log::main);
