//! A real `tmu run` killed (SIGKILL) or interrupted (SIGINT) mid-stage: the next run trusts no
//! partial output, redoes no finished stage, and resumes the interrupted one from its checkpoint.

#![cfg(unix)]

use crate::support;

use std::process::{Child, Stdio};

use support::{Run, Workspace, read_json, wait_for};

fn pipeline(ws: &Workspace) -> String {
    let signal = ws.path().join("sleeper.started");
    ws.write(
        "long.toml",
        &format!(
            r#"
format = 1
name = "long"

[stages.src]
kind = "fixture.source"

[stages.add]
kind = "fixture.add"
inputs = {{ x = "src.metrics" }}

[stages.sleeper]
kind = "fixture.sleep"
inputs = {{ x = "add.metrics" }}
config = {{ name = "sleeper", signal_file = "{}" }}

[stages.tail]
kind = "fixture.add"
inputs = {{ x = "sleeper.metrics" }}
"#,
            signal.display()
        ),
    )
}

/// Starts `tmu run` and waits until the sleeper has written its partial output.
fn start_and_wait(ws: &Workspace, file: &str) -> Child {
    let log = std::fs::File::create(ws.path().join("first.log")).unwrap();
    let child = ws.tmu(&["run", file]).stdout(Stdio::null()).stderr(Stdio::from(log)).spawn().unwrap();
    wait_for(&ws.path().join("sleeper.started"));
    child
}

/// Attempt folders in `runs/.tmp`.
fn attempts(ws: &Workspace) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(ws.runs().join(".tmp")).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect()
}

fn assert_resumed(ws: &Workspace, second: &Run) {
    assert_eq!(second.result("src"), "cached");
    assert_eq!(second.result("add"), "cached");
    assert_eq!(second.result("sleeper"), "ran");
    assert_eq!(second.result("tail"), "ran");
    assert_eq!(second.row("sleeper")[4], "resumed=true");
    let out = read_json(&ws.runs().join("long/sleeper/metrics.json"));
    assert_eq!(out["resumed"], true);
    assert!(attempts(ws).is_empty(), "attempt folders left: {:?}", attempts(ws));
}

#[test]
fn a_killed_run_leaves_nothing_trusted_and_the_next_run_resumes() {
    let ws = Workspace::new();
    let file = pipeline(&ws);
    let mut child = start_and_wait(&ws, &file);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Finished stages are whole; the sleeper's partial output lies only in an attempt folder.
    assert!(ws.runs().join("long/add/stage.json").is_file());
    assert!(!ws.runs().join("long/sleeper/stage.json").exists());
    let partial: Vec<_> = attempts(&ws);
    assert_eq!(partial.len(), 1, "{partial:?}");
    assert!(partial[0].join("INCOMPLETE").is_file());
    assert_eq!(std::fs::read(partial[0].join("out/metrics.json")).unwrap(), b"{ \"partial");

    let second = ws.run(&["run", &file]).ok();
    assert_resumed(&ws, &second);
    // Every cache entry holds whole outputs.
    for entry in std::fs::read_dir(ws.runs().join(".cache")).unwrap().flatten() {
        assert!(!entry.path().join("INCOMPLETE").exists());
        for out in std::fs::read_dir(entry.path().join("out")).unwrap().flatten() {
            if out.path().extension().is_some_and(|e| e == "json") {
                read_json(&out.path());
            }
        }
    }
}

#[test]
fn ctrl_c_stops_the_running_stage_and_keeps_the_finished_ones() {
    let ws = Workspace::new();
    let file = pipeline(&ws);
    let child = start_and_wait(&ws, &file);
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let log = std::fs::read_to_string(ws.path().join("first.log")).unwrap();
    assert!(log.contains("cancelling: waiting for running stages to stop"), "{log}");
    assert!(
        log.contains(
            "[sleeper] cancelled: stage `sleeper` (fixture.sleep, plugin `fixture-stages`) was cancelled: cancelled"
        ),
        "{log}"
    );
    assert!(log.contains("error: cancelled; 2 stages finished and kept"), "{log}");
    assert!(log.contains("help: run the same command again to continue"), "{log}");
    assert_eq!(read_json(&ws.runs().join("long/sleeper/stage.json"))["status"], "cancelled");

    let second = ws.run(&["run", &file]).ok();
    assert_resumed(&ws, &second);
}
