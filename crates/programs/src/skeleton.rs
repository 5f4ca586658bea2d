//! The `/etc/s6` tree that merit's `init` expects, laid out by `init skeleton DESTDIR` (used by
//! the install step and by the tests): `rc.init`, `rc.shutdown`, `env/`, `init-services/`
//! (the catch-all logger `s6-svscan-log` with its FIFO, `.s6-svscan/{finish,crash,SIG*}`),
//! `services/{available,enabled}`.
//!
//! Every script finds merit's programs on PATH (init puts its own directory first) and uses
//! paths relative to its working directory, so the same files work at `/` and under a root
//! prefix (`MERIT_ROOT`, exported by init). `init` itself is called as `$MERIT_INIT` (the path of
//! our `init`, exported by stage 1): a busybox shell built to prefer its applets would otherwise run
//! busybox's `init` for a plain `init`.

use std::io::Result;
use std::path::Path;

/// `rc.init`: copies every enabled service into the scan directory (atomically, one by one)
/// and asks the scanner to pick them up. Add local boot steps after it.
pub const RC_INIT: &str = "#!/bin/sh
# merit rc.init: run by init in the background, in its own session, with its output going to
# the catch-all logger. MERIT_ROOT is set when the system lives under a root prefix.
\"${MERIT_INIT:-init}\" copy-enabled
";

/// `rc.shutdown`: local shutdown steps. `$1` is the action (halt, poweroff, reboot, stop).
/// init itself then kills what remains, syncs, unmounts and calls reboot(2).
pub const RC_SHUTDOWN: &str = "#!/bin/sh
# merit rc.shutdown: run by init after every service and logger has stopped.
# $1 = halt | poweroff | reboot | stop (container). Add local cleanups here.
exit 0
";

/// The scanner's finish: the last stage, as PID 1.
pub const SVSCAN_FINISH: &str = "#!/bin/sh\nexec \"${MERIT_INIT:-init}\" finish\n";

/// The scanner's crash: init's fallback, as PID 1 (never exits): it reaps, keeps a shell on
/// the console when the console is a terminal, and still shuts down on request (telinit,
/// SIGTERM). A shell of our own here would end PID 1 as soon as it read EOF (no console).
pub const SVSCAN_CRASH: &str = "#!/bin/sh\nexec \"${MERIT_INIT:-init}\" crash\n";

/// Signal scripts of the scanner: which shutdown each signal requests (telinit's mapping).
/// SIGRTMIN+3 is systemd's halt, and what `podman stop` sends when the command is `/sbin/init`.
pub const SIGNAL_SCRIPTS: [(&str, &str); 6] = [
    ("SIGRTMIN+3", "halt"),
    ("SIGUSR1", "poweroff"),
    ("SIGUSR2", "halt"),
    ("SIGINT", "reboot"),
    ("SIGTERM", "term"),
    ("SIGQUIT", "term"),
];

/// The catch-all logger: reads the FIFO that init points every early output at, runs as
/// `nobody`:`nogroup` (the ids init gives `/s6/uncaught-logs`), logs into `/s6/uncaught-logs`
/// (relative: the scan directory is `/s6/run`).
pub fn catch_all_run(uid: u32, gid: u32) -> String {
    format!(
        "#!/bin/sh
exec <fifo >/dev/null
if [ -w /dev/console ]; then exec 2>/dev/console; fi
exec s6-applyuidgid -u {uid} -g {gid} -- s6-log -bp -- t ../../uncaught-logs
"
    )
}

/// The uid of `nobody` and the gid of `nogroup` in DEST/etc/passwd and DEST/etc/group (what
/// init resolves at boot), 65534 for whichever is absent.
fn nobody_ids(dest: &Path) -> (u32, u32) {
    let passwd = std::fs::read(dest.join("etc/passwd")).unwrap_or_default();
    let group = std::fs::read(dest.join("etc/group")).unwrap_or_default();
    (
        merit_core::accounts::uid(&passwd, b"nobody").unwrap_or(65534),
        merit_core::accounts::gid(&group, b"nogroup").unwrap_or(65534),
    )
}

/// Writes `p` whole, created with its final mode (under the umask 0 of [`lay_out`]) under a
/// temporary name and renamed into place: never a moment with other permission bits, never a
/// half-written script.
fn write_file(p: &Path, content: &str, mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = p.with_file_name(format!(".{name}.merit-new"));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
    f.write_all(content.as_bytes())?;
    drop(f);
    std::fs::rename(&tmp, p)
}

/// Lays out `DEST/etc/s6`. The scanner's own files (`init-services/`) are replaced; local
/// configuration that already exists (`rc.init`, `rc.shutdown`, `env/`, service definitions)
/// is kept, so that reinstalling over a system does not undo its administrator's edits.
pub fn lay_out(dest: &Path) -> Result<()> {
    // Files and the FIFO are created with exactly their modes, whatever the caller's umask.
    let umask = merit_sys::umask(0);
    let r = lay_out_files(dest);
    merit_sys::umask(umask);
    r
}

fn lay_out_files(dest: &Path) -> Result<()> {
    let etc = dest.join("etc/s6");
    let init = etc.join("init-services");
    for d in [
        etc.join("env"),
        etc.join("services/available"),
        etc.join("services/enabled"),
        init.join(".s6-svscan"),
        init.join("s6-svscan-log"),
        dest.join("s6"),
        dest.join("run"),
    ] {
        std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o755).create(d)?;
    }
    for (name, content) in [("rc.init", RC_INIT), ("rc.shutdown", RC_SHUTDOWN)] {
        if std::fs::symlink_metadata(etc.join(name)).is_err() {
            write_file(&etc.join(name), content, 0o750)?;
        }
    }
    let tz = etc.join("env/TZ");
    if !tz.exists() {
        write_file(&tz, "UTC\n", 0o644)?;
    }
    write_file(&init.join(".s6-svscan/finish"), SVSCAN_FINISH, 0o750)?;
    write_file(&init.join(".s6-svscan/crash"), SVSCAN_CRASH, 0o750)?;
    for (sig, action) in SIGNAL_SCRIPTS {
        write_file(
            &init.join(".s6-svscan").join(sig),
            &format!("#!/bin/sh\nexec \"${{MERIT_INIT:-init}}\" shutdown {action}\n"),
            0o750,
        )?;
    }
    let (uid, gid) = nobody_ids(dest);
    write_file(&init.join("s6-svscan-log/run"), &catch_all_run(uid, gid), 0o750)?;
    let fifo = init.join("s6-svscan-log/fifo");
    if std::fs::symlink_metadata(&fifo).is_err() {
        merit_sys::mkfifo(&fifo, 0o600)?;
    } else {
        // One left by an earlier layout: only its mode is put right.
        merit_sys::fs::chmod(&fifo, 0o600)?;
    }
    Ok(())
}
