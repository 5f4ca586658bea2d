//! `service`: the friendly front end to a Mere-style service tree (see service(8)).
//!
//! It reads status files and writes control FIFOs itself (through `merit_programs::svdir`),
//! so it works the same over merit's supervisors and over real s6.

use merit_core::service::{
    parse_words, render_list, Colour, Command, Invocation, JsonStatus, ListRow, RunState, UsageError,
};
use merit_core::status::StatusFile;
use merit_core::svstat::View;
use merit_core::tai::Tain;
use merit_programs::svdir::{self, Deadline, Flavor, Goal, Waiter};
use merit_programs::tree::{self, Tree};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Exit codes (LSB init-script conventions; documented in service(8)).
const EXIT_OK: i32 = 0;
const EXIT_FAILED: i32 = 1;
const EXIT_USAGE: i32 = 2;
const EXIT_STATUS_DOWN: i32 = 3;
const EXIT_NOT_SUPERVISED: i32 = 4;
const EXIT_PERMISSION: i32 = 4;

const USAGE: &str = "usage: service [--root DIR] [--scan-dir DIR] [--available-dir DIR] [--enabled-dir DIR]
               [--timeout SECONDS] [--json] [--no-color] COMMAND [NAME] | NAME COMMAND

  service list                 all defined services, their status and boot setting
  service NAME enable          start NAME at boot (does not start it now)
  service NAME disable         do not start NAME at boot (does not stop it now)
  service NAME start           supervise NAME if needed, bring it up, wait until it is up
  service NAME stop            bring NAME and its logger down and wait; it stays supervised
  service NAME status          NAME's status (as s6-svstat -n); exit 0 up, 3 down, 4 unsupervised
  service NAME restart         restart NAME (its ./restart script when it has one)
  service NAME reload          send SIGHUP to NAME
  service NAME resup           stop, unsupervise, then supervise NAME's current definition
  service NAME unsup           stop NAME and remove it from supervision
  service NAME logs [-f] [-n N]  NAME's log with local times

Environment: MERIT_ROOT (as --root), NO_COLOR.";

/// Settings from the command line and environment.
struct Settings {
    tree: Tree,
    timeout_ms: u64,
    json: bool,
    colour: bool,
}

fn usage_exit(msg: Option<&str>) -> ! {
    if let Some(m) = msg {
        eprintln!("service: {m}");
    }
    eprintln!("{USAGE}");
    std::process::exit(EXIT_USAGE)
}

/// A failed action: message and exit code.
struct Failure {
    code: i32,
    msg: String,
}

impl Failure {
    fn new(msg: impl Into<String>) -> Failure {
        Failure { code: EXIT_FAILED, msg: msg.into() }
    }
    /// From an I/O error on `path`: permission problems exit 4, the rest 1.
    fn io(what: &str, path: &Path, e: &std::io::Error) -> Failure {
        let code = match e.raw_os_error() {
            Some(1) | Some(13) => EXIT_PERMISSION, // EPERM, EACCES
            _ => EXIT_FAILED,
        };
        Failure { code, msg: format!("unable to {what} {}: {}", path.display(), merit_sys::strerror(e)) }
    }
}

type Outcome = Result<(), Failure>;

fn parse_settings() -> (Settings, Vec<String>) {
    let mut root: Option<PathBuf> = std::env::var_os("MERIT_ROOT").map(PathBuf::from);
    let mut scan = PathBuf::from(tree::DEFAULT_SCAN);
    let mut available = PathBuf::from(tree::DEFAULT_AVAILABLE);
    let mut enabled = PathBuf::from(tree::DEFAULT_ENABLED);
    let mut timeout_ms = 30_000u64;
    let mut json = false;
    let mut no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut words = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| -> String {
            args.next().unwrap_or_else(|| usage_exit(Some(&format!("{name} needs a value"))))
        };
        match a.as_str() {
            "--root" => root = Some(PathBuf::from(value("--root"))),
            "--scan-dir" => scan = PathBuf::from(value("--scan-dir")),
            "--available-dir" => available = PathBuf::from(value("--available-dir")),
            "--enabled-dir" => enabled = PathBuf::from(value("--enabled-dir")),
            "--timeout" => {
                let v = value("--timeout");
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .unwrap_or_else(|| usage_exit(Some(&format!("invalid --timeout: {v}"))));
                timeout_ms = (secs * 1000.0) as u64;
            }
            "--json" => json = true,
            "--no-color" | "--no-colour" => no_colour = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(EXIT_OK)
            }
            _ if a.starts_with("--") => usage_exit(Some(&format!("unknown option: {a}"))),
            _ => words.push(a),
        }
    }
    let root = root.unwrap_or_default();
    let tree = Tree::new(&root, &scan, &available, &enabled);
    let colour = !no_colour && std::io::stdout().is_terminal();
    (Settings { tree, timeout_ms, json, colour }, words)
}

