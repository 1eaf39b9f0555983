//! `--devices cuda:0,cuda:1`: the run's CUDA stages are spread over the listed GPUs (the fixture
//! plugin needs no GPU: it only writes down the device it was given), and a cached result is
//! reused whichever GPU the stage would land on next time.

use crate::support;

use std::collections::BTreeSet;

use support::{Workspace, read_json};

/// Two stages on `cuda` that each wait for the other to start: they finish only if they run at
/// the same time, which with one stage per GPU needs two GPUs.
fn pair(ws: &Workspace) -> String {
    let a = ws.path().join("a.started").display().to_string();
    let b = ws.path().join("b.started").display().to_string();
    ws.write(
        "gpus.toml",
        &format!(
            r#"
format = 1
name = "gpus"
device = "cuda"

[stages.a]
kind = "fixture.sleep"
config = {{ name = "a", signal_file = "{a}", wait_for = "{b}" }}

[stages.b]
kind = "fixture.sleep"
config = {{ name = "b", signal_file = "{b}", wait_for = "{a}" }}
"#
        ),
    )
}

#[test]
fn stages_spread_over_the_listed_gpus_and_share_the_cache() {
    let ws = Workspace::new();
    let file = pair(&ws);
    let run = ws.run(&["run", &file, "-j", "2", "--devices", "cuda:0,cuda:1"]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let devices: BTreeSet<String> = ["a", "b"]
        .iter()
        .map(|s| read_json(&ws.runs().join(format!("gpus/{s}/metrics.json")))["device"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(devices, BTreeSet::from(["cuda:0".to_string(), "cuda:1".to_string()]));
    assert_eq!(read_json(&ws.runs().join("gpus/a/stage.json"))["device_key"], "cuda");

    // On one other GPU now: the keys name the device kind, so nothing runs again.
    let again = ws.run(&["run", &file, "--devices", "cuda:3"]);
    assert!(again.stdout.contains("0 ran, 2 cached"), "{}\n{}", again.stdout, again.stderr);
}

#[test]
fn bad_device_lists_are_refused() {
    let ws = Workspace::new();
    let file = pair(&ws);
    let run = ws.run(&["run", &file, "--devices", "gpu0"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("`gpu0` is not a GPU: expected `cuda:N`, e.g. `--devices cuda:0,cuda:1`"),
        "{}",
        run.stderr
    );
    let run = ws.run(&["run", &file, "--devices", "cuda:1,cuda:1"]);
    assert!(run.stderr.contains("--devices lists cuda:1 twice"), "{}", run.stderr);
    let run = ws.run(&["run", &file, "--devices", "cuda:0", "--executor", "slurm"]);
    assert!(run.stderr.contains("--devices does not apply to --executor slurm"), "{}", run.stderr);
}
