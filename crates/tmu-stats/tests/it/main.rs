//! tmu-stats's integration tests as one binary: one module per topic, the shared helpers
//! declared once (a binary per file cost a link and ~100 MB of disk each).

mod auc;
mod cluster;
mod membership;
mod paired;
mod quantile;
