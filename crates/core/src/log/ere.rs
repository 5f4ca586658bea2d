//! POSIX extended regular expressions, glibc flavour: a parser into a syntax tree ([`parse`]),
//! its translation into the syntax of the Rust `regex` crate ([`Ere::to_regex`], [`translate`]),
//! and, for the patterns that crate cannot express (back-references), the backtracking matcher
//! of [`super::backtrack`].
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
//! **Back-references** `\1`…`\9` are accepted where glibc accepts them: `\N` must name a group
//! already closed, and in the same alternative (glibc resets its "completed groups" at each `|`
//! of an alternation: `(a)|b\1` is rejected, `(a)(b|\1)` is accepted); otherwise the pattern is
//! invalid ("Invalid back reference"). Such a pattern is matched by the backtracking matcher,
//! after a prefilter: [`Ere::to_regex`] then gives a pattern for the crate whose language
//! contains the original's (each `\N` replaced by a copy of group N without its assertions), so
//! a line the prefilter rejects cannot match, and the backtracker only starts where the
//! prefilter's leftmost match starts. Its work is bounded: see [`super::backtrack`].
//!
//! Remaining differences from glibc's `regcomp`/`regexec` (documented, deliberate):
//! * a pattern the crate rejects as too large (e.g. `a{32767}` beyond its compiled-size limit)
//!   is matched by the backtracker instead; one too large for the backtracker too (more than
//!   [`super::backtrack::MAX_PROGRAM`] instructions once counted repetitions are expanded) is
//!   rejected, where glibc accepts counts up to 32767;
//! * `[=c=]` and `[.c.]` accept a single byte only (as glibc does in the C locale).
//!
//! Since s6-log only asks "does it match", leftmost-longest versus leftmost-first semantics
//! make no difference. With back-references, a line matches when some way of matching the
//! pattern makes every `\N` equal to the text of group N's last iteration (a group inside a
//! repetition keeps the text of the last iteration in which it took part; a group that took no
//! part makes `\N` fail); this is what glibc answers on the parity table of `crates/programs/tests/it/log.rs`.

/// Why a pattern was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EreError {
    /// glibc would reject it too (with this reason).
    Invalid(&'static str),
    /// Valid for glibc, not supported by merit.
    Unsupported(&'static str),
}

/// Maximum repetition count (glibc's `RE_DUP_MAX`).
pub const DUP_MAX: u32 = 0x7fff;

/// A zero-width assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    /// `^`.
    LineStart,
    /// `$`.
    LineEnd,
    /// `\b`.
    WordBoundary,
    /// `\B`.
    NotWordBoundary,
    /// `\<`.
    WordStart,
    /// `\>`.
    WordEnd,
    /// `` \` ``.
    TextStart,
    /// `\'`.
    TextEnd,
}

impl Look {
    /// Whether the assertion holds at `pos` in `hay` (REG_NEWLINE: `^`/`$` also at a `\n`).
    pub fn holds(self, hay: &[u8], pos: usize) -> bool {
        let prev = pos.checked_sub(1).and_then(|p| hay.get(p)).copied();
        let next = hay.get(pos).copied();
        let w = |b: Option<u8>| b.is_some_and(is_word_byte);
        match self {
            Look::LineStart => pos == 0 || prev == Some(b'\n'),
            Look::LineEnd => pos >= hay.len() || next == Some(b'\n'),
            Look::WordBoundary => w(prev) != w(next),
            Look::NotWordBoundary => w(prev) == w(next),
            Look::WordStart => !w(prev) && w(next),
            Look::WordEnd => w(prev) && !w(next),
            Look::TextStart => pos == 0,
            Look::TextEnd => pos >= hay.len(),
        }
    }

    fn crate_syntax(self) -> &'static str {
        match self {
            Look::LineStart => "^",
            Look::LineEnd => "$",
            Look::WordBoundary => "\\b",
            Look::NotWordBoundary => "\\B",
            Look::WordStart => "\\b{start}",
            Look::WordEnd => "\\b{end}",
            Look::TextStart => "\\A",
            Look::TextEnd => "\\z",
        }
    }
}

