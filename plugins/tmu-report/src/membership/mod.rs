//! The stage `report.membership`: gathers every shadow's `membership.signals` over an ensemble
//! sweep and measures, per method, how well its unlearning hides D_f from per-example attacks
//! (U-LiRA, offline RMIA), with gold's models as the chance reference; plus JS divergence,
//! activation distance, ToW and ToW-MIA against gold and the population loss-threshold attack.

mod attacks;
mod ensemble;
mod markdown;

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::{write_atomic, write_metrics};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};
use tmu_stats::RmiaSettings;

pub use attacks::{AttackSummary, ModelResult, Settings};
pub use ensemble::{Ensemble, ModelMatrix, read_ensemble};
pub use markdown::FULL_ENSEMBLE;

use plotters::style::RGBColor;

use crate::plots::{PALETTE, RocCurve, RocFigure, save};

/// RMIA's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RmiaConfig {
    /// Reference models per example: the first this many other shadows that never saw it.
    #[schemars(range(min = 1, max = 4))]
    pub reference_models: usize,
    /// `a` of the offline approximation `Pr(x) = (1 + a)/2 * mean_out + (1 - a)/2`.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub a: f64,
    /// An example beats a population sample when their likelihood-ratio quotient exceeds this.
    #[schemars(range(min = 0.0, max = 1000.0))]
    pub gamma: f64,
}

impl Default for RmiaConfig {
    fn default() -> Self {
        RmiaConfig { reference_models: 2, a: 0.3, gamma: 1.0 }
    }
}

/// Config of `report.membership`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MembershipConfig {
    /// U-LiRA's floor on each Gaussian's standard deviation (a side whose models agree exactly
    /// would otherwise have none).
    #[schemars(range(min = 1e-9, max = 100.0))]
    pub min_std: f64,
    /// The offline RMIA (Zarifzadeh et al., 2024).
    pub rmia: RmiaConfig,
    /// The false-positive rates at which the TPR is reported.
    pub fpr_levels: Vec<f64>,
    /// Width of each plot in pixels.
    #[schemars(range(min = 200, max = 4000))]
    pub width: u32,
    /// Height of each plot in pixels.
    #[schemars(range(min = 200, max = 4000))]
    pub height: u32,
}

impl Default for MembershipConfig {
    fn default() -> Self {
        MembershipConfig {
            min_std: 0.01,
            rmia: RmiaConfig::default(),
            fpr_levels: vec![0.01, 0.001],
            width: 720,
            height: 600,
        }
    }
}

impl MembershipConfig {
    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.min_std > 0.0 && self.min_std.is_finite(), "`min_std` must be positive");
        anyhow::ensure!((1..=4).contains(&self.rmia.reference_models), "`rmia.reference_models` must lie in 1..=4");
        anyhow::ensure!((0.0..=1.0).contains(&self.rmia.a), "`rmia.a` must lie in [0, 1]");
        anyhow::ensure!(self.rmia.gamma > 0.0, "`rmia.gamma` must be positive");
        anyhow::ensure!(
            !self.fpr_levels.is_empty() && self.fpr_levels.iter().all(|l| *l > 0.0 && *l < 1.0),
            "`fpr_levels` must be rates in (0, 1)"
        );
        Ok(())
    }
}

/// The stage `report.membership`.
#[derive(Debug)]
pub struct ReportMembership;

impl Stage for ReportMembership {
    const KIND: &'static str = "report.membership";
    type Config = MembershipConfig;

