//! `s6-svscanctl`: see [`merit_programs::cmd::s6_svscanctl`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_svscanctl::main);
