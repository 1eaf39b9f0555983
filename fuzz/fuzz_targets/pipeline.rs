//! cargo-fuzz target `pipeline`: libFuzzer's bytes to `tmu_fuzz::targets::pipeline`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tmu_fuzz::targets::pipeline(data));