    fn signature() -> Signature {
        Signature::new(
            "per-example membership inference over an ensemble of shadow models (U-LiRA, offline RMIA; \
             leave-one-model-out), each method against gold's chance line; JS, ToW, ToW-MIA and the population attack",
        )
        .map_input(
            "signals",
            ArtifactKind::Metrics,
            "`membership.signals` metrics by shadow (`signals = \"signals.metrics\"` in an ensemble sweep)",
        )
        .output("metrics", ArtifactKind::Metrics, "every attack's and measure's result per model")
        .output("report", ArtifactKind::Report, "the U-LiRA, RMIA and agreement tables")
        .output("table", ArtifactKind::Files, "membership.csv and the ROC curves (log-log) as PNG and SVG")
        .output("html", ArtifactKind::Files, "report.html: the report as one self-contained page (tables, ROC curves inline as SVG, config, versions, cache keys)")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("U-LiRA and RMIA with 2 reference models, a = 0.3", ""),
            Example::new("RMIA with one reference model and a = 0.5", "rmia = { reference_models = 1, a = 0.5 }"),
            Example::new("TPR at 5%, 1% and 0.1% FPR", "fpr_levels = [0.05, 0.01, 0.001]"),
        ]
    }

    fn preflight(config: &MembershipConfig) -> anyhow::Result<()> {
        config.check()
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: MembershipConfig) -> anyhow::Result<()> {
        config.check()?;
        ctx.set_device_used("cpu");
        let e = read_ensemble(inputs)?;
        anyhow::ensure!(e.models.contains_key("gold"), "the signals have no `gold` model");
        let settings = Settings {
            min_std: config.min_std,
            rmia: RmiaSettings {
                reference_models: config.rmia.reference_models,
                a: config.rmia.a,
                gamma: config.rmia.gamma,
            },
            fpr_levels: config.fpr_levels.clone(),
        };
        let gold = &e.models["gold"];
        let mut results = IndexMap::new();
        for (i, (name, m)) in e.models.iter().enumerate() {
            ctx.check_cancelled()?;
            ctx.progress(i as u64, e.models.len() as u64, format!("attacking {name}"));
            results.insert(
                name.clone(),
                attacks::model_result(&e, m, gold, &settings).with_context(|| format!("model `{name}`"))?,
            );
        }
        let dir = ctx.output_path("table");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        write_csv(&dir.join("membership.csv"), &results)?;
        let files = plots(&dir, &e, &results, &config)?;
        let md = markdown::render(&e, &results, &settings, &files);
        let out = ctx.output_path("report");
        write_atomic(&out, md.as_bytes()).with_context(|| format!("writing {}", out.display()))?;
        let svgs: Vec<_> = files
            .iter()
            .filter_map(|f| f.strip_suffix(".svg"))
            .map(|stem| {
                let caption = match stem {
                    "roc_ulira" | "roc_rmia" => {
                        "every model's ROC curve of this attack on log-log axes; gold's curve is \
                                                 chance for unlearning: a method whose curve lies on gold's hides D_f"
                            .to_string()
                    }
                    _ => {
                        "this method's U-LiRA and RMIA ROC curves against gold's U-LiRA curve, log-log axes".to_string()
                    }
                };
                (dir.join(format!("{stem}.svg")), caption)
            })
            .collect();
        let resolved = serde_json::to_value(&config).context("serialising the config")?;
        crate::html::write(ctx, inputs, "Membership report", &md, &svgs, &resolved)?;
        let value = serde_json::json!({
            "schema": "tmu.report.membership/1",
            "shadows": e.shadows.len(),
            "reduced_n": e.shadows.len() < FULL_ENSEMBLE,
            "candidates": e.candidates.len(),
            "population": e.population,
            "settings": { "min_std": config.min_std, "rmia": config.rmia, "fpr_levels": config.fpr_levels },
            "models": results,
        });
        let path = ctx.output_path("metrics");
        write_metrics(&path, &value).with_context(|| format!("writing {}", path.display()))?;
        ctx.summary("shadows", e.shadows.len());
        for (name, r) in &results {
            if let Some(a) = r.ulira.as_ref().and_then(|a| a.auc) {
                ctx.summary(&format!("ulira_auc.{name}"), a);
            }
        }
        Ok(())
    }
}

