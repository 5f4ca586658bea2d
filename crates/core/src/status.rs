//! `supervise/status` (35 bytes) and `supervise/death_tally` (14-byte records).

use crate::tai::Tain;

/// Size of the status file: `S6_SVSTATUS_SIZE`.
pub const STATUS_SIZE: usize = 35;

const FLAG_PAUSED: u8 = 1;
const FLAG_FINISHING: u8 = 2;
const FLAG_WANTUP: u8 = 4;
const FLAG_READY: u8 = 8;

/// The decoded content of `supervise/status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StatusFile {
    /// Last up/down transition.
    pub stamp: Tain,
    /// Last time the service became ready (up: notified; down: `finish` over).
    pub readystamp: Tain,
    /// Pid of `run` when up, of `finish` while finishing, 0 when down.
    pub pid: u64,
    /// Low 16 bits of the wait status of the last death of `run`.
    pub wstat: u16,
    pub paused: bool,
    pub finishing: bool,
    pub wantup: bool,
    pub ready: bool,
}

impl StatusFile {
    pub fn encode(&self) -> [u8; STATUS_SIZE] {
        let mut b = [0u8; STATUS_SIZE];
        b[0..12].copy_from_slice(&self.stamp.to_bytes());
        b[12..24].copy_from_slice(&self.readystamp.to_bytes());
        b[24..32].copy_from_slice(&self.pid.to_be_bytes());
        b[32..34].copy_from_slice(&self.wstat.to_be_bytes());
        b[34] = (self.paused as u8 * FLAG_PAUSED)
            | (self.finishing as u8 * FLAG_FINISHING)
            | (self.wantup as u8 * FLAG_WANTUP)
            | (self.ready as u8 * FLAG_READY);
        b
    }

    /// Decodes the first 35 bytes; `None` when fewer (the real tools then fail with EPIPE).
    pub fn decode(b: &[u8]) -> Option<StatusFile> {
        if b.len() < STATUS_SIZE {
            return None;
        }
        let tain = |o: usize| {
            let mut t = [0u8; 12];
            t.copy_from_slice(&b[o..o + 12]);
            Tain::from_bytes(&t)
        };
        let mut pid = [0u8; 8];
        pid.copy_from_slice(&b[24..32]);
        let flags = b[34];
        Some(StatusFile {
            stamp: tain(0),
            readystamp: tain(12),
            pid: u64::from_be_bytes(pid),
            wstat: u16::from_be_bytes([b[32], b[33]]),
            paused: flags & FLAG_PAUSED != 0,
            finishing: flags & FLAG_FINISHING != 0,
            wantup: flags & FLAG_WANTUP != 0,
            ready: flags & FLAG_READY != 0,
        })
    }

    /// The pid as readers see it: truncated to a 32-bit `pid_t`.
    pub fn pid_t(&self) -> i32 {
        self.pid as u32 as i32
    }

    /// "Up" as every reader derives it: a pid (as a 32-bit `pid_t`) and not finishing.
    pub fn is_up(&self) -> bool {
        self.pid_t() != 0 && !self.finishing
    }

    pub fn wait(&self) -> WaitStatus {
        WaitStatus(self.wstat)
    }
}

/// A Linux wait status truncated to 16 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitStatus(pub u16);

impl WaitStatus {
    pub fn termsig(self) -> u32 {
        (self.0 & 0x7f) as u32
    }
    pub fn signaled(self) -> bool {
        let s = self.0 & 0x7f;
        s != 0 && s != 0x7f
    }
    pub fn exited(self) -> bool {
        self.0 & 0x7f == 0
    }
    pub fn exitstatus(self) -> u32 {
        ((self.0 >> 8) & 0xff) as u32
    }
}

/// One record of `supervise/death_tally`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeathRecord {
    pub when: Tain,
    /// Exit status, or 128 + signal.
    pub code: u8,
    /// Signal number, 0 when `run` exited.
    pub sig: u8,
}

