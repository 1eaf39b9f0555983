//! The data sets `eval.unlearning` reads (retain, forget, test, population), the non-members
//! that calibrate the attack, and D_f's predicted generalization labels.

use anyhow::{Context as _, bail};
use tmu_nn::DeviceData;
use tmu_nn::candle::Device;
use tmu_plugin::Inputs;
use tmu_plugin::artifact::{Dataset, Labels};

use super::config::MiaPopulation;

/// The evaluation sets on the host.
#[derive(Debug)]
pub struct Sets {
    pub retain: Dataset,
    pub forget: Dataset,
    pub test: Dataset,
    /// The non-members that calibrate the attack (all of `population` or its D_f classes).
    pub mia_population: Dataset,
    /// Size of the whole `population` input.
    pub population_len: usize,
    /// Classes present in D_f, ascending.
    pub forget_classes: Vec<u32>,
    /// D_f's predicted labels (true = easy), in D_f's order, when `predicted` is connected.
    pub predicted_easy: Option<Vec<bool>>,
}

/// The same sets uploaded to a device.
#[derive(Debug)]
pub struct DeviceSets {
    pub retain: DeviceData,
    pub forget: DeviceData,
    pub test: DeviceData,
    pub mia_population: DeviceData,
}

fn read(inputs: &Inputs, port: &str) -> anyhow::Result<Dataset> {
    let path = inputs.path(port)?;
    let data = Dataset::read(path).with_context(|| format!("reading input `{port}` ({})", path.display()))?;
    if data.is_empty() {
        bail!("input `{port}` ({}) holds no samples", path.display());
    }
    Ok(data)
}

/// Reads and checks the sets: all share one class list; D_f and the attack's non-members are
/// not empty; `predicted` labels every sample of D_f.
pub fn read_sets(inputs: &Inputs, population: MiaPopulation) -> anyhow::Result<Sets> {
    let retain = read(inputs, "retain")?;
    let forget = read(inputs, "forget")?;
    let test = read(inputs, "test")?;
    let all = read(inputs, "population")?;
    for (port, d) in [("forget", &forget), ("test", &test), ("population", &all)] {
        if d.meta.classes != retain.meta.classes {
            bail!(
                "input `{port}` has classes {:?} but `retain` has {:?}: the sets must come from one data set",
                d.meta.classes,
                retain.meta.classes
            );
        }
    }
    let mut forget_classes = forget.labels.clone();
    forget_classes.sort_unstable();
    forget_classes.dedup();
    let mia_population = match population {
        MiaPopulation::All => all.clone(),
        MiaPopulation::Class => {
            let keep: Vec<usize> = (0..all.len()).filter(|&i| forget_classes.contains(&all.labels[i])).collect();
            if keep.is_empty() {
                bail!("`population` holds no sample of D_f's classes {forget_classes:?}: use mia_population = \"all\"");
            }
            all.subset(&keep)
        }
    };
    let predicted_easy = match inputs.optional_path("predicted")? {
        None => None,
        Some(path) => {
            let labels =
                Labels::read(path).with_context(|| format!("reading input `predicted` ({})", path.display()))?;
            if labels.names.len() != 2 {
                bail!(
                    "input `predicted` ({}) has labels {:?}; expected generalization labels (0 = hard, 1 = easy)",
                    path.display(),
                    labels.names
                );
            }
            let aligned = labels
                .aligned_to(&forget.ids)
                .with_context(|| format!("aligning input `predicted` ({}) to `forget`", path.display()))?;
            Some(aligned.iter().map(|&l| l == 1).collect())
        }
    };
    Ok(Sets { population_len: all.len(), retain, forget, test, mia_population, forget_classes, predicted_easy })
}

impl Sets {
    /// Uploads every set to `device`.
    pub fn upload(&self, device: &Device) -> anyhow::Result<DeviceSets> {
        let up = |d: &Dataset, name: &str| {
            DeviceData::new(d, device).with_context(|| format!("uploading `{name}` to the device"))
        };
        Ok(DeviceSets {
            retain: up(&self.retain, "retain")?,
            forget: up(&self.forget, "forget")?,
            test: up(&self.test, "test")?,
            mia_population: up(&self.mia_population, "population")?,
        })
    }
}
