//! What the executor takes (options, events out) and gives back (a report per stage).

use std::path::PathBuf;

use tmu_plugin::LogLevel;

use super::executor::Executor;

/// How to run a plan.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// At most this many stages run at the same time (at least 1).
    pub jobs: usize,
    /// At most this many stages run on one CUDA device at the same time (at least 1).
    pub gpu_jobs: usize,
    /// The GPUs (CUDA device indices) to place stages on. Empty: every stage runs on the device
    /// its pipeline names (`cuda` is `cuda:0`). Otherwise every stage that runs on CUDA goes to
    /// the listed GPU with the fewest stages running, at most `gpu_jobs` on each (the in-process
    /// and process executors; Slurm assigns GPUs itself).
    pub devices: Vec<usize>,
    /// Stages that run even when a cached result exists.
    pub force: Vec<String>,
    /// Only these stages and what depends on them (with `to`: the paths between).
    pub from: Vec<String>,
    /// Only these stages and what they depend on.
    pub to: Vec<String>,
    /// After a failure, keep running the stages that do not depend on it (and report every
    /// failure at the end) instead of starting nothing new. Always on for a sweep, whose
    /// points are independent.
    pub keep_going: bool,
    /// Where stage attempts run.
    pub executor: Executor,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            jobs: 1,
            gpu_jobs: 1,
            devices: Vec::new(),
            force: Vec::new(),
            from: Vec::new(),
            to: Vec::new(),
            keep_going: false,
            executor: Executor::InProcess,
        }
    }
}

/// How far a sweep's run has come, counted in points. A point is done when every instance it
/// holds finished (ran or cached), failed when one of them failed or could not run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointsProgress {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    /// Estimated seconds until every stage has finished: the mean wall time of each stage's
    /// instances that ran so far, times its instances still to go, over the parallel jobs.
    /// `None` until some instance has run.
    pub eta_s: Option<f64>,
}

/// What happens during a run, in order, for progress bars and logs. (Serialisable: a stage run
/// in a child process sends its events to the parent as JSON lines.)
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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
        /// Who holds the key (`pid 123 on node-7 since ...`), when its lock file says.
        holder: Option<String>,
    },
    /// A cached result of this stage failed verification (a file no longer hashes to what was
    /// stored): it was dropped and the stage runs again. `message` names the file and the
    /// stage that made it.
    Corrupt {
        stage: String,
        message: String,
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
    /// A stage will not run: a stage it reads from failed (or, for a stage that gathers over
    /// points, every point it gathers from did).
    Skipped {
        stage: String,
        reason: String,
    },
    /// A sweep's progress, after each stage that finishes, fails or is skipped.
    Points(PointsProgress),
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
    /// Handed to Slurm by a detached run (`--detach`); `tmu status` follows it.
    Submitted,
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
            Outcome::Submitted => "submitted",
        }
    }
}

/// One stage in a [`RunReport`].
#[derive(Clone, Debug, PartialEq)]
pub struct StageReport {
    /// The instance name (`seed=0/split` in a sweep).
    pub stage: String,
    /// The stage's name in the pipeline file.
    pub base: String,
    /// The instance's point label; `None` outside a sweep and for shared stages.
    pub point: Option<String>,
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
    /// Why it did not run, for a stage that was skipped.
    pub reason: Option<String>,
}

/// Every stage of the plan, in plan order.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    pub pipeline: String,
    /// `runs/<pipeline>/`.
    pub dir: PathBuf,
    pub stages: Vec<StageReport>,
    /// A sweep's points at the end of the run.
    pub points: Option<PointsProgress>,
}

impl RunReport {
    /// How many stages ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.stages.iter().filter(|s| s.outcome == outcome).count()
    }

    pub fn stage(&self, name: &str) -> Option<&StageReport> {
        self.stages.iter().find(|s| s.stage == name)
    }

    /// How many instances of the stage named `base` in the file ended with `outcome`.
    pub fn count_of(&self, base: &str, outcome: Outcome) -> usize {
        self.stages.iter().filter(|s| s.base == base && s.outcome == outcome).count()
    }
}
