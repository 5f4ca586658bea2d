//! sd_notify readiness (issue 13, opt-in by a `notify-socket` file in the service directory):
//! what one datagram received on the service's `NOTIFY_SOCKET` says, and the `watchdog-timeout`
//! file. Pure: the socket itself is `merit_sys::notify`.
//!
//! The protocol is systemd's (sd_notify(3)): one datagram of at most [`DATAGRAM_MAX`] bytes holds
//! newline-separated `KEY=VALUE` assignments, like an environment block; a trailing newline is
//! optional; later assignments of a key override earlier ones; keys nobody knows are ignored, so
//! a service may send what systemd understands (`EXTEND_TIMEOUT_USEC=`, `FDSTORE=1`, ...) without
//! harm. The keys merit acts upon: `READY=1`, `RELOADING=1`, `STOPPING=1`, `STATUS=text`,
//! `WATCHDOG=1` (a ping), `WATCHDOG=trigger` (fail now), `MAINPID=N`, `ERRNO=N`, and `BARRIER=1`
//! (the sender waits until the file descriptor it passed along is closed: the socket layer
//! closes it, this only records that one came).
//!
//! What `systemd-notify` (systemd 252, Debian 12) really sends, observed on a socket:
//! `--ready` sends `READY=1` (no `MAINPID=`; `--pid=N` adds `MAINPID=N`), then a second
//! datagram `BARRIER=1` carrying one descriptor, and waits up to 5 s for it to be closed (then
//! exits 1 after sending `ERRNO=110`) unless `--no-block`; `--status=x` sends `STATUS=x`.
//! Run as root, the first datagram carries the credentials of systemd-notify's *parent* (the
//! run script), so that a short-lived notifier is attributed to the service; run as another
//! user, its own pid.
//!
//! Malformed, and ignored as a whole with a warning (never half applied): a datagram with a NUL
//! byte, one longer than [`DATAGRAM_MAX`] (the socket layer reports the truncation), or a
//! non-empty line without `=`. A known key with a value that is not one merit accepts (say
//! `READY=0` or `MAINPID=abc`) is reported in [`Notification::rejected`] and the rest of the
//! datagram applies, as systemd does. An empty datagram is valid and says nothing.

use crate::config::{parse_uint_file, ConfigError};

/// The largest datagram accepted (systemd's limit: `PIPE_BUF`).
pub const DATAGRAM_MAX: usize = 4096;

/// What one datagram says. `None` / `false`: the datagram did not mention it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notification {
    /// `READY=1`: the service is ready (the `U` event, as a notification-fd line).
    pub ready: bool,
    /// `RELOADING=1`: the service is reloading its configuration (shown, nothing else).
    pub reloading: bool,
    /// `STOPPING=1`: the service is shutting down (shown, nothing else).
    pub stopping: bool,
    /// `WATCHDOG=1`: a keep-alive ping.
    pub watchdog_ping: bool,
    /// `WATCHDOG=trigger`: the service asks to be treated as if its watchdog had expired.
    pub watchdog_trigger: bool,
    /// `STATUS=...`: free text for `service NAME status`, made safe to print (see
    /// [`sanitize_status`]). `Some("")` clears the previous text.
    pub status: Option<String>,
    /// `MAINPID=N` (N > 1). The caller accepts it only from the service's own processes.
    pub mainpid: Option<i32>,
    /// `ERRNO=N` (N >= 0): the service's failure reason as an errno.
    pub errno: Option<i32>,
    /// `BARRIER=1`: the sender waits for the descriptor it passed to be closed.
    pub barrier: bool,
    /// Assignments of known keys whose value was refused (the whole line, sanitized), for a
    /// warning. Bounded by the datagram's size.
    pub rejected: Vec<String>,
}