pub const DEATH_RECORD_SIZE: usize = 14;
/// Default and maximum of `max-death-tally`.
pub const DEATH_TALLY_DEFAULT: u32 = 100;
pub const DEATH_TALLY_MAX: u32 = 4096;

impl DeathRecord {
    pub fn from_wstat(when: Tain, wstat: u16) -> DeathRecord {
        let w = WaitStatus(wstat);
        if w.signaled() {
            DeathRecord { when, code: (128 + w.termsig()) as u8, sig: w.termsig() as u8 }
        } else {
            DeathRecord { when, code: w.exitstatus() as u8, sig: 0 }
        }
    }
    pub fn encode(&self) -> [u8; DEATH_RECORD_SIZE] {
        let mut b = [0u8; DEATH_RECORD_SIZE];
        b[..12].copy_from_slice(&self.when.to_bytes());
        b[12] = self.code;
        b[13] = self.sig;
        b
    }
}

/// The new content of `death_tally` after appending `rec` to `old` (whose size must be a multiple
/// of 14, else it counts as empty), keeping the last `max` records.
pub fn tally_append(old: &[u8], rec: &DeathRecord, max: u32) -> Vec<u8> {
    let max = max.min(DEATH_TALLY_MAX) as usize;
    #[allow(clippy::manual_is_multiple_of)] // is_multiple_of is Rust 1.87; rust-version is 1.79
    let old = if old.len() % DEATH_RECORD_SIZE == 0 { old } else { &[][..] };
    let n_old = old.len() / DEATH_RECORD_SIZE;
    let keep = n_old.min(max.saturating_sub(1));
    let mut out = Vec::with_capacity((keep + 1) * DEATH_RECORD_SIZE);
    out.extend_from_slice(&old[(n_old - keep) * DEATH_RECORD_SIZE..]);
    if max > 0 {
        out.extend_from_slice(&rec.encode());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // fixture status/12-finishing
    const FINISHING: [u8; 35] = [
        0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x07, 0x36, 0x79, 0x64, 0xe5, 0x40, 0, 0, 0, 0x6b, 0x08, 0x26, 0x07, 0x36,
        0x31, 0x6d, 0xbc, 0, 0, 0, 0, 0, 0, 0x61, 0x39, 0x00, 0x0f, 0x06,
    ];

    #[test]
    fn decode_finishing_fixture() {
        let s = StatusFile::decode(&FINISHING).unwrap();
        assert_eq!(s.pid, 24889);
        assert_eq!(s.wstat, 15);
        assert!(s.finishing && s.wantup && !s.ready && !s.paused);
        assert!(!s.is_up());
        assert_eq!(s.stamp.nanos, 0x367964e5);
        assert_eq!(s.encode(), FINISHING);
        assert!(StatusFile::decode(&FINISHING[..34]).is_none());
    }

    #[test]
    fn high_flag_bits_ignored() {
        let mut b = FINISHING;
        b[34] = 0xf6;
        assert_eq!(StatusFile::decode(&b).unwrap().encode(), FINISHING);
    }

    #[test]
    fn tally_keeps_last_n() {
        let r = |i: u8| DeathRecord { when: Tain::new(i as u64, 0), code: i, sig: 0 };
        let mut t = Vec::new();
        for i in 0..5 {
            t = tally_append(&t, &r(i), 3);
        }
        assert_eq!(t.len(), 42);
        assert_eq!(t[12], 2);
        assert_eq!(t[40], 4);
        assert_eq!(tally_append(&[1, 2, 3], &r(9), 3).len(), 14);
        assert!(tally_append(&t, &r(9), 0).is_empty());
    }

    #[test]
    fn death_record_codes() {
        let d = DeathRecord::from_wstat(Tain::default(), 15);
        assert_eq!((d.code, d.sig), (143, 15));
        let d = DeathRecord::from_wstat(Tain::default(), 0x0700);
        assert_eq!((d.code, d.sig), (7, 0));
    }
}
