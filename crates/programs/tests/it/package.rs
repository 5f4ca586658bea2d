//! The packages of `scripts/package` (issue 14), built and used for real.
//!
//! `deb_install_run_upgrade_remove_purge`: builds the .deb twice (Cargo.toml's version and a
//! later one), runs lintian on it (no error nor warning: the overrides are in
//! packaging/debian/lintian-overrides), checks that none of its files belongs to a package
//! installed on this machine (Debian's s6 and execline, init-system-helpers' service...), then
//! has dpkg really install it into a throw-away root (`dpkg --root`: its maintainer scripts run
//! chrooted there, with busybox-static as /bin), checks the unit with `systemd-analyze verify`,
//! and runs the unit's command lines the way systemd would (ExecStartPre, ExecStart as the main
//! process with the unit's Environment=, SIGTERM to it for `systemctl stop`, ExecStopPost) in a
//! private mount namespace, chrooted into that root. With the tree up: `service list`, `service
//! NAME stop/start/status/disable/enable`, our and the real s6's s6-svstat on the scan directory,
//! every supervisor and logger running merit's programs (not a decoy s6-log earlier in PATH).
//! Then an upgrade under the running tree (services keep their pids, an edited conffile is
//! kept), a reinstall of the same version, the stop (every service down, its logger flushed,
//! exit 0, /s6 unmounted and removed), `dpkg -r` (configuration and the services' logs kept)
//! and `dpkg --purge` (the root is as it was, but for the administrator's services and logs).
//!
//! `oci_image_podman`: `scripts/package oci` (`podman build` of packaging/oci/Containerfile, FROM
//! scratch, in the context `scripts/package oci-context` lays out), `podman run` with the image's default command (`init --container
//! --log-stdout`): every service up, `service list` in the container, `podman logs`, `podman
//! stop` within the grace period with status 0, and the main service's exit code (7, and 128+10
//! for SIGUSR1) as the container's. Sizes and times are printed (bench/README.md has them).
//!
//! Both need root (and dpkg-deb, lintian, unshare, nsenter, busybox-static; podman and runc for
//! the image): under CI=true a missing piece fails the test, elsewhere it is skipped with the
//! reason. MERIT_DIST=dir overrides dist/bin (made by scripts/build).

use crate::common::podman::{missing, text, which, Podman};
use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn unavailable(test: &str, why: &str) {
    cannot_run(test, why);
}

fn dist() -> PathBuf {
    std::env::var_os("MERIT_DIST").map(PathBuf::from).unwrap_or_else(|| workspace().join("dist/bin"))
}

fn cargo_version() -> String {
    let toml = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    toml.lines()
        .find_map(|l| l.strip_prefix("version = \"").and_then(|v| v.strip_suffix('"')))
        .expect("version in Cargo.toml")
        .to_string()
}

/// What the test needs beyond root and dist/bin, if something is missing.
fn need(progs: &[&str]) -> Option<String> {
    if merit_sys::geteuid() != 0 {
        return Some("not root (dpkg --root, chroot and mount namespaces need it)".into());
    }
    if !dist().join("merit").is_file() {
        return Some(format!("{} has no merit: run scripts/build first", dist().display()));
    }
    for p in progs {
        if which(p).is_none() && !Path::new("/usr/sbin").join(p).is_file() && !Path::new("/sbin").join(p).is_file() {
            return Some(format!("{p} not found (see the apt-get line of .ci/run)"));
        }
    }
    let file = Command::new("file").arg("-L").arg("/bin/busybox").output();
    if !file.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("statically linked")) {
        return Some("/bin/busybox is not busybox-static (apt-get install busybox-static)".into());
    }
    None
}

