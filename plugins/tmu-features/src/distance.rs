//! `features.distance` (DF): mean Euclidean distance from each sample's L2-normalised
//! penultimate feature to its k nearest reference samples of the same class.

use std::time::Instant;

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::predict;
use tmu_plugin::artifact::Dataset;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::common::{METRICS_OUTPUT, check_name, upload, write_feature, write_metrics_with_cost};
use crate::knn::{Embedding, KnnOptions, Pool, knn_mean_distance};
use tmu_nn::Cost;
use tmu_nn::{data_on_port, model_on_port};

/// Which reference samples may be a query's neighbours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Neighbours {
    /// Reference samples of the query's own class (the method: the retained samples of that
    /// class).
    #[default]
    SameClass,
    /// Every reference sample, whatever its class.
    AnyClass,
}

/// Config of `features.distance`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DistanceConfig {
    /// Number of nearest reference samples averaged. A class with fewer usable reference samples
    /// uses all it has (with a warning).
    #[schemars(range(min = 1, max = 10000))]
    pub k: usize,
    /// Which reference samples count as neighbours: `same-class` (the method) or `any-class`.
    pub neighbours: Neighbours,
    /// L2-normalise the penultimate features before measuring distances (the method).
    pub normalise: bool,
    /// Samples per forward pass when embedding.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// Name of the output feature column.
    pub name: String,
}

impl Default for DistanceConfig {
    fn default() -> Self {
        DistanceConfig {
            k: 5,
            neighbours: Neighbours::default(),
            normalise: true,
            batch_size: 256,
            name: "df".to_string(),
        }
    }
}

/// The stage `features.distance`.
#[derive(Debug)]
pub struct DistanceFeature;

impl Stage for DistanceFeature {
    const KIND: &'static str = "features.distance";
    type Config = DistanceConfig;

    fn signature() -> Signature {
        Signature::new(
            "DF, the distance feature: the mean Euclidean distance from each sample's L2-normalised \
             penultimate feature (after global pooling, eval mode) to its k nearest reference samples \
             of the same class, both embedded by the same model. A query whose id is also in the \
             reference set is never its own neighbour.",
        )
        .input("model", ArtifactKind::Model, "the model that embeds both sets (M_t for the twin set, M_o for D_f)")
        .input("data", ArtifactKind::Dataset, "the samples to compute DF for")
        .input("reference", ArtifactKind::Dataset, "the reference set (the retain set D_r)")
        .output("features", ArtifactKind::Features, "one column (`df` unless renamed) per sample id of `data`")
        .output("metrics", ArtifactKind::Metrics, METRICS_OUTPUT)
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the method: 5 nearest retained samples of the same class", ""),
            Example::new(
                "10 neighbours of any class, raw features",
                "k = 10\nneighbours = \"any-class\"\nnormalise = false",
            ),
        ]
    }

    fn preflight(config: &DistanceConfig) -> anyhow::Result<()> {
        check_name(&config.name)
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: DistanceConfig) -> anyhow::Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let query = data_on_port(inputs, "data", &net)?;
        let reference = data_on_port(inputs, "reference", &net)?;
        let start = Instant::now();
        let embed = |data: &Dataset, port: &str| {
            let d = upload(data, &device, port)?;
            predict(&net, &d, config.batch_size, true).with_context(|| format!("embedding the `{port}` data set"))
        };
        let q = embed(&query, "data")?;
        ctx.check_cancelled()?;
        let r = embed(&reference, "reference")?;
        ctx.check_cancelled()?;
        let pool = match config.neighbours {
            Neighbours::SameClass => Pool::SameClass,
            Neighbours::AnyClass => Pool::AnyClass,
        };
        let options = KnnOptions::new(config.k, config.normalise, pool);
        let q_emb = Embedding { rows: &q.features, dim: q.feature_dim, labels: &query.labels, ids: &query.ids };
        let r_emb = Embedding { rows: &r.features, dim: r.feature_dim, labels: &reference.labels, ids: &reference.ids };
        let outcome = knn_mean_distance(&q_emb, &r_emb, options, &query.meta.classes, &device, |done, total| {
            ctx.progress(done as u64, total as u64, "nearest neighbours");
            Ok(ctx.check_cancelled()?)
        })?;
        for (pool, count) in &outcome.short_pools {
            ctx.warn(format!(
                "{pool} has {count} reference samples, fewer than k = {} usable for some queries: \
                 their DF averages over all there are",
                config.k
            ));
        }
        if outcome.excluded_self > 0 {
            ctx.info(format!(
                "{} query samples are also in the reference set and were not counted as their own neighbour",
                outcome.excluded_self
            ));
        }
        let seconds = start.elapsed().as_secs_f64();
        write_feature(ctx, &config.name, &query.ids, &outcome.mean_distance)?;
        ctx.summary("excluded_self", outcome.excluded_self);
        ctx.summary("seconds", seconds);
        // Both sets go through the network once, forward only.
        let cost =
            Cost { wall_seconds: seconds, train_samples: 0, forward_samples: (query.len() + reference.len()) as u64 };
        write_metrics_with_cost(
            ctx,
            &cost,
            serde_json::json!({ "samples": query.len(), "reference": reference.len() }),
        )?;
        Ok(())
    }
}
