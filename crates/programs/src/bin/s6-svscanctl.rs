//! `s6-svscanctl`: see [`merit_programs::cmd::s6_svscanctl`].

fn main() {
    merit_programs::cmd::s6_svscanctl::main()
}
