//! s6-log's command line: options (getopt rules) and the logging script (s6-log.md §1, §3, §4).
//!
//! The script is parsed in two passes, as s6-log 2.11.3.2 does: the first pass only classifies
//! directives by their first character (errors: `unrecognized directive` for an unknown first
//! character, `syntax error at directive` for `f t T 1 2` with trailing characters or a bare `=`,
//! `no action directive specified`); the second pass reads numbers and regexes (errors:
//! `unrecognized directive` for a bad number or regex, `directive lN conflicts with previous s
//! directive`, and merit's `directive ^N: status file size over 8388608 bytes`). Logdirs are initialised during the second pass, in script order, so the caller
//! gets the logdirs that precede a second-pass error (see [`ParseError::logdirs`]).

/// Usage text (after `s6-log: usage: `).
pub const USAGE: &[u8] = b"s6-log [ -d notif ] [ -q | -v ] [ -b ] [ -p ] [ -l linelimit ] [ -- ] logging_script";

/// Default line length limit.
pub const DEFAULT_LINELIMIT: usize = 8192;
/// Non-zero limits below this are raised to it.
pub const MIN_LINELIMIT: usize = 48;

/// Command-line options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `-d N`.
    pub notif: Option<u32>,
    /// 1 by default; `-q` lowers it (not below 0), `-v` raises it.
    pub verbosity: u32,
    /// `-b`.
    pub blocking: bool,
    /// `-p`: ignore SIGTERM.
    pub ignore_term: bool,
    /// `-l N` after adjustment: 0 = unlimited.
    pub linelimit: usize,
}

/// Parses the options with getopt rules (clusters like `-bp`, `-l48` or `-l 48`, `--`).
/// Returns the options and the index of the first script argument, or `None` for a usage error.
pub fn parse_options(args: &[Vec<u8>]) -> Option<(Options, usize)> {
    let mut o =
        Options { notif: None, verbosity: 1, blocking: false, ignore_term: false, linelimit: DEFAULT_LINELIMIT };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a.len() < 2 || a[0] != b'-' {
            break;
        }
        if a.as_slice() == b"--" {
            i += 1;
            break;
        }
        let mut j = 1;
        while j < a.len() {
            let c = a[j];
            j += 1;
            match c {
                b'q' => o.verbosity = o.verbosity.saturating_sub(1),
                b'v' => o.verbosity = o.verbosity.saturating_add(1),
                b'b' => o.blocking = true,
                b'p' => o.ignore_term = true,
                b'l' | b'd' => {
                    let val: &[u8] = if j < a.len() {
                        let v = &a[j..];
                        j = a.len();
                        v
                    } else {
                        i += 1;
                        args.get(i)?
                    };
                    let n = parse_u32(val)?;
                    if c == b'l' {
                        o.linelimit = n as usize;
                    } else {
                        o.notif = Some(n);
                    }
                }
                _ => return None,
            }
        }
        i += 1;
    }
    if o.linelimit != 0 && o.linelimit < MIN_LINELIMIT {
        o.linelimit = MIN_LINELIMIT;
    }
    Some((o, i))
}

/// skalibs' `uint320_scan`-with-whole-string check: decimal digits only, not empty, fits.
pub fn parse_u32(s: &[u8]) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// Same for 64 bits.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Defaults of the sticky control directives.
pub const DEFAULT_N: u32 = 10;
pub const DEFAULT_S: u32 = 99999;
pub const MIN_S: u32 = 4096;
pub const MAX_S: u32 = 268435455;
pub const DEFAULT_TOLERANCE: u32 = 2000;
pub const DEFAULT_RETRY_MS: u32 = 2000;
pub const DEFAULT_ALERT_SIZE: u32 = 200;
pub const DEFAULT_STATUS_SIZE: u32 = 1001;
/// The largest `^N` accepted (8 MiB). s6-log 2.11.3.2 builds a status file's padding in an
/// array on its stack, so a size much beyond the default 8 MiB stack crashes it (SIGSEGV) at
/// the first selected line; merit refuses such a script at start instead (exit 100), rather
/// than write (and hold in memory) hundreds of megabytes per line.
pub const MAX_STATUS_SIZE: u32 = 8 << 20;

