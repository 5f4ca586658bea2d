//! `service`: see [`merit_programs::cmd::service`].
#![no_main]

merit_programs::entry!(merit_programs::cmd::service::main);
