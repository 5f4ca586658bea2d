//! `service`: the man page and the completions generated at build time (the committed copies in
//! docs/ and completions/ are up to date, the man page renders without warnings, each shell's
//! completion offers the commands and the service names of the tree given by --root or
//! MERIT_ROOT), and colour only on a terminal and never with NO_COLOR.

use crate::common::*;
use crate::service_common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn generate(what: &str) -> String {
    let o = Command::new(ours("service")).args(["--generate", what]).output().unwrap();
    assert!(o.status.success() && o.stderr.is_empty(), "{what}: {o:?}");
    String::from_utf8(o.stdout).unwrap()
}

/// The system has `prog`; when not, the test is skipped with a message, or fails under CI=true
/// (.ci/run installs groff-base, zsh and fish; bash and util-linux's script are in every Debian).
fn have(prog: &str, ci_installs: bool) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    if !ok {
        if ci_installs {
            return cannot_run("this test", &format!("{prog} is not installed"));
        }
        eprintln!("SKIP: {prog} is not installed");
    }
    ok
}

#[test]
fn committed_copies_are_current() {
    for (what, file) in [
        ("man", "docs/service.8"),
        ("bash", "completions/service.bash"),
        ("zsh", "completions/_service"),
        ("fish", "completions/service.fish"),
    ] {
        let committed = std::fs::read_to_string(workspace().join(file)).unwrap_or_default();
        assert!(
            committed == generate(what),
            "{file} is stale: regenerate with `cargo run -q -p merit-programs --bin service -- --generate {what} > {file}`"
        );
    }
}

#[test]
fn man_page_renders() {
    if !have("groff", true) {
        return;
    }
    let mut ch = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-rLL=100n"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    ch.stdin.take().unwrap().write_all(generate("man").as_bytes()).unwrap();
    let o = ch.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.is_empty(), "groff warnings: {err}");
    // Strip overstrike (bold/underline) to read the text.
    let raw = String::from_utf8_lossy(&o.stdout);
    let mut text = String::new();
    for c in raw.chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    let text = text
        .replace("\x1b[1m", "")
        .replace("\x1b[0m", "")
        .replace("\x1b[4m", "")
        .replace("\x1b[22m", "")
        .replace("\x1b[24m", "");
    for sec in merit_core::service::doc::MAN_SECTIONS {
        assert!(text.lines().any(|l| l == *sec), "section {sec} in\n{text}");
    }
    for c in merit_core::service::doc::COMMANDS {
        assert!(text.lines().any(|l| l.trim_start().starts_with(c.name)), "command {}", c.name);
    }
    for o in merit_core::service::doc::OPTIONS {
        assert!(text.contains(o.name), "option {}", o.name);
    }
    for (f, _, _) in merit_core::service::doc::JSON_FIELDS {
        assert!(text.lines().any(|l| l.trim_start().starts_with(f)), "JSON field {f}");
    }
    for code in 0..=4 {
        assert!(
            text.lines().any(|l| l.trim().starts_with(&format!("{code} ")) || l.trim() == code.to_string()),
            "exit code {code}"
        );
    }
    for e in ["MERIT_ROOT", "NO_COLOR", "/etc/s6/services/available/NAME", "/s6/run/NAME", "--generate", "--list-names"]
    {
        assert!(text.contains(e), "{e}");
    }
}

/// A tree whose available services are ntpd, nginx, klogd; and another with other1, other2.
fn trees() -> (TempDir, PathBuf, PathBuf) {
    let d = TempDir::new("svc-compl");
    for n in ["ntpd", "nginx", "klogd"] {
        std::fs::create_dir_all(d.join("a").join(AVAILABLE).join(n)).unwrap();
    }
    for n in ["other1", "other2"] {
        std::fs::create_dir_all(d.join("b").join(AVAILABLE).join(n)).unwrap();
    }
    let (a, b) = (d.join("a"), d.join("b"));
    (d, a, b)
}

/// PATH with our `service` first (a system may have another one, e.g. Debian's).
fn path_with_ours() -> String {
    format!("{}:{}", ours("service").parent().unwrap().display(), std::env::var("PATH").unwrap_or_default())
}

fn set(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|s| s.to_string()).collect()
}

