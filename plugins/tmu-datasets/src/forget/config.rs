//! The raw config of `split.forget` and its checked form, [`Strategy`].

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::Dataset;

/// How the forget set is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyName {
    /// A random `fraction` (default 0.1) of one class's member samples (the paper's default).
    ClassFraction,
    /// `count` random member samples of one class.
    ClassCount,
    /// `count` or a `fraction` of all member samples, across classes.
    Random,
    /// Every member sample of one class.
    Class,
    /// The member samples of one value of an extra label column (`column`, default `fine`):
    /// a CIFAR-100 fine class inside its superclass; `fraction` of them (default all).
    SubClass,
    /// VGGFace2: an identity (= a class); `fraction` of its images (default all).
    Identity,
    /// A deletion request as a file of sample ids (`list`), one a line.
    Ids,
    /// A deletion request as a file of image paths relative to the data set's root (`list`), one
    /// a line: for `dataset.image-folder` and `dataset.vggface2`.
    Files,
}

impl StrategyName {
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyName::ClassFraction => "class-fraction",
            StrategyName::ClassCount => "class-count",
            StrategyName::Random => "random",
            StrategyName::Class => "class",
            StrategyName::SubClass => "sub-class",
            StrategyName::Identity => "identity",
            StrategyName::Ids => "ids",
            StrategyName::Files => "files",
        }
    }
}

/// A class by index (`3`) or by name (`"cat"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ClassRef {
    Index(u32),
    Name(String),
}

impl std::fmt::Display for ClassRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClassRef::Index(i) => write!(f, "{i}"),
            ClassRef::Name(n) => write!(f, "`{n}`"),
        }
    }
}

/// Config of `split.forget`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ForgetConfig {
    /// `class-fraction` (default), `class-count`, `random`, `class`, `sub-class`, `identity`,
    /// `ids` or `files`.
    pub strategy: StrategyName,
    /// The forget class (index or name); required by every strategy but `random` and `sub-class`.
    pub class: Option<ClassRef>,
    /// The forgotten value of the extra label column `column` (index or name), for `sub-class`.
    pub sub_class: Option<ClassRef>,
    /// The extra label column `sub-class` reads (CIFAR-100 Super20 keeps the fine class as `fine`).
    pub column: String,
    /// Fraction of the chosen samples to forget: `class-fraction` (default 0.1), `random`,
    /// `sub-class` and `identity` (default 1.0).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub fraction: Option<f64>,
    /// Number of samples to forget: `class-count` (required) or `random`.
    #[schemars(range(min = 1))]
    pub count: Option<usize>,
    /// Fraction of each class (each `column` value for `sub-class`) held out of the members:
    /// never seen by the original model; the twin forget set and the population come from it.
    #[schemars(range(min = 0.01, max = 0.9))]
    pub holdout: f64,
    /// For `ids` and `files`: the text file of the deletion request, one sample id or one path a
    /// line (blank lines and lines starting with `#` are skipped). A relative path is taken
    /// relative to the directory `tmu run` was started in.
    pub list: Option<PathBuf>,
}

impl Default for ForgetConfig {
    fn default() -> Self {
        ForgetConfig {
            strategy: StrategyName::ClassFraction,
            class: None,
            sub_class: None,
            column: "fine".into(),
            fraction: None,
            count: None,
            holdout: 0.25,
            list: None,
        }
    }
}

/// How many samples `random` forgets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Amount {
    Count(usize),
    Fraction(f64),
}

/// A checked strategy: classes resolved to indices, amounts in range.
#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    ClassFraction {
        class: u32,
        fraction: f64,
    },
    ClassCount {
        class: u32,
        count: usize,
    },
    Random {
        amount: Amount,
    },
    Class {
        class: u32,
    },
    SubClass {
        column: String,
        value: u32,
        fraction: f64,
    },
    Identity {
        class: u32,
        fraction: f64,
    },
    /// `ids` (`files` false) or `files`: the samples a list names.
    Listed {
        files: bool,
        list: PathBuf,
    },
}

