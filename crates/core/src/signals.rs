//! Signals: Linux numbers by name, the scanner's signal list, and the names skalibs 2.13
//! prints and parses.
//!
//! This is the one signal vocabulary of merit: `merit_sys::signal` re-exports these numbers
//! (and checks at compile time that they are the C library's), so core and programs name a
//! signal the same way and never by its number.

/// A signal number, as `kill(2)` takes it.
pub type Signal = i32;

pub const SIGHUP: Signal = 1;
pub const SIGINT: Signal = 2;
pub const SIGQUIT: Signal = 3;
pub const SIGABRT: Signal = 6;
pub const SIGKILL: Signal = 9;
pub const SIGUSR1: Signal = 10;
pub const SIGUSR2: Signal = 12;
pub const SIGPIPE: Signal = 13;
pub const SIGALRM: Signal = 14;
pub const SIGTERM: Signal = 15;
pub const SIGCHLD: Signal = 17;
pub const SIGCONT: Signal = 18;
pub const SIGSTOP: Signal = 19;
pub const SIGWINCH: Signal = 28;
pub const SIGPWR: Signal = 30;
/// SIGRTMIN+3 as the kernel numbers it (glibc's SIGRTMIN is 34, the kernel's 32 plus the two
/// glibc reserves): systemd's "halt", what podman's `stop` sends to a container whose command
/// is `/sbin/init`.
pub const SIGRTMIN_3: Signal = 37;

/// The signals s6-svscan diverts to `.s6-svscan/SIGNAME` scripts (s6-svscan(8)), with the
/// script's name.
pub const SCANNER_SCRIPTED: [(Signal, &str); 8] = [
    (SIGHUP, "SIGHUP"),
    (SIGINT, "SIGINT"),
    (SIGTERM, "SIGTERM"),
    (SIGQUIT, "SIGQUIT"),
    (SIGUSR1, "SIGUSR1"),
    (SIGUSR2, "SIGUSR2"),
    (SIGPWR, "SIGPWR"),
    (SIGWINCH, "SIGWINCH"),
];

/// The signals s6-svscan handles itself: reaping, rescanning, and `SIGABRT` (leave at once).
pub const SCANNER_OWN: [Signal; 3] = [SIGCHLD, SIGALRM, SIGABRT];

/// Every signal the scanner reads from its signalfd when it runs as PID 1: [`SCANNER_OWN`],
/// [`SCANNER_SCRIPTED`] and [`SIGRTMIN_3`]. init's stage 1 blocks exactly these from its first
/// instruction, so that a request sent before the scanner listens waits for it instead of being
/// lost (or killing PID 1).
pub const SCANNER_PID1: [Signal; 12] =
    [SIGCHLD, SIGALRM, SIGABRT, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGPWR, SIGWINCH, SIGRTMIN_3];

/// Names of signals 1..=31 as skalibs prints them (29 is `POLL`, not `IO`).
const NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
    "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "POLL",
    "PWR", "SYS",
];

/// The bare name (`"TERM"`) of signal `n`, if skalibs has one.
pub fn name(n: u32) -> Option<&'static str> {
    if (1..=31).contains(&n) {
        Some(NAMES[n as usize - 1])
    } else {
        None
    }
}

/// `SIGTERM`, or `SIG???` for a number without a name: s6-svstat's rendering.
pub fn sig_name(n: u32) -> String {
    match name(n) {
        Some(s) => format!("SIG{s}"),
        None => "SIG???".to_string(),
    }
}

/// Parses a signal as s6 accepts it: a decimal number, or a name with or without `SIG`,
/// case-insensitive, including the aliases `IOT`, `CLD`, `IO`.
pub fn parse(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let upper = s.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(i) = NAMES.iter().position(|n| *n == bare) {
        return Some(i as u32 + 1);
    }
    match bare {
        "IOT" => Some(6),
        "CLD" => Some(17),
        "IO" => Some(29),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn scanner_lists_agree() {
        let mut pid1 = SCANNER_PID1.to_vec();
        let mut parts: Vec<Signal> = SCANNER_OWN.to_vec();
        parts.extend(SCANNER_SCRIPTED.iter().map(|&(s, _)| s));
        parts.push(SIGRTMIN_3);
        pid1.sort_unstable();
        parts.sort_unstable();
        assert_eq!(pid1, parts);
        for (sig, script) in SCANNER_SCRIPTED {
            assert_eq!(Some(&script[3..]), name(sig as u32));
        }
    }

    #[test]
    fn numbers_match_names() {
        for (sig, n) in [(SIGHUP, "HUP"), (SIGPIPE, "PIPE"), (SIGCHLD, "CHLD"), (SIGPWR, "PWR"), (SIGWINCH, "WINCH")] {
            assert_eq!(parse(n), Some(sig as u32));
        }
    }

    #[test]
    fn names() {
        assert_eq!(sig_name(15), "SIGTERM");
        assert_eq!(sig_name(29), "SIGPOLL");
        assert_eq!(sig_name(34), "SIG???");
        assert_eq!(sig_name(0), "SIG???");
        assert_eq!(parse("term"), Some(15));
        assert_eq!(parse("SIGhup"), Some(1));
        assert_eq!(parse("9"), Some(9));
        assert_eq!(parse("IO"), Some(29));
        assert_eq!(parse("SIGFOO"), None);
        assert_eq!(parse(""), None);
    }
}
