//! `split.forget`: members / hold-out, then the forget set and its twin, by strategy.

mod config;
mod listed;
mod select;
mod stage;

pub use config::{Amount, ClassRef, ForgetConfig, Strategy, StrategyName};
pub use listed::resolve_list;
pub use select::{ForgetPlan, plan, plan_listed};
pub use stage::SplitForget;
