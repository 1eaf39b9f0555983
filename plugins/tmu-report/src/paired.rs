//! The paired comparisons of `report.sweep`: the reference method against every other, over the
//! points both measured, with the independent unit the user chose (the point, or the cluster of
//! points that share models: a seed, its points averaged), the number of independent units, and
//! the cluster bootstrap interval of the mean difference; as markdown tables and `paired.csv`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_stats::{ClusterCompare, ClusteredPaired, Resampling, StatsError, Unit, cluster_ids, compare_clustered};

use crate::inputs::PointResults;
use crate::long::{Row, series};
use crate::markdown::{number, p_value, signed, table, title};

/// What one pair of a paired test is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PairedUnit {
    /// One pair per value of the cluster axis (a seed), each method's values averaged over that
    /// seed's points: the points of a seed share their original, twin and early models, so they
    /// are not independent.
    #[default]
    Seed,
    /// One pair per point, as if points were independent (p-values too small when points share
    /// models).
    Point,
}

/// How the comparisons are made (from `report.sweep`'s config).
#[derive(Clone, Debug)]
pub struct PairedSettings {
    pub reference: String,
    pub metrics: Vec<String>,
    pub tie: f64,
    pub unit: PairedUnit,
    pub cluster_axis: String,
    pub confidence: f64,
    pub resamples: usize,
    pub seed: u64,
}

/// One comparison: `reference` against `other` on `metric`.
pub struct Comparison {
    pub metric: String,
    pub other: String,
    pub result: ClusteredPaired,
}

/// The cluster key of a point: its value of the cluster axis, or its own label when it has none
/// (then it is its own unit).
fn cluster_key(point: &PointResults, axis: &str) -> String {
    match point.axes.iter().find(|(a, _)| a == axis) {
        Some((_, v)) => format!("{axis}={v}"),
        None => format!("point={}", point.label),
    }
}

/// `reference` against `other` on `metric`, over the points both measured.
pub fn compare_one(
    points: &[PointResults],
    rows: &[Row],
    s: &PairedSettings,
    other: &str,
    metric: &str,
) -> Result<ClusteredPaired, StatsError> {
    let mine = series(rows, &s.reference, metric);
    let theirs = series(rows, other, metric);
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut keys = Vec::new();
    for (p, v) in &mine {
        if let Some((_, w)) = theirs.iter().find(|(q, _)| q == p) {
            a.push(*v);
            b.push(*w);
            keys.push(cluster_key(&points[*p], &s.cluster_axis));
        }
    }
    let (ids, _) = cluster_ids(&keys);
    let unit = match s.unit {
        PairedUnit::Seed => Unit::Cluster,
        PairedUnit::Point => Unit::Point,
    };
    compare_clustered(
        &a,
        &b,
        &ids,
        ClusterCompare { unit, tie: s.tie, level: s.confidence, resamples: s.resamples, seed: s.seed },
    )
}

/// Every comparison of `reference` with the other `methods`, metric by metric.
pub fn compare_all(
    points: &[PointResults],
    rows: &[Row],
    s: &PairedSettings,
    methods: &[String],
) -> anyhow::Result<Vec<Comparison>> {
    let mut out = Vec::new();
    for metric in &s.metrics {
        for other in methods.iter().filter(|m| **m != s.reference) {
            // A method that never measured the metric (a baseline has no predictor) has nothing
            // to pair: it is left out of this metric's comparisons.
            if series(rows, other, metric).is_empty() {
                continue;
            }
            let result = compare_one(points, rows, s, other, metric)
                .with_context(|| format!("comparing `{}` with `{other}` on `{metric}`", s.reference))?;
            out.push(Comparison { metric: metric.clone(), other: other.clone(), result });
        }
    }
    Ok(out)
}

