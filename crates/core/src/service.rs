//! The pure half of the `service` front end: its command line, the service-name rules, and the
//! exact text of `service list` (Mere Linux's transcript) and of `--json`.
//!
//! [`doc`] is the one table the usage text, the man page service(8) and the shell completions
//! are generated from (`crates/programs/build.rs` includes the same file).

/// Commands, options, exit codes, JSON fields and files of `service`, and the generators of its
/// usage text, man page and completions.
pub mod doc {
    include!("service_doc.rs");
}

/// A `service` command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    List,
    Enable,
    Disable,
    Start,
    Stop,
    Status,
    Restart,
    Reload,
    Resup,
    Unsup,
    Logs,
    Needs,
    NeededBy,
    Graph,
}

impl Command {
    /// Every command, in the order of [`doc::COMMANDS`] (a unit test checks they agree).
    pub const ALL: [Command; 14] = [
        Command::List,
        Command::Enable,
        Command::Disable,
        Command::Start,
        Command::Stop,
        Command::Status,
        Command::Restart,
        Command::Reload,
        Command::Resup,
        Command::Unsup,
        Command::Logs,
        Command::Needs,
        Command::NeededBy,
        Command::Graph,
    ];

    pub fn parse(word: &str) -> Option<Command> {
        Command::ALL.iter().copied().find(|c| c.name() == word)
    }

    pub fn name(self) -> &'static str {
        match self {
            Command::List => "list",
            Command::Enable => "enable",
            Command::Disable => "disable",
            Command::Start => "start",
            Command::Stop => "stop",
            Command::Status => "status",
            Command::Restart => "restart",
            Command::Reload => "reload",
            Command::Resup => "resup",
            Command::Unsup => "unsup",
            Command::Logs => "logs",
            Command::Needs => "needs",
            Command::NeededBy => "needed-by",
            Command::Graph => "graph",
        }
    }

    /// The command's entry in the documentation table.
    pub fn doc(self) -> &'static doc::CommandDoc {
        doc::COMMANDS.iter().find(|d| d.name == self.name()).expect("every command is documented")
    }

    /// Whether the command acts on one named service.
    pub fn takes_name(self) -> bool {
        doc::takes_name(self.name())
    }
}

/// Why a name is refused before any file is touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    Dot,
    Slash,
    Hidden,
    Control,
}

impl NameError {
    pub fn reason(self) -> &'static str {
        match self {
            NameError::Empty => "a service name cannot be empty",
            NameError::Dot => "a service name cannot be . or ..",
            NameError::Slash => "a service name cannot contain /",
            NameError::Hidden => "a service name cannot start with .",
            NameError::Control => "a service name cannot contain control characters",
        }
    }
}

/// Service names are plain directory names.
pub fn check_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name == "." || name == ".." {
        return Err(NameError::Dot);
    }
    if name.contains('/') {
        return Err(NameError::Slash);
    }
    if name.starts_with('.') {
        return Err(NameError::Hidden);
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(NameError::Control);
    }
    Ok(())
}

/// A parsed invocation (after global options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    pub name: Option<String>,
    /// Words after the name (only `logs` takes any).
    pub extra: Vec<String>,
}

/// Why the words could not be understood (exit 2 with the usage text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageError {
    NoCommand,
    UnknownCommand(String),
    /// Two words, neither a command.
    NoCommandIn(String, String),
    MissingName(Command),
    TooManyArguments,
    BadName(String, NameError),
}

impl UsageError {
    pub fn message(&self) -> String {
        match self {
            UsageError::NoCommand => "no command given".into(),
            UsageError::UnknownCommand(w) => format!("unknown command: {w}"),
            UsageError::NoCommandIn(a, b) => format!("unknown command: neither {a:?} nor {b:?} is a command"),
            UsageError::MissingName(c) => format!("{} needs a service name", c.name()),
            UsageError::TooManyArguments => "too many arguments".into(),
            UsageError::BadName(n, e) => format!("invalid service name {n:?}: {}", e.reason()),
        }
    }
}

