//! tmu-host: finds and loads plugin libraries, keeps the registry of stage kinds, and runs
//! validated plans with a content-addressed stage cache and atomic run folders.
//!
//! ```text
//! let registry = Registry::load(&search_paths)?;            // libraries, version-checked
//! let plan = tmu_core::load(path, &text, &registry)?;        // the registry is the catalog
//! let runs = RunsDir::open(Path::new("runs"))?;
//! let report = run_plan(&plan, &registry, &runs, &options, &events, &cancel)?;
//! ```
//!
//! **Architecture invariant:** the host never links candle; data crosses into plugins only as
//! artifact files named in JSON requests (see `tmu_plugin::abi`).

mod callbacks;
pub mod discovery;
mod error;
pub mod exec;
mod hash;
pub mod loader;
pub mod record;
pub mod registry;
pub mod store;
mod time;

pub use discovery::{Candidate, SearchPaths, discover};
pub use error::{Origin, PluginError};
pub use exec::{
    Event, ExecOptions, Executor, Outcome, PointsProgress, RunError, RunReport, StageFailure, StageReport, StageStatus,
    plan_status, run_plan,
};
pub use hash::{hash_file, hash_path};
pub use loader::{LoadedPlugin, load};
pub use registry::Registry;
pub use store::{Corruption, RunsDir, StoreError, StoreOptions};
