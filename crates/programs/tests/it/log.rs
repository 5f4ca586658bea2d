//! `s6-log` against the fixtures of the real s6 2.11.3.2 (`fixtures/s6-2.11.3.2/s6-log/`, the
//! parts needed embedded below so the test runs on a fresh clone) and, when the real s6 is
//! installed, side by side with `/usr/bin/s6-log`:
//!
//! * `scripts_json`: the 57 recorded invocations (formats, selection, errors), stamps masked;
//! * `more_scripts_vs_real`, `regex_dialect_vs_real`, `framing_vs_real`: extra argv, POSIX ERE
//!   patterns, binary input, NUL bytes, line limits, partial lines;
//! * `status_files`, `rotation_*`, `pruning_vs_real`, `processors`, `unclean_restart`,
//!   `logdir_errors_vs_real`, `modes_follow_umask`, `signals`: logdirs byte for byte after masking
//!   archive names;
//! * `sigkill_loses_no_line`: merit's own guarantee (numbered lines through one pipe, 20 SIGKILLs,
//!   a new instance each time: every line present, first appearances in order).

use crate::common::{cannot_run, command, have_real_s6, ours, real, wait_until, Rng, TempDir, PROMPT};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

/// `fixtures/s6-2.11.3.2/s6-log/scripts.json`, minified.
const SCRIPTS_JSON: &str = r#"
{"formats":[{"argv":["s6-log","t","1"],"stdin":"hello\n","rc":0,"stdout":"@400000006b0826190d7b3350 hello\n","stderr":""},{"argv":["s6-log","T","1"],"stdin":"hello\n","rc":0,"stdout":"2026-11-26 12:28:36.396394131  hello\n","stderr":""},{"argv":["s6-log","t","T","1"],"stdin":"hello\n","rc":0,"stdout":"@400000006b0826191cd4415f 2026-11-26 12:28:36.483672415  hello\n","stderr":""},{"argv":["s6-log","T","t","1"],"stdin":"hello\n","rc":0,"stdout":"@400000006b0826191cec87a0 2026-11-26 12:28:36.485263264  hello\n","stderr":""},{"argv":["s6-log","pPFX:","1"],"stdin":"hello\n","rc":0,"stdout":"PFX: hello\n","stderr":""},{"argv":["s6-log","t","T","pPFX:","1","p","1"],"stdin":"hello\n","rc":0,"stdout":"@400000006b0826191f3124ca 2026-11-26 12:28:36.523314378  PFX: hello\nhello\n","stderr":""},{"argv":["s6-log","t","1","1"],"stdin":"hello\n","rc":0,"stdout":"@400000006b0826191ffeb9f5 hello\nhello\n","stderr":""},{"argv":["s6-log","2"],"stdin":"hello\n","rc":0,"stdout":"","stderr":"s6-log: alert: hello\n"},{"argv":["s6-log","t","pX","2"],"stdin":"hello\n","rc":0,"stdout":"","stderr":"s6-log: alert: @400000006b0826192390ba6f X hello\n"},{"argv":["s6-log","E10","2"],"stdin":"0123456789abcdefghij\n","rc":0,"stdout":"","stderr":"s6-log: alert: 0123456789...\n"},{"argv":["s6-log","E10","2"],"stdin":"0123456789abc\n","rc":0,"stdout":"","stderr":"s6-log: alert: 0123456789abc\n"},{"argv":["s6-log","E10","2"],"stdin":"0123456789abcd\n","rc":0,"stdout":"","stderr":"s6-log: alert: 0123456789...\n"},{"argv":["s6-log","E0","2"],"stdin":"0123456789abcdefghij\n","rc":0,"stdout":"","stderr":"s6-log: alert: 0123456789abcdefghij\n"},{"argv":["s6-log","-l","48","1"],"stdin":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n","rc":0,"stdout":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nAAAA\n","stderr":""},{"argv":["s6-log","-l","0","1"],"stdin":"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n","rc":0,"stdout":"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n","stderr":""},{"argv":["s6-log","-l","10","1"],"stdin":"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC\n","rc":0,"stdout":"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC\nCCCCCCCCCCCC\n","stderr":""},{"argv":["s6-log","1"],"stdin":"no newline at end","rc":0,"stdout":"","stderr":""},{"argv":["s6-log","1"],"stdin":"one\ntwo\nthree-partial","rc":0,"stdout":"one\ntwo\n","stderr":""},{"argv":["s6-log","1"],"stdin":"\n\nempty lines\n","rc":0,"stdout":"\n\nempty lines\n","stderr":""},{"argv":["s6-log","1"],"stdin":"nul\u0000inside\n","rc":0,"stdout":"nul\ninside\n","stderr":""},{"argv":["s6-log","-l","48","t","1"],"stdin":"DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD\n","rc":0,"stdout":"@400000006b08261936497fd7 DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD\n@400000006b0826193649889c DDDDDDDDDDDD\n","stderr":""},{"argv":["s6-log","--","-x","1"],"stdin":"x\n","rc":0,"stdout":"","stderr":""}],"selection":[{"argv":["s6-log","--","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","stderr":""},{"argv":["s6-log","--","-alpha","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"beta 2\ngamma 3\ndelta 5\n","stderr":""},{"argv":["s6-log","--","-.*","+beta","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"beta 2\nalpha beta 4\n","stderr":""},{"argv":["s6-log","--","-.*","+^alpha","1","f","2"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"alpha 1\nalpha beta 4\n","stderr":"s6-log: alert: beta 2\ns6-log: alert: gamma 3\ns6-log: alert: delta 5\n"},{"argv":["s6-log","--","-alpha","1","+gamma","2"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"beta 2\ngamma 3\ndelta 5\n","stderr":"s6-log: alert: beta 2\ns6-log: alert: gamma 3\ns6-log: alert: delta 5\n"},{"argv":["s6-log","--","-alpha","1","-beta","2"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"beta 2\ngamma 3\ndelta 5\n","stderr":"s6-log: alert: gamma 3\ns6-log: alert: delta 5\n"},{"argv":["s6-log","--","+alpha","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","stderr":""},{"argv":["s6-log","--","-.*","+alpha","-beta","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"alpha 1\n","stderr":""},{"argv":["s6-log","--","-^.*$","+[0-9]$","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","stderr":""},{"argv":["s6-log","--","-","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"","stderr":""},{"argv":["s6-log","--","+","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","stderr":""},{"argv":["s6-log","--","-a|d","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"","stderr":""},{"argv":["s6-log","--","-a","1","f","pF","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"F alpha 1\nF beta 2\nF gamma 3\nF alpha beta 4\nF delta 5\n","stderr":""},{"argv":["s6-log","--","f","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","stderr":""},{"argv":["s6-log","--","1","f","2"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","stderr":""},{"argv":["s6-log","--","-beta","1","f","pREST","1","f","pNEVER","1"],"stdin":"alpha 1\nbeta 2\ngamma 3\nalpha beta 4\ndelta 5\n","rc":0,"stdout":"alpha 1\nREST beta 2\ngamma 3\nREST alpha beta 4\ndelta 5\n","stderr":""}],"errors":[{"argv":["s6-log","x"],"rc":100,"stdout":"","stderr":"s6-log: fatal: unrecognized directive: x\n"},{"argv":["s6-log","tt","1"],"rc":100,"stdout":"","stderr":"s6-log: fatal: syntax error at directive: tt\n"},{"argv":["s6-log","f1","1"],"rc":100,"stdout":"","stderr":"s6-log: fatal: syntax error at directive: f1\n"},{"argv":["s6-log","n"],"rc":100,"stdout":"","stderr":"s6-log: fatal: no action directive specified\n"},{"argv":["s6-log","nabc","1"],"rc":100,"stdout":"","stderr":"s6-log: fatal: unrecognized directive: nabc\n"},{"argv":["s6-log","s100","l2000","1"],"rc":0,"stdout":"x\n","stderr":""},{"argv":["s6-log","s5000","l2501","1"],"rc":100,"stdout":"","stderr":"s6-log: fatal: directive l2501 conflicts with previous s directive\n"},{"argv":["s6-log","s4096","l2048","1"],"rc":0,"stdout":"x\n","stderr":""},{"argv":["s6-log","+(","1"],"rc":100,"stdout":"","stderr":"s6-log: fatal: unrecognized directive: +(\n"},{"argv":["s6-log","="],"rc":100,"stdout":"","stderr":"s6-log: fatal: syntax error at directive: =\n"},{"argv":["s6-log","n5"],"rc":100,"stdout":"","stderr":"s6-log: fatal: no action directive specified\n"},{"argv":["s6-log","1","n5"],"rc":0,"stdout":"x\n","stderr":""},{"argv":["s6-log","12"],"rc":100,"stdout":"","stderr":"s6-log: fatal: syntax error at directive: 12\n"},{"argv":["s6-log","t"],"rc":100,"stdout":"","stderr":"s6-log: fatal: no action directive specified\n"},{"argv":["s6-log","r","1"],"rc":100,"stdout":"","stderr":"s6-log: fatal: unrecognized directive: r\n"},{"argv":["s6-log","E","1"],"rc":100,"stdout":"","stderr":"s6-log: fatal: unrecognized directive: E\n"},{"argv":["s6-log","^","1"],"rc":100,"stdout":"","stderr":"s6-log: fatal: unrecognized directive: ^\n"},{"argv":["s6-log","!","1"],"rc":0,"stdout":"x\n","stderr":""},{"argv":["s6-log","?","1"],"rc":0,"stdout":"x\n","stderr":""}]}"#;

fn bins() -> Vec<(&'static str, PathBuf)> {
    let mut v = vec![("ours", ours("s6-log"))];
    if have_real_s6() {
        v.push(("real", real("s6-log")));
    }
    v
}

/// Runs `prog args` in `cwd` with `input` on stdin (TZ=UTC).
fn run_in(prog: &Path, args: &[&str], cwd: &Path, input: &[u8]) -> Output {
    let mut c = command(prog);
    c.args(args).current_dir(cwd).env("TZ", "UTC");
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let t = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = wait_output(child, Duration::from_secs(20));
    t.join().unwrap();
    out
}

/// `wait_with_output` with a deadline (SIGKILL after it, then panic).
fn wait_output(mut child: Child, timeout: Duration) -> Output {
    let pid = child.id() as i32;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d2 = done.clone();
    let watchdog = std::thread::spawn(move || {
        let end = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < end {
            if d2.load(std::sync::atomic::Ordering::Relaxed) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGKILL);
        true
    });
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let t = std::thread::spawn(move || {
        let mut e = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut e);
        }
        e
    });
    let mut o = Vec::new();
    if let Some(s) = stdout.as_mut() {
        let _ = std::io::Read::read_to_end(s, &mut o);
    }
    let e = t.join().unwrap();
    let status = child.wait().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(!watchdog.join().unwrap(), "process timed out");
    Output { status, stdout: o, stderr: e }
}

/// Masks TAI64N labels and local stamps.
fn mask(b: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'@' && b.len() >= i + 25 && b[i + 1..i + 25].iter().all(|c| c.is_ascii_hexdigit()) {
            out.extend_from_slice(b"@TAI");
            i += 25;
            continue;
        }
        // YYYY-MM-DD HH:MM:SS.nnnnnnnnn
        if b.len() >= i + 29 {
            let w = &b[i..i + 29];
            let shape = b"dddd-dd-dd dd:dd:dd.ddddddddd";
            if w.iter().zip(shape).all(|(c, s)| if *s == b'd' { c.is_ascii_digit() } else { c == s }) {
                out.extend_from_slice(b"LOCAL");
                i += 29;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

#[test]
fn scripts_json() {
    let d: serde_json::Value = serde_json::from_str(SCRIPTS_JSON.trim()).unwrap();
    let w = TempDir::new("log-scripts");
    let mut n = 0;
    for group in ["formats", "selection", "errors"] {
        for e in d[group].as_array().unwrap() {
            let argv: Vec<&str> = e["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
            let input = latin1(e.get("stdin").and_then(|s| s.as_str()).unwrap_or("x\n"));
            let expect = (
                e["rc"].as_i64().unwrap() as i32,
                mask(&latin1(e["stdout"].as_str().unwrap())),
                mask(&latin1(e["stderr"].as_str().unwrap())),
            );
            for (who, bin) in bins() {
                let o = run_in(&bin, &argv[1..], w.path(), &input);
                let got = (o.status.code().unwrap_or(-1), mask(&o.stdout), mask(&o.stderr));
                assert_eq!(got, expect, "{who} {group} {argv:?}");
            }
            n += 1;
        }
    }
    assert_eq!(n, 57);
}

/// Runs the same invocation on ours and the real one; compares rc, stdout, stderr (masked).
fn same_as_real(args: &[&str], input: &[u8]) {
    if !have_real_s6() {
        return;
    }
    let w = TempDir::new("log-same");
    let o = run_in(&ours("s6-log"), args, w.path(), input);
    let r = run_in(&real("s6-log"), args, w.path(), input);
    assert_eq!(
        (o.status.code(), mask(&o.stdout), mask(&o.stderr)),
        (r.status.code(), mask(&r.stdout), mask(&r.stderr)),
        "{args:?} on {:?}",
        String::from_utf8_lossy(input)
    );
}

#[test]
fn more_scripts_vs_real() {
    let cases: &[&[&str]] = &[
        &["1", "+foo"],
        &["+foo"],
        &["--", "1", "-foo"],
        &["1", "f"],
        &["1", "t"],
        &["-q", "1", "f"],
        &["-q", "-q", "1", "f"],
        &["-vq", "1", "+x"],
        &["-q", "-v", "-v", "1", "+x"],
        &["r2147483647", "1"],
        &["r2147483648", "1"],
        &["-l", "4294967295", "1"],
        &["-l", "4294967296", "1"],
        &["-l", "abc", "1"],
        &["-l"],
        &["-x", "1"],
        &["-alpha", "1"],
        &["-d", "2", "1"],
        &["-d", "7", "1"],
        &["-d", "3"],
        &["-d3", "1"],
        &["--", "--", "1"],
        &["s4096", "l2048", "s100", "1"],
        &["s8192", "l4096", "s4096", "1"],
        &["E4294967295", "2"],
        &["p", "1"],
        &["pa", "p", "1"],
        &["!foo", "?", "1"],
        &["n4294967296", "1"],
        &["S18446744073709551615", "1"],
        &["S18446744073709551616", "1"],
        &["", "1"],
        &["=", "1"],
        &["1", "2", "="],
        &["2x"],
        &["Tx", "1"],
        &["ff", "1"],
        &["nabc", "x"],
        &["nabc", "tt"],
        &["+(", "x"],
        &["-bp", "1"],
        &["-b", "-p", "-l", "1", "1"],
        &["-", "1"],
        &["pPREFIX", "t", "T", "2", "E3", "2", "1"],
        &["^0", "=st", "1"],
        &["1", "1", "1"],
        &["-l0", "1"],
        &["-l1", "1"],
    ];
    for a in cases {
        same_as_real(a, b"x\nhello world\n0123456789abcdefghij\n");
    }
}

#[test]
fn regex_dialect_vs_real() {
    let input: &[u8] = b"a\naa\nb\n*a\na{\nd\n\\d\n]\n \nx\nfoo bar\nfoobar\n[\n(a)\na)\nab\nabab\n\xe9t\xe9\nTAB\there\nw_1\n-\n%\nzz\n";
    let pats = [
        "a**",
        "a+*",
        "a{,2}b",
        "a{1,2}{2}",
        "()",
        "a||b",
        "(|a)",
        "a\\{",
        "[]a]",
        "[^]a]",
        "[\\d]",
        "[[:alpha:]]",
        "[[.a.]]",
        "[[=a=]]",
        "[a-]",
        "[--z]",
        "\\d",
        "\\w",
        "\\W",
        "\\s",
        "\\S",
        "\\<a",
        "a\\>",
        "\\bfoo\\b",
        "o\\B",
        "\\`a",
        "a\\'",
        "a)",
        "[a[]",
        "[[]",
        "x**y",
        "a?+",
        "[%--]",
        "^a$",
        "^(ab)+$",
        "a|b",
        "^$",
        "a{2}",
        "(a|b){2,}",
        "[^a-z]",
        "\\.",
        ".",
        "^.$",
        "[[:space:]]",
        "[[:upper:]]",
        "[[:punct:]]",
        "\\(a\\)",
        "\\\\",
        "\u{e9}",
        "[\u{e9}]",
        "^[^\\x]*$",
        "fo{1,2}",
        "a{0}",
        "(a)(b)",
        "[[:digit:][:alpha:]]",
        "^-",
        "a+?",
        "\\$",
        "\\^",
        // rejected by glibc too
        "*a",
        "(*a)",
        "a|*b",
        "a{",
        "a{1",
        "a{x}",
        "{1}a",
        "^*",
        "$*",
        "[a",
        "[[:foo:]]",
        "[[.space.]]",
        "[z-a]",
        "[a-c-e]",
        "\\",
        "(a",
        "a{2,1}",
    ];
    for p in pats {
        same_as_real(&["--", "-.*", &format!("+{p}"), "1"], input);
        same_as_real(&["--", &format!("-{p}"), "1"], input);
    }
}

#[test]
fn framing_vs_real() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for case in 0..24 {
        let mut input = Vec::new();
        for _ in 0..rng.below(30) {
            let len = match rng.below(4) {
                0 => rng.below(5),
                1 => rng.below(60),
                2 => 40 + rng.below(120),
                _ => rng.below(400),
            };
            for _ in 0..len {
                input.push(match rng.below(10) {
                    0 => 0,
                    1 => 0x80 + rng.below(128) as u8,
                    2 => rng.below(32) as u8,
                    _ => b'a' + rng.below(26) as u8,
                });
            }
            input.push(b'\n');
        }
        if case % 3 == 0 {
            input.extend_from_slice(b"partial");
        }
        let limit = ["48", "0", "100", "8192", "47", "1"][case % 6];
        same_as_real(&["-l", limit, "1"], &input);
        same_as_real(&["-l", limit, "E20", "2", "pP", "1"], &input);
        same_as_real(&["-l", limit, "t", "1"], &input);
    }
}

#[test]
fn status_files() {
    // fixtures/s6-2.11.3.2/s6-log/status-files
    let w = TempDir::new("log-status");
    for (who, bin) in bins() {
        let d = w.join(who);
        std::fs::create_dir(&d).unwrap();
        let o = run_in(
            &bin,
            &["^20", "=./st20", "^0", "=./st0", "^1001", "=./st1001", "^10", "=./st10-long"],
            &d,
            b"hello world\n",
        );
        assert!(o.status.success(), "{who}");
        let o = run_in(&bin, &["^10", "=./st10-trunc"], &d, b"0123456789abcdef\n");
        assert!(o.status.success(), "{who}");
        let mut st1001 = b"hello world".to_vec();
        st1001.resize(1001, b'\n');
        for (f, content) in [
            ("st20", b"hello world\n\n\n\n\n\n\n\n\n".to_vec()),
            ("st0", b"hello world\n".to_vec()),
            ("st1001", st1001),
            ("st10-long", b"hello worl".to_vec()),
            ("st10-trunc", b"0123456789".to_vec()),
        ] {
            assert_eq!(std::fs::read(d.join(f)).unwrap(), content, "{who} {f}");
            assert_eq!(std::fs::metadata(d.join(f)).unwrap().permissions().mode() & 0o7777, 0o644, "{who} {f}");
            assert!(!d.join(format!("{f}.new")).exists());
        }
        // One rewrite per selected line: the last line wins; t stamps and prefixes apply.
        let o = run_in(&bin, &["^0", "pP", "t", "=st", "-one", "^0", "=st-last"], &d, b"one\ntwo\n");
        assert!(o.status.success());
        assert_eq!(mask(&std::fs::read(d.join("st")).unwrap()), "@TAI P two\n", "{who}");
        assert_eq!(std::fs::read(d.join("st-last")).unwrap(), b"P two\n", "{who}");
    }
}

/// `^N` up to 8 MiB works as with s6 (the largest the real s6-log survives with the default
/// 8 MiB stack is a little less); above, merit refuses the script at start (exit 100) where the
/// real s6-log builds the padding on its stack and crashes at the first line.
#[test]
fn status_file_size_bound() {
    let w = TempDir::new("log-status-bound");
    for (who, bin) in bins() {
        let d = w.join(who);
        std::fs::create_dir(&d).unwrap();
        let o = run_in(&bin, &["^8000000", "=./big"], &d, b"hello\n");
        assert!(o.status.success(), "{who}: {o:?}");
        let big = std::fs::read(d.join("big")).unwrap();
        assert!(big.len() == 8_000_000 && big.starts_with(b"hello\n") && big.iter().skip(5).all(|&c| c == b'\n'));
    }
    let d = w.join("ours");
    let o = run_in(&ours("s6-log"), &["^8388608", "=./max"], &d, b"hello\n");
    assert!(o.status.success() && std::fs::metadata(d.join("max")).unwrap().len() == 8_388_608, "{o:?}");
    for n in ["^8388609", "^4294967295"] {
        let o = run_in(&ours("s6-log"), &[n, "=./over", "1"], &d, b"hello\n");
        assert_eq!(o.status.code(), Some(100), "{n}");
        let want = format!("s6-log: fatal: directive {n}: status file size over 8388608 bytes\n");
        assert_eq!(String::from_utf8_lossy(&o.stderr), want);
        assert!(o.stdout.is_empty() && !d.join("over").exists(), "{n}");
    }
}

/// A logger being fed line by line.
struct Feeder {
    child: Child,
}

impl Feeder {
    fn start(bin: &Path, args: &[&str], cwd: &Path) -> Feeder {
        Feeder::start_env(bin, args, cwd, &[])
    }
    fn start_env(bin: &Path, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Feeder {
        let mut c = command(bin);
        c.args(args).current_dir(cwd).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        Feeder { child: c.spawn().unwrap() }
    }
    /// Writes `data` in one write, then waits until the logger has taken it out of the pipe.
    fn send(&mut self, data: &[u8]) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(data).unwrap();
        stdin.flush().unwrap();
        let fd = stdin.as_raw_fd();
        std::thread::sleep(Duration::from_millis(4));
        assert!(
            wait_until(PROMPT, || { merit_sys::fd::fionread(fd).map_or(true, |n| n == 0) }),
            "logger did not read its input"
        );
    }
    /// Writes `data` (which ends with a partial line: merit's s6-log leaves partial lines in
    /// the pipe) and gives the logger time to process the complete lines.
    fn send_partial(&mut self, data: &[u8]) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(data).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    fn finish(mut self) -> Output {
        drop(self.child.stdin.take());
        wait_output(self.child, Duration::from_secs(30))
    }
}

fn fixture_line(i: usize) -> Vec<u8> {
    let mut s = format!("line {i:04} ").into_bytes();
    s.resize(99, b'x');
    s.push(b'\n');
    s
}

/// `(mode, size, name or @ARCHIVE.s/.u)` for every entry, sorted, and the archives' contents in
/// name order, and current's content.
type Listing = (u32, Vec<(u32, u64, String)>, Vec<Vec<u8>>);

fn listing(dir: &Path) -> Listing {
    let dmode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o7777;
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let mut rows = Vec::new();
    let mut contents = Vec::new();
    for n in names {
        let m = std::fs::metadata(dir.join(&n)).unwrap();
        let shown = if n.len() == 27 && n.starts_with('@') { format!("@ARCHIVE{}", &n[25..]) } else { n.clone() };
        rows.push((m.permissions().mode() & 0o7777, m.len(), shown));
        if n.starts_with('@') || n == "current" || n == "state" {
            contents.push(std::fs::read(dir.join(&n)).unwrap());
        }
    }
    (dmode, rows, contents)
}

fn rows(spec: &[(u32, u64, &str)]) -> Vec<(u32, u64, String)> {
    spec.iter().map(|(m, s, n)| (*m, *s, n.to_string())).collect()
}

#[test]
fn rotation_n3_s4096_l0() {
    // fixtures/s6-2.11.3.2/s6-log/rotation-n3-s4096-l0/ls.txt
    let expected = rows(&[
        (0o744, 4100, "@ARCHIVE.s"),
        (0o744, 4100, "@ARCHIVE.s"),
        (0o744, 4100, "@ARCHIVE.s"),
        (0o744, 400, "current"),
        (0o644, 0, "lock"),
        (0o644, 0, "state"),
    ]);
    let w = TempDir::new("log-rot");
    let mut all = Vec::new();
    for (who, bin) in bins() {
        let mut f = Feeder::start(&bin, &["-b", "n3", "s4096", "l0", &format!("./{who}")], w.path());
        for i in 0..250 {
            f.send(&fixture_line(i));
        }
        let o = f.finish();
        assert!(o.status.success(), "{who}: {o:?}");
        let l = listing(&w.join(who));
        assert_eq!(l.0, 0o700);
        assert_eq!(l.1, expected, "{who}");
        // The archives hold lines 123..=245 in order, current the last 4.
        let joined: Vec<u8> = l.2.concat();
        let lines: Vec<u8> = (123..250).flat_map(fixture_line).collect();
        assert_eq!(joined, lines, "{who}");
        all.push(l);
    }
    if all.len() == 2 {
        assert_eq!(all[0], all[1]);
    }
}

#[test]
fn rotation_default_tolerance() {
    // fixtures/s6-2.11.3.2/s6-log/rotation-s4096-default-tolerance/ls.txt
    let expected = rows(&[
        (0o744, 2100, "@ARCHIVE.s"),
        (0o744, 2100, "@ARCHIVE.s"),
        (0o744, 800, "current"),
        (0o644, 0, "lock"),
        (0o644, 0, "state"),
    ]);
    let w = TempDir::new("log-tol");
    for (who, bin) in bins() {
        let mut f = Feeder::start(&bin, &["-b", "n20", "s4096", &format!("./{who}")], w.path());
        for i in 0..50 {
            f.send(&fixture_line(i));
        }
        assert!(f.finish().status.success());
        assert_eq!(listing(&w.join(who)).1, expected, "{who}");
    }
}

#[test]
fn big_writes_and_sigalrm() {
    // Many lines in one write: the archive is larger than s (seq 1 2000 | s6-log s4096 l0).
    let w = TempDir::new("log-big");
    let input: Vec<u8> = (1..=2000).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    let mut res = Vec::new();
    for (who, bin) in bins() {
        let o = run_in(&bin, &["n10", "s4096", "l0", &format!("./{who}")], w.path(), &input);
        assert!(o.status.success());
        let l = listing(&w.join(who));
        assert_eq!(l.2.concat(), input, "{who}");
        res.push(l.1.iter().map(|r| r.1).sum::<u64>());
        // SIGALRM rotates a non-empty current; an empty one is left alone.
        let mut f = Feeder::start(&bin, &[&format!("./{who}-alrm")], w.path());
        f.send(b"before alarm\n");
        let _ = merit_sys::signal::kill(f.child.id() as i32, merit_sys::signal::SIGALRM);
        assert!(wait_until(PROMPT, || listing(&w.join(format!("{who}-alrm"))).1.iter().any(|r| r.2 == "@ARCHIVE.s")));
        let _ = merit_sys::signal::kill(f.child.id() as i32, merit_sys::signal::SIGALRM);
        std::thread::sleep(Duration::from_millis(100));
        f.send(b"after alarm\n");
        assert!(f.finish().status.success());
        let l = listing(&w.join(format!("{who}-alrm")));
        assert_eq!(
            l.1,
            rows(&[(0o744, 13, "@ARCHIVE.s"), (0o744, 12, "current"), (0o644, 0, "lock"), (0o644, 0, "state")]),
            "{who}"
        );
        assert_eq!(l.2, vec![b"before alarm\n".to_vec(), b"after alarm\n".to_vec(), vec![]]);
    }
}

#[test]
fn pruning_vs_real() {
    let w = TempDir::new("log-prune");
    let input: Vec<u8> = (1..=2000).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    for (case, args) in [
        ("n10", &["n10", "S8900"][..]),
        ("S8400", &["n10", "S8400"]),
        ("S100", &["n10", "S100"]),
        ("n2", &["n2"]),
        ("n0", &["n0"]),
    ] {
        let mut results = Vec::new();
        for (who, bin) in bins() {
            let d = w.join(format!("{who}-{case}"));
            std::fs::create_dir(&d).unwrap();
            for i in 1..=3 {
                std::fs::write(d.join(format!("@00000000000000000000000{i}.s")), [b'0'; 101]).unwrap();
            }
            // Not archives: never counted nor removed.
            for n in [
                "@xxxxxxxxxxxxxxxxxxxxxxxx.s",
                "@000000000000000000000000.z",
                "@00000000000000000000000.s",
                "A000000000000000000000000.s",
            ] {
                std::fs::write(d.join(n), b"").unwrap();
            }
            let mut a: Vec<&str> = args.to_vec();
            a.extend(["s4096", "l0"]);
            let dir = d.to_str().unwrap().to_string();
            a.push(&dir);
            let o = run_in(&bin, &a, w.path(), &input);
            assert!(o.status.success());
            let names: Vec<String> = {
                let mut v: Vec<String> =
                    std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
                v.sort();
                v.into_iter().map(|n| if n.starts_with("@4") { "@NEW.s".into() } else { n }).collect()
            };
            results.push(names);
        }
        let expect_old: &[&str] = match case {
            "n10" => {
                &["@000000000000000000000001.s", "@000000000000000000000002.s", "@000000000000000000000003.s", "@NEW.s"]
            }
            "S8400" => &["@000000000000000000000002.s", "@000000000000000000000003.s", "@NEW.s"],
            "n2" => &["@000000000000000000000003.s", "@NEW.s"],
            _ => &[],
        };
        let mut expect: Vec<String> =
            ["@00000000000000000000000.s", "@000000000000000000000000.z"].iter().map(|s| s.to_string()).collect();
        expect.extend(expect_old.iter().map(|s| s.to_string()));
        expect.extend(
            ["@xxxxxxxxxxxxxxxxxxxxxxxx.s", "A000000000000000000000000.s", "current", "lock", "state"]
                .iter()
                .map(|s| s.to_string()),
        );
        expect.sort();
        for r in &results {
            assert_eq!(r, &expect, "{case}");
        }
    }
}

const PROC_SH: &str = "?wc -l; cat <&4 >&5; echo rotation >&5";

#[test]
fn processors() {
    // fixtures/s6-2.11.3.2/s6-log/processor-sh: two logdirs (the real one needs them, fd-5 bug).
    let expected = rows(&[
        (0o744, 3, "@ARCHIVE.s"),
        (0o744, 3, "@ARCHIVE.s"),
        (0o744, 800, "current"),
        (0o644, 0, "lock"),
        (0o644, 18, "state"),
    ]);
    let w = TempDir::new("log-proc");
    let mut lists = Vec::new();
    for (who, bin) in bins() {
        let p = format!("./{who}-proc");
        let s = format!("./{who}-sibling");
        let mut f = Feeder::start(&bin, &["-b", "n10", "s4096", "l0", PROC_SH, &p, "?", &s], w.path());
        for i in 0..90 {
            f.send(&fixture_line(i));
        }
        assert!(f.finish().status.success());
        let l = listing(&w.join(&p));
        assert_eq!(l.1, expected, "{who}");
        assert_eq!(
            l.2,
            vec![
                b"41\n".to_vec(),
                b"41\n".to_vec(),
                (82..90).flat_map(fixture_line).collect(),
                b"rotation\nrotation\n".to_vec()
            ]
        );
        lists.push(l);
    }
    if lists.len() == 2 {
        assert_eq!(lists[0], lists[1]);
    }
    // Ours alone: one logdir, the state round trip works (fd 5 given to the processor) with
    // both kinds of processor; a failing processor is retried until it succeeds.
    let eb = "/usr/lib/execline/bin";
    let execline =
        format!("!{eb}/foreground {{ wc -l }} {eb}/fdmove 0 4 {eb}/fdmove 1 5 {eb}/foreground {{ cat }} echo rotation");
    let mut procs: Vec<(&str, String)> = vec![("sh", PROC_SH.to_string())];
    if Path::new(&format!("{eb}/execlineb")).exists() {
        procs.push(("execline", execline));
    }
    for (kind, proc_) in procs {
        let d = format!("./single-{kind}");
        let mut f = Feeder::start(&ours("s6-log"), &["-b", "n10", "s4096", "l0", &proc_, &d], w.path());
        for i in 0..90 {
            f.send(&fixture_line(i));
        }
        let o = f.finish();
        assert!(o.status.success());
        assert_eq!(o.stderr, b"", "{kind}");
        let l = listing(&w.join(&d));
        assert_eq!(l.1, expected, "{kind}");
        assert_eq!(std::fs::read(w.join(&d).join("state")).unwrap(), b"rotation\nrotation\n");
    }
    // Failing processor: retried after r ms, then succeeds (it fails while ./fail exists).
    let d = w.join("retry");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("fail"), b"").unwrap();
    let mut f =
        Feeder::start(&ours("s6-log"), &["-b", "s4096", "l0", "r50", "?test ! -e fail && cat", "./retry"], w.path());
    for i in 0..41 {
        f.send(&fixture_line(i));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(d.join("previous").exists());
    std::fs::remove_file(d.join("fail")).unwrap();
    let o = f.finish();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("s6-log: warning: processor failed in ./retry\n"));
    let l = listing(&d);
    assert_eq!(l.1[0], (0o744, 4100, "@ARCHIVE.s".to_string()));
    assert!(!d.join("previous").exists() && !d.join("processed").exists());
}

#[test]
fn unclean_restart() {
    // fixtures/s6-2.11.3.2/s6-log/unclean-restart/ls.txt
    let w = TempDir::new("log-unclean");
    let mut lists = Vec::new();
    for (who, bin) in bins() {
        let d = format!("./{who}");
        let mut f = Feeder::start(&bin, &["n10", &d], w.path());
        f.send(b"first instance line 1\nfirst instance line 2\n");
        assert!(wait_until(PROMPT, || std::fs::metadata(w.join(who).join("current")).map(|m| m.len()).ok() == Some(44)));
        assert_eq!(std::fs::metadata(w.join(who).join("current")).unwrap().permissions().mode() & 0o7777, 0o644);
        let _ = merit_sys::signal::kill(f.child.id() as i32, merit_sys::signal::SIGKILL);
        let _ = f.finish();
        let o = run_in(&bin, &["n10", &d], w.path(), b"second instance line\n");
        assert!(o.status.success());
        let l = listing(&w.join(who));
        assert_eq!(
            l.1,
            rows(&[(0o644, 44, "@ARCHIVE.u"), (0o744, 21, "current"), (0o644, 0, "lock"), (0o644, 0, "state")]),
            "{who}"
        );
        lists.push(l);
    }
    if lists.len() == 2 {
        assert_eq!(lists[0], lists[1]);
    }
    // Interrupted rotations: previous (+ processed) left over.
    for (who, bin) in bins() {
        let d = w.join(format!("{who}-rot"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("previous"), b"old previous\n").unwrap();
        std::fs::write(d.join("current"), b"old current\n").unwrap();
        std::fs::write(d.join("state"), b"old state\n").unwrap();
        std::fs::write(d.join("newstate"), b"x\n").unwrap();
        let o = run_in(&bin, &[d.to_str().unwrap()], w.path(), b"new\n");
        if who == "real" {
            // s6 2.11.3.2 stamps both .u archives with its start time: the second link fails.
            assert_eq!(o.status.code(), Some(111));
            assert!(String::from_utf8_lossy(&o.stderr).ends_with("-rot: File exists\n"), "{o:?}");
            continue;
        }
        assert!(o.status.success(), "{who}: {o:?}");
        let l = listing(&d);
        assert_eq!(
            l.1,
            rows(&[
                (0o644, 13, "@ARCHIVE.u"),
                (0o644, 12, "@ARCHIVE.u"),
                (0o744, 4, "current"),
                (0o644, 0, "lock"),
                (0o644, 0, "state")
            ]),
            "{who}"
        );
        let d = w.join(format!("{who}-proc"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("previous"), b"old previous\n").unwrap();
        std::fs::write(d.join("processed"), b"done\n").unwrap();
        std::fs::set_permissions(d.join("processed"), std::fs::Permissions::from_mode(0o744)).unwrap();
        let o = run_in(&bin, &[d.to_str().unwrap()], w.path(), b"new\n");
        assert!(o.status.success());
        assert_eq!(
            listing(&d).1,
            rows(&[(0o744, 5, "@ARCHIVE.s"), (0o744, 4, "current"), (0o644, 0, "lock"), (0o644, 0, "state")]),
            "{who}"
        );
    }
}

/// A `current` left by a killed instance with an unfinished last line (a write cut by SIGKILL
/// at a page boundary) is archived as `.u` as it is, fragment included, as the real s6-log does:
/// whether the rest of that line comes again depends on who read it (ours had not consumed it;
/// the real s6-log reads ahead; a pipe made anew has lost it), and a fragment is data.
#[test]
fn unfinished_line_of_a_killed_instance_is_kept() {
    let w = TempDir::new("log-unfinished");
    let mut archives = Vec::new();
    for (who, bin) in bins() {
        let d = w.join(who);
        std::fs::create_dir(&d).unwrap();
        // Mode 0644: not the 0744 of a clean stop.
        std::fs::write(d.join("current"), b"one\ntwo\nthr").unwrap();
        let o = run_in(&bin, &[d.to_str().unwrap()], w.path(), b"three\n");
        assert!(o.status.success(), "{who}: {o:?}");
        let u: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".u"))
            .collect();
        assert_eq!(u.len(), 1, "{who}: {u:?}");
        let archive = std::fs::read(&u[0]).unwrap();
        assert_eq!(String::from_utf8_lossy(&archive), "one\ntwo\nthr", "{who}");
        assert_eq!(std::fs::read(d.join("current")).unwrap(), b"three\n", "{who}");
        archives.push(archive);
    }
    archives.dedup();
    assert_eq!(archives.len(), 1);
}

#[test]
fn logdir_errors_vs_real() {
    let w = TempDir::new("log-errs");
    std::fs::write(w.join("ff"), b"").unwrap();
    std::fs::create_dir(w.join("locked")).unwrap();
    // Hold the lock from this process: the logger (another process) sees it busy.
    let lockf =
        std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(w.join("locked/lock")).unwrap();
    assert!(merit_sys::lock::try_write_lock(lockf.as_raw_fd()).unwrap());
    let cases: &[(&[&str], i32, &str)] = &[
        (&["./ff"], 111, "s6-log: fatal: unable to open ./ff/lock: Not a directory\n"),
        (&["./locked"], 111, "s6-log: fatal: unable to lock ./locked/lock: Device or resource busy\n"),
        (&["/proc/nonexist/dir"], 111, "s6-log: fatal: unable to mkdir /proc/nonexist/dir: No such file or directory\n"),
        (&["./ok", "nabc", "1"], 100, "s6-log: fatal: unrecognized directive: nabc\n"),
        (&["/proc/nonexist/dir", "nabc", "1"], 111, "s6-log: fatal: unable to mkdir /proc/nonexist/dir: No such file or directory\n"),
        (&["-d", "3", "/proc/nonexist/dir"], 100, "s6-log: fatal: invalid notification fd: Bad file descriptor\n"),
        (&["./locked", "+x"], 111, "s6-log: warning: ignoring extraneous non-action directives\ns6-log: fatal: unable to lock ./locked/lock: Device or resource busy\n"),
    ];
    for (who, bin) in bins() {
        for (args, rc, err) in cases {
            let o = run_in(&bin, args, w.path(), b"x\n");
            assert_eq!(
                (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
                (Some(*rc), err.to_string()),
                "{who} {args:?}"
            );
        }
        // The logdir before the bad directive was initialised.
        assert!(w.join("ok/current").exists() && w.join("ok/state").exists());
        let _ = std::fs::remove_dir_all(w.join("ok"));
    }
    drop(lockf);
}

#[test]
fn modes_follow_umask() {
    let w = TempDir::new("log-umask");
    let mut res = Vec::new();
    for (who, bin) in bins() {
        for mask in [0o077u32, 0o000, 0o022] {
            let d = format!("./{who}-{mask:o}");
            let mut c = command(&bin);
            c.args(["s4096", "l0", &d, "^3", &format!("=./{who}-st{mask:o}")])
                .current_dir(w.path())
                .stdin(Stdio::piped());
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut c, move || {
                    merit_sys::umask(mask);
                    Ok(())
                });
            }
            let mut child = c.spawn().unwrap();
            let input: Vec<u8> = (0..50).flat_map(fixture_line).collect();
            child.stdin.take().unwrap().write_all(&input).unwrap();
            assert!(child.wait().unwrap().success());
            let l = listing(&w.join(&d));
            let st = std::fs::metadata(w.join(format!("{who}-st{mask:o}"))).unwrap().permissions().mode() & 0o7777;
            res.push((mask, l.0, l.1, st));
        }
    }
    for r in &res {
        let m = 0o666 & !r.0;
        assert_eq!(r.1, 0o700 & !r.0 | 0o700 & !r.0, "dir mode");
        assert_eq!(r.3, m, "status file mode");
        for row in &r.2 {
            let want = match row.2.as_str() {
                "lock" | "state" => m,
                _ => m | 0o100,
            };
            assert_eq!(row.0, want, "{row:?} umask {:o}", r.0);
        }
    }
    if res.len() == 6 {
        assert_eq!(res[..3], res[3..]);
    }
}

#[test]
fn signals() {
    let w = TempDir::new("log-sig");
    for (who, bin) in bins() {
        // SIGTERM with a partial line pending: the line is completed, what follows is left.
        let mut f = Feeder::start(&bin, &["1"], w.path());
        f.send_partial(b"one\ntwo-part");
        std::thread::sleep(Duration::from_millis(100));
        let _ = merit_sys::signal::kill(f.child.id() as i32, merit_sys::signal::SIGTERM);
        std::thread::sleep(Duration::from_millis(100));
        let stdin = f.child.stdin.as_mut().unwrap();
        stdin.write_all(b"ial\nthree\n").unwrap();
        let o = f.finish();
        assert_eq!((o.status.code(), o.stdout.as_slice()), (Some(0), &b"one\ntwo-partial\n"[..]), "{who}");
        // SIGTERM without a partial line: exit at once.
        let mut f = Feeder::start(&bin, &["1"], w.path());
        f.send(b"one\n");
        let _ = merit_sys::signal::kill(f.child.id() as i32, merit_sys::signal::SIGTERM);
        assert!(wait_until(PROMPT, || matches!(f.child.try_wait(), Ok(Some(_)))), "{who}");
        let o = f.finish();
        assert_eq!((o.status.code(), o.stdout.as_slice()), (Some(0), &b"one\n"[..]), "{who}");
        // -p: SIGTERM ignored, SIGHUP works.
        let mut f = Feeder::start(&bin, &["-p", "1"], w.path());
        f.send(b"one\n");
        let _ = merit_sys::signal::kill(f.child.id() as i32, merit_sys::signal::SIGTERM);
        std::thread::sleep(Duration::from_millis(200));
        assert!(matches!(f.child.try_wait(), Ok(None)), "{who}: -p must ignore SIGTERM");
        f.send(b"two\n");
        let _ = merit_sys::signal::kill(f.child.id() as i32, merit_sys::signal::SIGHUP);
        assert!(wait_until(PROMPT, || matches!(f.child.try_wait(), Ok(Some(_)))), "{who}");
        let o = f.finish();
        assert_eq!((o.status.code(), o.stdout.as_slice()), (Some(0), &b"one\ntwo\n"[..]), "{who}");
        // -d: one newline on the notification fd once the logdirs are ready.
        let (r, wr) = pipe();
        let mut c = command(&bin);
        c.args(["-d", "3", &format!("./{who}-notif")]).current_dir(w.path()).stdin(Stdio::piped());
        let wfd = wr.as_raw_fd();
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut c, move || merit_sys::fd::dup2(wfd, 3));
        }
        let mut child = c.spawn().unwrap();
        drop(wr);
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::fs::File::from(r), &mut buf).unwrap();
        assert_eq!(buf, b"\n", "{who}");
        assert!(w.join(format!("{who}-notif/current")).exists());
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
    }
}

fn pipe() -> (OwnedFd, OwnedFd) {
    merit_sys::fd::pipe(false).unwrap()
}

#[test]
fn stdout_write_error_disables_stdout() {
    for (who, bin) in bins() {
        let w = TempDir::new("log-epipe");
        let (r, wr) = pipe();
        drop(r);
        let mut c = command(&bin);
        c.args(["1", "=st"]).current_dir(w.path()).stdin(Stdio::piped()).stdout(Stdio::from(wr)).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(b"a\nb\n").unwrap();
        let o = wait_output(child, Duration::from_secs(10));
        assert_eq!(o.status.code(), Some(0), "{who}");
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "s6-log: warning: unable to write to stdout, closing the stream - error was: Broken pipe\n",
            "{who}"
        );
        assert_eq!(std::fs::read(w.join("st")).unwrap().len(), 1001);
    }
}

/// merit's guarantee: a SIGKILLed logger loses no line. Numbered lines go through one pipe; the
/// logger is SIGKILLed 20 times at random moments and a new instance is started on the same pipe
/// each time; at the end every line is in the logdir (archives + current), first appearances in
/// order. Duplicates are allowed (and counted).
#[test]
fn sigkill_loses_no_line() {
    let (lost, dups, total, files) = kill_run(&ours("s6-log"), "ours");
    println!("sigkill_loses_no_line: ours: {LINES} lines, {total} logged, {dups} duplicates, {files} files");
    eprintln!("sigkill_loses_no_line: ours: {LINES} lines, {total} logged, {dups} duplicates, {files} files");
    assert_eq!(lost, 0);
    if have_real_s6() {
        // For comparison only: the real s6-log reads ahead of what it writes.
        let (lost, dups, total, _) = kill_run(&real("s6-log"), "real");
        eprintln!("sigkill_loses_no_line: real s6-log for comparison: {total} logged, {lost} lost, {dups} duplicates");
    }
}

const LINES: usize = 30000;

/// Feeds `LINES` numbered lines through one pipe while SIGKILLing the logger 20 times; returns
/// (lines lost, duplicates, lines logged, files). For ours, also asserts that no line is garbled
/// and that first appearances are in order.
fn kill_run(bin: &Path, who: &str) -> (usize, usize, usize, usize) {
    let w = TempDir::new("log-kill");
    let (r, wr) = pipe();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::File::from(wr);
        let mut i = 0;
        while i < LINES {
            let mut chunk = Vec::new();
            for j in i..(i + 37).min(LINES) {
                chunk.extend_from_slice(format!("line {j:06} {}\n", "y".repeat(j % 50)).as_bytes());
            }
            // Split the chunk in two writes at an arbitrary byte: partial lines in the pipe.
            let cut = (i * 7919) % chunk.len();
            f.write_all(&chunk[..cut]).unwrap();
            f.write_all(&chunk[cut..]).unwrap();
            i += 37;
            if i % 370 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    });
    let start = |r: &OwnedFd| -> Child {
        let fd = r.try_clone().unwrap();
        command(bin)
            .args(["-b", "n1000", "s4096", "./logdir"])
            .current_dir(w.path())
            .stdin(Stdio::from(fd))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut rng = Rng(0xdead_beef_1234_5678);
    for _ in 0..20 {
        let mut c = start(&r);
        std::thread::sleep(Duration::from_millis(10 + rng.below(60)));
        let _ = merit_sys::signal::kill(c.id() as i32, merit_sys::signal::SIGKILL);
        c.wait().unwrap();
    }
    writer.join().unwrap();
    let mut c = start(&r);
    drop(r);
    let st = c.wait().unwrap();
    assert!(st.success(), "{who}: {st:?}");
    // Archives in name (= time) order, then current.
    let d = w.join("logdir");
    let mut names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('@'))
        .collect();
    names.sort();
    names.push("current".into());
    let mut seen = vec![false; LINES];
    let mut next_new = 0;
    let (mut dups, mut total) = (0, 0);
    let strict = who == "ours";
    let expected = |m: usize| format!("line {m:06} {}", "y".repeat(m % 50));
    for n in &names {
        let data = std::fs::read(d.join(n)).unwrap();
        let pieces: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        let unterminated = pieces.len() - 1;
        for (k, line) in pieces.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
            let s = String::from_utf8_lossy(line);
            if k == unterminated {
                // The end of a `current` whose write the SIGKILL cut short (the kernel stops a
                // write to a file at a page boundary when a fatal signal is pending): kept, as
                // the real s6-log keeps it, in that current's `.u` archive. Ours had not
                // consumed that line: it comes again whole (checked by `lost`).
                if strict {
                    assert!(n.ends_with(".u"), "an unfinished line {s:?} in {n}");
                    assert!((0..LINES).any(|m| expected(m).starts_with(s.as_ref())), "garbled fragment {s:?} in {n}");
                }
                continue;
            }
            total += 1;
            let Some(num) = s.get(5..11).and_then(|x| x.parse::<usize>().ok()).filter(|&n| n < LINES) else {
                assert!(!strict, "garbled line {s:?} in {n}");
                continue;
            };
            if strict {
                assert_eq!(s, expected(num), "garbled line in {n}");
            }
            if seen[num] {
                dups += 1;
            } else {
                if strict {
                    assert_eq!(num, next_new, "first appearances out of order (line {num} in {n})");
                }
                seen[num] = true;
                next_new += 1;
            }
        }
    }
    let lost = seen.iter().filter(|&&x| !x).count();
    (lost, dups, total, names.len())
}

#[test]
fn long_lines_and_file_stdin_vs_real() {
    let mut input = vec![b'A'; 20000];
    input.push(b'\n');
    input.extend_from_slice(&[b'B'; 9000]);
    input.extend_from_slice(b"\nshort\n");
    input.extend_from_slice(&[b'C'; 8192]);
    input.push(b'\n');
    for l in ["0", "20000", "8192", "9000", "8191", "8193"] {
        same_as_real(&["-l", l, "1"], &input);
    }
    // stdin a regular file (plain reads): same archive sizes as s6's 8192-byte input buffer.
    let w = TempDir::new("log-file");
    let seq: Vec<u8> = (1..=3000).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    std::fs::write(w.join("seq"), &seq).unwrap();
    for (who, bin) in bins() {
        let o = command(&bin)
            .args(["s4096", &format!("./{who}")])
            .current_dir(w.path())
            .stdin(std::fs::File::open(w.join("seq")).unwrap())
            .output()
            .unwrap();
        assert!(o.status.success());
        let l = listing(&w.join(who));
        assert_eq!(
            l.1,
            rows(&[
                (0o744, 8188, "@ARCHIVE.s"),
                (0o744, 5705, "@ARCHIVE.s"),
                (0o744, 0, "current"),
                (0o644, 0, "lock"),
                (0o644, 0, "state")
            ]),
            "{who}"
        );
        assert_eq!(l.2.concat(), seq);
    }
}

#[test]
fn local_stamp_agrees_with_tai64nlocal() {
    let w = TempDir::new("log-tz");
    for tz in ["UTC", "Asia/Kolkata", "America/New_York"] {
        let mut c = command(ours("s6-log"));
        c.args(["t", "T", "1"]).current_dir(w.path()).env("TZ", tz).stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
        let o = child.wait_with_output().unwrap();
        let line = String::from_utf8(o.stdout).unwrap();
        // "@LABEL YYYY-MM-DD HH:MM:SS.nnnnnnnnn  hello\n": converting the label gives the stamp.
        let (label, rest) = line.split_at(25);
        let (stamp, text) = rest[1..].split_at(29);
        assert_eq!(text, "  hello\n");
        let mut c = command(ours("s6-tai64nlocal"));
        c.env("TZ", tz).stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(format!("{label} x\n").as_bytes()).unwrap();
        let conv = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
        assert_eq!(conv, format!("{stamp} x\n"), "TZ={tz}");
    }
}

/// Idle periods between bursts (merit's s6-log frees its empty buffers after 200 ms idle) lose
/// nothing: a partial line written before the pause is completed by what follows it, whether
/// stdin is a pipe (the partial line stays in the pipe) or a socket (read mode: it is held in
/// memory). Same output as the real s6-log.
#[test]
fn idle_pauses_between_bursts_keep_partial_lines() {
    use std::os::unix::net::UnixStream;
    let burst = |tag: &str| -> Vec<u8> { (0..500).flat_map(|i| format!("{tag} line {i:03}\n").into_bytes()).collect() };
    let mut want = burst("first");
    want.extend_from_slice(b"abcdef\n");
    want.extend(burst("second"));
    want.extend_from_slice(b"ghijkl\n");
    for (who, bin) in bins() {
        for kind in ["pipe", "socket"] {
            let w = TempDir::new("log-idle");
            let mut c = command(&bin);
            c.arg("1").current_dir(w.path()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let (child, mut input): (Child, Box<dyn Write>) = if kind == "pipe" {
                c.stdin(Stdio::piped());
                let mut child = c.spawn().unwrap();
                let stdin = child.stdin.take().unwrap();
                (child, Box::new(stdin))
            } else {
                let (ours_end, theirs) = UnixStream::pair().unwrap();
                c.stdin(Stdio::from(OwnedFd::from(theirs)));
                (c.spawn().unwrap(), Box::new(ours_end))
            };
            // stdout is read by wait_output at the end: 1000 short lines fit in the pipe.
            let pause = || std::thread::sleep(Duration::from_millis(500));
            let mut part = burst("first");
            part.extend_from_slice(b"abc");
            input.write_all(&part).unwrap();
            pause();
            let mut part = b"def\n".to_vec();
            part.extend(burst("second"));
            part.extend_from_slice(b"ghi");
            input.write_all(&part).unwrap();
            pause();
            input.write_all(b"jkl\n").unwrap();
            drop(input);
            let out = wait_output(child, Duration::from_secs(20));
            assert!(out.status.success(), "{who} {kind}: {out:?}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&want), "{who} {kind}");
            assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{who} {kind}");
        }
    }
}

/// Whether execline is installed (the real binaries under Debian's prefix). Under CI=true its
/// absence is a failure (.ci/run installs it); elsewhere the caller skips.
fn have_execline() -> bool {
    let ok = Path::new("/usr/lib/execline/bin/execlineb").exists();
    ok || cannot_run("this test", "execline is not installed (apt-get install execline)")
}

#[test]
fn execlineb_found_in_path_first() {
    // `!CMD` runs the execlineb found first in s6-log's PATH (then /bin, /usr/bin,
    // /usr/lib/execline/bin), not a compiled-in Debian path: a wrapper placed first in PATH
    // records that it ran, then runs the real one.
    if !have_execline() {
        return;
    }
    let w = TempDir::new("log-eb");
    let bin = w.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let marker = w.join("ran");
    crate::common::write_exec(
        &bin.join("execlineb"),
        &format!("#!/bin/sh\necho \"$@\" >> {}\nexec /usr/lib/execline/bin/execlineb \"$@\"\n", marker.display()),
    );
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let mut f = Feeder::start_env(&ours("s6-log"), &["-b", "s4096", "l0", "!cat", "./d"], w.path(), &[("PATH", &path)]);
    for i in 0..45 {
        f.send(&fixture_line(i));
    }
    let o = f.finish();
    assert_eq!((o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()), (Some(0), String::new()));
    assert_eq!(std::fs::read_to_string(&marker).unwrap_or_default(), "-Pc cat\n", "the execlineb of PATH was not run");
    let l = listing(&w.join("d"));
    assert_eq!(l.1[0], (0o744, 4100, "@ARCHIVE.s".to_string()));
    assert_eq!(l.2[0], (0..41).flat_map(fixture_line).collect::<Vec<u8>>());
    assert!(!w.join("d/previous").exists() && !w.join("d/processed").exists() && !w.join("d/newstate").exists());
}

/// Every `fixture_line` number found in the archives (name order) then `current` of `dir`.
fn logged_numbers(dir: &Path) -> Vec<usize> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let mut v = Vec::new();
    for n in names.iter().filter(|n| n.starts_with('@')).chain(std::iter::once(&"current".to_string())) {
        for l in std::fs::read_to_string(dir.join(n)).unwrap().lines() {
            v.push(l[5..9].parse::<usize>().unwrap());
        }
    }
    v
}

#[test]
fn failing_processor_does_not_wedge_the_logger() {
    // A processor that always fails (or cannot be run) is retried every r ms, as s6 does; but
    // meanwhile the lines go on reaching the new `current` (the writer is not blocked, in pipe
    // mode too), and at EOF or SIGTERM s6-log gives up processing after a bounded grace:
    // `previous` becomes a `.u` archive, and it exits 0 with every line in the logdir once.
    // (The real s6-log 2.11.3.2 retries forever and never exits.)
    let w = TempDir::new("log-procfail");
    for (case, proc_) in [("eof", "?exit 1"), ("term", "!/nonexistent/processor"), ("hup", "?kill -9 $$")] {
        let d = w.join(case);
        let mut f = Feeder::start(&ours("s6-log"), &["s4096", "l0", "r100", proc_, &format!("./{case}")], w.path());
        for i in 0..41 {
            f.send(&fixture_line(i));
        }
        assert!(wait_until(PROMPT, || d.join("previous").exists()), "{case}: no rotation");
        // Far more than a pipe holds: the writer must not block.
        let mut stdin = f.child.stdin.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let writer = std::thread::spawn(move || {
            let data: Vec<u8> = (41..3041).flat_map(fixture_line).collect();
            let r = stdin.write_all(&data);
            let _ = tx.send(r.is_ok());
            stdin
        });
        assert_eq!(rx.recv_timeout(PROMPT), Ok(true), "{case}: the writer blocked behind a failing processor");
        let stdin = writer.join().unwrap();
        assert!(
            wait_until(PROMPT, || std::fs::metadata(d.join("current")).map(|m| m.len()).unwrap_or(0) == 300_000),
            "{case}: lines not written to current during processing"
        );
        let t0 = std::time::Instant::now();
        match case {
            "eof" => drop(stdin),
            "term" => {
                let _ = merit_sys::signal::kill(f.child.id() as i32, merit_sys::signal::SIGTERM);
            }
            _ => {
                let _ = merit_sys::signal::kill(f.child.id() as i32, merit_sys::signal::SIGHUP);
            }
        }
        assert!(wait_until(PROMPT, || matches!(f.child.try_wait(), Ok(Some(_)))), "{case}: s6-log did not exit");
        assert!(t0.elapsed() < Duration::from_secs(8), "{case}: exit took {:?}", t0.elapsed());
        let o = wait_output(f.child, PROMPT);
        assert_eq!(o.status.code(), Some(0), "{case}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("s6-log: warning: processor "), "{case}: {err}");
        assert!(
            err.ends_with(&format!("s6-log: warning: input ended and the processor still fails in ./{case}: previous archived unprocessed (.u)\n")),
            "{case}: {err}"
        );
        let l = listing(&d);
        assert_eq!(
            l.1,
            rows(&[(0o744, 4100, "@ARCHIVE.u"), (0o744, 300_000, "current"), (0o644, 0, "lock"), (0o644, 0, "state")]),
            "{case}"
        );
        assert_eq!(logged_numbers(&d), (0..3041).collect::<Vec<_>>(), "{case}");
    }
}

#[test]
fn backreferences_vs_real() {
    // Patterns the real s6-log (glibc regcomp, REG_EXTENDED) accepts with back-references,
    // among anchors, brackets, alternation and counted repetitions; lines that match and lines
    // that do not. merit used to refuse them all (exit 100, unrecognized directive).
    let input: &[u8] =
        b"aa\na\nba\nab\naba\nabb\nabab\nabba\nabcabc\nabcab\nfoo foo\nfoo bar\nfoo bar foo\nthe the end\n\
the then\nx-x\nx-y\n12-12\n12-21\n\nb\nbx\nxx\nxyzzy\naaa-aa\naa-aaa\nabcdefghii\nabcdefghija0\nabcdefghij0\n\
word wordy\nkey=val;key\n<a></a>\n<a></b>\n\"q\" 'q'\n1.1.1\n1.2.1\naaaa\naaaaa\n\xe9\xe9\n\xc3\xa9\xc3\xa9\n";
    let pats = [
        "(a)\\1",
        "^(a)\\1$",
        "(a+)-\\1",
        "^(a+)-\\1$",
        "(.)\\1",
        "(.+)\\1",
        "^(.+)\\1$",
        "^(.*) \\1$",
        "(\\w+) \\1",
        "\\<(\\w+) \\1\\>",
        "\\b(\\w+)\\b.*\\b\\1\\b",
        "(a|b)\\1",
        "(a|b)*\\1",
        "((a)|b)*\\2",
        "(a*)\\1",
        "(a*)*\\1",
        "(a*)+\\1",
        "()\\1",
        "(a)(b)\\2\\1",
        "(ab|a)(bc|c)\\2",
        "(a)(b)(c)(d)(e)(f)(g)(h)(i)\\9",
        "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10",
        "(a)\\1*",
        "(a)\\1{2}",
        "^(a)\\1{1,3}$",
        "(a){2}\\1",
        "(x)(y|\\1)",
        "^(a)\\1$|^b$",
        "([[:digit:]]{2})-\\1",
        "([0-9])\\.[0-9]\\.\\1",
        "([^-]+)-\\1",
        "(['\"])q\\1",
        "<([a-z]+)></\\1>",
        "^([a-z]+)=.*;\\1$",
        "(a$)?b\\1",
        "(a)?b\\1",
        "(^a)\\1",
        "((a)\\2)+",
        "(a)(\\1)\\2",
        "(a|\\<)\\1",
        "(.)(.)\\2\\1",
        "^(.)(.).*\\2\\1$",
        "(\u{e9})\\1",
        "(\u{e9}|a)\\1",
        "(b|)\\1x",
        "([ab])\\1{0,1}b",
        // rejected by glibc: a group not yet closed, in another alternative, or absent
        "\\1",
        "(a\\1)",
        "(a)\\2",
        "(a)|b\\1",
        "(a)|\\1",
        "((a)|b\\2)",
    ];
    for p in pats {
        same_as_real(&["--", "-.*", &format!("+{p}"), "1"], input);
        same_as_real(&["--", &format!("-{p}"), "1"], input);
    }
}

#[test]
fn hostile_backreference_pattern_is_bounded() {
    // Exponential for a backtracker; the search stops at its step budget: the line counts as
    // not matching, one warning, and s6-log keeps up.
    let w = TempDir::new("log-hostile");
    // The prefilter `^(a*)(a|a)*x(a*)$` accepts these lines; `\1` (at most 40 a) can never
    // equal the 41 a after the x, and there are 2^40 ways to fail.
    let mut input = Vec::new();
    for _ in 0..20 {
        input.extend_from_slice(&[b'a'; 40]);
        input.push(b'x');
        input.extend_from_slice(&[b'a'; 41]);
        input.push(b'\n');
    }
    let kept = input.clone();
    input.extend_from_slice(b"aaxaa\nxyz\n");
    let t = std::time::Instant::now();
    let o = run_in(&ours("s6-log"), &["--", "-^(a*)(a|a)*x\\1$", "1"], w.path(), &input);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(0));
    let mut want = kept;
    want.extend_from_slice(b"xyz\n");
    assert!(
        o.stdout == want,
        "lines over the budget must be kept by -RE, aaxaa dropped: {:?}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "s6-log: warning: regex ^(a*)(a|a)*x\\1$: backtracking budget exceeded on a line, taken as not matching (warned once)\n"
    );
}
