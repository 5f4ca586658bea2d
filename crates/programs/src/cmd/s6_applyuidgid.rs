//! `s6-applyuidgid [ -z ] [ -u uid ] [ -g gid ] [ -G gidlist ] [ -U ] prog...`: drops
//! privileges, then execs `prog` (as s6's program of that name). `-U` takes UID, GID and
//! GIDLIST from the environment; `-z` unexports them. Exit 100 on usage, 111 on failure.

use crate::getopt::{Getopt, Opt};
use crate::msg;

const PROG: &str = "s6-applyuidgid";
const USAGE: &str = "s6-applyuidgid [ -z ] [ -u uid ] [ -g gid ] [ -G gidlist ] [ -U ] prog...";

fn num(b: &[u8]) -> u32 {
    msg::parse_uint(b).unwrap_or_else(|| msg::die_usage(PROG, USAGE))
}

fn list(b: &[u8]) -> Vec<u32> {
    if b.is_empty() {
        return Vec::new();
    }
    b.split(|&c| c == b',').map(num).collect()
}

pub fn main() {
    let args = msg::args();
    let mut opts = Getopt::new(&args, b"zu:g:G:U");
    let (mut uid, mut gid, mut groups): (Option<u32>, Option<u32>, Option<Vec<u32>>) = (None, None, None);
    let mut unexport = false;
    for o in opts.by_ref() {
        match o {
            Opt::Letter(b'u', Some(v)) => uid = Some(num(v)),
            Opt::Letter(b'g', Some(v)) => gid = Some(num(v)),
            Opt::Letter(b'G', Some(v)) => groups = Some(list(v)),
            Opt::Letter(b'z', _) => unexport = true,
            Opt::Letter(b'U', _) => {
                let env = |k: &str| std::env::var(k).ok();
                uid = env("UID").map(|v| num(v.as_bytes())).or(uid);
                gid = env("GID").map(|v| num(v.as_bytes())).or(gid);
                groups = env("GIDLIST").map(|v| list(v.as_bytes())).or(groups);
            }
            _ => msg::die_usage(PROG, USAGE),
        }
    }
    let rest = opts.rest();
    if rest.is_empty() {
        msg::die_usage(PROG, USAGE);
    }
    if unexport {
        for k in ["UID", "GID", "GIDLIST"] {
            std::env::remove_var(k);
        }
    }
    let g = gid.unwrap_or_else(merit_sys::getegid);
    let u = uid.unwrap_or_else(merit_sys::geteuid);
    let grs = groups.unwrap_or_else(|| if gid.is_some() { vec![g] } else { Vec::new() });
    if uid.is_some() || gid.is_some() || !grs.is_empty() {
        if let Err(e) = merit_sys::system::set_credentials(u, g, &grs) {
            msg::die(PROG, 111, &[b"unable to set credentials: ", &msg::strerror(&e)]);
        }
    }
    let argv: Vec<std::ffi::CString> =
        rest.iter().map(|a| std::ffi::CString::new(a.clone()).unwrap_or_default()).collect();
    let prog = String::from_utf8_lossy(&rest[0]).into_owned();
    let e = merit_sys::process::execvp(&prog, &argv);
    msg::die(PROG, 111, &[b"unable to exec ", &rest[0], b": ", &msg::strerror(&e)]);
}
