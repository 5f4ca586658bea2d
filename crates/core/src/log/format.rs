//! Output records (s6-log.md §5): stamps, prefix, alerts, status files.

use super::script::Action;

/// Local-time stamp text: `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` (year unpadded). `second` may be 60.
/// Nanoseconds ≥ 10^9 (invalid labels) print their first 9 decimal digits, as skalibs does.
pub fn local_stamp(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32, nanos: u32) -> String {
    let mut ns = format!("{nanos:09}");
    ns.truncate(9);
    format!("{year}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{ns}")
}

/// The stamps of one input line (read once per line).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stamps<'a> {
    /// `@` + 24 hex.
    pub tai: &'a [u8],
    /// [`local_stamp`] text.
    pub local: &'a [u8],
}

/// Appends the record of `line` for `action`: `[TAI ][LOCAL  ][PREFIX ]LINE\n`.
pub fn record(out: &mut Vec<u8>, action: &Action, stamps: &Stamps, line: &[u8]) {
    head(out, action, stamps);
    out.extend_from_slice(line);
    out.push(b'\n');
}

fn head(out: &mut Vec<u8>, action: &Action, stamps: &Stamps) {
    if action.tai {
        out.extend_from_slice(stamps.tai);
        out.push(b' ');
    }
    if action.local {
        out.extend_from_slice(stamps.local);
        out.extend_from_slice(b"  ");
    }
    if let Some(p) = &action.prefix {
        out.extend_from_slice(p);
        out.push(b' ');
    }
}

/// The bytes written to stderr for a `2` action with alert size `size`.
pub fn alert(prog: &str, action: &Action, stamps: &Stamps, line: &[u8], size: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len() + 64);
    out.extend_from_slice(prog.as_bytes());
    out.extend_from_slice(b": alert: ");
    head(&mut out, action, stamps);
    let size = size as usize;
    if size != 0 && size.saturating_add(3) < line.len() {
        out.extend_from_slice(&line[..size]);
        out.extend_from_slice(b"...\n");
    } else {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

/// The content of a status file for `=` with size `size` (`^`).
pub fn status(action: &Action, stamps: &Stamps, line: &[u8], size: u32) -> Vec<u8> {
    let mut out = Vec::new();
    record(&mut out, action, stamps, line);
    let size = size as usize;
    if size != 0 {
        if out.len() > size {
            out.truncate(size);
        } else {
            out.resize(size, b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::script::ActionKind;
    use super::*;

    fn act(tai: bool, local: bool, prefix: Option<&str>) -> Action {
        Action { kind: ActionKind::Stdout, tai, local, prefix: prefix.map(|p| p.as_bytes().to_vec()) }
    }

    const ST: Stamps = Stamps { tai: b"@400000006b0825141f731ebe", local: b"2026-11-26 12:24:15.527638206" };

    #[test]
    fn records() {
        let mut o = Vec::new();
        record(&mut o, &act(true, true, Some("PFX:")), &ST, b"hello");
        assert_eq!(o, b"@400000006b0825141f731ebe 2026-11-26 12:24:15.527638206  PFX: hello\n");
        let mut o = Vec::new();
        record(&mut o, &act(false, false, None), &ST, b"");
        assert_eq!(o, b"\n");
    }

    #[test]
    fn alerts() {
        let a = act(false, false, None);
        assert_eq!(alert("s6-log", &a, &ST, b"0123456789abc", 10), b"s6-log: alert: 0123456789abc\n");
        assert_eq!(alert("s6-log", &a, &ST, b"0123456789abcd", 10), b"s6-log: alert: 0123456789...\n");
        assert_eq!(alert("s6-log", &a, &ST, b"0123456789abcdefghij", 0), b"s6-log: alert: 0123456789abcdefghij\n");
        assert_eq!(
            alert("s6-log", &act(true, false, Some("X")), &ST, b"hello", 200),
            b"s6-log: alert: @400000006b0825141f731ebe X hello\n"
        );
    }

    #[test]
    fn status_files() {
        let a = act(false, false, None);
        assert_eq!(status(&a, &ST, b"hello world", 20), b"hello world\n\n\n\n\n\n\n\n\n");
        assert_eq!(status(&a, &ST, b"hello world", 0), b"hello world\n");
        assert_eq!(status(&a, &ST, b"hello world", 10), b"hello worl");
        assert_eq!(status(&a, &ST, b"0123456789abcdef", 10), b"0123456789");
        assert_eq!(status(&a, &ST, b"hello world", 1001).len(), 1001);
        assert_eq!(status(&a, &ST, b"123456789", 10), b"123456789\n");
    }

    #[test]
    fn stamps() {
        assert_eq!(local_stamp(2016, 12, 31, 23, 59, 60, 0), "2016-12-31 23:59:60.000000000");
        assert_eq!(local_stamp(36948, 3, 28, 7, 3, 54, 4294967295), "36948-03-28 07:03:54.429496729");
        assert_eq!(local_stamp(1970, 1, 1, 0, 0, 0, 1_000_000_000), "1970-01-01 00:00:00.100000000");
    }
}
