//! The `[slurm]` table: how `tmu run --executor slurm` asks for resources for each stage job.

/// The keys of `[slurm]`.
pub const SLURM_KEYS: [&str; 7] = ["partition", "account", "time", "gpus_per_job", "cpus_per_task", "mem", "extra"];

/// Settings of the Slurm jobs (each becomes an `#SBATCH` line of every stage's job script).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlurmSettings {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--time`, in Slurm's format (`30:00`, `4:00:00`, `1-00:00:00`).
    pub time: Option<String>,
    /// `--gres=gpu:N` of a stage that runs on a GPU (default 1).
    pub gpus_per_job: Option<u32>,
    /// `--cpus-per-task` (default: Slurm's).
    pub cpus_per_task: Option<u32>,
    /// `--mem` (`16G`).
    pub mem: Option<String>,
    /// Further `#SBATCH` options, as written (`--qos=high`).
    pub extra: Vec<String>,
}
