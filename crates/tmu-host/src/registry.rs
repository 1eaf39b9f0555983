//! The stage registry: every loaded plugin and the stage kinds it provides, each kind once.

use indexmap::IndexMap;
use tmu_core::StageCatalog;
use tmu_plugin::protocol::StageDescription;

use crate::discovery::{SearchPaths, discover};
use crate::error::PluginError;
use crate::loader::{LoadedPlugin, load};

/// Loaded plugins and their stage kinds, in load order.
#[derive(Debug, Default)]
pub struct Registry {
    plugins: Vec<LoadedPlugin>,
    /// kind -> (plugin index, stage index in its description).
    kinds: IndexMap<String, (usize, usize)>,
    warnings: Vec<String>,
}

impl Registry {
    /// Discovers and loads every plugin on the search paths.
    ///
    /// A library that fails to load is an error, except one found by scanning a folder whose
    /// file name matches a library that did load from another folder (a CUDA build next to a
    /// CPU build on a machine without CUDA): that one is skipped with a warning.
    pub fn load(search: &SearchPaths) -> Result<Registry, PluginError> {
        let mut loaded = Vec::new();
        let mut failed = Vec::new();
        for candidate in discover(search)? {
            match load(&candidate.path) {
                Ok(plugin) => loaded.push(plugin),
                Err(e) => failed.push((candidate, e)),
            }
        }
        let mut warnings = Vec::new();
        for (candidate, error) in failed {
            let alternative = match error {
                PluginError::Open { .. } if !candidate.explicit => {
                    loaded.iter().find(|p| p.path.file_name() == candidate.path.file_name())
                }
                _ => None,
            };
            match alternative {
                Some(p) => warnings.push(format!(
                    "skipped {error}; using {} (the same plugin, loaded from another folder) instead",
                    p.path.display()
                )),
                None => return Err(error),
            }
        }
        let mut registry = Registry::new(loaded)?;
        registry.warnings = warnings;
        Ok(registry)
    }

    /// A registry of already loaded plugins; a kind provided twice is an error naming both files.
    pub fn new(plugins: Vec<LoadedPlugin>) -> Result<Registry, PluginError> {
        let mut kinds: IndexMap<String, (usize, usize)> = IndexMap::new();
        for (p, plugin) in plugins.iter().enumerate() {
            for (s, stage) in plugin.description.stages.iter().enumerate() {
                if let Some(&(first, _)) = kinds.get(&stage.kind) {
                    return Err(PluginError::DuplicateKind {
                        kind: stage.kind.clone(),
                        first: plugins[first].path.clone(),
                        second: plugin.path.clone(),
                    });
                }
                kinds.insert(stage.kind.clone(), (p, s));
            }
        }
        Ok(Registry { plugins, kinds, warnings: Vec::new() })
    }

    /// Every loaded plugin, in load order.
    pub fn plugins(&self) -> &[LoadedPlugin] {
        &self.plugins
    }

    /// Libraries that were skipped, in words.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The plugin providing `kind`, and the kind's description.
    pub fn lookup(&self, kind: &str) -> Option<(&LoadedPlugin, &StageDescription)> {
        let &(p, s) = self.kinds.get(kind)?;
        let plugin = &self.plugins[p];
        Some((plugin, &plugin.description.stages[s]))
    }

    /// Every stage description, in registration order.
    pub fn stages(&self) -> impl Iterator<Item = (&LoadedPlugin, &StageDescription)> {
        self.kinds.values().map(|&(p, s)| (&self.plugins[p], &self.plugins[p].description.stages[s]))
    }
}

impl StageCatalog for Registry {
    fn stage(&self, kind: &str) -> Option<&StageDescription> {
        self.lookup(kind).map(|(_, s)| s)
    }

    fn kinds(&self) -> Vec<&str> {
        self.kinds.keys().map(String::as_str).collect()
    }
}
