//! `features.join`: several feature artifacts of the same samples -> one, columns side by side
//! (rows matched by sample id), so that one port can carry DF, AF and CF together.

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::Features;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

/// `features.join` config (none).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeaturesJoinConfig {}

pub struct FeaturesJoin;

impl Stage for FeaturesJoin {
    const KIND: &'static str = "features.join";
    type Config = FeaturesJoinConfig;

    fn signature() -> Signature {
        Signature::new("joins feature artifacts of the same samples into one (columns side by side, rows by sample id)")
            .list_input(
                "features",
                ArtifactKind::Features,
                "feature artifacts over the same sample ids, distinct column names",
            )
            .output("features", ArtifactKind::Features, "every column, in input order, rows in the first input's order")
    }

    fn examples() -> Vec<Example> {
        vec![Example::new("DF, AF and CF of the twin set in one artifact", "")]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, _config: FeaturesJoinConfig) -> anyhow::Result<()> {
        ctx.set_device_used("cpu");
        let parts: Vec<Features> = inputs
            .list("features")?
            .iter()
            .map(|a| Features::read(&a.path).with_context(|| format!("reading `{}` ({})", a.source, a.path.display())))
            .collect::<anyhow::Result<_>>()?;
        let refs: Vec<&Features> = parts.iter().collect();
        let joined = Features::join(&refs).context("joining input `features`")?;
        let out = ctx.output_path("features");
        joined.write(&out).with_context(|| format!("writing {}", out.display()))?;
        ctx.summary("samples", joined.rows());
        ctx.summary("columns", joined.names.join(","));
        Ok(())
    }
}
