//! tmu-host's integration tests as one binary: one module per topic, the shared helpers
//! declared once (a binary per file cost a link and ~100 MB of disk each).

#[path = "../support/fixtures.rs"]
mod fixtures;
#[path = "../support/pipeline.rs"]
mod pipeline;

mod cache;
mod concurrency;
mod failures;
mod loading;
mod store;
mod sweep;
