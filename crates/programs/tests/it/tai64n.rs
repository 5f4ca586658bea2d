//! `s6-tai64n` and `s6-tai64nlocal` against the fixtures of the real s6 2.11.3.2
//! (`fixtures/s6-2.11.3.2/tai64n/`, embedded below so the test runs on a fresh clone) and, when
//! the real s6 is installed, against `/usr/bin/s6-tai64n{,local}` on random inputs: same bytes
//! out (s6-tai64n: labels masked, then checked to be non-decreasing and inside the wall-clock
//! bracket of the run).

use crate::common::{command, have_real_s6, ours, real, Rng};
use merit_core::tai::Tain;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

const TAI64N_INPUT: &str = r#"a

b
no-newline"#;
const TAI64N_OUTPUT: &str = r#"@400000006b08261e038bdd40 a
@400000006b08261e038bfcbe 
@400000006b08261e038bfea6 b
@400000006b08261e038c622e no-newline
"#;
const LOCAL_INPUT: &str = r#"@400000006b0821c114a3f698 typical line
@400000006b0821c114a3f698
@400000006B0821C114A3F698 uppercase hex accepted
@400000006b0821c114a3f69 only 23 hex digits after 4
@400000006b0821c114a3f698x no space needed after the label
@400000000000000a00000000 unix epoch = 2^62 + 10
@40000000586846a300000000 2016-12-31 23:59:59 UTC
@40000000586846a400000000 leap second 23:59:60
@40000000586846a500000000 2017-01-01 00:00:00 UTC
@40000000586846a43b9ac9ff leap second, last nanosecond
@4000000000000000000000ff before the epoch: not converted
@3fffffffffffffff00000000 below 2^62: not converted
 @400000006b0821c114a3f698 leading space: not converted
no label at all
@
@400000006b0821c114a3f698"#;

/// The instants of the labelled lines of [`LOCAL_INPUT`] as s6-tai64nlocal shows them, in UTC
/// (also with `-g`), America/New_York and Asia/Kolkata: the typical one, the Unix epoch, the
/// leap second of 2016-12-31 (before, during, after, its last nanosecond).
const LOCAL_TIMES: [[&str; 3]; 6] = [
    ["2026-11-26 12:10:04.346289816", "2026-11-26 07:10:04.346289816", "2026-11-26 17:40:04.346289816"],
    ["1970-01-01 00:00:00.000000000", "1969-12-31 19:00:00.000000000", "1970-01-01 05:30:00.000000000"],
    ["2016-12-31 23:59:59.000000000", "2016-12-31 18:59:59.000000000", "2017-01-01 05:29:59.000000000"],
    ["2016-12-31 23:59:60.000000000", "2016-12-31 18:59:60.000000000", "2017-01-01 05:29:60.000000000"],
    ["2017-01-01 00:00:00.000000000", "2016-12-31 19:00:00.000000000", "2017-01-01 05:30:00.000000000"],
    ["2016-12-31 23:59:60.999999999", "2016-12-31 18:59:60.999999999", "2017-01-01 05:29:60.999999999"],
];

/// The line of [`LOCAL_TIMES`] each line of [`LOCAL_INPUT`] shows, its 25-byte label replaced;
/// `None` (and every line past these): the line is left alone.
const LOCAL_LINES: [Option<usize>; 10] =
    [Some(0), Some(0), Some(0), None, Some(0), Some(1), Some(2), Some(3), Some(4), Some(5)];

/// s6-tai64nlocal's output for [`LOCAL_INPUT`] in column `zone` of [`LOCAL_TIMES`].
fn local_output(zone: usize) -> String {
    let convert = |(i, l): (usize, &str)| match LOCAL_LINES.get(i).copied().flatten() {
        Some(t) => format!("{}{}", LOCAL_TIMES[t][zone], &l[25..]),
        None => l.to_string(),
    };
    LOCAL_INPUT.split_inclusive('\n').enumerate().map(convert).collect()
}

/// Runs `prog args` with `input` on stdin and optional `TZ`.
fn run(prog: &Path, args: &[&str], tz: Option<&str>, input: &[u8]) -> Output {
    let mut c = command(prog);
    c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    match tz {
        Some(z) => c.env("TZ", z),
        None => c.env_remove("TZ"),
    };
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let t = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    t.join().unwrap();
    out
}

