//! `s6-tai64n`: see [`merit_programs::cmd::s6_tai64n`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_tai64n::main);
