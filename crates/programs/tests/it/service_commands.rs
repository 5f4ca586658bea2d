//! `service`: the effect of every command, checked through the status files and the real
//! `s6-svstat` (ours when s6 is not installed), over our scanner and supervisors and over the
//! real s6-svscan and s6-supervise.

use crate::common::*;
use crate::service_common::*;
use serde_json::Value;
use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

both!(
    start_stop_status_with_logger,
    start_waits_for_readiness,
    start_times_out,
    restart_without_script,
    restart_with_script,
    reload_sends_sighup,
    resup_picks_up_edited_run,
    unsup_leaves_nothing_running,
    enable_disable_leave_the_service_alone,
    json_fields,
    logs_with_local_times,
    supervised_without_a_scanner,
);

fn logged() -> Spec {
    Spec { logger: true, pre: "echo \"$(basename $PWD) starting\"".into(), ..Default::default() }
}

/// `service NAME status` is `s6-svstat -n` (seconds may tick between the two runs).
#[track_caller]
fn status_is_svstat(t: &Tree, name: &str) {
    let ours = t.service(&[name, "status"]);
    let (real, code) = t.svstat(&["-n"], name);
    assert_eq!(code, 0);
    assert_eq!(mask(&ours.out), mask(&real), "ours {:?} vs s6-svstat {:?}", ours.out, real);
    // Everything but the seconds is identical (pid, signal, flags).
    assert_eq!(ours.out.split(')').next(), real.split(')').next());
    if ours.out.starts_with("up (pid ") {
        assert_eq!(ours.out.split(')').next(), real.split(')').next(), "same pid");
    }
    assert_eq!(ours.code, if ours.out.starts_with("up") { 0 } else { 3 });
}

fn start_stop_status_with_logger(imp: Impl) {
    let mut t = Tree::new(&format!("svc-start-{imp:?}"));
    t.add("ntpd", logged());
    t.boot(imp, &[]);

    let r = t.service(&["ntpd", "status"]);
    // LSB: the status of a service that is not running is 3.
    assert_eq!((r.out.as_str(), r.err.as_str(), r.code), ("", "ntpd is not a supervised service\n", 3));

    // Unsupervised: start copies the definition, the scanner supervises it, it comes up.
    t.service(&["start", "ntpd"]).ok("Starting ntpd... OK\n");
    let st = status(&t.svc("ntpd")).expect("status file");
    assert!(st.is_up(), "up as soon as start said OK");
    // (up = forked: the run script execs the service's binary a moment later)
    assert!(wait_until(PROMPT, || t.pgrep("ntpd") == vec![st.pid as i32]), "{:?}", t.pgrep("ntpd"));
    let (out, _) = t.svstat(&[], "ntpd");
    assert!(out.starts_with(&format!("up (pid {}) ", st.pid)), "{out}");
    assert!(wait_until(PROMPT, || t.svstat(&[], "ntpd/log").0.starts_with("up ")), "the logger runs");
    assert!(t.svok("ntpd") && t.svok("ntpd/log"));
    status_is_svstat(&t, "ntpd");

    // stop: the service and its logger are down when OK is printed; both stay supervised.
    t.service(&["ntpd", "stop"]).ok("Stopping ntpd... OK\n");
    assert!(!status(&t.svc("ntpd")).unwrap().is_up());
    assert!(!status(&t.svc("ntpd/log")).unwrap().is_up(), "the logger is stopped too");
    let (out, _) = t.svstat(&["-n"], "ntpd");
    assert!(out.starts_with("down (signal 15) "), "{out}");
    assert!(t.svstat(&[], "ntpd/log").0.starts_with("down "));
    assert!(t.pgrep("ntpd").is_empty());
    assert!(t.svok("ntpd") && t.svok("ntpd/log"), "still supervised");
    status_is_svstat(&t, "ntpd");
    let r = t.service(&["ntpd", "status"]);
    assert_eq!(r.code, 3, "down: exit 3");

    // start again: both up.
    t.service(&["ntpd", "start"]).ok("Starting ntpd... OK\n");
    assert!(status(&t.svc("ntpd")).unwrap().is_up());
    assert!(wait_until(PROMPT, || status(&t.svc("ntpd/log")).is_some_and(|s| s.is_up())));
    status_is_svstat(&t, "ntpd");

    // stop in the other order, twice (already down: still OK).
    t.service(&["stop", "ntpd"]).ok("Stopping ntpd... OK\n");
    t.service(&["stop", "ntpd"]).ok("Stopping ntpd... OK\n");
    t.shutdown();
}

