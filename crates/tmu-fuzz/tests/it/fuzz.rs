//! The bounded fuzzing run of CI: every target on its seeds and on a fixed number of mutated
//! inputs (`TMU_FUZZ_INPUTS`, default 1500 per target), deterministic for a given count. A
//! crash names the file its input was written to.

use std::path::Path;

use tmu_fuzz::{TARGETS, driver};

fn inputs() -> usize {
    std::env::var("TMU_FUZZ_INPUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1500)
}

fn check(name: &str) {
    let (_, f) = TARGETS.iter().find(|(n, _)| *n == name).expect("a target of that name");
    let crash_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
    let outcome = driver::run(name, *f, inputs(), 0x7e5_u64, &crash_dir);
    let report: Vec<String> = outcome
        .crashes
        .iter()
        .map(|c| format!("{}: {} (input in {})", c.target, c.message, c.input.display()))
        .collect();
    assert!(report.is_empty(), "{} of {} inputs crashed:\n{}", report.len(), outcome.inputs, report.join("\n"));
}

#[test]
fn pipeline() {
    check("pipeline");
}

#[test]
fn artifact() {
    check("artifact");
}

#[test]
fn cifar_binary() {
    check("cifar_binary");
}

#[test]
fn cifar_pickle() {
    check("cifar_pickle");
}

#[test]
fn image() {
    check("image");
}

#[test]
fn protocol() {
    check("protocol");
}

#[test]
fn every_target_has_a_test_and_seeds() {
    let this = include_str!("fuzz.rs");
    for (name, _) in TARGETS {
        assert!(this.contains(&format!("check(\"{name}\")")), "target `{name}` is not run here");
        assert!(!tmu_fuzz::seeds::seeds(name).is_empty(), "target `{name}` has no seeds");
    }
}
