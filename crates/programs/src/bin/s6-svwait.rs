//! `s6-svwait`: see [`merit_programs::cmd::s6_svwait`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_svwait::main);
