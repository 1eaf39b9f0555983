//! `tmu plan` and `tmu run` on a sweep: the expanded plan with its counts, progress in points,
//! a failing point reported with a non-zero exit while the others finish.

use crate::support;

use support::{Workspace, read_json};

fn grid(divisors: &str) -> String {
    format!(
        r#"
format = 1
name = "grid"

[sweep]
seed = [0, 1]
by = {{ values = [{divisors}], bind = ["div.config.by"] }}

[stages.src]
kind = "fixture.source"

[stages.div]
kind = "fixture.divide"
inputs = {{ x = "src.metrics" }}

[stages.collect]
kind = "fixture.collect"
inputs = {{ parts = "div.metrics" }}
"#
    )
}

#[test]
fn plan_shows_the_instances_and_what_is_cached() {
    let ws = Workspace::new();
    let file = ws.write("grid.toml", &grid("1.0, 2.0"));
    let plan = ws.run(&["plan", &file]).ok();
    assert!(
        plan.stdout.starts_with("pipeline `grid` (grid.toml): 3 stages over 4 points: 7 stage runs (1 shared)"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("axis by = [1.0, 2.0] -> div.config.by\n"), "{}", plan.stdout);
    assert!(plan.stdout.contains("stage runs: src x2, div x4, collect x1\n"), "{}", plan.stdout);
    assert!(plan.stdout.contains("[seed=1,by=2.0]\n"), "{}", plan.stdout);
    let check = ws.run(&["check", &file]).ok();
    assert_eq!(check.stdout.trim(), "grid.toml: pipeline `grid` is valid (3 stages over 4 points: 7 stage runs)");

    ws.run(&["run", &file, "--to", "seed=0/src"]).ok();
    let plan = ws.run(&["plan", &file]).ok();
    assert!(plan.stdout.contains("  seed=0/src         cached  key "), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("7 stage runs: 1 cached, 3 will run, 3 will run unless their inputs come out unchanged"),
        "{}",
        plan.stdout
    );
}

#[test]
fn run_reports_points_and_a_failing_point_without_stopping_the_rest() {
    let ws = Workspace::new();
    let file = ws.write("grid.toml", &grid("1.0, 0.0"));
    let run = ws.run(&["run", &file]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("[sweep] 1/4 points done"), "{}", run.stderr);
    assert!(run.stderr.contains("[seed=0,by=0.0/div] failed"), "{}", run.stderr);
    assert!(run.stderr.contains("error: stage `seed=0,by=0.0/div` (fixture.divide, plugin `fixture-stages`) failed: cannot divide by zero\nstage `seed=1,by=0.0/div`"), "{}", run.stderr);
    assert_eq!(run.result("seed=1,by=1.0/div"), "ran");
    assert_eq!(run.result("collect"), "ran");
    assert!(run.stdout.contains("5 ran, 0 cached, 2 failed, 0 not run; 2/4 points done (2 failed)"), "{}", run.stdout);
    assert_eq!(read_json(&ws.runs().join("grid/collect/metrics.json"))["sums"].as_object().unwrap().len(), 2);
}