/// Both orders: `service NAME COMMAND` (the transcript) and `service COMMAND NAME` (Mere's
/// script). Rule: when the second word is a command, the first is the name; otherwise the first
/// must be a command.
pub fn parse_words(words: &[String]) -> Result<Invocation, UsageError> {
    let Some(first) = words.first() else { return Err(UsageError::NoCommand) };
    let (command, name, rest) = match words.get(1).and_then(|w| Command::parse(w)) {
        Some(c) if c.takes_name() => (c, Some(first.clone()), &words[2..]),
        _ => {
            let c = Command::parse(first).ok_or_else(|| match words.get(1) {
                Some(second) => UsageError::NoCommandIn(first.clone(), second.clone()),
                None => UsageError::UnknownCommand(first.clone()),
            })?;
            if c.takes_name() {
                let n = words.get(1).ok_or(UsageError::MissingName(c))?;
                (c, Some(n.clone()), &words[2..])
            } else {
                (c, None, &words[1..])
            }
        }
    };
    if let Some(n) = &name {
        check_name(n).map_err(|e| UsageError::BadName(n.clone(), e))?;
    }
    if !rest.is_empty() && command != Command::Logs {
        return Err(UsageError::TooManyArguments);
    }
    Ok(Invocation { command, name, extra: rest.to_vec() })
}

/// Supervision state shown by `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Up,
    Down,
    /// Down for good: its supervisor gave up restarting it (`restart-limit`).
    Failed,
    /// Not supervised.
    Unknown,
}

impl RunState {
    pub fn word(self) -> &'static str {
        match self {
            RunState::Up => "up",
            RunState::Down => "down",
            RunState::Failed => "failed",
            RunState::Unknown => "unknown",
        }
    }

    /// Down, whether or not its supervisor gave up.
    pub fn is_down(self) -> bool {
        matches!(self, RunState::Down | RunState::Failed)
    }
}

/// One row of `service list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRow {
    pub name: String,
    pub state: RunState,
    pub enabled: bool,
}

/// Colours for the state word (ANSI SGR), used only on a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    Never,
    Ansi,
}

/// The transcript's table: a blank line, header, underlines, rows sorted by name, a blank line.
/// Columns start at 0, 19 and 39; a name of 19 characters or more is followed by one space.
pub fn render_list(rows: &[ListRow], colour: Colour) -> String {
    let mut rows: Vec<&ListRow> = rows.iter().collect();
    rows.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut out = String::from("\n");
    let line = |out: &mut String, a: &str, b: &str, b_coloured: &str, c: &str| {
        let a_w = a.chars().count();
        out.push_str(a);
        if a_w >= 19 {
            out.push(' ');
        } else {
            for _ in a_w..19 {
                out.push(' ');
            }
        }
        out.push_str(b_coloured);
        for _ in b.chars().count()..20 {
            out.push(' ');
        }
        out.push_str(c);
        out.push('\n');
    };
    line(&mut out, "Service", "Status", "Status", "OnBoot");
    line(&mut out, "~~~~~~~", "~~~~~~~~", "~~~~~~~~", "~~~~~~~~");
    for r in rows {
        let w = r.state.word();
        let coloured = match colour {
            Colour::Never => w.to_string(),
            Colour::Ansi => {
                let code = match r.state {
                    RunState::Up => "32",
                    RunState::Down | RunState::Failed => "31",
                    RunState::Unknown => "33",
                };
                format!("\x1b[{code}m{w}\x1b[0m")
            }
        };
        line(&mut out, &r.name, w, &coloured, if r.enabled { "enabled" } else { "disabled" });
    }
    out.push('\n');
    out
}

/// The word ending an action's line, `OK` or `FAIL`, green or red with [`Colour::Ansi`].
pub fn verdict(ok: bool, colour: Colour) -> String {
    let (w, code) = if ok { ("OK", "32") } else { ("FAIL", "31") };
    match colour {
        Colour::Never => w.to_string(),
        Colour::Ansi => format!("\x1b[{code}m{w}\x1b[0m"),
    }
}

/// What `--json` reports for one service.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct JsonStatus {
    pub name: String,
    /// `up`, `down` or `unknown`.
    pub status: &'static str,
    pub pid: Option<i64>,
    pub seconds: Option<u64>,
    pub ready_seconds: Option<u64>,
    pub normally_up: Option<bool>,
    pub want_up: Option<bool>,
    pub paused: Option<bool>,
    pub exit_code: Option<u32>,
    pub signal: Option<u32>,
    pub onboot: &'static str,
    /// merit's own fields ([`doc::JSON_EXTRA_FIELDS`]), each a key and its JSON value, in that
    /// order, after `onboot`: present only for services with the files that enable them.
    pub extra: Vec<(&'static str, String)>,
}

