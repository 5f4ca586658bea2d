//! `s6-svc`: see [`merit_programs::cmd::s6_svc`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::s6_svc::main);
