//! Faults around `init` as PID 1 of a PID namespace: services that ignore SIGTERM at shutdown
//! (killed after their `timeout-kill`, or after the global grace period), an `rc.init` that
//! fails or is missing, and the scanner failing internally (the crash path), provoked from
//! outside: no test-only switch in the programs.

use crate::common::*;
use crate::initns::*;
use std::time::{Duration, Instant};

/// MERIT_GRACE=2: `tk` ignores SIGTERM but has timeout-kill 300 ms (its supervisor kills it);
/// `stubborn` ignores SIGTERM with no timeout-kill (init kills it when the grace period ends);
/// `polite` stops at once. The whole shutdown ends soon after the grace period.
#[test]
fn services_ignoring_term_are_killed_at_shutdown() {
    let Some((_t, root)) = ns_root("init-stubborn") else { return };
    skeleton(&root);
    let tk = service(&root, "tk", STUBBORN);
    std::fs::write(tk.join("timeout-kill"), "300\n").unwrap();
    service(&root, "stubborn", STUBBORN);
    service(&root, "polite", &chatty("polite"));
    logger(&root, "polite");
    for n in ["tk", "stubborn", "polite"] {
        finish_recorder(&root, n);
    }
    let mut b = boot(&root, Boot { env: &[("MERIT_GRACE", "2")], ..Boot::default() });
    b.wait_up(&["tk", "stubborn", "polite"]);
    let t0 = now_ms();
    let started = Instant::now();
    b.telinit("0");
    let st = b.wait_end(Duration::from_secs(30)).expect("init did not end");
    let took = started.elapsed();
    let console = b.console_text();
    assert_halted(&st, &console);

    let one = |n: &str| {
        let f = finished(&root, n);
        assert_eq!(f.len(), 1, "{n}: {f:?}\n{console}");
        f[0]
    };
    let (code, sig, at) = one("tk");
    assert_eq!((code, sig), (256, 9), "tk: SIGKILLed by its supervisor");
    assert!(at - t0 < 1500, "tk killed {} ms after telinit (timeout-kill 300)", at - t0);
    let (code, sig, at) = one("stubborn");
    assert_eq!((code, sig), (256, 9), "stubborn: SIGKILLed at the end of the grace period");
    assert!(at - t0 >= 1800, "stubborn killed after {} ms, before the grace period (2 s) ended", at - t0);
    assert!(at - t0 < 4500, "stubborn killed only after {} ms (grace 2 s)", at - t0);
    let (code, sig, _) = one("polite");
    assert_eq!((code, sig), (0, 0), "polite exits 0 on its SIGTERM trap");
    assert!(console.contains("stubborn did not stop within 2000 ms: killing it"), "{console}");
    assert!(!console.contains("/tk did not stop"), "tk was the supervisor's to kill:\n{console}");
    assert!(took < Duration::from_secs(12), "shutdown took {took:?}");
    assert_last_line(&root, "polite");
    assert_nothing_under(&root);
}

/// rc.init exits 1 at once: the scanner still runs its init-services, and the system shuts
/// down cleanly.
#[test]
fn failing_rc_init_does_not_stop_the_boot() {
    let Some((_t, root)) = ns_root("init-rcfail") else { return };
    skeleton(&root);
    write_exec(&root.join("etc/s6/rc.init"), "#!/bin/sh\necho rc.init failing\nexit 1\n");
    // A service of the scanner's own (init-services), and an enabled one that rc.init never
    // gets to copy.
    let early = root.join("etc/s6/init-services/early");
    make_service(&early, "exec sleep 100000");
    service(&root, "late", "exec sleep 100000");
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["early", "s6-svscan-log"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!b.inside("s6/run/late").exists(), "rc.init failed before copying: late must not run");
    b.halt_cleanly("failing rc.init");
}

/// rc.init writes at once, before the catch-all logger has opened its FIFO (a FIFO without a
/// reader): the writes fail (EPIPE) but rc.init is not killed by SIGPIPE, and goes on.
#[test]
fn rc_init_writing_before_the_catch_all_logger_survives() {
    let Some((_t, root)) = ns_root("init-rcpipe") else { return };
    skeleton(&root);
    write_exec(
        &root.join("etc/s6/rc.init"),
        "#!/bin/sh\ni=0\nwhile [ $i -lt 200 ]; do echo \"rc.init early line $i\"; i=$((i+1)); done\n\
         echo survived > \"$MERIT_ROOT/rc-init-survived\"\n",
    );
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["s6-svscan-log"]);
    let marker = root.join("rc-init-survived");
    assert!(wait_until(PROMPT, || marker.exists()), "rc.init was killed before its end:\n{}", b.console_text());
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "survived\n");
    b.halt_cleanly("rc.init writing early");
}

