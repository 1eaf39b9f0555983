//! The stage `split.shadow`: one shadow model's half of the members, for membership-inference
//! ensembles. A seeded keep-mask over the members of a `split.forget` (recorded as output
//! `keep`) picks the shadow's training set; the shadow's forget set is the part of D_f it keeps,
//! so across shadows every sample of D_f is seen-then-forgotten by some models and never seen
//! by the others.

use std::collections::HashSet;

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::{Dataset, Labels};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::output::write_output;
use crate::rng::Rng;
use crate::split::stratified;

/// Config of `split.shadow`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ShadowConfig {
    /// The shadow's number in its ensemble: its keep-mask is drawn from the stage seed's stream
    /// `shadow/<index>`, so every index gets its own half (a sweep axis binds it).
    #[schemars(range(min = 0, max = 1000000))]
    pub index: u32,
    /// Fraction of the members the shadow keeps, drawn separately (and rounded) among D_f and
    /// among the other members, so every shadow forgets as many samples.
    #[schemars(range(min = 0.05, max = 0.95))]
    pub keep: f64,
}

impl Default for ShadowConfig {
    fn default() -> Self {
        ShadowConfig { index: 0, keep: 0.5 }
    }
}

/// The stage `split.shadow`.
#[derive(Debug)]
pub struct SplitShadow;

/// Indices into `members` of the kept samples, ascending: `keep` of the D_f samples (`in_forget`)
/// and `keep` of the others, from `rng`.
pub fn keep_mask(in_forget: &[bool], keep: f64, rng: &mut Rng) -> Vec<usize> {
    let strata: Vec<u32> = in_forget.iter().map(|&f| u32::from(f)).collect();
    stratified(&strata, keep, rng).1
}

impl Stage for SplitShadow {
    const KIND: &'static str = "split.shadow";
    type Config = ShadowConfig;

    fn signature() -> Signature {
        Signature::new(
            "one shadow model's random half of the members (a seeded keep-mask, recorded), its retain set and \
             the part of D_f it keeps: an ensemble of shadows trains on each sample of D_f in some models only",
        )
        .input("members", ArtifactKind::Dataset, "the members (D_train) of a `split.forget`")
        .input("forget", ArtifactKind::Dataset, "that split's D_f: every sample must be a member")
        .output("members", ArtifactKind::Dataset, "the shadow's training set: the kept members")
        .output("retain", ArtifactKind::Dataset, "the shadow's D_r: kept members outside D_f")
        .output("forget", ArtifactKind::Dataset, "the shadow's D_f: the kept samples of D_f")
        .output("keep", ArtifactKind::Labels, "the keep-mask over the input members, by sample id (1 = kept)")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("shadow 0 of an ensemble: half of the members", "index = 0"),
            Example::new("a shadow that keeps 80% of the members", "index = 3\nkeep = 0.8"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: ShadowConfig) -> anyhow::Result<()> {
        let read = |port: &str| -> anyhow::Result<Dataset> {
            let path = inputs.path(port)?;
            Dataset::read(path).with_context(|| format!("reading input `{port}` ({})", path.display()))
        };
        let (members, forget) = (read("members")?, read("forget")?);
        let forget_ids: HashSet<u64> = forget.ids.iter().copied().collect();
        let in_forget: Vec<bool> = members.ids.iter().map(|id| forget_ids.contains(id)).collect();
        let found = in_forget.iter().filter(|f| **f).count();
        anyhow::ensure!(
            found == forget.len(),
            "{} of the {} samples of input `forget` are not among input `members`: connect the members and D_f of one split",
            forget.len() - found,
            forget.len()
        );
        let kept = keep_mask(&in_forget, config.keep, &mut Rng::new(ctx.seed_for(&format!("shadow/{}", config.index))));
        let retain: Vec<usize> = kept.iter().copied().filter(|&i| !in_forget[i]).collect();
        let forgotten: Vec<usize> = kept.iter().copied().filter(|&i| in_forget[i]).collect();
        anyhow::ensure!(!forgotten.is_empty(), "the shadow keeps none of D_f's {} samples: raise `keep`", forget.len());
        let mut mask = vec![0u32; members.len()];
        for &i in &kept {
            mask[i] = 1;
        }
        write_output(ctx, "members", &members.subset(&kept))?;
        write_output(ctx, "retain", &members.subset(&retain))?;
        write_output(ctx, "forget", &members.subset(&forgotten))?;
        let labels = Labels::new(mask, members.ids.clone(), vec!["out".into(), "in".into()])?;
        let path = ctx.output_path("keep");
        labels.write(&path).with_context(|| format!("writing output `keep` ({})", path.display()))?;
        ctx.summary("index", config.index);
        Ok(())
    }
}
