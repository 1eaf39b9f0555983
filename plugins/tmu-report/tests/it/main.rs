//! tmu-report's integration tests as one binary: one module per topic, the shared helpers
//! declared once (a binary per file cost a link and ~100 MB of disk each).

mod describe;
mod describe_snapshot;
mod html;
mod membership;
mod report;
