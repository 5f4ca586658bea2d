//! The pure half of the `service` front end: its command line, the service-name rules, and the
//! exact text of `service list` (Mere Linux's transcript) and of `--json`.

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
}

impl Command {
    pub const ALL: [(Command, &'static str, &'static str); 11] = [
        (Command::List, "list", "Show all defined services, their status and whether they start at boot."),
        (Command::Enable, "enable", "Start the service at boot. Does not start or stop it now."),
        (Command::Disable, "disable", "Do not start the service at boot. Does not start or stop it now."),
        (Command::Start, "start", "Start the service (supervising it first if it is not) and wait until it is up."),
        (Command::Stop, "stop", "Stop the service and its logger and wait; it stays supervised."),
        (Command::Status, "status", "Show the service's status line (as s6-svstat -n) and, on a terminal, its last log lines."),
        (Command::Restart, "restart", "Restart the service (its own ./restart script if it has one)."),
        (Command::Reload, "reload", "Send SIGHUP to the service so that it reloads its configuration."),
        (Command::Resup, "resup", "Stop and unsupervise the service, then supervise the current definition again."),
        (Command::Unsup, "unsup", "Stop the service and remove it from supervision."),
        (Command::Logs, "logs", "Show the service's log with local times (-f follows, -n N lines)."),
    ];

    pub fn parse(word: &str) -> Option<Command> {
        Command::ALL.iter().find(|c| c.1 == word).map(|c| c.0)
    }

    pub fn name(self) -> &'static str {
        Command::ALL.iter().find(|c| c.0 == self).map(|c| c.1).unwrap_or("?")
    }

    /// Whether the command acts on one named service.
    pub fn takes_name(self) -> bool {
        self != Command::List
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
    MissingName(Command),
    TooManyArguments,
    BadName(String, NameError),
}

impl UsageError {
    pub fn message(&self) -> String {
        match self {
            UsageError::NoCommand => "no command given".into(),
            UsageError::UnknownCommand(w) => format!("unknown command: {w}"),
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
            let c = Command::parse(first).ok_or_else(|| UsageError::UnknownCommand(first.clone()))?;
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
    /// Not supervised.
    Unknown,
}

impl RunState {
    pub fn word(self) -> &'static str {
        match self {
            RunState::Up => "up",
            RunState::Down => "down",
            RunState::Unknown => "unknown",
        }
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
                    RunState::Down => "31",
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
        format!(
            "{{\"name\":{},\"status\":{},\"pid\":{},\"seconds\":{},\"ready_seconds\":{},\"normally_up\":{},\"want_up\":{},\"paused\":{},\"exit_code\":{},\"signal\":{},\"onboot\":{}}}",
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
        assert_eq!(parse_words(&w(&["frob", "x"])), Err(UsageError::UnknownCommand("frob".into())));
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
    fn json() {
        let j = JsonStatus { name: "a\"b".into(), status: "up", pid: Some(5), onboot: "enabled", ..Default::default() };
        assert_eq!(
            j.to_json(),
            "{\"name\":\"a\\\"b\",\"status\":\"up\",\"pid\":5,\"seconds\":null,\"ready_seconds\":null,\"normally_up\":null,\"want_up\":null,\"paused\":null,\"exit_code\":null,\"signal\":null,\"onboot\":\"enabled\"}"
        );
    }
}
