//! Logdir decisions (s6-log.md §6): when to rotate, how much to write, archive names, which
//! archives to prune, what start-up recovery does. The file operations live in the program.

use crate::tai::{hex_value, Tain};

/// Length of an archive name: `@` + 24 hex + `.` + `s`/`u`.
pub const ARCHIVE_NAME_LEN: usize = 27;

/// `@<TAI64N>.s` or `.u`.
pub fn archive_name(stamp: Tain, suffix: u8) -> [u8; ARCHIVE_NAME_LEN] {
    let mut n = [0u8; ARCHIVE_NAME_LEN];
    n[..25].copy_from_slice(&stamp.label());
    n[25] = b'.';
    n[26] = suffix;
    n
}

/// Whether a directory entry is an archive that trimming may count and remove: exactly 27
/// bytes, `@`, 24 hex digits, `.`, `s` or `u` (verified against the real s6-log: other
/// `@`-names of the same length are left alone).
pub fn is_archive_name(name: &[u8]) -> bool {
    name.len() == ARCHIVE_NAME_LEN
        && name[0] == b'@'
        && name[1..25].iter().all(|&c| hex_value(c).is_some())
        && name[25] == b'.'
        && (name[26] == b's' || name[26] == b'u')
}

/// Given the archives present (name, size), returns the names to unlink, oldest first, so that
/// at most `count` remain and (if `maxdirsize` ≠ 0) their total size is at most `maxdirsize`.
pub fn to_trim(archives: &[(Vec<u8>, u64)], count: u32, maxdirsize: u64) -> Vec<Vec<u8>> {
    let mut v: Vec<&(Vec<u8>, u64)> = archives.iter().collect();
    v.sort_by(|a, b| a.0.get(1..).cmp(&b.0.get(1..)));
    // Exact (u128): a saturated u64 sum would underflow below, or keep too much.
    let mut total: u128 = v.iter().map(|a| a.1 as u128).sum();
    let n = v.len();
    let mut out = Vec::new();
    for (i, a) in v.iter().enumerate() {
        let left = n - i;
        if left as u64 > count as u64 || (maxdirsize != 0 && total > maxdirsize as u128) {
            out.push(a.0.clone());
            total -= a.1 as u128;
        } else {
            break;
        }
    }
    out
}

/// How many bytes of a logdir buffer to hand to `write`: up to and including the last `\n`,
/// or everything if there is none.
pub fn write_len(buf: &[u8]) -> usize {
    match buf.iter().rposition(|&b| b == b'\n') {
        Some(i) => i + 1,
        None => buf.len(),
    }
}

/// After a write that brought `current` to `b` bytes and whose last byte was `last`: start a
/// rotation? (`b + tolerance >= s` at a line end.)
pub fn rotate_after_write(b: u64, tolerance: u32, size: u32, last: u8) -> bool {
    last == b'\n' && b.saturating_add(tolerance as u64) >= size as u64
}

/// Before flushing: `current` already at or over the size.
pub fn rotate_before_write(b: u64, size: u32) -> bool {
    b >= size as u64
}

/// Mode of `current` while in use, from the umask: `0666 & ~umask`.
pub fn mode_in_use(umask: u32) -> u32 {
    0o666 & !umask
}

/// Mode of a finalized `current`, of archives and of `processed`: the in-use mode plus `u+x`.
pub fn mode_final(umask: u32) -> u32 {
    mode_in_use(umask) | 0o100
}

/// What start-up does with a logdir, from the modes of `current` and `processed` (`None` =
/// absent). s6-log.md §6.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Startup {
    /// `current` was finalized: append to it.
    Resume,
    /// Unclean or fresh: unlink `state` and `newstate`, then if `processed_done` unlink
    /// `previous` and archive `processed` as `.s`, else unlink `processed` and archive `previous`
    /// as `.u`; archive `current` as `.u`; create an empty `state`; open a new `current`.
    Recover { processed_done: bool },
}

pub fn startup(current_mode: Option<u32>, processed_mode: Option<u32>) -> Startup {
    match current_mode {
        Some(m) if m & 0o100 != 0 => Startup::Resume,
        _ => Startup::Recover { processed_done: processed_mode.is_some_and(|m| m & 0o100 != 0) },
    }
}

/// The steps of a rotation, in order (s6-log.md §6.3). A failed step is retried after the
/// logdir's `r` delay, from where it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotState {
    /// Not rotating: `current` can be written.
    Writable,
    /// fsync `current`, then read the clock.
    Sync,
    /// rename `current` → `previous`.
    Rename,
    /// open a new `current`.
    NewCurrent,
    /// chmod `previous` to the final mode; then either archive it or run the processor.
    ChmodPrevious,
    /// archive `previous` as `.s`.
    FinishPrevious,
    /// fork the processor.
    RunProcessor,
    /// waiting for the processor to exit.
    WaitProcessor,
    /// fsync + fchmod `processed`.
    SyncProcessed,
    /// fsync `newstate`, then read the clock.
    SyncNewstate,
    /// unlink `previous`.
    UnlinkPrevious,
    /// rename `newstate` → `state`.
    RenameState,
    /// archive `processed` as `.s`.
    FinishProcessed,
}

