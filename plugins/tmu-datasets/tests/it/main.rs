//! tmu-datasets's integration tests as one binary: one module per topic, the shared helpers
//! declared once (a binary per file cost a link and ~100 MB of disk each).

#[path = "../common/mod.rs"]
mod common;

mod cifar_binary;
mod cifar_python;
mod describe;
mod describe_snapshot;
mod digits;
mod examples;
mod image_folder;
mod split_forget;
mod split_lists;
mod split_shadow;
mod synthetic;
mod vggface2;
