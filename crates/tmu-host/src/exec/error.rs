//! Why a run did not finish: a failed stage (named with its kind and plugin), a bad slice,
//! the runs folder, or the user's Ctrl-C.

use std::path::PathBuf;

use tmu_core::UnknownStageError;
use tmu_plugin::protocol::{ErrorKind, WireError};

use super::types::RunReport;
use crate::store::StoreError;

/// One stage that failed, with the plugin that ran it.
#[derive(Clone, Debug, PartialEq)]
pub struct StageFailure {
    pub stage: String,
    pub kind: String,
    /// The plugin's name (from its description), empty when no plugin was involved.
    pub plugin: String,
    pub plugin_file: PathBuf,
    pub error: WireError,
}

impl std::fmt::Display for StageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Messages written for this stage already name it (a panic, a missing output).
        if self.error.message.starts_with(&format!("stage `{}`", self.stage)) {
            return f.write_str(&self.error.chain_line());
        }
        let verb = match self.error.kind {
            ErrorKind::Panic => "panicked",
            ErrorKind::Cancelled => "was cancelled",
            _ => "failed",
        };
        write!(f, "stage `{}` ({}", self.stage, self.kind)?;
        if !self.plugin.is_empty() {
            write!(f, ", plugin `{}`", self.plugin)?;
        }
        write!(f, ") {verb}: {}", self.error.chain_line())
    }
}

/// A run stopped early or could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    UnknownStage(#[from] UnknownStageError),

    #[error("--force names stage `{stage}`, which is outside the slice chosen by --from/--to")]
    ForceOutsideSlice { stage: String },

    #[error("stage `{stage}` is outside the slice chosen by --from/--to and has no cached result")]
    NotCached { stage: String },

    #[error("no loaded plugin provides stage kind `{kind}` (stage `{stage}`)")]
    UnknownKind { stage: String, kind: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("{} not ready to run: {}", plural(failures.len(), "stage is", "stages are"), grouped(failures))]
    Preflight { failures: Vec<StageFailure> },

    #[error("{}", failures.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n"))]
    Failed { failures: Vec<StageFailure>, report: Box<RunReport> },

    #[error("cancelled; {finished} {} finished and kept", if *finished == 1 { "stage" } else { "stages" })]
    Cancelled { finished: usize, report: Box<RunReport> },
}

/// The failures joined by "; ", those of one kind and plugin with the same error (the same data
/// set missing at every point of a sweep, say) said once: "stages `a`, `b` and `c` (kind, plugin
/// `p`) failed: ...".
fn grouped(failures: &[StageFailure]) -> String {
    let mut groups: Vec<(&StageFailure, Vec<&str>)> = Vec::new();
    for f in failures {
        let same =
            |g: &&mut (&StageFailure, Vec<&str>)| g.0.kind == f.kind && g.0.plugin == f.plugin && g.0.error == f.error;
        match groups.iter_mut().find(same) {
            Some(g) => g.1.push(&f.stage),
            None => groups.push((f, vec![&f.stage])),
        }
    }
    let text = |(first, stages): &(&StageFailure, Vec<&str>)| {
        if stages.len() == 1 {
            return first.to_string();
        }
        let names: Vec<String> = stages.iter().map(|s| format!("`{s}`")).collect();
        let (last, rest) = names.split_last().expect("a group has a stage");
        let own = first.to_string();
        // `stage `x` (kind, plugin `p`) failed: ...` -> `stages `x`, `y` and `z` (kind, ...`
        let tail = own.strip_prefix(&format!("stage `{}`", first.stage)).unwrap_or(&own);
        format!("stages {} and {last}{tail}", rest.join(", "))
    };
    groups.iter().map(text).collect::<Vec<_>>().join("; ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl RunError {
    /// What the user can do about it.
    pub fn help(&self) -> Option<String> {
        match self {
            RunError::UnknownStage(e) => e.help.clone(),
            RunError::ForceOutsideSlice { .. } => Some("widen --from/--to or drop that --force".into()),
            RunError::NotCached { .. } => {
                Some("run it first (without --from/--to), or widen the slice to include it".into())
            }
            RunError::UnknownKind { .. } => Some("`tmu describe` lists the stage kinds of the loaded plugins".into()),
            RunError::Store(_) => None,
            RunError::Preflight { failures } | RunError::Failed { failures, .. } => {
                let mut helps: Vec<String> = Vec::new();
                for h in failures.iter().filter_map(|f| f.error.help.clone()) {
                    if !helps.contains(&h) {
                        helps.push(h);
                    }
                }
                let mut help = helps.join("\n");
                if matches!(self, RunError::Failed { .. }) && !help.contains("were kept") {
                    if !help.is_empty() {
                        help.push('\n');
                    }
                    help.push_str("stages that finished were kept: the next run starts where this one stopped");
                }
                (!help.is_empty()).then_some(help)
            }
            RunError::Cancelled { .. } => Some("run the same command again to continue".into()),
        }
    }

    /// The per-stage report, when stages were started.
    pub fn report(&self) -> Option<&RunReport> {
        match self {
            RunError::Failed { report, .. } | RunError::Cancelled { report, .. } => Some(report),
            _ => None,
        }
    }
}
