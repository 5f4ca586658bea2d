//! Restart back-off and giving up (issue 13, opt-in by files in the service directory), and
//! merit's own state file beside s6's `supervise/status`. Pure: the clock, the files and the
//! timers are the supervisor's.
//!
//! - `restart-delay` holds `MIN MAX` (milliseconds): after each *quick* death (the service was
//!   up for less than MAX) the delay before the next start doubles, starting at MIN, capped at
//!   MAX. A death after the service stayed up for MAX or longer resets the sequence: that
//!   restart is immediate, as s6's, and the next quick death waits MIN again. The delay counts
//!   from the death; s6's own rule (at most one start per second) still applies on top: the
//!   caller waits for whichever ends later.
//! - `restart-limit` holds `N SECONDS`: when the N-th death within SECONDS happens (the first
//!   and the last of the N most recent deaths at most SECONDS apart) the supervisor gives up:
//!   the service stays down, `failed`, until `service NAME start` or `s6-svc -u` clears it.
//!   Only deaths the supervisor did not ask for count (the caller feeds those only).
//! - Both files: the first line, two unsigned decimal numbers separated by spaces or tabs,
//!   trailing blanks allowed, at most [`POLICY_FILE_MAX`] bytes read.
//!
//! s6's `supervise/status` keeps its exact format (the real `s6-svstat` reads it); what merit
//! knows beyond it lives in `supervise/merit-state` ([`MERIT_STATE_FILE`]), a small versioned
//! text file written atomically the same way (`merit-state.new`, then rename): see
//! [`MeritState`].

use crate::config::ConfigError;
use crate::notify::{cut_at_char, STATUS_MAX};
use std::collections::VecDeque;

/// At most this many bytes of `restart-delay` and `restart-limit` are read.
pub const POLICY_FILE_MAX: usize = 64;
/// The largest N of `restart-limit` (the supervisor keeps the time of the last N deaths).
pub const RESTART_LIMIT_MAX_DEATHS: u32 = 1000;

/// `restart-delay`: `MIN MAX` in milliseconds, `1 <= MIN <= MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartDelay {
    pub min_ms: u32,
    pub max_ms: u32,
}

/// `restart-limit`: give up after `deaths` deaths within `window_s` seconds (both >= 1,
/// `deaths <= RESTART_LIMIT_MAX_DEATHS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartLimit {
    pub deaths: u32,
    pub window_s: u32,
}

/// Two u32 on the first line of at most [`POLICY_FILE_MAX`] bytes.
fn two_numbers(content: &[u8]) -> Result<(u32, u32), ConfigError> {
    let b = &content[..content.len().min(POLICY_FILE_MAX)];
    let line = match b.iter().position(|&c| c == b'\n') {
        Some(i) => &b[..i],
        // Cut by the read limit in the middle of the line: refuse rather than guess.
        None if content.len() > POLICY_FILE_MAX => return Err(ConfigError::Invalid),
        None => b,
    };
    let mut words = line.split(|&c| c == b' ' || c == b'\t').filter(|w| !w.is_empty());
    let mut num = || -> Result<u32, ConfigError> {
        let w = words.next().ok_or(ConfigError::Invalid)?;
        if w.len() > 10 || !w.iter().all(u8::is_ascii_digit) {
            return Err(ConfigError::Invalid);
        }
        let v = w.iter().fold(0u64, |acc, &c| acc * 10 + u64::from(c - b'0'));
        u32::try_from(v).map_err(|_| ConfigError::Invalid)
    };
    let (a, b) = (num()?, num()?);
    if words.next().is_some() {
        return Err(ConfigError::Invalid);
    }
    Ok((a, b))
}

/// Parses `restart-delay`.
pub fn parse_restart_delay(content: &[u8]) -> Result<RestartDelay, ConfigError> {
    let (min_ms, max_ms) = two_numbers(content)?;
    if min_ms == 0 || max_ms < min_ms {
        return Err(ConfigError::Invalid);
    }
    Ok(RestartDelay { min_ms, max_ms })
}

/// Parses `restart-limit`.
pub fn parse_restart_limit(content: &[u8]) -> Result<RestartLimit, ConfigError> {
    let (deaths, window_s) = two_numbers(content)?;
    if deaths == 0 || deaths > RESTART_LIMIT_MAX_DEATHS || window_s == 0 {
        return Err(ConfigError::Invalid);
    }
    Ok(RestartLimit { deaths, window_s })
}

