//! The executor: runs a validated plan stage by stage, reusing cached results.

mod attempt;
mod error;
mod executor;
mod gather;
mod job;
mod prepare;
mod progress;
mod resolve;
mod schedule;
mod sink;
pub mod slurm;
mod types;

pub use error::{RunError, StageFailure};
pub use executor::{CHILD_SUBCOMMAND, Executor, run_child};
pub use job::{ChildMessage, JobOutcome, JobSpec};
pub use prepare::StageStatus;
pub use resolve::resolve_device;
pub use schedule::{plan_status, run_plan};
pub use types::{Event, ExecOptions, Outcome, PointsProgress, RunReport, StageReport};
