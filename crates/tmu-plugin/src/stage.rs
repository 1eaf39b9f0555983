//! The safe API a plugin author implements: the [`Stage`] trait and its [`Signature`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::context::Context;
use crate::inputs::Inputs;

/// What flows along an edge of a pipeline. Every artifact is one file (or, for `files`, one folder).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// safetensors: `images` u8 `[N,C,H,W]`, `labels` u32 `[N]`, `ids` u64 `[N]` + class names, mean, std.
    Dataset,
    /// safetensors: weights by PyTorch-style name path + architecture metadata.
    Model,
    /// safetensors: `values` f32 `[N,F]`, `ids` u64 `[N]` + feature names.
    Features,
    /// safetensors: `labels` u32 `[N]`, `ids` u64 `[N]` + label names (e.g. 1 = easy).
    Labels,
    /// JSON object.
    Metrics,
    /// Markdown text.
    Report,
    /// A folder of arbitrary files (tables, plots).
    Files,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 7] = [
        ArtifactKind::Dataset,
        ArtifactKind::Model,
        ArtifactKind::Features,
        ArtifactKind::Labels,
        ArtifactKind::Metrics,
        ArtifactKind::Report,
        ArtifactKind::Files,
    ];

    /// The name used in files and messages (`dataset`, `model`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Dataset => "dataset",
            ArtifactKind::Model => "model",
            ArtifactKind::Features => "features",
            ArtifactKind::Labels => "labels",
            ArtifactKind::Metrics => "metrics",
            ArtifactKind::Report => "report",
            ArtifactKind::Files => "files",
        }
    }

    /// Parses the name written by [`ArtifactKind::as_str`].
    pub fn parse(name: &str) -> Option<ArtifactKind> {
        ArtifactKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The file name an output port of this kind gets inside a stage's output folder.
    pub fn file_name(self, port: &str) -> String {
        match self {
            ArtifactKind::Dataset | ArtifactKind::Model | ArtifactKind::Features | ArtifactKind::Labels => {
                format!("{port}.safetensors")
            }
            ArtifactKind::Metrics => format!("{port}.json"),
            ArtifactKind::Report => format!("{port}.md"),
            ArtifactKind::Files => port.to_string(),
        }
    }
}

impl std::fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many artifacts an input port takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Arity {
    /// `port = "stage.output"`
    One,
    /// `port = ["a.out", "b.out"]`
    List,
    /// `port = { name = "a.out", other = "b.out" }` (order kept)
    Map,
}

/// An input port of a stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InputPort {
    pub name: String,
    pub kind: ArtifactKind,
    pub arity: Arity,
    /// A required port must be connected; an optional one may be left out.
    pub required: bool,
    pub description: String,
}

/// An output port of a stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OutputPort {
    pub name: String,
    pub kind: ArtifactKind,
    pub description: String,
}

/// What a stage does, what it takes and what it makes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Signature {
    pub description: String,
    pub inputs: Vec<InputPort>,
    pub outputs: Vec<OutputPort>,
}

impl Signature {
    /// Starts a signature; chain [`Signature::input`], [`Signature::output`] and friends.
    pub fn new(description: impl Into<String>) -> Self {
        Signature { description: description.into(), inputs: Vec::new(), outputs: Vec::new() }
    }

    fn port(mut self, name: &str, kind: ArtifactKind, arity: Arity, required: bool, description: &str) -> Self {
        self.inputs.push(InputPort {
            name: name.to_string(),
            kind,
            arity,
            required,
            description: description.to_string(),
        });
        self
    }

    /// A required input taking one artifact.
    pub fn input(self, name: &str, kind: ArtifactKind, description: &str) -> Self {
        self.port(name, kind, Arity::One, true, description)
    }

    /// An optional input taking one artifact.
    pub fn optional_input(self, name: &str, kind: ArtifactKind, description: &str) -> Self {
        self.port(name, kind, Arity::One, false, description)
    }

    /// A required input taking a list of artifacts.
    pub fn list_input(self, name: &str, kind: ArtifactKind, description: &str) -> Self {
        self.port(name, kind, Arity::List, true, description)
    }

    /// A required input taking a named map of artifacts.
    pub fn map_input(self, name: &str, kind: ArtifactKind, description: &str) -> Self {
        self.port(name, kind, Arity::Map, true, description)
    }

    /// Any port, spelled out.
    pub fn input_port(self, name: &str, kind: ArtifactKind, arity: Arity, required: bool, description: &str) -> Self {
        self.port(name, kind, arity, required, description)
    }

    /// An output artifact.
    pub fn output(mut self, name: &str, kind: ArtifactKind, description: &str) -> Self {
        self.outputs.push(OutputPort { name: name.to_string(), kind, description: description.to_string() });
        self
    }

    pub fn input_named(&self, name: &str) -> Option<&InputPort> {
        self.inputs.iter().find(|p| p.name == name)
    }

    pub fn output_named(&self, name: &str) -> Option<&OutputPort> {
        self.outputs.iter().find(|p| p.name == name)
    }
}

/// A worked example of a stage's config, shown in the docs and checked by tests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Example {
    /// One line saying what the example does.
    pub title: String,
    /// The body of the stage's `config` table in TOML (`epochs = 20`, one key per line).
    pub config_toml: String,
}

impl Example {
    pub fn new(title: impl Into<String>, config_toml: impl Into<String>) -> Self {
        Example { title: title.into(), config_toml: config_toml.into() }
    }
}

/// A pipeline stage. Implement it on a unit struct and list the struct in
/// [`crate::export_plugin!`]; no `unsafe` is needed anywhere in a plugin.
///
/// ```text
/// #[derive(Deserialize, Serialize, JsonSchema)]
/// #[serde(default, deny_unknown_fields)]
/// pub struct Config { /// How many neighbours.
///     #[schemars(range(min = 1))] pub k: usize }
/// impl Default for Config { fn default() -> Self { Config { k: 5 } } }
///
/// pub struct Distance;
/// impl Stage for Distance {
///     const KIND: &'static str = "features.distance";
///     type Config = Config;
///     fn signature() -> Signature { Signature::new("...").input(...).output(...) }
///     fn run(ctx: &mut Context, inputs: &Inputs, config: Config) -> anyhow::Result<()> { ... }
/// }
/// ```
pub trait Stage: 'static {
    /// The kind name used in pipeline files: `<family>.<name>`, lowercase, e.g. `features.distance`.
    const KIND: &'static str;

    /// The stage's configuration. Use `#[serde(default, deny_unknown_fields)]` with the defaults
    /// in `impl Default` (schemars writes them into the schema), a doc comment on every field (it
    /// becomes the schema's description) and `#[schemars(range(..))]` for ranges.
    type Config: DeserializeOwned + Serialize + JsonSchema;

    /// Description, input ports and output ports.
    fn signature() -> Signature;

    /// Example configurations (each is deserialized by the crate's tests).
    fn examples() -> Vec<Example> {
        Vec::new()
    }

    /// Checks, before any stage of the pipeline runs, that this stage can run: files its config
    /// names exist, options fit together. Cheap, no outputs. A data set stage whose files are
    /// missing says here what to put where, so a run stops before any work. The SDK also calls
    /// it before every [`Stage::run`], so `run` need not repeat these checks.
    fn preflight(config: &Self::Config) -> anyhow::Result<()> {
        let _ = config;
        Ok(())
    }

    /// Runs the stage: read inputs through `inputs`, write every output port to
    /// `ctx.output_path(port)`, report progress through `ctx`.
    fn run(ctx: &mut Context, inputs: &Inputs, config: Self::Config) -> anyhow::Result<()>;
}
