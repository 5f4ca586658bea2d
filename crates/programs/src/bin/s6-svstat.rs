//! `s6-svstat`: see [`merit_programs::cmd::s6_svstat`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_svstat::main);
