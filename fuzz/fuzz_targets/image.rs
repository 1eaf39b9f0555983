//! cargo-fuzz target `image`: libFuzzer's bytes to `tmu_fuzz::targets::image`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tmu_fuzz::targets::image(data));
