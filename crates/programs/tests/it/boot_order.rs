//! Boot in dependency order (issue 12, round 2): s6-supervise holds the FIRST start of a
//! service that declares dependencies (`dependencies.d/`, `dependencies`) until each sibling it
//! needs is up and, with `notification-fd`, ready; `init copy-enabled` pulls in what the
//! enabled services need; the shutdown stops the dependents first. Boot order is observed from
//! the services' own stamps (wall-clock nanoseconds written by their run scripts).

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// A run body that writes `start` (its start stamp), then, after `delay` seconds, `ready`
/// (its ready stamp) and the readiness line on fd 3; then sleeps.
fn stamping(delay: &str) -> String {
    format!("date +%s%N > start\nsleep {delay}\ndate +%s%N > ready\necho >&3\nexec sleep 1000")
}

/// A service `NAME` in `scan` with `notification-fd` 3 (ready after `delay`) that needs `needs`
/// (in `dependencies.d/` when `dir_form`, else in the `dependencies` file).
fn svc(scan: &Path, name: &str, delay: &str, needs: &[&str], dir_form: bool) -> PathBuf {
    let d = scan.join(name);
    make_service(&d, &stamping(delay));
    std::fs::write(d.join("notification-fd"), "3\n").unwrap();
    if dir_form && !needs.is_empty() {
        std::fs::create_dir_all(d.join("dependencies.d")).unwrap();
        for n in needs {
            std::fs::write(d.join("dependencies.d").join(n), "").unwrap();
        }
    } else if !needs.is_empty() {
        std::fs::write(d.join("dependencies"), needs.iter().map(|n| format!("{n}\n")).collect::<String>()).unwrap();
    }
    d
}

fn stamp(dir: &Path, which: &str) -> Option<u128> {
    std::fs::read_to_string(dir.join(which)).ok()?.trim().parse().ok()
}

fn scanner(imp: Impl, scan: &Path, log: &Path) -> Daemon {
    let mut cmd = command(imp.bin("s6-svscan"));
    cmd.arg("-t0").arg(scan).stdout(Stdio::null()).stderr(std::fs::File::create(log).unwrap());
    Daemon::spawn(cmd)
}

fn wait_ready(dirs: &[&Path]) -> bool {
    wait_until(Duration::from_secs(20), || dirs.iter().all(|d| stamp(d, "ready").is_some()))
}

fn stop_scanner(imp: Impl, scan: &Path, mut d: Daemon) {
    let _ = run(imp.bin("s6-svscanctl"), &["-t", scan.to_str().unwrap()], scan);
    d.wait_timeout(Duration::from_secs(10));
}

/// net (ready after 0.4 s) <- db (dependencies.d) <- web (dependencies file); solo needs
/// nothing. Each one's first start is after the ready stamp of what it needs; solo does not
/// wait for anyone.
#[test]
fn first_start_waits_for_each_dependency_to_be_ready() {
    let t = TempDir::new("boot-order");
    let scan = t.join("scan");
    let net = svc(&scan, "net", "0.4", &[], true);
    let db = svc(&scan, "db", "0.2", &["net"], true);
    let web = svc(&scan, "web", "0", &["db"], false);
    let solo = svc(&scan, "solo", "0", &[], true);
    let d = scanner(Impl::Ours, &scan, &t.join("err"));
    assert!(
        wait_ready(&[&net, &db, &web, &solo]),
        "not all ready: {}",
        std::fs::read_to_string(t.join("err")).unwrap()
    );
    let (n, d_, w) = (stamp(&net, "ready").unwrap(), stamp(&db, "start").unwrap(), stamp(&web, "start").unwrap());
    assert!(d_ >= n, "db started {d_} before net was ready {n}");
    let db_ready = stamp(&db, "ready").unwrap();
    assert!(w >= db_ready, "web started {w} before db was ready {db_ready}");
    // Independent services start together: solo was up before net was ready.
    assert!(stamp(&solo, "start").unwrap() < n, "solo waited for net");
    // The supervisor of a held service said nothing (nothing missing, no cycle).
    let err = std::fs::read_to_string(t.join("err")).unwrap();
    assert!(!err.contains("warning"), "{err}");
    stop_scanner(Impl::Ours, &scan, d);
}

