//! tmu-nn's integration tests as one binary: one module per topic, the shared helpers
//! declared once (a binary per file cost a link and ~100 MB of disk each).

#[path = "../shared/grad_compare.rs"]
mod grad_compare;

mod digits;
mod engine;
mod grad_tolerance;
mod model_file;
mod ops_conv_paths;
mod ops_reference;
mod ops_vs_candle;
mod parity;
mod precision;
mod predict;
mod smoke;
