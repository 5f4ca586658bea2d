//! `s6-tai64nlocal`: see [`merit_programs::cmd::s6_tai64nlocal`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::s6_tai64nlocal::main);
