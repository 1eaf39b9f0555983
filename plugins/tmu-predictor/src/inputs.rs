//! Reading the predictor stages' inputs: a list of feature artifacts joined by sample id, and
//! generalization labels (1 = easy) aligned to those ids.

use std::collections::HashSet;

use anyhow::{Context as _, bail};
use tmu_plugin::Inputs;
use tmu_plugin::artifact::{Features, Labels};

/// Reads the feature artifacts bound to list port `port` and joins them column-wise by sample
/// id (rows in the first artifact's order). Column names must be distinct and values finite.
pub fn read_features(inputs: &Inputs, port: &str) -> anyhow::Result<Features> {
    let refs = inputs.list(port)?;
    let mut parts = Vec::with_capacity(refs.len());
    for r in &refs {
        let f = Features::read(&r.path)
            .with_context(|| format!("reading input `{port}` ({}, from {})", r.path.display(), r.source))?;
        parts.push(f);
    }
    let sources = || refs.iter().map(|r| r.source.as_str()).collect::<Vec<_>>().join(", ");
    let mut seen = HashSet::new();
    for name in parts.iter().flat_map(|p| &p.names) {
        if !seen.insert(name) {
            bail!("feature column `{name}` appears more than once in input `{port}` ({})", sources());
        }
    }
    let joined = Features::join(&parts.iter().collect::<Vec<_>>())
        .with_context(|| format!("joining the feature artifacts of input `{port}` ({}) by sample id", sources()))?;
    if joined.rows() == 0 {
        bail!("input `{port}` holds no samples");
    }
    for i in 0..joined.rows() {
        if let Some((j, v)) = joined.row(i).iter().enumerate().find(|(_, v)| !v.is_finite()) {
            bail!("input `{port}`: feature `{}` of sample id {} is {v}", joined.names[j], joined.ids[i]);
        }
    }
    Ok(joined)
}

/// The columns of `features` in the order of `names`, as a row-major matrix; every name must be
/// present and no other column may be.
pub fn select_columns(features: &Features, names: &[String]) -> anyhow::Result<Vec<f32>> {
    let missing: Vec<&String> = names.iter().filter(|n| !features.names.contains(n)).collect();
    let extra: Vec<&String> = features.names.iter().filter(|n| !names.contains(n)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        let list = |v: &[&String]| v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing {}", list(&missing)));
        }
        if !extra.is_empty() {
            problems.push(format!("unexpected {}", list(&extra)));
        }
        bail!(
            "the predictor takes feature columns {names:?} but the features hold {:?}: {}",
            features.names,
            problems.join("; ")
        );
    }
    let index: Vec<usize> =
        names.iter().map(|n| features.names.iter().position(|m| m == n).expect("checked above")).collect();
    Ok((0..features.rows()).flat_map(|i| index.iter().map(move |&j| features.row(i)[j])).collect())
}

/// Reads generalization labels (0 = hard, 1 = easy) from single port `port`; with `ids`, aligned
/// to them (every id must have a label), else in the file's order with its ids.
pub fn read_easy(inputs: &Inputs, port: &str, ids: Option<&[u64]>) -> anyhow::Result<(Vec<bool>, Vec<u64>)> {
    let path = inputs.path(port)?;
    let labels = Labels::read(path).with_context(|| format!("reading input `{port}` ({})", path.display()))?;
    if labels.names.len() != 2 {
        bail!(
            "input `{port}` ({}) has labels {:?}; expected generalization labels (0 = hard, 1 = easy)",
            path.display(),
            labels.names
        );
    }
    match ids {
        Some(ids) => {
            let aligned = labels
                .aligned_to(ids)
                .with_context(|| format!("aligning input `{port}` ({}) to the features", path.display()))?;
            Ok((aligned.iter().map(|&l| l == 1).collect(), ids.to_vec()))
        }
        None => Ok((labels.labels.iter().map(|&l| l == 1).collect(), labels.ids)),
    }
}
