//! What merit's test crates share, in one file: the tests' one random generator, the fuzzers'
//! run settings and report rows. Included with `#[path]` by merit-core's unit tests (`deps`),
//! its fuzzer (`tests/fuzz.rs`) and merit-programs' integration tests (`tests/it/common`, which
//! `fuzz_programs` uses). Each adds the helpers it needs (`below`, `pick`..) in its own
//! `impl Rng`.
#![allow(dead_code)]

/// splitmix64: tiny, fast, good enough to drive mutations, and seekable by construction:
/// deterministic from its seed, so a failing random case can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The generator of case `index` of target `name` in a run seeded `seed`, so that one case
    /// replays alone (`MERIT_FUZZ_SEED`, `MERIT_FUZZ_ONLY`, `MERIT_FUZZ_INDEX`).
    pub fn for_case(seed: u64, name: &str, index: u64) -> Rng {
        // FNV-1a of the name.
        let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        let mut r = Rng(seed ^ h.rotate_left(17) ^ index.wrapping_mul(0xd6e8_feb8_6659_fd93));
        r.next();
        r
    }
}

/// A number from the environment, decimal or `0x` hexadecimal.
pub fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}

/// A fuzz run's seed: `MERIT_FUZZ_SEED`, else one from the clock and the pid.
pub fn fuzz_seed() -> u64 {
    env_u64("MERIT_FUZZ_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        now.as_nanos() as u64 ^ ((std::process::id() as u64) << 32)
    })
}

/// Writes a report row on the real stdout (past the capture of the test harness) and, when
/// MERIT_SUITE_REPORT names a file, appends it there in one write.
pub fn report_row(name: &str, figure: &str, limit: &str, pass: bool) {
    use std::io::Write;
    let line = format!("SUITE\tfuzz/{name}\t{figure}\t{limit}\t{}\n", if pass { "pass" } else { "fail" });
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
    if let Ok(path) = std::env::var("MERIT_SUITE_REPORT") {
        if !path.is_empty() {
            if let Ok(mut f) = std::fs::OpenOptions::new().append(true).create(true).open(&path) {
                let _ = f.write_all(line.as_bytes());
            }
        }
    }
}
