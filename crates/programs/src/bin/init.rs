//! `init`: see [`merit_programs::cmd::init`].

fn main() {
    merit_programs::cmd::init::main()
}
