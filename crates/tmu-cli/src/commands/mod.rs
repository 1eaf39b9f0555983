//! The subcommands.

mod describe;
mod gc;
mod new_plugin;
mod plan;
pub(crate) mod run;
mod schema;
mod stage;
mod status;
mod verify;

pub use describe::describe;
pub use gc::gc;
pub use new_plugin::new_plugin;
pub use plan::{check, plan};
pub use run::run;
pub use schema::schema;
pub use stage::stage;
pub use status::status;
pub use verify::verify;
