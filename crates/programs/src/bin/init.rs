//! `init`: see [`merit_programs::cmd::init`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::init::main);