/// What the service directory asks for (`None`: the file is absent, s6's behaviour).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub delay: Option<RestartDelay>,
    pub limit: Option<RestartLimit>,
}

/// What to do after a death.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start again after this many milliseconds from the death (0: at once, as s6).
    Restart { delay_ms: u32 },
    /// Stop restarting: `deaths` deaths within `window_s` seconds.
    GiveUp { deaths: u32, window_s: u32 },
}

/// The back-off state of one service. Times are milliseconds of one monotonic clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    /// The delay given after the last death (0: none).
    delay_ms: u32,
    /// The times of the most recent deaths, oldest first, at most `limit.deaths` of them.
    deaths: VecDeque<u64>,
    failed: bool,
}

impl Backoff {
    pub fn new() -> Backoff {
        Backoff::default()
    }

    /// A death at `now_ms` of a service up since `up_since_ms`: the delay before the next
    /// start, or giving up. Once given up, every further call gives up again until [`clear`].
    ///
    /// [`clear`]: Backoff::clear
    pub fn on_death(&mut self, policy: &Policy, now_ms: u64, up_since_ms: u64) -> Decision {
        let up_for = now_ms.saturating_sub(up_since_ms);
        self.delay_ms = match policy.delay {
            None => 0,
            Some(d) if up_for >= u64::from(d.max_ms) => 0,
            Some(d) if self.delay_ms == 0 => d.min_ms,
            Some(d) => self.delay_ms.saturating_mul(2).clamp(d.min_ms, d.max_ms),
        };
        if let Some(l) = policy.limit {
            let n = l.deaths as usize;
            self.deaths.push_back(now_ms);
            while self.deaths.len() > n {
                self.deaths.pop_front();
            }
            let oldest = self.deaths.front().copied().unwrap_or(now_ms);
            if self.failed || (self.deaths.len() == n && now_ms.saturating_sub(oldest) <= u64::from(l.window_s) * 1000)
            {
                self.failed = true;
                return Decision::GiveUp { deaths: l.deaths, window_s: l.window_s };
            }
        }
        Decision::Restart { delay_ms: self.delay_ms }
    }

    /// `service NAME start`, `s6-svc -u`: forget the deaths, the delay and the failure.
    pub fn clear(&mut self) {
        *self = Backoff::default();
    }

    /// The delay given after the last death (0: none, or reset).
    pub fn delay_ms(&self) -> u32 {
        self.delay_ms
    }

    /// Whether the supervisor gave up.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// How many of the remembered deaths are within the limit's window before `now_ms`.
    pub fn deaths_in_window(&self, policy: &Policy, now_ms: u64) -> u32 {
        let Some(l) = policy.limit else { return 0 };
        let window = u64::from(l.window_s) * 1000;
        self.deaths.iter().filter(|&&t| t <= now_ms && now_ms - t <= window).count() as u32
    }
}

// ------------------------------------------------------------------------------------------
// supervise/merit-state

/// The name of merit's state file in `supervise/`.
pub const MERIT_STATE_FILE: &str = "merit-state";
/// The first line of the file: its name and format version. A version merit does not know is
/// refused; fields a newer merit adds within a version are lines older ones skip.
pub const MERIT_STATE_MAGIC: &str = "merit-state 1";
/// The largest file decoded (a longer one is refused, not cut). What [`MeritState::encode`]
/// writes always fits: the status is at most [`STATUS_MAX`] bytes (twice that escaped), the
/// cgroup path at most [`CGROUP_PATH_MAX`], the other lines a few dozen bytes each.
pub const MERIT_STATE_MAX: usize = 8192;
/// The longest cgroup path kept (PATH_MAX).
pub const CGROUP_PATH_MAX: usize = 4096;

/// How the service's last process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(u8),
    Signal(u32),
}

/// The last sd_notify state the service announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyPhase {
    Ready,
    Reloading,
    Stopping,
}

impl NotifyPhase {
    pub fn word(self) -> &'static str {
        match self {
            NotifyPhase::Ready => "ready",
            NotifyPhase::Reloading => "reloading",
            NotifyPhase::Stopping => "stopping",
        }
    }
    fn from_word(w: &[u8]) -> Option<NotifyPhase> {
        match w {
            b"ready" => Some(NotifyPhase::Ready),
            b"reloading" => Some(NotifyPhase::Reloading),
            b"stopping" => Some(NotifyPhase::Stopping),
            _ => None,
        }
    }
}

