//! `s6-tai64nlocal`: see [`merit_programs::cmd::s6_tai64nlocal`].

fn main() {
    merit_programs::cmd::s6_tai64nlocal::main()
}