fn out(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let o = out(cmd);
    assert!(o.status.success(), "{cmd:?}: {:?}\n{}", o.status, text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `scripts/package deb --version V --out DIR`: the .deb's path.
fn build_deb(dir: &Path, version: &str) -> PathBuf {
    let stdout = ok(Command::new(workspace().join("scripts/package"))
        .args(["deb", "--version", version, "--out"])
        .arg(dir)
        .env("MERIT_DIST", dist()));
    let deb = PathBuf::from(stdout.trim());
    assert!(deb.is_file(), "no {}", deb.display());
    deb
}

/// A root for dpkg: busybox-static as /bin (the maintainer scripts' shell and tools),
/// /dev/null, passwd and group, and an empty dpkg database but for a stub of `mount` (merit's
/// one dependency; busybox's mount stands in for it here).
fn make_root(r: &Path) {
    for d in ["bin", "etc", "proc", "tmp", "dev", "run", "var/log", "var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::create_dir_all(r.join("var/lib/dpkg/triggers")).unwrap();
    std::fs::copy("/bin/busybox", r.join("bin/busybox")).unwrap();
    let list = ok(Command::new("/bin/busybox").arg("--list"));
    for a in list.lines().filter(|a| !a.is_empty() && *a != "busybox") {
        std::os::unix::fs::symlink("busybox", r.join("bin").join(a)).unwrap();
    }
    merit_sys::fs::mknod_char(&r.join("dev/null"), 0o666, 1, 3).expect("mknod");
    std::fs::write(
        r.join("etc/passwd"),
        "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .unwrap();
    std::fs::write(r.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
    std::fs::write(
        r.join("var/lib/dpkg/status"),
        "Package: mount\nStatus: install ok installed\nPriority: required\nSection: admin\n\
         Maintainer: test\nArchitecture: all\nVersion: 2.38.1-5\nDescription: stub: busybox's mount\n\n",
    )
    .unwrap();
    std::fs::write(r.join("var/lib/dpkg/info/mount.list"), "").unwrap();
    // systemd's targets and slices (for `systemd-analyze verify --root`), as on a Debian host.
    let units = r.join("lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    for e in std::fs::read_dir("/lib/systemd/system").into_iter().flatten().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if (n.ends_with(".target") || n.ends_with(".slice")) && e.path().is_file() {
            std::fs::copy(e.path(), units.join(&n)).unwrap();
        }
    }
    std::fs::write(r.join("var/lib/dpkg/available"), "").unwrap();
    // A decoy s6-log where a PATH without merit's directory first would find it.
    std::fs::create_dir_all(r.join("usr/local/bin")).unwrap();
    write_exec(&r.join("usr/local/bin/s6-log"), "#!/bin/sh\necho 'decoy s6-log ran' >/dev/console\nexit 111\n");
}

/// An administrator's service in the root: `run` says it is up (with its PATH) and that it got
/// SIGTERM; with `log`, its logger writes /var/log/NAME.
/// A service that answers TERM at once and leaves nothing behind (its `sleep` is killed with
/// it: an orphan would be systemd's to kill, KillMode=mixed, not the tree's).
fn admin_service(r: &Path, name: &str, log: bool) {
    let d = r.join("etc/s6/services/available").join(name);
    std::fs::create_dir_all(&d).unwrap();
    write_exec(
        &d.join("run"),
        &format!(
            "#!/bin/sh\nexec 2>&1\ntrap 'kill $! 2>/dev/null; echo \"{name}: got TERM\"; exit 0' TERM\necho \"{name}: up, PATH=$PATH\"\n\
             while :; do sleep 1 & wait $!; done\n"
        ),
    );
    if log {
        std::fs::create_dir_all(d.join("log")).unwrap();
        write_exec(&d.join("log/run"), &format!("#!/bin/sh\nexec s6-log -b -- t /var/log/{name}\n"));
    }
    let enabled = r.join("etc/s6/services/enabled");
    std::fs::create_dir_all(&enabled).unwrap();
    std::os::unix::fs::symlink(format!("../available/{name}"), enabled.join(name)).unwrap();
}

/// Every path under `r` (files, links, directories), but dpkg's database, /proc and /dev.
fn tree(r: &Path) -> std::collections::BTreeSet<String> {
    fn walk(base: &Path, d: &Path, acc: &mut std::collections::BTreeSet<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            if rel.starts_with("var/lib/dpkg") || rel.starts_with("proc/") || rel.starts_with("dev/") {
                continue;
            }
            acc.insert(rel);
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(base, &p, acc);
            }
        }
    }
    let mut acc = std::collections::BTreeSet::new();
    walk(r, r, &mut acc);
    acc
}

/// The value of every `KEY=` line of the unit's [Service] section, in order.
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    unit.lines().filter_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('='))).map(str::to_string).collect()
}

fn dpkg(r: &Path, args: &[&str]) -> String {
    ok(Command::new("dpkg").arg(format!("--root={}", r.display())).args(args).env("DEBIAN_FRONTEND", "noninteractive"))
}

