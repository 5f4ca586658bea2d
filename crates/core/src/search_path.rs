//! The `PATH` that init gives everything it starts, on bytes.
//!
//! Wherever merit's programs are installed, the tree init starts must run *them*, not a
//! same-named program found earlier in `PATH`: with merit in `/sbin` and Debian's s6 in `/bin`
//! (earlier in Mere's `PATH`), a run script's `s6-svc` would otherwise be the other s6. So the
//! directory of our own executable goes first, whatever the `PATH` it is given.

/// `PATH` with `dir` as its first entry: every other occurrence of `dir` is removed (an entry
/// naming it with trailing slashes too), the other entries keep their order. Empty entries
/// (which a shell reads as the current directory: a service's own folder) are dropped, so that
/// neither an empty `PATH` nor a trailing or doubled colon puts the current directory on it.
/// An empty `dir` leaves the entries as they are (empty ones dropped).
pub fn with_first(dir: &[u8], path: &[u8]) -> Vec<u8> {
    let mut out = dir.to_vec();
    for entry in path.split(|&b| b == b':') {
        if entry.is_empty() || (!dir.is_empty() && same_dir(entry, dir)) {
            continue;
        }
        if !out.is_empty() {
            out.push(b':');
        }
        out.extend_from_slice(entry);
    }
    out
}

/// The same directory name, trailing slashes aside (`/sbin/` is `/sbin`; `/` is `//`).
fn same_dir(a: &[u8], b: &[u8]) -> bool {
    fn trim(p: &[u8]) -> &[u8] {
        let end = p.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
        p.get(..end).unwrap_or(p)
    }
    trim(a) == trim(b) && a.is_empty() == b.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(dir: &str, path: &str) -> String {
        String::from_utf8(with_first(dir.as_bytes(), path.as_bytes())).unwrap()
    }

    #[test]
    fn empty_path() {
        assert_eq!(first("/sbin", ""), "/sbin");
        assert_eq!(first("/sbin", ":"), "/sbin");
    }

    #[test]
    fn already_first() {
        assert_eq!(first("/sbin", "/sbin:/bin:/usr/bin"), "/sbin:/bin:/usr/bin");
        assert_eq!(first("/sbin", "/sbin"), "/sbin");
    }

    #[test]
    fn present_later() {
        // Mere's PATH with merit in /sbin and another s6 in /bin.
        assert_eq!(
            first("/sbin", "/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin"),
            "/sbin:/usr/local/bin:/usr/local/sbin:/bin:/usr/bin:/usr/sbin"
        );
        // Every duplicate goes, spelled with trailing slashes or not; prefixes are other
        // directories.
        assert_eq!(first("/sbin", "/bin:/sbin/:/usr/sbin:/sbin//:/sbin"), "/sbin:/bin:/usr/sbin");
        assert_eq!(first("/opt/merit/bin", "/opt/merit:/opt/merit/bin2"), "/opt/merit/bin:/opt/merit:/opt/merit/bin2");
    }

    #[test]
    fn absent() {
        assert_eq!(first("/opt/merit/bin", "/bin:/usr/bin"), "/opt/merit/bin:/bin:/usr/bin");
    }

    #[test]
    fn trailing_and_doubled_colons() {
        assert_eq!(first("/sbin", "/bin:"), "/sbin:/bin");
        assert_eq!(first("/sbin", "/bin::/usr/bin::"), "/sbin:/bin:/usr/bin");
        assert_eq!(first("/sbin", ":/bin:/sbin:"), "/sbin:/bin");
    }

    #[test]
    fn root_and_no_dir() {
        assert_eq!(first("/", "/bin://:/"), "/:/bin");
        assert_eq!(first("", "/bin::/usr/bin:"), "/bin:/usr/bin");
        assert_eq!(first("", ""), "");
    }

    #[test]
    fn bytes_that_are_not_utf8() {
        assert_eq!(with_first(b"/s\xffbin", b"/bin:/s\xffbin"), b"/s\xffbin:/bin".to_vec());
    }
}
