//! A backtracking matcher for the POSIX EREs the `regex` crate cannot run: those with
//! back-references (`(a+)-\1`). Pure Rust, no recursion (an explicit stack), bounded work.
//!
//! The pattern ([`super::ere::Ere`]) is compiled into a small program (byte, set, any,
//! assertion, save, split, jump, loop guard, back-reference) and run from each start position
//! in turn, exploring every way of matching until one reaches the end of the program. The
//! answer is "does some way of matching exist", with these rules (glibc's answers, checked on
//! the parity table of `crates/programs/tests/it/log.rs`):
//! * `\N` matches the text group N matched in its **last** iteration that took part (a group
//!   keeps its text when a later iteration of an enclosing repetition skips it); a group that
//!   never took part makes `\N` fail;
//! * an iteration of `*`, `+` or `{n,}` that matches the empty string ends the repetition (so
//!   `(a*)*` terminates, and `(a*)*\1` matches the empty line with `\1` empty).
//!
//! **Bounded work.** Backtracking can take exponential time on hostile patterns
//! (`(a*)*b` style), and back-references make matching NP-hard in general, so a search is
//! limited to [`STEP_BUDGET`] instructions per line and pattern (a few milliseconds); when the
//! budget is exhausted the search stops and [`Backtrack::search`] answers `None`: s6-log then
//! takes the selection as **not matching** that line and warns once per directive. Patterns
//! whose program would exceed [`MAX_PROGRAM`] instructions (large counted repetitions are
//! expanded) are refused at compile time.

use super::ere::{Ere, Look, Node};

/// Instructions a single search may execute (all start positions together).
pub const STEP_BUDGET: u64 = 1_000_000;

/// Maximum program size, in instructions.
pub const MAX_PROGRAM: usize = 1 << 16;

const UNSET: usize = usize::MAX;

#[derive(Clone, Debug)]
enum Inst {
    Byte(u8),
    /// Index into `sets`.
    Set(usize),
    /// `.`: any byte but `\n`.
    Any,
    Look(Look),
    /// slots[n] = position.
    Save(usize),
    /// Try the first target, then the second.
    Split(usize, usize),
    Jmp(usize),
    /// An iteration of a loop ended: if it consumed input, go back to the loop head; else
    /// leave the loop. The slot holds the position where the iteration started.
    LoopEnd {
        slot: usize,
        head: usize,
    },
    /// Group number.
    Backref(usize),
    Match,
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Backtrack {
    prog: Vec<Inst>,
    sets: Vec<[bool; 256]>,
    /// 2 per group (start, end; group N uses 2N and 2N+1), then 1 per unbounded loop.
    nslots: usize,
}

/// Why a pattern cannot be compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge;

#[derive(Clone, Copy)]
enum Frame {
    Try { pc: usize, pos: usize },
    Restore { slot: usize, old: usize },
}

struct Compiler {
    prog: Vec<Inst>,
    sets: Vec<[bool; 256]>,
    nslots: usize,
}

impl Compiler {
    fn emit(&mut self, i: Inst) -> Result<usize, TooLarge> {
        if self.prog.len() >= MAX_PROGRAM {
            return Err(TooLarge);
        }
        self.prog.push(i);
        Ok(self.prog.len() - 1)
    }

    fn patch_split_second(&mut self, at: usize, to: usize) {
        if let Some(Inst::Split(_, b)) = self.prog.get_mut(at) {
            *b = to;
        }
    }

    fn patch_jmp(&mut self, at: usize, to: usize) {
        if let Some(Inst::Jmp(t)) = self.prog.get_mut(at) {
            *t = to;
        }
    }

