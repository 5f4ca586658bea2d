//! TAI64N timestamps as s6 stores them (`tain`: 8-byte TAI64 label + 4-byte nanoseconds,
//! big-endian), the Unix→TAI conversion with skalibs' built-in leap-second table, and the
//! 25-character text label `@` + 24 lowercase hex digits.

/// `2^62`: the TAI64 label of 1970-01-01 00:00:00 TAI.
pub const TAI64_BASE: u64 = 1 << 62;

/// Unix time of the first second after each inserted leap second (skalibs 2.13's table, the
/// one Debian's build uses since it is configured without `--enable-tai-clock`).
pub const LEAP_TABLE: [i64; 27] = [
    78796800, 94694400, 126230400, 157766400, 189302400, 220924800, 252460800, 283996800, 315532800, 362793600,
    394329600, 425865600, 489024000, 567993600, 631152000, 662688000, 709948800, 741484800, 773020800, 820454400,
    867715200, 915148800, 1136073600, 1230768000, 1341100800, 1435708800, 1483228800,
];

/// Number of leap seconds inserted before Unix time `u`.
pub fn leap_seconds(u: i64) -> u64 {
    LEAP_TABLE.iter().filter(|&&e| u >= e).count() as u64
}

/// A TAI64N instant: `secs` is the full TAI64 label (including the 2^62 base).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Tain {
    pub secs: u64,
    pub nanos: u32,
}

impl Tain {
    pub const fn new(secs: u64, nanos: u32) -> Tain {
        Tain { secs, nanos }
    }

    /// Converts a wall-clock (UTC) reading the way skalibs does: label = 2^62 + 10 + u + L(u).
    pub fn from_unix(secs: i64, nanos: u32) -> Tain {
        let label = (TAI64_BASE as i128 + 10 + secs as i128 + leap_seconds(secs) as i128) as u64;
        Tain { secs: label, nanos }
    }

    /// The Unix second this label stands for (inverse of [`Tain::from_unix`] outside leap seconds).
    pub fn to_unix(self) -> i64 {
        let x = self.secs.wrapping_sub(TAI64_BASE + 10) as i64;
        // Find u with u + L(u) == x: L is monotone, so at most one adjustment round.
        let mut u = x - leap_seconds(x) as i64;
        while u + (leap_seconds(u) as i64) < x {
            u += 1;
        }
        u
    }

    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&self.secs.to_be_bytes());
        b[8..].copy_from_slice(&self.nanos.to_be_bytes());
        b
    }

    pub fn from_bytes(b: &[u8; 12]) -> Tain {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        let mut n = [0u8; 4];
        n.copy_from_slice(&b[8..]);
        Tain { secs: u64::from_be_bytes(s), nanos: u32::from_be_bytes(n) }
    }

    /// `@` + 24 lowercase hex digits.
    pub fn label(self) -> [u8; 25] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 25];
        out[0] = b'@';
        for (i, byte) in self.to_bytes().iter().enumerate() {
            out[1 + 2 * i] = HEX[(byte >> 4) as usize];
            out[2 + 2 * i] = HEX[(byte & 15) as usize];
        }
        out
    }

    pub fn label_string(self) -> String {
        String::from_utf8_lossy(&self.label()).into_owned()
    }

    /// Parses `@` + exactly 24 hex digits (either case) at the start of `s`; what follows is
    /// not looked at.
    pub fn parse_label(s: &[u8]) -> Option<Tain> {
        if s.len() < 25 || s[0] != b'@' {
            return None;
        }
        let mut b = [0u8; 12];
        for i in 0..12 {
            let hi = hex_value(s[1 + 2 * i])?;
            let lo = hex_value(s[2 + 2 * i])?;
            b[i] = (hi << 4) | lo;
        }
        Some(Tain::from_bytes(&b))
    }

    /// Whole seconds from `self` to `now`, as s6-svstat computes them: the difference of the
    /// labels, minus one when `now`'s nanoseconds are below `self`'s, wrapping like an unsigned
    /// 64-bit subtraction when `self` is later than `now`.
    pub fn secs_until(self, now: Tain) -> u64 {
        let mut d = now.secs.wrapping_sub(self.secs);
        if now.nanos < self.nanos {
            d = d.wrapping_sub(1);
        }
        d
    }

    /// `self + ms` milliseconds.
    pub fn add_millis(self, ms: u64) -> Tain {
        let total = self.nanos as u64 + (ms % 1000) * 1_000_000;
        Tain { secs: self.secs.wrapping_add(ms / 1000 + total / 1_000_000_000), nanos: (total % 1_000_000_000) as u32 }
    }
}

