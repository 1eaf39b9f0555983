//! cargo-fuzz target `cifar_binary`: libFuzzer's bytes to `tmu_fuzz::targets::cifar_binary`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tmu_fuzz::targets::cifar_binary(data));
