//! cargo-fuzz target `cifar_pickle`: libFuzzer's bytes to `tmu_fuzz::targets::cifar_pickle`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tmu_fuzz::targets::cifar_pickle(data));
