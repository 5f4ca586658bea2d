//! `service`: 20 concurrent invocations of enable, disable, start and stop, on the same and on
//! different services, leave a consistent tree: every link present and pointing at
//! ../available/NAME or absent; every copy in the scan directory complete (also while the race
//! runs) and supervised; no temporary dot-entries left but the lock files.

use crate::common::*;
use crate::service_common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

both!(twenty_concurrent_invocations);

const NAMES: [&str; 4] = ["a", "b", "c", "d"];
const COMMANDS: [&str; 4] = ["enable", "disable", "start", "stop"];

fn twenty_concurrent_invocations(imp: Impl) {
    let mut t = Tree::new(&format!("svc-race-{imp:?}"));
    for n in NAMES {
        t.add(n, Spec { logger: n == "a" || n == "c", ..Default::default() });
    }
    t.install("a");
    t.install("b");
    t.enable("a");
    t.boot(imp, &["a", "b"]);

    // A watcher: every service directory the scanner can see is complete.
    let stop = Arc::new(AtomicBool::new(false));
    let scan = t.scan();
    let watcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut bad = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for e in std::fs::read_dir(&scan).unwrap().flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') {
                        continue;
                    }
                    let p = e.path();
                    // Removed meanwhile is fine; present must mean complete.
                    let complete =
                        p.join("run").is_file() && (!(name == "a" || name == "c") || p.join("log/run").is_file());
                    if !complete && p.exists() {
                        bad.push(name);
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            bad
        })
    };

    let mut rng = Rng(0x9e3779b97f4a7c15 ^ imp as u64);
    for round in 0..3 {
        let mut plan = Vec::new();
        for i in 0..20 {
            // Half of them on "a" (the same service), the rest spread over all four.
            let name = if i % 2 == 0 { "a" } else { NAMES[rng.index(NAMES.len())] };
            let cmd = COMMANDS[rng.index(COMMANDS.len())];
            plan.push((cmd, name));
        }
        let children: Vec<_> = plan
            .iter()
            .map(|(cmd, name)| {
                let mut c = t.service_cmd(&[name, cmd]);
                c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
                c.spawn().unwrap()
            })
            .collect();
        for ((cmd, name), ch) in plan.iter().zip(children) {
            let r = Run::from(ch.wait_with_output().unwrap());
            let not_supervised =
                *cmd == "stop" && r.code == 1 && r.err == format!("{name} is not a supervised service\n");
            assert!(r.code == 0 || not_supervised, "round {round}: {name} {cmd}: {r:?}");
        }
        check_consistent(&t, round);
    }
    stop.store(true, Ordering::Relaxed);
    let bad = watcher.join().unwrap();
    assert!(bad.is_empty(), "incomplete service directories seen in the scan directory: {bad:?}");
    t.shutdown();
}

#[track_caller]
fn check_consistent(t: &Tree, round: usize) {
    // enabled/: links to ../available/NAME, nothing else.
    for e in std::fs::read_dir(t.dir.join(ENABLED)).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let target =
            std::fs::read_link(e.path()).unwrap_or_else(|_| panic!("round {round}: enabled/{name} is not a link"));
        assert_eq!(target.to_str(), Some(format!("../available/{name}").as_str()), "round {round}");
        assert!(NAMES.contains(&name.as_str()), "round {round}: stray entry enabled/{name}");
    }
    // The scan directory: the scanner's control dir, lock files, complete supervised copies.
    for e in std::fs::read_dir(t.scan()).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == ".s6-svscan" {
            continue;
        }
        if let Some(n) = name.strip_prefix(".service-").and_then(|n| n.strip_suffix(".lock")) {
            assert!(NAMES.contains(&n), "round {round}: {name}");
            continue;
        }
        assert!(!name.starts_with('.'), "round {round}: temporary entry left: {name}");
        assert!(NAMES.contains(&name.as_str()), "round {round}: stray {name}");
        assert_eq!(std::fs::read(t.svc(&name).join("run")).unwrap(), std::fs::read(t.def(&name).join("run")).unwrap());
        assert_eq!(t.svc(&name).join("log/run").is_file(), t.def(&name).join("log").is_dir(), "round {round}: {name}");
        assert!(
            wait_until(PROMPT, || t.svok(&name) && status(&t.svc(&name)).is_some()),
            "round {round}: {name} is in the scan directory without a supervisor"
        );
        if t.def(&name).join("log").is_dir() {
            assert!(
                wait_until(PROMPT, || t.svok(&format!("{name}/log"))),
                "round {round}: {name}'s logger is not supervised"
            );
        }
    }
    // A service out of supervision left nothing running.
    for n in NAMES {
        if !t.svc(n).exists() {
            assert!(t.pgrep(n).is_empty() && t.processes_of(n).is_empty(), "round {round}: {n} left processes");
        }
    }
    // What list says agrees with the files.
    let r = t.service(&["--json", "list"]);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    for o in v.as_array().unwrap() {
        let n = o["name"].as_str().unwrap();
        assert_eq!(o["onboot"] == "enabled", t.link(n).exists(), "round {round}: {n}");
        if o["status"] != "unknown" {
            assert!(t.svc(n).is_dir());
        }
    }
}