    fn node(&mut self, n: &Node) -> Result<(), TooLarge> {
        match n {
            Node::Lit(b) => {
                self.emit(Inst::Byte(*b))?;
            }
            Node::Any => {
                self.emit(Inst::Any)?;
            }
            Node::Class { .. } => {
                let mut set = [false; 256];
                for (b, s) in set.iter_mut().enumerate() {
                    *s = n.class_contains(b as u8);
                }
                self.sets.push(set);
                self.emit(Inst::Set(self.sets.len() - 1))?;
            }
            Node::Look(l) => {
                self.emit(Inst::Look(*l))?;
            }
            Node::Group(k, inner) => {
                let k = *k as usize;
                self.emit(Inst::Save(2 * k))?;
                self.node(inner)?;
                self.emit(Inst::Save(2 * k + 1))?;
            }
            Node::Concat(v) => {
                for x in v {
                    self.node(x)?;
                }
            }
            Node::Alt(v) => {
                let mut jumps = Vec::new();
                for (i, x) in v.iter().enumerate() {
                    if i + 1 < v.len() {
                        let split = self.emit(Inst::Split(self.prog.len() + 1, 0))?;
                        self.node(x)?;
                        jumps.push(self.emit(Inst::Jmp(0))?);
                        let next = self.prog.len();
                        self.patch_split_second(split, next);
                    } else {
                        self.node(x)?;
                    }
                }
                let end = self.prog.len();
                for j in jumps {
                    self.patch_jmp(j, end);
                }
            }
            Node::Repeat { node, min, max, .. } => {
                for _ in 0..*min {
                    self.node(node)?;
                }
                match max {
                    None => {
                        let slot = self.nslots;
                        self.nslots += 1;
                        let head = self.emit(Inst::Split(self.prog.len() + 1, 0))?;
                        self.emit(Inst::Save(slot))?;
                        self.node(node)?;
                        self.emit(Inst::LoopEnd { slot, head })?;
                        let exit = self.prog.len();
                        self.patch_split_second(head, exit);
                    }
                    Some(m) => {
                        let mut splits = Vec::new();
                        for _ in *min..*m {
                            splits.push(self.emit(Inst::Split(self.prog.len() + 1, 0))?);
                            self.node(node)?;
                        }
                        let exit = self.prog.len();
                        for s in splits {
                            self.patch_split_second(s, exit);
                        }
                    }
                }
            }
            Node::Backref(k) => {
                self.emit(Inst::Backref(*k as usize))?;
            }
        }
        Ok(())
    }
}

impl Backtrack {
    /// Compiles a parsed pattern.
    pub fn new(ere: &Ere) -> Result<Backtrack, TooLarge> {
        let groups = ere.groups as usize;
        let mut c = Compiler { prog: Vec::new(), sets: Vec::new(), nslots: 2 * (groups + 1) };
        c.node(&ere.node)?;
        c.emit(Inst::Match)?;
        Ok(Backtrack { prog: c.prog, sets: c.sets, nslots: c.nslots })
    }

    /// Whether the pattern matches somewhere in `hay`, within [`STEP_BUDGET`]; `None` when the
    /// budget ran out first.
    pub fn is_match(&self, hay: &[u8]) -> Option<bool> {
        self.search(hay, 0, STEP_BUDGET)
    }