/// `\w`: ASCII letters, digits and `_`.
pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// One element of a bracket expression (or of a GNU class escape).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClassItem {
    Byte(u8),
    Range(u8, u8),
    /// `[:name:]`.
    Named(&'static str),
    /// `\w`'s set.
    Word,
}

/// The character classes of the C locale.
pub const CLASS_NAMES: [&str; 12] =
    ["alpha", "upper", "lower", "digit", "xdigit", "space", "print", "punct", "graph", "cntrl", "blank", "alnum"];

/// Whether byte `b` is in class `name` (C locale).
pub fn in_named_class(name: &str, b: u8) -> bool {
    match name {
        "alpha" => b.is_ascii_alphabetic(),
        "upper" => b.is_ascii_uppercase(),
        "lower" => b.is_ascii_lowercase(),
        "digit" => b.is_ascii_digit(),
        "xdigit" => b.is_ascii_hexdigit(),
        "space" => matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        "print" => (0x20..0x7f).contains(&b),
        "punct" => b.is_ascii_punctuation(),
        "graph" => b.is_ascii_graphic(),
        "cntrl" => b < 0x20 || b == 0x7f,
        "blank" => b == b' ' || b == b'\t',
        "alnum" => b.is_ascii_alphanumeric(),
        _ => false,
    }
}

impl ClassItem {
    pub fn contains(&self, b: u8) -> bool {
        match *self {
            ClassItem::Byte(x) => b == x,
            ClassItem::Range(lo, hi) => (lo..=hi).contains(&b),
            ClassItem::Named(n) => in_named_class(n, b),
            ClassItem::Word => is_word_byte(b),
        }
    }
}

/// How a repetition was written (for a faithful translation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepToken {
    Star,
    Plus,
    Quest,
    Interval,
}

/// A parsed ERE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Lit(u8),
    /// `.`.
    Any,
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
    Look(Look),
    /// A parenthesized group with its number (1-based, in order of the `(`).
    Group(u32, Box<Node>),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
        token: RepToken,
    },
    /// `\N`.
    Backref(u32),
}

impl Node {
    /// Whether byte `b` matches this `Class` node (false for any other node).
    pub fn class_contains(&self, b: u8) -> bool {
        match self {
            Node::Class { negated, items } => items.iter().any(|i| i.contains(b)) != *negated,
            _ => false,
        }
    }
}

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ere {
    pub node: Node,
    /// Number of groups.
    pub groups: u32,
    /// Whether the pattern has a back-reference (then only [`super::backtrack`] matches it
    /// exactly).
    pub backrefs: bool,
    /// The content of each group, by number - 1 (for the prefilter's copies).
    group_nodes: Vec<Node>,
}

/// Parses a glibc ERE.
pub fn parse(pat: &[u8]) -> Result<Ere, EreError> {
    let mut p = Parser { s: pat, i: 0, depth: 0, wraps: 0, groups: Vec::new(), completed: 0, backrefs: false };
    let node = p.alternation()?;
    if p.i != p.s.len() {
        // Only reachable through a `)` at top level, which `alternation` consumes as a literal.
        return Err(EreError::Invalid("trailing garbage"));
    }
    let groups = p.groups.len() as u32;
    let group_nodes = p.groups.into_iter().map(|g| g.unwrap_or(Node::Concat(Vec::new()))).collect();
    Ok(Ere { node, groups, backrefs: p.backrefs, group_nodes })
}

/// Translates a glibc ERE without back-references into an equivalent pattern for
/// `regex::bytes::Regex` with Unicode mode disabled (back-references: `Unsupported`).
pub fn translate(pat: &[u8]) -> Result<String, EreError> {
    let e = parse(pat)?;
    if e.backrefs {
        return Err(EreError::Unsupported("back-references"));
    }
    Ok(e.to_regex())
}