/// The real s6-svscan and s6-supervise ignore the dependency files: the same tree comes up
/// and is driven by s6-svc as any other (nothing of ours is needed to run it).
#[test]
fn real_s6_runs_a_tree_with_dependencies() {
    if !have_real_s6() {
        return;
    }
    let t = TempDir::new("boot-order-real");
    let scan = t.join("scan");
    let net = svc(&scan, "net", "0.4", &[], true);
    let db = svc(&scan, "db", "0", &["net"], true);
    let web = svc(&scan, "web", "0", &["db"], false);
    let d = scanner(Impl::Real, &scan, &t.join("err"));
    assert!(wait_ready(&[&net, &db, &web]));
    // Not gated: db did not wait for net's readiness.
    assert!(stamp(&db, "start").unwrap() < stamp(&net, "ready").unwrap());
    let out = run(real("s6-svc"), &["-wD", "-d", db.to_str().unwrap()], &scan);
    assert!(out.status.success());
    assert!(!status(&db).unwrap().is_up());
    let out = run(real("s6-svc"), &["-wU", "-u", db.to_str().unwrap()], &scan);
    assert!(out.status.success());
    assert!(status(&db).unwrap().is_up());
    stop_scanner(Impl::Real, &scan, d);
}

/// A held start: db is "down, want up" while net is up but not ready; `s6-svc -d` cancels the
/// held start (db stays down once net is ready); `s6-svc -u` then starts it at once.
#[test]
fn down_cancels_a_held_start() {
    let t = TempDir::new("boot-order-held");
    let scan = t.join("scan");
    // net is ready once the test creates net/go.
    let net = scan.join("net");
    make_service(&net, "while [ ! -e go ]; do sleep 0.02; done\ndate +%s%N > ready\necho >&3\nexec sleep 1000");
    std::fs::write(net.join("notification-fd"), "3\n").unwrap();
    let db = svc(&scan, "db", "0", &["net"], true);
    let d = scanner(Impl::Ours, &scan, &t.join("err"));
    let err = || std::fs::read_to_string(t.join("err")).unwrap_or_default();
    assert!(wait_until(PROMPT, || status(&net).is_some_and(|s| s.is_up()) && status(&db).is_some()));
    std::thread::sleep(Duration::from_millis(300));
    let st = status(&db).unwrap();
    assert!(!st.is_up() && st.wantup && stamp(&db, "start").is_none(), "{st:?}");
    // s6-svstat says so.
    let out = run(ours("s6-svstat"), &[db.to_str().unwrap()], &scan);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("down (exitcode 0)"), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("want up"), "{out:?}");
    let out = run(ours("s6-svc"), &["-d", db.to_str().unwrap()], &scan);
    assert!(out.status.success());
    assert!(wait_until(PROMPT, || !status(&db).unwrap().wantup));
    std::fs::write(net.join("go"), "").unwrap();
    assert!(wait_ready(&[&net]));
    std::thread::sleep(Duration::from_millis(300));
    assert!(stamp(&db, "start").is_none(), "db started while wanted down");
    // Wanted up again: the first start still goes through the gate (satisfied now).
    let out = run(ours("s6-svc"), &["-u", db.to_str().unwrap()], &scan);
    assert!(out.status.success());
    assert!(wait_ready(&[&db]), "{}", err());
    assert!(stamp(&db, "start").unwrap() >= stamp(&net, "ready").unwrap());
    assert!(!err().contains("warning"), "{}", err());
    stop_scanner(Impl::Ours, &scan, d);
}

