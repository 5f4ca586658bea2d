//! Signal names as skalibs 2.13 prints and parses them (Linux numbering).

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
