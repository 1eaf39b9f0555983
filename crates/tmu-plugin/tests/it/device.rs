//! Asking a build without the `cuda` feature for a cuda device: one error that says what is
//! missing and how to build it (runs when the `candle` feature is on, as in the workspace tests).

#[cfg(all(feature = "candle", not(feature = "cuda")))]
#[test]
fn cuda_in_a_build_without_cuda_says_how_to_build_it() {
    use tmu_plugin::{DeviceSpec, Help, candle_device};
    for spec in [DeviceSpec::Cuda(0), DeviceSpec::Cuda(1)] {
        let err = candle_device(spec).expect_err("no cuda in this build");
        let help = err.downcast_ref::<Help>().expect("the error carries advice");
        assert_eq!(help.message, format!("device {spec} was requested but this plugin was built without CUDA"));
        assert!(help.help.contains("--features cuda"), "{}", help.help);
        assert!(help.help.contains("scripts/cuda-cargo.sh"), "{}", help.help);
        assert!(help.help.contains("device = \"cpu\""), "{}", help.help);
    }
    // `auto` falls back to the CPU instead of failing.
    assert!(candle_device(DeviceSpec::Auto).unwrap().is_cpu());
}
