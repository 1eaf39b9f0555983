//! The command line: subcommands and their options (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Twin Machine Unlearning pipelines: declarative stages, cached results, plugins.
#[derive(Debug, Parser)]
#[command(name = "tmu", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub plugins: PluginArgs,
}

/// Where plugins come from (besides `[plugins] paths` in a pipeline file).
#[derive(Debug, Args)]
pub struct PluginArgs {
    /// Load this plugin library, or every library in this folder (repeatable). Also read from
    /// TMU_PLUGIN_PATH (a path list). The current folder is never searched implicitly.
    #[arg(long = "plugin-path", value_name = "PATH", global = true)]
    pub plugin_path: Vec<PathBuf>,
    /// Do not load the first-party plugins next to the tmu binary (`libtmu_*`).
    #[arg(long, global = true)]
    pub no_default_plugins: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline: stages whose inputs and config are unchanged are taken from the cache.
    Run(RunArgs),
    /// Validate a pipeline file and print every problem with file:line:column; runs nothing.
    Check {
        /// The pipeline file.
        pipeline: PathBuf,
    },
    /// Print the resolved stage graph and which stages are cached or would run.
    Plan {
        /// The pipeline file.
        pipeline: PathBuf,
        /// Print Graphviz DOT instead of text.
        #[arg(long)]
        dot: bool,
        /// Write a Slurm job script for every stage that is not cached into this folder, and
        /// `submit.sh`, which submits them with their dependencies (for submitting by hand).
        #[arg(long, value_name = "DIR", conflicts_with = "dot")]
        slurm: Option<PathBuf>,
        #[command(flatten)]
        slice: SliceArgs,
        /// The runs folder to look for cached results in.
        #[arg(long, value_name = "DIR", default_value = "runs")]
        runs_dir: PathBuf,
    },
    /// Describe the stages of the loaded plugins: ports, config fields, defaults, examples.
    Describe {
        /// Only this stage kind.
        kind: Option<String>,
    },
    /// What a run of the pipeline has done and has left to do: cached stages, and the Slurm
    /// jobs of a detached run that are still pending or running.
    Status {
        /// The pipeline file.
        pipeline: PathBuf,
        /// The runs folder.
        #[arg(long, value_name = "DIR", default_value = "runs")]
        runs_dir: PathBuf,
    },
    /// Check every cached result against the hashes recorded when it was stored, and every
    /// stage view against its cached result; exits with failure if any is corrupt.
    Verify {
        /// The runs folder to check.
        #[arg(long, value_name = "DIR", default_value = "runs")]
        runs_dir: PathBuf,
        /// Remove the corrupt entries (their stages run again when next needed).
        #[arg(long)]
        evict: bool,
    },
    /// Remove cached results that none of the given pipelines would reuse now (their stage
    /// views and work folders too). Lists what it would remove unless `--delete` is given.
    Gc {
        /// The pipeline files whose results to keep.
        #[arg(required = true, value_name = "PIPELINE")]
        pipelines: Vec<PathBuf>,
        /// The runs folder to clean.
        #[arg(long, value_name = "DIR", default_value = "runs")]
        runs_dir: PathBuf,
        /// Remove what is listed (without it, nothing is changed).
        #[arg(long)]
        delete: bool,
    },
    /// Runs one prepared stage attempt read from standard input (what `--executor process`
    /// starts for each stage); writes its events and outcome to standard output as JSON lines.
    /// With `--pipeline` and `--instance` (a Slurm job), it resolves that instance's inputs from
    /// the cache itself.
    #[command(name = "__stage", hide = true)]
    Stage {
        #[arg(long, value_name = "DIR")]
        runs_dir: PathBuf,
        #[arg(long)]
        trust_cache: bool,
        #[arg(long, value_name = "FILE", requires = "instance")]
        pipeline: Option<PathBuf>,
        #[arg(long, value_name = "NAME", requires = "pipeline")]
        instance: Option<String>,
    },
    /// Create an out-of-tree plugin project with one feature stage (`features.<NAME>`), its
    /// test and a pipeline that uses it, ready for `cargo test` and `cargo build --release`.
    NewPlugin(NewPluginArgs),
    /// Write the JSON Schema of pipeline files, with every loaded stage's config schema.
    Schema {
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Which stages of the graph to run.
#[derive(Debug, Args)]
pub struct SliceArgs {
    /// Run this stage even if its result is cached (repeatable). In a sweep a stage's name
    /// selects all its instances, `<point label>/<stage>` one of them.
    #[arg(long, value_name = "STAGE")]
    pub force: Vec<String>,
    /// Run only this stage and what depends on it; what it needs must be cached (repeatable).
    #[arg(long, value_name = "STAGE")]
    pub from: Vec<String>,
    /// Run only this stage and what it depends on (repeatable).
    #[arg(long, value_name = "STAGE")]
    pub to: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// How many stages may run at the same time.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// How many stages may run on one GPU at the same time.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub gpu_jobs: u16,
    /// The GPUs to spread the run's CUDA stages over (`cuda:0,cuda:1`): each stage on CUDA goes
    /// to the listed GPU with the fewest stages running (`--gpu-jobs` at most on each), whatever
    /// index its pipeline names; with `-j` at least the number of GPUs they run side by side.
    /// Cached results are shared across GPUs. Not with `--executor slurm` (Slurm places jobs).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_gpu, conflicts_with = "detach")]
    pub devices: Vec<usize>,
    #[command(flatten)]
    pub slice: SliceArgs,
    /// The runs folder: stage folders `<DIR>/<pipeline>/<stage>/` and the shared stage cache
    /// `<DIR>/.cache/`. Relative to the current folder.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    pub runs_dir: PathBuf,
    /// No progress bars or stage logs: errors and the final summary only.
    #[arg(short, long)]
    pub quiet: bool,
    /// After a failure, keep running the stages that do not need the failed one (always on for
    /// a pipeline with a `[sweep]`: its points are independent).
    #[arg(short = 'k', long)]
    pub keep_going: bool,
    /// Where stages run: `in-process` (threads of this process), `process` (each stage in a
    /// child `tmu` process of its own: a stage that crashes, aborts or is killed for memory fails
    /// alone, and the run goes on with what does not need it) or `slurm` (each stage a Slurm job;
    /// docs/cluster.md).
    #[arg(long, value_enum, default_value = "in-process")]
    pub executor: ExecutorArg,
    /// With `--executor slurm`: submit the jobs and return at once (`tmu status FILE` follows
    /// them; a rerun submits only what is not cached).
    #[arg(long)]
    pub detach: bool,
    /// Use cached results without checking that their files still hash to what was stored
    /// (faster on very large artifacts; a file changed by hand then goes unnoticed).
    #[arg(long)]
    pub trust_cache: bool,
}

/// One `--devices` entry: `cuda:N` (or `N`).
fn parse_gpu(s: &str) -> Result<usize, String> {
    s.trim()
        .strip_prefix("cuda:")
        .unwrap_or(s.trim())
        .parse()
        .map_err(|_| format!("`{s}` is not a GPU: expected `cuda:N`, e.g. `--devices cuda:0,cuda:1`"))
}

/// `--executor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExecutorArg {
    InProcess,
    Process,
    /// Each stage instance as a Slurm job (sbatch), with dependencies between them; the `[slurm]`
    /// table of the pipeline file sets partition, account, time, GPUs and extra options.
    Slurm,
}

#[derive(Debug, Args)]
pub struct NewPluginArgs {
    /// The plugin's name: lowercase letters, digits and `-`, starting with a letter. The crate is
    /// `tmu-<NAME>` (so `tmu` finds `libtmu_<NAME>` beside itself too), the stage `features.<NAME>`.
    pub name: String,
    /// The folder to create the project in (default: `./tmu-<NAME>`); it must not exist.
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Depend on the tmu crates of this checkout (default: the one this `tmu` was built from).
    #[arg(long, value_name = "DIR", conflicts_with = "git")]
    pub tmu: Option<PathBuf>,
    /// Depend on the tmu crates from this git repository instead (optionally `URL#REV`).
    #[arg(long, value_name = "URL")]
    pub git: Option<String>,
}
