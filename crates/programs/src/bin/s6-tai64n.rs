//! `s6-tai64n`: see [`merit_programs::cmd::s6_tai64n`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_tai64n::main);
