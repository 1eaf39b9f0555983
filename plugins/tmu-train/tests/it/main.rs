//! tmu-train's integration tests as one binary: one module per topic, the shared helpers
//! declared once (a binary per file cost a link and ~100 MB of disk each).

mod describe_snapshot;
mod import;
mod stage;
mod twin;
