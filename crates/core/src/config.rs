//! Parsing of the small configuration files of a service directory, exactly as s6-supervise
//! 2.11.3.2 reads them (servicedir.md §2.1). Reading the bytes is the caller's job.

/// Why a configuration file could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Not a decimal number that fits in 32 bits (`invalid FILE`).
    Invalid,
}

/// At most this many bytes of a uint file are read.
pub const UINT_FILE_MAX: usize = 11;
/// At most this many bytes of `down-signal` are read.
pub const DOWN_SIGNAL_MAX: usize = 15;

/// Cuts at the first newline.
fn first_line(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == b'\n') {
        Some(i) => &b[..i],
        None => b,
    }
}

/// A uint file: at most 11 bytes, cut at the first `\n`, all ASCII digits, fits in 32 bits.
pub fn parse_uint_file(content: &[u8]) -> Result<u32, ConfigError> {
    let b = first_line(&content[..content.len().min(UINT_FILE_MAX)]);
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err(ConfigError::Invalid);
    }
    let mut v: u64 = 0;
    for &c in b {
        v = v * 10 + (c - b'0') as u64;
        if v > u32::MAX as u64 {
            return Err(ConfigError::Invalid);
        }
    }
    Ok(v as u32)
}

/// A file descriptor number file (`notification-fd`, `lock-fd`): a uint no larger than `i32::MAX`.
pub fn parse_fd_file(content: &[u8]) -> Result<i32, ConfigError> {
    let v = parse_uint_file(content)?;
    if v > i32::MAX as u32 {
        return Err(ConfigError::Invalid);
    }
    Ok(v as i32)
}

/// `down-signal`: at most 15 bytes, cut at `\n`, a number or a signal name. A number is taken
/// as written, as s6 takes it: one `kill(2)` does not know is refused there (EINVAL), not here.
pub fn parse_down_signal(content: &[u8]) -> Result<crate::signals::Signal, ConfigError> {
    let b = first_line(&content[..content.len().min(DOWN_SIGNAL_MAX)]);
    let s = std::str::from_utf8(b).map_err(|_| ConfigError::Invalid)?;
    // Wrapping on purpose: a number above i32::MAX reaches kill(2) as the C int it would be.
    crate::signals::parse(s).map(|n| n as crate::signals::Signal).ok_or(ConfigError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn uint_files() {
        assert_eq!(parse_uint_file(b"3\n"), Ok(3));
        assert_eq!(parse_uint_file(b"3"), Ok(3));
        assert_eq!(parse_uint_file(b"4294967295"), Ok(u32::MAX));
        assert_eq!(parse_uint_file(b"4294967296"), Err(ConfigError::Invalid));
        assert_eq!(parse_uint_file(b""), Err(ConfigError::Invalid));
        assert_eq!(parse_uint_file(b"\n"), Err(ConfigError::Invalid));
        assert_eq!(parse_uint_file(b" 3"), Err(ConfigError::Invalid));
        assert_eq!(parse_uint_file(b"-3"), Err(ConfigError::Invalid));
        assert_eq!(parse_uint_file(b"3 \n"), Err(ConfigError::Invalid));
        assert_eq!(parse_uint_file(b"5000\ngarbage"), Ok(5000));
        // only 11 bytes are read: "00000000005" + more digits is cut
        assert_eq!(parse_uint_file(b"000000000051111"), Ok(5));
        assert_eq!(parse_fd_file(b"2147483648"), Err(ConfigError::Invalid));
        assert_eq!(parse_fd_file(b"2147483647"), Ok(i32::MAX));
    }
    #[test]
    fn down_signal() {
        assert_eq!(parse_down_signal(b"SIGHUP\n"), Ok(1));
        assert_eq!(parse_down_signal(b"int"), Ok(2));
        assert_eq!(parse_down_signal(b"10"), Ok(10));
        assert_eq!(parse_down_signal(b"bogus"), Err(ConfigError::Invalid));
    }
}
