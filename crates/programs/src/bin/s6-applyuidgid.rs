//! `s6-applyuidgid`: see [`merit_programs::cmd::s6_applyuidgid`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_applyuidgid::main);