/// merit.service where the package put it: /lib/systemd/system up to bookworm,
/// /usr/lib/systemd/system from trixie on (scripts/package's `unit_dir`).
fn unit_file(r: &Path) -> PathBuf {
    let usr = r.join("usr/lib/systemd/system/merit.service");
    if usr.is_file() {
        usr
    } else {
        r.join("lib/systemd/system/merit.service")
    }
}

/// The unit run as systemd would: its Exec lines, each chrooted into the root, in a private
/// mount namespace (the /s6 tmpfs and /proc mounted there stay there).
struct Unit {
    daemon: Daemon,
    state: PathBuf,
    root: PathBuf,
    main: i32,
}

impl Unit {
    fn start(r: &Path, state: &Path) -> Unit {
        let unit = std::fs::read_to_string(unit_file(r)).unwrap();
        let one = |k: &str| {
            let v = unit_values(&unit, k);
            assert_eq!(v.len(), 1, "{k} in merit.service: {v:?}");
            v.into_iter().next().unwrap_or_default()
        };
        let env = unit_values(&unit, "Environment").join(" ");
        assert!(env.starts_with("PATH=/usr/lib/merit/bin:"), "the unit sets PATH, merit's programs first: {env}");
        let script = state.join("systemd.sh");
        std::fs::write(
            &script,
            format!(
                "R=$1; S=$2\n\
                 mount -t proc proc \"$R/proc\" || exit 1\n\
                 chroot \"$R\" /bin/env -i {env} {pre} || {{ echo 'ExecStartPre failed'; exit 1; }}\n\
                 chroot \"$R\" /bin/env -i {env} {start} &\n\
                 echo $! >\"$S/main.pid\"\n\
                 wait $!\n\
                 echo $? >\"$S/main.status.tmp\"\n\
                 chroot \"$R\" /bin/env -i {env} {post}\n\
                 echo $? >\"$S/post.status\"\n\
                 mv \"$S/main.status.tmp\" \"$S/main.status\"\n",
                pre = one("ExecStartPre"),
                start = one("ExecStart"),
                post = one("ExecStopPost"),
            ),
        )
        .unwrap();
        let log = std::fs::File::create(state.join("journal")).unwrap();
        let mut c = command("unshare");
        c.args(["--mount", "--propagation", "private", "/bin/sh"]).arg(&script).arg(r).arg(state);
        c.stdout(log.try_clone().unwrap()).stderr(log);
        let daemon = Daemon::spawn(c);
        let pidfile = state.join("main.pid");
        assert!(
            wait_until(PROMPT, || std::fs::read_to_string(&pidfile).is_ok_and(|s| s.ends_with('\n'))),
            "no main pid"
        );
        let main = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        Unit { daemon, state: state.to_path_buf(), root: r.to_path_buf(), main }
    }

    fn journal(&self) -> String {
        std::fs::read_to_string(self.state.join("journal")).unwrap_or_default()
    }

    /// A command in the unit's mount namespace, chrooted into the root (`chroot: false`: with
    /// the host's files, e.g. the real s6, on the root's paths).
    fn exec(&self, chroot: bool, args: &[&str]) -> Output {
        let mut c = Command::new("nsenter");
        c.arg("-t").arg(self.main.to_string()).arg("-m").arg("--");
        if chroot {
            c.arg("chroot").arg(&self.root).args(["/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin"]);
        }
        out(c.args(args))
    }

    fn service(&self, args: &[&str]) -> (i32, String) {
        let mut a = vec!["service"];
        a.extend_from_slice(args);
        let o = self.exec(true, &a);
        (o.status.code().unwrap_or(-1), text(&o))
    }

