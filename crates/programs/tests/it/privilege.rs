//! Privilege: what an unprivileged user can do to a root-owned tree, what merit creates, and
//! what a service inherits from the scanner.
//!
//! * `unprivileged_tools_cannot_touch_root_services`: as an unprivileged uid, every control
//!   tool (ours and the real s6's, which must agree) fails with `Permission denied` on a
//!   root-owned service and its scanner, and nothing changes: the same pid, the same status
//!   bytes, the scanner still running.
//! * `nothing_created_world_writable`: with umask 0 (the most hostile), a tree with a logger,
//!   after a restart: no file or directory merit created is writable by others
//!   where others can reach it.
//! * `service_inherits_what_s6_passes`: a run script records its open descriptors, environment
//!   names, signal mask and ignored signals under our scanner and under the real s6-svscan:
//!   the same.

use crate::common::*;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

fn row(case: &str, figure: &str, limit: &str, pass: bool) {
    suite_row(&format!("privilege/{case}"), figure, limit, pass);
}

/// Runs `prog args` as the test's unprivileged uid, stdin /dev/null.
fn run_as_user(prog: &Path, args: &[&str], cwd: &Path) -> std::process::Output {
    let mut c = command(prog);
    c.args(args).current_dir(cwd).stdin(Stdio::null());
    as_user(&mut c, test_uid(), None);
    c.output().unwrap()
}

/// Our scanner on `TMP/scan`, run as root with `umask`, stderr to `TMP/err`.
fn scanner(tmp: &TempDir, umask: u32) -> Daemon {
    use std::os::unix::process::CommandExt;
    let mut c = command(ours("s6-svscan"));
    c.arg(tmp.join("scan")).current_dir(tmp.path()).stdout(Stdio::null());
    c.stderr(std::fs::File::create(tmp.join("err")).unwrap());
    c.env("PATH", format!("{}:/usr/bin:/bin", ours("").display()));
    unsafe {
        c.pre_exec(move || {
            merit_sys::umask(umask);
            Ok(())
        });
    }
    Daemon::spawn(c)
}

fn wait_up(dir: &Path) -> u64 {
    let mut pid = 0;
    let ok = wait_until(PROMPT, || {
        pid = status(dir).filter(|s| s.pid != 0 && !s.finishing).map_or(0, |s| s.pid);
        pid != 0
    });
    assert!(ok, "{} never came up", dir.display());
    pid
}

fn stop(mut d: Daemon, tmp: &TempDir) -> bool {
    d.signal(merit_sys::signal::SIGTERM);
    let exited = d.wait_timeout(Duration::from_secs(20)).is_some();
    exited && wait_until(Duration::from_secs(10), || processes_under(tmp.path()).is_empty())
}

#[test]
fn unprivileged_tools_cannot_touch_root_services() {
    if !is_root("unprivileged_tools_cannot_touch_root_services") {
        return;
    }
    let tmp = TempDir::new("priv-tools");
    // The user may traverse to the tree (as on a real system, where /s6/run is world-searchable).
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let scan = tmp.join("scan");
    let svc = scan.join("a");
    make_service(&svc, "exec sleep 1000");
    let d = scanner(&tmp, 0o022);
    let pid = wait_up(&svc);
    let status_before = std::fs::read(svc.join("supervise/status")).unwrap();
    let (s, sv) = (scan.to_str().unwrap(), svc.to_str().unwrap());
    let cases: &[(&str, &[&str])] = &[
        ("s6-svc", &["-d", sv]),
        ("s6-svc", &["-k", sv]),
        ("s6-svc", &["-x", sv]),
        ("s6-svc", &["-wd", "-T", "500", "-d", sv]),
        ("s6-svstat", &[sv]),
        ("s6-svok", &[sv]),
        ("s6-svwait", &["-t", "500", "-d", sv]),
        ("s6-svscanctl", &["-t", s]),
        ("s6-svscanctl", &["-an", s]),
    ];
    let mut failures = Vec::new();
    let real_ok = have_real_s6();
    for (prog, args) in cases {
        let o = run_as_user(&ours(prog), args, tmp.path());
        let code = o.status.code();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        // s6-svok says "not supervised" by its exit code alone (it cannot tell without access).
        let refused =
            if *prog == "s6-svok" { code != Some(0) } else { code == Some(111) && err.contains("Permission denied") };
        if !refused {
            failures.push(format!("ours {prog} {args:?}: {code:?} {err:?}"));
        }
        if real_ok {
            let r = run_as_user(&real(prog), args, tmp.path());
            if r.status.code() != code {
                failures.push(format!(
                    "{prog} {args:?}: ours {code:?} {err:?}, real {:?} {:?}",
                    r.status.code(),
                    String::from_utf8_lossy(&r.stderr)
                ));
            }
        }
    }
    // Nor can the user plant anything in supervise/ or event/, or replace the service.
    for (what, path) in [
        ("supervise/x", svc.join("supervise/x")),
        ("event/x", svc.join("event/x")),
        (".s6-svscan/x", scan.join(".s6-svscan/x")),
        ("a/x", svc.join("x")),
    ] {
        let o = run_as_user(Path::new("/usr/bin/touch"), &[path.to_str().unwrap()], tmp.path());
        if o.status.success() {
            failures.push(format!("the user created {what}"));
        }
    }
    let unchanged = std::fs::read(svc.join("supervise/status")).unwrap() == status_before
        && status(&svc).map(|s| s.pid) == Some(pid);
    let stopped = stop(d, &tmp);
    let pass = failures.is_empty() && unchanged && stopped;
    row(
        "unprivileged_tools",
        &format!(
            "{} tool runs refused, {} plants refused, status unchanged {unchanged}; problems: {}",
            cases.len(),
            4,
            failures.len()
        ),
        "all refused, nothing changed",
        pass,
    );
    assert!(pass, "{failures:#?}; unchanged {unchanged}; stopped {stopped}");
}

