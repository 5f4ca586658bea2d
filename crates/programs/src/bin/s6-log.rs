//! `s6-log`: see [`merit_programs::cmd::s6_log`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_log::main);
