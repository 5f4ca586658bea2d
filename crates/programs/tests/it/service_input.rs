//! `service`: bad input and unusable trees. Refused names and usage errors exit 2 before any
//! file is touched; unknown services, unsupervised services, a missing scan directory or
//! scanner, a read-only tree and insufficient permissions give a clear message and the
//! documented exit code, and leave the tree as it was (compared entry by entry).

use crate::common::*;
use crate::service_common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A tree with `up1` (supervised, up, enabled, logged), `idle` (available only) and `norun` (a
/// directory without run), under a running scanner.
fn tree(tag: &str) -> Tree {
    let mut t = Tree::new(tag);
    t.add("up1", Spec { logger: true, ..Default::default() });
    t.add("idle", Spec::default());
    std::fs::create_dir_all(t.def("norun")).unwrap();
    std::fs::create_dir_all(t.def("noexec")).unwrap();
    std::fs::write(t.def("noexec/run"), "#!/bin/sh\n").unwrap();
    t.install("up1");
    t.enable("up1");
    t.boot(Impl::Ours, &["up1"]);
    // The logger has set up its directory: nothing changes on disk from now on by itself.
    let ld = t.logdir("up1");
    assert!(wait_until(PROMPT, || ld.join("current").exists() && ld.join("state").exists()));
    t
}

/// The snapshot without our lock files (which may be created by commands that get that far).
fn snapshot(t: &Tree) -> Vec<String> {
    t.snapshot().into_iter().filter(|l| !l.contains("/.service-")).collect()
}

#[test]
fn refused_names_exit_2_and_touch_nothing() {
    let t = tree("svc-names");
    let before = t.snapshot();
    let bad = ["", ".", "..", "a/b", "../up1", "/etc", ".hidden", ".up1", "a\nb", "a\tb", "x\x7f", "\x1b[31m", "a\rb"];
    for name in bad {
        for cmd in named_commands() {
            for args in [[cmd, name], [name, cmd]] {
                let r = t.service(&args);
                assert_eq!(r.code, 2, "{args:?}: {r:?}");
                assert_eq!(r.out, "", "{args:?}");
                assert!(r.err.starts_with("service: invalid service name "), "{args:?}: {}", r.err);
                assert!(r.err.contains("usage: service"), "usage follows: {}", r.err);
            }
        }
    }
    // Not a single file created, not even a lock.
    assert_eq!(t.snapshot(), before);
}

#[test]
fn usage_errors_exit_2() {
    let t = tree("svc-usage");
    let before = t.snapshot();
    let cases: [(&[&str], &str); 12] = [
        (&[], "usage: service"),
        (&["frob", "up1"], "service: unknown command: neither \"frob\" nor \"up1\" is a command\n"),
        (&["up1"], "service: unknown command: up1\n"),
        (&["start"], "service: start needs a service name\n"),
        (&["up1", "frob"], "service: unknown command: neither \"up1\" nor \"frob\" is a command\n"),
        (&["start", "up1", "extra"], "service: too many arguments\n"),
        (&["list", "extra"], "service: too many arguments\n"),
        (&["--frob", "list"], "service: unknown option: --frob\n"),
        (&["list", "--timeout"], "service: --timeout needs a value\n"),
        (&["--timeout", "soon", "up1", "start"], "service: invalid --timeout: soon\n"),
        (&["--json=yes", "list"], "service: --json takes no value\n"),
        (&["--generate", "pdf"], "service: --generate takes man, bash, zsh or fish"),
    ];
    for (args, msg) in cases {
        let r = t.service(args);
        assert_eq!((r.code, r.out.as_str()), (2, ""), "{args:?}: {r:?}");
        assert!(r.err.starts_with(msg), "{args:?}: {}", r.err);
        assert!(r.err.contains("usage: service [OPTIONS] COMMAND [NAME]"), "{args:?}: {}", r.err);
    }
    let r = t.service(&["up1", "logs", "-x"]);
    assert_eq!(r.code, 2, "{r:?}");
    for h in ["-h", "--help"] {
        let r = t.service(&[h]);
        assert_eq!(r.code, 0);
        assert!(r.out.starts_with("usage: service") && r.err.is_empty());
    }
    assert_eq!(t.snapshot(), before);
}

/// LSB: an unknown service is "status unknown" (4) for status, "not installed" (5) for actions.
#[test]
fn not_available_exits_4_or_5() {
    let t = tree("svc-unavail");
    let before = t.snapshot();
    for name in ["nosuch", "norun", "noexec", "-x"] {
        for cmd in named_commands() {
            for args in [[cmd, name], [name, cmd]] {
                let r = t.service(&args);
                assert_eq!(
                    (r.out.as_str(), r.err.as_str(), r.code),
                    ("", format!("{name} is not an available service\n").as_str(), if cmd == "status" { 4 } else { 5 }),
                    "{args:?}"
                );
            }
        }
    }
    assert_eq!(t.snapshot(), before);
}

#[test]
fn not_supervised() {
    let t = tree("svc-unsup");
    let before = snapshot(&t);
    // LSB: stopping a service that is not running succeeds; reloading it is "not running" (7);
    // its status is "not running" (3). (restart starts it: service_commands.)
    for args in [["stop", "idle"], ["idle", "stop"]] {
        let r = t.service(&args);
        assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("Stopping idle... OK\n", "", 0), "{args:?}");
    }
    for args in [["reload", "idle"], ["idle", "reload"]] {
        let r = t.service(&args);
        assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", "idle is not a supervised service\n", 7), "{args:?}");
    }
    for args in [["status", "idle"], ["idle", "status"]] {
        let r = t.service(&args);
        assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", "idle is not a supervised service\n", 3), "{args:?}");
    }
    // A copy without a supervisor is not supervised either.
    t.install("idle");
    std::fs::rename(t.svc("idle"), t.scan().join(".idle-parked")).unwrap();
    assert_eq!(snapshot(&t).len(), before.len() + 2);
    assert_eq!(t.service(&["idle", "status"]).code, 3);
}