/// A JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "null".into())
}

impl JsonStatus {
    /// One JSON object, fields in the documented order; a field that does not apply is `null`.
    pub fn to_json(&self) -> String {
        let mut extra = String::new();
        for (k, v) in &self.extra {
            extra.push_str(&format!(",{}:{v}", json_string(k)));
        }
        format!(
            "{{\"name\":{},\"status\":{},\"pid\":{},\"seconds\":{},\"ready_seconds\":{},\"normally_up\":{},\"want_up\":{},\"paused\":{},\"exit_code\":{},\"signal\":{},\"onboot\":{}{extra}}}",
            json_string(&self.name),
            json_string(self.status),
            opt(self.pid),
            opt(self.seconds),
            opt(self.ready_seconds),
            opt(self.normally_up),
            opt(self.want_up),
            opt(self.paused),
            opt(self.exit_code),
            opt(self.signal),
            json_string(self.onboot),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn both_orders() {
        let a = parse_words(&w(&["klogd", "status"])).unwrap();
        let b = parse_words(&w(&["status", "klogd"])).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.command, Command::Status);
        // a service called "start": `service start stop` stops it
        let c = parse_words(&w(&["start", "stop"])).unwrap();
        assert_eq!((c.command, c.name.as_deref()), (Command::Stop, Some("start")));
        assert_eq!(parse_words(&w(&["list"])).unwrap().command, Command::List);
        assert_eq!(parse_words(&w(&[])), Err(UsageError::NoCommand));
        assert_eq!(parse_words(&w(&["frob", "x"])), Err(UsageError::NoCommandIn("frob".into(), "x".into())));
        assert_eq!(parse_words(&w(&["frob"])), Err(UsageError::UnknownCommand("frob".into())));
        assert_eq!(parse_words(&w(&["start"])), Err(UsageError::MissingName(Command::Start)));
        assert_eq!(parse_words(&w(&["start", "a", "b"])), Err(UsageError::TooManyArguments));
        assert_eq!(parse_words(&w(&["list", "x"])), Err(UsageError::TooManyArguments));
        let l = parse_words(&w(&["ntpd", "logs", "-n", "5"])).unwrap();
        assert_eq!(l.extra, w(&["-n", "5"]));
    }

    #[test]
    fn names() {
        for (n, e) in [
            ("", NameError::Empty),
            (".", NameError::Dot),
            ("..", NameError::Dot),
            ("a/b", NameError::Slash),
            (".x", NameError::Hidden),
            ("a\nb", NameError::Control),
            ("a\x7fb", NameError::Control),
        ] {
            assert_eq!(check_name(n), Err(e), "{n:?}");
            assert!(matches!(parse_words(&w(&["start", n])), Err(UsageError::BadName(_, _))));
        }
        assert_eq!(check_name("ntpd"), Ok(()));
        assert_eq!(check_name("getty@tty1"), Ok(()));
    }

    #[test]
    fn transcript_table() {
        let rows: Vec<ListRow> = ["syslogd", "klogd", "nginx", "dropbear", "ntpd"]
            .iter()
            .map(|n| ListRow { name: n.to_string(), state: RunState::Up, enabled: *n != "klogd" })
            .collect();
        let expected = "\nService            Status              OnBoot\n~~~~~~~            ~~~~~~~~            ~~~~~~~~\ndropbear           up                  enabled\nklogd              up                  disabled\nnginx              up                  enabled\nntpd               up                  enabled\nsyslogd            up                  enabled\n\n";
        assert_eq!(render_list(&rows, Colour::Never), expected);
    }

    #[test]
    fn long_names_get_one_space() {
        let rows = vec![ListRow { name: "a-very-long-service-name".into(), state: RunState::Unknown, enabled: false }];
        let t = render_list(&rows, Colour::Never);
        assert!(t.contains("\na-very-long-service-name unknown             disabled\n"), "{t}");
        let rows = vec![ListRow { name: "x".repeat(19), state: RunState::Down, enabled: true }];
        assert!(render_list(&rows, Colour::Never).contains(&format!("{} down", "x".repeat(19))));
        let rows = vec![ListRow { name: "x".repeat(18), state: RunState::Down, enabled: true }];
        assert!(render_list(&rows, Colour::Never).contains(&format!("{} down", "x".repeat(18))));
    }

    #[test]
    fn colour_keeps_columns() {
        let rows = vec![ListRow { name: "ntpd".into(), state: RunState::Up, enabled: true }];
        let t = render_list(&rows, Colour::Ansi);
        assert!(t.contains("ntpd               \x1b[32mup\x1b[0m                  enabled\n"), "{t:?}");
    }

    #[test]
    fn verdict_colour() {
        assert_eq!(verdict(true, Colour::Never), "OK");
        assert_eq!(verdict(false, Colour::Never), "FAIL");
        assert_eq!(verdict(true, Colour::Ansi), "\x1b[32mOK\x1b[0m");
        assert_eq!(verdict(false, Colour::Ansi), "\x1b[31mFAIL\x1b[0m");
        // no escape at all without colour
        let rows = vec![ListRow { name: "a".into(), state: RunState::Down, enabled: false }];
        assert!(!render_list(&rows, Colour::Never).contains('\x1b'));
        assert!(render_list(&rows, Colour::Ansi).contains("\x1b[31mdown\x1b[0m"));
    }

    #[test]
    fn table_matches_the_enum() {
        let names: Vec<&str> = doc::COMMANDS.iter().map(|c| c.name).collect();
        let enum_names: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, enum_names);
        for c in Command::ALL {
            assert_eq!(Command::parse(c.name()), Some(c));
            assert_eq!(c.doc().name, c.name());
        }
    }

