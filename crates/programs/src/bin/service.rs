//! `service`: see [`merit_programs::cmd::service`].

fn main() {
    merit_programs::cmd::service::main()
}