#[test]
fn no_scan_directory_or_no_scanner() {
    let mut t = Tree::new("svc-noscan");
    t.add("idle", Spec::default());
    std::fs::remove_dir(t.scan()).unwrap();
    let before = t.snapshot();
    let r = t.service(&["idle", "start"]);
    assert_eq!((r.out.as_str(), r.code), ("Starting idle... FAIL\n", 1));
    assert_eq!(r.err, format!("service: the scan directory {} does not exist\n", t.scan().display()));
    let r = t.service(&["idle", "resup"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("does not exist"), "{}", r.err);
    let r = t.service(&["list"]);
    assert_eq!(r.code, 0);
    assert!(r.out.contains("idle               unknown             disabled"));
    assert_eq!(t.service(&["idle", "unsup"]).code, 0, "nothing to unsupervise");
    assert_eq!(t.snapshot(), before, "nothing created");

    // A scan directory without a scanner (also with the FIFO of a dead one): no copy made.
    std::fs::create_dir_all(t.scan()).unwrap();
    for dead_fifo in [false, true] {
        if dead_fifo {
            std::fs::create_dir_all(t.scan().join(".s6-svscan")).unwrap();
            merit_sys::mkfifo(&t.scan().join(".s6-svscan/control"), 0o600).unwrap();
        }
        let before = snapshot(&t);
        let r = t.service(&["start", "idle"]);
        assert_eq!((r.out.as_str(), r.code), ("Starting idle... FAIL\n", 1));
        assert_eq!(r.err, format!("service: no s6-svscan is running on {}\n", t.scan().display()));
        assert_eq!(snapshot(&t), before, "no copy without a scanner");
    }
    // An unavailable available directory: list says so, exit 1.
    std::fs::remove_dir_all(t.dir.join(AVAILABLE)).unwrap();
    let r = t.service(&["list"]);
    assert_eq!(r.code, 1);
    assert!(
        r.err.contains(&t.dir.join(AVAILABLE).display().to_string()) && r.err.contains("No such file"),
        "{}",
        r.err
    );
    t.shutdown();
}

/// Runs `service --root ROOT ARGS` in a new mount namespace where ROOT is a read-only bind
/// mount. `None` when mount namespaces are not available here.
fn service_read_only(t: &Tree, args: &[&str]) -> Option<Run> {
    let root = t.root().to_str().unwrap();
    let script = "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" || exit 97; shift; exec \"$@\"";
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", root])
        .arg(ours("service"))
        .args(["--root", root])
        .args(args)
        .env_remove("MERIT_ROOT")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if o.status.code() == Some(97)
        || (o.status.code() == Some(1)
            && o.stdout.is_empty()
            && String::from_utf8_lossy(&o.stderr).starts_with("unshare:"))
    {
        return None;
    }
    Some(Run::from(o))
}

#[test]
fn read_only_tree_changes_nothing() {
    let t = tree("svc-ro");
    let Some(probe) = service_read_only(&t, &["list"]) else {
        eprintln!("SKIP: cannot make a read-only bind mount in a new mount namespace here (unshare --mount)");
        return;
    };
    assert_eq!(probe.code, 0, "{probe:?}");
    let pid = t.pid("up1").unwrap();
    let before = t.snapshot();
    let erofs = "Read-only file system";
    let link = |n: &str| t.link(n).display().to_string();
    let scan = t.scan().display().to_string();
    let cases: Vec<(Vec<&str>, &str, String)> = vec![
        (vec!["idle", "enable"], "Enabling idle to launch at boot... FAIL\n", link("idle")),
        (vec!["disable", "up1"], "Disabling up1 from launching at boot... FAIL\n", link("up1")),
        (vec!["idle", "start"], "Starting idle... FAIL\n", scan.clone()),
        (vec!["up1", "resup"], "Restarting supervision of up1... FAIL\n", scan.clone()),
        (vec!["unsup", "up1"], "Stopping up1 and unsupervising... FAIL\n", scan.clone()),
    ];
    for (args, out, path) in cases {
        let r = service_read_only(&t, &args).unwrap();
        assert_eq!((r.out.as_str(), r.code), (out, 1), "{args:?}: {}", r.err);
        assert!(
            r.err.starts_with("service: unable to ") && r.err.contains(&format!("{path}: {erofs}")),
            "{args:?}: {}",
            r.err
        );
        assert_eq!(t.snapshot(), before, "{args:?} changed the tree");
    }
    // Reading works; the service was never touched.
    let r = service_read_only(&t, &["up1", "status"]).unwrap();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.starts_with(&format!("up (pid {pid}) ")));
    assert_eq!(service_read_only(&t, &["--json", "list"]).unwrap().code, 0);
    assert_eq!(t.pid("up1"), Some(pid));
    assert_eq!(t.snapshot(), before);
}