fn now_tain() -> Tain {
    let (s, ns) = merit_sys::clock::wall();
    Tain::from_unix(s, ns)
}

fn run_state(tree: &Tree, name: &str) -> (RunState, Option<StatusFile>) {
    let dir = tree.supervised_dir(name);
    if !tree.is_supervised(name) {
        return (RunState::Unknown, None);
    }
    match svdir::read_status(&dir) {
        Ok(st) if st.is_up() => (RunState::Up, Some(st)),
        Ok(st) => (RunState::Down, Some(st)),
        Err(_) => (RunState::Unknown, None),
    }
}

fn json_status(tree: &Tree, name: &str) -> JsonStatus {
    let (state, st) = run_state(tree, name);
    let onboot = if tree.is_enabled(name) { "enabled" } else { "disabled" };
    let mut j = JsonStatus { name: name.to_string(), status: state.word(), onboot, ..Default::default() };
    if let Some(st) = st {
        let normally_up = !tree.supervised_dir(name).join("down").exists();
        let v = View::new(&st, now_tain(), normally_up);
        j.pid = v.isup.then_some(v.pid as i64);
        j.seconds = Some(v.stamp.secs_until(v.now));
        j.ready_seconds = st.ready.then(|| v.readystamp.secs_until(v.now));
        j.normally_up = Some(normally_up);
        j.want_up = Some(st.wantup);
        j.paused = Some(st.paused);
        if !v.isup {
            j.exit_code = v.wait.exited().then(|| v.wait.exitstatus());
            j.signal = v.wait.signaled().then(|| v.wait.termsig());
        }
    }
    j
}

fn list(s: &Settings) -> i32 {
    let names = match s.tree.available_names() {
        Ok(n) => n,
        Err(e) => {
            let f = Failure::io("read", &s.tree.available, &e);
            eprintln!("service: {}", f.msg);
            return f.code;
        }
    };
    let mut out = std::io::stdout().lock();
    if s.json {
        let items: Vec<String> = names.iter().map(|n| json_status(&s.tree, n).to_json()).collect();
        let _ = writeln!(out, "[{}]", items.join(","));
        return EXIT_OK;
    }
    let rows: Vec<ListRow> = names
        .iter()
        .map(|n| ListRow { name: n.clone(), state: run_state(&s.tree, n).0, enabled: s.tree.is_enabled(n) })
        .collect();
    let colour = if s.colour { Colour::Ansi } else { Colour::Never };
    let _ = out.write_all(render_list(&rows, colour).as_bytes());
    EXIT_OK
}

/// Prints `LABEL...`, runs the action, prints ` OK` or ` FAIL` and the reason on stderr.
fn announce(label: &str, action: impl FnOnce() -> Outcome) -> i32 {
    let mut out = std::io::stdout();
    let _ = write!(out, "{label}...");
    let _ = out.flush();
    match action() {
        Ok(()) => {
            let _ = writeln!(out, " OK");
            EXIT_OK
        }
        Err(f) => {
            let _ = writeln!(out, " FAIL");
            let _ = out.flush();
            eprintln!("service: {}", f.msg);
            f.code
        }
    }
}

/// Sends `letters` to the supervisor of `dir` and waits for `goal` (readiness when the service
/// has `notification-fd`), until `deadline`.
fn control_and_wait(dir: &Path, letters: &[u8], goal: Goal, deadline: Deadline, what: &str) -> Outcome {
    let goal = match (goal, svdir::notification_fd_present(dir)) {
        (Goal::Up, Ok(true)) => Goal::UpReady,
        (g, _) => g,
    };
    let mut w = Waiter::new(&[dir]).map_err(|e| Failure::new(format!("{}: {}", what, fatal_text(e.to_fatal()))))?;
    svdir::send_control(dir, letters)
        .map_err(|e| Failure::new(fatal_text(e.to_fatal(dir.as_os_str().as_encoded_bytes(), svdir::SUPERVISE, svdir::Wording::Svc))))?;
    match w.wait_goal(goal, false, Flavor::Svwait, deadline) {
        Ok(0) => Ok(()),
        Ok(_) => Err(Failure::new(format!("{what}: the supervisor reported a permanent failure or exited"))),
        Err(svdir::WaitError::Timeout) => Err(Failure::new(format!("{what}: timed out"))),
        Err(e) => Err(Failure::new(format!("{what}: {}", fatal_text(e.to_fatal())))),
    }
}

