//! `s6-svscan`: see [`merit_programs::cmd::s6_svscan`].

fn main() {
    merit_programs::cmd::s6_svscan::main()
}
