//! Input framing (s6-log.md §2): `\n` and NUL both end a line; a line longer than the limit is
//! cut into `limit`-byte pieces, a piece being emitted only once more than `limit` bytes are
//! buffered without a terminator (so a line of exactly `limit` bytes followed by `\n` stays one
//! line, whatever the read boundaries).

/// The next unit of input found at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// A line: `buf[..len]`, and `consumed` bytes (terminator included) to drop from the buffer.
    Line { len: usize, consumed: usize, terminated: bool },
    /// No complete line yet.
    NeedMore,
}

/// Whether `b` ends a line.
pub fn is_terminator(b: u8) -> bool {
    b == b'\n' || b == 0
}

/// The index of the first `\n` or NUL in `buf`. Eight bytes at a time (the hot path of s6-log):
/// in each little-endian word, the lowest byte flagged by the classic "has a zero byte" test
/// is always a true match (false positives can only sit above a true one).
pub fn find_terminator(buf: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut chunks = buf.chunks_exact(8);
    let mut off = 0;
    for c in &mut chunks {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let y = x ^ NL;
        let m = (x.wrapping_sub(LO) & !x | y.wrapping_sub(LO) & !y) & HI;
        if m != 0 {
            return Some(off + (m.trailing_zeros() / 8) as usize);
        }
        off += 8;
    }
    chunks.remainder().iter().position(|&b| is_terminator(b)).map(|i| off + i)
}

/// Finds the next line in `buf` under `limit` (0 = unlimited).
pub fn next_line(buf: &[u8], limit: usize) -> Next {
    let window = if limit == 0 { buf.len() } else { buf.len().min(limit + 1) };
    if let Some(i) = find_terminator(&buf[..window]) {
        return Next::Line { len: i, consumed: i + 1, terminated: true };
    }
    if limit != 0 && buf.len() > limit {
        return Next::Line { len: limit, consumed: limit, terminated: false };
    }
    Next::NeedMore
}

/// Splits as many complete lines as `buf` holds; returns them (as ranges) and the number of
/// bytes they use.
pub fn split_all(buf: &[u8], limit: usize) -> (Vec<std::ops::Range<usize>>, usize) {
    let mut v = Vec::new();
    let mut off = 0;
    while let Next::Line { len, consumed, .. } = next_line(&buf[off..], limit) {
        v.push(off..off + len);
        off += consumed;
    }
    (v, off)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[u8], limit: usize) -> (Vec<&[u8]>, usize) {
        let (r, n) = split_all(s, limit);
        (r.into_iter().map(|r| &s[r]).collect(), n)
    }

    #[test]
    fn nl_and_nul() {
        assert_eq!(lines(b"nul\0inside\n", 0), (vec![&b"nul"[..], b"inside"], 11));
        assert_eq!(lines(b"\n\nx\n", 8192), (vec![&b""[..], b"", b"x"], 4));
        assert_eq!(lines(b"one\ntwo\nthree", 8192), (vec![&b"one"[..], b"two"], 8));
    }

    #[test]
    fn find_terminator_matches_a_plain_search() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..80 {
            for _ in 0..200 {
                let v: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        [0, b'\n', 1, 0x80, 0xff, 0x0b, 0x09, 0x8a, 0x2a, b'a', b'b', b'c'][(x % 12) as usize]
                    })
                    .collect();
                assert_eq!(find_terminator(&v), v.iter().position(|&b| is_terminator(b)), "{v:?}");
            }
        }
    }

    #[test]
    fn limit_pieces() {
        let a = [b'A'; 100];
        let mut s = a.to_vec();
        s.push(b'\n');
        let (l, n) = lines(&s, 48);
        assert_eq!(l.iter().map(|x| x.len()).collect::<Vec<_>>(), vec![48, 48, 4]);
        assert_eq!(n, 101);
        let mut s = vec![b'A'; 48];
        s.push(b'\n');
        assert_eq!(lines(&s, 48).0.len(), 1);
        // exactly the limit, no terminator yet: wait
        assert_eq!(next_line(&[b'A'; 48], 48), Next::NeedMore);
        assert_eq!(next_line(&[b'A'; 49], 48), Next::Line { len: 48, consumed: 48, terminated: false });
        let mut s = vec![b'A'; 96];
        s.push(b'\n');
        assert_eq!(lines(&s, 48).0.iter().map(|x| x.len()).collect::<Vec<_>>(), vec![48, 48]);
        assert_eq!(next_line(&[b'B'; 100], 0), Next::NeedMore);
    }
}