impl Ere {
    /// The pattern for the `regex` crate: equivalent when there is no back-reference;
    /// otherwise one whose language contains this pattern's (the prefilter).
    pub fn to_regex(&self) -> String {
        let mut out = String::new();
        self.render(&self.node, false, &mut out, 0);
        out
    }

    /// `copy`: inside the copy of a group that replaces a back-reference, where assertions are
    /// dropped (the copy matches the group's text at another position).
    fn render(&self, n: &Node, copy: bool, out: &mut String, depth: usize) {
        match n {
            Node::Lit(b) => lit(out, *b),
            Node::Any => out.push('.'),
            Node::Class { negated, items } => {
                out.push('[');
                if *negated {
                    out.push('^');
                }
                for it in items {
                    match it {
                        ClassItem::Byte(b) => out.push_str(&format!("\\x{b:02X}")),
                        ClassItem::Range(a, b) => out.push_str(&format!("\\x{a:02X}-\\x{b:02X}")),
                        ClassItem::Named(name) => {
                            out.push_str("[:");
                            out.push_str(name);
                            out.push_str(":]");
                        }
                        ClassItem::Word => out.push_str("0-9A-Za-z_"),
                    }
                }
                out.push(']');
            }
            Node::Look(l) => {
                if !copy {
                    out.push_str(l.crate_syntax());
                }
            }
            Node::Group(_, inner) => {
                out.push_str("(?:");
                self.render(inner, copy, out, depth);
                out.push(')');
            }
            Node::Concat(v) => v.iter().for_each(|x| self.render(x, copy, out, depth)),
            Node::Alt(v) => {
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        out.push('|');
                    }
                    self.render(x, copy, out, depth);
                }
            }
            Node::Repeat { node, min, max, token } => {
                if matches!(**node, Node::Repeat { .. }) {
                    out.push_str("(?:");
                    self.render(node, copy, out, depth);
                    out.push(')');
                } else {
                    self.render(node, copy, out, depth);
                }
                match token {
                    RepToken::Star => out.push('*'),
                    RepToken::Plus => out.push('+'),
                    RepToken::Quest => out.push('?'),
                    RepToken::Interval => match max {
                        Some(h) if h == min => out.push_str(&format!("{{{min}}}")),
                        Some(h) => out.push_str(&format!("{{{min},{h}}}")),
                        None => out.push_str(&format!("{{{min},}}")),
                    },
                }
            }
            Node::Backref(k) => {
                // A group only refers to earlier groups: the copies terminate. The depth guard
                // only protects against a malformed tree.
                out.push_str("(?:");
                if let Some(g) = self.group_nodes.get((*k as usize).wrapping_sub(1)) {
                    if depth < 16 {
                        self.render(g, true, out, depth + 1);
                    } else {
                        out.push_str("(?s:.)*");
                    }
                }
                out.push(')');
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
    /// Repetitions applied to an already repeated atom (`a**`), in the whole pattern: with
    /// `depth`, what bounds the syntax tree's depth.
    wraps: usize,
    /// Content of each group closed so far (`None` while open), by number - 1.
    groups: Vec<Option<Node>>,
    /// glibc's `completed_bkref_map`: bit N-1 set when group N may be referred to here.
    completed: u32,
    backrefs: bool,
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
    fn alternation(&mut self) -> Result<Node, EreError> {
        let initial = self.completed;
        let mut branches = vec![self.branch()?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            // glibc: each alternative sees the groups completed before the alternation (and
            // its own); after it, all of them.
            let accumulated = self.completed;
            self.completed = initial;
            branches.push(self.branch()?);
            self.completed |= accumulated;
        }
        Ok(if branches.len() == 1 { branches.remove(0) } else { Node::Alt(branches) })
    }

    /// branch := piece*  (ends at `|`, at `)` when inside a group, or at the end)
    fn branch(&mut self) -> Result<Node, EreError> {
        let mut items = Vec::new();
        // The last atom, not yet appended, with whether it may take a repetition (anchors may
        // not).
        let mut last: Option<(Node, bool)> = None;
        while let Some(c) = self.peek() {
            match c {
                b'|' => break,
                b')' if self.depth > 0 => break,
                b'*' | b'+' | b'?' | b'{' => {
                    let (min, max, token) = self.repetition()?;
                    match last.as_mut() {
                        Some((atom, true)) => {
                            // Guard (fuzzing): 1000 stacked repetitions already exceed the regex
                            // crate's nest limit; a deeper tree would overflow the stack of
                            // whatever walks it.
                            if matches!(atom, Node::Repeat { .. }) {
                                self.wraps += 1;
                                if self.wraps > 1000 {
                                    return Err(EreError::Invalid("Regular expression too big"));
                                }
                            }
                            let inner = std::mem::replace(atom, Node::Concat(Vec::new()));
                            *atom = Node::Repeat { node: Box::new(inner), min, max, token };
                        }
                        _ => return Err(EreError::Invalid("Invalid preceding regular expression")),
                    }
                }
                _ => {
                    if let Some((a, _)) = last.take() {
                        items.push(a);
                    }
                    last = Some(self.atom()?);
                }
            }
        }
        if let Some((a, _)) = last {
            items.push(a);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Node::Concat(items) })
    }

