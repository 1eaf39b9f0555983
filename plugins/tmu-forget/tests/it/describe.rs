//! Self-description: the stages and their ports, every example deserializes into its config,
//! every config field is documented, has a default and is closed to unknown fields; the defaults
//! are the method spec's and the Bad-Teacher authors'.

use tmu_forget::{
    BadTeacherConfig, FinetuneConfig, ForgetBadTeacher, ForgetFinetune, ForgetNegGrad, ForgetRandomLabel, ForgetTmu,
    NegGradConfig, RandomLabelConfig, TmuConfig,
};
use tmu_test_support::{check_examples, check_stage_configs, config};

#[test]
fn every_example_deserializes() {
    check_examples::<ForgetTmu>();
    check_examples::<ForgetFinetune>();
    check_examples::<ForgetNegGrad>();
    check_examples::<ForgetRandomLabel>();
    check_examples::<ForgetBadTeacher>();
}

#[test]
fn every_field_is_documented_defaulted_and_closed() {
    let d = check_stage_configs(
        tmu_forget::tmu_plugin(),
        &["forget.tmu", "forget.finetune", "forget.neggrad", "forget.random-label", "forget.bad-teacher"],
    );
    for s in &d.stages {
        let outputs: Vec<&str> = s.outputs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(outputs, ["model", "metrics"], "{}", s.kind);
    }
    let tmu = &d.stages[0];
    let inputs: Vec<&str> = tmu.inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(inputs, ["model", "retain", "forget", "labels"]);
    assert_eq!(tmu.config_schema["properties"]["hard"]["default"], "random-label");
}

#[test]
fn defaults_are_the_documented_ones() {
    let tmu: TmuConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!(tmu, TmuConfig::default());
    assert_eq!(
        (tmu.epochs, tmu.lr, tmu.momentum, tmu.weight_decay, tmu.batch_size, tmu.noise_std, tmu.ascent_weight),
        (5, 0.01, 0.9, 5e-4, 64, 0.1, 1.0)
    );
    let ft: FinetuneConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!((ft.epochs, ft.lr, ft.momentum, ft.weight_decay, ft.batch_size), (5, 0.01, 0.9, 5e-4, 64));
    let ng: NegGradConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!((ng.epochs, ng.lr, ng.alpha), (5, 0.01, 1.0));
    let rl: RandomLabelConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!((rl.epochs, rl.lr, rl.batch_size), (5, 0.01, 64));
    let bt: BadTeacherConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!((bt.epochs, bt.lr, bt.batch_size, bt.temperature, bt.retain_fraction), (1, 1e-4, 256, 1.0, 0.3));
}