impl Notification {
    /// Whether the datagram changed anything merit acts upon or shows.
    pub fn is_empty(&self) -> bool {
        let Notification {
            ready,
            reloading,
            stopping,
            watchdog_ping,
            watchdog_trigger,
            status,
            mainpid,
            errno,
            barrier,
            rejected: _,
        } = self;
        !(*ready
            || *reloading
            || *stopping
            || *watchdog_ping
            || *watchdog_trigger
            || status.is_some()
            || mainpid.is_some()
            || errno.is_some()
            || *barrier)
    }
}

/// Why a datagram was ignored as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// It holds a NUL byte (at this offset).
    Nul(usize),
    /// It is longer than [`DATAGRAM_MAX`] (its length as far as known).
    Oversized(usize),
    /// Line number `n` (from 1) is not empty and has no `=`.
    NoEquals(usize),
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Malformed::Nul(at) => write!(f, "NUL byte at offset {at}"),
            Malformed::Oversized(n) => write!(f, "datagram of {n} bytes, more than {DATAGRAM_MAX}"),
            Malformed::NoEquals(n) => write!(f, "line {n} is not KEY=VALUE"),
        }
    }
}

/// Parses one datagram. Total: any bytes give `Ok` or `Err`, never a panic.
pub fn parse(datagram: &[u8]) -> Result<Notification, Malformed> {
    if datagram.len() > DATAGRAM_MAX {
        return Err(Malformed::Oversized(datagram.len()));
    }
    if let Some(at) = datagram.iter().position(|&b| b == 0) {
        return Err(Malformed::Nul(at));
    }
    let mut lines = Vec::new();
    for (i, line) in datagram.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        match line.iter().position(|&b| b == b'=') {
            Some(eq) => lines.push((&line[..eq], &line[eq + 1..])),
            None => return Err(Malformed::NoEquals(i + 1)),
        }
    }
    let mut n = Notification::default();
    for (key, value) in lines {
        let ok = match key {
            b"READY" => flag(value, &mut n.ready),
            b"RELOADING" => flag(value, &mut n.reloading),
            b"STOPPING" => flag(value, &mut n.stopping),
            b"BARRIER" => flag(value, &mut n.barrier),
            b"WATCHDOG" => match value {
                b"1" => {
                    n.watchdog_ping = true;
                    true
                }
                b"trigger" => {
                    n.watchdog_trigger = true;
                    true
                }
                _ => false,
            },
            b"STATUS" => {
                n.status = Some(sanitize_status(value));
                true
            }
            b"MAINPID" => match decimal(value).filter(|&p| p > 1 && p <= i32::MAX as u64) {
                Some(p) => {
                    n.mainpid = Some(p as i32);
                    true
                }
                None => false,
            },
            b"ERRNO" => match decimal(value).filter(|&e| e <= i32::MAX as u64) {
                Some(e) => {
                    n.errno = Some(e as i32);
                    true
                }
                None => false,
            },
            _ => true,
        };
        if !ok {
            let mut line = key.to_vec();
            line.push(b'=');
            line.extend_from_slice(value);
            n.rejected.push(sanitize_status(&line));
        }
    }
    Ok(n)
}

/// `KEY=1` sets the flag; anything else (`0` included: there is no un-ready) is refused.
fn flag(value: &[u8], to: &mut bool) -> bool {
    if value == b"1" {
        *to = true;
        true
    } else {
        false
    }
}

/// An unsigned decimal number of at most 19 digits (no sign, no space).
fn decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |acc, &c| acc * 10 + u64::from(c - b'0')))
}

/// STATUS text made safe to print on a terminal and in one line of `service status`: invalid
/// UTF-8 becomes U+FFFD, every control character (escape sequences included) becomes `?`.
pub fn sanitize_status(raw: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(raw).chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    cut_at_char(text, STATUS_MAX)
}