/// What merit knows about a service beyond s6's status file. `Default` is "nothing to say".
///
/// The file, one `KEY VALUE` per line after the magic line:
/// ```text
/// merit-state 1
/// failed 1
/// deaths 5 10
/// last exit 3
/// delay 400
/// notify ready
/// status listening on :80
/// cgroup-left 2
/// mainpid 1234
/// cgroup /sys/fs/cgroup/merit/web
/// ```
/// `failed` 0/1; `deaths N SECONDS` (deaths in the window, the window); `last` is `none`,
/// `exit CODE` or `signal NUMBER`; `delay` milliseconds; `notify` is `none`, `ready`,
/// `reloading` or `stopping`; `status` (only when the service sent one) runs to the end of the
/// line with `\` written `\\` and a newline `\n`; `cgroup-left` (only when a cgroup was
/// emptied) the number of processes left in the cgroup after `run` and `finish`; `mainpid` (only
/// when the service sent an accepted `MAINPID=`) that pid; `cgroup` (only when the service runs
/// in its own cgroup) the cgroup's directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeritState {
    pub failed: bool,
    pub deaths: u32,
    pub window_s: u32,
    pub last: Option<Exit>,
    pub delay_ms: u32,
    pub notify: Option<NotifyPhase>,
    pub status: Option<String>,
    pub cgroup_left: Option<u32>,
    /// `MAINPID=` accepted from the service's own processes.
    pub mainpid: Option<i32>,
    /// The last `ERRNO=` it sent (not 0: `ERRNO=0` clears it), its failure reason as an errno.
    pub errno: Option<i32>,
    /// The service's cgroup (a directory path), when it runs in one.
    pub cgroup: Option<String>,
}

/// Why a merit-state file could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Longer than [`MERIT_STATE_MAX`].
    TooLong,
    /// The first line is not [`MERIT_STATE_MAGIC`] (another file, or another version).
    NotMeritState,
    /// Line `n` (from 1) has a known key with a value that does not parse.
    Invalid(usize),
}