/// Spawns `service ARGS` with its stdout collected by a thread.
fn spawn_collecting(
    t: &Tree,
    args: &[&str],
) -> (std::process::Child, Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let mut child = t.service_cmd(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut so = child.stdout.take().unwrap();
    let buf = Arc::new(Mutex::new(Vec::new()));
    let b2 = buf.clone();
    let th = std::thread::spawn(move || {
        let mut chunk = [0u8; 256];
        while let Ok(n) = so.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b2.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    (child, buf, th)
}

fn start_waits_for_readiness(imp: Impl) {
    let mut t = Tree::new(&format!("svc-ready-{imp:?}"));
    let go = t.root().join("go");
    t.add(
        "ready",
        Spec {
            notification_fd: Some(3),
            pre: format!("while [ ! -e {} ]; do sleep 0.02; done\necho ready >&3", go.display()),
            ..Default::default()
        },
    );
    t.boot(imp, &[]);
    let (mut child, buf, th) = spawn_collecting(&t, &["ready", "start", "--timeout", "20"]);
    // The service runs, but has not written its readiness line: no OK yet.
    let svc = t.svc("ready");
    assert!(wait_until(PROMPT, || status(&svc).is_some_and(|s| s.is_up())), "the service runs");
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "start returned before readiness");
    assert_eq!(String::from_utf8_lossy(&buf.lock().unwrap()), "Starting ready...");
    assert!(!status(&svc).unwrap().ready);
    let (out, _) = t.svstat(&["-o", "up,ready"], "ready");
    assert_eq!(out, "true false\n");
    // The readiness line: now OK.
    std::fs::write(&go, "").unwrap();
    let st = child.wait().unwrap();
    th.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&buf.lock().unwrap()), "Starting ready... OK\n");
    assert_eq!(st.code(), Some(0));
    assert!(status(&svc).unwrap().ready, "ready when OK is printed");
    assert_eq!(t.svstat(&["-o", "up,ready"], "ready").0, "true true\n");
    // Already up and ready: OK at once.
    t.service(&["start", "ready"]).ok("Starting ready... OK\n");
    t.shutdown();
}

fn start_times_out(imp: Impl) {
    let mut t = Tree::new(&format!("svc-timeout-{imp:?}"));
    t.add("slow", Spec { notification_fd: Some(3), ..Default::default() });
    t.boot(imp, &[]);
    let t0 = Instant::now();
    let r = t.service(&["--timeout", "0.5", "slow", "start"]);
    let took = t0.elapsed();
    assert_eq!((r.out.as_str(), r.code), ("Starting slow... FAIL\n", 1), "{}", r.err);
    // The reason says how the service was left (up, not ready).
    let pid = t.pid("slow").expect("up");
    assert_eq!(
        mask(&r.err),
        mask(&format!(
            "service: slow did not become ready within 0.500 s (--timeout): it is up (pid {pid}) 0 seconds\n"
        ))
    );
    assert!(r.err.contains(&format!("(pid {pid})")), "{}", r.err);
    assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(8), "{took:?}");
    // It runs (up, not ready): the supervisor keeps it.
    assert_eq!(t.svstat(&["-o", "up,ready"], "slow").0, "true false\n");
    // No scanner-side leftovers of the waiter.
    let ev: Vec<_> = std::fs::read_dir(t.svc("slow/event")).unwrap().flatten().collect();
    assert!(ev.is_empty(), "subscriber FIFOs left: {ev:?}");
    t.shutdown();
}

