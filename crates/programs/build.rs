//! Generates the man page service(8) and the bash, zsh and fish completions of `service` into
//! OUT_DIR, from the table in merit-core (`crates/core/src/service_doc.rs`, included here as
//! it is in `merit_core::service::doc`). `service --generate man|bash|zsh|fish` prints them.

use std::path::PathBuf;

#[allow(dead_code)]
mod doc {
    include!("../core/src/service_doc.rs");
}

fn main() {
    println!("cargo:rerun-if-changed=../core/src/service_doc.rs");
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let files = [
        ("service.8", doc::man_page(&version)),
        ("service.bash", doc::bash_completion()),
        ("_service", doc::zsh_completion()),
        ("service.fish", doc::fish_completion()),
    ];
    for (name, text) in files {
        std::fs::write(out.join(name), text).unwrap_or_else(|e| panic!("writing {name} into OUT_DIR: {e}"));
    }
}
