//! `s6-svwait`: see [`merit_programs::cmd::s6_svwait`].

fn main() {
    merit_programs::cmd::s6_svwait::main()
}
