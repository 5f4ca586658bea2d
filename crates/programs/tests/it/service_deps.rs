//! `service` and dependencies in s6-rc's source format (`dependencies.d/`, `dependencies`):
//! start and stop in order with one line per service, restart and `--no-deps` on the service
//! alone, the refusals (cycles, missing services, bad names and entries) with nothing started,
//! the inspection commands (needs, needed-by, graph, the `needs:` line of status), and trees
//! with dependencies still driven by the real s6-svscan, which ignores them.

use crate::common::*;
use crate::service_common::*;
use serde_json::Value;

both!(start_and_stop_in_order, real_scanner_ignores_dependencies);

/// `available/NAME/dependencies.d/DEP` (empty files), as s6-rc's source format.
fn needs_d(t: &Tree, name: &str, deps: &[&str]) {
    let d = t.def(name).join("dependencies.d");
    std::fs::create_dir_all(&d).unwrap();
    for n in deps {
        std::fs::write(d.join(n), "").unwrap();
    }
}

/// `available/NAME/dependencies` (the older one-name-per-line file).
fn needs_file(t: &Tree, name: &str, text: &str) {
    std::fs::write(t.def(name).join("dependencies"), text).unwrap();
}

/// A service whose run appends its name to ROOT/order before it execs.
fn ordered(t: &Tree, name: &str, extra: &str) -> Spec {
    let order = t.root().join("order");
    Spec { pre: format!("{extra}\necho {name} >> {}", order.display()), ..Default::default() }
}

fn order(t: &Tree) -> String {
    std::fs::read_to_string(t.root().join("order")).unwrap_or_default()
}

/// net; db needs net (dependencies.d) and is ready only after a while (notification-fd);
/// web needs db (the dependencies file, with a comment and blank lines) and net, and records
/// whether db was ready when it started; other needs net and is never started.
fn web_tree(tag: &str) -> Tree {
    let t = Tree::new(tag);
    let ready = t.root().join("db-ready");
    let saw = t.root().join("web-saw");
    t.add("net", ordered(&t, "net", ""));
    let mut db = ordered(&t, "db", "");
    db.notification_fd = Some(3);
    db.exec = Some(format!("sleep 0.3; touch {}; echo >&3; exec {} 100000", ready.display(), t.exe("db").display()));
    t.add("db", db);
    t.add("web", ordered(&t, "web", &format!("[ -e {} ] && echo ready > {}", ready.display(), saw.display())));
    t.add("other", Spec::default());
    needs_d(&t, "db", &["net"]);
    needs_file(&t, "web", "# what web needs\n\ndb\n  net\n");
    needs_d(&t, "other", &["net"]);
    t
}

fn start_and_stop_in_order(imp: Impl) {
    let mut t = web_tree(&format!("svc-deps-order-{imp:?}"));
    t.boot(imp, &[]);
    t.service(&["web", "start"]).ok("Starting net... OK\nStarting db... OK\nStarting web... OK\n");
    assert_eq!(order(&t), "net\ndb\nweb\n");
    assert_eq!(std::fs::read_to_string(t.root().join("web-saw")).unwrap(), "ready\n", "db was ready first");
    for n in ["net", "db", "web"] {
        assert!(t.svstat(&[], n).0.starts_with("up "), "{n}");
    }
    assert_eq!(t.svstat(&["-o", "ready"], "db").0, "true\n");
    assert!(!t.svok("other"), "what is not needed is not started");
    // Already up: one line each, nothing restarted.
    let web = t.pid("web");
    t.service(&["start", "web"]).ok("Starting net... OK\nStarting db... OK\nStarting web... OK\n");
    assert_eq!(t.pid("web"), web);

    // restart: the service alone; what needs it keeps running.
    let db = t.pid("db");
    t.service(&["db", "restart"]).ok("Restarting db... OK\n");
    assert_ne!(t.pid("db"), db);
    assert_eq!(t.pid("web"), web, "web keeps running");

    // stop: what needs it first (supervised ones only: other never started), in reverse order.
    t.service(&["net", "stop"]).ok("Stopping web... OK\nStopping db... OK\nStopping net... OK\n");
    for n in ["net", "db", "web"] {
        assert!(t.svstat(&[], n).0.starts_with("down "), "{n}");
    }
    // A service without dependencies starts alone.
    t.service(&["net", "start"]).ok("Starting net... OK\n");
    assert!(t.svstat(&[], "db").0.starts_with("down "));

    // --no-deps: NAME alone, both ways.
    t.service(&["--no-deps", "web", "start"]).ok("Starting web... OK\n");
    assert!(t.svstat(&[], "db").0.starts_with("down "), "db not started");
    t.service(&["net", "stop", "--no-deps"]).ok("Stopping net... OK\n");
    assert!(t.svstat(&[], "web").0.starts_with("up "), "web not stopped");
    t.service(&["web", "stop"]).ok("Stopping web... OK\n");
    t.service(&["db", "stop"]).ok("Stopping db... OK\n");
    t.shutdown();
}