/// No rc.init at all (or one that is not executable): init says so and copies the enabled
/// services itself.
#[test]
fn missing_rc_init_falls_back_to_copying_enabled_services() {
    if !can_unshare("booting init in a PID namespace") {
        return;
    }
    for variant in ["missing", "not executable"] {
        let t = TempDir::new("init-norc");
        let root = t.path().to_path_buf();
        skeleton(&root);
        let rc = root.join("etc/s6/rc.init");
        match variant {
            "missing" => std::fs::remove_file(&rc).unwrap(),
            _ => merit_sys::fs::chmod(&rc, 0o644).unwrap(),
        }
        service(&root, "a", "exec sleep 100000");
        service(&root, "b", &chatty("b"));
        logger(&root, "b");
        let mut b = boot(&root, Boot::default());
        b.wait_up(&["a", "b"]);
        let console = b.console_text();
        assert!(console.contains("copying the enabled services"), "{variant}: {console}");
        b.halt_cleanly(variant);
    }
}

/// The crash script of the test: records that it ran (and the descriptor limit it got), then
/// exits 7, which ends the namespace.
fn crash_script(root: &std::path::Path) -> std::path::PathBuf {
    let marker = root.join("crashed");
    write_exec(
        &root.join("etc/s6/init-services/.s6-svscan/crash"),
        &format!("#!/bin/sh\necho \"crash script ran, nofile $(ulimit -n)\" > {}\nexit 7\n", marker.display()),
    );
    marker
}

/// Whether prlimit(1) is there (util-linux); under CI=true its absence is a failure.
fn have_prlimit() -> bool {
    std::process::Command::new("prlimit").arg("--version").output().is_ok()
        || cannot_run("the descriptor-limit test", "prlimit(1) (util-linux) is not installed")
}

/// Lowers the scanner's (PID 1's) descriptor limit to 1 and wakes it up with a rescan
/// request: its next poll(2) fails with EINVAL. (Best effort for the wake-up: anything else
/// that wakes the scanner, such as a child's death, may have made it fail already, and then
/// nobody listens.)
fn make_scanner_fail(b: &Booted) {
    let st =
        std::process::Command::new("prlimit").args(["--pid", &b.pid1.to_string(), "--nofile=1:"]).status().unwrap();
    assert!(st.success());
    let _ = b.nsenter(&[ours("s6-svscanctl").to_str().unwrap(), "-a", b.root.join("s6/run").to_str().unwrap()]);
}

/// The scanner fails internally: its descriptor limit is lowered from outside (prlimit) to 1,
/// below the 2 descriptors it polls, so its next poll(2) fails with EINVAL; it then execs
/// `.s6-svscan/crash` (with the soft limit raised back so that the script can run).
#[test]
fn scanner_failing_runs_the_crash_script() {
    if !can_unshare("booting init in a PID namespace") {
        return;
    }
    if !have_prlimit() {
        return;
    }
    let t = TempDir::new("init-crash");
    let root = t.path().to_path_buf();
    skeleton(&root);
    let marker = crash_script(&root);
    service(&root, "a", "exec sleep 100000");
    // --log-stdout: the scanner's warnings reach our console file, not the catch-all logger.
    let mut b = boot(&root, Boot { args: &["--log-stdout"], ..Boot::default() });
    b.wait_up(&["a"]);
    make_scanner_fail(&b);
    let st = b.wait_end(Duration::from_secs(20)).expect("the namespace did not end after the crash script");
    assert_eq!(st.code(), Some(7), "the crash script's exit status\n{}", b.console_text());
    let text = std::fs::read_to_string(&marker).unwrap_or_default();
    assert!(text.starts_with("crash script ran"), "marker: {text:?}\n{}", b.console_text());
    let console = b.console_text();
    assert!(console.contains("unable to poll: Invalid argument"), "{console}");
    assert!(console.contains("executing into .s6-svscan/crash"), "{console}");
}