fn wall_tain() -> Tain {
    let (s, ns) = merit_sys::clock::wall();
    Tain::from_unix(s, ns)
}

/// Replaces every leading label by `@LABEL`, after checking that labels are non-decreasing and
/// within `[before, after]`.
fn mask_and_check(out: &[u8], before: Tain, after: Tain) -> Vec<u8> {
    let mut last = before;
    let mut masked = Vec::new();
    for line in out.split_inclusive(|&b| b == b'\n') {
        let t = Tain::parse_label(line).unwrap_or_else(|| panic!("no label: {:?}", String::from_utf8_lossy(line)));
        assert!(t >= last, "labels not monotone: {t:?} < {last:?}");
        assert!(t <= after, "label {t:?} after the run ended ({after:?})");
        last = t;
        masked.extend_from_slice(b"@LABEL");
        masked.extend_from_slice(&line[25..]);
    }
    masked
}

#[test]
fn tai64n_fixture() {
    let before = wall_tain();
    let o = run(&ours("s6-tai64n"), &[], None, TAI64N_INPUT.as_bytes());
    let after = wall_tain();
    assert!(o.status.success());
    assert_eq!(o.stderr, b"");
    let fixture = TAI64N_OUTPUT.as_bytes();
    let fixture_masked: Vec<u8> =
        fixture.split_inclusive(|&b| b == b'\n').flat_map(|l| [b"@LABEL".as_slice(), &l[25..]].concat()).collect();
    assert_eq!(mask_and_check(&o.stdout, before, after), fixture_masked);
}

#[test]
fn tai64nlocal_fixtures() {
    for (args, tz, zone) in [
        (&[][..], "UTC", 0),
        (&[], "America/New_York", 1),
        (&[], "Asia/Kolkata", 2),
        // -g: the labels are shown as UTC, whatever TZ says.
        (&["-g"], "America/New_York", 0),
    ] {
        let o = run(&ours("s6-tai64nlocal"), args, Some(tz), LOCAL_INPUT.as_bytes());
        assert!(o.status.success());
        assert_eq!(String::from_utf8_lossy(&o.stdout), local_output(zone), "TZ={tz} {args:?}");
        if have_real_s6() {
            let r = run(&real("s6-tai64nlocal"), args, Some(tz), LOCAL_INPUT.as_bytes());
            assert_eq!(r.stdout, o.stdout, "real, TZ={tz} {args:?}");
        }
    }
}

/// Random lines: labels near leap seconds, the epoch, 2^62, now, far future, uppercase, short
/// labels, labels glued to text, random bytes; sometimes an unterminated last line.
fn random_input(rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::new();
    let lines = 1 + rng.below(40);
    for _ in 0..lines {
        let secs: u64 = match rng.below(8) {
            0 => {
                let e = merit_core::tai::LEAP_TABLE[rng.below(27) as usize] as u64;
                (1 << 62) + 10 + e + rng.below(30) - 2
            }
            1 => (1 << 62) + rng.below(40),
            2 => (1 << 62) - rng.below(3),
            3 => Tain::from_unix(1_795_696_098 + rng.below(1 << 30) as i64 - (1 << 29), 0).secs,
            4 => rng.next(),
            5 => (1 << 62) + rng.below(1 << 40),
            _ => Tain::from_unix(rng.below(2_000_000_000) as i64, 0).secs,
        };
        let nanos = if rng.below(10) == 0 { rng.next() as u32 } else { rng.below(1_000_000_000) as u32 };
        let mut label = Tain::new(secs, nanos).label().to_vec();
        match rng.below(10) {
            0 => label.make_ascii_uppercase(),
            1 => label.truncate(1 + rng.below(25) as usize),
            2 => label[1 + rng.below(24) as usize] = b'g',
            3 => label.insert(0, b' '),
            _ => {}
        }
        if rng.below(12) != 0 {
            v.extend_from_slice(&label);
        }
        match rng.below(4) {
            0 => {}
            1 => v.extend_from_slice(b"x"),
            _ => {
                v.push(b' ');
                for _ in 0..rng.below(30) {
                    let c = rng.below(256) as u8;
                    v.push(if c == b'\n' { b'.' } else { c });
                }
            }
        }
        v.push(b'\n');
    }
    if rng.below(3) == 0 {
        v.pop();
    }
    v
}