    /// Parses `*`, `+`, `?` or an interval at the cursor: (min, max, how it was written).
    fn repetition(&mut self) -> Result<(u32, Option<u32>, RepToken), EreError> {
        let Some(c) = self.peek() else { return Err(EreError::Invalid("Unmatched \\{")) };
        self.i += 1;
        match c {
            b'*' => Ok((0, None, RepToken::Star)),
            b'+' => Ok((1, None, RepToken::Plus)),
            b'?' => Ok((0, Some(1), RepToken::Quest)),
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
                Ok((lo, hi, RepToken::Interval))
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

    /// One atom: returns (node, may be repeated).
    fn atom(&mut self) -> Result<(Node, bool), EreError> {
        let Some(c) = self.peek() else { return Err(EreError::Invalid("empty atom")) };
        self.i += 1;
        let class = |negated: bool, item: ClassItem| Node::Class { negated, items: vec![item] };
        let node = match c {
            b'(' => {
                // Guard (fuzzing): deeper nesting would overflow the stack (the regex crate
                // refuses over 250 anyway).
                if self.depth >= 1000 {
                    return Err(EreError::Invalid("Regular expression too big"));
                }
                self.groups.push(None);
                let n = self.groups.len();
                self.depth += 1;
                let inner = self.alternation()?;
                self.depth -= 1;
                if self.peek() != Some(b')') {
                    return Err(EreError::Invalid("Unmatched ( or \\("));
                }
                self.i += 1;
                if n <= 9 {
                    self.completed |= 1 << (n - 1);
                }
                if let Some(slot) = self.groups.get_mut(n - 1) {
                    *slot = Some(inner.clone());
                }
                Node::Group(n as u32, Box::new(inner))
            }
            b'^' => return Ok((Node::Look(Look::LineStart), false)),
            b'$' => return Ok((Node::Look(Look::LineEnd), false)),
            b'.' => Node::Any,
            b'[' => self.bracket()?,
            b'\\' => {
                let Some(e) = self.peek() else {
                    return Err(EreError::Invalid("Trailing backslash"));
                };
                self.i += 1;
                let look = |l| Ok((Node::Look(l), false));
                match e {
                    b'w' => class(false, ClassItem::Word),
                    b'W' => class(true, ClassItem::Word),
                    b's' => class(false, ClassItem::Named("space")),
                    b'S' => class(true, ClassItem::Named("space")),
                    b'b' => return look(Look::WordBoundary),
                    b'B' => return look(Look::NotWordBoundary),
                    b'<' => return look(Look::WordStart),
                    b'>' => return look(Look::WordEnd),
                    b'`' => return look(Look::TextStart),
                    b'\'' => return look(Look::TextEnd),
                    b'1'..=b'9' => {
                        let n = (e - b'0') as u32;
                        if self.completed & (1 << (n - 1)) == 0 {
                            return Err(EreError::Invalid("Invalid back reference"));
                        }
                        self.backrefs = true;
                        Node::Backref(n)
                    }
                    other => Node::Lit(other),
                }
            }
            // A `)` outside any group is an ordinary character for glibc.
            other => Node::Lit(other),
        };
        Ok((node, true))
    }

    /// A bracket expression; the cursor is just after `[`.
    fn bracket(&mut self) -> Result<Node, EreError> {
        const UNMATCHED: EreError = EreError::Invalid("Unmatched [, [^, [:, [., or [=");
        let mut items = Vec::new();
        let mut negated = false;
        if self.peek() == Some(b'^') {
            self.i += 1;
            negated = true;
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
                    items.push(ClassItem::Named(name));
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
                items.push(ClassItem::Range(start, end));
                if self.peek() == Some(b'-') && self.s.get(self.i + 1) != Some(&b']') {
                    return Err(EreError::Invalid("Invalid range end"));
                }
            } else {
                items.push(ClassItem::Byte(start));
            }
        }
        Ok(Node::Class { negated, items })
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
                let body = self.s.get(body_start..self.i).unwrap_or_default();
                self.i += 2;
                return match k {
                    b':' => match CLASS_NAMES.iter().find(|n| n.as_bytes() == body) {
                        Some(n) => Ok(Elem::Class(n)),
                        None => Err(EreError::Invalid("Invalid character class name")),
                    },
                    _ => match body {
                        [b] => Ok(Elem::Byte(*b)),
                        _ => Err(EreError::Invalid("Invalid collation character")),
                    },
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

    /// Groups nested to the limit, each repeated twice over (`(...)**`): the deepest tree the
    /// parser accepts is walked without overflowing an 8 MiB stack; one more wrap is refused.
    #[test]
    fn deepest_accepted_tree_is_walked() {
        let h = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(|| {
                let ok = "(".repeat(999) + "a" + &")**".repeat(999);
                let r1 = translate(ok.as_bytes()).is_ok();
                let too_many = "(".repeat(999) + "a" + &")***".repeat(999);
                let r2 = translate(too_many.as_bytes()).is_err();
                (r1, r2)
            })
            .unwrap();
        assert_eq!(h.join().ok(), Some((true, true)));
    }

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

    #[test]
    fn backreferences_parse_as_glibc() {
        for ok in [
            "(a)\\1",
            "(a)(b)\\2\\1",
            "((a)\\2)",
            "(a)(b|\\1)",
            "(a)|(b)\\2",
            "((a)|b)*\\2",
            "(a)\\1*",
            "()\\1",
            "(a)(b)(c)(d)(e)(f)(g)(h)(i)\\9",
            "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10",
            "(a|(b))\\1",
        ] {
            let e = parse(ok.as_bytes()).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
            assert!(e.backrefs, "{ok}");
        }
        for bad in ["\\1", "(a\\1)", "(a)\\2", "(a)|b\\1", "(a)|\\1", "((a)|b\\2)", "(a)(|\\1)|\\1"] {
            assert_eq!(parse(bad.as_bytes()).err(), Some(EreError::Invalid("Invalid back reference")), "{bad}");
        }
        assert!(!parse(b"(a)\\0").unwrap().backrefs);
        assert_eq!(parse(b"(a)(b)").unwrap().groups, 2);
    }

    #[test]
    fn prefilter_copies_groups_without_assertions() {
        let p = |s: &str| parse(s.as_bytes()).unwrap().to_regex();
        assert_eq!(p("(a+)-\\1"), "(?:a+)\\x2D(?:a+)");
        assert_eq!(p("(^a\\b)\\1"), "(?:^a\\b)(?:a)");
        assert_eq!(p("(a)(b\\1)\\2"), "(?:a)(?:b(?:a))(?:b(?:a))");
        assert_eq!(p("(a)\\1*"), "(?:a)(?:a)*");
        assert_eq!(p("([[:digit:]]|x)\\1"), "(?:[[:digit:]]|x)(?:[[:digit:]]|x)");
    }
}
