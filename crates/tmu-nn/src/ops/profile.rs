//! Opt-in wall-clock accounting of the fast CPU kernels (calls and seconds per kernel), used by
//! the training-step bench to say where the time goes; off by default, one atomic load per call.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);
static TABLE: Mutex<Vec<KernelTime>> = Mutex::new(Vec::new());

/// Accumulated time of one kernel.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelTime {
    /// Kernel name, e.g. `conv2d.backward`.
    pub name: &'static str,
    /// Number of calls.
    pub calls: u64,
    /// Total wall-clock seconds.
    pub seconds: f64,
}

/// Turns the accounting on or off (it starts off).
pub fn set_profiling(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Clears the accumulated times.
pub fn reset_profile() {
    TABLE.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

/// The accumulated times, in the order the kernels were first seen.
pub fn profile_report() -> Vec<KernelTime> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Runs `f`, adding its duration to `name` when profiling is on.
pub(crate) fn timed<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
    if !ENABLED.load(Ordering::Relaxed) {
        return f();
    }
    let start = Instant::now();
    let r = f();
    let dt = start.elapsed().as_secs_f64();
    let mut table = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    match table.iter_mut().find(|k| k.name == name) {
        Some(k) => {
            k.calls += 1;
            k.seconds += dt;
        }
        None => table.push(KernelTime { name, calls: 1, seconds: dt }),
    }
    r
}
