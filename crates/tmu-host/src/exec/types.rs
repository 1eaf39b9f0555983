//! What the executor takes (options, events out) and gives back (a report per stage).

use std::path::PathBuf;

use tmu_plugin::LogLevel;

/// How to run a plan.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// At most this many stages run at the same time (at least 1).
    pub jobs: usize,
    /// At most this many stages run on one CUDA device at the same time (at least 1).
    pub gpu_jobs: usize,
    /// Stages that run even when a cached result exists.
    pub force: Vec<String>,
    /// Only these stages and what depends on them (with `to`: the paths between).
    pub from: Vec<String>,
    /// Only these stages and what they depend on.
    pub to: Vec<String>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions { jobs: 1, gpu_jobs: 1, force: Vec::new(), from: Vec::new(), to: Vec::new() }
    }
}

/// What happens during a run, in order, for progress bars and logs.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A stage's result was found in the cache.
    Cached {
        stage: String,
        kind: String,
    },
    /// A stage started running.
    Started {
        stage: String,
        kind: String,
        plugin: String,
        device: String,
    },
    /// Another process is running the same stage (same cache key); this one waits for it.
    Waiting {
        stage: String,
    },
    Progress {
        stage: String,
        done: u64,
        total: u64,
        message: String,
    },
    Log {
        stage: String,
        level: LogLevel,
        message: String,
    },
    /// A stage finished and its outputs were kept.
    Finished {
        stage: String,
        wall_s: f64,
        summary: serde_json::Value,
    },
    /// A stage failed or was cancelled; `message` is the whole chain on one line.
    Failed {
        stage: String,
        message: String,
        cancelled: bool,
    },
}

/// How a stage ended in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ran,
    Cached,
    Failed,
    Cancelled,
    /// Not started: the run stopped first, or a stage it needs failed.
    NotRun,
    /// Left out by `--from` / `--to` and not needed by the stages in the slice.
    Excluded,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ran => "ran",
            Outcome::Cached => "cached",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
            Outcome::NotRun => "not run",
            Outcome::Excluded => "excluded",
        }
    }
}

/// One stage in a [`RunReport`].
#[derive(Clone, Debug, PartialEq)]
pub struct StageReport {
    pub stage: String,
    pub kind: String,
    pub outcome: Outcome,
    /// The cache key, once known.
    pub key: Option<String>,
    /// Wall time of the run that produced the result (for a cached stage: the original run's).
    pub wall_s: Option<f64>,
    /// The device the stage ran on.
    pub device: Option<String>,
    pub summary: serde_json::Value,
    /// `runs/<pipeline>/<stage>/`, when it holds outputs or a log.
    pub dir: Option<PathBuf>,
}

/// Every stage of the plan, in plan order.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    pub pipeline: String,
    /// `runs/<pipeline>/`.
    pub dir: PathBuf,
    pub stages: Vec<StageReport>,
}

impl RunReport {
    /// How many stages ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.stages.iter().filter(|s| s.outcome == outcome).count()
    }

    pub fn stage(&self, name: &str) -> Option<&StageReport> {
        self.stages.iter().find(|s| s.stage == name)
    }
}
