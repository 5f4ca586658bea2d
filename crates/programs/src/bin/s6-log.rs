//! `s6-log`: see [`merit_programs::cmd::s6_log`].

fn main() {
    merit_programs::cmd::s6_log::main()
}
