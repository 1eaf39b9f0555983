//! The subcommands.

mod describe;
mod plan;
mod run;
mod schema;

pub use describe::describe;
pub use plan::{check, plan};
pub use run::run;
pub use schema::schema;
