//! tmu-features's integration tests as one binary: one module per topic, the shared helpers
//! declared once (a binary per file cost a link and ~100 MB of disk each).

#[path = "../common/mod.rs"]
mod common;

mod describe;
mod describe_snapshot;
mod determinism;
mod edge_cases;
mod examples;
mod knn;
mod reference;