/// A dependency that is not in the scan directory, or that is wanted down (a `down` file), is
/// not coming up by itself: not waited for, with a warning naming both services, once each.
#[test]
fn absent_or_wanted_down_dependency_is_not_waited_for() {
    let t = TempDir::new("boot-order-absent");
    let scan = t.join("scan");
    let off = svc(&scan, "off", "0", &[], true);
    std::fs::write(off.join("down"), "").unwrap();
    let db = svc(&scan, "db", "0", &["ghost", "off"], true);
    let d = scanner(Impl::Ours, &scan, &t.join("err"));
    let err = || std::fs::read_to_string(t.join("err")).unwrap_or_default();
    assert!(wait_ready(&[&db]), "{}", err());
    assert!(stamp(&off, "start").is_none());
    let e = err();
    assert_eq!(e.matches("db needs ghost, which is not in the scan directory: not waiting for it").count(), 1, "{e}");
    assert_eq!(e.matches("db needs off, which is wanted down: not waiting for it").count(), 1, "{e}");
    stop_scanner(Impl::Ours, &scan, d);
}

/// The gate applies to the first start only: with net down (wanted down), db's run dying is
/// restarted at once, as s6-rc leaves a running dependent alone.
#[test]
fn restart_after_a_death_is_not_gated() {
    let t = TempDir::new("boot-order-restart");
    let scan = t.join("scan");
    let net = svc(&scan, "net", "0", &[], true);
    let db = svc(&scan, "db", "0", &["net"], true);
    let d = scanner(Impl::Ours, &scan, &t.join("err"));
    assert!(wait_ready(&[&net, &db]));
    let out = run(ours("s6-svc"), &["-wD", "-d", net.to_str().unwrap()], &scan);
    assert!(out.status.success());
    let first = status(&db).unwrap().pid;
    std::fs::remove_file(db.join("ready")).unwrap();
    let out = run(ours("s6-svc"), &["-k", db.to_str().unwrap()], &scan);
    assert!(out.status.success());
    assert!(wait_ready(&[&db]), "db was not restarted with net down");
    assert_ne!(status(&db).unwrap().pid, first);
    assert!(!status(&net).unwrap().is_up());
    stop_scanner(Impl::Ours, &scan, d);
}

/// A cycle never blocks a boot: each service of `a -> b -> a` starts without waiting, with the
/// cycle in a warning; c, which needs a, waits for a as usual.
#[test]
fn a_cycle_starts_without_waiting_and_says_so() {
    let t = TempDir::new("boot-order-cycle");
    let scan = t.join("scan");
    let a = svc(&scan, "a", "0.3", &["b"], true);
    let b = svc(&scan, "b", "0.3", &["a"], false);
    let c = svc(&scan, "c", "0", &["a"], true);
    let d = scanner(Impl::Ours, &scan, &t.join("err"));
    assert!(wait_ready(&[&a, &b, &c]), "{}", std::fs::read_to_string(t.join("err")).unwrap());
    let err = std::fs::read_to_string(t.join("err")).unwrap();
    assert!(err.contains("dependency cycle: a -> b -> a: starting without waiting"), "{err}");
    assert!(err.contains("dependency cycle: b -> a -> b: starting without waiting"), "{err}");
    assert!(stamp(&c, "start").unwrap() >= stamp(&a, "ready").unwrap());
    stop_scanner(Impl::Ours, &scan, d);
}

/// An available service `name` of the tree under `root` (enabled when `enabled`) that needs
/// `needs` (in `dependencies.d/`).
fn defined(root: &Path, name: &str, needs: &[&str], enabled: bool) {
    let d = root.join("etc/s6/services/available").join(name);
    make_service(&d, "exec sleep 1000");
    if !needs.is_empty() {
        std::fs::create_dir_all(d.join("dependencies.d")).unwrap();
        for n in needs {
            std::fs::write(d.join("dependencies.d").join(n), "").unwrap();
        }
    }
    if enabled {
        let en = root.join("etc/s6/services/enabled");
        std::fs::create_dir_all(&en).unwrap();
        std::os::unix::fs::symlink(format!("../available/{name}"), en.join(name)).unwrap();
    }
}