/// A processor (`!CMD` or `?CMD`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Processor {
    pub cmd: Vec<u8>,
    /// `?`: `/bin/sh -c CMD`; `!`: `execlineb -Pc CMD`.
    pub shell: bool,
}

/// Where `execlineb` is looked for after the directories of `PATH`, in this order: Mere and
/// most distributions install execline in `/bin` or `/usr/bin`; Debian keeps the real binaries
/// in `/usr/lib/execline/bin` (its `/usr/bin/execlineb` is a wrapper that runs that one).
pub const EXECLINEB_DIRS: [&[u8]; 3] = [b"/bin", b"/usr/bin", b"/usr/lib/execline/bin"];

/// The paths to try for `execlineb`, in order: every absolute directory of `path` (the value
/// of s6-log's `PATH`, if set), then [`EXECLINEB_DIRS`]; duplicates removed. Empty and relative
/// entries of `PATH` are skipped: the processor runs in the logdir, not in s6-log's directory.
///
/// The real s6-log runs `execlineb` from the execline prefix it was compiled with
/// (`/usr/lib/execline/bin` on Debian); a portable s6-log cannot know that prefix, so it
/// searches, and the first regular executable file found is the one run.
pub fn execlineb_candidates(path: Option<&[u8]>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let from_path = path.into_iter().flat_map(|p| p.split(|&c| c == b':')).filter(|d| d.first() == Some(&b'/'));
    for dir in from_path.chain(EXECLINEB_DIRS.iter().copied()) {
        let mut d = dir;
        while d.len() > 1 && d.last() == Some(&b'/') {
            d = &d[..d.len() - 1];
        }
        let mut c = d.to_vec();
        if c.last() != Some(&b'/') {
            c.push(b'/');
        }
        c.extend_from_slice(b"execlineb");
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

impl Processor {
    /// The argv to exec; `execlineb` is the path of execlineb (see [`execlineb_candidates`]),
    /// used for `!` processors only.
    pub fn argv(&self, execlineb: &[u8]) -> Vec<Vec<u8>> {
        if self.shell {
            vec![b"/bin/sh".to_vec(), b"-c".to_vec(), self.cmd.clone()]
        } else {
            vec![execlineb.to_vec(), b"-Pc".to_vec(), self.cmd.clone()]
        }
    }
}

/// A logdir with the control values in effect where it appears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogdirSpec {
    pub path: Vec<u8>,
    /// `n`: archives kept.
    pub count: u32,
    /// `s`: rotation size.
    pub size: u32,
    /// `S`: max total size of archives, 0 = none.
    pub maxdirsize: u64,
    /// `l`: tolerance.
    pub tolerance: u32,
    /// `r`: retry delay, ms.
    pub retry_ms: u32,
    pub processor: Option<Processor>,
}

/// What an action does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// `1`.
    Stdout,
    /// `2`, with the `E` value in effect.
    Alert { size: u32 },
    /// `=FILE`, with the `^` value in effect.
    Status { file: Vec<u8>, size: u32 },
    /// A logdir: index into [`Script::logdirs`].
    Logdir(usize),
}

/// One action with its formatting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub kind: ActionKind,
    /// `t` applied.
    pub tai: bool,
    /// `T` applied.
    pub local: bool,
    pub prefix: Option<Vec<u8>>,
}

/// A selection directive, with the compiled regex type of the caller.
#[derive(Clone, Debug)]
pub enum Selection<R> {
    /// `f`.
    Default,
    /// `+RE`.
    Plus(R),
    /// `-RE`.
    Minus(R),
}

/// Selection directives followed by actions.
#[derive(Clone, Debug)]
pub struct Element<R> {
    pub selections: Vec<Selection<R>>,
    pub actions: Vec<Action>,
}

/// A parsed script.
#[derive(Clone, Debug)]
pub struct Script<R> {
    pub elements: Vec<Element<R>>,
    pub logdirs: Vec<LogdirSpec>,
    /// Some action wants a TAI64N stamp / a local stamp (read the clock once per line).
    pub want_tai: bool,
    pub want_local: bool,
    /// The first pass found non-action directives after the last action (warning).
    pub extraneous: bool,
}

