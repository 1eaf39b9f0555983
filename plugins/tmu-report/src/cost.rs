//! The cost table of `report.sweep`: mean ± std over the points of each method's cost against
//! gold's retrain, as `eval.unlearning` records it (`cost.*` of every model record): the forget
//! stage alone, and everything the method needs beyond the original model, per request and as a
//! whole (set-up included).

use std::fmt::Write as _;

use crate::long::Row;
use crate::markdown;

/// The cost metrics of the table, in column order.
pub const COST_METRICS: [&str; 7] = [
    "cost.forget.wall_ratio",
    "cost.forget.work_ratio",
    "cost.setup.wall_seconds",
    "cost.per_request.wall_ratio",
    "cost.whole.wall_ratio",
    "cost.whole.work_ratio",
    "cost.whole.wall_seconds",
];

/// Writes the cost section when the points record any cost.
pub fn section(md: &mut String, rows: &[Row], methods: &[String]) {
    let present: Vec<String> = COST_METRICS
        .iter()
        .filter(|m| rows.iter().any(|r| r.metric == **m && r.value.is_some()))
        .map(|m| m.to_string())
        .collect();
    if present.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Cost against gold's retrain\n");
    let _ = writeln!(
        md,
        "Per point, as `eval.unlearning` records it: `wall_ratio` = wall seconds / gold's retrain, `work_ratio` = \
         samples through forward and backward / gold's. `forget` = the forget stage alone; `setup` = what the method \
         does once per original model and reuses for every later deletion request (seconds); `per_request` = the \
         forget stage plus what every request needs besides; `whole` = set-up plus per request (which stages are \
         which: eval's `method_costs`). A method that needs nothing but its forget stage has the same forget, \
         per-request and whole cost. `original` is left out: its cost is the training of the model unlearning \
         starts from.\n"
    );
    let methods: Vec<String> = methods.iter().filter(|m| *m != "original").cloned().collect();
    markdown::summary(md, rows, &methods, &present);
}