/// `init copy-enabled` pulls in what the enabled services need (one line each on its stderr,
/// the catch-all log at boot); a service in a cycle or with a missing dependency is copied
/// without its dependency files (it starts without waiting), with the reason; the definitions
/// are left as they are.
#[test]
fn copy_enabled_pulls_in_what_is_needed() {
    let t = TempDir::new("boot-order-pull");
    let root = t.path();
    defined(root, "net", &[], false);
    defined(root, "db", &["net"], true);
    defined(root, "web", &["db", "ghost"], true);
    defined(root, "a", &["b"], true);
    defined(root, "b", &["a"], false);
    defined(root, "unused", &[], false);
    std::fs::create_dir_all(root.join("s6/run")).unwrap();
    let out = command(ours("init")).arg("copy-enabled").env("MERIT_ROOT", root).stdin(Stdio::null()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "init: pulling in b (needed by a)",
            "init: pulling in net (needed by db)",
            "init: web needs ghost, which is not an available service: web starts without waiting for its dependencies",
            "init: dependency cycle: a -> b -> a: a, b start without waiting for their dependencies",
        ],
        "{err}"
    );
    let scan = root.join("s6/run");
    let mut copied: Vec<String> = std::fs::read_dir(&scan)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    copied.sort();
    assert_eq!(copied, ["a", "b", "db", "net", "web"]);
    assert!(scan.join("db/dependencies.d/net").is_file());
    for n in ["a", "b", "web"] {
        assert!(!scan.join(n).join("dependencies.d").exists(), "{n} keeps its dependencies");
        assert!(root.join("etc/s6/services/available").join(n).join("dependencies.d").is_dir());
    }
}

/// A run body for a booted namespace: writes ROOT/var/log/NAME.start, then, after `delay`,
/// NAME.ready and the readiness line on fd 3.
fn booted_stamping(root: &Path, name: &str, delay: &str) -> String {
    let log = root.join("var/log");
    let l = log.display();
    format!("date +%s%N > {l}/{name}.start\nsleep {delay}\ndate +%s%N > {l}/{name}.ready\necho >&3\nexec sleep 1000")
}

fn log_stamp(root: &Path, file: &str) -> Option<u128> {
    std::fs::read_to_string(root.join("var/log").join(file)).ok()?.trim().parse().ok()
}

/// A PID-namespace boot of a 50-service graph (each service needs up to three earlier ones,
/// each ready after 20-80 ms through notification-fd; five needed services are not enabled
/// and are pulled in): every service's first start is after the ready stamp of each service it
/// needs; the boot says what it pulled in and warns of nothing; telinit 0 ends it cleanly.
#[test]
fn pid_namespace_boot_of_a_50_service_graph() {
    if !crate::common::can_unshare("booting a dependency graph in a PID namespace") {
        return;
    }
    use crate::initns::*;
    let t = TempDir::new("boot-order-ns");
    let root = t.path().to_path_buf();
    skeleton(&root);
    let mut rng = Rng(0x5eed_0012);
    let mut needs: Vec<Vec<usize>> = Vec::new();
    for i in 0..50usize {
        let mut v: Vec<usize> = Vec::new();
        if i >= 5 {
            // Every one of s00..s04 (not enabled) is needed by someone.
            v.push(i % 5);
            for _ in 0..rng.below(3) {
                let j = rng.index(i);
                if !v.contains(&j) {
                    v.push(j);
                }
            }
        }
        needs.push(v);
        let name = format!("s{i:02}");
        let delay = format!("0.0{}", 2 + rng.below(7));
        let d = service(&root, &name, &booted_stamping(&root, &name, &delay));
        std::fs::write(d.join("notification-fd"), "3\n").unwrap();
        if let Some(v) = needs.last().filter(|v| !v.is_empty()) {
            std::fs::create_dir_all(d.join("dependencies.d")).unwrap();
            for j in v {
                std::fs::write(d.join("dependencies.d").join(format!("s{j:02}")), "").unwrap();
            }
        }
        if i < 5 {
            std::fs::remove_file(root.join("etc/s6/services/enabled").join(&name)).unwrap();
        }
    }
    let mut b = boot(&root, Boot::default());
    let ok =
        wait_until(Duration::from_secs(60), || (0..50).all(|i| log_stamp(&root, &format!("s{i:02}.ready")).is_some()));
    assert!(ok, "not all ready\nconsole:\n{}", b.console_text());
    for (i, v) in needs.iter().enumerate() {
        let start = log_stamp(&root, &format!("s{i:02}.start")).unwrap();
        for j in v {
            let ready = log_stamp(&root, &format!("s{j:02}.ready")).unwrap();
            assert!(start >= ready, "s{i:02} started at {start}, before s{j:02} was ready at {ready}");
        }
    }
    // What init and the supervisors said: on the catch-all log.
    let current = b.inside("s6/uncaught-logs/current");
    let said = || std::fs::read_to_string(&current).unwrap_or_default() + &b.console_text();
    let pulled = |s: &str| (0..5).all(|i| s.contains(&format!("init: pulling in s{i:02} (needed by ")));
    assert!(wait_until(PROMPT, || pulled(&said())), "{}", said());
    assert!(!said().contains("warning"), "{}", said());
    b.halt_cleanly("50-service graph");
}

