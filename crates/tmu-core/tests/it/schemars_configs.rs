//! Config checking against schemas that schemars really generates (through tmu-plugin's own
//! `describe_stage`): enums, optional fields, nested structs, internally tagged enums in arrays,
//! ranges, `deny_unknown_fields`. Inputs and snapshots in `test_data/schemars/`.

use std::path::Path;

use expect_test::expect_file;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_core::{Catalog, RenderStyle, load, plan_text};
use tmu_plugin::{ArtifactKind, Context, Inputs, Signature, Stage};

/// Settings of the test trainer.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TrainConfig {
    /// The network.
    arch: Arch,
    /// Passes over the data.
    #[serde(default = "twenty")]
    #[schemars(range(min = 1, max = 1000))]
    epochs: u32,
    /// Milestones at which the learning rate drops.
    #[serde(default)]
    milestones: Option<Vec<u32>>,
    /// Optimizer settings.
    #[serde(default)]
    optimizer: Optimizer,
    /// Augmentations, applied in order.
    #[serde(default)]
    augment: Vec<Augment>,
}

fn twenty() -> u32 {
    20
}

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Arch {
    SmallCnn,
    Resnet18,
}

#[derive(Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Optimizer {
    /// SGD momentum.
    #[schemars(range(min = 0.0, max = 1.0))]
    #[serde(default)]
    momentum: f64,
}

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum Augment {
    Flip,
    Crop {
        /// Padding in pixels.
        #[schemars(range(min = 1))]
        pad: u32,
    },
}

struct Train;

impl Stage for Train {
    const KIND: &'static str = "test.train";
    type Config = TrainConfig;

    fn signature() -> Signature {
        Signature::new("trains").optional_input("init", ArtifactKind::Model, "start").output(
            "model",
            ArtifactKind::Model,
            "the model",
        )
    }

    fn run(_: &mut Context, _: &Inputs, _: TrainConfig) -> anyhow::Result<()> {
        Ok(())
    }
}

fn check(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/schemars");
    let file = dir.join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&file).expect("reading a test pipeline");
    let catalog = Catalog::new([tmu_plugin::plugin::describe_stage::<Train>()]).expect("one stage");
    let shown = Path::new("test_data/schemars").join(format!("{name}.toml"));
    let actual = match load(&shown, &text, &catalog) {
        Ok(plan) => plan_text(&plan),
        Err(ds) => ds.render(RenderStyle::Plain),
    };
    expect_file![dir.join(format!("{name}.out"))].assert_eq(&actual);
}

#[test]
fn valid_config() {
    check("valid");
}

#[test]
fn invalid_config() {
    check("invalid");
}
