//! `s6-svscanctl [ -zabhitqnN ] svscandir`: writes control letters into
//! `DIR/.s6-svscan/control` (control.md §5). Exit codes as `s6-svc` without `-w`.

use crate::getopt::{Getopt, Opt};
use crate::msg;
use crate::svdir::{write_control, Wording, SVSCAN};

const PROG: &str = "s6-svscanctl";
const USAGE: &str = "s6-svscanctl [ -zabhitqnN ] svscandir";
/// s6-svscanctl's buffer: at most this many letters.
const MAX_LETTERS: usize = 64;

pub fn main() {
    let args = msg::args();
    // The getopt string of 2.11.3.2 also accepts p r s 0 6 7 8, which then lead to usage.
    let mut opts = Getopt::new(&args, b"zabhitqnNprs0678");
    let mut letters = Vec::with_capacity(MAX_LETTERS);
    for o in opts.by_ref() {
        match o {
            Opt::Letter(c, _) if b"zabhitqnN".contains(&c) => {
                if letters.len() >= MAX_LETTERS {
                    msg::die(PROG, 100, &[b"too many commands"]);
                }
                letters.push(c);
            }
            _ => msg::die_usage(PROG, USAGE),
        }
    }
    let Some(dir) = opts.rest().first() else { msg::die_usage(PROG, USAGE) };
    if let Err(e) = write_control(msg::bytes_path(dir), SVSCAN, &letters) {
        e.to_fatal(dir, SVSCAN, Wording::Svscanctl).die(PROG);
    }
}
