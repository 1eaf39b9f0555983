//! tmu-cli's integration tests as one binary: one module per topic, the shared helpers
//! declared once (a binary per file cost a link and ~100 MB of disk each).

#[path = "../support/real_builds.rs"]
mod real_builds;
#[path = "../support/mod.rs"]
mod support;

mod cli;
mod devices;
mod executors;
mod faults;
mod generated_docs;
mod interrupt;
mod real_plugins;
mod slurm;
mod store;
mod sweep;
mod two_processes;
