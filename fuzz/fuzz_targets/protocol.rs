//! cargo-fuzz target `protocol`: libFuzzer's bytes to `tmu_fuzz::targets::protocol`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tmu_fuzz::targets::protocol(data));