impl MeritState {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = String::with_capacity(128);
        s.push_str(MERIT_STATE_MAGIC);
        s.push('\n');
        s.push_str(&format!("failed {}\n", u8::from(self.failed)));
        s.push_str(&format!("deaths {} {}\n", self.deaths, self.window_s));
        match self.last {
            None => s.push_str("last none\n"),
            Some(Exit::Code(c)) => s.push_str(&format!("last exit {c}\n")),
            Some(Exit::Signal(n)) => s.push_str(&format!("last signal {n}\n")),
        }
        s.push_str(&format!("delay {}\n", self.delay_ms));
        s.push_str(&format!("notify {}\n", self.notify.map_or("none", NotifyPhase::word)));
        if let Some(text) = &self.status {
            s.push_str("status ");
            let mut kept = 0;
            for c in text.chars().take_while(|c| {
                kept += c.len_utf8();
                kept <= STATUS_MAX
            }) {
                match c {
                    '\\' => s.push_str("\\\\"),
                    '\n' => s.push_str("\\n"),
                    c => s.push(c),
                }
            }
            s.push('\n');
        }
        if let Some(n) = self.cgroup_left {
            s.push_str(&format!("cgroup-left {n}\n"));
        }
        if let Some(p) = self.mainpid {
            s.push_str(&format!("mainpid {p}\n"));
        }
        if let Some(e) = self.errno {
            s.push_str(&format!("errno {e}\n"));
        }
        if let Some(c) = &self.cgroup {
            // A path has no newline (the supervisor refuses one).
            s.push_str(&format!("cgroup {}\n", cut_at_char(c.replace('\n', "?"), CGROUP_PATH_MAX)));
        }
        s.into_bytes()
    }

    /// Decodes the file. Total: any bytes give a state or an error, never a panic. Unknown keys
    /// are skipped; a repeated key takes its last value.
    pub fn decode(bytes: &[u8]) -> Result<MeritState, DecodeError> {
        if bytes.len() > MERIT_STATE_MAX {
            return Err(DecodeError::TooLong);
        }
        let mut lines = bytes.split(|&b| b == b'\n');
        if lines.next() != Some(MERIT_STATE_MAGIC.as_bytes()) {
            return Err(DecodeError::NotMeritState);
        }
        let mut st = MeritState::default();
        for (i, line) in lines.enumerate() {
            let n = i + 2;
            if line.is_empty() {
                continue;
            }
            let (key, value) = match line.iter().position(|&b| b == b' ') {
                Some(sp) => (&line[..sp], &line[sp + 1..]),
                None => (line, &b""[..]),
            };
            let bad = || DecodeError::Invalid(n);
            match key {
                b"failed" => {
                    st.failed = match value {
                        b"0" => false,
                        b"1" => true,
                        _ => return Err(bad()),
                    }
                }
                b"deaths" => {
                    let mut w = value.split(|&b| b == b' ');
                    let (d, win) = (w.next().and_then(num), w.next().and_then(num));
                    match (d, win, w.next()) {
                        (Some(d), Some(win), None) => (st.deaths, st.window_s) = (d, win),
                        _ => return Err(bad()),
                    }
                }
                b"last" => {
                    st.last = if value == b"none" {
                        None
                    } else if let Some(c) = value.strip_prefix(b"exit ") {
                        Some(Exit::Code(num(c).and_then(|c| u8::try_from(c).ok()).ok_or_else(bad)?))
                    } else if let Some(sig) = value.strip_prefix(b"signal ") {
                        Some(Exit::Signal(num(sig).ok_or_else(bad)?))
                    } else {
                        return Err(bad());
                    }
                }
                b"delay" => st.delay_ms = num(value).ok_or_else(bad)?,
                b"notify" => {
                    st.notify =
                        if value == b"none" { None } else { Some(NotifyPhase::from_word(value).ok_or_else(bad)?) }
                }
                // Bounded as the supervisor bounds what it writes, so that what is decoded
                // always encodes within MERIT_STATE_MAX again.
                b"status" => st.status = Some(cut_at_char(unescape(value), STATUS_MAX)),
                b"cgroup-left" => st.cgroup_left = Some(num(value).ok_or_else(bad)?),
                b"cgroup" => {
                    st.cgroup = Some(cut_at_char(String::from_utf8_lossy(value).into_owned(), CGROUP_PATH_MAX))
                }
                b"mainpid" => st.mainpid = Some(num(value).and_then(|p| i32::try_from(p).ok()).ok_or_else(bad)?),
                b"errno" => st.errno = Some(num(value).and_then(|e| i32::try_from(e).ok()).ok_or_else(bad)?),
                _ => {}
            }
        }
        Ok(st)
    }

    /// Why the supervisor gave up, for `service NAME status`:
    /// `failed: 5 deaths in 10 s, last exit code 3`. `None` unless failed.
    pub fn failure_reason(&self) -> Option<String> {
        if !self.failed {
            return None;
        }
        let mut s = format!("failed: {} deaths in {} s", self.deaths, self.window_s);
        match self.last {
            Some(Exit::Code(c)) => s.push_str(&format!(", last exit code {c}")),
            Some(Exit::Signal(n)) => s.push_str(&format!(", last killed by {}", crate::signals::sig_name(n))),
            None => {}
        }
        Some(s)
    }
}

/// A u32 in decimal, digits only.
fn num(v: &[u8]) -> Option<u32> {
    if v.is_empty() || v.len() > 10 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    u32::try_from(v.iter().fold(0u64, |acc, &c| acc * 10 + u64::from(c - b'0'))).ok()
}

