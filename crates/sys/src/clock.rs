//! Clock readings: the wall clock as TAI64N (for stamps) and the monotonic clock (for deadlines).

fn read(clock: libc::clockid_t) -> libc::timespec {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid, writable timespec; these clocks always exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts
}

/// Wall clock: (Unix seconds, nanoseconds).
pub fn wall() -> (i64, u32) {
    let ts = read(libc::CLOCK_REALTIME);
    (ts.tv_sec, ts.tv_nsec as u32)
}

/// Monotonic clock in nanoseconds.
pub fn mono_ns() -> u64 {
    let ts = read(libc::CLOCK_MONOTONIC);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`): the unit of the CPU times in
/// `/proc/PID/stat`. 100 if the system does not say.
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf takes a plain integer and touches no memory of ours.
    let n = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if n > 0 {
        n as u64
    } else {
        100
    }
}

/// Broken-down time (`localtime_r`, or `gmtime_r` when `utc`) of a Unix second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokenDown {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

// libc marks `time_t` deprecated on musl (its width changed in musl 1.2); on x86_64 it is 64
// bits on both musl and glibc, which is what we pass.
#[allow(deprecated)]
pub fn broken_down(unix: i64, utc: bool) -> Option<BrokenDown> {
    // SAFETY: tm is plain data; zeroed is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let t: libc::time_t = unix;
    // SAFETY: t and tm are valid for the duration of the call; the _r variants are reentrant.
    let r = unsafe {
        if utc {
            libc::gmtime_r(&t, &mut tm)
        } else {
            libc::localtime_r(&t, &mut tm)
        }
    };
    if r.is_null() {
        return None;
    }
    Some(BrokenDown {
        year: tm.tm_year as i64 + 1900,
        month: tm.tm_mon as u32 + 1,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        minute: tm.tm_min as u32,
        second: tm.tm_sec as u32,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticks_per_second_is_userhz() {
        // Linux reports USER_HZ, 100 on every architecture merit runs on.
        assert_eq!(super::ticks_per_second(), 100);
    }
}
