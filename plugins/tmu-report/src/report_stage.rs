//! `report.sweep`: every point's metrics (and the predictor's, and the twin and real features)
//! gathered over a sweep -> a long CSV, mean +- std tables, paired comparisons and plots.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::inputs::{PointResults, read_points};
use crate::long::{Row, axis_names, methods, rows, series, write_csv};
use crate::markdown;
use crate::paired::{self, PairedSettings, PairedUnit};
use crate::plots::{
    AucFigure, MethodPanel, MethodsFigure, PALETTE, ScatterFigure, ScatterSet, SizeFigure, SizePanel, save,
    scale_per_set,
};
use crate::select::{Selection, select};

/// `report.sweep` config.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSweepConfig {
    /// The method compared with every other one, point by point.
    pub reference: String,
    /// The metrics compared pairwise: paths into a method's record of `eval.unlearning`
    /// (`delta`, `activation_distance`, `mia.0.1.gap`, `predictor.auc`, ...). Wins count the
    /// reference lower (read them the other way for a higher-is-better metric such as a
    /// recall); a method without the metric at any point is left out of its comparisons.
    pub compare: Vec<String>,
    /// The metrics of the mean +- std table.
    pub table: Vec<String>,
    /// Two values whose difference is at most this count as a tie.
    #[schemars(range(min = 0.0))]
    pub tie: f64,
    /// The unit of the paired tests: `"seed"` (one pair per value of `cluster_axis`, each
    /// method's values averaged over its points, which share the seed's original, twin and
    /// early models) or `"point"` (every point a pair, as if independent: p-values too small
    /// when points share models).
    pub unit: PairedUnit,
    /// The axis whose points share models: the clusters of the `seed` unit and of the bootstrap
    /// interval. A point without it is a cluster of its own.
    pub cluster_axis: String,
    /// Confidence level of the cluster bootstrap interval of each mean paired difference.
    #[schemars(range(min = 0.5, max = 0.999))]
    pub confidence: f64,
    /// Bootstrap resamples; when the G^G ordered draws of G clusters are fewer (G <= 5 for the
    /// default), all of them are enumerated instead (an exact, generator-free interval).
    #[schemars(range(min = 100, max = 1000000))]
    pub bootstrap_resamples: usize,
    /// The axis whose values are the forget set's size (the x axis of the alignment plot); when
    /// no point has it, the size is the forget set's sample count.
    pub size_axis: String,
    /// Width of one plot panel, in pixels.
    #[schemars(range(min = 200, max = 3000))]
    pub panel_width: u32,
    /// Height of a plot, in pixels.
    #[schemars(range(min = 200, max = 3000))]
    pub height: u32,
    /// Choose each method's setting against gold on tuning points and report the others: `{ axis
    /// = "setting", tune_axis = "seed", tune_values = [100, 101] }` (see docs/pipeline-format.md,
    /// "Tuning against gold"). Without it every point is reported as it is.
    pub select: Option<Selection>,
}

impl Default for ReportSweepConfig {
    fn default() -> Self {
        ReportSweepConfig {
            reference: "tmu".into(),
            compare: vec!["delta".into(), "activation_distance".into()],
            table: [
                "delta",
                "activation_distance",
                "agreement",
                "acc.forget",
                "acc.test",
                "acc.retain",
                "mia.0.1.rate",
            ]
            .map(String::from)
            .to_vec(),
            tie: 0.0,
            unit: PairedUnit::default(),
            cluster_axis: "seed".into(),
            confidence: 0.95,
            bootstrap_resamples: 10_000,
            size_axis: "fraction".into(),
            panel_width: 640,
            height: 480,
            select: None,
        }
    }
}

pub struct ReportSweep;

impl Stage for ReportSweep {
    const KIND: &'static str = "report.sweep";
    type Config = ReportSweepConfig;