fn list(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(40).enumerate().map(|(i, n)| format!("{i} {n}")).collect();
    let more = if names.len() > 40 { format!(", ... ({} in all)", names.len()) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// Resolves a class reference against `names`; `what` is `class` or `sub_class`.
pub fn resolve(what: &str, r: &ClassRef, names: &[String]) -> anyhow::Result<u32> {
    let found = match r {
        ClassRef::Index(i) => (*i as usize) < names.len(),
        ClassRef::Name(n) => names.iter().any(|x| x == n),
    };
    if !found {
        let range = if names.is_empty() { "none".to_string() } else { format!("0..={}", names.len() - 1) };
        return Err(tmu_plugin::with_help(
            format!("{what} {r} does not exist: the data has {} (indices {range})", names.len()),
            format!("valid values: {}", list(names)),
        ));
    }
    Ok(match r {
        ClassRef::Index(i) => *i,
        ClassRef::Name(n) => names.iter().position(|x| x == n).expect("found above") as u32,
    })
}

impl ForgetConfig {
    /// Checks what can be checked without the data: ranges and which fields the strategy uses.
    pub fn check_fields(&self) -> anyhow::Result<()> {
        self.check_with(None).map(drop)
    }

    /// Checks the fields against the strategy and the data, resolving class names.
    pub fn check(&self, data: &Dataset) -> anyhow::Result<Strategy> {
        self.check_with(Some(data)).map(|s| s.expect("resolved with data"))
    }

    /// With `data`, the checked strategy; without, `None` once the fields are consistent.
    fn check_with(&self, data: Option<&Dataset>) -> anyhow::Result<Option<Strategy>> {
        let s = self.strategy;
        let unused = |field: &str, set: bool| -> anyhow::Result<()> {
            if set {
                anyhow::bail!("`{field}` is not used by strategy `{}`", s.as_str());
            }
            Ok(())
        };
        let fraction = |default: f64| -> anyhow::Result<f64> {
            let f = self.fraction.unwrap_or(default);
            if !(f > 0.0 && f <= 1.0) {
                anyhow::bail!("`fraction` = {f} is out of range: it must lie in (0, 1]");
            }
            Ok(f)
        };
        let class = || -> anyhow::Result<u32> {
            let Some(r) = &self.class else {
                anyhow::bail!("strategy `{}` needs `class` (an index or a class name)", s.as_str());
            };
            // Without the data only the presence is checked (the index is a placeholder).
            data.map_or(Ok(0), |d| resolve("class", r, &d.meta.classes))
        };
        if s != StrategyName::SubClass {
            unused("sub_class", self.sub_class.is_some())?;
        }
        let listed = matches!(s, StrategyName::Ids | StrategyName::Files);
        if !listed {
            unused("list", self.list.is_some())?;
        }
        let strategy = match s {
            StrategyName::ClassFraction => {
                unused("count", self.count.is_some())?;
                Strategy::ClassFraction { class: class()?, fraction: fraction(0.1)? }
            }
            StrategyName::ClassCount => {
                unused("fraction", self.fraction.is_some())?;
                let Some(count) = self.count.filter(|&c| c > 0) else {
                    anyhow::bail!("strategy `class-count` needs `count` (at least 1)");
                };
                Strategy::ClassCount { class: class()?, count }
            }
            StrategyName::Random => {
                unused("class", self.class.is_some())?;
                let amount = match (self.count, self.fraction) {
                    (Some(0), _) => anyhow::bail!("`count` must be at least 1"),
                    (Some(c), None) => Amount::Count(c),
                    (None, Some(_)) => Amount::Fraction(fraction(0.1)?),
                    _ => anyhow::bail!("strategy `random` needs exactly one of `count` and `fraction`"),
                };
                Strategy::Random { amount }
            }
            StrategyName::Class => {
                unused("fraction", self.fraction.is_some())?;
                unused("count", self.count.is_some())?;
                Strategy::Class { class: class()? }
            }
            StrategyName::Identity => {
                unused("count", self.count.is_some())?;
                Strategy::Identity { class: class()?, fraction: fraction(1.0)? }
            }
            StrategyName::Ids | StrategyName::Files => {
                unused("class", self.class.is_some())?;
                unused("count", self.count.is_some())?;
                unused("fraction", self.fraction.is_some())?;
                let Some(list) = &self.list else {
                    anyhow::bail!("strategy `{}` needs `list` (the file of the deletion request)", s.as_str());
                };
                Strategy::Listed { files: s == StrategyName::Files, list: list.clone() }
            }
            StrategyName::SubClass => {
                unused("class", self.class.is_some())?;
                unused("count", self.count.is_some())?;
                let Some(r) = &self.sub_class else {
                    anyhow::bail!(
                        "strategy `sub-class` needs `sub_class` (an index or a name of column `{}`)",
                        self.column
                    );
                };
                let fraction = fraction(1.0)?;
                let Some(data) = data else { return Ok(None) };
                let Some(names) = data.meta.extra_label_classes.get(&self.column) else {
                    let have: Vec<&String> = data.meta.extra_label_classes.keys().collect();
                    return Err(tmu_plugin::with_help(
                        format!(
                            "strategy `sub-class` needs the extra label column `{}`, which the data lacks",
                            self.column
                        ),
                        format!(
                            "extra label columns of the data: {}; CIFAR-100 with `labels = \"super20\"` keeps `fine`",
                            if have.is_empty() { "none".to_string() } else { format!("{have:?}") }
                        ),
                    ));
                };
                let value = resolve("sub_class", r, names)?;
                Strategy::SubClass { column: self.column.clone(), value, fraction }
            }
        };
        Ok(data.map(|_| strategy))
    }
}
