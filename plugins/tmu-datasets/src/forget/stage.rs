//! The stage `split.forget`.

use anyhow::Context as _;
use tmu_plugin::artifact::Dataset;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use super::config::{ForgetConfig, Strategy};
use super::listed::resolve_list;
use super::select::{plan, plan_listed};
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
        .optional_input(
            "holdout",
            ArtifactKind::Dataset,
            "with `ids`/`files`: data the model never saw (same classes and image shape), replacing the carved \
             hold-out; every `data` sample is then a member",
        )
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
            Example::new(
                "a deletion request as image paths relative to the image folder (`cat/0007.jpg`), one a line",
                "strategy = \"files\"\nlist = \"forget.txt\"",
            ),
            Example::new(
                "a deletion request as sample ids, one a line",
                "strategy = \"ids\"\nlist = \"forget_ids.txt\"",
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
        let holdout = match inputs.optional_path("holdout")? {
            None => None,
            Some(path) => {
                if !matches!(strategy, Strategy::Listed { .. }) {
                    anyhow::bail!(
                        "the `holdout` input is for strategies `ids` and `files` (a model trained outside tmu); \
                         `{}` carves its hold-out from `data`",
                        config.strategy.as_str()
                    );
                }
                let h = Dataset::read(path)
                    .with_context(|| format!("reading input `holdout` of `{}`", ctx.stage_name()))?;
                if h.meta.classes != data.meta.classes || h.shape[1..] != data.shape[1..] {
                    anyhow::bail!(
                        "the `holdout` data ({:?}, classes {:?}) does not match `data` ({:?}, classes {:?})",
                        &h.shape[1..],
                        h.meta.classes,
                        &data.shape[1..],
                        data.meta.classes
                    );
                }
                // Downstream stages join samples by id: a hold-out read by its own data set stage
                // numbers from 0 as `data` does, so its ids move past `data`'s.
                let mut h = h;
                let taken: std::collections::HashSet<u64> = data.ids.iter().copied().collect();
                if h.ids.iter().any(|id| taken.contains(id)) {
                    let offset = data.ids.iter().max().map_or(0, |m| m + 1);
                    h.ids.iter_mut().for_each(|id| *id += offset);
                    h.meta.files.clear();
                    ctx.summary("holdout_id_offset", offset);
                }
                Some(h)
            }
        };
        let (split_seed, forget_seed) = (ctx.seed_for("split"), ctx.seed_for("forget"));
        let p = match &strategy {
            Strategy::Listed { files, list } => {
                let forget = resolve_list(&data, list, *files)?;
                plan_listed(&data, forget, holdout.as_ref(), config.holdout, split_seed, forget_seed)?
            }
            _ => plan(&data, &strategy, config.holdout, split_seed, forget_seed)?,
        };
        let outside = holdout.as_ref().unwrap_or(&data);
        let parts = [
            ("members", &data, &p.members),
            ("retain", &data, &p.retain),
            ("forget", &data, &p.forget),
            ("twin_forget", outside, &p.twin_forget),
            ("population", outside, &p.population),
        ];
        for (k, (port, source, indices)) in parts.iter().enumerate() {
            ctx.check_cancelled()?;
            ctx.progress(k as u64, parts.len() as u64, format!("writing {port}"));
            write_output(ctx, port, &source.subset(indices))?;
        }
        ctx.summary("forget", p.forget.len());
        ctx.summary("strategy", config.strategy.as_str());
        Ok(())
    }
}