fn restart_without_script(imp: Impl) {
    let mut t = Tree::new(&format!("svc-restart-{imp:?}"));
    t.add("web", logged());
    t.install("web");
    t.boot(imp, &["web"]);
    let p1 = t.pid("web").unwrap();
    t.service(&["web", "restart"]).ok("Restarting web... OK\n");
    let p2 = t.pid("web").expect("up when OK is printed");
    assert_ne!(p1, p2);
    assert!(wait_until(PROMPT, || t.pgrep("web") == vec![p2]), "{:?}", t.pgrep("web"));
    assert!(t.svstat(&[], "web").0.starts_with(&format!("up (pid {p2}) ")));
    // The other order, and an unsupervised service.
    t.service(&["restart", "web"]).ok("Restarting web... OK\n");
    assert_ne!(t.pid("web").unwrap(), p2);
    t.add("idle", Spec::default());
    // LSB: restarting a service that is not running starts it.
    t.service(&["idle", "restart"]).ok("Restarting idle... OK\n");
    assert!(t.svok("idle") && t.pid("idle").is_some());
    t.shutdown();
}

fn restart_with_script(imp: Impl) {
    let mut t = Tree::new(&format!("svc-restart-script-{imp:?}"));
    let marker = t.root().join("marker");
    t.add(
        "web",
        Spec { restart: Some(format!("echo \"restarted in $PWD\" >> {}", marker.display())), ..Default::default() },
    );
    t.install("web");
    t.boot(imp, &["web"]);
    let p1 = t.pid("web").unwrap();
    t.service(&["web", "restart"]).ok("Restarting web... OK\n");
    let m = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(m, format!("restarted in {}\n", t.svc("web").canonicalize().unwrap().display()));
    assert_eq!(t.pid("web"), Some(p1), "the script did nothing to the service");
    // A failing script: FAIL, exit 1, the reason.
    write_exec(&t.svc("web/restart"), "#!/bin/sh\nexit 3\n");
    let r = t.service(&["web", "restart"]);
    assert_eq!((r.out.as_str(), r.code), ("Restarting web... FAIL\n", 1));
    assert!(r.err.contains("restart failed") && r.err.contains("exit status: 3"), "{}", r.err);
    t.shutdown();
}

fn reload_sends_sighup(imp: Impl) {
    let mut t = Tree::new(&format!("svc-reload-{imp:?}"));
    let hups = t.root().join("hups");
    t.add(
        "conf",
        Spec {
            pre: format!("trap 'echo hup >> {}' HUP", hups.display()),
            exec: Some("while :; do sleep 0.05; done".into()),
            ..Default::default()
        },
    );
    t.install("conf");
    t.boot(imp, &["conf"]);
    let p = t.pid("conf").unwrap();
    t.service(&["conf", "reload"]).ok("Reloading conf... OK\n");
    assert!(wait_until(PROMPT, || std::fs::read_to_string(&hups).is_ok_and(|s| s == "hup\n")), "SIGHUP delivered");
    t.service(&["reload", "conf"]).ok("Reloading conf... OK\n");
    assert!(wait_until(PROMPT, || std::fs::read_to_string(&hups).is_ok_and(|s| s == "hup\nhup\n")));
    assert_eq!(t.pid("conf"), Some(p), "reload does not restart");
    assert!(t.svstat(&[], "conf").0.starts_with(&format!("up (pid {p}) ")));
    t.shutdown();
}

fn resup_picks_up_edited_run(imp: Impl) {
    let mut t = Tree::new(&format!("svc-resup-{imp:?}"));
    let version = t.root().join("version");
    let mut spec = logged();
    spec.pre = format!("echo v1 > {}", version.display());
    t.add("app", spec.clone());
    t.install("app");
    t.boot(imp, &["app"]);
    let p1 = t.pid("app").unwrap();
    assert!(wait_until(PROMPT, || std::fs::read_to_string(&version).is_ok_and(|v| v == "v1\n")));
    // Edit the definition: restart keeps the old run, resup picks up the new one.
    spec.pre = format!("echo v2 > {}", version.display());
    t.add("app", spec);
    t.service(&["app", "restart"]).ok("Restarting app... OK\n");
    let p2 = t.pid("app").unwrap();
    assert_ne!(p1, p2);
    // (up = forked: wait for the run script to reach its exec, past the echo)
    assert!(wait_until(PROMPT, || t.pgrep("app") == vec![p2]));
    assert_eq!(std::fs::read_to_string(&version).unwrap(), "v1\n");
    t.service(&["app", "resup"]).ok("Restarting supervision of app... OK\n");
    assert!(wait_until(PROMPT, || std::fs::read_to_string(&version).is_ok_and(|v| v == "v2\n")));
    assert_eq!(std::fs::read(t.svc("app/run")).unwrap(), std::fs::read(t.def("app/run")).unwrap());
    let p3 = t.pid("app").expect("up when OK is printed");
    assert_ne!(p3, p2);
    assert!(wait_until(PROMPT, || t.pgrep("app") == vec![p3]), "only the new process: {:?}", t.pgrep("app"));
    assert!(t.svstat(&[], "app").0.starts_with(&format!("up (pid {p3}) ")));
    assert!(wait_until(PROMPT, || t.svstat(&[], "app/log").0.starts_with("up ")), "the new logger runs");
    let hidden: Vec<String> = std::fs::read_dir(t.scan())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".app"))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    // resup of an unsupervised service supervises it.
    t.add("other", Spec::default());
    t.service(&["resup", "other"]).ok("Restarting supervision of other... OK\n");
    assert!(t.svok("other") && t.pid("other").is_some());
    t.shutdown();
}