    fn signature() -> Signature {
        Signature::new(
            "gathers every point's metrics of a sweep: long CSV, mean +- std per method, paired comparisons with the reference method, plots",
        )
        .map_input("metrics", ArtifactKind::Metrics, "`eval.unlearning` metrics by point label (`metrics = \"eval.metrics\"` in a sweep)")
        .input_port("predictor", ArtifactKind::Metrics, tmu_plugin::Arity::Map, false, "`predictor.apply` metrics by point label")
        .input_port("twin_features", ArtifactKind::Features, tmu_plugin::Arity::Map, false, "the twin set's features by point label (`features.join` of DF, AF, CF)")
        .input_port("twin_labels", ArtifactKind::Labels, tmu_plugin::Arity::Map, false, "the twin set's generalization labels by point label")
        .input_port("forget_features", ArtifactKind::Features, tmu_plugin::Arity::Map, false, "D_f's features by point label")
        .input_port("forget_labels", ArtifactKind::Labels, tmu_plugin::Arity::Map, false, "D_f's true generalization labels by point label")
        .output("report", ArtifactKind::Report, "the markdown report: tables and paired comparisons")
        .output("table", ArtifactKind::Files, "sweep.csv (long format), paired.csv, and the plots as PNG and SVG")
        .output("html", ArtifactKind::Files, "report.html: the report as one self-contained page (tables, plots inline as SVG, config, versions, cache keys)")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("TMU against every baseline on Delta and activation distance", ""),
            Example::new(
                "each method at the setting with the lowest mean Delta on the tuning seeds 100 and 101",
                "select = { axis = \"setting\", tune_axis = \"seed\", tune_values = [100, 101] }",
            ),
            Example::new(
                "compare fine-tuning with the rest, also on the MIA gap",
                "reference = \"finetune\"\ncompare = [\"delta\", \"activation_distance\", \"mia.0.1.gap\"]",
            ),
            Example::new(
                "every point a pair (as if independent), with a 90% interval",
                "unit = \"point\"\nconfidence = 0.9",
            ),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: ReportSweepConfig) -> anyhow::Result<()> {
        ctx.set_device_used("cpu");
        let points = read_points(inputs)?;
        anyhow::ensure!(!points.is_empty(), "input `metrics` holds no point");
        let (points, selected) = match &config.select {
            Some(sel) => {
                let (reported, selected) = select(&points, sel).context("choosing each method's setting")?;
                (reported, Some(selected))
            }
            None => (points, None),
        };
        let dir = ctx.output_path("table");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let rows = rows(&points);
        write_csv(&dir.join("sweep.csv"), &points, &rows)?;
        let all_methods = methods(&rows);
        // Gold's Delta and distance are 0 by definition: it is left out of comparisons and plots.
        let compared: Vec<String> = all_methods.iter().filter(|m| *m != "gold").cloned().collect();

        let mut md = String::new();
        header(&mut md, &points);
        if let (Some(sel), Some(selected)) = (&config.select, &selected) {
            crate::select::section(&mut md, sel, selected);
        }
        let _ = writeln!(md, "## Mean ± std over the points\n");
        let _ = writeln!(
            md,
            "One row per method: each metric's mean ± sample std over the points (`points`: how many measured \
             the first). Δ is |acc(D_f) − gold's| in percentage points and the activation distance is to gold's \
             softmax on D_f: for both, lower is closer to retraining without D_f. Accuracies, agreement with gold \
             and MIA rates are in percent.\n"
        );
        markdown::summary(&mut md, &rows, &all_methods, &config.table);
        for axis in axis_names(&points).iter().filter(|a| *a != "seed") {
            markdown::by_axis(&mut md, &points, &rows, &compared, "delta", axis);
        }
        let _ = writeln!(md, "## Paired comparisons\n");
        let settings = PairedSettings {
            reference: config.reference.clone(),
            metrics: config.compare.clone(),
            tie: config.tie,
            unit: config.unit,
            cluster_axis: config.cluster_axis.clone(),
            confidence: config.confidence,
            resamples: config.bootstrap_resamples,
            seed: ctx.seed_for("bootstrap"),
        };
        let comparisons = if all_methods.contains(&config.reference) {
            let comparisons = paired::compare_all(&points, &rows, &settings, &compared)?;
            paired::section(&mut md, &settings, &comparisons);
            comparisons
        } else {
            ctx.warn(format!("no method `{}` in the metrics: no paired comparisons", config.reference));
            let _ = writeln!(md, "No method `{}`: no paired comparisons.\n", config.reference);
            Vec::new()
        };
        crate::cost::section(&mut md, &rows, &compared);
        markdown::predictor(&mut md, &rows);
        let files = plots(&dir, &points, &rows, &compared, &config)?;
        paired::write_csv(&dir.join("paired.csv"), &settings, &comparisons)?;
        let _ = writeln!(md, "## Files\n");
        let _ = writeln!(
            md,
            "In `table/`: `sweep.csv` (one row per point x method x metric), `paired.csv`, and the plots:\n"
        );
        for f in &files {
            let _ = writeln!(md, "- `{f}`");
        }
        let out = ctx.output_path("report");
        std::fs::write(&out, &md).with_context(|| format!("writing {}", out.display()))?;
        let svgs: Vec<_> = files
            .iter()
            .filter_map(|f| f.strip_suffix(".svg"))
            .map(|stem| (dir.join(format!("{stem}.svg")), caption(stem).to_string()))
            .collect();
        let resolved = serde_json::to_value(&config).context("serialising the config")?;
        crate::html::write(ctx, inputs, "Sweep report", &md, &svgs, &resolved)?;

        ctx.summary("points", points.len());
        for m in compared.iter().take(3) {
            let v: Vec<f64> = series(&rows, m, "delta").into_iter().map(|(_, v)| v).collect();
            if let Some(mu) = tmu_stats::mean(&v) {
                ctx.summary(&format!("delta.{m}"), mu);
            }
        }
        Ok(())
    }
}

