//! `/proc/self/mountinfo`, on bytes: the mount points, in mount order.
//!
//! Each line is `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ...`, fields separated by single
//! spaces; in ROOT and MOUNTPOINT the kernel writes a space, tab, newline and backslash as a
//! three-digit octal escape (`\040`, `\011`, `\012`, `\134`) and every other byte as it is
//! (a path need not be UTF-8). Pure and total: any bytes are accepted; a line with fewer than
//! five fields is skipped; a backslash not followed by three octal digits (or one whose value
//! would not fit a byte) is kept as it is.

/// The mount points (field 5 of each line), escapes decoded.
pub fn mount_points(text: &[u8]) -> Vec<Vec<u8>> {
    text.split(|&b| b == b'\n').filter_map(|line| line.split(|&b| b == b' ').nth(4)).map(unescape).collect()
}

/// Decodes the kernel's `\ooo` escapes.
pub fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' {
            if let Some(v) = field.get(i + 1..i + 4).and_then(octal_byte) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(field[i]);
        i += 1;
    }
    out
}

/// Three octal digits whose value fits a byte (`\000` to `\377`).
fn octal_byte(d: &[u8]) -> Option<u8> {
    if d.len() != 3 || !d.iter().all(|c| (b'0'..=b'7').contains(c)) {
        return None;
    }
    let v = d.iter().fold(0u32, |acc, &c| acc * 8 + u32::from(c - b'0'));
    u8::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_lines() {
        let text = b"22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw\n\
            30 22 0:30 / /mnt/a\\040b rw - tmpfs tmpfs rw\n\
            31 22 0:31 / /mnt/x\\134 rw - tmpfs tmpfs rw\n\
            32 22 0:32 / /mnt/\xff\xfe\\011tab rw - tmpfs tmpfs rw\n\
            33 22 0:33 /sub /mnt/end\\040 rw - tmpfs tmpfs rw";
        let m = mount_points(text);
        assert_eq!(
            m,
            vec![
                b"/proc".to_vec(),
                b"/mnt/a b".to_vec(),
                b"/mnt/x\\".to_vec(),
                b"/mnt/\xff\xfe\ttab".to_vec(),
                b"/mnt/end ".to_vec()
            ]
        );
    }

    #[test]
    fn escape_at_the_very_end_is_decoded() {
        assert_eq!(unescape(b"/a\\040"), b"/a ");
        assert_eq!(unescape(b"\\134"), b"\\");
        assert_eq!(unescape(b"\\012\\012"), b"\n\n");
    }

    #[test]
    fn what_is_not_an_escape_stays() {
        assert_eq!(unescape(b"/a\\04"), b"/a\\04");
        assert_eq!(unescape(b"/a\\"), b"/a\\");
        assert_eq!(unescape(b"/a\\400"), b"/a\\400", "over a byte");
        assert_eq!(unescape(b"/a\\08x"), b"/a\\08x");
        assert_eq!(unescape(b"\\\\040"), b"\\ ");
    }

    #[test]
    fn short_and_hostile_lines() {
        assert!(mount_points(b"").is_empty());
        assert!(mount_points(b"\n\n1 2 3 4\n").is_empty());
        assert_eq!(mount_points(b"1 2 3 4 \n"), vec![Vec::<u8>::new()]);
        let alphabet: &[u8] = b" \\0478\n\xff";
        let mut all: Vec<Vec<u8>> = vec![Vec::new()];
        let mut layer = all.clone();
        for _ in 0..6 {
            layer = layer.iter().flat_map(|s| alphabet.iter().map(move |&c| [s.as_slice(), &[c]].concat())).collect();
            all.extend(layer.iter().cloned());
        }
        for s in &all {
            let _ = mount_points(s);
            let _ = unescape(s);
        }
        let _ = mount_points(&(0..=255u8).cycle().take(100_000).collect::<Vec<_>>());
    }
}