/// A script error (exit 100).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptError {
    Unrecognized(Vec<u8>),
    Syntax(Vec<u8>),
    NoAction,
    Conflict(Vec<u8>),
    /// `^N` above [`MAX_STATUS_SIZE`].
    StatusTooLarge(Vec<u8>),
}

impl ScriptError {
    /// The text after `s6-log: fatal: `.
    pub fn message(&self) -> Vec<u8> {
        match self {
            ScriptError::Unrecognized(d) => [b"unrecognized directive: ".as_slice(), d].concat(),
            ScriptError::Syntax(d) => [b"syntax error at directive: ".as_slice(), d].concat(),
            ScriptError::NoAction => b"no action directive specified".to_vec(),
            ScriptError::Conflict(d) => [b"directive ".as_slice(), d, b" conflicts with previous s directive"].concat(),
            ScriptError::StatusTooLarge(d) => {
                [b"directive ".as_slice(), d, b": status file size over 8388608 bytes"].concat()
            }
        }
    }
}

/// A failed parse.
#[derive(Clone, Debug)]
pub struct ParseError {
    pub error: ScriptError,
    /// The logdirs that precede the error in the second pass: s6-log has already initialised
    /// them (and may have failed on one of them first) when it meets the error.
    pub logdirs: Vec<LogdirSpec>,
    /// Warning of the first pass (only when the first pass succeeded).
    pub extraneous: bool,
}

/// First pass: classification only. Returns whether the "extraneous" warning applies.
fn first_pass(args: &[Vec<u8>]) -> Result<bool, ScriptError> {
    let mut acted = false;
    let mut actions = 0usize;
    for a in args {
        let Some(&c) = a.first() else {
            return Err(ScriptError::Unrecognized(a.clone()));
        };
        match c {
            b'f' | b'+' | b'-' => {
                if c == b'f' && a.len() > 1 {
                    return Err(ScriptError::Syntax(a.clone()));
                }
                acted = false;
            }
            b'n' | b's' | b'S' | b'l' | b'r' | b'E' | b'^' | b'p' | b'!' | b'?' => {}
            b't' | b'T' => {
                if a.len() > 1 {
                    return Err(ScriptError::Syntax(a.clone()));
                }
            }
            b'1' | b'2' | b'=' | b'.' | b'/' => {
                if (c == b'1' || c == b'2') && a.len() > 1 || c == b'=' && a.len() == 1 {
                    return Err(ScriptError::Syntax(a.clone()));
                }
                acted = true;
                actions += 1;
            }
            _ => return Err(ScriptError::Unrecognized(a.clone())),
        }
    }
    if actions == 0 {
        return Err(ScriptError::NoAction);
    }
    Ok(!acted)
}