/// `telinit 0` stops the services in reverse dependency order: web (needs db) is down before
/// db is told to stop, db (needs net) before net is. Each takes 0.5 s to stop after SIGTERM:
/// stopped all at once, net and db would get their SIGTERM before web and db were down.
#[test]
fn shutdown_stops_dependents_first() {
    if !crate::common::can_unshare("the shutdown order in a PID namespace") {
        return;
    }
    use crate::initns::*;
    let t = TempDir::new("boot-order-down");
    let root = t.path().to_path_buf();
    skeleton(&root);
    let l = root.join("var/log");
    let l = l.display();
    for (name, needs) in [("net", None), ("db", Some("net")), ("web", Some("db")), ("solo", None)] {
        let body = format!(
            "trap 'date +%s%N > {l}/{name}.term; sleep 0.5; date +%s%N > {l}/{name}.stopped; exit 0' TERM\n\
             date +%s%N > {l}/{name}.start\nwhile :; do sleep 0.05; done"
        );
        let d = service(&root, name, &body);
        if let Some(n) = needs {
            std::fs::write(d.join("dependencies"), format!("{n}\n")).unwrap();
        }
        logger(&root, name);
    }
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["net", "db", "web", "solo"]);
    b.halt_cleanly("shutdown order");
    let s = |f: &str| log_stamp(&root, f).unwrap_or_else(|| panic!("no {f}\n{}", b.console_text()));
    assert!(s("web.stopped") <= s("db.term"), "db stopped before web was down");
    assert!(s("db.stopped") <= s("net.term"), "net stopped before db was down");
    // solo, which nobody needs, went down with the first layer, not at the end.
    assert!(s("solo.term") < s("db.term"), "solo was not stopped with the first layer");
}

// ---------------------------------------------------------------------------------------------
// How a held start listens: a gate's entry in the dependency's `event/` (merit-gate:@...), told
// by the dependency's supervisor only at the events that may let it go.
// ---------------------------------------------------------------------------------------------

