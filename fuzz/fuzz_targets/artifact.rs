//! cargo-fuzz target `artifact`: libFuzzer's bytes to `tmu_fuzz::targets::artifact`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tmu_fuzz::targets::artifact(data));