fn fatal_text(f: merit_programs::msg::Fatal) -> String {
    String::from_utf8_lossy(&f.text).into_owned()
}

fn deadline(s: &Settings) -> Deadline {
    // 0 would mean "no deadline" to the waiter; keep a 1 ms minimum so --timeout 0 fails fast.
    Deadline::after_ms(s.timeout_ms.max(1))
}

/// Brings the service, then its logger, down (Mere's stop_service).
fn stop_service(s: &Settings, name: &str) -> Outcome {
    let dir = s.tree.supervised_dir(name);
    control_and_wait(&dir, b"d", Goal::Down, deadline(s), &format!("{name} did not go down"))?;
    let log = dir.join("log");
    if svdir::supervisor_running(&log).unwrap_or(false) {
        control_and_wait(&log, b"d", Goal::Down, Deadline::after_ms(10_000), &format!("the logger of {name} did not go down"))?;
    }
    Ok(())
}

/// Asks the scanner to rescan (`a`) or rescan and drop vanished services (`h`).
fn scanctl(s: &Settings, letters: &[u8]) -> Outcome {
    svdir::write_control(&s.tree.scan, svdir::SVSCAN, letters).map_err(|e| match e {
        svdir::ControlError::NotListening => {
            Failure::new(format!("no s6-svscan is running on {}", s.tree.scan.display()))
        }
        e => Failure::new(fatal_text(e.to_fatal(
            s.tree.scan.as_os_str().as_encoded_bytes(),
            svdir::SVSCAN,
            svdir::Wording::Svscanctl,
        ))),
    })
}

