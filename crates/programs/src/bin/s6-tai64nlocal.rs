//! `s6-tai64nlocal`: see [`merit_programs::cmd::s6_tai64nlocal`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_tai64nlocal::main);
