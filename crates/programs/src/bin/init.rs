//! `init`: see [`merit_programs::cmd::init`].
#![no_main]
#![forbid(unsafe_code)]

merit_sys::entry!(merit_programs::cmd::init::main);
