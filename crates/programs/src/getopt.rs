//! Option parsing exactly like skalibs' `subgetopt_r` (what every s6 program uses).
//!
//! * Parsing stops at the first argument that does not start with `-`, at a lone `-` (which is
//!   an operand), or after `--` (which is consumed). `--foo` is not special: `-` is then looked up
//!   as an option letter (and is unknown).
//! * Letters can be grouped (`-du`). A letter followed by `:` in the spec takes an argument: the
//!   rest of the same word (`-T100`) or else the next word (`-T 100`); missing → error.
//! * No permutation: options after the first operand are operands.

/// One parsed option.
#[derive(Debug, PartialEq, Eq)]
pub enum Opt<'a> {
    /// A known letter, with its argument if the spec says it takes one.
    Letter(u8, Option<&'a [u8]>),
    /// An unknown letter, or a known one whose argument is missing: the caller prints usage.
    Bad(u8),
}

/// Iterator over the options of `args` (which excludes `argv[0]`).
pub struct Getopt<'a> {
    args: &'a [Vec<u8>],
    spec: &'a [u8],
    ind: usize,
    pos: usize,
}

impl<'a> Getopt<'a> {
    /// `spec` as in C: letters, each optionally followed by `:`.
    pub fn new(args: &'a [Vec<u8>], spec: &'a [u8]) -> Getopt<'a> {
        Getopt { args, spec, ind: 0, pos: 0 }
    }

    /// The operands: what remains after the options (valid once `next` returned `None`).
    pub fn rest(&self) -> &'a [Vec<u8>] {
        &self.args[self.ind.min(self.args.len())..]
    }

    fn takes_arg(&self, c: u8) -> Option<bool> {
        let s = self.spec;
        let mut i = 0;
        while i < s.len() {
            let takes = s.get(i + 1) == Some(&b':');
            if s[i] == c {
                return Some(takes);
            }
            i += if takes { 2 } else { 1 };
        }
        None
    }
}

impl<'a> Iterator for Getopt<'a> {
    type Item = Opt<'a>;

    fn next(&mut self) -> Option<Opt<'a>> {
        let args = self.args;
        if self.ind >= args.len() {
            return None;
        }
        if self.pos > 0 && self.pos >= args[self.ind].len() {
            self.ind += 1;
            self.pos = 0;
            if self.ind >= args.len() {
                return None;
            }
        }
        if self.pos == 0 {
            let a = &args[self.ind];
            if a.first() != Some(&b'-') || a.len() == 1 {
                return None;
            }
            if a.as_slice() == b"--" {
                self.ind += 1;
                return None;
            }
            self.pos = 1;
        }
        let word = &args[self.ind];
        let c = word[self.pos];
        self.pos += 1;
        match self.takes_arg(c) {
            None => Some(Opt::Bad(c)),
            Some(false) => Some(Opt::Letter(c, None)),
            Some(true) => {
                let inline = &word[self.pos..];
                self.ind += 1;
                self.pos = 0;
                if !inline.is_empty() {
                    return Some(Opt::Letter(c, Some(inline)));
                }
                match args.get(self.ind) {
                    Some(next) => {
                        self.ind += 1;
                        Some(Opt::Letter(c, Some(next.as_slice())))
                    }
                    None => Some(Opt::Bad(c)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<Vec<u8>> {
        a.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn parse(a: &[&str], spec: &str) -> (Vec<String>, Vec<String>) {
        let args = v(a);
        let mut g = Getopt::new(&args, spec.as_bytes());
        let mut out = Vec::new();
        for o in g.by_ref() {
            out.push(match o {
                Opt::Letter(c, None) => format!("{}", c as char),
                Opt::Letter(c, Some(x)) => format!("{}={}", c as char, String::from_utf8_lossy(x)),
                Opt::Bad(c) => format!("?{}", c as char),
            });
        }
        let rest = g.rest().iter().map(|r| String::from_utf8_lossy(r).into_owned()).collect();
        (out, rest)
    }

    #[test]
    fn grouping_and_args() {
        assert_eq!(
            parse(&["-du", "-T100", "x"], "duT:"),
            (vec!["d".into(), "u".into(), "T=100".into()], vec!["x".into()])
        );
        assert_eq!(
            parse(&["-dT", "5", "x", "-u"], "duT:"),
            (vec!["d".into(), "T=5".into()], vec!["x".into(), "-u".into()])
        );
        assert_eq!(parse(&["-T"], "T:"), (vec!["?T".into()], vec![]));
    }

    #[test]
    fn terminators() {
        assert_eq!(parse(&["--", "-d"], "d"), (vec![], vec!["-d".into()]));
        assert_eq!(parse(&["-", "a"], "d"), (vec![], vec!["-".into(), "a".into()]));
        assert_eq!(parse(&["--foo", "a"], "d").0[0], "?-");
        assert_eq!(parse(&["-d", "--", "--", "a"], "d"), (vec!["d".into()], vec!["--".into(), "a".into()]));
        assert_eq!(parse(&["-:"], "T:").0, vec!["?:".to_string()]);
    }
}