fn unsup_leaves_nothing_running(imp: Impl) {
    let mut t = Tree::new(&format!("svc-unsup-{imp:?}"));
    t.add("gone", logged());
    t.add("stay", logged());
    for n in ["gone", "stay"] {
        t.install(n);
    }
    t.boot(imp, &["gone", "stay"]);
    assert!(!t.processes_of("gone").is_empty());
    let stay = t.pid("stay").unwrap();
    t.service(&["gone", "unsup"]).ok("Stopping gone and unsupervising... OK\n");
    // When OK is printed: no supervisor, no service, no logger, no copy.
    assert!(t.pgrep("gone").is_empty());
    assert_eq!(t.processes_of("gone"), vec![], "processes of gone left");
    assert!(!t.svok("gone"));
    assert!(std::fs::symlink_metadata(t.svc("gone")).is_err());
    assert_ne!(t.svstat(&[], "gone").1, 0, "s6-svstat finds nothing to report on");
    let names: Vec<String> =
        std::fs::read_dir(t.scan()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains("gone") || n == ".service-gone.lock"), "{names:?}");
    let r = t.service(&["gone", "status"]);
    assert_eq!((r.err.as_str(), r.code), ("gone is not a supervised service\n", 3));
    // The other service is untouched, and the scanner still runs.
    assert_eq!(t.pid("stay"), Some(stay));
    assert!(t.svok("stay") && t.svok("stay/log"));
    // Unsupervised already: OK. Then start brings it back.
    t.service(&["unsup", "gone"]).ok("Stopping gone and unsupervising... OK\n");
    t.service(&["gone", "start"]).ok("Starting gone... OK\n");
    assert!(t.svok("gone") && t.pid("gone").is_some());
    t.shutdown();
}

fn enable_disable_leave_the_service_alone(imp: Impl) {
    let mut t = Tree::new(&format!("svc-enable-{imp:?}"));
    t.add("a", Spec::default());
    t.add("b", Spec::default());
    t.install("a");
    t.enable("a");
    t.boot(imp, &["a"]);
    let p = t.pid("a").unwrap();
    t.service(&["a", "disable"]).ok("Disabling a from launching at boot... OK\n");
    assert!(std::fs::symlink_metadata(t.link("a")).is_err());
    assert_eq!(t.pid("a"), Some(p), "disable does not stop");
    t.service(&["disable", "a"]).ok("Disabling a from launching at boot... OK\n");
    t.service(&["enable", "a"]).ok("Enabling a to launch at boot... OK\n");
    assert_eq!(std::fs::read_link(t.link("a")).unwrap().to_str(), Some("../available/a"));
    assert_eq!(t.pid("a"), Some(p), "enable does not restart");
    t.service(&["b", "enable"]).ok("Enabling b to launch at boot... OK\n");
    assert!(t.link("b").join("run").is_file());
    assert!(!t.svok("b"), "enable does not start");
    // Enabling twice keeps one good link.
    t.service(&["b", "enable"]).ok("Enabling b to launch at boot... OK\n");
    assert_eq!(std::fs::read_link(t.link("b")).unwrap().to_str(), Some("../available/b"));
    // Something else in its place was not made by service: enable and disable refuse to touch
    // it (exit 1, what it is), and leave it whole.
    std::fs::remove_file(t.link("b")).unwrap();
    std::fs::create_dir_all(t.link("b").join("data")).unwrap();
    std::fs::write(t.link("b").join("data/conf"), "keep me\n").unwrap();
    t.add("c", Spec::default());
    std::fs::write(t.link("c"), "a file\n").unwrap();
    for (n, what) in [("b", "a directory"), ("c", "a regular file")] {
        for (cmd, out, verb) in [
            ("enable", format!("Enabling {n} to launch at boot... FAIL\n"), "create"),
            ("disable", format!("Disabling {n} from launching at boot... FAIL\n"), "remove"),
        ] {
            let r = t.service(&[n, cmd]);
            assert_eq!((r.out.as_str(), r.code), (out.as_str(), 1), "{n} {cmd}: {}", r.err);
            assert_eq!(
                r.err,
                format!(
                    "service: unable to {verb} the link {}: {what}, not a symbolic link (left as it is)\n",
                    t.link(n).display()
                )
            );
        }
    }
    assert_eq!(std::fs::read_to_string(t.link("b").join("data/conf")).unwrap(), "keep me\n");
    assert_eq!(std::fs::read_to_string(t.link("c")).unwrap(), "a file\n");
    std::fs::remove_dir_all(t.link("b")).unwrap();
    std::fs::remove_file(t.link("c")).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(t.dir.join(ENABLED))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    t.shutdown();
}

fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.out).unwrap_or_else(|e| panic!("not JSON ({e}): {:?} (stderr {})", r.out, r.err))
}

fn field<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|o| o["name"] == name).unwrap_or_else(|| panic!("{name} in {list}"))
}

const FIELDS: [&str; 11] = [
    "name",
    "status",
    "pid",
    "seconds",
    "ready_seconds",
    "normally_up",
    "want_up",
    "paused",
    "exit_code",
    "signal",
    "onboot",
];

/// Every JSON field against `s6-svstat -o`.
#[track_caller]
fn check_against_svstat(t: &Tree, o: &Value) {
    let name = o["name"].as_str().unwrap();
    let keys: Vec<&str> = o.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    let mut sorted = FIELDS.to_vec();
    sorted.sort();
    assert_eq!(keys, sorted, "exactly the documented fields");
    let onboot = if t.link(name).exists() { "enabled" } else { "disabled" };
    assert_eq!(o["onboot"], onboot);
    if !t.svok(name) {
        assert_eq!(o["status"], "unknown");
        for f in &FIELDS[2..10] {
            assert!(o[f].is_null(), "{name}: {f} is null when unsupervised: {o}");
        }
        return;
    }
    let (out, code) =
        t.svstat(&["-o", "up,pid,normallyup,wantedup,paused,exitcode,signum,ready,updownfor,readyfor"], name);
    assert_eq!(code, 0);
    let v: Vec<&str> = out.split_whitespace().collect();
    let up = v[0] == "true";
    assert_eq!(o["status"], if up { "up" } else { "down" }, "{name}: {out}");
    let num = |s: &str| s.parse::<i64>().unwrap();
    let opt = |s: &str| if num(s) < 0 { Value::Null } else { Value::from(num(s)) };
    assert_eq!(o["pid"], opt(v[1]), "{name} pid");
    assert_eq!(o["normally_up"], Value::Bool(v[2] == "true"));
    assert_eq!(o["want_up"], Value::Bool(v[3] == "true"));
    assert_eq!(o["paused"], Value::Bool(v[4] == "true"));
    assert_eq!(o["exit_code"], opt(v[5]), "{name} exit code");
    assert_eq!(o["signal"], opt(v[6]), "{name} signal");
    let secs = o["seconds"].as_i64().expect("seconds");
    assert!((secs - num(v[8])).abs() <= 1, "{name} seconds {secs} vs {}", v[8]);
    let st = status(&t.svc(name)).unwrap();
    if st.ready {
        let rs = o["ready_seconds"].as_i64().unwrap_or_else(|| panic!("{name}: ready_seconds in {o}"));
        assert!((rs - num(v[9])).abs() <= 1);
    } else {
        assert!(o["ready_seconds"].is_null());
    }
}

