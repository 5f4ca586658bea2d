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

/// Finds the next line in `buf` under `limit` (0 = unlimited).
pub fn next_line(buf: &[u8], limit: usize) -> Next {
    let window = if limit == 0 { buf.len() } else { buf.len().min(limit + 1) };
    if let Some(i) = buf[..window].iter().position(|&b| is_terminator(b)) {
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
