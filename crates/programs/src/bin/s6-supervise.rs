//! `s6-supervise`: see [`merit_programs::cmd::s6_supervise`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_supervise::main);
