//! `s6-supervise`: see [`merit_programs::cmd::s6_supervise`].

fn main() {
    merit_programs::cmd::s6_supervise::main()
}
