//! `s6-svc`: see [`merit_programs::cmd::s6_svc`].

fn main() {
    merit_programs::cmd::s6_svc::main()
}