    #[test]
    fn usage_lists_everything() {
        let u = doc::usage();
        for c in doc::COMMANDS {
            assert!(u.contains(&format!(" {} ", c.name)) || u.contains(&format!(" {}\n", c.name)), "{}", c.name);
            assert!(u.contains(c.summary));
        }
        for o in doc::OPTIONS {
            assert!(u.contains(o.name), "{}", o.name);
        }
    }

    #[test]
    fn man_page_documents_everything() {
        let m = doc::man_page("0.1.0");
        assert!(m.starts_with(".TH SERVICE 8 "));
        for sec in doc::MAN_SECTIONS {
            assert!(m.contains(&format!("\n.SH {sec}\n")), "section {sec}");
        }
        for c in doc::COMMANDS {
            assert!(m.contains(&format!(".B {}", c.name)), "{}", c.name);
        }
        for o in doc::OPTIONS {
            assert!(m.contains(&format!(".B {}", doc::roff(o.name))), "{}", o.name);
        }
        for (f, _, _) in doc::JSON_FIELDS {
            assert!(m.contains(&format!(".B {}", doc::roff(f))), "{f}");
        }
        for (c, _) in doc::EXIT_CODES {
            assert!(m.contains(&format!(".B {c}\n")), "{c}");
        }
        for (e, _) in doc::ENVIRONMENT {
            assert!(m.contains(&format!(".B {}", doc::roff(e))), "{e}");
        }
        assert!(m.contains("\\-\\-generate") && m.contains("\\-\\-list\\-names"));
        // No line starts with a stray control character.
        for l in m.lines() {
            assert!(!l.starts_with('\'') && !l.starts_with(". "), "{l}");
        }
        assert_eq!(doc::roff(".x-y\\z"), "\\&.x\\-y\\ez");
    }

    #[test]
    fn json_fields_match_the_encoder() {
        let j = JsonStatus::default().to_json();
        let keys: Vec<String> = doc::JSON_FIELDS.iter().map(|f| format!("\"{}\":", f.0)).collect();
        let mut at = 0;
        for k in &keys {
            let i = j[at..].find(k.as_str()).unwrap_or_else(|| panic!("{k} in order in {j}"));
            at += i + k.len();
        }
        assert_eq!(j.matches("\":").count(), keys.len());
    }

    #[test]
    fn completions_name_every_command() {
        for script in [doc::bash_completion(), doc::zsh_completion(), doc::fish_completion()] {
            for c in doc::COMMANDS {
                assert!(script.contains(c.name), "{}", c.name);
            }
            assert!(script.contains("--list-names"));
        }
    }

    #[test]
    fn json() {
        let j = JsonStatus { name: "a\"b".into(), status: "up", pid: Some(5), onboot: "enabled", ..Default::default() };
        assert_eq!(
            j.to_json(),
            "{\"name\":\"a\\\"b\",\"status\":\"up\",\"pid\":5,\"seconds\":null,\"ready_seconds\":null,\"normally_up\":null,\"want_up\":null,\"paused\":null,\"exit_code\":null,\"signal\":null,\"onboot\":\"enabled\"}"
        );
    }
}
