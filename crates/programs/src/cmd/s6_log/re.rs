//! The selections' regexes (`+RE`, `-RE`): POSIX EREs run by the `regex` crate, or by the
//! bounded backtracker when the crate cannot (see the module documentation).

use super::Env;
use merit_core::log::backtrack::{self, Backtrack};

/// A compiled selection.
#[derive(Debug)]
pub(super) enum Re {
    /// The `regex` crate, on the translated pattern (every pattern without back-references).
    Fast(regex::bytes::Regex),
    /// The bounded backtracker (back-references, or a pattern too large for the crate).
    Slow(Box<SlowRe>),
}

#[derive(Debug)]
pub(super) struct SlowRe {
    /// A crate regex whose language contains the pattern's: lines it rejects cannot match,
    /// and a match starts no earlier than its leftmost match.
    pre: Option<regex::bytes::Regex>,
    bt: Backtrack,
    pattern: Vec<u8>,
    /// The "budget exceeded" warning was printed.
    warned: std::cell::Cell<bool>,
}

impl Re {
    pub(super) fn is_match(&self, line: &[u8], env: &Env) -> bool {
        match self {
            Re::Fast(r) => r.is_match(line),
            Re::Slow(s) => {
                let first = match &s.pre {
                    Some(p) => match p.find(line) {
                        Some(m) => m.start(),
                        None => return false,
                    },
                    None => 0,
                };
                match s.bt.search(line, first, backtrack::STEP_BUDGET) {
                    Some(m) => m,
                    None => {
                        if !s.warned.replace(true) {
                            env.warn(&[
                                b"regex ",
                                &s.pattern,
                                b": backtracking budget exceeded on a line, taken as not matching (warned once)",
                            ]);
                        }
                        false
                    }
                }
            }
        }
    }
}

/// Compiles a selection's pattern; `None` when it cannot be compiled.
pub(super) fn compile(re: &[u8]) -> Option<Re> {
    let ere = merit_core::log::ere::parse(re).ok()?;
    let crate_re = regex::bytes::RegexBuilder::new(&ere.to_regex()).unicode(false).build().ok();
    if !ere.backrefs {
        if let Some(r) = crate_re {
            return Some(Re::Fast(r));
        }
    }
    let bt = Backtrack::new(&ere).ok()?;
    Some(Re::Slow(Box::new(SlowRe { pre: crate_re, bt, pattern: re.to_vec(), warned: std::cell::Cell::new(false) })))
}
