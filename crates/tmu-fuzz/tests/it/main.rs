//! tmu-fuzz's integration tests as one binary.

mod fuzz;
