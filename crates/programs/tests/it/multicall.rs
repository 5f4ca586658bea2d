//! The multi-call binary `merit`: it runs the program its `argv[0]`'s basename names, lists the
//! programs otherwise (exit 100), and a program started through it runs its siblings through it
//! too (s6-svscan -> s6-supervise), whether or not a link of that name lies beside it.

use crate::common::*;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const PROGRAMS: [&str; 13] = [
    "init",
    "s6-applyuidgid",
    "s6-log",
    "s6-supervise",
    "s6-svc",
    "s6-svok",
    "s6-svscan",
    "s6-svscanctl",
    "s6-svstat",
    "s6-svwait",
    "s6-tai64n",
    "s6-tai64nlocal",
    "service",
];

fn merit() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_merit"))
}

#[test]
fn another_name_lists_the_programs() {
    for name in ["merit", "/usr/sbin/merit", "nosuch", "s6-svscan.old", ""] {
        let out = command(merit()).arg0(name).stdin(Stdio::null()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(100), "argv[0] {name:?}: {err}");
        assert!(out.stdout.is_empty(), "argv[0] {name:?}");
        for p in PROGRAMS {
            assert!(
                err.contains(&format!("\n  {p}\n")) || err.contains(&format!("\n  {p} (")),
                "argv[0] {name:?}: {p} not listed in {err}"
            );
        }
        assert!(err.contains("telinit, halt, poweroff, reboot"), "{err}");
    }
}

#[test]
fn argv0_basename_picks_the_program() {
    // init's aliases, by any path.
    let out = command(merit()).arg0("/no/such/dir/telinit").arg("5").stdin(Stdio::null()).output().unwrap();
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned()),
        (Some(1), "Unsupported signal: 5\n".into())
    );
    // The same diagnostics as the program's own binary.
    for (name, args) in [("s6-svok", &[][..]), ("s6-svc", &["-Z"][..]), ("s6-svstat", &[][..])] {
        let via = command(merit()).arg0(name).args(args).stdin(Stdio::null()).output().unwrap();
        let own = command(ours(name)).args(args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(
            (via.status.code(), &via.stdout, &via.stderr),
            (own.status.code(), &own.stdout, &own.stderr),
            "{name} {args:?}"
        );
    }
    // A filter, through a link: s6-tai64n stamps its input.
    let t = TempDir::new("multicall-tai");
    std::os::unix::fs::symlink(merit(), t.join("s6-tai64n")).unwrap();
    let out = std::process::Command::new("sh")
        .args(["-c", "printf 'hello\\n' | \"$0\"", t.join("s6-tai64n").to_str().unwrap()])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && s.starts_with('@') && s.ends_with(" hello\n") && s.len() == 25 + 1 + 6, "{s:?}");
}

fn supervisor_of(svc: &Path) -> Option<i32> {
    let svc = svc.canonicalize().ok()?;
    processes_under(&svc).into_iter().find(|pid| {
        std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c == svc)
            && std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with("s6-supervise\0"))
    })
}

/// s6-svscan as a link to a copy of merit: with no `s6-supervise` beside it, it runs merit itself
/// as `s6-supervise`; with the link, the link (same file either way).
#[test]
fn svscan_through_merit_runs_supervise_through_merit() {
    for with_link in [false, true] {
        let t = TempDir::new("multicall");
        let bin = t.join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::copy(merit(), bin.join("merit")).unwrap();
        std::os::unix::fs::symlink("merit", bin.join("s6-svscan")).unwrap();
        if with_link {
            std::os::unix::fs::symlink("merit", bin.join("s6-supervise")).unwrap();
        }
        let scan = t.join("scan");
        make_service(&scan.join("a"), "exec sleep 100000");
        let mut cmd = command(bin.join("s6-svscan"));
        cmd.arg(&scan).current_dir(t.path()).stdout(Stdio::null()).stderr(Stdio::null());
        let mut d = Daemon::spawn(cmd);
        assert!(
            wait_until(PROMPT, || status(&scan.join("a")).is_some_and(|s| s.pid != 0)),
            "service a never up (link: {with_link})"
        );
        let sup = supervisor_of(&scan.join("a")).expect("no s6-supervise for a");
        let exe = std::fs::read_link(format!("/proc/{sup}/exe")).unwrap();
        assert_eq!(exe, bin.join("merit").canonicalize().unwrap(), "link: {with_link}");
        let out = run(ours("s6-svscanctl"), &["-t", scan.to_str().unwrap()], t.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(d.wait_timeout(PROMPT).is_some_and(|s| s.success()), "s6-svscan did not exit 0 after -t");
    }
}
