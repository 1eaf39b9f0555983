//! The config of `eval.unlearning`.

use std::collections::BTreeMap;

use anyhow::bail;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cost::MethodCosts;

/// Which non-members calibrate the membership-inference threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MiaPopulation {
    /// Every sample of `population`.
    #[default]
    All,
    /// The samples of `population` whose class is one of D_f's classes (an all-class threshold
    /// is confounded by how hard each class is).
    Class,
}

impl MiaPopulation {
    pub fn as_str(self) -> &'static str {
        match self {
            MiaPopulation::All => "all",
            MiaPopulation::Class => "class",
        }
    }
}

/// Config of `eval.unlearning`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// Levels of the loss-threshold membership-inference attack: for each alpha the threshold is
    /// the alpha-quantile (linear interpolation) of the model's losses on non-members, and the
    /// attack success is the fraction of D_f at or below it. The first is the report's headline.
    #[schemars(length(min = 1), inner(range(min = 0.0, max = 1.0)))]
    pub mia_alphas: Vec<f64>,
    /// Non-members that calibrate the attack: `all` of `population`, or only those of D_f's
    /// `class`(es).
    pub mia_population: MiaPopulation,
    /// Samples per inference batch.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// What each method needs beyond the original model and its forget stage, as keys of input
    /// `costs`: `{ tmu = { setup = ["twin", "early", ...], request = ["df_forget", ...] } }`.
    /// `setup` is done once per original model, `request` again for every deletion request. A
    /// method not listed needs nothing but its forget stage.
    pub method_costs: BTreeMap<String, MethodCosts>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            mia_alphas: vec![0.1, 0.05, 0.01],
            mia_population: MiaPopulation::default(),
            batch_size: 256,
            method_costs: BTreeMap::new(),
        }
    }
}

impl EvalConfig {
    /// Checks the values; the message names the field.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.mia_alphas.is_empty() {
            bail!("`mia_alphas` needs at least one level");
        }
        for (i, a) in self.mia_alphas.iter().enumerate() {
            if !(a.is_finite() && *a > 0.0 && *a < 1.0) {
                bail!("`mia_alphas` = {a} is out of range: each level must lie in (0, 1)");
            }
            if self.mia_alphas[..i].contains(a) {
                bail!("`mia_alphas` lists {a} twice");
            }
        }
        if self.batch_size == 0 {
            bail!("`batch_size` must be at least 1");
        }
        Ok(())
    }
}