impl RotState {
    /// The step after `self` succeeded (`has_processor` decides the branch after the chmod).
    pub fn next(self, has_processor: bool) -> RotState {
        use RotState::*;
        match self {
            Writable => Sync,
            Sync => Rename,
            Rename => NewCurrent,
            NewCurrent => ChmodPrevious,
            ChmodPrevious => {
                if has_processor {
                    RunProcessor
                } else {
                    FinishPrevious
                }
            }
            FinishPrevious => Writable,
            RunProcessor => WaitProcessor,
            WaitProcessor => SyncProcessed,
            SyncProcessed => SyncNewstate,
            SyncNewstate => UnlinkPrevious,
            UnlinkPrevious => RenameState,
            RenameState => FinishProcessed,
            FinishProcessed => Writable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = archive_name(Tain::new(0x400000006b082616, 0x037c3b3e), b's');
        assert_eq!(&n, b"@400000006b082616037c3b3e.s");
        assert!(is_archive_name(&n));
        assert!(is_archive_name(b"@400000006B082616037C3B3E.u"));
        for bad in [
            &b"@xxxxxxxxxxxxxxxxxxxxxxxx.s"[..],
            b"@000000000000000000000000.z",
            b"@00000000000000000000000.s",
            b"A000000000000000000000000.s",
            b"current",
        ] {
            assert!(!is_archive_name(bad));
        }
    }

    fn a(names: &[(&str, u64)]) -> Vec<(Vec<u8>, u64)> {
        names.iter().map(|(n, s)| (n.as_bytes().to_vec(), *s)).collect()
    }

    #[test]
    fn trimming() {
        let v = a(&[("@3.s", 101), ("@1.s", 101), ("@4.s", 8188), ("@2.u", 101)]);
        assert_eq!(to_trim(&v, 10, 0), Vec::<Vec<u8>>::new());
        assert_eq!(to_trim(&v, 3, 0), vec![b"@1.s".to_vec()]);
        assert_eq!(to_trim(&v, 10, 8400), vec![b"@1.s".to_vec()]);
        assert_eq!(to_trim(&v, 10, 8900), Vec::<Vec<u8>>::new());
        assert_eq!(to_trim(&v, 10, 100).len(), 4);
        assert_eq!(to_trim(&v, 0, 0).len(), 4);
    }

    /// Found by fuzzing (tests/fuzz.rs): sizes whose sum exceeds u64 made the running total
    /// underflow (a panic in debug builds; in release, archives over the limit were kept).
    #[test]
    fn trimming_huge_sizes() {
        let v = a(&[("@1.s", u64::MAX), ("@2.s", u64::MAX), ("@3.s", 5)]);
        assert_eq!(to_trim(&v, 10, 10), vec![b"@1.s".to_vec(), b"@2.s".to_vec()]);
        let v = a(&[("@1.s", u64::MAX), ("@2.s", u64::MAX), ("@3.s", u64::MAX)]);
        assert_eq!(to_trim(&v, 0, 0).len(), 3);
        assert_eq!(to_trim(&v, 1, 0).len(), 2);
    }

    #[test]
    fn rotation_rules() {
        // s4096 l0, 100-byte lines: rotate at 4100.
        assert!(!rotate_after_write(4000, 0, 4096, b'\n'));
        assert!(rotate_after_write(4100, 0, 4096, b'\n'));
        // default tolerance: 2100 >= 2096.
        assert!(!rotate_after_write(2000, 2000, 4096, b'\n'));
        assert!(rotate_after_write(2100, 2000, 4096, b'\n'));
        assert!(!rotate_after_write(5000, 0, 4096, b'x'));
        assert!(rotate_before_write(4096, 4096));
        assert_eq!(write_len(b"a\nb\nc"), 4);
        assert_eq!(write_len(b"abc"), 3);
    }

    #[test]
    fn modes_and_startup() {
        assert_eq!(mode_in_use(0o022), 0o644);
        assert_eq!(mode_final(0o022), 0o744);
        assert_eq!(mode_final(0o077), 0o700);
        assert_eq!(startup(Some(0o744), None), Startup::Resume);
        assert_eq!(startup(Some(0o644), Some(0o744)), Startup::Recover { processed_done: true });
        assert_eq!(startup(None, Some(0o644)), Startup::Recover { processed_done: false });
        let mut s = RotState::Writable;
        let mut steps = 0;
        loop {
            s = s.next(true);
            steps += 1;
            if s == RotState::Writable {
                break;
            }
        }
        assert_eq!(steps, 12);
    }
}