/// One row per model x attack x measure.
fn write_csv(path: &Path, results: &IndexMap<String, ModelResult>) -> anyhow::Result<()> {
    let mut s = String::from("model,attack,measure,value\n");
    for (name, r) in results {
        for (attack, a) in [("ulira", &r.ulira), ("rmia", &r.rmia)] {
            let Some(a) = a else { continue };
            let _ = writeln!(s, "{name},{attack},pairs,{}", a.pairs);
            let _ = writeln!(s, "{name},{attack},positives,{}", a.positives);
            if let Some(auc) = a.auc {
                let _ = writeln!(s, "{name},{attack},auc,{auc}");
            }
            let _ = writeln!(s, "{name},{attack},balanced_accuracy,{}", a.balanced_accuracy);
            for [f, t] in &a.tpr_at_fpr {
                let _ = writeln!(s, "{name},{attack},tpr_at_fpr_{f},{t}");
            }
        }
        for (measure, sp) in [
            ("js_divergence", &r.js_divergence),
            ("activation_distance", &r.activation_distance),
            ("tow", &r.tow),
            ("tow_mia", &r.tow_mia),
            ("loss_mia_rate", &r.loss_mia_rate),
        ] {
            if let Some(m) = sp.mean {
                let _ = writeln!(s, "{name},population,{measure}_mean,{m}");
            }
        }
    }
    write_atomic(path, s.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Six colours after matplotlib's ten, so that the usual 14 models (gold, the original, TMU and
/// eleven baselines) never share one.
const MORE: [RGBColor; 6] = [
    RGBColor(0, 0, 128),
    RGBColor(128, 128, 0),
    RGBColor(0, 128, 128),
    RGBColor(128, 0, 0),
    RGBColor(255, 20, 147),
    RGBColor(85, 107, 47),
];

/// Gold is black; the model at position `i` (gold first) takes the `i - 1`-th colour.
fn color(name: &str, i: usize) -> RGBColor {
    if name == "gold" {
        return RGBColor(0, 0, 0);
    }
    let k = i.saturating_sub(1) % (PALETTE.len() + MORE.len());
    if k < PALETTE.len() { PALETTE[k] } else { MORE[k - PALETTE.len()] }
}

/// File-name-safe form of a model name.
fn stem(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// `roc_ulira` and `roc_rmia` (every model), and `roc_<model>` (its two attacks next to gold's).
fn plots(
    dir: &Path,
    e: &Ensemble,
    results: &IndexMap<String, ModelResult>,
    config: &MembershipConfig,
) -> anyhow::Result<Vec<String>> {
    let size = (config.width, config.height);
    // The smallest non-zero FPR any curve can reach: one negative pair out of all of them.
    let negatives = results
        .values()
        .flat_map(|r| [&r.ulira, &r.rmia])
        .flatten()
        .map(|a| a.pairs - a.positives)
        .max()
        .unwrap_or(1)
        .max(1);
    let floor = 10f64.powf((1.0 / negatives as f64).log10().floor()).min(1e-3);
    let n = e.shadows.len();
    let reduced = if n < FULL_ENSEMBLE { ", reduced-N" } else { "" };
    let mut files = Vec::new();
    let mut keep = |paths: Vec<std::path::PathBuf>| {
        files.extend(paths.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()));
    };
    let curve = |name: &str, a: &AttackSummary, i: usize, what: &str| RocCurve {
        label: format!("{name}{what} (AUC {})", a.auc.map_or("–".into(), |x| format!("{x:.3}"))),
        fpr: a.roc.fpr.clone(),
        tpr: a.roc.tpr.clone(),
        color: color(name, i),
        reference: name == "gold",
    };
    for (attack, title, pick) in [
        ("ulira", "U-LiRA", (|r: &ModelResult| r.ulira.as_ref()) as fn(&ModelResult) -> Option<&AttackSummary>),
        ("rmia", "RMIA (offline)", |r: &ModelResult| r.rmia.as_ref()),
    ] {
        let curves: Vec<RocCurve> =
            results.iter().enumerate().filter_map(|(i, (name, r))| pick(r).map(|a| curve(name, a, i, ""))).collect();
        let fig = RocFigure { title: format!("{title}: every method, N = {n}{reduced}"), curves, floor };
        keep(save(&fig, dir, &format!("roc_{attack}"), size)?);
    }
    let gold = &results["gold"];
    for (i, (name, r)) in results.iter().enumerate().filter(|(_, (name, _))| *name != "gold") {
        let mut curves = Vec::new();
        if let Some(a) = &r.ulira {
            curves.push(curve(name, a, i, " U-LiRA"));
        }
        if let Some(a) = &r.rmia {
            let mut c = curve(name, a, i, " RMIA");
            let RGBColor(r, g, b) = c.color;
            let lighter = |v: u8| ((u16::from(v) + 2 * 255) / 3) as u8;
            c.color = RGBColor(lighter(r) / 2 + r / 2, lighter(g) / 2 + g / 2, lighter(b) / 2 + b / 2);
            curves.push(c);
        }
        if let Some(a) = &gold.ulira {
            curves.push(curve("gold", a, 0, " U-LiRA"));
        }
        if curves.is_empty() {
            continue;
        }
        let fig = RocFigure { title: format!("{name} against gold, N = {n}{reduced}"), curves, floor };
        keep(save(&fig, dir, &format!("roc_{}", stem(name)), size)?);
    }
    Ok(files)
}
