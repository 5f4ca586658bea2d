//! `s6-svc`: see [`merit_programs::cmd::s6_svc`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_svc::main);