/// The start gates' entries in `event`: (name, what lstat says).
fn gate_entries(event: &Path) -> Vec<(String, merit_sys::fs::FileStat)> {
    let mut v: Vec<_> = std::fs::read_dir(event)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_else(|_| Vec::new())
        .into_iter()
        .filter(|n: &String| n.starts_with("merit-gate:@"))
        .filter_map(|n| merit_sys::fs::lstat(&event.join(&n)).ok().map(|st| (n, st)))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// A service whose run waits for `go` in its directory, then says it is ready (fd 3).
fn waits_for_go(scan: &Path, name: &str) -> PathBuf {
    let d = scan.join(name);
    make_service(&d, "while [ ! -e go ]; do sleep 0.02; done\ndate +%s%N > ready\necho >&3\nexec sleep 1000");
    std::fs::write(d.join("notification-fd"), "3\n").unwrap();
    d
}

/// While db's start is held for net, net/event holds one gate entry: a hard link to db's own
/// supervise/control (same inode), named `merit-gate:@<TAI64N label>:<6>` (43 bytes). Once net
/// is ready, db starts and the entry is gone.
#[test]
fn a_held_start_listens_through_a_link_to_its_control_fifo() {
    let t = TempDir::new("boot-order-link");
    let scan = t.join("scan");
    let net = waits_for_go(&scan, "net");
    let db = svc(&scan, "db", "0", &["net"], true);
    let d = scanner(Impl::Ours, &scan, &t.join("err"));
    let err = || std::fs::read_to_string(t.join("err")).unwrap_or_default();
    assert!(wait_until(PROMPT, || gate_entries(&net.join("event")).len() == 1), "no gate entry: {}", err());
    let control = merit_sys::fs::lstat(&db.join("supervise/control")).unwrap();
    let entries = gate_entries(&net.join("event"));
    let (name, st) = &entries[0];
    // Named after the control FIFO it is: its inode and device numbers.
    assert_eq!(*name, format!("merit-gate:@{:016x}{:08x}:linked", control.ino, control.dev & 0xffff_ffff));
    assert!(st.is_fifo() && (st.dev, st.ino) == (control.dev, control.ino), "{name}: {st:?} vs {control:?}");
    assert!(stamp(&db, "start").is_none());
    std::fs::write(net.join("go"), "").unwrap();
    assert!(wait_ready(&[&net, &db]), "{}", err());
    assert!(stamp(&db, "start").unwrap() >= stamp(&net, "ready").unwrap());
    assert!(gate_entries(&net.join("event")).is_empty(), "{:?}", gate_entries(&net.join("event")));
    assert!(!err().contains("warning"), "{}", err());
    stop_scanner(Impl::Ours, &scan, d);
}

/// net's `event/` on another file system than db's `supervise/` (a symlink into /dev/shm): no
/// hard link can be made there (EXDEV), so db's held start subscribes a FIFO of its own under
/// the gate's name, and still starts once net is ready.
#[test]
fn a_held_start_across_file_systems_listens_through_a_fifo() {
    let t = TempDir::new("boot-order-xdev");
    let shm = Path::new("/dev/shm");
    let dev = |p: &Path| merit_sys::fs::stat(p).map(|s| s.dev).ok();
    if dev(shm).is_none() || dev(shm) == dev(t.path()) {
        cannot_run(
            "a_held_start_across_file_systems_listens_through_a_fifo",
            "no /dev/shm on another file system than the temp dir",
        );
        return;
    }
    let away =
        shm.join(format!("merit-test-xdev-{}-{}", std::process::id(), t.path().file_name().unwrap().to_string_lossy()));
    std::fs::create_dir(&away).unwrap();
    let scan = t.join("scan");
    let net = waits_for_go(&scan, "net");
    std::os::unix::fs::symlink(&away, net.join("event")).unwrap();
    let db = svc(&scan, "db", "0", &["net"], true);
    let d = scanner(Impl::Ours, &scan, &t.join("err"));
    let err = || std::fs::read_to_string(t.join("err")).unwrap_or_default();
    let found = wait_until(PROMPT, || gate_entries(&net.join("event")).len() == 1);
    let entries = gate_entries(&net.join("event"));
    let control = merit_sys::fs::lstat(&db.join("supervise/control")).unwrap();
    std::fs::write(net.join("go"), "").unwrap();
    let ready = wait_ready(&[&net, &db]);
    stop_scanner(Impl::Ours, &scan, d);
    let _ = std::fs::remove_dir_all(&away);
    assert!(found, "no gate entry in {}: {}", away.display(), err());
    let (name, st) = &entries[0];
    assert!(st.is_fifo() && st.ino != control.ino, "{name}: {st:?}");
    assert!(ready, "{}", err());
    assert!(stamp(&db, "start").unwrap() >= stamp(&net, "ready").unwrap());
}

/// net under the REAL s6-supervise, db under ours: s6 writes nothing to a gate's entry, so
/// db's held start finds net ready by looking again (after 1 s, then 2 s, ...), and starts
/// after net's ready stamp.
#[test]
fn a_held_start_waits_for_a_dependency_under_the_real_s6_supervise() {
    if !have_real_s6() {
        return;
    }
    let t = TempDir::new("boot-order-mixed");
    let scan = t.join("scan");
    let net = waits_for_go(&scan, "net");
    let db = svc(&scan, "db", "0", &["net"], true);
    let real_sup = start_supervisor(Impl::Real, &net);
    let our_sup = start_supervisor(Impl::Ours, &db);
    assert!(wait_until(PROMPT, || gate_entries(&net.join("event")).len() == 1));
    std::thread::sleep(Duration::from_millis(200));
    assert!(stamp(&db, "start").is_none(), "db started before net was ready");
    std::fs::write(net.join("go"), "").unwrap();
    assert!(wait_until(Duration::from_secs(20), || stamp(&db, "ready").is_some()), "db never started");
    assert!(stamp(&db, "start").unwrap() >= stamp(&net, "ready").unwrap());
    for (imp, dir, sup) in [(Impl::Ours, &db, our_sup), (Impl::Real, &net, real_sup)] {
        let _ = run(imp.bin("s6-svc"), &["-x", dir.to_str().unwrap()], &scan);
        let mut sup = sup;
        sup.wait_timeout(Duration::from_secs(10));
    }
}

/// What our s6-supervise tells each kind of listener in its `event/`: an s6 subscriber every
/// event; a start gate `!` only when the service may let it go (ready here, not the `u` before
/// it; then wanted down); a stale gate FIFO (no reader) is removed; an entry under a
/// listener's name that is not a FIFO (a hard link to a file, a symlink) is never written.
#[test]
fn events_tell_start_gates_only_what_may_let_them_go() {
    use merit_sys::fifodir::{Listener, Subscription};
    let t = TempDir::new("boot-order-tell");
    let net = waits_for_go(t.path(), "net");
    let event = net.join("event");
    let label = |k: u8| {
        let (s, ns) = merit_sys::clock::wall();
        let mut l = merit_core::tai::Tain::from_unix(s, ns).label();
        l[24] = k;
        l
    };
    let s6 = Subscription::with(&event, &label(b'0'), Listener::Ftrig).unwrap();
    let gate = Subscription::with(&event, &label(b'1'), Listener::Gate).unwrap();
    // Planted under listeners' names: a stale gate FIFO, a hard link to a regular file, a
    // symlink to another regular file.
    let lbl = String::from_utf8(label(b'2').to_vec()).unwrap();
    let stale = event.join(format!("merit-gate:{lbl}:staleF"));
    merit_sys::mkfifo(&stale, 0o600).unwrap();
    let victim = t.join("victim");
    std::fs::write(&victim, "").unwrap();
    std::fs::hard_link(&victim, event.join(format!("merit-gate:{lbl}:linkdF"))).unwrap();
    let victim2 = t.join("victim2");
    std::fs::write(&victim2, "").unwrap();
    std::os::unix::fs::symlink(&victim2, event.join(format!("ftrig1:{lbl}:symlnk"))).unwrap();
    let read = |s: &Subscription, got: &mut Vec<u8>| {
        let mut buf = [0u8; 64];
        while let Ok(n) = s.read_events(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    };
    let (mut got_s6, mut got_gate) = (Vec::new(), Vec::new());
    let mut sup = start_supervisor(Impl::Ours, &net);
    assert!(wait_until(PROMPT, || {
        read(&s6, &mut got_s6);
        got_s6.ends_with(b"u")
    }));
    std::thread::sleep(Duration::from_millis(100));
    read(&gate, &mut got_gate);
    assert_eq!(String::from_utf8_lossy(&got_gate), "", "s6 got {:?}", String::from_utf8_lossy(&got_s6));
    std::fs::write(net.join("go"), "").unwrap();
    assert!(wait_until(PROMPT, || {
        read(&gate, &mut got_gate);
        !got_gate.is_empty()
    }));
    read(&s6, &mut got_s6);
    assert_eq!(String::from_utf8_lossy(&got_s6), "suU");
    assert_eq!(String::from_utf8_lossy(&got_gate), "!");
    assert!(!stale.exists(), "the stale gate FIFO is still there");
    let out = run(ours("s6-svc"), &["-wd", "-d", net.to_str().unwrap()], t.path());
    assert!(out.status.success(), "{out:?}");
    assert!(wait_until(PROMPT, || {
        read(&gate, &mut got_gate);
        got_gate.len() >= 2
    }));
    assert!(got_gate.iter().all(|b| *b == b'!'), "{got_gate:?}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"", "a hard link to a file was written to");
    assert_eq!(std::fs::read(&victim2).unwrap(), b"", "a symlink was followed");
    let _ = run(ours("s6-svc"), &["-x", net.to_str().unwrap()], t.path());
    sup.wait_timeout(Duration::from_secs(10));
}

/// A supervisor SIGKILLed while it holds a start leaves its gate link (its drop never ran); the
/// next supervisor of that service reopens the same control FIFO and takes that link over,
/// instead of adding one: one entry while held, none once the start went.
#[test]
fn a_gate_link_left_by_a_killed_supervisor_is_taken_over() {
    let t = TempDir::new("boot-order-killed");
    let scan = t.join("scan");
    let net = waits_for_go(&scan, "net");
    let db = svc(&scan, "db", "0", &["net"], true);
    let mut net_sup = start_supervisor(Impl::Ours, &net);
    let mut first = start_supervisor(Impl::Ours, &db);
    assert!(wait_until(PROMPT, || gate_entries(&net.join("event")).len() == 1));
    first.signal(merit_sys::signal::SIGKILL);
    first.wait_timeout(Duration::from_secs(10));
    assert_eq!(gate_entries(&net.join("event")).len(), 1, "the killed supervisor's link");
    let mut second = start_supervisor(Impl::Ours, &db);
    // The held start of the new supervisor: still one entry, the same.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(gate_entries(&net.join("event")).len(), 1, "{:?}", gate_entries(&net.join("event")));
    assert!(stamp(&db, "start").is_none());
    std::fs::write(net.join("go"), "").unwrap();
    assert!(wait_ready(&[&net, &db]));
    assert!(
        wait_until(PROMPT, || gate_entries(&net.join("event")).is_empty()),
        "{:?}",
        gate_entries(&net.join("event"))
    );
    for (dir, sup) in [(&db, &mut second), (&net, &mut net_sup)] {
        let _ = run(ours("s6-svc"), &["-dx", dir.to_str().unwrap()], &scan);
        sup.wait_timeout(Duration::from_secs(10));
    }
}

/// A dependency whose directory goes away while a start is held for it (it had no supervisor
/// yet) is not coming: the held start looks again (after 1 s, then every 2 s), warns that it
/// is not in the scan directory, and goes.
#[test]
fn a_dependency_removed_while_waited_for_is_not_waited_for_any_longer() {
    let t = TempDir::new("boot-order-removed");
    let scan = t.join("scan");
    let net = waits_for_go(&scan, "net");
    let db = svc(&scan, "db", "0", &["net"], true);
    let err = t.join("err");
    let mut cmd = command(ours("s6-supervise"));
    cmd.arg("db").current_dir(&scan).stdout(Stdio::null()).stderr(std::fs::File::create(&err).unwrap());
    let mut d = Daemon::spawn(cmd);
    assert!(wait_until(PROMPT, || gate_entries(&net.join("event")).len() == 1));
    std::thread::sleep(Duration::from_millis(200));
    assert!(stamp(&db, "start").is_none());
    std::fs::remove_dir_all(&net).unwrap();
    assert!(
        wait_until(PROMPT, || stamp(&db, "ready").is_some()),
        "still held: {}",
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    let e = std::fs::read_to_string(&err).unwrap();
    assert!(e.contains("db needs net, which is not in the scan directory: not waiting for it"), "{e}");
    let _ = run(ours("s6-svc"), &["-dx", db.to_str().unwrap()], &scan);
    d.wait_timeout(Duration::from_secs(10));
}