/// "3 seeds" / "27 points" / "1 seed".
fn units_text(n: usize, unit: &str) -> String {
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn unit_name(s: &PairedSettings, r: &ClusteredPaired) -> String {
    match r.unit {
        Unit::Cluster => units_text(r.paired.n, &s.cluster_axis),
        Unit::Point => units_text(r.paired.n, "point"),
    }
}

/// The paragraph that says what a pair is, how many independent units there are and how the
/// interval was computed; then one table per metric.
pub fn section(out: &mut String, s: &PairedSettings, comparisons: &[Comparison]) {
    let Some(first) = comparisons.first().map(|c| &c.result) else { return };
    let level = format!("{:.0}%", 100.0 * s.confidence);
    let axis = &s.cluster_axis;
    let unit = match s.unit {
        PairedUnit::Seed => format!(
            "**The unit of the tests is the `{axis}`** (config `unit = \"seed\"`): each method's values are \
             averaged over the points of one `{axis}`, which share that `{axis}`'s original, twin and early \
             models, and each `{axis}` is one pair: {} independent units ({}).",
            first.clusters,
            units_text(first.points, "point")
        ),
        PairedUnit::Point => format!(
            "**The unit of the tests is the point** (config `unit = \"point\"`): each of the {} points is one \
             pair, as if independent; but points that share a `{axis}` share models, so there are only {} \
             independent units and these p-values are too small (`unit = \"seed\"` tests over the {}).",
            first.points,
            first.clusters,
            units_text(first.clusters, axis)
        ),
    };
    let resampling = match first.bootstrap.map(|b| b.resampling) {
        Some(Resampling::Exact { draws }) => {
            format!(
                "enumerated exactly over all {draws} ordered draws of {} with replacement",
                units_text(first.clusters, axis)
            )
        }
        Some(Resampling::Sampled { draws }) => format!("{draws} resamples, seeded by the stage"),
        None => format!("none: fewer than two `{axis}` values"),
    };
    let _ = writeln!(
        out,
        "{unit}\n\nA win: `{r}`'s value lower by more than {tie} (per unit). Mean difference = `{r}` − method, \
         over the points, with its {level} cluster bootstrap interval (whole `{axis}` values resampled, percentile \
         interval; {resampling}). Sign test and Wilcoxon signed-rank test leave ties out. With {n} units the \
         smallest two-sided p a sign or Wilcoxon test can give is {min_p}.\n",
        r = s.reference,
        tie = s.tie,
        n = first.paired.n,
        min_p = p_value(Some(2f64.powi(1 - first.paired.n as i32).min(1.0))),
    );
    if (2..5).contains(&first.clusters) {
        let _ = writeln!(
            out,
            "With only {} `{axis}` values the bootstrap interval spans about the range of the `{axis}` means and \
             covers less than {level} of the time: read it as the spread between `{axis}` values, not as a test.\n",
            first.clusters
        );
    }
    for metric in &s.metrics {
        // Lower is better for Delta, distances and gaps; not for a recall or an AUC.
        let reading = if metric.starts_with("predictor.") { "a win: lower, here worse" } else { "lower is better" };
        let _ = writeln!(out, "### {}: `{}` against each method ({reading})\n", title(metric), s.reference);
        let header: Vec<String> = [
            "method",
            "units",
            "wins / ties / losses",
            &format!("mean difference [{level} CI]"),
            "sign test p",
            "paired t-test p",
            "Wilcoxon p",
        ]
        .map(String::from)
        .to_vec();
        let body: Vec<Vec<String>> = comparisons
            .iter()
            .filter(|c| &c.metric == metric)
            .map(|c| {
                let p = &c.result.paired;
                let diff = match (c.result.mean_diff, c.result.bootstrap) {
                    (Some(m), Some(b)) => {
                        format!(
                            "{} [{}, {}]",
                            signed(metric, m),
                            number(metric, b.interval.low),
                            number(metric, b.interval.high)
                        )
                    }
                    (Some(m), None) => signed(metric, m),
                    _ => "-".to_string(),
                };
                vec![
                    format!("`{}`", c.other),
                    unit_name(s, &c.result),
                    format!("{} / {} / {}", p.wins, p.ties, p.losses),
                    diff,
                    p_value(p.sign_p),
                    p_value(p.t_p),
                    p_value(p.wilcoxon_p),
                ]
            })
            .collect();
        table(out, &header, &body);
    }
}

/// `paired.csv`: metric, reference, method, unit, units (independent units tested), points,
/// clusters, wins, ties, losses (per unit), mean_diff (over the points) with its interval
/// (ci_level, ci_low, ci_high), unit_mean_diff and unit_std_diff (over the units), and the tests'
/// statistics and p-values.
pub fn write_csv(path: &Path, s: &PairedSettings, comparisons: &[Comparison]) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record([
        "metric",
        "reference",
        "method",
        "unit",
        "units",
        "points",
        "clusters",
        "wins",
        "ties",
        "losses",
        "mean_diff",
        "ci_level",
        "ci_low",
        "ci_high",
        "unit_mean_diff",
        "unit_std_diff",
        "sign_p",
        "t",
        "t_p",
        "wilcoxon_w",
        "wilcoxon_p",
    ])?;
    let text = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let unit = match s.unit {
        PairedUnit::Seed => s.cluster_axis.clone(),
        PairedUnit::Point => "point".to_string(),
    };
    for c in comparisons {
        let (r, p) = (&c.result, &c.result.paired);
        let ci = r.bootstrap.map(|b| b.interval);
        w.write_record([
            c.metric.clone(),
            s.reference.clone(),
            c.other.clone(),
            unit.clone(),
            p.n.to_string(),
            r.points.to_string(),
            r.clusters.to_string(),
            p.wins.to_string(),
            p.ties.to_string(),
            p.losses.to_string(),
            text(r.mean_diff),
            s.confidence.to_string(),
            text(ci.map(|i| i.low)),
            text(ci.map(|i| i.high)),
            text(p.mean_diff),
            text(p.std_diff),
            text(p.sign_p),
            text(p.t),
            text(p.t_p),
            text(p.wilcoxon_w),
            text(p.wilcoxon_p),
        ])?;
    }
    w.flush().with_context(|| format!("writing {}", path.display()))
}