/// Copies the definition into the scan directory if needed, rescans, and waits for the
/// supervisor to appear.
fn start_supervision(s: &Settings, name: &str) -> Outcome {
    if !s.tree.scan.is_dir() {
        return Err(Failure::new(format!("the scan directory {} does not exist", s.tree.scan.display())));
    }
    s.tree.install_copy(name).map_err(|e| Failure::io("copy the definition into", &s.tree.scan, &e))?;
    scanctl(s, b"a")?;
    let dl = deadline(s);
    let dir = s.tree.supervised_dir(name);
    loop {
        if svdir::supervisor_running(&dir).unwrap_or(false) && dir.join("supervise/status").exists() {
            return Ok(());
        }
        if dl.passed() {
            return Err(Failure::new(format!("no supervisor started on {}", dir.display())));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Takes the copy out of supervision: hide it from the scanner, make the scanner drop its
/// supervisors, wait for them to exit, remove it.
fn stop_supervision(s: &Settings, name: &str) -> Outcome {
    let hidden = match s.tree.hide_copy(name) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(()),
        Err(e) => return Err(Failure::io("move", &s.tree.supervised_dir(name), &e)),
    };
    let log = hidden.join("log");
    if scanctl(s, b"h").is_err() {
        // No scanner: tell the supervisors themselves to exit.
        let _ = svdir::send_control(&hidden, b"x");
        let _ = svdir::send_control(&log, b"x");
    }
    let dl = deadline(s);
    while svdir::supervisor_running(&hidden).unwrap_or(false) || svdir::supervisor_running(&log).unwrap_or(false) {
        if dl.passed() {
            return Err(Failure::new(format!("the supervisors of {name} did not exit")));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::remove_dir_all(&hidden).map_err(|e| Failure::io("remove", &hidden, &e))
}

fn require_supervised(s: &Settings, name: &str, code: i32) -> Result<(), i32> {
    if s.tree.is_supervised(name) {
        Ok(())
    } else {
        eprintln!("{name} is not a supervised service");
        Err(code)
    }
}

fn start(s: &Settings, name: &str) -> Outcome {
    if !s.tree.is_supervised(name) {
        start_supervision(s, name)?;
    }
    let dir = s.tree.supervised_dir(name);
    let log = dir.join("log");
    if svdir::supervisor_running(&log).unwrap_or(false) {
        svdir::send_control(&log, b"u").map_err(|_| Failure::new(format!("unable to start the logger of {name}")))?;
    }
    control_and_wait(&dir, b"u", Goal::Up, deadline(s), &format!("{name} did not come up"))
}

fn restart(s: &Settings, name: &str) -> Outcome {
    let dir = s.tree.supervised_dir(name);
    let script = dir.join("restart");
    if is_executable(&script) {
        let st = std::process::Command::new(&script)
            .current_dir(&dir)
            .status()
            .map_err(|e| Failure::io("run", &script, &e))?;
        return if st.success() { Ok(()) } else { Err(Failure::new(format!("{} failed: {st}", script.display()))) };
    }
    control_and_wait(&dir, b"d", Goal::Down, deadline(s), &format!("{name} did not go down"))?;
    control_and_wait(&dir, b"u", Goal::Up, deadline(s), &format!("{name} did not come up"))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Where the service's logger writes: the last word of `log/run` that names a directory
/// holding a `current` file (absolute paths are taken under the root prefix).
fn log_dir(s: &Settings, name: &str) -> Option<PathBuf> {
    let logsvc = s.tree.supervised_dir(name).join("log");
    let logsvc = if logsvc.is_dir() { logsvc } else { s.tree.definition(name).join("log") };
    let script = std::fs::read_to_string(logsvc.join("run")).ok()?;
    script
        .split_whitespace()
        .filter(|w| !w.starts_with("#!"))
        .filter_map(|w| {
            let p = Path::new(w);
            let full = if p.is_absolute() { tree::under(&s.tree.root, p) } else { logsvc.join(p) };
            full.join("current").is_file().then_some(full)
        })
        .last()
}

/// The last `n` lines of `current`, with TAI64N labels shown as local times.
fn last_lines(dir: &Path, n: usize) -> Vec<String> {
    let data = std::fs::read(dir.join("current")).unwrap_or_default();
    let text = String::from_utf8_lossy(&data);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| localise(l)).collect()
}

/// `@<24 hex> rest` → `YYYY-MM-DD HH:MM:SS.nnnnnnnnn rest` in local time (as s6-tai64nlocal).
fn localise(line: &str) -> String {
    let b = line.as_bytes();
    match (b.len() > 25).then(|| Tain::parse_label(b)).flatten() {
        Some(t) => {
            let u = t.to_unix();
            match merit_sys::clock::broken_down(u, false) {
                Some(bd) => format!(
                    "{}-{:02}-{:02} {:02}:{:02}:{:02}.{:09}{}",
                    bd.year, bd.month, bd.day, bd.hour, bd.minute, bd.second, t.nanos, &line[25..]
                ),
                None => line.to_string(),
            }
        }
        None => line.to_string(),
    }
}

fn status(s: &Settings, name: &str) -> i32 {
    if s.json {
        let j = json_status(&s.tree, name);
        println!("{}", j.to_json());
        return match j.status {
            "up" => EXIT_OK,
            "down" => EXIT_STATUS_DOWN,
            _ => EXIT_NOT_SUPERVISED,
        };
    }
    if let Err(c) = require_supervised(s, name, EXIT_NOT_SUPERVISED) {
        return c;
    }
    let dir = s.tree.supervised_dir(name);
    let st = match svdir::read_status(&dir) {
        Ok(st) => st,
        Err(e) => {
            let f = Failure::io("read the status of", &dir, &e);
            eprintln!("service: {}", f.msg);
            return f.code;
        }
    };
    let normally_up = !dir.join("down").exists();
    println!("{}", View::new(&st, now_tain(), normally_up).legacy(true));
    if std::io::stdout().is_terminal() {
        if let Some(ld) = log_dir(s, name) {
            for l in last_lines(&ld, 10) {
                println!("{l}");
            }
        }
    }
    if st.is_up() {
        EXIT_OK
    } else {
        EXIT_STATUS_DOWN
    }
}

fn logs(s: &Settings, name: &str, extra: &[String]) -> i32 {
    let mut follow = false;
    let mut n = 10usize;
    let mut it = extra.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-f" => follow = true,
            "-n" => match it.next().and_then(|v| v.parse().ok()) {
                Some(v) => n = v,
                None => usage_exit(Some("-n needs a number")),
            },
            _ => usage_exit(Some(&format!("unknown logs option: {a}"))),
        }
    }
    let Some(dir) = log_dir(s, name) else {
        eprintln!("service: no log directory found for {name}");
        return EXIT_FAILED;
    };
    for l in last_lines(&dir, n) {
        println!("{l}");
    }
    if !follow {
        return EXIT_OK;
    }
    // Follow `current`, reopening it when the logger rotates it.
    use std::io::{Read, Seek, SeekFrom};
    let path = dir.join("current");
    let mut pos = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut partial = String::new();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let Ok(mut f) = std::fs::File::open(&path) else { continue };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < pos {
            pos = 0; // rotated
        }
        if len == pos || f.seek(SeekFrom::Start(pos)).is_err() {
            continue;
        }
        let mut buf = Vec::new();
        if f.read_to_end(&mut buf).is_err() {
            continue;
        }
        pos += buf.len() as u64;
        partial.push_str(&String::from_utf8_lossy(&buf));
        while let Some(i) = partial.find('\n') {
            let line: String = partial.drain(..=i).collect();
            println!("{}", localise(line.trim_end_matches('\n')));
        }
    }
}

fn main() {
    let (s, words) = parse_settings();
    let inv: Invocation = match parse_words(&words) {
        Ok(i) => i,
        Err(UsageError::NoCommand) => usage_exit(None),
        Err(e) => usage_exit(Some(&e.message())),
    };
    if inv.command == Command::List {
        std::process::exit(list(&s));
    }
    let name = inv.name.clone().unwrap_or_default();
    if !s.tree.is_available(&name) {
        eprintln!("{name} is not an available service");
        std::process::exit(EXIT_FAILED);
    }
    // Serialise operations on one service between concurrent invocations.
    let _lock = match s.tree.lock(&name) {
        Ok(l) => l,
        Err(e) => {
            let f = Failure::io("lock", &s.tree.scan, &e);
            eprintln!("service: {}", f.msg);
            std::process::exit(f.code);
        }
    };
    let code = match inv.command {
        Command::List => unreachable!("handled above"),
        Command::Enable => announce(&format!("Enabling {name} to launch at boot"), || {
            s.tree.enable(&name).map_err(|e| Failure::io("create the link", &s.tree.link(&name), &e))?;
            // A supervised but down copy is stale: drop it, so that the next start
            // supervises the current definition.
            if s.tree.is_supervised(&name) && run_state(&s.tree, &name).0 == RunState::Down {
                stop_supervision(&s, &name)?;
            }
            Ok(())
        }),
        Command::Disable => announce(&format!("Disabling {name} from launching at boot"), || {
            s.tree.disable(&name).map_err(|e| Failure::io("remove the link", &s.tree.link(&name), &e))
        }),
        Command::Start => announce(&format!("Starting {name}"), || start(&s, &name)),
        Command::Stop => match require_supervised(&s, &name, EXIT_FAILED) {
            Err(c) => c,
            Ok(()) => announce(&format!("Stopping {name}"), || stop_service(&s, &name)),
        },
        Command::Status => status(&s, &name),
        Command::Restart => match require_supervised(&s, &name, EXIT_FAILED) {
            Err(c) => c,
            Ok(()) => announce(&format!("Restarting {name}"), || restart(&s, &name)),
        },
        Command::Reload => match require_supervised(&s, &name, EXIT_FAILED) {
            Err(c) => c,
            Ok(()) => announce(&format!("Reloading {name}"), || {
                svdir::send_control(&s.tree.supervised_dir(&name), b"h")
                    .map_err(|_| Failure::new(format!("unable to signal {name}")))
            }),
        },
        Command::Resup => announce(&format!("Restarting supervision of {name}"), || {
            if s.tree.is_supervised(&name) {
                stop_service(&s, &name)?;
            }
            stop_supervision(&s, &name)?;
            start(&s, &name)
        }),
        Command::Unsup => announce(&format!("Stopping {name} and unsupervising"), || {
            if s.tree.is_supervised(&name) {
                stop_service(&s, &name)?;
            }
            stop_supervision(&s, &name)
        }),
        Command::Logs => logs(&s, &name, &inv.extra),
    };
    std::process::exit(code);
}
