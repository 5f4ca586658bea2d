//! `s6-svstat`: see [`merit_programs::cmd::s6_svstat`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_svstat::main);
