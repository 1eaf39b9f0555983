//! `split.forget`: members / hold-out, then the forget set and its twin, by strategy.

mod config;
mod select;
mod stage;

pub use config::{Amount, ClassRef, ForgetConfig, Strategy, StrategyName};
pub use select::{ForgetPlan, plan};
pub use stage::SplitForget;