/// Every path below `dir` (not following symlinks), `dir` included.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

/// Whether others (not owner, not group) can reach `p`: every parent up to `top` lets them
/// search it.
fn reachable_by_others(p: &Path, top: &Path) -> bool {
    let mut cur = p.parent();
    while let Some(d) = cur {
        if !d.starts_with(top) {
            break;
        }
        match std::fs::symlink_metadata(d) {
            Ok(m) if m.mode() & 0o001 != 0 => {}
            _ => return false,
        }
        cur = d.parent();
    }
    true
}

#[test]
fn nothing_created_world_writable() {
    let tmp = TempDir::new("priv-modes");
    let scan = tmp.join("scan");
    let svc = scan.join("a");
    make_service(&svc, "echo hello; exec sleep 1000");
    let logdir = tmp.join("logs/a");
    std::fs::create_dir(tmp.join("logs")).unwrap();
    make_service(&svc.join("log"), &format!("exec {} -b n3 s100000 {}", ours("s6-log").display(), logdir.display()));
    // Everything the test made is readable and searchable by all and writable by nobody
    // else, whatever the runner's umask: what is world-writable afterwards is merit's doing,
    // and the check of what others can reach is meaningful.
    let mut made = Vec::new();
    walk(tmp.path(), &mut made);
    for p in &made {
        let m = std::fs::symlink_metadata(p).unwrap();
        let mode = if m.is_dir() || m.mode() & 0o100 != 0 { 0o755 } else { 0o644 };
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    let d = scanner(&tmp, 0);
    let pid = wait_up(&svc);
    wait_up(&svc.join("log"));
    let svc_s = svc.to_str().unwrap();
    let _ = run(ours("s6-svc"), &["-k", svc_s], tmp.path()); // a restart: death tally, events
    wait_until(PROMPT, || status(&svc).is_some_and(|s| s.pid != 0 && s.pid != pid));
    let logged =
        wait_until(PROMPT, || std::fs::read_to_string(logdir.join("current")).is_ok_and(|c| c.contains("hello\n")));
    let mut all = Vec::new();
    walk(tmp.path(), &mut all);
    let mut bad = Vec::new();
    for p in &all {
        let Ok(m) = std::fs::symlink_metadata(p) else { continue };
        if m.file_type().is_symlink() {
            continue;
        }
        if m.mode() & 0o002 != 0 && reachable_by_others(p, tmp.path()) {
            bad.push(format!("{} {:o}", p.display(), m.mode() & 0o7777));
        }
    }
    let stopped = stop(d, &tmp);
    let pass = bad.is_empty() && logged && stopped;
    row(
        "nothing_world_writable",
        &format!("umask 0: {} paths checked, {} world-writable and reachable", all.len(), bad.len()),
        "0",
        pass,
    );
    assert!(pass, "world-writable: {bad:#?}; logged {logged}; stopped {stopped}");
}

/// What a service inherits, read from /proc of the `sleep` that `run` execs into: its
/// descriptors (number -> kind), environment names, blocked and ignored signals, sorted; and,
/// for a diagnostic, where each descriptor points.
fn inherited(pid: i32) -> (String, String) {
    let mut lines = Vec::new();
    let mut targets = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().flatten() {
        let target = std::fs::read_link(e.path()).map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
        let kind = match target.split(':').next() {
            Some("pipe") | Some("socket") | Some("anon_inode") => target.split(':').next().unwrap_or("").to_owned(),
            _ => "path".to_owned(),
        };
        lines.push(format!("fd {} {kind}", e.file_name().to_string_lossy()));
        targets.push(format!("fd {} -> {target}", e.file_name().to_string_lossy()));
    }
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    for v in env.split(|&b| b == 0).filter(|v| !v.is_empty()) {
        let name = v.split(|&b| b == b'=').next().unwrap_or(v);
        lines.push(format!("env {}", String::from_utf8_lossy(name)));
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    lines.extend(status.lines().filter(|l| l.starts_with("SigBlk:") || l.starts_with("SigIgn:")).map(str::to_owned));
    lines.sort();
    targets.sort();
    (lines.join("\n"), targets.join(", "))
}

fn probe_under(imp: Impl, tmp: &TempDir, closed_stdio: bool) -> (String, String) {
    let scan = tmp.join(format!("scan-{imp:?}-{closed_stdio}"));
    let svc = scan.join("a");
    make_service(&svc, "exec sleep 1000");
    let mut c = command(imp.bin("s6-svscan"));
    c.arg(&scan).current_dir(tmp.path()).stdout(Stdio::null()).stderr(Stdio::null());
    c.env_clear().env("PATH", "/usr/bin:/bin").env("HOME", "/");
    // The scanner starts with fds 0-2 only, as under an init, so that what is compared is what
    // the tree passes on. (Once, with the whole suite running, the real tree's service had an
    // extra fd 3 to a file; the message now says where each descriptor points.)
    // SAFETY: the closure runs between fork and exec; it only makes a system call.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut c, move || {
            merit_sys::system::cloexec_from(3);
            if closed_stdio {
                (0..3).for_each(merit_sys::fd::close);
            }
            Ok(())
        });
    }
    let mut d = Daemon::spawn(c);
    let pid = wait_up(&svc) as i32;
    let ok = wait_until(PROMPT, || std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n"));
    let text = inherited(pid);
    d.signal(merit_sys::signal::SIGTERM);
    d.wait_timeout(Duration::from_secs(20));
    assert!(ok, "{imp:?}: run never exec'd sleep");
    text
}

