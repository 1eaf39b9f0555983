//! tmu-plugin's integration tests as one binary: one module per topic, the shared helpers
//! declared once (a binary per file cost a link and ~100 MB of disk each).

mod artifacts;
mod device;
mod plugin_run;
