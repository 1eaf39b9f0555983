//! Self-description: the stages and their ports, every example deserializes into its config,
//! every config field is documented, has a default and is closed to unknown fields; the defaults
//! are the method spec's and the Bad-Teacher authors'.

use tmu_forget::{
    BadTeacherConfig, CtConfig, FinetuneConfig, ForgetBadTeacher, ForgetCt, ForgetFinetune, ForgetL1Sparse, ForgetMsg,
    ForgetNegGrad, ForgetNegGradPlus, ForgetRandomLabel, ForgetSalun, ForgetScrub, ForgetSsd, ForgetTmu,
    L1SparseConfig, MsgConfig, NegGradConfig, NegGradPlusConfig, RandomLabelConfig, SalunConfig, ScrubConfig,
    SsdConfig, TmuConfig,
};
use tmu_test_support::{check_examples, check_stage_configs, config};

#[test]
fn every_example_deserializes() {
    check_examples::<ForgetTmu>();
    check_examples::<ForgetFinetune>();
    check_examples::<ForgetNegGrad>();
    check_examples::<ForgetRandomLabel>();
    check_examples::<ForgetBadTeacher>();
    check_examples::<ForgetNegGradPlus>();
    check_examples::<ForgetScrub>();
    check_examples::<ForgetSalun>();
    check_examples::<ForgetL1Sparse>();
    check_examples::<ForgetSsd>();
    check_examples::<ForgetMsg>();
    check_examples::<ForgetCt>();
}

#[test]
fn every_field_is_documented_defaulted_and_closed() {
    let d = check_stage_configs(tmu_forget::tmu_plugin(), &crate::common::KINDS);
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
    assert_eq!(ng.bound, tmu_forget::losses::AscentBound::None, "the baseline's unbounded ascent");
    let bt: BadTeacherConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!((bt.epochs, bt.lr, bt.batch_size, bt.temperature, bt.retain_fraction), (10, 1e-4, 32, 1.0, 0.3));
    // NegGrad+: the RUM code's optimizer and length, DeepUnlearn's alpha.
    let np: NegGradPlusConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!(
        (np.epochs, np.lr, np.momentum, np.weight_decay, np.batch_size, np.alpha),
        (5, 0.01, 0.9, 5e-4, 256, 0.95)
    );
    // SCRUB: the small-scale notebook.
    let sc: ScrubConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!((sc.epochs, sc.msteps, sc.lr, sc.weight_decay, sc.temperature), (10, 3, 5e-4, 0.1, 2.0));
    assert_eq!((sc.gamma, sc.beta, sc.lr_decay_epochs.clone(), sc.lr_decay_rate), (1.0, 0.5, vec![5, 8, 9], 0.1));
    assert_eq!((sc.retain_batch_size, sc.forget_batch_size), (32, 64));
    // SalUn: the repository's CIFAR-10 example.
    let sa: SalunConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!(
        (sa.epochs, sa.lr, sa.momentum, sa.weight_decay, sa.batch_size, sa.mask_fraction),
        (10, 0.013, 0.9, 5e-4, 256, 0.5)
    );
    // l1-sparse: the repository's optimizer, the paper's alpha.
    let l1: L1SparseConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!(
        (l1.epochs, l1.lr, l1.momentum, l1.weight_decay, l1.batch_size, l1.alpha),
        (10, 0.01, 0.9, 5e-4, 256, 5e-4)
    );
    // SSD: lambda 1, alpha 10.
    let ssd: SsdConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!((ssd.lambda, ssd.alpha, ssd.batch_size), (1.0, 10.0, 64));
    // MSG and CT: DeepUnlearn's kgltop2 and kgltop5.
    let msg: MsgConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!((msg.epochs, msg.lr, msg.momentum, msg.weight_decay, msg.batch_size), (5, 0.001, 0.9, 5e-4, 64));
    assert_eq!((msg.init_rate, msg.kept_gradient, msg.layers), (0.3, 0.1, tmu_forget::msg::MaskedLayers::Conv));
    let ct: CtConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!((ct.epochs, ct.lr, ct.momentum, ct.weight_decay, ct.batch_size), (3, 0.001, 0.9, 5e-4, 64));
}
