//! The stage `split.forget`.

use anyhow::Context as _;
use tmu_plugin::artifact::Dataset;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use super::config::ForgetConfig;
use super::select::plan;
use crate::output::write_output;

/// The stage `split.forget`.
#[derive(Debug)]
pub struct SplitForget;

impl Stage for SplitForget {
    const KIND: &'static str = "split.forget";
    type Config = ForgetConfig;

    fn signature() -> Signature {
        Signature::new(
            "carves the forget problem out of a training set: members (D_train) and a stratified hold-out \
             the original model never sees, the forget set D_f by strategy, and its twin D_test from the hold-out",
        )
        .input("data", ArtifactKind::Dataset, "the training data to split")
        .output("members", ArtifactKind::Dataset, "D_train: what the original model is trained on (retain + forget)")
        .output("retain", ArtifactKind::Dataset, "D_r: members minus the forget set")
        .output("forget", ArtifactKind::Dataset, "D_f: the samples to forget")
        .output(
            "twin_forget",
            ArtifactKind::Dataset,
            "D_test: hold-out samples i.i.d. with D_f (the forget class's, or class-matched for `random`)",
        )
        .output(
            "population",
            ArtifactKind::Dataset,
            "the whole hold-out: non-members for membership inference",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the paper's default: 10% of class 3, a 25% hold-out", "class = 3"),
            Example::new(
                "100 images of the class named `cat`",
                "strategy = \"class-count\"\nclass = \"cat\"\ncount = 100",
            ),
            Example::new("1% of all members, across classes", "strategy = \"random\"\nfraction = 0.01"),
            Example::new("a whole class", "strategy = \"class\"\nclass = 0\nholdout = 0.2"),
            Example::new(
                "CIFAR-100 Super20: the fine class `maple_tree` inside its superclass",
                "strategy = \"sub-class\"\nsub_class = \"maple_tree\"",
            ),
            Example::new(
                "half the images of one VGGFace2 identity",
                "strategy = \"identity\"\nclass = \"n000002\"\nfraction = 0.5",
            ),
        ]
    }

    fn preflight(config: &ForgetConfig) -> anyhow::Result<()> {
        config.check_fields()
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: ForgetConfig) -> anyhow::Result<()> {
        let input = inputs.path("data")?;
        let data =
            Dataset::read(input).with_context(|| format!("reading input `data` of stage `{}`", ctx.stage_name()))?;
        let strategy = config.check(&data)?;
        let p = plan(&data, &strategy, config.holdout, ctx.seed_for("split"), ctx.seed_for("forget"))?;
        let parts = [
            ("members", &p.members),
            ("retain", &p.retain),
            ("forget", &p.forget),
            ("twin_forget", &p.twin_forget),
            ("population", &p.population),
        ];
        for (k, (port, indices)) in parts.iter().enumerate() {
            ctx.check_cancelled()?;
            ctx.progress(k as u64, parts.len() as u64, format!("writing {port}"));
            write_output(ctx, port, &data.subset(indices))?;
        }
        ctx.summary("strategy", config.strategy.as_str());
        Ok(())
    }
}