/// Parses a script. `compile` turns a regex (the bytes after `+`/`-`) into the caller's
/// matcher, or `None` if it is invalid.
pub fn parse<R>(args: &[Vec<u8>], mut compile: impl FnMut(&[u8]) -> Option<R>) -> Result<Script<R>, ParseError> {
    let extraneous = match first_pass(args) {
        Ok(x) => x,
        Err(error) => return Err(ParseError { error, logdirs: Vec::new(), extraneous: false }),
    };
    let mut count = DEFAULT_N;
    let mut size = DEFAULT_S;
    let mut maxdirsize = 0u64;
    let mut tolerance = DEFAULT_TOLERANCE;
    let mut retry_ms = DEFAULT_RETRY_MS;
    let mut alert_size = DEFAULT_ALERT_SIZE;
    let mut status_size = DEFAULT_STATUS_SIZE;
    let mut prefix: Option<Vec<u8>> = None;
    let mut processor: Option<Processor> = None;
    let (mut tai, mut local) = (false, false);
    let mut script =
        Script { elements: Vec::new(), logdirs: Vec::new(), want_tai: false, want_local: false, extraneous };
    let mut cur = Element { selections: Vec::new(), actions: Vec::new() };
    for a in args {
        let rest = &a[1..];
        let bad = |script: &mut Script<R>| ParseError {
            error: ScriptError::Unrecognized(a.clone()),
            logdirs: std::mem::take(&mut script.logdirs),
            extraneous,
        };
        let mut action = None;
        match a[0] {
            b'f' | b'+' | b'-' => {
                if !cur.actions.is_empty() {
                    script
                        .elements
                        .push(std::mem::replace(&mut cur, Element { selections: Vec::new(), actions: Vec::new() }));
                }
                let sel = match a[0] {
                    b'f' => Selection::Default,
                    _ => {
                        let Some(re) = compile(rest) else { return Err(bad(&mut script)) };
                        if a[0] == b'+' {
                            Selection::Plus(re)
                        } else {
                            Selection::Minus(re)
                        }
                    }
                };
                cur.selections.push(sel);
            }
            b'n' => count = parse_u32(rest).ok_or_else(|| bad(&mut script))?,
            b's' => size = parse_u32(rest).ok_or_else(|| bad(&mut script))?.clamp(MIN_S, MAX_S),
            b'S' => maxdirsize = parse_u64(rest).ok_or_else(|| bad(&mut script))?,
            b'l' => {
                tolerance = parse_u32(rest).ok_or_else(|| bad(&mut script))?;
                if tolerance > size / 2 {
                    return Err(ParseError {
                        error: ScriptError::Conflict(a.clone()),
                        logdirs: std::mem::take(&mut script.logdirs),
                        extraneous,
                    });
                }
            }
            b'r' => {
                retry_ms = parse_u32(rest).ok_or_else(|| bad(&mut script))?;
                if retry_ms > i32::MAX as u32 {
                    return Err(bad(&mut script));
                }
            }
            b'E' => alert_size = parse_u32(rest).ok_or_else(|| bad(&mut script))?,
            b'^' => {
                status_size = parse_u32(rest).ok_or_else(|| bad(&mut script))?;
                if status_size > MAX_STATUS_SIZE {
                    return Err(ParseError {
                        error: ScriptError::StatusTooLarge(a.clone()),
                        logdirs: std::mem::take(&mut script.logdirs),
                        extraneous,
                    });
                }
            }
            b'p' => prefix = if rest.is_empty() { None } else { Some(rest.to_vec()) },
            b'!' | b'?' => {
                processor =
                    if rest.is_empty() { None } else { Some(Processor { cmd: rest.to_vec(), shell: a[0] == b'?' }) }
            }
            b't' => tai = true,
            b'T' => local = true,
            b'1' => action = Some(ActionKind::Stdout),
            b'2' => action = Some(ActionKind::Alert { size: alert_size }),
            b'=' => action = Some(ActionKind::Status { file: rest.to_vec(), size: status_size }),
            b'.' | b'/' => {
                script.logdirs.push(LogdirSpec {
                    path: a.clone(),
                    count,
                    size,
                    maxdirsize,
                    tolerance,
                    retry_ms,
                    processor: processor.clone(),
                });
                action = Some(ActionKind::Logdir(script.logdirs.len() - 1));
            }
            _ => return Err(bad(&mut script)),
        }
        if let Some(kind) = action {
            script.want_tai |= tai;
            script.want_local |= local;
            cur.actions.push(Action { kind, tai, local, prefix: prefix.clone() });
            tai = false;
            local = false;
        }
    }
    if !cur.actions.is_empty() {
        script.elements.push(cur);
    }
    Ok(script)
}

