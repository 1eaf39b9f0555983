//! The subcommands.

mod describe;
mod gc;
mod plan;
mod run;
mod schema;
mod stage;
mod verify;

pub use describe::describe;
pub use gc::gc;
pub use plan::{check, plan};
pub use run::run;
pub use schema::schema;
pub use stage::stage;
pub use verify::verify;