/// Undoes the escaping of `status`: `\\` and `\n`; any other backslash stays as it is.
fn unescape(v: &[u8]) -> String {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        match (v[i], v.get(i + 1)) {
            (b'\\', Some(b'\\')) => {
                out.push(b'\\');
                i += 2;
            }
            (b'\\', Some(b'n')) => {
                out.push(b'\n');
                i += 2;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: RestartDelay = RestartDelay { min_ms: 100, max_ms: 1000 };

    #[test]
    fn restart_delay_file() {
        assert_eq!(parse_restart_delay(b"100 1000\n"), Ok(D));
        assert_eq!(parse_restart_delay(b"100\t1000  \ngarbage"), Ok(D));
        assert_eq!(parse_restart_delay(b"  100 1000"), Ok(D));
        assert_eq!(parse_restart_delay(b"5 5"), Ok(RestartDelay { min_ms: 5, max_ms: 5 }));
        assert_eq!(parse_restart_delay(b"1 4294967295"), Ok(RestartDelay { min_ms: 1, max_ms: u32::MAX }));
        for bad in [
            &b""[..],
            b"\n100 1000",
            b"100",
            b"100 1000 3",
            b"0 1000",
            b"1000 100",
            b"100 4294967296",
            b"-1 5",
            b"1e2 1000",
            b"100,1000",
            b"100 1000ms",
            b"99999999999 1",
        ] {
            assert_eq!(parse_restart_delay(bad), Err(ConfigError::Invalid), "{:?}", String::from_utf8_lossy(bad));
        }
        // A first line longer than the read limit is refused, not cut into numbers.
        let mut long = b"100 1000".to_vec();
        long.resize(POLICY_FILE_MAX + 10, b' ');
        assert_eq!(parse_restart_delay(&long), Err(ConfigError::Invalid));
        let mut ok = b"100 1000".to_vec();
        ok.resize(POLICY_FILE_MAX - 1, b' ');
        ok.push(b'\n');
        assert_eq!(parse_restart_delay(&ok), Ok(D));
    }

    #[test]
    fn restart_limit_file() {
        assert_eq!(parse_restart_limit(b"5 10\n"), Ok(RestartLimit { deaths: 5, window_s: 10 }));
        assert_eq!(parse_restart_limit(b"1 1"), Ok(RestartLimit { deaths: 1, window_s: 1 }));
        assert_eq!(parse_restart_limit(b"1000 1"), Ok(RestartLimit { deaths: 1000, window_s: 1 }));
        for bad in [&b"0 10"[..], b"5 0", b"1001 10", b"5", b"5 10 1", b"a b"] {
            assert_eq!(parse_restart_limit(bad), Err(ConfigError::Invalid));
        }
    }

    fn delays(b: &mut Backoff, p: &Policy, deaths: &[(u64, u64)]) -> Vec<Decision> {
        deaths.iter().map(|&(now, up)| b.on_death(p, now, up)).collect()
    }

    #[test]
    fn no_files_behaves_as_s6() {
        let p = Policy::default();
        let mut b = Backoff::new();
        for t in 0..100 {
            assert_eq!(b.on_death(&p, t * 10, t * 10), Decision::Restart { delay_ms: 0 });
        }
        assert!(!b.failed());
        assert_eq!(b.deaths_in_window(&p, 1000), 0);
    }

    #[test]
    fn quick_deaths_double_up_to_max() {
        let p = Policy { delay: Some(D), limit: None };
        let mut b = Backoff::new();
        // Each run lasts 50 ms, far less than MAX.
        let mut t = 0;
        let mut got = Vec::new();
        for _ in 0..7 {
            let d = b.on_death(&p, t + 50, t);
            got.push(d);
            if let Decision::Restart { delay_ms } = d {
                t += 50 + u64::from(delay_ms);
            }
        }
        let want: Vec<Decision> =
            [100, 200, 400, 800, 1000, 1000, 1000].iter().map(|&delay_ms| Decision::Restart { delay_ms }).collect();
        assert_eq!(got, want);
        assert_eq!(b.delay_ms(), 1000);
    }

    #[test]
    fn staying_up_for_max_resets() {
        let p = Policy { delay: Some(D), limit: None };
        let mut b = Backoff::new();
        let got = delays(&mut b, &p, &[(10, 0), (20, 15), (30, 25)]);
        assert_eq!(got.last(), Some(&Decision::Restart { delay_ms: 400 }));
        // Up for 999 ms: still quick.
        assert_eq!(b.on_death(&p, 2000, 1001), Decision::Restart { delay_ms: 800 });
        // Up for exactly MAX: the sequence resets, this restart is immediate...
        assert_eq!(b.on_death(&p, 4000, 3000), Decision::Restart { delay_ms: 0 });
        assert_eq!(b.delay_ms(), 0);
        // ...and the next quick death waits MIN again.
        assert_eq!(b.on_death(&p, 4010, 4005), Decision::Restart { delay_ms: 100 });
        // A clock going backwards counts as a quick death, never a panic.
        assert_eq!(b.on_death(&p, 5, 4010), Decision::Restart { delay_ms: 200 });
    }

    #[test]
    fn min_equal_max_and_huge_values_saturate() {
        let p = Policy { delay: Some(RestartDelay { min_ms: 300, max_ms: 300 }), limit: None };
        let mut b = Backoff::new();
        for t in 0..5 {
            assert_eq!(b.on_death(&p, t, t), Decision::Restart { delay_ms: 300 });
        }
        let p = Policy { delay: Some(RestartDelay { min_ms: 3_000_000_000, max_ms: u32::MAX }), limit: None };
        let mut b = Backoff::new();
        assert_eq!(b.on_death(&p, 0, 0), Decision::Restart { delay_ms: 3_000_000_000 });
        assert_eq!(b.on_death(&p, 1, 1), Decision::Restart { delay_ms: u32::MAX });
        assert_eq!(b.on_death(&p, u64::MAX, 0), Decision::Restart { delay_ms: 0 });
    }

    #[test]
    fn gives_up_after_n_deaths_within_the_window() {
        let l = RestartLimit { deaths: 5, window_s: 10 };
        let p = Policy { delay: None, limit: Some(l) };
        let mut b = Backoff::new();
        // Deaths 3 s apart: 5 deaths span 12 s > 10 s, never gives up.
        for k in 0..20u64 {
            assert_eq!(b.on_death(&p, k * 3000, k * 3000), Decision::Restart { delay_ms: 0 }, "death {k}");
        }
        // After a pause, a burst of deaths 1 s apart: the 5th of the burst gives up.
        let base = 200_000;
        for k in 0..4u64 {
            assert_eq!(b.on_death(&p, base + k * 1000, base), Decision::Restart { delay_ms: 0 });
        }
        assert_eq!(b.deaths_in_window(&p, base + 3000), 4);
        assert_eq!(b.on_death(&p, base + 4000, base), Decision::GiveUp { deaths: 5, window_s: 10 });
        assert!(b.failed());
        assert_eq!(b.deaths_in_window(&p, base + 4000), 5);
        // Stays given up until cleared.
        assert_eq!(b.on_death(&p, base + 100_000, base), Decision::GiveUp { deaths: 5, window_s: 10 });
        b.clear();
        assert!(!b.failed());
        assert_eq!(b.deaths_in_window(&p, base + 100_000), 0);
        assert_eq!(b.on_death(&p, base + 100_001, base), Decision::Restart { delay_ms: 0 });
    }

    #[test]
    fn window_edge_is_inclusive_and_limit_one_gives_up_at_once() {
        let p = Policy { delay: None, limit: Some(RestartLimit { deaths: 2, window_s: 10 }) };
        let mut b = Backoff::new();
        assert_eq!(b.on_death(&p, 0, 0), Decision::Restart { delay_ms: 0 });
        assert_eq!(b.on_death(&p, 10_000, 0), Decision::GiveUp { deaths: 2, window_s: 10 });
        let mut b = Backoff::new();
        b.on_death(&p, 0, 0);
        assert_eq!(b.on_death(&p, 10_001, 0), Decision::Restart { delay_ms: 0 });
        let p = Policy { delay: None, limit: Some(RestartLimit { deaths: 1, window_s: 1 }) };
        assert_eq!(Backoff::new().on_death(&p, 7, 0), Decision::GiveUp { deaths: 1, window_s: 1 });
    }

    #[test]
    fn delay_and_limit_together() {
        let p = Policy { delay: Some(D), limit: Some(RestartLimit { deaths: 3, window_s: 60 }) };
        let mut b = Backoff::new();
        assert_eq!(b.on_death(&p, 0, 0), Decision::Restart { delay_ms: 100 });
        assert_eq!(b.on_death(&p, 200, 100), Decision::Restart { delay_ms: 200 });
        assert_eq!(b.on_death(&p, 500, 400), Decision::GiveUp { deaths: 3, window_s: 60 });
        b.clear();
        assert_eq!(b.delay_ms(), 0);
        assert_eq!(b.on_death(&p, 600, 600), Decision::Restart { delay_ms: 100 });
    }

    fn full() -> MeritState {
        MeritState {
            failed: true,
            deaths: 5,
            window_s: 10,
            last: Some(Exit::Code(3)),
            delay_ms: 400,
            notify: Some(NotifyPhase::Ready),
            status: Some("listening on :80".into()),
            cgroup_left: Some(2),
            mainpid: Some(1234),
            errno: Some(110),
            cgroup: Some("/sys/fs/cgroup/merit/web".into()),
        }
    }

    #[test]
    fn merit_state_format_is_exact() {
        assert_eq!(
            String::from_utf8(full().encode()).unwrap(),
            "merit-state 1\nfailed 1\ndeaths 5 10\nlast exit 3\ndelay 400\nnotify ready\n\
             status listening on :80\ncgroup-left 2\nmainpid 1234\nerrno 110\ncgroup /sys/fs/cgroup/merit/web\n"
        );
        assert_eq!(
            String::from_utf8(MeritState::default().encode()).unwrap(),
            "merit-state 1\nfailed 0\ndeaths 0 0\nlast none\ndelay 0\nnotify none\n"
        );
    }

    #[test]
    fn merit_state_round_trips() {
        let mut states = vec![MeritState::default(), full()];
        let mut s = full();
        s.last = Some(Exit::Signal(9));
        s.notify = Some(NotifyPhase::Stopping);
        s.status = Some("a\\nb\nc\\\\ \u{fffd}\0é\\".into());
        s.cgroup_left = None;
        states.push(s);
        states.push(MeritState {
            notify: Some(NotifyPhase::Reloading),
            status: Some(String::new()),
            last: Some(Exit::Code(255)),
            deaths: u32::MAX,
            ..Default::default()
        });
        for st in states {
            assert_eq!(MeritState::decode(&st.encode()), Ok(st.clone()), "{st:?}");
        }
    }

    #[test]
    fn merit_state_decode_refuses_and_skips() {
        assert_eq!(MeritState::decode(b""), Err(DecodeError::NotMeritState));
        assert_eq!(MeritState::decode(b"merit-state 2\nfailed 1\n"), Err(DecodeError::NotMeritState));
        assert_eq!(MeritState::decode(b"merit-state 1"), Ok(MeritState::default()));
        assert_eq!(MeritState::decode(b"merit-state 1\nfailed 2\n"), Err(DecodeError::Invalid(2)));
        assert_eq!(MeritState::decode(b"merit-state 1\n\nlast exit 256\n"), Err(DecodeError::Invalid(3)));
        assert_eq!(MeritState::decode(b"merit-state 1\ndeaths 1\n"), Err(DecodeError::Invalid(2)));
        assert_eq!(MeritState::decode(b"merit-state 1\ndeaths 1 2 3\n"), Err(DecodeError::Invalid(2)));
        assert_eq!(MeritState::decode(b"merit-state 1\nnotify bored\n"), Err(DecodeError::Invalid(2)));
        assert_eq!(MeritState::decode(b"merit-state 1\nlast\n"), Err(DecodeError::Invalid(2)));
        let st = MeritState::decode(b"merit-state 1\nfuture-key whatever\nfailed 1\nfailed 0\ncgroup-left 7").unwrap();
        assert_eq!(st, MeritState { cgroup_left: Some(7), ..Default::default() });
        // Whatever the state holds, its file fits, and decodes to the bounded state.
        let huge = MeritState {
            status: Some("\\\n\u{fffd}".repeat(3000)),
            cgroup: Some("/é".repeat(5000)),
            mainpid: Some(i32::MAX),
            errno: Some(i32::MAX),
            cgroup_left: Some(u32::MAX),
            ..MeritState::default()
        };
        let file = huge.encode();
        assert!(file.len() <= MERIT_STATE_MAX, "{}", file.len());
        let back = MeritState::decode(&file).unwrap();
        assert_eq!(back.status.as_ref().map(String::len), Some(1022));
        assert_eq!(back.cgroup.as_ref().map(String::len), Some(4096));
        assert_eq!(MeritState::decode(&back.encode()), Ok(back));
        let big = [b"merit-state 1\n".as_slice(), &[b'x'; MERIT_STATE_MAX]].concat();
        assert_eq!(MeritState::decode(&big), Err(DecodeError::TooLong));
        assert_eq!(MeritState::decode(b"merit-state 1\nstatus \xff\\").unwrap().status.as_deref(), Some("\u{fffd}\\"));
    }

    #[test]
    fn failure_reason_reads_as_the_issue_says() {
        assert_eq!(full().failure_reason().as_deref(), Some("failed: 5 deaths in 10 s, last exit code 3"));
        let mut s = full();
        s.last = Some(Exit::Signal(9));
        assert_eq!(s.failure_reason().as_deref(), Some("failed: 5 deaths in 10 s, last killed by SIGKILL"));
        s.last = None;
        assert_eq!(s.failure_reason().as_deref(), Some("failed: 5 deaths in 10 s"));
        assert_eq!(MeritState::default().failure_reason(), None);
    }
}