    /// `s6-svstat` of the scan directory's NAME, ours (in the root) or the real s6's.
    fn svstat(&self, real: bool, name: &str) -> String {
        let o = if real {
            let dir = self.root.join("s6/run").join(name);
            self.exec(false, &[&crate::common::real("s6-svstat").to_string_lossy(), &dir.to_string_lossy()])
        } else {
            self.exec(true, &["/usr/lib/merit/bin/s6-svstat", &format!("/s6/run/{name}")])
        };
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn up(&self, name: &str) -> bool {
        self.svstat(false, name).starts_with("up ")
    }

    /// `systemctl stop`: SIGTERM to the main process (KillMode=mixed), then the wait for
    /// ExecStopPost. Returns the exit status of the main process and the time it took.
    fn stop(&mut self) -> (String, Duration) {
        // Still our process: its root is our root (checked just before the signal).
        let root = std::fs::read_link(format!("/proc/{}/root", self.main)).unwrap();
        assert_eq!(root, self.root.canonicalize().unwrap(), "main pid {} is not ours", self.main);
        let t = Instant::now();
        let _ = merit_sys::signal::kill(self.main, merit_sys::signal::SIGTERM);
        let status = self.state.join("main.status");
        assert!(wait_until(Duration::from_secs(30), || status.exists()), "not stopped in 30 s:\n{}", self.journal());
        let took = t.elapsed();
        assert!(self.daemon.wait_timeout(PROMPT).is_some(), "the namespace did not end");
        (std::fs::read_to_string(status).unwrap().trim().to_string(), took)
    }
}

#[test]
fn deb_install_run_upgrade_remove_purge() {
    const TEST: &str = "the .deb test";
    if let Some(why) = need(&["dpkg-deb", "dpkg", "lintian", "unshare", "nsenter", "chroot"]) {
        return unavailable(TEST, &why);
    }
    let t = TempDir::new("package-deb");
    let v1 = cargo_version();
    let v2 = format!("{v1}+test1");
    let deb1 = build_deb(&t.join("v1"), &v1);
    let deb2 = build_deb(&t.join("v2"), &v2);
    let fields = ok(Command::new("dpkg-deb").args(["-f"]).arg(&deb1).args(["Version", "Installed-Size"]));
    assert!(fields.contains(&format!("Version: {v1}\n")), "{fields}");
    eprintln!(
        "deb: {} bytes; {}",
        std::fs::metadata(&deb1).unwrap().len(),
        fields.lines().find(|l| l.starts_with("Installed-Size")).unwrap_or("?")
    );

    // lintian: clean, overrides aside.
    let lint = out(Command::new("lintian").args(["--fail-on", "error,warning"]).arg(&deb1));
    let lint_text = text(&lint);
    assert!(lint.status.success(), "lintian:\n{lint_text}");
    assert!(!lint_text.lines().any(|l| l.starts_with("E:") || l.starts_with("W:")), "lintian:\n{lint_text}");

    // No file of ours belongs to an installed package (Debian's s6 owns /usr/bin/s6-*).
    let contents = ok(Command::new("dpkg-deb").arg("-c").arg(&deb1));
    let paths: Vec<String> = contents
        .lines()
        .filter(|l| !l.starts_with('d'))
        .filter_map(|l| l.split(" ./").nth(1))
        .map(|p| format!("/{}", p.split(" -> ").next().unwrap_or(p)))
        .collect();
    assert!(paths.contains(&"/usr/lib/merit/bin/s6-svscan".to_string()), "{contents}");
    assert!(paths.contains(&"/usr/bin/service".to_string()) && paths.contains(&"/usr/bin/merit".to_string()));
    assert!(!paths.iter().any(|p| p.starts_with("/usr/bin/s6-") || p.starts_with("/bin/")), "{contents}");
    // No halt, reboot... of ours: on a host they would send s6's signals to systemd.
    for alias in ["telinit", "halt", "poweroff", "reboot"] {
        assert!(!paths.iter().any(|p| p.ends_with(&format!("/{alias}"))), "{alias} in the .deb:\n{contents}");
    }
    let owners = out(Command::new("dpkg-query").arg("-S").args(&paths));
    let clashes: Vec<&str> =
        std::str::from_utf8(&owners.stdout).unwrap().lines().filter(|l| !l.starts_with("diversion")).collect();
    assert!(clashes.is_empty(), "files owned by installed packages: {clashes:?}");
    if ci() || have_real_s6() {
        let s6 = ok(Command::new("dpkg-query").args(["-L", "s6"]));
        assert!(s6.lines().any(|l| l == "/usr/bin/s6-svscan"), "Debian's s6 has /usr/bin/s6-svscan");
    }
    let conffiles = ok(Command::new("dpkg-deb").args(["-I"]).arg(&deb1).arg("conffiles"));
    for f in ["/etc/s6/rc.init", "/etc/s6/rc.shutdown", "/etc/s6/init-services/.s6-svscan/SIGTERM"] {
        assert!(conffiles.lines().any(|l| l == f), "{f} not a conffile:\n{conffiles}");
    }
    // On a host, the services keep the host's time zone: no TZ=UTC in the envdir.
    assert!(!paths.iter().any(|p| p == "/etc/s6/env/TZ"), "/etc/s6/env/TZ in the .deb:\n{contents}");
    assert!(
        contents.lines().any(|l| l.starts_with('d') && l.ends_with(" ./etc/s6/env/")),
        "no /etc/s6/env/:\n{contents}"
    );

    // Installed into a throw-away root.
    let r = t.join("root");
    make_root(&r);
    admin_service(&r, "alpha", true);
    admin_service(&r, "beta", false);
    let before = tree(&r);
    dpkg(&r, &["-i", &deb1.to_string_lossy()]);
    assert!(r.join("usr/lib/merit/bin/merit").is_file());
    assert!(std::fs::metadata(r.join("etc/s6/init-services/s6-svscan-log/fifo")).is_ok(), "postinst's FIFO");
    let status = dpkg(&r, &["-s", "merit"]);
    assert!(
        status.contains("Status: install ok installed") && status.contains(&format!("Version: {v1}\n")),
        "{status}"
    );

    if which("systemd-analyze").is_some() {
        let unit = unit_file(&r);
        let v = out(Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(format!("--root={}", r.display()))
            .arg(&unit));
        assert!(v.status.success() && text(&v).trim().is_empty(), "systemd-analyze verify: {}", text(&v));
    } else {
        assert!(!ci(), "systemd-analyze not found (apt-get install systemd)");
        eprintln!("SKIP: systemd-analyze verify: systemd-analyze not found");
    }

    // `systemctl start merit`, without systemd.
    let state = t.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let started = Instant::now();
    let mut unit = Unit::start(&r, &state);
    assert!(
        wait_until(Duration::from_secs(20), || unit.up("alpha") && unit.up("beta")),
        "alpha and beta not up:\n{}",
        unit.journal()
    );
    eprintln!("deb: unit start -> alpha, beta up: {:?}", started.elapsed());
    let (code, list) = unit.service(&["list"]);
    assert_eq!(code, 0, "{list}");
    let lines: Vec<String> = list.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    assert!(lines.contains(&"Service Status OnBoot".to_string()), "{list}");
    assert!(
        lines.contains(&"alpha up enabled".to_string()) && lines.contains(&"beta up enabled".to_string()),
        "{list}"
    );

    // merit's programs run the tree, whatever comes earlier in PATH: every supervisor, the
    // scanner and alpha's logger are merit (not the decoy /usr/local/bin/s6-log).
    let merit = r.join("usr/lib/merit/bin/merit").canonicalize().unwrap();
    let comms = |comm: &str| -> Vec<i32> {
        processes_under(&r)
            .into_iter()
            .filter(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == comm))
            .collect()
    };
    assert!(wait_until(PROMPT, || !comms("s6-log").is_empty()), "no s6-log running:\n{}", unit.journal());
    for comm in ["s6-svscan", "s6-supervise", "s6-log"] {
        let pids = comms(comm);
        assert!(!pids.is_empty(), "no {comm}");
        for p in pids {
            assert_eq!(std::fs::read_link(format!("/proc/{p}/exe")).ok().as_ref(), Some(&merit), "{comm} {p}");
        }
    }
    assert!(!unit.journal().contains("decoy"), "{}", unit.journal());
    let alpha_log = r.join("var/log/alpha/current");
    assert!(wait_until(PROMPT, || std::fs::read_to_string(&alpha_log).is_ok_and(|s| s.contains("alpha: up"))));
    let logged = std::fs::read_to_string(&alpha_log).unwrap();
    assert!(logged.contains("alpha: up, PATH=/usr/lib/merit/bin:"), "{logged}");

