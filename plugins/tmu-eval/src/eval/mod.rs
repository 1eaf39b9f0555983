//! `eval.unlearning`: config, the sets it reads, per-model runs, the metrics layout, the report.

mod config;
mod cost;
mod model_eval;
mod record;
mod report;
mod sets;
mod stage;
mod table;

pub use config::{EvalConfig, MiaPopulation};
pub use cost::MethodCosts;
pub use record::SCHEMA;
pub use stage::EvalUnlearning;
