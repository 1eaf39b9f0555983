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

impl StageFailure {
    /// `<subject> (kind, plugin `p`) failed: <error>`; `subject` names the stage or stages.
    fn write_as(&self, f: &mut std::fmt::Formatter<'_>, subject: &str) -> std::fmt::Result {
        let verb = match self.error.kind {
            ErrorKind::Panic => "panicked",
            ErrorKind::Cancelled => "was cancelled",
            _ => "failed",
        };
        write!(f, "{subject} ({}", self.kind)?;
        if !self.plugin.is_empty() {
            write!(f, ", plugin `{}`", self.plugin)?;
        }
        write!(f, ") {verb}: {}", self.error.chain_line())
    }
}

impl std::fmt::Display for StageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Messages written for this stage already name it (a panic, a missing output).
        if self.error.message.starts_with(&format!("stage `{}`", self.stage)) {
            return f.write_str(&self.error.chain_line());
        }
        self.write_as(f, &format!("stage `{}`", self.stage))
    }
}

/// Failures of one kind and plugin with the same error (the same data set missing at every
/// point of a sweep, say), said once: "stages `a`, `b` and `c` (kind, plugin `p`) failed: ...".
struct Group<'a> {
    first: &'a StageFailure,
    stages: Vec<&'a str>,
}

impl std::fmt::Display for Group<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some((last, rest)) = self.stages.split_last().filter(|(_, rest)| !rest.is_empty()) else {
            return self.first.fmt(f);
        };
        let rest: Vec<String> = rest.iter().map(|s| format!("`{s}`")).collect();
        self.first.write_as(f, &format!("stages {} and `{last}`", rest.join(", ")))
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

    /// Submitting to or following Slurm failed.
    #[error("slurm: {0}")]
    Slurm(String),
}

/// The failures joined by "; ", each [`Group`] once, in the order of their first stage.
fn grouped(failures: &[StageFailure]) -> String {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for f in failures {
        let same =
            |g: &&mut Group<'_>| g.first.kind == f.kind && g.first.plugin == f.plugin && g.first.error == f.error;
        match groups.iter_mut().find(same) {
            Some(g) => g.stages.push(&f.stage),
            None => groups.push(Group { first: f, stages: vec![&f.stage] }),
        }
    }
    groups.iter().map(Group::to_string).collect::<Vec<_>>().join("; ")
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
            RunError::Slurm(_) => Some(
                "--executor slurm needs sbatch, squeue and scancel on the PATH, and the runs folder, the tmu binary and the plugins on storage the nodes share".into(),
            ),
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