/// The scanner cannot exec its finish (not executable): that too ends in the crash script.
#[test]
fn scanner_unable_to_exec_finish_runs_the_crash_script() {
    let Some((_t, root)) = ns_root("init-crash2") else { return };
    skeleton(&root);
    let marker = crash_script(&root);
    merit_sys::fs::chmod(&root.join("etc/s6/init-services/.s6-svscan/finish"), 0o644).unwrap();
    service(&root, "a", "exec sleep 100000");
    let mut b = boot(&root, Boot { args: &["--log-stdout"], ..Boot::default() });
    b.wait_up(&["a"]);
    b.telinit_may_end("0");
    let st = b.wait_end(Duration::from_secs(30)).expect("the namespace did not end after the crash script");
    let console = b.console_text();
    assert_eq!(st.code(), Some(7), "{console}");
    assert!(std::fs::read_to_string(&marker).unwrap_or_default().starts_with("crash script ran"), "{console}");
    assert!(console.contains("unable to exec finish script .s6-svscan/finish: Permission denied"), "{console}");
}

/// Host pids of the namespace's processes whose parent is its PID 1 and that are zombies.
fn zombies_of_pid1(b: &Booted) -> Vec<i32> {
    b.zombies().into_iter().filter(|&(_, ppid)| ppid == b.pid1).map(|(p, _)| p).collect()
}

/// Orphans for PID 1 to reap: a shell in the namespace starts `n` short sleeps in the
/// background and exits; they are reparented to PID 1, and die 0.2 s later.
fn make_orphans(b: &Booted, n: usize) {
    let out = b.nsenter(&["/bin/sh", "-c", &format!("i=0; while [ $i -lt {n} ]; do sleep 0.2 & i=$((i+1)); done")]);
    assert!(out.status.success(), "{out:?}");
}

/// PID 1 stays up (for a while), reaps orphans, then halts on `telinit 0` (`poweroff`: powers
/// off on a SIGTERM from outside, a container runtime's way).
fn stays_up_reaps_and_halts(b: &mut Booted, what: &str, poweroff: bool) {
    assert!(b.wait_end(Duration::from_millis(700)).is_none(), "{what}: PID 1 ended\n{}", b.console_text());
    make_orphans(b, 5);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        wait_until(Duration::from_secs(5), || zombies_of_pid1(b).is_empty()),
        "{what}: PID 1 does not reap: zombies {:?}\n{}",
        zombies_of_pid1(b),
        b.console_text()
    );
    assert!(b.wait_end(Duration::from_millis(10)).is_none(), "{what}: PID 1 ended\n{}", b.console_text());
    if !poweroff {
        return b.halt_cleanly(what);
    }
    // Our unshare's child, checked before the signal.
    let ppid = std::fs::read_to_string(format!("/proc/{}/stat", b.pid1)).ok().and_then(|s| {
        s.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().nth(1).and_then(|p| p.parse::<i32>().ok()))
    });
    assert_eq!(ppid, Some(b.unshare.pid()), "{what}: PID 1 is not our unshare's child");
    let _ = merit_sys::signal::kill(b.pid1, merit_sys::signal::SIGTERM);
    let st = b.wait_end(Duration::from_secs(30)).unwrap_or_else(|| panic!("{what}: no poweroff on SIGTERM"));
    assert_halted(&st, &b.console_text());
    assert!(b.console_text().contains("init: shutdown requested (poweroff)"), "{}", b.console_text());
    let left = processes_under(&b.root);
    assert!(left.is_empty(), "{what}: processes left: {left:?}");
}

