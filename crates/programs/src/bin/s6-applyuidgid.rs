//! `s6-applyuidgid`: see [`merit_programs::cmd::s6_applyuidgid`].

fn main() {
    merit_programs::cmd::s6_applyuidgid::main()
}
