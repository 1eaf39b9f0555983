//! A bounded fuzzing run without a coverage-guided engine: every seed, then a fixed number of
//! mutated inputs, each under `catch_unwind`. A panicking input is written to a file so that
//! `cargo fuzz run <target> <file>` (or a test) can replay it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::mutate::Mutator;
use crate::seeds::{dictionary, seeds};

/// An input that made a target panic.
#[derive(Debug)]
pub struct Crash {
    pub target: String,
    /// Where the input was written.
    pub input: PathBuf,
    pub message: String,
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    pub seeds: usize,
    pub inputs: usize,
    pub crashes: Vec<Crash>,
}

/// Runs `target` on its seeds and `mutations` mutated inputs (mutation seed `seed`); panicking
/// inputs are written into `crash_dir`.
pub fn run(target: &str, f: fn(&[u8]), mutations: usize, seed: u64, crash_dir: &Path) -> Outcome {
    let corpus = seeds(target);
    assert!(!corpus.is_empty(), "target `{target}` has no seeds");
    let max_len = corpus.iter().map(Vec::len).max().unwrap_or(0) * 2 + 64;
    let mut mutator = Mutator::new(seed, dictionary(target), max_len);
    let mut crashes = Vec::new();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut try_input = |data: &[u8]| {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(data))) {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(a non-text panic)".into());
            let _ = std::fs::create_dir_all(crash_dir);
            let input = crash_dir.join(format!("{target}-{}", blake3::hash(data).to_hex()));
            let _ = std::fs::write(&input, data);
            crashes.push(Crash { target: target.to_string(), input, message });
        }
    };
    for s in &corpus {
        try_input(s);
    }
    for i in 0..mutations {
        let base = &corpus[i % corpus.len()];
        let other = &corpus[(i * 7 + 3) % corpus.len()];
        let input = mutator.mutate(base, other);
        try_input(&input);
    }
    std::panic::set_hook(previous);
    Outcome { seeds: corpus.len(), inputs: corpus.len() + mutations, crashes }
}