/// Runs the selection algorithm of s6-log.md §4 on one line: calls `act` for every action to
/// perform, in order.
pub fn select<R>(
    elements: &[Element<R>],
    line: &[u8],
    is_match: impl Fn(&R, &[u8]) -> bool,
    mut act: impl FnMut(&Action),
) {
    let mut selected = true;
    let mut acted = false;
    for e in elements {
        for s in &e.selections {
            match s {
                Selection::Default => selected = !acted,
                Selection::Plus(re) => {
                    if !selected && is_match(re, line) {
                        selected = true
                    }
                }
                Selection::Minus(re) => {
                    if selected && is_match(re, line) {
                        selected = false
                    }
                }
            }
        }
        if selected {
            acted = true;
            for a in &e.actions {
                act(a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    /// A toy matcher: substring search, `(` invalid.
    fn comp(re: &[u8]) -> Option<Vec<u8>> {
        if re.contains(&b'(') {
            None
        } else {
            Some(re.to_vec())
        }
    }

    fn matches(re: &Vec<u8>, line: &[u8]) -> bool {
        re.is_empty() || line.windows(re.len()).any(|w| w == re.as_slice())
    }

    fn err(args: &[&str]) -> Vec<u8> {
        parse(&v(args), comp).unwrap_err().error.message()
    }

    #[test]
    fn options() {
        let (o, i) = parse_options(&v(&["-bp", "-l", "10", "-d3", "1"])).unwrap();
        assert_eq!(i, 4);
        assert!(o.blocking && o.ignore_term);
        assert_eq!(o.linelimit, 48);
        assert_eq!(o.notif, Some(3));
        let (o, i) = parse_options(&v(&["-l0", "--", "-x", "1"])).unwrap();
        assert_eq!((o.linelimit, i), (0, 2));
        let (o, _) = parse_options(&v(&["-q", "-q", "1"])).unwrap();
        assert_eq!(o.verbosity, 0);
        let (o, _) = parse_options(&v(&["-vq", "1"])).unwrap();
        assert_eq!(o.verbosity, 1);
        assert!(parse_options(&v(&["-alpha", "1"])).is_none());
        assert!(parse_options(&v(&["-l", "abc", "1"])).is_none());
        assert!(parse_options(&v(&["-l", "4294967296", "1"])).is_none());
        assert!(parse_options(&v(&["-l"])).is_none());
        let (_, i) = parse_options(&v(&["-", "1"])).unwrap();
        assert_eq!(i, 0);
    }

    #[test]
    fn errors_match_fixtures() {
        assert_eq!(err(&["x"]), b"unrecognized directive: x");
        assert_eq!(err(&["tt", "1"]), b"syntax error at directive: tt");
        assert_eq!(err(&["f1", "1"]), b"syntax error at directive: f1");
        assert_eq!(err(&["n"]), b"no action directive specified");
        assert_eq!(err(&["nabc", "1"]), b"unrecognized directive: nabc");
        assert_eq!(err(&["s5000", "l2501", "1"]), b"directive l2501 conflicts with previous s directive");
        // merit's bound (the real s6-log crashes on the first line instead).
        assert_eq!(err(&["^8388609", "=st"]), b"directive ^8388609: status file size over 8388608 bytes");
        assert_eq!(err(&["^4294967295", "=st"]), b"directive ^4294967295: status file size over 8388608 bytes");
        assert!(parse(&[b"^8388608".to_vec(), b"=st".to_vec()], |_| Some(())).is_ok());
        assert_eq!(err(&["+(", "1"]), b"unrecognized directive: +(");
        assert_eq!(err(&["="]), b"syntax error at directive: =");
        assert_eq!(err(&["12"]), b"syntax error at directive: 12");
        assert_eq!(err(&["t"]), b"no action directive specified");
        assert_eq!(err(&["r", "1"]), b"unrecognized directive: r");
        assert_eq!(err(&["E", "1"]), b"unrecognized directive: E");
        assert_eq!(err(&["^", "1"]), b"unrecognized directive: ^");
        assert_eq!(err(&["nabc", "x"]), b"unrecognized directive: x");
        assert_eq!(err(&["nabc", "tt"]), b"syntax error at directive: tt");
        assert_eq!(err(&["r2147483648", "1"]), b"unrecognized directive: r2147483648");
        assert_eq!(err(&["n4294967296", "1"]), b"unrecognized directive: n4294967296");
        for ok in [
            &["s100", "l2000", "1"][..],
            &["s4096", "l2048", "1"],
            &["1", "n5"],
            &["!", "1"],
            &["?", "1"],
            &["s8192", "l4096", "s4096", "1"],
            &["S18446744073709551615", "1"],
            &["r2147483647", "1"],
        ] {
            assert!(parse(&v(ok), comp).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn logdirs_before_error() {
        let e = parse(&v(&["./a", "n3", "./b", "nabc", "./c"]), comp).unwrap_err();
        assert_eq!(e.logdirs.len(), 2);
        assert_eq!(e.logdirs[1].count, 3);
    }

    #[test]
    fn execlineb_search_order() {
        let c = |p: Option<&str>| -> Vec<String> {
            execlineb_candidates(p.map(str::as_bytes)).into_iter().map(|v| String::from_utf8(v).unwrap()).collect()
        };
        let defaults = ["/bin/execlineb", "/usr/bin/execlineb", "/usr/lib/execline/bin/execlineb"];
        assert_eq!(c(None), defaults);
        assert_eq!(c(Some("")), defaults);
        assert_eq!(
            c(Some("/opt/x/bin:rel:/usr/bin/::.:/sbin/")),
            [
                "/opt/x/bin/execlineb",
                "/usr/bin/execlineb",
                "/sbin/execlineb",
                "/bin/execlineb",
                "/usr/lib/execline/bin/execlineb"
            ]
        );
        assert_eq!(c(Some("/"))[0], "/execlineb");
        let p = Processor { cmd: b"cat".to_vec(), shell: false };
        assert_eq!(p.argv(b"/x/execlineb"), [b"/x/execlineb".to_vec(), b"-Pc".to_vec(), b"cat".to_vec()]);
        let p = Processor { cmd: b"cat".to_vec(), shell: true };
        assert_eq!(p.argv(b"/x/execlineb")[0], b"/bin/sh");
    }

    #[test]
    fn extraneous() {
        assert!(parse(&v(&["1", "+foo"]), comp).unwrap().extraneous);
        assert!(parse(&v(&["1", "f"]), comp).unwrap().extraneous);
        assert!(!parse(&v(&["1", "n5"]), comp).unwrap().extraneous);
        assert!(!parse(&v(&["1", "t"]), comp).unwrap().extraneous);
    }

    #[test]
    fn sticky_and_one_shot() {
        let s = parse(
            &v(&["n3", "s100", "l7", "S9", "r5", "?cmd", "t", "./a", "pX", "E4", "^6", "T", "2", "=f", "!", "./b"]),
            comp,
        )
        .unwrap();
        assert_eq!(
            s.logdirs[0],
            LogdirSpec {
                path: b"./a".to_vec(),
                count: 3,
                size: 4096,
                maxdirsize: 9,
                tolerance: 7,
                retry_ms: 5,
                processor: Some(Processor { cmd: b"cmd".to_vec(), shell: true })
            }
        );
        assert_eq!(s.logdirs[1].processor, None);
        let acts = &s.elements[0].actions;
        assert!(acts[0].tai && !acts[0].local && acts[0].prefix.is_none());
        assert_eq!(
            acts[1],
            Action { kind: ActionKind::Alert { size: 4 }, tai: false, local: true, prefix: Some(b"X".to_vec()) }
        );
        assert_eq!(acts[2].kind, ActionKind::Status { file: b"f".to_vec(), size: 6 });
        assert!(!acts[2].local);
        assert!(s.want_tai && s.want_local);
        assert_eq!(s.logdirs[0].size, 4096);
        let s = parse(&v(&["s999999999", "1"]), comp).unwrap();
        assert_eq!(s.logdirs.len(), 0);
    }

    fn run(args: &[&str], line: &str) -> Vec<String> {
        let s = parse(&v(args), comp).unwrap();
        let mut out = Vec::new();
        select(&s.elements, line.as_bytes(), matches, |a| {
            out.push(format!(
                "{:?}{}",
                a.kind,
                a.prefix.as_ref().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default()
            ))
        });
        out
    }

    #[test]
    fn selection_semantics() {
        assert_eq!(run(&["-alpha", "1", "+gamma", "2"], "beta 2").len(), 2);
        assert_eq!(run(&["-alpha", "1", "+gamma", "2"], "alpha 1").len(), 0);
        assert_eq!(run(&["-beta", "1", "f", "pREST", "1", "f", "pNEVER", "1"], "beta 2"), vec!["StdoutREST"]);
        assert_eq!(run(&["-beta", "1", "f", "pREST", "1", "f", "pNEVER", "1"], "alpha 1"), vec!["Stdout"]);
        assert_eq!(run(&["-", "1"], "x").len(), 0);
        assert_eq!(run(&["1", "f", "2"], "x"), vec!["Stdout"]);
        assert_eq!(run(&["-a", "1", "f", "pF", "1"], "alpha"), vec!["StdoutF"]);
    }
}
