//! `s6-tai64n`: see [`merit_programs::cmd::s6_tai64n`].

fn main() {
    merit_programs::cmd::s6_tai64n::main()
}
