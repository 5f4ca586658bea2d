//! `s6-svok`: see [`merit_programs::cmd::s6_svok`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_svok::main);