fn header(md: &mut String, points: &[PointResults]) {
    let _ = writeln!(md, "# Sweep report\n");
    let _ = writeln!(md, "{} point{}.", points.len(), if points.len() == 1 { "" } else { "s" });
    for axis in axis_names(points) {
        let mut values: Vec<&str> = Vec::new();
        for p in points {
            if let Some((_, v)) = p.axes.iter().find(|(a, _)| *a == axis)
                && !values.contains(&v.as_str())
            {
                values.push(v);
            }
        }
        let _ = writeln!(md, "- `{axis}`: {}", values.join(", "));
    }
    md.push('\n');
}

/// What a plot of [`plots`] shows, for the HTML page.
fn caption(stem: &str) -> &'static str {
    match stem {
        "methods" => {
            "every point's Δ (left) and activation distance to gold on D_f (right) per method; lower is closer to \
             retraining without D_f"
        }
        "alignment_vs_size" => {
            "Δ and activation distance against the forget set's size, one line per method (the paper's Figure 3)"
        }
        "predictor_auc" => {
            "the generalization-label predictor's AUC against the true labels, and each raw feature's; 0.5 is chance"
        }
        "features_scatter" => {
            "each pair of features of the twin set and of the real D_f, easy samples in blue and hard in red: \
             the predictor transfers when the two rows look alike"
        }
        _ => "a plot of this report",
    }
}