fn json_fields(imp: Impl) {
    let mut t = Tree::new(&format!("svc-json-{imp:?}"));
    t.add("up1", Spec::default());
    t.add("ndown", Spec { down: true, ..Default::default() });
    t.add("exit3", Spec { down: true, exec: Some("exit 3".into()), ..Default::default() });
    t.add("paused", Spec::default());
    t.add("stopped", Spec::default());
    t.add("unsup", Spec::default());
    t.add("ready", Spec { notification_fd: Some(3), pre: "echo >&3".into(), ..Default::default() });
    std::fs::create_dir(t.def("nodef")).unwrap(); // a directory without run: listed, unknown
    for n in ["up1", "ndown", "exit3", "paused", "stopped", "ready"] {
        t.install(n);
    }
    t.enable("up1");
    t.enable("unsup");
    t.boot(imp, &["up1", "paused", "stopped"]);
    assert!(wait_until(PROMPT, || status(&t.svc("ready")).is_some_and(|s| s.ready)));
    assert!(wait_until(PROMPT, || status(&t.svc("ndown")).is_some()));
    let svc =
        |args: &[&str], n: &str| std::process::Command::new(ours("s6-svc")).args(args).arg(t.svc(n)).status().unwrap();
    svc(&["-o"], "exit3");
    // Settled: down and ready (finish over), so that nothing changes while the test reads.
    assert!(wait_until(PROMPT, || status(&t.svc("exit3"))
        .is_some_and(|s| !s.is_up() && s.ready && s.wait().exited() && s.wait().exitstatus() == 3)));
    svc(&["-p"], "paused");
    assert!(wait_until(PROMPT, || status(&t.svc("paused")).is_some_and(|s| s.paused)));
    t.service(&["stopped", "stop"]).ok("Stopping stopped... OK\n");
    assert!(wait_until(PROMPT, || status(&t.svc("stopped")).is_some_and(|s| s.ready)));

    let r = t.service(&["--json", "list"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let list = json_of(&r);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["exit3", "ndown", "nodef", "paused", "ready", "stopped", "unsup", "up1"]);
    for o in list.as_array().unwrap() {
        check_against_svstat(&t, o);
    }
    // Spot checks of the documented meanings.
    let up1 = field(&list, "up1");
    assert_eq!(
        (up1["status"].as_str(), up1["onboot"].as_str(), up1["exit_code"].is_null()),
        (Some("up"), Some("enabled"), true)
    );
    assert_eq!(up1["pid"].as_i64(), t.pid("up1").map(i64::from));
    assert_eq!(field(&list, "ndown")["normally_up"], false);
    assert_eq!(field(&list, "exit3")["exit_code"], 3);
    assert!(field(&list, "exit3")["signal"].is_null());
    assert_eq!(field(&list, "stopped")["signal"], 15);
    assert_eq!(field(&list, "stopped")["want_up"], false);
    assert_eq!(field(&list, "paused")["paused"], true);
    assert!(field(&list, "ready")["ready_seconds"].is_u64());
    assert!(field(&list, "up1")["ready_seconds"].is_null() || field(&list, "up1")["ready_seconds"].is_u64());
    assert_eq!(field(&list, "unsup")["status"], "unknown");
    assert_eq!(field(&list, "unsup")["onboot"], "enabled");

    // status --json: one object, same fields, exit 0 / 3 / 4.
    for (n, code) in [("up1", 0), ("stopped", 3), ("exit3", 3), ("unsup", 3)] {
        let r = t.service(&["--json", n, "status"]);
        assert_eq!(r.code, code, "{n}: {}", r.err);
        let o = json_of(&r);
        check_against_svstat(&t, &o);
        assert_eq!(o["status"], field(&list, n)["status"]);
    }
    // Plain list: the same states, and no colour without a terminal.
    let r = t.service(&["list"]);
    assert!(!r.out.contains('\x1b'));
    for (n, st) in [("up1", "up"), ("stopped", "down"), ("unsup", "unknown"), ("nodef", "unknown")] {
        assert!(
            r.out.lines().any(|l| l.starts_with(n) && l.split_whitespace().nth(1) == Some(st)),
            "{n} {st}: {}",
            r.out
        );
    }
    t.shutdown();
}

fn logs_with_local_times(imp: Impl) {
    let mut t = Tree::new(&format!("svc-logs-{imp:?}"));
    t.add(
        "talk",
        Spec {
            logger: true,
            pre: "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo \"line $i\"; done\ntrap 'echo got hup' HUP".into(),
            exec: Some("while :; do sleep 0.05; done".into()),
            ..Default::default()
        },
    );
    t.install("talk");
    t.boot(imp, &["talk"]);
    let current = t.logdir("talk").join("current");
    assert!(wait_until(PROMPT, || std::fs::read_to_string(&current).is_ok_and(|s| s.lines().count() >= 12)));
    let tz = "XST-5:30"; // a fixed offset, so that local time is not UTC
    let local = |input: &str| {
        let mut c = std::process::Command::new(if std::path::Path::new("/usr/bin/s6-tai64nlocal").exists() {
            real("s6-tai64nlocal")
        } else {
            ours("s6-tai64nlocal")
        });
        let mut ch = c.env("TZ", tz).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        use std::io::Write;
        ch.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        String::from_utf8(ch.wait_with_output().unwrap().stdout).unwrap()
    };
    let raw = std::fs::read_to_string(&current).unwrap();
    let lines: Vec<&str> = raw.lines().collect();
    let tail = |n: usize| lines[lines.len() - n..].iter().map(|l| format!("{l}\n")).collect::<String>();
    for (args, n) in
        [(vec!["talk", "logs"], 10), (vec!["logs", "talk", "-n", "3"], 3), (vec!["talk", "logs", "-n1"], 1)]
    {
        let r = Run::from(t.service_cmd(&args).env("TZ", tz).output().unwrap());
        assert_eq!(r.code, 0, "{}", r.err);
        assert_eq!(r.out, local(&tail(n)), "{args:?}");
        assert!(r.out.lines().all(|l| l.as_bytes()[4] == b'-' && l.as_bytes()[10] == b' '), "{}", r.out);
    }
    assert!(local(&tail(1)).ends_with(" line 12\n"));
    // -f: follows the lines written afterwards.
    let (mut child, buf, th) = spawn_collecting(&t, &["talk", "logs", "-f", "-n", "0"]);
    std::thread::sleep(Duration::from_millis(300));
    t.service(&["talk", "reload"]).ok("Reloading talk... OK\n");
    let got = wait_until(PROMPT, || String::from_utf8_lossy(&buf.lock().unwrap()).contains(" got hup\n"));
    child.kill().unwrap();
    child.wait().unwrap();
    th.join().unwrap();
    assert!(got, "logs -f printed: {:?}", String::from_utf8_lossy(&buf.lock().unwrap()));
    let text = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
    assert!(text.starts_with("20") && !text.contains('@'), "{text}");
    // No log directory: a clear message.
    t.add("quiet", Spec::default());
    let r = t.service(&["quiet", "logs"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("no log directory found for quiet"), "{}", r.err);
    t.shutdown();
}

/// Supervisors started by hand (no s6-svscan): the commands that need no scanner work, and
/// unsup tells the supervisors themselves to exit.
fn supervised_without_a_scanner(imp: Impl) {
    let t = Tree::new(&format!("svc-noscanner-{imp:?}"));
    t.add("solo", Spec::default());
    t.install("solo");
    let mut sup = start_supervisor(imp, &t.svc("solo"));
    let p1 = t.wait_up("solo", false, None);
    t.service(&["solo", "stop"]).ok("Stopping solo... OK\n");
    assert!(t.svstat(&[], "solo").0.starts_with("down "));
    t.service(&["solo", "start"]).ok("Starting solo... OK\n");
    let p2 = t.pid("solo").unwrap();
    assert_ne!(p1, p2);
    t.service(&["solo", "restart"]).ok("Restarting solo... OK\n");
    t.service(&["solo", "unsup"]).ok("Stopping solo and unsupervising... OK\n");
    assert!(sup.wait_timeout(std::time::Duration::from_secs(5)).is_some(), "the supervisor exited");
    assert!(std::fs::symlink_metadata(t.svc("solo")).is_err());
    assert!(t.pgrep("solo").is_empty() && t.processes_of("solo").is_empty());
    // Starting again needs a scanner: a clear failure, nothing copied.
    let r = t.service(&["solo", "start"]);
    assert_eq!((r.out.as_str(), r.code), ("Starting solo... FAIL\n", 1));
    assert!(r.err.contains("no s6-svscan is running on"), "{}", r.err);
    assert!(std::fs::symlink_metadata(t.svc("solo")).is_err());
}
