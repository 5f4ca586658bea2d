//! `s6-svscanctl`: see [`merit_programs::cmd::s6_svscanctl`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_svscanctl::main);
