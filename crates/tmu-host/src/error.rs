//! Why a plugin library could not be found, loaded or registered; each error names the file.

use std::path::PathBuf;

use tmu_plugin::protocol::WireError;

/// Where a plugin path came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The folder of the `tmu` binary (`libtmu_*` libraries only).
    BinaryFolder,
    /// `[plugins] paths` in the pipeline file.
    PipelineFile,
    /// `--plugin-path` on the command line.
    CommandLine,
    /// The `TMU_PLUGIN_PATH` environment variable.
    EnvVar,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::BinaryFolder => "the tmu binary's folder",
            Origin::PipelineFile => "`[plugins] paths` in the pipeline file",
            Origin::CommandLine => "--plugin-path",
            Origin::EnvVar => "TMU_PLUGIN_PATH",
        })
    }
}

/// A plugin library could not be found, loaded, or added to the registry.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("plugin path {} (from {origin}) does not exist", path.display())]
    NotFound { path: PathBuf, origin: Origin },

    #[error("cannot read plugin folder {}", path.display())]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot read plugin {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot load plugin {}{}", path.display(), missing.as_ref().map(|m| format!(": it needs `{m}`, which cannot be found")).unwrap_or_default())]
    Open {
        path: PathBuf,
        /// The shared library the plugin needs and the system could not find, when the loader
        /// said which.
        missing: Option<String>,
        /// The loader's own words.
        reason: String,
    },

    #[error("{} is not a tmu plugin: missing symbol `{symbol}`", path.display())]
    MissingSymbol { path: PathBuf, symbol: String },

    #[error(
        "plugin {} speaks ABI v{found}{}, this host speaks v{expected}; rebuild it against tmu-plugin {host_sdk}",
        path.display(),
        sdk.as_ref().map(|s| format!(" (built with {s})")).unwrap_or_default()
    )]
    AbiMismatch {
        path: PathBuf,
        found: u32,
        expected: u32,
        /// What the plugin's `tmu_plugin_sdk_version` says (`tmu-plugin 0.3.1`).
        sdk: Option<String>,
        /// `major.minor` of the host's tmu-plugin.
        host_sdk: String,
    },

    #[error("plugin {} failed to describe itself", path.display())]
    Describe {
        path: PathBuf,
        #[source]
        source: WireError,
    },

    #[error("plugin {} returned an unreadable description: {reason}", path.display())]
    BadDescription { path: PathBuf, reason: String },

    #[error("stage kind `{kind}` is registered by two plugins: {} and {}", first.display(), second.display())]
    DuplicateKind { kind: String, first: PathBuf, second: PathBuf },
}

impl PluginError {
    /// What the user can do about it.
    pub fn help(&self) -> Option<String> {
        Some(match self {
            PluginError::NotFound { origin, .. } => format!("fix the path in {origin}"),
            PluginError::ReadDir { .. } | PluginError::Read { .. } => return None,
            PluginError::Open { missing: Some(m), .. } if m.starts_with("libcuda.so") => {
                "this plugin was built with CUDA and needs the NVIDIA driver (libcuda.so.1), which this \
                 machine does not have: run it on a machine with an NVIDIA GPU and its driver, or build the \
                 plugins without `--features cuda` (`cargo xtask run` does) and name that build with \
                 --plugin-path or TMU_PLUGIN_PATH"
                    .to_string()
            }
            PluginError::Open { missing: Some(_), .. } => "a CUDA build of a plugin needs the CUDA 13 libraries \
                 (libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10, libnvrtc.so.13, \
                 libcudnn.so.9): add their folder to LD_LIBRARY_PATH (PyTorch's pip packages have them under \
                 site-packages/nvidia/*/lib; docs/cuda.md); on a machine without them, build the plugins \
                 without `--features cuda` and name that build with --plugin-path or TMU_PLUGIN_PATH"
                .to_string(),
            PluginError::Open { reason, .. } => format!("the system loader said: {reason}"),
            PluginError::MissingSymbol { .. } => "a tmu plugin is a cdylib that calls `tmu_plugin::export_plugin!`; \
                 remove this file from the plugin paths"
                .to_string(),
            PluginError::AbiMismatch { host_sdk, .. } => {
                format!("rebuild the plugin with tmu-plugin {host_sdk}, or remove it from the plugin paths")
            }
            PluginError::Describe { source, .. } => return source.help.clone(),
            PluginError::BadDescription { .. } => "the plugin and this host disagree on the protocol: \
                 rebuild the plugin against this host's tmu-plugin"
                .to_string(),
            PluginError::DuplicateKind { .. } => "keep only one of the two libraries on the plugin paths \
                 (the tmu binary's folder, `[plugins] paths`, --plugin-path, TMU_PLUGIN_PATH)"
                .to_string(),
        })
    }
}
