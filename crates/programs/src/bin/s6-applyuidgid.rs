//! `s6-applyuidgid`: see [`merit_programs::cmd::s6_applyuidgid`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_applyuidgid::main);