/// A dependency that cannot come up: its FAIL line, then which service could not be started,
/// and nothing after it is started.
#[test]
fn a_failing_dependency_stops_the_start() {
    let mut t = Tree::new("svc-deps-fail");
    t.add("broken", Spec { exec: Some("exit 3".into()), ..Default::default() });
    t.add("app", Spec::default());
    needs_d(&t, "app", &["broken"]);
    t.boot(Impl::Ours, &[]);
    let r = t.service(&["--timeout", "5", "app", "start"]);
    assert_eq!((r.out.as_str(), r.code), ("Starting broken... FAIL\n", 1), "{}", r.err);
    assert!(r.err.starts_with("service: broken went down right after it came up: run exited with code 3"), "{}", r.err);
    assert!(r.err.ends_with("service: app was not started: it needs broken, which did not come up\n"), "{}", r.err);
    assert!(!t.svok("app"), "app not supervised");
    t.shutdown();
}

/// Every refusal: exit 6, the services named, nothing on standard output, nothing started or
/// copied into the scan directory.
#[test]
fn bad_dependencies_are_refused_before_anything_starts() {
    let mut t = Tree::new("svc-deps-bad");
    for n in ["a", "b", "c", "top", "web", "mid", "slash", "dotdot", "dir", "link", "fine", "fdir", "dfile", "fifo"] {
        t.add(n, Spec::default());
    }
    needs_d(&t, "a", &["b"]);
    needs_file(&t, "b", "c\n");
    needs_d(&t, "c", &["a"]);
    needs_d(&t, "top", &["mid", "fine"]);
    needs_d(&t, "mid", &["web"]);
    needs_d(&t, "web", &["ghost"]);
    needs_file(&t, "slash", "fine\n../etc\n");
    needs_file(&t, "dotdot", "..\n");
    needs_d(&t, "dir", &["fine"]);
    std::fs::create_dir(t.def("dir/dependencies.d/sub")).unwrap();
    needs_d(&t, "link", &[]);
    std::os::unix::fs::symlink("../../fine", t.def("link/dependencies.d/fine")).unwrap();
    std::fs::create_dir(t.def("fdir/dependencies")).unwrap();
    std::fs::write(t.def("dfile/dependencies.d"), "fine\n").unwrap();
    assert!(std::process::Command::new("mkfifo").arg(t.def("fifo/dependencies")).status().unwrap().success());
    t.boot(Impl::Ours, &[]);
    let scan_before: Vec<String> = names_in(&t.scan());
    let cases: Vec<(&str, String)> = vec![
        ("a", "dependency cycle: a -> b -> c -> a".into()),
        ("c", "dependency cycle: a -> b -> c -> a".into()),
        ("web", "web needs ghost, which is not an available service".into()),
        ("top", "web needs ghost, which is not an available service".into()),
        ("slash", "slash: invalid service name \"../etc\" in dependencies: a service name cannot contain /".into()),
        ("dotdot", "dotdot: invalid service name \"..\" in dependencies: a service name cannot be . or ..".into()),
        ("dir", "dir: dependencies.d/sub is a directory, not a regular file".into()),
        ("link", "link: dependencies.d/fine is a symbolic link, not a regular file".into()),
        ("fdir", "fdir: dependencies is a directory, not a regular file".into()),
        ("dfile", "dfile: dependencies.d is a regular file, not a directory".into()),
        ("fifo", "fifo: dependencies is a FIFO, not a regular file".into()),
    ];
    for (name, msg) in &cases {
        for cmd in ["start", "needs"] {
            let r = t.service(&[name, cmd]);
            assert_eq!(
                (r.out.as_str(), r.err.as_str(), r.code),
                ("", format!("service: {msg}\n").as_str(), 6),
                "{name} {cmd}"
            );
        }
    }
    assert_eq!(
        names_in(&t.scan()).into_iter().filter(|n| !n.starts_with(".service-")).collect::<Vec<_>>(),
        scan_before
    );
    assert!(!t.svok("fine") && !t.svok("b"), "nothing started");
    // --no-deps does not read them.
    t.service(&["--no-deps", "a", "start"]).ok("Starting a... OK\n");
    // The graph of an enabled service that needs a missing one is refused too.
    t.enable("top");
    let r = t.service(&["graph"]);
    assert_eq!(
        (r.out.as_str(), r.err.as_str(), r.code),
        ("", "service: web needs ghost, which is not an available service\n", 6)
    );
    // Stopping a service that no broken definition is about works.
    t.service(&["fine", "stop"]).ok("Stopping fine... OK\n");
    // Stopping a service that a cycle needs: refused, nothing stopped.
    let r = t.service(&["b", "stop"]);
    assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", "service: dependency cycle: a -> b -> c -> a\n", 6));
    assert!(t.svstat(&[], "a").0.starts_with("up "));
    t.shutdown();
}