/// A copy of our `service` that any user can run (the build tree may be private).
fn public_service(t: &Tree) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = t.root().join("bin/service");
    std::fs::copy(ours("service"), &p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn service_as_nobody(bin: &Path, root: &Path, args: &[&str]) -> Run {
    let o = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin)
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("MERIT_ROOT")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run::from(o)
}

#[test]
fn permission_denied_exits_4() {
    if merit_sys::geteuid() != 0 || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("SKIP: needs root and setpriv to run service as another user");
        return;
    }
    let t = tree("svc-perm");
    let bin = public_service(&t);
    let pid = t.pid("up1").unwrap();
    let before = t.snapshot();
    for args in [
        ["idle", "enable"],
        ["up1", "disable"],
        ["idle", "start"],
        ["up1", "stop"],
        ["unsup", "up1"],
        ["up1", "reload"],
    ] {
        let r = service_as_nobody(&bin, t.root(), &args);
        assert_eq!((r.out.as_str(), r.code), ("", 4), "{args:?}: {}", r.err);
        let lock = t.scan().join(format!(".service-{}.lock", if args[0] == "unsup" { args[1] } else { args[0] }));
        assert_eq!(r.err, format!("service: unable to lock {}: Permission denied\n", lock.display()), "{args:?}");
        assert_eq!(t.snapshot(), before, "{args:?} changed the tree");
    }
    // Reading the status needs permission too: say so (as s6-svstat does), exit 4, instead of
    // calling the service unsupervised or unknown.
    let lock = t.svc("up1").join("supervise/lock");
    let denied = format!("service: unable to open {}: Permission denied\n", lock.display());
    for args in [["up1", "status"], ["status", "up1"]] {
        let r = service_as_nobody(&bin, t.root(), &args);
        assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", denied.as_str(), 4), "{args:?}");
    }
    let r = service_as_nobody(&bin, t.root(), &["--json", "status", "up1"]);
    assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", denied.as_str(), 4));
    for json in [false, true] {
        let args: &[&str] = if json { &["--json", "list"] } else { &["list"] };
        let r = service_as_nobody(&bin, t.root(), args);
        assert_eq!((r.err.as_str(), r.code), (denied.as_str(), 4), "{args:?}: {}", r.out);
        assert!(r.out.contains("up1"), "the table is still printed: {}", r.out);
    }
    assert_eq!(t.pid("up1"), Some(pid));
}
