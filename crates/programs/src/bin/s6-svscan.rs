//! `s6-svscan`: see [`merit_programs::cmd::s6_svscan`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_svscan::main);
