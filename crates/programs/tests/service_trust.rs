//! `service` as root on a tree it does not own: copies into the scan directory do not keep
//! set-user-ID bits root did not give, and the lock is never reached through a symbolic link
//! nor taken when it is not a regular file.

mod common;
mod service_common;

use common::*;
use service_common::*;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// Root is needed (to own files as someone else); under CI it must be there.
fn root_or_skip(what: &str) -> bool {
    if merit_sys::geteuid() == 0 {
        return true;
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "{what} needs root under CI");
    eprintln!("SKIP: {what} needs root");
    false
}

/// The per-service lock is never opened through a symbolic link (root would create or lock the
/// target), nor when it is not a regular file (a FIFO would block).
#[test]
fn lock_is_a_regular_file_reached_without_links() {
    let t = Tree::new("svc-lock");
    t.add("a", Spec::default());
    let lock = t.scan().join(".service-a.lock");
    let victim = t.root().join("victim");
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let r = t.service(&["a", "enable"]);
    let want = |why: &str| format!("service: unable to lock {}: {why}\n", lock.display());
    assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", want("a symbolic link, not a lock file").as_str(), 1));
    assert!(std::fs::symlink_metadata(&victim).is_err(), "the link's target was created");
    assert!(std::fs::symlink_metadata(t.link("a")).is_err(), "enabled although the lock was refused");

    std::fs::remove_file(&lock).unwrap();
    merit_sys::mkfifo(&lock, 0o600).unwrap();
    let mut child = t
        .service_cmd(&["a", "enable"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let exited = wait_until(Duration::from_secs(10), || matches!(child.try_wait(), Ok(Some(_))));
    if !exited {
        let _ = child.kill(); // our own child, by its pid
    }
    let r = Run::from(child.wait_with_output().unwrap());
    assert!(exited, "service blocked opening a FIFO as its lock");
    assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", want("not a regular file").as_str(), 1));
}

/// Root copying a definition it does not own into the scan directory: the set-user-ID and
/// set-group-ID bits of files (and directories) owned by someone else are not kept; those of
/// root's own files are.
#[test]
fn copies_do_not_keep_setuid_bits_root_did_not_give() {
    if !root_or_skip("copying files owned by another user") {
        return;
    }
    let mut t = Tree::new("svc-suid");
    t.add("s", Spec::default());
    let d = t.def("s");
    let nobody = Some(65534);
    let file = |name: &str, owner: Option<u32>, mode: u32| {
        let p = d.join(name);
        std::fs::write(&p, format!("{name}\n")).unwrap();
        merit_sys::chown(&p, owner, owner).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    std::fs::create_dir(d.join("dir")).unwrap();
    file("suid", nobody, 0o4755);
    file("sgid", nobody, 0o2755);
    file("dir/inner", nobody, 0o6750);
    file("mine", Some(0), 0o4755);
    merit_sys::chown(&d.join("dir"), nobody, nobody).unwrap();
    std::fs::set_permissions(d.join("dir"), std::fs::Permissions::from_mode(0o2775)).unwrap();
    merit_sys::chown(&d, nobody, nobody).unwrap();
    t.boot(Impl::Ours, &[]);
    t.service(&["s", "start"]).ok("Starting s... OK\n");
    let mode = |name: &str| std::fs::symlink_metadata(t.svc("s").join(name)).unwrap().permissions().mode() & 0o7777;
    for (name, want) in [("suid", 0o755), ("sgid", 0o755), ("dir/inner", 0o750), ("dir", 0o775), ("mine", 0o4755), ("run", 0o755)] {
        assert_eq!(mode(name), want, "{name}: {:o}", mode(name));
        if name != "dir" {
            assert_eq!(std::fs::read(t.svc("s").join(name)).unwrap(), std::fs::read(d.join(name)).unwrap(), "{name}");
        }
    }
    t.shutdown();
}
