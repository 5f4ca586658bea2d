//! `s6-supervise`: see [`merit_programs::cmd::s6_supervise`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_supervise::main);
