//! `s6-svok`: see [`merit_programs::cmd::s6_svok`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_svok::main);
