//! s6-log's pure logic: command line and script language ([`script`]), POSIX ERE parsing and
//! translation for the `regex` crate ([`ere`]), a bounded backtracking matcher for
//! back-references ([`backtrack`]), input framing ([`lines`]), output records ([`format`]), and
//! logdir decisions — rotation, archive names, pruning, recovery ([`logdir`]).
//!
//! Everything here is deterministic; the program `s6-log` does the I/O.

pub mod backtrack;
pub mod ere;
pub mod format;
pub mod lines;
pub mod logdir;
pub mod script;
