//! `s6-svwait`: see [`merit_programs::cmd::s6_svwait`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_svwait::main);