    // The tree driven with service, seen by our and the real s6-svstat.
    let (code, o) = unit.service(&["beta", "stop"]);
    assert_eq!((code, o.as_str()), (0, "Stopping beta... OK\n"));
    assert!(unit.svstat(false, "beta").starts_with("down (exitcode 0) "), "{}", unit.svstat(false, "beta"));
    if ci() || have_real_s6() {
        let real = unit.svstat(true, "beta");
        assert!(real.starts_with("down (exitcode 0) ") && real.contains("normally up"), "real s6-svstat: {real}");
        assert!(unit.svstat(true, "alpha").starts_with("up (pid "), "{}", unit.svstat(true, "alpha"));
    }
    let (code, o) = unit.service(&["beta", "status"]);
    assert_eq!(code, 3, "{o}");
    let (code, o) = unit.service(&["beta", "start"]);
    assert_eq!((code, o.as_str()), (0, "Starting beta... OK\n"));
    assert!(unit.up("beta"));
    let (code, o) = unit.service(&["alpha", "disable"]);
    assert_eq!((code, o.as_str()), (0, "Disabling alpha from launching at boot... OK\n"));
    assert!(std::fs::symlink_metadata(r.join("etc/s6/services/enabled/alpha")).is_err());
    let (_, list) = unit.service(&["list"]);
    assert!(list.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["alpha", "up", "disabled"]), "{list}");
    let (code, o) = unit.service(&["alpha", "enable"]);
    assert_eq!((code, o.as_str()), (0, "Enabling alpha to launch at boot... OK\n"));

    // An upgrade under the running tree: the services keep running, an edited conffile stays.
    let pid_of = |u: &Unit, n: &str| u.svstat(false, n).split_whitespace().nth(2).map(str::to_string);
    let alpha_pid = pid_of(&unit, "alpha");
    let mut shutdown = std::fs::read_to_string(r.join("etc/s6/rc.shutdown")).unwrap();
    shutdown.push_str("# a local edit\n");
    std::fs::write(r.join("etc/s6/rc.shutdown"), &shutdown).unwrap();
    dpkg(&r, &["--force-confold", "-i", &deb2.to_string_lossy()]);
    assert!(dpkg(&r, &["-s", "merit"]).contains(&format!("Version: {v2}\n")));
    dpkg(&r, &["--force-confold", "-i", &deb2.to_string_lossy()]); // over itself
    assert_eq!(std::fs::read_to_string(r.join("etc/s6/rc.shutdown")).unwrap(), shutdown, "conffile edit lost");
    assert!(unit.up("alpha") && unit.up("beta"), "after the upgrade:\n{}", unit.journal());
    assert_eq!(pid_of(&unit, "alpha"), alpha_pid, "alpha was restarted by the upgrade");
    assert_eq!(unit.service(&["list"]).0, 0);

    // `systemctl stop merit`: every service down, its logger flushed, exit 0, /s6 gone.
    let (code, took) = unit.stop();
    eprintln!("deb: unit stop (SIGTERM) -> exited: {took:?}");
    let journal = unit.journal();
    assert_eq!(code, "0", "{journal}");
    assert_eq!(std::fs::read_to_string(state.join("post.status")).unwrap().trim(), "0", "ExecStopPost:\n{journal}");
    assert!(journal.contains("init: all services stopped (stop): exiting 0"), "{journal}");
    assert!(journal.contains("beta: got TERM"), "{journal}");
    assert!(std::fs::read_to_string(&alpha_log).unwrap().contains("alpha: got TERM"), "alpha's logger not flushed");
    assert!(took < Duration::from_secs(10), "stop took {took:?}");
    let left: Vec<String> = processes_under(&r)
        .iter()
        .map(|p| format!("{p} {}", std::fs::read_to_string(format!("/proc/{p}/cmdline")).unwrap_or_default()))
        .collect();
    assert!(left.is_empty(), "left running: {left:?}\n{journal}");
    assert!(!r.join("s6").exists() && !r.join("run/merit").exists(), "/s6 or /run/merit left behind");

    // Remove: the programs go, the configuration, the services and their logs stay.
    dpkg(&r, &["-r", "merit"]);
    assert!(!r.join("usr/lib/merit").exists() && !r.join("usr/bin/merit").exists());
    assert_eq!(std::fs::read_to_string(r.join("etc/s6/rc.shutdown")).unwrap(), shutdown);
    assert!(r.join("etc/s6/services/available/alpha/run").is_file() && alpha_log.is_file());
    assert!(dpkg(&r, &["-s", "merit"]).contains("Status: deinstall ok config-files"));

    // Purge: nothing of the package's is left; the administrator's services and logs are.
    dpkg(&r, &["--purge", "merit"]);
    let after = tree(&r);
    let added: Vec<&String> = after.difference(&before).filter(|p| !p.starts_with("var/log/alpha")).collect();
    let removed: Vec<&String> = before.difference(&after).collect();
    assert!(added.is_empty() && removed.is_empty(), "after purge, added {added:?}, removed {removed:?}");
    let gone = out(Command::new("dpkg").arg(format!("--root={}", r.display())).args(["-s", "merit"]));
    assert!(!gone.status.success() || text(&gone).contains("not-installed"), "{}", text(&gone));
}

