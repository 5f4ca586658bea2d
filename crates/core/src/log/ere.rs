//! POSIX extended regular expressions, glibc flavour, translated into the syntax of the Rust
//! `regex` crate.
//!
//! s6-log compiles its `+`/`-` selections with `regcomp(REG_EXTENDED|REG_NOSUB|REG_NEWLINE)` and
//! never calls `setlocale`, so the real program matches **bytes** with glibc's ERE dialect in the
//! C locale. merit matches with `regex::bytes::Regex` built with Unicode mode **off** (every
//! byte is a character, classes are ASCII), after this module has rewritten the pattern:
//!
//! * every literal byte is emitted as `\xHH` (or as itself when alphanumeric), so the crate's
//!   extra metacharacters and escapes (`\d`, `(?i)`, `&&` in classes…) never reach it;
//! * bracket expressions are parsed with POSIX rules: `]` first is literal, `\` is literal,
//!   `[` is literal unless it opens `[:class:]`, `[=c=]` or `[.c.]`, `-` is literal first or last,
//!   ranges are byte ranges; then re-emitted as a crate class;
//! * glibc's GNU escapes are mapped: `\w \W \s \S \b \B \< \>` and `` \` `` / `\'` (start / end of
//!   the line); any other escaped character is that character (`\d` is a literal `d`);
//! * groups become non-capturing; a lone `)` is a literal (glibc does the same);
//! * stacked repetitions (`a**`, `a{1,2}{2}`, `a?+`) are wrapped in groups so that the crate does
//!   not read them as lazy/possessive forms; `{,n}` becomes `{0,n}`;
//! * what glibc rejects is rejected (`*a`, `(*a)`, `a|*b`, `^*`, `a{`, `a{x}`, `[z-a]`,
//!   `[a-c-e]`, `[[:foo:]]`, `[[.space.]]`, unbalanced `(`, trailing `\`, counts > 32767).
//!
//! Remaining differences from glibc's `regcomp`/`regexec` (documented, deliberate):
//! * back-references `\1`…`\9` are not supported: the directive is rejected (exit 100,
//!   `unrecognized directive`) where glibc would accept it;
//! * very large counted repetitions (e.g. `a{32767}`) may exceed the crate's compiled-size limit
//!   and be rejected, where glibc accepts anything up to 32767;
//! * `[=c=]` and `[.c.]` accept a single byte only (as glibc does in the C locale).
//!
//! Since s6-log only asks "does it match", leftmost-longest versus leftmost-first semantics
//! make no difference.

