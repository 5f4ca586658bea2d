//! `s6-svstat`: see [`merit_programs::cmd::s6_svstat`].

fn main() {
    merit_programs::cmd::s6_svstat::main()
}