/// As PID 1, init boots whatever its argv (the words of a kernel command line, a subcommand's
/// name, an option without its value) and its environment (`=foo=bar`, which a kernel command
/// line or a container runtime can hand to init): each is ignored with a warning, and the
/// system still halts on request.
#[test]
fn pid1_boots_whatever_its_argv_and_environment() {
    if !can_unshare("booting init in a PID namespace") {
        return;
    }
    let cases: [(&[&str], &str); 10] = [
        (&["shutdown"], "ignoring the argument \"shutdown\": as process 1, init only boots"),
        (&["copy-enabled"], "ignoring the argument \"copy-enabled\""),
        (&["skeleton"], "ignoring the argument \"skeleton\""),
        (&["telinit", "0"], "ignoring the argument \"0\""),
        (&["finish"], "ignoring the argument \"finish\""),
        (&["crash"], "ignoring the argument \"crash\""),
        (&["main-finish", "1", "2"], "ignoring the argument \"main-finish\""),
        (&["--root"], "--root without a value: ignored"),
        (&["single", "--grace"], "--grace without a value: ignored"),
        (&["single"], "ignoring the argument \"single\""),
    ];
    for (args, warning) in cases {
        let t = TempDir::new("init-argv");
        let root = t.path().to_path_buf();
        skeleton(&root);
        service(&root, "a", "exec sleep 100000");
        let mut b =
            boot(&root, Boot { args, raw_env: &["=foo=bar", "=", "noequals"], root_in_env: true, ..Boot::default() });
        // unshare's environment, which init gets (init's own is soon the scanner's).
        let environ = std::fs::read(format!("/proc/{}/environ", b.unshare.pid())).unwrap_or_default();
        assert!(
            environ.split(|&c| c == 0).any(|e| e == b"=foo=bar"),
            "the hostile environment did not reach init: {:?}",
            String::from_utf8_lossy(&environ)
        );
        b.wait_up(&["a"]);
        let console = b.console_text();
        assert!(console.contains(&format!("init: warning: {warning}")), "{args:?}: {console}");
        b.halt_cleanly(&format!("{args:?}"));
    }
}

/// s6-svscan cannot be executed (here: a non-executable file beside a copy of our init) and
/// there is no `.s6-svscan/crash`: PID 1 stays up, reaps, and still halts on request.
#[test]
fn scanner_not_executable_keeps_pid_1_up_reaping_and_halting() {
    if !can_unshare("booting init in a PID namespace") {
        return;
    }
    let t = TempDir::new("init-noscan");
    let root = t.join("root");
    skeleton(&root);
    std::fs::remove_file(root.join("etc/s6/init-services/.s6-svscan/crash")).unwrap();
    let bin = t.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(ours("init"), bin.join("init")).unwrap();
    std::fs::write(bin.join("s6-svscan"), "not a program\n").unwrap();
    let mut b = boot(&root, Boot { init: Some(&bin.join("init")), args: &["--log-stdout"], ..Boot::default() });
    assert!(wait_until(PROMPT, || b.console_text().contains("no scanner")), "{}", b.console_text());
    stays_up_reaps_and_halts(&mut b, "scanner not executable", true);
    let console = b.console_text();
    assert!(console.contains("unable to exec s6-svscan: Permission denied: running the crash path"), "{console}");
}

/// The scanner crashes (its poll(2) fails: descriptor limit lowered from outside, see
/// scanner_failing_runs_the_crash_script) with the skeleton's own crash script: PID 1 becomes
/// init's fallback, stays up, reaps, and still halts on request (every service killed).
#[test]
fn scanner_crash_keeps_pid_1_up_reaping_and_halting() {
    if !can_unshare("booting init in a PID namespace") {
        return;
    }
    if !have_prlimit() {
        return;
    }
    let t = TempDir::new("init-crash3");
    let root = t.path().to_path_buf();
    skeleton(&root);
    service(&root, "a", "exec sleep 100000");
    let mut b = boot(&root, Boot { args: &["--log-stdout"], ..Boot::default() });
    b.wait_up(&["a"]);
    make_scanner_fail(&b);
    assert!(wait_until(PROMPT, || b.console_text().contains("s6-svscan crashed: no scanner")), "{}", b.console_text());
    stays_up_reaps_and_halts(&mut b, "scanner crashed", false);
    assert!(b.console_text().contains("init: shutdown requested (halt)"), "{}", b.console_text());
}