/// Draws every plot the inputs allow; returns the file names written.
fn plots(
    dir: &Path,
    points: &[PointResults],
    rows: &[Row],
    methods: &[String],
    config: &ReportSweepConfig,
) -> anyhow::Result<Vec<String>> {
    let colors: Vec<_> = (0..methods.len()).map(|i| PALETTE[i % PALETTE.len()]).collect();
    let (w, h) = (config.panel_width, config.height);
    let mut files = Vec::new();
    let mut written = |paths: Vec<std::path::PathBuf>| {
        files.extend(paths.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()));
    };
    let values = |metric: &str| -> Vec<Vec<f64>> {
        methods.iter().map(|m| series(rows, m, metric).into_iter().map(|(_, v)| v).collect()).collect()
    };
    let panel = |title: &str, y: &str, metric: &str| MethodPanel {
        title: title.to_string(),
        y_desc: y.to_string(),
        methods: methods.to_vec(),
        values: values(metric),
        colors: colors.clone(),
    };
    let figure = MethodsFigure {
        panels: vec![
            panel("Δ: |acc(D_f) − gold's| per method", "Δ (percentage points)", "delta"),
            panel("Activation distance to gold on D_f", "mean ‖softmax − gold's‖₂", "activation_distance"),
        ],
    };
    written(save(&figure, dir, "methods", (2 * w, h))?);

    // Alignment against size: the size axis when the points have it, else |D_f|.
    let size_of = |p: usize| -> Option<f64> {
        let point = &points[p];
        match point.axes.iter().find(|(a, _)| *a == config.size_axis) {
            Some((_, v)) => v.parse().ok(),
            None => point.eval.as_ref()?.get("forget")?.get("n")?.as_f64(),
        }
    };
    let has_axis = points.iter().any(|p| p.axes.iter().any(|(a, _)| *a == config.size_axis));
    let x_desc =
        if has_axis { format!("forget set size (`{}`)", config.size_axis) } else { "forget set size (samples)".into() };
    let sized = |metric: &str| -> Vec<Vec<(f64, f64)>> {
        methods
            .iter()
            .map(|m| series(rows, m, metric).into_iter().filter_map(|(p, v)| size_of(p).map(|x| (x, v))).collect())
            .collect()
    };
    let size_panel = |title: &str, y: &str, metric: &str| SizePanel {
        title: title.to_string(),
        y_desc: y.to_string(),
        x_desc: x_desc.clone(),
        methods: methods.to_vec(),
        values: sized(metric),
        colors: colors.clone(),
    };
    let figure = SizeFigure {
        panels: vec![
            size_panel("Alignment with gold against forget set size", "Δ (percentage points)", "delta"),
            size_panel("Activation distance against forget set size", "activation distance", "activation_distance"),
        ],
    };
    written(save(&figure, dir, "alignment_vs_size", (2 * w, h))?);

    // The predictor's AUC and each feature's.
    let mut names = vec!["predictor".to_string()];
    let mut aucs = vec![series(rows, "predictor", "truth.auc").into_iter().map(|(_, v)| v).collect::<Vec<f64>>()];
    let mut features: Vec<String> = Vec::new();
    for r in rows.iter().filter(|r| r.method == "predictor") {
        if let Some(f) = r.metric.strip_prefix("truth.feature_auc.")
            && !features.iter().any(|x| x == f)
        {
            features.push(f.to_string());
        }
    }
    for f in &features {
        names.push(f.clone());
        aucs.push(series(rows, "predictor", &format!("truth.feature_auc.{f}")).into_iter().map(|(_, v)| v).collect());
    }
    if aucs.iter().any(|v| !v.is_empty()) {
        written(save(&AucFigure { names, values: aucs }, dir, "predictor_auc", (w + w / 2, h))?);
    }

    // Twin against real features, easy and hard.
    let sets: Vec<ScatterSet> = [
        ("twin set (twin model)", points.iter().filter_map(|p| p.twin.as_ref()).collect::<Vec<_>>()),
        ("real D_f (original model)", points.iter().filter_map(|p| p.forget.as_ref()).collect()),
    ]
    .into_iter()
    .filter(|(_, parts)| !parts.is_empty())
    .map(|(title, parts)| {
        // Points that share a set (the twin set of one seed, say) hold it once.
        let mut unique: Vec<&crate::LabelledFeatures> = Vec::new();
        for part in parts {
            if !unique.contains(&part) {
                unique.push(part);
            }
        }
        let f = unique[0].names.len();
        let mut columns = vec![Vec::new(); f];
        let mut easy = Vec::new();
        for part in unique.iter().filter(|p| p.names.len() == f) {
            for (j, column) in columns.iter_mut().enumerate() {
                column.extend(scale_per_set(&part.column(j)));
            }
            easy.extend(part.easy.iter().copied());
        }
        let sets = unique.len();
        ScatterSet { title: format!("{title}, {sets} set{}", if sets == 1 { "" } else { "s" }), columns, easy }
    })
    .collect();
    let names = points.iter().find_map(|p| p.twin.as_ref().or(p.forget.as_ref())).map(|f| f.names.clone());
    if let (Some(names), false) = (names, sets.is_empty()) {
        let pairs = (names.len() * names.len().saturating_sub(1) / 2).max(1);
        let title = "Twin against real features, as the predictor sees them (winsorised at 1.5 IQR and min-maxed per set): easy (blue), hard (red)".to_string();
        let figure = ScatterFigure { title, names, sets };
        let rows_drawn = figure.sets.len() as u32;
        written(save(&figure, dir, "features_scatter", (pairs as u32 * (w * 3 / 4), rows_drawn * (h * 3 / 4)))?);
    }
    Ok(files)
}