const IMAGE: &str = "localhost/merit-package-test:latest";

#[test]
fn oci_image_podman() {
    const TEST: &str = "the OCI image test";
    if let Some(why) = need(&[]).or_else(missing) {
        return unavailable(TEST, &why);
    }
    let t = TempDir::new("oci");
    let mut p = Podman::new(t.path(), IMAGE);
    // `scripts/package oci`, with podman's storage in our folder.
    let built = ok(Command::new(workspace().join("scripts/package"))
        .args(["oci", "--tag", IMAGE, "--context"])
        .arg(t.join("context"))
        .env("MERIT_DIST", dist())
        .env("MERIT_PODMAN", format!("podman {}", p.global_args().join(" ")))
        .envs(p.envs()));
    assert_eq!(built.trim(), IMAGE);
    let size = p.ok(&["image", "inspect", "--format", "{{.Size}}", IMAGE]);
    eprintln!("oci: image {size} bytes");

    // Up with the image's own command (init --container --log-stdout).
    let services = ["app", "hello", "httpd"];
    let started = Instant::now();
    p.run_detached("merit-oci", &[], &[]);
    p.wait_up("merit-oci", &services, Duration::from_secs(30));
    let up_after = started.elapsed();
    let list = p.ok(&["exec", "merit-oci", "service", "list"]);
    for s in services {
        assert!(list.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == [s, "up", "enabled"]), "{list}");
    }
    for line in ["hello: up", "app: up", "httpd: serving /srv/www on port 8080"] {
        assert!(wait_until(PROMPT, || p.logs("merit-oci").contains(line)), "{line:?}:\n{}", p.logs("merit-oci"));
    }
    // The example web service answers (on the container's loopback: --network none).
    let page = p.ok(&["exec", "merit-oci", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/"]);
    assert!(page.contains("Served by busybox httpd under merit."), "{page}");
    let stopping = Instant::now();
    let stop = p.run(&["stop", "-t", "20", "merit-oci"]);
    let stop_took = stopping.elapsed();
    let logs = p.logs("merit-oci");
    assert!(stop.status.success() && !text(&stop).contains("SIGKILL"), "podman stop: {}", text(&stop));
    assert_eq!(p.exit_code("merit-oci"), "0", "{logs}");
    assert!(stop_took < Duration::from_secs(10), "podman stop took {stop_took:?}\n{logs}");
    assert!(
        logs.contains("hello: stopping") && logs.contains("init: all services stopped (stop): exiting 0"),
        "{logs}"
    );
    assert!(!logs.contains("unable to") && !logs.contains("fatal"), "{logs}");
    eprintln!("oci: run -> app, hello, httpd up: {up_after:?}; stop -> exited: {stop_took:?}");
    eprintln!("oci: podman logs:\n{logs}");

    // The main service's exit code becomes the container's (128+N for a signal N).
    for (name, body, code) in [
        ("merit-oci-exit7", "echo 'app: exits 7'; exit 7", "7"),
        ("merit-oci-usr1", "echo 'app: dies of SIGUSR1'; kill -USR1 $$; sleep 5", "138"),
    ] {
        let run = t.join(format!("{name}.run"));
        write_exec(&run, &format!("#!/bin/sh\nexec 2>&1\nsleep 1\n{body}\n"));
        let bind = format!("{}:/etc/s6/services/available/app/run:ro", run.display());
        p.run_detached(name, &["-v", &bind], &[]);
        let waited = p.run(&["wait", name]);
        let logs = p.logs(name);
        assert_eq!(String::from_utf8_lossy(&waited.stdout).trim(), code, "{}\n{logs}", text(&waited));
        assert!(logs.contains("hello: stopping"), "the other services were stopped:\n{logs}");
    }
}