pub fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_today_is_37() {
        let t = Tain::from_unix(1795696098, 5);
        assert_eq!(t.secs - TAI64_BASE, 1795696098 + 37);
        assert_eq!(t.to_unix(), 1795696098);
    }

    #[test]
    fn epoch_is_base_plus_10() {
        assert_eq!(Tain::from_unix(0, 0).secs, TAI64_BASE + 10);
        assert_eq!(Tain::from_unix(0, 0).to_unix(), 0);
    }

    #[test]
    fn label_round_trip() {
        let t = Tain::new(0x400000006b082607, 0x367964e5);
        let l = t.label();
        assert_eq!(&l, b"@400000006b082607367964e5");
        assert_eq!(Tain::parse_label(&l), Some(t));
        assert_eq!(Tain::parse_label(b"@400000006B082607367964E5xyz"), Some(t));
        assert_eq!(Tain::parse_label(b"@400000006b082607367964e"), None);
        assert_eq!(Tain::parse_label(b"400000006b082607367964e55"), None);
        assert_eq!(Tain::from_bytes(&t.to_bytes()), t);
    }

    #[test]
    fn secs_until_wraps_like_s6() {
        let now = Tain::new(TAI64_BASE + 5000, 500);
        assert_eq!(Tain::new(TAI64_BASE + 4900, 500).secs_until(now), 100);
        assert_eq!(Tain::new(TAI64_BASE + 4900, 501).secs_until(now), 99);
        assert_eq!(Tain::new(TAI64_BASE + 6000, 500).secs_until(now), 18446744073709550616);
    }

    #[test]
    fn add_millis_carries() {
        let t = Tain::new(10, 999_000_000).add_millis(1500);
        assert_eq!(t, Tain::new(12, 499_000_000));
    }
}

/// How to display a TAI64 label as broken-down time (s6-tai64nlocal, s6-log `T`; tai64n.md §3).
///
/// Returns the Unix second to hand to `localtime_r`/`gmtime_r` and whether to add one to the
/// resulting `tm_sec` (the label is an inserted leap second, shown as `:60`), or `None` if the
/// label is before 1970-01-01 00:00:00 TAI (+10 s) or too far in the future for a `time_t`.
/// `right_zone`: the local zone counts leap seconds itself (a `right/` zone, detected by the
/// caller as `localtime_r(78796800).tm_sec == 60`) and the caller uses `localtime_r`; then the
/// label is passed through unchanged.
pub fn display_second(label: u64, right_zone: bool) -> Option<(i64, bool)> {
    let x = label.checked_sub(TAI64_BASE + 10)?;
    let x = i64::try_from(x).ok()?;
    if right_zone {
        return Some((x, false));
    }
    let mut d = 0i64;
    let mut hit = false;
    for (i, &t) in LEAP_TABLE.iter().enumerate() {
        let e = t + i as i64;
        if e < x {
            d += 1;
        } else if e == x {
            hit = true;
        }
    }
    let u = x - d;
    Some(if hit { (u - 1, true) } else { (u, false) })
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn leap_second_display() {
        assert_eq!(display_second(0x40000000586846a3, false), Some((1483228799, false)));
        assert_eq!(display_second(0x40000000586846a4, false), Some((1483228799, true)));
        assert_eq!(display_second(0x40000000586846a5, false), Some((1483228800, false)));
        assert_eq!(display_second(0x400000000000000a, false), Some((0, false)));
        assert_eq!(display_second(0x4000000000000009, false), None);
        assert_eq!(display_second(0x3fffffffffffffff, false), None);
        assert_eq!(display_second(u64::MAX, false), None);
        assert_eq!(display_second(0x40000000586846a4, true), Some((0x586846a4 - 10, false)));
        // Round trip with from_unix outside leap seconds.
        for u in [0i64, 78796799, 78796800, 1483228799, 1483228800, 1795696098] {
            assert_eq!(display_second(Tain::from_unix(u, 0).secs, false), Some((u, false)));
        }
    }
}
