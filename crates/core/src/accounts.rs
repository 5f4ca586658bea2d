//! Users and groups by name in `/etc/passwd` and `/etc/group` contents, the way the C library's
//! `files` backend reads them (what `install -o nobody -g nogroup` resolves on a Mere system).
//!
//! Pure and total: any bytes are accepted; a malformed line (too few fields, an id that is not
//! a decimal number below 2^32 - 1) is skipped, as glibc skips it; the first valid entry of a
//! name wins. Comment lines (`#`) and NIS `+`/`-` entries are skipped.

/// The uid of user `name` in the contents of a passwd file (`name:pw:uid:gid:...`).
pub fn uid(passwd: &[u8], name: &[u8]) -> Option<u32> {
    lookup(passwd, name, 2, 7)
}

/// The primary gid of user `name` in the contents of a passwd file.
pub fn user_gid(passwd: &[u8], name: &[u8]) -> Option<u32> {
    lookup(passwd, name, 3, 7)
}

/// The gid of group `name` in the contents of a group file (`name:pw:gid:members`).
pub fn gid(group: &[u8], name: &[u8]) -> Option<u32> {
    lookup(group, name, 2, 4)
}

/// Field `field` (an id) of the first line whose first field is `name` and that has at least
/// `min_fields` fields (glibc accepts a passwd line with 7 and a group line with 4, the last
/// possibly empty; it does not check the rest).
fn lookup(text: &[u8], name: &[u8], field: usize, min_fields: usize) -> Option<u32> {
    if name.is_empty() {
        return None;
    }
    text.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first().is_some_and(|&c| matches!(c, b'#' | b'+' | b'-')) {
            return None;
        }
        let fields: Vec<&[u8]> = line.split(|&b| b == b':').collect();
        if fields.len() < min_fields || fields.first() != Some(&name) {
            return None;
        }
        fields.get(field).and_then(|f| id(f))
    })
}

/// A decimal id, 0 to 2^32 - 2 (2^32 - 1 is `(uid_t)-1`, "no id").
fn id(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = b.iter().try_fold(0u64, |acc, &d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')))?;
    u32::try_from(v).ok().filter(|&v| v != u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERE_PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/usr/bin/nologin\nnobody:x:99:99:nobody:/:/usr/bin/nologin\n";
    const MERE_GROUP: &[u8] = b"root:x:0:root\nnogroup:x:99:\nnobody:x:65534:\n";

    #[test]
    fn mere_and_debian_files() {
        assert_eq!(uid(MERE_PASSWD, b"nobody"), Some(99));
        assert_eq!(user_gid(MERE_PASSWD, b"nobody"), Some(99));
        assert_eq!(uid(MERE_PASSWD, b"root"), Some(0));
        assert_eq!(gid(MERE_GROUP, b"nogroup"), Some(99));
        assert_eq!(gid(MERE_GROUP, b"nobody"), Some(65534));
        let debian = b"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";
        assert_eq!(uid(debian, b"nobody"), Some(65534), "no final newline");
        assert_eq!(gid(b"nogroup:x:65534:\r\n", b"nogroup"), Some(65534), "CRLF");
    }

    #[test]
    fn absent_names() {
        assert_eq!(uid(MERE_PASSWD, b"nogroup"), None);
        assert_eq!(uid(MERE_PASSWD, b"nobod"), None);
        assert_eq!(uid(MERE_PASSWD, b"obody"), None);
        assert_eq!(uid(MERE_PASSWD, b""), None);
        assert_eq!(gid(b"", b"nogroup"), None);
        assert_eq!(uid(b"::::::\n", b""), None);
    }

    #[test]
    fn malformed_lines_are_skipped_and_the_first_valid_entry_wins() {
        let p = b"# nobody:x:1:1:c:/:/bin/sh\n+nobody:x:2:2:::\nnobody:x:3\nnobody:x:-4:4:::\nnobody:x:4294967295:5:::\nnobody:x:99999999999:6:::\nnobody:x: 7:7:::\nnobody:x:8:8:::\nnobody:x:9:9:::\n";
        assert_eq!(uid(p, b"nobody"), Some(8));
        assert_eq!(uid(b"nobody:x:4294967294:0:::\n", b"nobody"), Some(4_294_967_294));
        assert_eq!(gid(b"nogroup:x:12\nnogroup:x::\nnogroup:x:13:\n", b"nogroup"), Some(13));
    }

    #[test]
    fn never_panics_on_any_bytes() {
        // Every short byte string over an alphabet with the separators, digits and odd bytes,
        // and a few long and binary inputs.
        let alphabet: &[u8] = b":\n\r9#+0a\xff\x00";
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        let mut layer = inputs.clone();
        for _ in 0..5 {
            layer = layer.iter().flat_map(|s| alphabet.iter().map(move |&c| [s.as_slice(), &[c]].concat())).collect();
            inputs.extend(layer.iter().cloned());
        }
        inputs.push(vec![b':'; 100_000]);
        inputs.push(vec![b'9'; 100_000]);
        inputs.push((0..=255u8).cycle().take(70_000).collect());
        for s in &inputs {
            for name in [&b"a"[..], b"nobody", b"", b"\xff", b":"] {
                let _ = (uid(s, name), user_gid(s, name), gid(s, name));
            }
        }
    }
}
