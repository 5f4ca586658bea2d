//! `s6-svok`: see [`merit_programs::cmd::s6_svok`].

fn main() {
    merit_programs::cmd::s6_svok::main()
}
