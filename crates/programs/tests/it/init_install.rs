//! The install step (`scripts/install --destdir DIR`, also `make install DESTDIR=DIR`): the
//! static binaries of dist/bin land in DIR/sbin, init's aliases are symlinks to it, /etc/s6 is
//! laid out, service(8) and its completions are installed; local configuration survives a
//! reinstall; and the installed tree boots (its own init as PID 1 of a PID namespace).

use crate::common::*;
use crate::initns::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// dist/bin, made by scripts/build (scripts/test runs it before cargo test).
fn dist() -> Option<PathBuf> {
    let d = workspace().join("dist/bin");
    if d.join("init").is_file() {
        return Some(d);
    }
    cannot_run("the install test", "dist/bin/init is missing: run scripts/build");
    None
}

fn is_static_elf(p: &Path) -> bool {
    let b = std::fs::read(p).unwrap();
    assert_eq!(&b[..4], b"\x7fELF", "{}", p.display());
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    (0..u16_at(56)).all(|i| {
        let o = phoff + i * u16_at(54);
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) != 3 // PT_INTERP
    })
}

fn install(dest: &Path) -> std::process::Output {
    let out = std::process::Command::new(workspace().join("scripts/install"))
        .arg("--destdir")
        .arg(dest)
        .env_remove("DESTDIR")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "scripts/install: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn install_lays_out_a_bootable_root() {
    let Some(dist) = dist() else { return };
    let t = TempDir::new("install");
    let dest = t.join("root");
    install(&dest);
    let sbin = dest.join("sbin");

    // Every program of dist/bin, static; the aliases point at init.
    for e in std::fs::read_dir(&dist).unwrap().flatten() {
        let p = sbin.join(e.file_name());
        assert!(p.is_file(), "{} not installed", p.display());
        assert!(is_static_elf(&p), "{} is not static", p.display());
        assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(e.path()).unwrap());
    }
    for prog in ["init", "service", "s6-svscan", "s6-supervise", "s6-log"] {
        assert!(sbin.join(prog).is_file(), "sbin/{prog}");
    }
    for alias in ["telinit", "halt", "poweroff", "reboot"] {
        assert_eq!(std::fs::read_link(sbin.join(alias)).unwrap(), Path::new("init"), "sbin/{alias}");
    }
    // The alias dispatches on its name.
    let out = std::process::Command::new(sbin.join("telinit")).arg("5").output().unwrap();
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned()),
        (Some(1), "Unsupported signal: 5\n".into())
    );

    // /etc/s6 as `init skeleton` lays it out.
    let etc = dest.join("etc/s6");
    for f in [
        "rc.init",
        "rc.shutdown",
        "init-services/.s6-svscan/finish",
        "init-services/.s6-svscan/crash",
        "init-services/s6-svscan-log/run",
    ] {
        assert!(etc.join(f).is_file(), "etc/s6/{f}");
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(etc.join("init-services/s6-svscan-log/fifo")).unwrap().file_type().is_fifo());
    assert!(etc.join("services/available").is_dir() && etc.join("services/enabled").is_dir());

    // service(8) and its completions (service --generate).
    if std::process::Command::new(sbin.join("service")).args(["--generate", "man"]).output().unwrap().status.success() {
        let man = std::fs::read_to_string(dest.join("usr/share/man/man8/service.8")).unwrap();
        assert!(man.starts_with(".TH SERVICE 8"), "{}", &man[..man.len().min(80)]);
        for f in [
            "bash-completion/completions/service",
            "zsh/vendor-completions/_service",
            "fish/vendor_completions.d/service.fish",
        ] {
            assert!(std::fs::metadata(dest.join("usr/share").join(f)).unwrap().len() > 0, "{f}");
        }
    }

    // A reinstall keeps local configuration and service definitions.
    std::fs::write(etc.join("rc.shutdown"), "#!/bin/sh\n# local\n").unwrap();
    std::fs::write(etc.join("env/TZ"), "Europe/Paris\n").unwrap();
    service(&dest, "hello", "exec sleep 100000");
    install(&dest);
    assert_eq!(std::fs::read_to_string(etc.join("rc.shutdown")).unwrap(), "#!/bin/sh\n# local\n");
    assert_eq!(std::fs::read_to_string(etc.join("env/TZ")).unwrap(), "Europe/Paris\n");
    assert!(etc.join("services/available/hello/run").is_file());

    // The installed tree boots with its own init, and its telinit stops it.
    if !can_unshare("booting init in a PID namespace") {
        return;
    }
    let init = sbin.join("init");
    let mut b = boot(&dest, Boot { init: Some(&init), ..Boot::default() });
    b.wait_up(&["hello", "s6-svscan-log"]);
    let out = b.nsenter(&[sbin.join("telinit").to_str().unwrap(), "0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let st = b.wait_end(Duration::from_secs(30)).expect("the installed init did not end after telinit 0");
    assert_halted(&st, &b.console_text());
    assert!(processes_under(&dest).is_empty(), "processes left: {:?}", processes_under(&dest));
}

/// `make install DESTDIR=...` goes through the same script.
#[test]
fn make_install_uses_destdir() {
    let Some(_) = dist() else { return };
    if std::process::Command::new("make").arg("--version").output().is_err() {
        eprintln!("SKIP: make not installed");
        return;
    }
    let t = TempDir::new("make-install");
    let out = std::process::Command::new("make")
        .arg("-C")
        .arg(workspace())
        .arg("install")
        .arg(format!("DESTDIR={}", t.join("r").display()))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "make install: {}", String::from_utf8_lossy(&out.stderr));
    assert!(t.join("r/sbin/init").is_file() && t.join("r/etc/s6/rc.init").is_file());
    assert_eq!(std::fs::read_link(t.join("r/sbin/poweroff")).unwrap(), Path::new("init"));
}