/// `/run/merit` is read-only (a read-only bind mount over it): the `shutting-down` marker
/// cannot be made, and telinit 0 halts all the same.
#[test]
fn shutdown_proceeds_when_its_marker_cannot_be_made() {
    let Some((_t, root)) = ns_root("init-romarker") else { return };
    skeleton(&root);
    service(&root, "a", &chatty("a"));
    logger(&root, "a");
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["a"]);
    let state = root.join("run/merit");
    let state = state.to_str().unwrap();
    for args in [vec!["mount", "--bind", state, state], vec!["mount", "-o", "remount,bind,ro", state, state]] {
        let out = b.nsenter(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    b.halt_cleanly("read-only /run/merit");
    let console = b.console_text();
    assert!(console.contains("shutting-down: Read-only file system: shutting down all the same"), "{console}");
    assert_last_line(&root, "a");
}

/// rc.init gets descriptors 0, 1 and 2 only (none of stage 1's), an empty signal mask and no
/// ignored signal (SIGPIPE at its default): its `ls` lists its own descriptors and its `grep`
/// shows the signal state it inherited. Its output reaches the catch-all logger.
#[test]
fn rc_init_gets_only_stdio_and_default_signals() {
    let Some((_t, root)) = ns_root("init-rcfds") else { return };
    skeleton(&root);
    write_exec(
        &root.join("etc/s6/rc.init"),
        "#!/bin/sh\nls /proc/self/fd > \"$MERIT_ROOT/fds\"\ngrep -E '^Sig(Blk|Ign):' /proc/self/status > \"$MERIT_ROOT/signals\"\n\
         echo 'rc.init says hello'\n",
    );
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["s6-svscan-log"]);
    assert!(wait_until(PROMPT, || root.join("signals").exists()), "{}", b.console_text());
    assert!(
        wait_until(PROMPT, || std::fs::read_to_string(root.join("signals")).unwrap_or_default().lines().count() == 2)
    );
    // ls's own: 0-2 and the directory it reads (3).
    assert_eq!(std::fs::read_to_string(root.join("fds")).unwrap(), "0\n1\n2\n3\n");
    assert_eq!(
        std::fs::read_to_string(root.join("signals")).unwrap(),
        "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    );
    let current = b.inside("s6/uncaught-logs/current");
    assert!(
        wait_until(PROMPT, || std::fs::read_to_string(&current).is_ok_and(|s| s.contains(" rc.init says hello\n"))),
        "rc.init's line did not reach the catch-all logger: {:?}",
        std::fs::read_to_string(&current)
    );
    b.halt_cleanly("rc.init fds");
}

/// At shutdown every mount point under the root is unmounted, whatever its bytes: one whose
/// name is not UTF-8, one whose name ends with an escaped space. The test keeps the mount
/// namespace alive (a descriptor of it) and looks at its mounts once init has ended.
#[test]
fn shutdown_unmounts_mount_points_whatever_their_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let Some((_t, root)) = ns_root("init-umount") else { return };
    skeleton(&root);
    service(&root, "a", "exec sleep 100000");
    let odd = [
        root.join(std::ffi::OsStr::from_bytes(b"mnt/\xff\xfe odd")),
        root.join("mnt/ends with space "),
        root.join("mnt/back\\slash"),
    ];
    for d in &odd {
        std::fs::create_dir_all(d).unwrap();
    }
    let mut b = boot(&root, Boot::default());
    b.wait_up(&["a"]);
    for d in &odd {
        let out = std::process::Command::new("nsenter")
            .args(["-t", &b.pid1.to_string(), "-m", "--", "mount", "-t", "tmpfs", "tmpfs"])
            .arg(d)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let ns = std::fs::File::open(format!("/proc/{}/ns/mnt", b.pid1)).unwrap();
    let ns_id = std::fs::read_link(format!("/proc/{}/ns/mnt", b.pid1)).unwrap();
    let mounts = |pid: u32| -> Vec<Vec<u8>> {
        let text = std::fs::read(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
        merit_core::mountinfo::mount_points(&text)
            .into_iter()
            .filter(|m| m.starts_with(root.as_os_str().as_bytes()))
            .collect()
    };
    let before = mounts(b.pid1 as u32);
    assert!(before.len() >= 5, "{before:?}");
    for d in &odd {
        assert!(before.contains(&d.as_os_str().as_bytes().to_vec()), "{d:?} not in {before:?}");
    }
    b.halt_cleanly("odd mount points");
    // A process in the namespace, which the test's descriptor kept.
    use std::os::fd::AsRawFd;
    let mut look = std::process::Command::new("nsenter")
        .arg(format!("--mount=/proc/{}/fd/{}", std::process::id(), ns.as_raw_fd()))
        .args(["--", "sleep", "30"])
        .spawn()
        .unwrap();
    assert!(wait_until(PROMPT, || std::fs::read_link(format!("/proc/{}/ns/mnt", look.id())).is_ok_and(|l| l == ns_id)));
    let left = mounts(look.id());
    let _ = look.kill();
    let _ = look.wait();
    let show: Vec<String> = left.iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect();
    assert!(left.is_empty(), "still mounted after the shutdown: {show:?}");
}

/// Host pid of the PID 1 of a namespace whose init runs `exe`: the process running `exe` whose
/// pid in its own namespace is 1.
fn ns_init_running(exe: &std::path::Path) -> Option<i32> {
    processes_under(exe.parent().unwrap()).into_iter().find(|p| {
        std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|e| e == exe)
            && std::fs::read_to_string(format!("/proc/{p}/status"))
                .unwrap_or_default()
                .lines()
                .find(|l| l.starts_with("NSpid:"))
                .is_some_and(|l| l.split_whitespace().last() == Some("1"))
    })
}

/// Kills a namespace's PID 1 (by host pid, checked to still run `exe`) and a script(1) process
/// group on drop.
struct PtyBoot {
    script: std::process::Child,
    exe: std::path::PathBuf,
}

impl Drop for PtyBoot {
    fn drop(&mut self) {
        if let Some(p) = ns_init_running(&self.exe) {
            let _ = merit_sys::signal::kill(p, merit_sys::signal::SIGKILL);
        }
        if self.script.try_wait().ok().flatten().is_none() {
            let _ = merit_sys::signal::kill(-(self.script.id() as i32), merit_sys::signal::SIGKILL);
        }
        let _ = self.script.wait();
    }
}

/// No scanner and no crash script, with a terminal as the console (a pseudo-terminal from
/// script(1)): PID 1 keeps an interactive shell there, starts another when it exits, and still
/// halts on request, even with the terminal stopped (Ctrl-S).
#[test]
fn crash_fallback_keeps_a_shell_on_a_terminal_console() {
    use std::io::Write;
    if !can_unshare("booting init in a PID namespace") {
        return;
    }
    let t = TempDir::new("init-ptyshell");
    let root = t.join("root");
    skeleton(&root);
    std::fs::remove_file(root.join("etc/s6/init-services/.s6-svscan/crash")).unwrap();
    let bin = t.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let init = bin.join("init");
    std::fs::copy(ours("init"), &init).unwrap();
    std::fs::write(bin.join("s6-svscan"), "not a program\n").unwrap();
    let console = t.join("console.out");
    let inner = format!(
        "exec unshare --fork --pid --mount --uts --mount-proc --propagation private {} --root {} --log-stdout",
        init.display(),
        root.display()
    );
    let mut cmd = command("script");
    cmd.args(["-qfec", &inner, "/dev/null"])
        .env_remove("container")
        .env("SHELL", "/bin/sh")
        .stdin(std::process::Stdio::piped())
        .stdout(std::fs::File::create(&console).unwrap())
        .stderr(std::process::Stdio::null());
    let mut b = PtyBoot { script: cmd.spawn().unwrap(), exe: init.clone() };
    let text = || std::fs::read_to_string(&console).unwrap_or_default();
    assert!(wait_until(PROMPT, || text().contains("starting a shell on the console")), "{}", text());
    let mut stdin = b.script.stdin.take().unwrap();
    for (i, file) in ["shell1", "shell2"].iter().enumerate() {
        let out = root.join(file);
        // Typed until the shell (the first, then the one started after `exit`) runs it.
        let ok = wait_until(PROMPT, || {
            let _ = writeln!(stdin, "echo works-$((40+2)) > {}", out.display());
            std::thread::sleep(Duration::from_millis(200));
            std::fs::read_to_string(&out).is_ok_and(|s| s == "works-42\n")
        });
        assert!(ok, "shell {i}: nothing ran\n{}", text());
        if i == 0 {
            writeln!(stdin, "exit").unwrap();
        }
    }
    assert!(text().matches("starting a shell on the console").count() >= 2, "{}", text());
    // The terminal stopped by flow control (Ctrl-S): whoever writes to it blocks, but PID 1
    // must not (its messages are lost instead), and still halts.
    stdin.write_all(b"\x13").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid1 = ns_init_running(&init).expect("PID 1 is gone");
    let out = std::process::Command::new("nsenter")
        .args(["-t", &pid1.to_string(), "-p", "-m", "--"])
        .arg(&init)
        .args(["telinit", "0"])
        .env("MERIT_ROOT", &root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(wait_until(Duration::from_secs(20), || ns_init_running(&init).is_none()), "PID 1 did not end\n{}", text());
}