#[test]
fn tai64nlocal_random_vs_real() {
    if !have_real_s6() {
        return;
    }
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut zones = vec![Some("UTC"), Some("America/New_York"), Some("Asia/Kolkata"), None];
    if Path::new("/usr/share/zoneinfo/right/UTC").exists() {
        zones.push(Some("right/UTC"));
    }
    for case in 0..60 {
        let input = random_input(&mut rng);
        let tz = zones[case % zones.len()];
        let args: &[&str] = if case % 3 == 0 { &["-g"] } else { &[] };
        let o = run(&ours("s6-tai64nlocal"), args, tz, &input);
        let r = run(&real("s6-tai64nlocal"), args, tz, &input);
        assert_eq!(
            (o.status.code(), &o.stdout, &o.stderr),
            (r.status.code(), &r.stdout, &r.stderr),
            "case {case} TZ={tz:?} {args:?}: input {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn tai64n_random_vs_real() {
    let mut rng = Rng(0x0dd_ba11_cafe_f00d);
    for case in 0..30 {
        let mut input = random_input(&mut rng);
        if case % 5 == 0 {
            input.clear();
        }
        let before = wall_tain();
        let o = run(&ours("s6-tai64n"), &["ignored", "-x"], None, &input);
        let after = wall_tain();
        assert!(o.status.success());
        let mine = mask_and_check(&o.stdout, before, after);
        // What s6-tai64n must print: every line prefixed, the last one terminated.
        let mut expect = Vec::new();
        for l in input.split_inclusive(|&b| b == b'\n') {
            expect.extend_from_slice(b"@LABEL ");
            expect.extend_from_slice(l);
        }
        if !input.is_empty() && !input.ends_with(b"\n") {
            expect.push(b'\n');
        }
        assert_eq!(mine, expect, "case {case}");
        if have_real_s6() {
            let before = wall_tain();
            let r = run(&real("s6-tai64n"), &["ignored", "-x"], None, &input);
            let after = wall_tain();
            assert_eq!(mask_and_check(&r.stdout, before, after), mine, "real, case {case}");
        }
    }
}

#[test]
fn errors_match_real() {
    // Usage error.
    let o = run(&ours("s6-tai64nlocal"), &["-x"], None, b"");
    assert_eq!(o.status.code(), Some(100));
    assert_eq!(o.stderr, b"s6-tai64nlocal: usage: s6-tai64nlocal [ -g ]\n");
    // -- and -g -g are fine.
    assert!(run(&ours("s6-tai64nlocal"), &["-g", "-g", "--"], None, b"").status.success());
    // Write errors (s6 reports them as read errors).
    for prog in ["s6-tai64n", "s6-tai64nlocal"] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let o = command(ours(prog)).stdin(Stdio::piped()).stdout(full).stderr(Stdio::piped()).spawn().unwrap();
        let mut o = o;
        o.stdin.take().unwrap().write_all(b"@400000006b0821c114a3f698 x\n").unwrap();
        let o = o.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(111), "{prog}");
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            format!("{prog}: fatal: unable to read from stdin: No space left on device\n")
        );
        if have_real_s6() {
            let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
            let mut r = command(real(prog)).stdin(Stdio::piped()).stdout(full).stderr(Stdio::piped()).spawn().unwrap();
            r.stdin.take().unwrap().write_all(b"@400000006b0821c114a3f698 x\n").unwrap();
            let r = r.wait_with_output().unwrap();
            assert_eq!((r.status.code(), r.stderr), (o.status.code(), o.stderr), "{prog}");
        }
    }
    // A directory on stdin.
    let o = command(ours("s6-tai64n")).stdin(std::fs::File::open("/tmp").unwrap()).output().unwrap();
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(o.stderr, b"s6-tai64n: fatal: unable to read from stdin: Is a directory\n");
}
