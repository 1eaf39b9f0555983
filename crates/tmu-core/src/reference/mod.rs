//! Stage documentation from self-descriptions: the text `tmu describe` prints and the markdown
//! stage reference (`docs/stages.md`), both from one reading of the config schemas.

mod fields;
mod markdown;
mod text;

pub use fields::{ConfigField, config_fields, type_text};
pub use markdown::stages_markdown;
pub use text::stage_text;
