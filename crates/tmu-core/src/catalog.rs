//! The stage kinds validation knows: a trait the host's plugin registry implements, and a simple catalog.

use indexmap::IndexMap;
use tmu_plugin::protocol::StageDescription;

/// Where validation looks up stage kinds. The host's plugin registry implements it; tests use
/// [`Catalog`] built from a JSON file of stage descriptions.
pub trait StageCatalog {
    /// The description of a kind, `None` when no plugin provides it.
    fn stage(&self, kind: &str) -> Option<&StageDescription>;

    /// Every known kind, in a stable order (registration order), for suggestions and the schema.
    fn kinds(&self) -> Vec<&str>;
}

/// Stage descriptions by kind, in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    stages: IndexMap<String, StageDescription>,
}

/// A catalog could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("stage kind `{0}` is described twice")]
    Duplicate(String),
    #[error("invalid stage description json")]
    Json(#[from] serde_json::Error),
}

impl Catalog {
    /// A catalog of the given descriptions; a kind given twice is an error.
    pub fn new(stages: impl IntoIterator<Item = StageDescription>) -> Result<Catalog, CatalogError> {
        let mut map = IndexMap::new();
        for s in stages {
            if map.contains_key(&s.kind) {
                return Err(CatalogError::Duplicate(s.kind));
            }
            map.insert(s.kind.clone(), s);
        }
        Ok(Catalog { stages: map })
    }

    /// A catalog from a JSON array of [`StageDescription`]s.
    pub fn from_json(json: &str) -> Result<Catalog, CatalogError> {
        Catalog::new(serde_json::from_str::<Vec<StageDescription>>(json)?)
    }

    pub fn iter(&self) -> impl Iterator<Item = &StageDescription> {
        self.stages.values()
    }
}

impl StageCatalog for Catalog {
    fn stage(&self, kind: &str) -> Option<&StageDescription> {
        self.stages.get(kind)
    }

    fn kinds(&self) -> Vec<&str> {
        self.stages.keys().map(String::as_str).collect()
    }
}

impl StageCatalog for [StageDescription] {
    fn stage(&self, kind: &str) -> Option<&StageDescription> {
        self.iter().find(|s| s.kind == kind)
    }

    fn kinds(&self) -> Vec<&str> {
        self.iter().map(|s| s.kind.as_str()).collect()
    }
}