fn names_in(d: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(d).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn json(r: &Run) -> Value {
    assert_eq!(r.code, 0, "{}", r.err);
    serde_json::from_str(&r.out).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", r.out))
}

#[test]
fn inspection() {
    let mut t = web_tree("svc-deps-inspect");
    t.add("log", Spec::default());
    needs_d(&t, "net", &["log"]);
    t.add("solo", Spec::default());
    t.enable("web");
    t.enable("solo");
    t.install("solo");
    t.boot(Impl::Ours, &["solo"]);

    t.service(&["web", "needs"]).ok("log (indirect)\nnet\ndb\n");
    t.service(&["needs", "net"]).ok("log\n");
    t.service(&["solo", "needs"]).ok("");
    t.service(&["log", "needed-by"]).ok("web (indirect)\ndb (indirect)\nother (indirect)\nnet\n");
    t.service(&["needed-by", "web"]).ok("");
    let j = json(&t.service(&["--json", "web", "needs"]));
    assert_eq!(j, serde_json::json!({"name": "web", "direct": ["db", "net"], "all": ["log", "net", "db"]}));
    let j = json(&t.service(&["net", "needed-by", "--json"]));
    assert_eq!(j, serde_json::json!({"name": "net", "direct": ["db", "other", "web"], "all": ["web", "db", "other"]}));

    // The enabled graph: web and solo, and what web pulls in (dashed).
    t.service(&["graph"]).ok(concat!(
        "digraph services {\n",
        "    \"db\" [style=dashed];\n",
        "    \"db\" -> \"net\";\n",
        "    \"log\" [style=dashed];\n",
        "    \"net\" [style=dashed];\n",
        "    \"net\" -> \"log\";\n",
        "    \"solo\";\n",
        "    \"web\";\n",
        "    \"web\" -> \"db\";\n",
        "    \"web\" -> \"net\";\n",
        "}\n"
    ));
    let j = json(&t.service(&["--json", "graph"]));
    assert_eq!(
        j,
        serde_json::json!([
            {"name": "db", "enabled": false, "needs": ["net"]},
            {"name": "log", "enabled": false, "needs": []},
            {"name": "net", "enabled": false, "needs": ["log"]},
            {"name": "solo", "enabled": true, "needs": []},
            {"name": "web", "enabled": true, "needs": ["db", "net"]},
        ])
    );
    if std::process::Command::new("sh").args(["-c", "command -v dot"]).output().is_ok_and(|o| o.status.success()) {
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{} --root {} graph | dot -Tsvg >/dev/null", ours("service").display(), t.root().display()))
            .output()
            .unwrap();
        assert!(o.status.success(), "dot reads it: {o:?}");
    }

    // status: the line of s6-svstat alone without dependencies (the transcript), a needs: line
    // with them.
    let r = t.service(&["solo", "status"]);
    assert_eq!(r.code, 0);
    assert_eq!(mask(&r.out), mask(&t.svstat(&["-n"], "solo").0));
    t.service(&["net", "start"]).ok("Starting log... OK\nStarting net... OK\n");
    let r = t.service(&["web", "status"]);
    assert_eq!((r.out.as_str(), r.code), ("", 3), "not supervised");
    t.service(&["--no-deps", "db", "start"]).ok("Starting db... OK\n");
    t.service(&["--no-deps", "log", "stop"]).ok("Stopping log... OK\n");
    let r = t.service(&["db", "status"]);
    let lines: Vec<&str> = r.out.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.out);
    assert_eq!(mask(lines[0]), mask(t.svstat(&["-n"], "db").0.trim_end()));
    assert_eq!(lines[1], "needs: net (up)");
    let r = t.service(&["net", "status"]);
    assert_eq!(r.out.lines().nth(1), Some("needs: log (down)"));
    let r = t.service(&["web", "start", "--no-deps"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(t.service(&["web", "status"]).out.lines().nth(1), Some("needs: db (up), net (up)"));
    t.shutdown();
}

/// The real s6-svscan and s6-supervise run a tree whose copies hold dependency files (they
/// ignore them), and `service` orders over them.
fn real_scanner_ignores_dependencies(imp: Impl) {
    let mut t = web_tree(&format!("svc-deps-s6-{imp:?}"));
    for n in ["net", "db", "web"] {
        t.install(n);
    }
    assert!(t.svc("db/dependencies.d/net").is_file() && t.svc("web/dependencies").is_file());
    t.boot(imp, &["net", "db", "web"]);
    assert!(wait_until(PROMPT, || t.svstat(&["-o", "ready"], "db").0 == "true\n"));
    for n in ["net", "db", "web"] {
        assert!(t.svstat(&[], n).0.starts_with("up "), "{n}");
    }
    t.service(&["db", "stop"]).ok("Stopping web... OK\nStopping db... OK\n");
    t.service(&["web", "start"]).ok("Starting net... OK\nStarting db... OK\nStarting web... OK\n");
    t.shutdown();
}

/// `service list` over a tree with dependencies does not open a dependency file (traced with
/// strace when it is installed).
#[test]
fn list_reads_no_dependency_files() {
    let have = std::process::Command::new("sh").args(["-c", "command -v strace"]).output();
    if !have.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIP: strace is not installed");
        return;
    }
    let t = web_tree("svc-deps-list");
    let trace = t.root().join("trace");
    let o = std::process::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=open,openat,openat2,stat,newfstatat,statx,lstat", "-o"])
        .arg(&trace)
        .arg(ours("service"))
        .arg("--root")
        .arg(t.root())
        .arg("list")
        .env_remove("MERIT_ROOT")
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    if !o.status.success() && text.is_empty() {
        eprintln!("SKIP: strace cannot trace here: {}", String::from_utf8_lossy(&o.stderr));
        return;
    }
    assert!(o.status.success(), "{o:?}");
    assert!(text.contains("/run"), "the trace shows the files opened: {text}");
    assert!(!text.contains("dependencies"), "list touched a dependency file:\n{text}");
}

/// A service that needs NAME and ignores its down signal: its FAIL line, then why NAME was not
/// stopped; NAME keeps running.
#[test]
fn a_dependent_that_does_not_stop_keeps_its_dependency() {
    let mut t = Tree::new("svc-deps-stuck");
    t.add("base", Spec::default());
    t.add(
        "stubborn",
        Spec { pre: "trap '' TERM".into(), exec: Some("while :; do sleep 0.05; done".into()), ..Default::default() },
    );
    needs_d(&t, "stubborn", &["base"]);
    t.boot(Impl::Ours, &[]);
    t.service(&["stubborn", "start"]).ok("Starting base... OK\nStarting stubborn... OK\n");
    let r = t.service(&["--timeout", "0.5", "base", "stop"]);
    assert_eq!((r.out.as_str(), r.code), ("Stopping stubborn... FAIL\n", 1), "{}", r.err);
    assert!(r.err.starts_with("service: stubborn did not go down within 0.500 s (--timeout)"), "{}", r.err);
    assert!(r.err.ends_with("service: base was not stopped: stubborn, which needs it, did not stop\n"), "{}", r.err);
    assert!(t.svstat(&[], "base").0.starts_with("up "), "base keeps running");
    let _ = std::process::Command::new(ours("s6-svc")).arg("-k").arg(t.svc("stubborn")).status();
    assert!(wait_until(PROMPT, || t.svstat(&[], "stubborn").0.starts_with("down ")));
    // Down and wanted down: no longer running, so no line for it.
    t.service(&["base", "stop"]).ok("Stopping base... OK\n");
    t.shutdown();
}

/// `service web start` and `service net stop` at the same time, many times: each service is
/// locked only while it is acted on, so they never wait for each other forever.
#[test]
fn opposite_orders_do_not_deadlock() {
    let mut t = Tree::new("svc-deps-race");
    t.add("net", Spec::default());
    t.add("db", Spec { notification_fd: Some(3), pre: "echo >&3".into(), ..Default::default() });
    t.add("web", Spec { notification_fd: Some(3), pre: "echo >&3".into(), ..Default::default() });
    needs_d(&t, "db", &["net"]);
    needs_d(&t, "web", &["db"]);
    t.boot(Impl::Ours, &[]);
    t.service(&["web", "start"]).ok("Starting net... OK\nStarting db... OK\nStarting web... OK\n");
    for round in 0..5 {
        let mut a =
            t.service_cmd(&["--timeout", "20", "web", "start"]).stdout(std::process::Stdio::null()).spawn().unwrap();
        let mut b =
            t.service_cmd(&["--timeout", "20", "net", "stop"]).stdout(std::process::Stdio::null()).spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut done = [None, None];
        while done.iter().any(|d| d.is_none()) && std::time::Instant::now() < deadline {
            for (i, c) in [&mut a, &mut b].into_iter().enumerate() {
                if done[i].is_none() {
                    done[i] = c.try_wait().unwrap();
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        for c in [&mut a, &mut b] {
            let _ = c.kill();
            let _ = c.wait();
        }
        assert!(done.iter().all(|d| d.is_some()), "round {round}: an invocation hung");
    }
    t.shutdown();
}