/// Why a pattern was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EreError {
    /// glibc would reject it too (with this reason).
    Invalid(&'static str),
    /// Valid for glibc, not supported by merit (back-references).
    Unsupported(&'static str),
}

/// Maximum repetition count (glibc's `RE_DUP_MAX`).
pub const DUP_MAX: u32 = 0x7fff;

/// Translates a glibc ERE into an equivalent pattern for `regex::bytes::Regex` with Unicode
/// mode disabled.
pub fn translate(pat: &[u8]) -> Result<String, EreError> {
    let mut p = Parser { s: pat, i: 0, depth: 0 };
    let out = p.alternation()?;
    if p.i != p.s.len() {
        // Only reachable through a `)` at top level, which `alternation` consumes as a literal.
        return Err(EreError::Invalid("trailing garbage"));
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

fn lit(out: &mut String, b: u8) {
    if b.is_ascii_alphanumeric() {
        out.push(b as char);
    } else {
        out.push_str(&format!("\\x{b:02X}"));
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// alternation := branch ('|' branch)*
    fn alternation(&mut self) -> Result<String, EreError> {
        let mut out = self.branch()?;
        while self.peek() == Some(b'|') {
            self.i += 1;
            out.push('|');
            out.push_str(&self.branch()?);
        }
        Ok(out)
    }

    /// branch := piece*  (ends at `|`, at `)` when inside a group, or at the end)
    fn branch(&mut self) -> Result<String, EreError> {
        let mut out = String::new();
        // The last atom, not yet appended, with whether it already carries a repetition and
        // whether it may take one at all (anchors may not).
        let mut last: Option<(String, bool, bool)> = None;
        while let Some(c) = self.peek() {
            match c {
                b'|' => break,
                b')' if self.depth > 0 => break,
                b'*' | b'+' | b'?' | b'{' => {
                    let rep = self.repetition()?;
                    match last.as_mut() {
                        Some((atom, repeated, true)) => {
                            if *repeated {
                                // Guard (fuzzing): 1000 stacked wraps already exceed the regex crate's nest limit; more would only cost quadratic time.
                                if atom.starts_with(&"(?:".repeat(1000)) { return Err(EreError::Invalid("Regular expression too big")); }
                                *atom = format!("(?:{atom})");
                            }
                            atom.push_str(&rep);
                            *repeated = true;
                        }
                        _ => return Err(EreError::Invalid("Invalid preceding regular expression")),
                    }
                }
                _ => {
                    if let Some((a, _, _)) = last.take() {
                        out.push_str(&a);
                    }
                    last = Some(self.atom()?);
                }
            }
        }
        if let Some((a, _, _)) = last {
            out.push_str(&a);
        }
        Ok(out)
    }

    /// Parses `*`, `+`, `?` or an interval at the cursor.
    fn repetition(&mut self) -> Result<String, EreError> {
        let c = self.s[self.i];
        self.i += 1;
        match c {
            b'*' => Ok("*".into()),
            b'+' => Ok("+".into()),
            b'?' => Ok("?".into()),
            _ => {
                let min = self.number().transpose()?;
                let (lo, hi) = if self.peek() == Some(b',') {
                    self.i += 1;
                    (min.unwrap_or(0), self.number().transpose()?)
                } else {
                    match min {
                        Some(m) => (m, Some(m)),
                        None => {
                            return Err(if self.peek().is_none() {
                                EreError::Invalid("Unmatched \\{")
                            } else {
                                EreError::Invalid("Invalid content of \\{\\}")
                            })
                        }
                    }
                };
                match self.peek() {
                    Some(b'}') => self.i += 1,
                    None => return Err(EreError::Invalid("Unmatched \\{")),
                    Some(_) => return Err(EreError::Invalid("Invalid content of \\{\\}")),
                }
                if let Some(h) = hi {
                    if h < lo {
                        return Err(EreError::Invalid("Invalid content of \\{\\}"));
                    }
                }
                Ok(match hi {
                    Some(h) if h == lo => format!("{{{lo}}}"),
                    Some(h) => format!("{{{lo},{h}}}"),
                    None => format!("{{{lo},}}"),
                })
            }
        }
    }

    /// A decimal number at the cursor, if any digit is there; `Err` if it exceeds `DUP_MAX`.
    fn number(&mut self) -> Option<Result<u32, EreError>> {
        let start = self.i;
        let mut v: u32 = 0;
        let mut big = false;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            self.i += 1;
            v = v.saturating_mul(10).saturating_add((d - b'0') as u32);
            if v > DUP_MAX {
                big = true;
            }
        }
        if self.i == start {
            None
        } else if big {
            Some(Err(EreError::Invalid("Regular expression too big")))
        } else {
            Some(Ok(v))
        }
    }

    /// One atom: returns (translation, already repeated = false, may be repeated).
    fn atom(&mut self) -> Result<(String, bool, bool), EreError> {
        let c = self.s[self.i];
        self.i += 1;
        let mut out = String::new();
        match c {
            b'(' => {
                // Guard (fuzzing): deeper nesting would overflow the stack (the regex crate refuses over 250 anyway).
                if self.depth >= 1000 { return Err(EreError::Invalid("Regular expression too big")); }
                self.depth += 1;
                let inner = self.alternation()?;
                self.depth -= 1;
                if self.peek() != Some(b')') {
                    return Err(EreError::Invalid("Unmatched ( or \\("));
                }
                self.i += 1;
                out.push_str("(?:");
                out.push_str(&inner);
                out.push(')');
            }
            b'^' => return Ok(("^".into(), false, false)),
            b'$' => return Ok(("$".into(), false, false)),
            b'.' => out.push('.'),
            b'[' => out = self.bracket()?,
            b'\\' => {
                let Some(e) = self.peek() else {
                    return Err(EreError::Invalid("Trailing backslash"));
                };
                self.i += 1;
                match e {
                    b'w' => out.push_str("[0-9A-Za-z_]"),
                    b'W' => out.push_str("[^0-9A-Za-z_]"),
                    b's' => out.push_str("[[:space:]]"),
                    b'S' => out.push_str("[^[:space:]]"),
                    b'b' => return Ok(("\\b".into(), false, false)),
                    b'B' => return Ok(("\\B".into(), false, false)),
                    b'<' => return Ok(("\\b{start}".into(), false, false)),
                    b'>' => return Ok(("\\b{end}".into(), false, false)),
                    b'`' => return Ok(("\\A".into(), false, false)),
                    b'\'' => return Ok(("\\z".into(), false, false)),
                    b'1'..=b'9' => return Err(EreError::Unsupported("back-references")),
                    other => lit(&mut out, other),
                }
            }
            // A `)` outside any group is an ordinary character for glibc.
            other => lit(&mut out, other),
        }
        Ok((out, false, true))
    }

    /// A bracket expression; the cursor is just after `[`.
    fn bracket(&mut self) -> Result<String, EreError> {
        const UNMATCHED: EreError = EreError::Invalid("Unmatched [, [^, [:, [., or [=");
        let mut out = String::from("[");
        if self.peek() == Some(b'^') {
            self.i += 1;
            out.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else { return Err(UNMATCHED) };
            if c == b']' && !first {
                self.i += 1;
                break;
            }
            // Start element.
            let start = match self.element()? {
                Elem::Byte(b) => b,
                Elem::Class(name) => {
                    if self.peek() == Some(b'-') && self.s.get(self.i + 1) != Some(&b']') {
                        return Err(EreError::Invalid("Invalid range end"));
                    }
                    out.push_str("[:");
                    out.push_str(name);
                    out.push_str(":]");
                    first = false;
                    continue;
                }
            };
            if start == b'-' && !first && self.peek() != Some(b']') {
                // glibc: a `-` that is neither first, last nor a range end is an error.
                return Err(EreError::Invalid("Invalid range end"));
            }
            first = false;
            if self.peek() == Some(b'-') && self.s.get(self.i + 1).is_some_and(|&n| n != b']') {
                self.i += 1;
                let end = match self.element()? {
                    Elem::Byte(b) => b,
                    Elem::Class(_) => return Err(EreError::Invalid("Invalid range end")),
                };
                if end < start {
                    return Err(EreError::Invalid("Invalid range end"));
                }
                out.push_str(&format!("\\x{start:02X}-\\x{end:02X}"));
                if self.peek() == Some(b'-') && self.s.get(self.i + 1) != Some(&b']') {
                    return Err(EreError::Invalid("Invalid range end"));
                }
            } else {
                out.push_str(&format!("\\x{start:02X}"));
            }
        }
        out.push(']');
        Ok(out)
    }

    /// One element of a bracket expression.
    fn element(&mut self) -> Result<Elem, EreError> {
        const UNMATCHED: EreError = EreError::Invalid("Unmatched [, [^, [:, [., or [=");
        let Some(c) = self.peek() else { return Err(UNMATCHED) };
        self.i += 1;
        if c == b'[' {
            if let Some(k @ (b':' | b'.' | b'=')) = self.peek() {
                self.i += 1;
                let body_start = self.i;
                loop {
                    match self.peek() {
                        None => return Err(UNMATCHED),
                        Some(x) if x == k && self.s.get(self.i + 1) == Some(&b']') => break,
                        Some(_) => self.i += 1,
                    }
                }
                let body = &self.s[body_start..self.i];
                self.i += 2;
                return match k {
                    b':' => {
                        const NAMES: [&str; 12] = [
                            "alpha", "upper", "lower", "digit", "xdigit", "space", "print", "punct",
                            "graph", "cntrl", "blank", "alnum",
                        ];
                        match NAMES.iter().find(|n| n.as_bytes() == body) {
                            Some(n) => Ok(Elem::Class(n)),
                            None => Err(EreError::Invalid("Invalid character class name")),
                        }
                    }
                    _ => {
                        if body.len() == 1 {
                            Ok(Elem::Byte(body[0]))
                        } else {
                            Err(EreError::Invalid("Invalid collation character"))
                        }
                    }
                };
            }
        }
        Ok(Elem::Byte(c))
    }
}

enum Elem {
    Byte(u8),
    Class(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str) -> String {
        translate(p.as_bytes()).unwrap()
    }

    #[test]
    fn basics() {
        assert_eq!(t(""), "");
        assert_eq!(t("abc"), "abc");
        assert_eq!(t("a.c"), "a.c");
        assert_eq!(t("^a|b$"), "^a|b$");
        assert_eq!(t("(a)"), "(?:a)");
        assert_eq!(t("a)"), "a\\x29");
        assert_eq!(t("a b"), "a\\x20b");
        assert_eq!(t("\\d"), "d");
        assert_eq!(t("\\."), "\\x2E");
        assert_eq!(t("a||b"), "a||b");
        assert_eq!(t("()"), "(?:)");
    }

    #[test]
    fn repetitions() {
        assert_eq!(t("a*"), "a*");
        assert_eq!(t("a**"), "(?:a*)*");
        assert_eq!(t("a?+"), "(?:a?)+");
        assert_eq!(t("a{2}"), "a{2}");
        assert_eq!(t("a{,2}"), "a{0,2}");
        assert_eq!(t("a{1,}"), "a{1,}");
        assert_eq!(t("a{1,2}{2}"), "(?:a{1,2}){2}");
        for bad in ["*a", "(*a)", "a|*b", "^*", "$*", "{1}a", "a{", "a{1", "a{x}", "a{2,1}", "a{32768}"] {
            assert!(translate(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(translate(b"a{32767}").is_ok());
    }

    #[test]
    fn brackets() {
        assert_eq!(t("[]a]"), "[\\x5D\\x61]");
        assert_eq!(t("[^]a]"), "[^\\x5D\\x61]");
        assert_eq!(t("[\\d]"), "[\\x5C\\x64]");
        assert_eq!(t("[[:alpha:]_]"), "[[:alpha:]\\x5F]");
        assert_eq!(t("[[.a.]]"), "[\\x61]");
        assert_eq!(t("[[=a=]]"), "[\\x61]");
        assert_eq!(t("[a-]"), "[\\x61\\x2D]");
        assert_eq!(t("[--z]"), "[\\x2D-\\x7A]");
        assert_eq!(t("[%--]"), "[\\x25-\\x2D]");
        assert_eq!(t("[a[]"), "[\\x61\\x5B]");
        assert_eq!(t("[[]"), "[\\x5B]");
        for bad in ["[a", "[z-a]", "[a-c-e]", "[[:foo:]]", "[[.space.]]", "[", "[]"] {
            assert!(translate(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(t("\\<a\\>"), "\\b{start}a\\b{end}");
        assert_eq!(t("\\`a\\'"), "\\Aa\\z");
        assert_eq!(translate(b"(a)\\1"), Err(EreError::Unsupported("back-references")));
        assert_eq!(translate(b"\\"), Err(EreError::Invalid("Trailing backslash")));
        assert_eq!(translate(b"(a"), Err(EreError::Invalid("Unmatched ( or \\(")));
        assert_eq!(t("\u{e9}"), "\\xC3\\xA9");
    }
}