    /// Whether the pattern matches `hay` at a start position `>= first`, executing at most
    /// `budget` instructions; `None` when the budget ran out first.
    pub fn search(&self, hay: &[u8], first: usize, budget: u64) -> Option<bool> {
        let mut left = budget;
        let mut slots = vec![UNSET; self.nslots];
        let mut stack: Vec<Frame> = Vec::new();
        for start in first..=hay.len() {
            stack.push(Frame::Try { pc: 0, pos: start });
            while let Some(f) = stack.pop() {
                let (mut pc, mut pos) = match f {
                    Frame::Restore { slot, old } => {
                        if let Some(s) = slots.get_mut(slot) {
                            *s = old;
                        }
                        continue;
                    }
                    Frame::Try { pc, pos } => (pc, pos),
                };
                loop {
                    if left == 0 {
                        return None;
                    }
                    left -= 1;
                    let Some(inst) = self.prog.get(pc) else { break };
                    match inst {
                        Inst::Byte(b) => {
                            if hay.get(pos) != Some(b) {
                                break;
                            }
                            pc += 1;
                            pos += 1;
                        }
                        Inst::Set(i) => {
                            let hit = match (hay.get(pos), self.sets.get(*i)) {
                                (Some(&b), Some(set)) => set[b as usize],
                                _ => false,
                            };
                            if !hit {
                                break;
                            }
                            pc += 1;
                            pos += 1;
                        }
                        Inst::Any => {
                            match hay.get(pos) {
                                Some(&b) if b != b'\n' => {}
                                _ => break,
                            }
                            pc += 1;
                            pos += 1;
                        }
                        Inst::Look(l) => {
                            if !l.holds(hay, pos) {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::Save(slot) => {
                            let Some(s) = slots.get_mut(*slot) else { break };
                            stack.push(Frame::Restore { slot: *slot, old: *s });
                            *s = pos;
                            pc += 1;
                        }
                        Inst::Split(a, b) => {
                            stack.push(Frame::Try { pc: *b, pos });
                            pc = *a;
                        }
                        Inst::Jmp(t) => pc = *t,
                        Inst::LoopEnd { slot, head } => {
                            if slots.get(*slot) != Some(&pos) {
                                pc = *head;
                            } else {
                                pc += 1;
                            }
                        }
                        Inst::Backref(k) => {
                            let (a, b) = (slots.get(2 * k), slots.get(2 * k + 1));
                            let Some(sub) =
                                a.zip(b)
                                    .and_then(|(&a, &b)| if a == UNSET || b == UNSET { None } else { hay.get(a..b) })
                            else {
                                break;
                            };
                            if !hay.get(pos..).is_some_and(|rest| rest.starts_with(sub)) {
                                break;
                            }
                            pos += sub.len();
                            pc += 1;
                        }
                        Inst::Match => return Some(true),
                    }
                }
            }
            // Every Restore frame has been popped: the slots are all unset again.
        }
        Some(false)
    }

    /// Program size (instructions).
    pub fn len(&self) -> usize {
        self.prog.len()
    }

    /// Never true (a program ends with `Match`).
    pub fn is_empty(&self) -> bool {
        self.prog.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::ere::parse;

    fn bt(p: &str) -> Backtrack {
        Backtrack::new(&parse(p.as_bytes()).unwrap()).unwrap()
    }

    fn m(p: &str, s: &str) -> bool {
        bt(p).is_match(s.as_bytes()).unwrap()
    }

    #[test]
    fn backreferences() {
        let yes: &[(&str, &str)] = &[
            ("(a)\\1", "aa"),
            ("(a)\\1", "baab"),
            ("(a+)-\\1", "aaa-aa"),
            ("^(a+)-\\1$", "aa-aa"),
            ("(.)\\1", "xyzzy"),
            ("^(.*) \\1$", "foo bar foo bar"),
            ("(a|b)\\1", "ba bb"),
            ("()\\1", ""),
            ("(a*)\\1", ""),
            ("(a*)*\\1", ""),
            ("(a*)*\\1", "b"),
            ("(a*)+\\1", "b"),
            ("(a|b)*\\1", "abb"),
            ("((a)|b)*\\2", "aba"),
            ("(a)(b)\\2\\1", "abba"),
            ("(a)(b)(c)(d)(e)(f)(g)(h)(i)\\9", "abcdefghii"),
            ("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10", "abcdefghija0"),
            ("(a)\\1*", "a"),
            ("(a)\\1{2}", "aaa"),
            ("(ab|a)(bc|c)\\2", "abcc"),
            ("(ab|a)(bc|c)\\2", "abcbc"),
            ("\\<(\\w+) \\1\\>", "the the end"),
            ("(x)(y|\\1)", "xx"),
            ("^(a)\\1$|^b$", "b"),
            ("([[:digit:]]{2})-\\1", "12-12"),
            ("(\\w)\\1", "a__b"),
            ("((a)\\2)+", "aa"),
            ("(a)(\\1)\\2", "aaa"),
            ("(^a)\\1", "aa"),
        ];
        let no: &[(&str, &str)] = &[
            ("(a)\\1", "a"),
            ("(a)\\1", "aba"),
            ("^(a+)-\\1$", "aa-a"),
            ("^(a+)-\\1$", "a-aa"),
            ("(a|b)*\\1", "ab"),
            ("(a|b)*\\1", "aba"),
            ("(a|b)*\\1", ""),
            ("((a)|b)*\\2", "ba"),
            ("((a)|b)*\\2", "bab"),
            ("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10", "abcdefghij"),
            ("(a)\\1{2}", "aa"),
            ("(ab|a)(bc|c)\\2", "abc"),
            ("\\<(\\w+) \\1\\>", "the then"),
            ("(x)(y|\\1)", "xz"),
            ("(\\w)\\1", "ab"),
            ("(^a)\\1", "baa"),
            ("(a$)?b\\1", "b"),
            ("(a)?b\\1", "b"),
        ];
        for (p, s) in yes {
            assert!(m(p, s), "{p} should match {s:?}");
        }
        for (p, s) in no {
            assert!(!m(p, s), "{p} should not match {s:?}");
        }
    }

    #[test]
    fn budget_bounds_hostile_patterns() {
        // Exponential for a backtracker: each `a` can go to either group.
        let hostile = bt("^(a|a)*(a|a)*\\1b$");
        let line = vec![b'a'; 4000];
        let t = std::time::Instant::now();
        assert_eq!(hostile.is_match(&line), None);
        assert!(t.elapsed() < std::time::Duration::from_secs(2), "{:?}", t.elapsed());
        // Within a larger budget a small case is decided.
        assert_eq!(hostile.search(b"aaab", 0, STEP_BUDGET), Some(true));
        assert_eq!(bt("(a*)*\\1c").search(&line, 0, 10), None);
        assert_eq!(bt("x").search(b"abc", 0, 1000), Some(false));
        // A legitimate pattern on a long line stays well within the budget.
        let mut l = b"word ".to_vec();
        l.extend_from_slice(&[b'x'; 8000]);
        l.extend_from_slice(b" word");
        assert_eq!(bt("^(\\w+) .* \\1$").is_match(&l), Some(true));
        l.push(b's');
        assert_eq!(bt("^(\\w+) .* \\1$").is_match(&l), Some(false));
    }

    #[test]
    fn program_size_is_bounded() {
        assert!(Backtrack::new(&parse(b"a{32767}").unwrap()).is_ok());
        assert_eq!(Backtrack::new(&parse(b"(a{1000}){1000}").unwrap()).err(), Some(TooLarge));
        assert_eq!(Backtrack::new(&parse(b"(a{1000}){1000}\\1").unwrap()).err(), Some(TooLarge));
        assert!(bt("a{3,5}").len() > 5);
        assert!(!bt("").is_empty());
    }

    #[test]
    fn first_start_position() {
        let b = bt("(a)\\1");
        assert_eq!(b.search(b"aab", 0, STEP_BUDGET), Some(true));
        assert_eq!(b.search(b"aab", 1, STEP_BUDGET), Some(false));
        assert_eq!(b.search(b"aab", 3, STEP_BUDGET), Some(false));
        assert_eq!(b.search(b"aab", 9, STEP_BUDGET), Some(false));
    }

    /// A reference matcher with the same semantics, written independently as a set of
    /// (position, captures) states: exponential, for tiny inputs only.
    type Caps = Vec<Option<(usize, usize)>>;

    fn reference(e: &crate::log::ere::Ere, hay: &[u8]) -> bool {
        (0..=hay.len()).any(|start| !states(&e.node, hay, vec![(start, vec![None; e.groups as usize + 1])]).is_empty())
    }

    fn states(n: &Node, hay: &[u8], input: Vec<(usize, Caps)>) -> Vec<(usize, Caps)> {
        let mut out = Vec::new();
        for (pos, caps) in input {
            match n {
                Node::Lit(b) => {
                    if hay.get(pos) == Some(b) {
                        out.push((pos + 1, caps));
                    }
                }
                Node::Any => {
                    if hay.get(pos).is_some_and(|&b| b != b'\n') {
                        out.push((pos + 1, caps));
                    }
                }
                Node::Class { .. } => {
                    if hay.get(pos).is_some_and(|&b| n.class_contains(b)) {
                        out.push((pos + 1, caps));
                    }
                }
                Node::Look(l) => {
                    if l.holds(hay, pos) {
                        out.push((pos, caps));
                    }
                }
                Node::Group(k, inner) => {
                    for (p, mut c) in states(inner, hay, vec![(pos, caps)]) {
                        c[*k as usize] = Some((pos, p));
                        out.push((p, c));
                    }
                }
                Node::Concat(v) => {
                    let mut cur = vec![(pos, caps)];
                    for x in v {
                        cur = states(x, hay, cur);
                    }
                    out.extend(cur);
                }
                Node::Alt(v) => {
                    for x in v {
                        out.extend(states(x, hay, vec![(pos, caps.clone())]));
                    }
                }
                Node::Repeat { node, min, max, .. } => {
                    let mut cur = vec![(pos, caps)];
                    for _ in 0..*min {
                        cur = states(node, hay, cur);
                    }
                    match max {
                        Some(m) => {
                            out.extend(cur.clone());
                            for _ in *min..*m {
                                cur = states(node, hay, cur);
                                out.extend(cur.clone());
                            }
                        }
                        None => {
                            // Iterate; an empty iteration ends the loop.
                            while !cur.is_empty() {
                                out.extend(cur.clone());
                                let mut next = Vec::new();
                                for (p, c) in cur {
                                    for (p2, c2) in states(node, hay, vec![(p, c)]) {
                                        if p2 == p {
                                            out.push((p2, c2));
                                        } else {
                                            next.push((p2, c2));
                                        }
                                    }
                                }
                                cur = next;
                            }
                        }
                    }
                }
                Node::Backref(k) => {
                    if let Some(Some((a, b))) = caps.get(*k as usize) {
                        let sub = &hay[*a..*b];
                        if hay[pos..].starts_with(sub) {
                            out.push((pos + sub.len(), caps));
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// A random pattern over {a, b} (with groups, repetitions, alternation, anchors, classes
    /// and, if `refs`, back-references to earlier groups).
    fn gen(r: &mut Rng, depth: u32, groups: &mut u32, refs: bool) -> String {
        let mut s = String::new();
        for _ in 0..1 + r.below(if depth == 0 { 3 } else { 2 }) {
            let atom = match r.below(if depth >= 2 { 6 } else { 9 }) {
                0 => "a".to_string(),
                1 => "b".to_string(),
                2 => [".", "[ab]", "[^a]", "\\w", "[[:alpha:]]"][r.below(5) as usize].to_string(),
                3 => ["^", "$", "\\b", "\\B", "\\<", "\\>"][r.below(6) as usize].to_string(),
                4 if refs && *groups > 0 => format!("\\{}", 1 + r.below(*groups as u64)),
                5 => "a".to_string(),
                _ => {
                    let inner = gen(r, depth + 1, groups, refs);
                    let alt =
                        if r.below(3) == 0 { format!("|{}", gen(r, depth + 1, groups, refs)) } else { String::new() };
                    *groups += 1;
                    format!("({inner}{alt})")
                }
            };
            let anchor = atom.starts_with('^')
                || atom.starts_with('$')
                || atom.starts_with("\\b")
                || atom.starts_with("\\B")
                || atom.starts_with("\\<")
                || atom.starts_with("\\>");
            s.push_str(&atom);
            if !anchor {
                s.push_str(["", "", "", "*", "+", "?", "{2}", "{1,2}", "{0,}", "{,1}"][r.below(10) as usize]);
            }
        }
        s
    }

    fn strings(max: usize) -> Vec<Vec<u8>> {
        let mut all = vec![Vec::new()];
        let mut layer = vec![Vec::new()];
        for _ in 0..max {
            let mut next = Vec::new();
            for s in &layer {
                for c in [b'a', b'b', b' '] {
                    let mut t: Vec<u8> = s.clone();
                    t.push(c);
                    next.push(t);
                }
            }
            all.extend(next.iter().cloned());
            layer = next;
        }
        all
    }

    #[test]
    fn agrees_with_the_reference_on_every_short_string() {
        let hays = strings(4);
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let mut checked = 0;
        for _ in 0..400 {
            let mut groups = 0;
            let p = gen(&mut r, 0, &mut groups, true);
            // A generated back-reference may be invalid (to an open group, another alternative).
            let Ok(e) = parse(p.as_bytes()) else { continue };
            let b = Backtrack::new(&e).unwrap();
            for h in &hays {
                if let Some(got) = b.search(h, 0, 100_000) {
                    assert_eq!(got, reference(&e, h), "{p} on {:?}", String::from_utf8_lossy(h));
                }
            }
            checked += 1;
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn agrees_with_the_regex_crate_without_backreferences() {
        // Without back-references the two matchers must agree exactly.
        let hays = strings(5);
        let mut r = Rng(0x1234_5678_9abc_def1);
        for _ in 0..250 {
            let mut groups = 0;
            let p = gen(&mut r, 0, &mut groups, false);
            let e = parse(p.as_bytes()).unwrap();
            let re = regex::bytes::RegexBuilder::new(&e.to_regex()).unicode(false).build().unwrap();
            let b = Backtrack::new(&e).unwrap();
            for h in &hays {
                if let Some(got) = b.search(h, 0, 100_000) {
                    assert_eq!(got, re.is_match(h), "{p} on {:?}", String::from_utf8_lossy(h));
                }
            }
        }
    }

    #[test]
    fn prefilter_contains_the_backreference_language() {
        // Every string the backtracker accepts, the prefilter accepts too, and the backtracker
        // never matches before the prefilter's leftmost start.
        let hays = strings(4);
        let mut r = Rng(0x0bad_cafe_f00d_d00d);
        for _ in 0..200 {
            let mut groups = 0;
            let p = gen(&mut r, 0, &mut groups, true);
            let Ok(e) = parse(p.as_bytes()) else { continue };
            let re = regex::bytes::RegexBuilder::new(&e.to_regex()).unicode(false).build().unwrap();
            let b = Backtrack::new(&e).unwrap();
            for h in &hays {
                let Some(full) = b.search(h, 0, 100_000) else { continue };
                match re.find(h) {
                    None => assert!(!full, "{p} / {} on {:?}", e.to_regex(), String::from_utf8_lossy(h)),
                    Some(f) => assert_eq!(
                        b.search(h, f.start(), 100_000),
                        Some(full),
                        "{p} on {:?}",
                        String::from_utf8_lossy(h)
                    ),
                }
            }
        }
    }
}