/// The cases every shell must get right: (words typed, the word being completed, MERIT_ROOT,
/// expected candidates). `{A}`/`{B}` stand for the two roots.
/// (words typed, word being completed, MERIT_ROOT, expected candidates)
type Case = (Vec<&'static str>, &'static str, Option<&'static str>, BTreeSet<String>);

fn cases() -> Vec<Case> {
    let named = named_commands();
    let mut first: Vec<&str> = SERVICE_COMMANDS.to_vec();
    first.extend(["ntpd", "nginx", "klogd"]);
    vec![
        (vec!["--root", "{A}"], "", None, set(&first)),
        (vec!["--root", "{A}", "start"], "", None, set(&["ntpd", "nginx", "klogd"])),
        (vec!["--root", "{B}", "logs"], "", None, set(&["other1", "other2"])),
        (vec!["--root={B}", "stop"], "", None, set(&["other1", "other2"])),
        (vec!["status"], "", Some("{B}"), set(&["other1", "other2"])),
        (vec!["--root", "{A}", "ntpd"], "", None, set(&named)),
        (vec!["--root", "{A}", "ntpd", "logs"], "-", None, set(&["-f", "-n"])),
        (vec!["--root", "{A}", "needed-by"], "", None, set(&["ntpd", "nginx", "klogd"])),
        (vec!["--root", "{A}", "graph"], "", None, set(&[])),
    ]
}

fn subst(s: &str, a: &Path, b: &Path) -> String {
    s.replace("{A}", a.to_str().unwrap()).replace("{B}", b.to_str().unwrap())
}

/// Keeps the candidates that start with `cur` (what the shells' matchers do).
fn filtered(c: BTreeSet<String>, cur: &str) -> BTreeSet<String> {
    c.into_iter().filter(|w| w.starts_with(cur)).collect()
}

#[test]
fn bash_completion() {
    if !have("bash", true) {
        return;
    }
    let (d, a, b) = trees();
    let script = d.join("service.bash");
    std::fs::write(&script, generate("bash")).unwrap();
    let run = |words: &[String], cur: &str, env_root: Option<String>| -> BTreeSet<String> {
        let mut all: Vec<String> = vec!["service".into()];
        all.extend(words.iter().cloned());
        all.push(cur.into());
        let quoted: Vec<String> = all.iter().map(|w| format!("'{w}'")).collect();
        let prog = format!(
            "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _merit_service; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            quoted.join(" "),
            all.len() - 1
        );
        let mut c = Command::new("bash");
        c.args(["--norc", "--noprofile", "-c", &prog]).env("PATH", path_with_ours()).env_remove("MERIT_ROOT");
        if let Some(r) = env_root {
            c.env("MERIT_ROOT", r);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{o:?}");
        String::from_utf8_lossy(&o.stdout).lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
    };
    for (words, cur, env_root, want) in cases() {
        let words: Vec<String> = words.iter().map(|w| subst(w, &a, &b)).collect();
        let got = run(&words, cur, env_root.map(|r| subst(r, &a, &b)));
        assert_eq!(got, filtered(want, cur), "bash: service {words:?} {cur:?}");
    }
    // Prefixes are matched by compgen.
    let got = run(&["--root".into(), a.display().to_string()], "n", None);
    assert_eq!(got, set(&["ntpd", "nginx", "needs", "needed-by"]));
    let got = run(&[], "st", None);
    assert!(got.is_superset(&set(&["start", "stop", "status"])), "{got:?}");
    let got = run(&[], "--r", None);
    assert_eq!(got, set(&["--root"]));
}

#[test]
fn zsh_completion() {
    if !have("zsh", true) {
        return;
    }
    let (d, a, b) = trees();
    let script = d.join("_service");
    std::fs::write(&script, generate("zsh")).unwrap();
    assert!(generate("zsh").starts_with("#compdef service\n"));
    // compsys stand-ins that print the candidates they are given.
    let harness = d.join("harness.zsh");
    std::fs::write(
        &harness,
        r#"_describe() { local a; while [[ $1 == -* ]]; do shift 2; done; shift; for a in ${(P)1}; do print -r -- "${a%%:*}"; done }
compadd() { local -a w; local a arr=0; while (( $# )); do case $1 in -X|-J|-V) shift 2;; -a) arr=1; shift;; --) shift; w+=("$@"); break;; *) w+=("$1"); shift;; esac; done; if (( arr )); then for a in $w; do print -rl -- ${(P)a}; done; else print -rl -- $w; fi }
_files() { print -r -- "<files $*>" }
_message() { print -r -- "<message $*>" }
eval "_service() { $(<$1) }"
shift
words=("$@"); CURRENT=$#
_service
"#,
    )
    .unwrap();
    for (words, cur, env_root, want) in cases() {
        let words: Vec<String> = words.iter().map(|w| subst(w, &a, &b)).collect();
        let mut c = Command::new("zsh");
        c.arg("-f").arg(&harness).arg(&script).arg("service").args(&words).arg(cur);
        c.env("PATH", path_with_ours()).env_remove("MERIT_ROOT");
        if let Some(r) = env_root {
            c.env("MERIT_ROOT", subst(r, &a, &b));
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{o:?}");
        let got: BTreeSet<String> = String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect();
        assert_eq!(filtered(got, cur), filtered(want, cur), "zsh: service {words:?} {cur:?}");
    }
}

#[test]
fn fish_completion() {
    if !have("fish", true) {
        return;
    }
    let (d, a, b) = trees();
    let script = d.join("service.fish");
    std::fs::write(&script, generate("fish")).unwrap();
    for (words, cur, env_root, want) in cases() {
        let words: Vec<String> = words.iter().map(|w| subst(w, &a, &b)).collect();
        let line = format!("service {} {cur}", words.join(" "));
        let prog = format!("source '{}'; complete -C '{}'", script.display(), line);
        let mut c = Command::new("fish");
        c.args(["--no-config", "-c", &prog]).env("PATH", path_with_ours()).env_remove("MERIT_ROOT");
        if let Some(r) = env_root {
            c.env("MERIT_ROOT", subst(r, &a, &b));
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{o:?}");
        let got: BTreeSet<String> =
            String::from_utf8_lossy(&o.stdout).lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
        assert_eq!(got, filtered(want, cur), "fish: {line:?}");
    }
}

/// Runs `service ARGS` on a pseudo-terminal (util-linux `script`); the output with CRs removed.
fn on_tty(t: &Tree, args: &str, no_color: Option<&str>) -> String {
    let cmd = format!("{} --root {} {args}", ours("service").display(), t.root().display());
    let mut c = Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"]).stdin(Stdio::null()).env_remove("NO_COLOR").env_remove("MERIT_ROOT");
    if let Some(v) = no_color {
        c.env("NO_COLOR", v);
    }
    let o = c.output().unwrap();
    String::from_utf8_lossy(&o.stdout).replace('\r', "")
}

#[test]
fn colour_only_on_a_terminal() {
    let mut t = Tree::new("svc-colour");
    t.add("up1", Spec::default());
    t.add("idle", Spec::default());
    t.install("up1");
    t.boot(Impl::Ours, &["up1"]);
    // Not a terminal: never.
    let r = t.service(&["list"]);
    assert!(r.code == 0 && !r.out.contains('\x1b'), "{r:?}");
    assert!(!t.service(&["idle", "enable"]).out.contains('\x1b'));
    if !have("script", true) {
        return;
    }
    let out = on_tty(&t, "list", None);
    assert!(
        out.contains("up1               \x1b[32mup\x1b[0m                  enabled\n")
            || out.contains("\x1b[32mup\x1b[0m"),
        "{out:?}"
    );
    assert!(out.contains("idle               \x1b[33munknown\x1b[0m             "), "{out:?}");
    let out = on_tty(&t, "idle disable", None);
    assert_eq!(out, "Disabling idle from launching at boot... \x1b[32mOK\x1b[0m\n");
    // NO_COLOR (any non-empty value) and --no-color: none.
    for (args, nc) in [
        ("list", Some("1")),
        ("list --no-color", None),
        ("idle disable", Some("yes")),
        ("--no-colour idle enable", None),
    ] {
        let out = on_tty(&t, args, nc);
        assert!(!out.contains('\x1b') && out.contains("idle"), "{args} NO_COLOR={nc:?}: {out:?}");
    }
    // An empty NO_COLOR does not count (no-color.org).
    assert!(on_tty(&t, "list", Some("")).contains('\x1b'));
    t.shutdown();
}

#[test]
fn status_on_a_terminal_shows_the_log() {
    if !have("script", true) {
        return;
    }
    let mut t = Tree::new("svc-tty-status");
    t.add(
        "talk",
        Spec {
            logger: true,
            pre: "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo \"line $i\"; done".into(),
            ..Default::default()
        },
    );
    t.install("talk");
    t.boot(Impl::Ours, &["talk"]);
    let current = t.logdir("talk").join("current");
    assert!(wait_until(PROMPT, || std::fs::read_to_string(&current).is_ok_and(|s| s.lines().count() >= 12)));
    let out = on_tty(&t, "talk status", None);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 11, "{out:?}");
    assert!(lines[0].starts_with("up (pid "), "{out:?}");
    for (i, l) in lines[1..].iter().enumerate() {
        // YYYY-MM-DD HH:MM:SS.nnnnnnnnn line N (local time, as s6-tai64nlocal)
        assert!(l.len() >= 30 && &l[4..5] == "-" && &l[10..11] == " " && &l[19..20] == ".", "{l:?}");
        assert!(l.ends_with(&format!(" line {}", i + 3)), "{l:?}");
    }
    // Not on a terminal: the status line only.
    let r = t.service(&["talk", "status"]);
    assert_eq!(r.out.lines().count(), 1);
    t.shutdown();
}