/// The longest `STATUS=` text kept, in bytes of UTF-8 (after [`sanitize_status`]: an invalid
/// byte becomes a 3-byte U+FFFD, so a datagram's text can triple). A status line is one line
/// of `service NAME status`; the bound also keeps `supervise/merit-state` within
/// [`MERIT_STATE_MAX`](crate::backoff::MERIT_STATE_MAX) whatever the service sends.
pub const STATUS_MAX: usize = 1024;

/// `text` cut to at most `max` bytes, at a character boundary.
pub fn cut_at_char(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// `watchdog-timeout`: milliseconds, a uint file as s6 reads them (first line, digits only,
/// fits 32 bits). `0` turns the watchdog off: `Ok(None)`.
pub fn parse_watchdog_timeout(content: &[u8]) -> Result<Option<u32>, ConfigError> {
    parse_uint_file(content).map(|ms| if ms == 0 { None } else { Some(ms) })
}

/// Whether the watchdog has expired: pinged (or started) at `last_ping_ms`, `now_ms` on the same
/// monotonic clock. A clock that seems to go backwards never expires it.
pub fn watchdog_expired(timeout_ms: u32, last_ping_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(last_ping_ms) >= u64::from(timeout_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_systemd_notify_sends() {
        let n = parse(b"READY=1").unwrap();
        assert!(n.ready && !n.is_empty());
        assert_eq!(n, Notification { ready: true, ..Default::default() });
        let n = parse(b"READY=1\nSTATUS=x").unwrap();
        assert_eq!(n, Notification { ready: true, status: Some("x".into()), ..Default::default() });
        let n = parse(b"READY=1\nMAINPID=1234").unwrap();
        assert_eq!(n.mainpid, Some(1234));
        let n = parse(b"STATUS=hello world").unwrap();
        assert_eq!(n.status.as_deref(), Some("hello world"));
        assert!(!n.ready);
        let n = parse(b"BARRIER=1").unwrap();
        assert!(n.barrier && !n.ready);
        assert_eq!(parse(b"ERRNO=110").unwrap().errno, Some(110));
    }

    #[test]
    fn every_known_key() {
        let n = parse(b"RELOADING=1\nSTOPPING=1\nWATCHDOG=1\nWATCHDOG=trigger\nERRNO=0\n").unwrap();
        assert!(n.reloading && n.stopping && n.watchdog_ping && n.watchdog_trigger);
        assert_eq!(n.errno, Some(0));
        assert!(n.rejected.is_empty());
    }

    #[test]
    fn trailing_and_empty_lines_and_empty_datagram() {
        assert_eq!(parse(b"READY=1\n").unwrap(), parse(b"READY=1").unwrap());
        assert_eq!(parse(b"\n\nREADY=1\n\n").unwrap(), parse(b"READY=1").unwrap());
        let n = parse(b"").unwrap();
        assert!(n.is_empty());
        assert_eq!(n, Notification::default());
        assert!(parse(b"\n").unwrap().is_empty());
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let n = parse(b"EXTEND_TIMEOUT_USEC=5000000\nFDSTORE=1\nX=\n=\n=y\nREADY=1").unwrap();
        assert!(n.ready);
        assert!(n.rejected.is_empty());
        assert!(parse(b"FOO=bar").unwrap().is_empty());
        // Keys are case-sensitive, as in systemd.
        assert!(parse(b"ready=1").unwrap().is_empty());
        // No trimming: " READY=1" is another key.
        assert!(parse(b" READY=1").unwrap().is_empty());
    }

    #[test]
    fn malformed_datagrams() {
        assert_eq!(parse(b"READY=1\0"), Err(Malformed::Nul(7)));
        assert_eq!(parse(b"\0"), Err(Malformed::Nul(0)));
        assert_eq!(parse(b"READY=1\nnonsense\n"), Err(Malformed::NoEquals(2)));
        assert_eq!(parse(b"READY"), Err(Malformed::NoEquals(1)));
        let big = vec![b'a'; DATAGRAM_MAX + 1];
        assert_eq!(parse(&big), Err(Malformed::Oversized(DATAGRAM_MAX + 1)));
        let mut just = b"STATUS=".to_vec();
        just.resize(DATAGRAM_MAX, b'x');
        assert_eq!(parse(&just).unwrap().status.map(|s| s.len()), Some(STATUS_MAX));
        assert_eq!(Malformed::NoEquals(2).to_string(), "line 2 is not KEY=VALUE");
        assert_eq!(Malformed::Nul(7).to_string(), "NUL byte at offset 7");
    }

    #[test]
    fn refused_values_are_reported_and_the_rest_applies() {
        let n = parse(b"READY=0\nMAINPID=abc\nMAINPID=1\nMAINPID=0\nMAINPID=-5\nSTATUS=ok").unwrap();
        assert!(!n.ready);
        assert_eq!(n.mainpid, None);
        assert_eq!(n.status.as_deref(), Some("ok"));
        assert_eq!(n.rejected, ["READY=0", "MAINPID=abc", "MAINPID=1", "MAINPID=0", "MAINPID=-5"]);
        let n = parse(b"MAINPID=2147483648\nMAINPID=99999999999999999999\nWATCHDOG=2\nERRNO=x").unwrap();
        assert_eq!(n.mainpid, None);
        assert_eq!(n.rejected.len(), 4);
        assert_eq!(parse(b"MAINPID=2147483647").unwrap().mainpid, Some(i32::MAX));
        assert_eq!(parse(b"MAINPID=2").unwrap().mainpid, Some(2));
        assert!(parse(b"READY=1\nREADY=0").unwrap().ready, "a refused value does not undo");
    }

    #[test]
    fn later_assignments_win() {
        let n = parse(b"STATUS=a\nSTATUS=b\nMAINPID=10\nMAINPID=20").unwrap();
        assert_eq!(n.status.as_deref(), Some("b"));
        assert_eq!(n.mainpid, Some(20));
        assert_eq!(parse(b"STATUS=a\nSTATUS=").unwrap().status.as_deref(), Some(""));
        // The value is everything after the first '='.
        assert_eq!(parse(b"STATUS=a=b").unwrap().status.as_deref(), Some("a=b"));
    }

    #[test]
    fn status_is_safe_to_print() {
        assert_eq!(parse(b"STATUS=\x1b[2Jgone\ttab\r").unwrap().status.as_deref(), Some("?[2Jgone?tab?"));
        assert_eq!(parse(b"STATUS=caf\xc3\xa9 \xff").unwrap().status.as_deref(), Some("café \u{fffd}"));
        assert_eq!(sanitize_status(b"\x7f\xc2\x85"), "??");
        // Bounded, cut between characters: 400 invalid bytes are 400 U+FFFD (1200 bytes).
        let long = sanitize_status(&[0xff; 400]);
        assert_eq!((long.len(), long.chars().count()), (1023, 341));
        assert_eq!(sanitize_status(&[b'a'; 5000]).len(), STATUS_MAX);
        assert_eq!(cut_at_char("ééé".into(), 5), "éé");
        assert_eq!(cut_at_char("abc".into(), 3), "abc");
    }

    #[test]
    fn watchdog_timeout_file() {
        assert_eq!(parse_watchdog_timeout(b"5000\n"), Ok(Some(5000)));
        assert_eq!(parse_watchdog_timeout(b"0"), Ok(None));
        assert_eq!(parse_watchdog_timeout(b""), Err(ConfigError::Invalid));
        assert_eq!(parse_watchdog_timeout(b"5s"), Err(ConfigError::Invalid));
        assert_eq!(parse_watchdog_timeout(b"4294967296"), Err(ConfigError::Invalid));
        assert!(!watchdog_expired(1000, 5000, 5999));
        assert!(watchdog_expired(1000, 5000, 6000));
        assert!(!watchdog_expired(1000, 5000, 10), "clock going back");
    }
}