#[test]
fn service_inherits_what_s6_passes() {
    if !have_real_s6() {
        return;
    }
    let tmp = TempDir::new("priv-inherit");
    let (ours_text, ours_fds) = probe_under(Impl::Ours, &tmp, false);
    let (real_text, real_fds) = probe_under(Impl::Real, &tmp, false);
    // Started with 0, 1 and 2 closed: the service gets /dev/null on each, as with s6.
    let (closed_ours, closed_ours_fds) = probe_under(Impl::Ours, &tmp, true);
    let (closed_real, closed_real_fds) = probe_under(Impl::Real, &tmp, true);
    let null_stdio = "fd 0 -> /dev/null, fd 1 -> /dev/null, fd 2 -> /dev/null";
    assert_eq!(closed_ours_fds, null_stdio, "ours, started with 0-2 closed");
    assert_eq!(closed_ours, closed_real, "ours vs the real s6, started with 0-2 closed; real: {closed_real_fds}");
    println!("what run inherits (ours):\n{ours_text}");
    let same = ours_text == real_text;
    row(
        "service_inherits",
        &format!("{} lines of descriptors, environment and signals; same as s6: {same}", ours_text.lines().count()),
        "same as s6",
        same,
    );
    assert_eq!(ours_text, real_text, "ours (left) vs the real s6 (right); ours: {ours_fds}; real: {real_fds}");
}

/// `init skeleton` lays out /etc/s6 with exactly its modes whatever the umask (0: nothing
/// world-writable; 077: scripts still readable by their group as documented), each file created
/// with its mode (no window with other bits), and a second layout over the first keeps them.
#[test]
fn skeleton_modes_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    for umask in ["0", "077"] {
        let t = TempDir::new(&format!("skel-umask-{umask}"));
        for _round in 0..2 {
            let st = std::process::Command::new("sh")
                .args(["-c", &format!("umask {umask} && exec \"$0\" skeleton \"$1\"")])
                .arg(ours("init"))
                .arg(t.path())
                .status()
                .unwrap();
            assert!(st.success(), "umask {umask}: {st:?}");
            let mode = |rel: &str| std::fs::symlink_metadata(t.path().join(rel)).unwrap().permissions().mode() & 0o7777;
            for (rel, want) in [
                ("etc/s6", 0o755),
                ("etc/s6/services/available", 0o755),
                ("etc/s6/init-services/.s6-svscan", 0o755),
                ("etc/s6/rc.init", 0o750),
                ("etc/s6/rc.shutdown", 0o750),
                ("etc/s6/env/TZ", 0o644),
                ("etc/s6/init-services/.s6-svscan/finish", 0o750),
                ("etc/s6/init-services/.s6-svscan/SIGTERM", 0o750),
                ("etc/s6/init-services/s6-svscan-log/run", 0o750),
                ("etc/s6/init-services/s6-svscan-log/fifo", 0o600),
            ] {
                assert_eq!(mode(rel), want, "umask {umask}: {rel} has mode {:o}", mode(rel));
            }
            let leftovers: Vec<_> = std::fs::read_dir(t.path().join("etc/s6/init-services/.s6-svscan"))
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".merit-new"))
                .collect();
            assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        }
    }
}
