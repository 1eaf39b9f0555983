//! `--executor process`: each stage in a child `tmu` process. The same results as in-process;
//! a stage that segfaults, aborts, runs out of memory or hangs past its `timeout` fails alone,
//! named with the signal, and the stages that do not need it finish.

#![cfg(unix)]

use crate::support;

use std::os::unix::process::CommandExt;

use support::{Run, Workspace, read_json};

/// `src` feeds `ok` and the crashing stage `boom`; `after` needs `boom`.
fn crashing(ws: &Workspace, how: &str, timeout: Option<&str>) -> String {
    let timeout = timeout.map(|t| format!("timeout = \"{t}\"\n")).unwrap_or_default();
    ws.write(
        "crash.toml",
        &format!(
            r#"
format = 1
name = "crash"

[stages.src]
kind = "fixture.source"

[stages.boom]
kind = "fixture.crash"
inputs = {{ x = "src.metrics" }}
config = {{ how = "{how}" }}
{timeout}
[stages.ok]
kind = "fixture.add"
inputs = {{ x = "src.metrics" }}

[stages.after]
kind = "fixture.add"
inputs = {{ x = "boom.metrics" }}
"#
        ),
    )
}

fn check_isolated(run: &Run, expected: &str) {
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(expected), "expected `{expected}` in:\n{}", run.stderr);
    assert_eq!(run.result("src"), "ran");
    assert_eq!(run.result("ok"), "ran");
    assert_eq!(run.result("boom"), "failed");
    assert_eq!(run.result("after"), "not run");
}

#[test]
fn a_segfault_fails_its_stage_alone() {
    let ws = Workspace::new();
    let run = ws.run(&["run", &crashing(&ws, "segfault", None), "--executor", "process", "-k"]);
    check_isolated(&run, "stage `boom` (fixture.crash): its process (pid ");
    assert!(run.stderr.contains("was killed by signal 11 (SIGSEGV: an invalid memory access)"), "{}", run.stderr);
    assert!(run.stderr.contains("help: the stage ran in its own process"), "{}", run.stderr);
    assert_eq!(read_json(&ws.runs().join("crash/boom/stage.json"))["status"], "failed");
    // The dead child's attempt folder is gone already.
    let left = std::fs::read_dir(ws.runs().join(".tmp")).unwrap().flatten().filter(|e| e.path().is_dir()).count();
    assert_eq!(left, 0);
}

#[test]
fn an_abort_fails_its_stage_alone() {
    let ws = Workspace::new();
    let run = ws.run(&["run", &crashing(&ws, "abort", None), "--executor", "process", "-k"]);
    check_isolated(&run, "was killed by signal 6 (SIGABRT: the process aborted)");
}

#[test]
fn running_out_of_memory_fails_its_stage_alone() {
    let ws = Workspace::new();
    let mut cmd = ws.tmu(&["run", &crashing(&ws, "allocate", None), "--executor", "process", "-k"]);
    // SAFETY: only setrlimit between fork and exec. 2 GiB of address space: plenty for tmu and
    // the fixture plugin (neither links candle), not for the stage's hoard.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 2 << 30, rlim_max: 2 << 30 };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        });
    }
    let run = Run::from(cmd.output().unwrap());
    check_isolated(&run, "was killed by signal 6 (SIGABRT: the process aborted)");
    assert!(run.stderr.contains("its standard error: memory allocation of"), "{}", run.stderr);
}

#[test]
fn a_stage_that_hangs_past_its_timeout_is_stopped_and_fails_alone() {
    let ws = Workspace::new();
    let run = ws.run(&["run", &crashing(&ws, "hang", Some("1s")), "--executor", "process", "-k"]);
    check_isolated(
        &run,
        "stage `boom` (fixture.crash) timed out after 1 s (its `timeout`): it did not stop when asked",
    );
    assert!(run.stderr.contains("was killed by signal 9"), "{}", run.stderr);
}

#[test]
fn a_stage_that_stops_when_asked_times_out_in_process_too() {
    let ws = Workspace::new();
    let file = ws.write(
        "slow.toml",
        "format = 1\nname = \"slow\"\n[stages.nap]\nkind = \"fixture.sleep\"\nconfig = { name = \"nap\" }\ntimeout = \"1s\"\n",
    );
    for executor in ["in-process", "process"] {
        let runs = format!("runs-{executor}");
        let run = ws.run(&["run", &file, "--executor", executor, "--runs-dir", &runs]);
        assert_eq!(run.code, Some(1), "{executor}: {}", run.stderr);
        assert!(
            run.stderr.contains("stage `nap` (fixture.sleep) timed out after 1 s (its `timeout`)"),
            "{executor}: {}",
            run.stderr
        );
        assert_eq!(run.result("nap"), "failed", "{executor}");
    }
}

#[test]
fn both_executors_give_the_same_results() {
    let ws = Workspace::new();
    let file = ws.write(
        "same.toml",
        r#"
format = 1
name = "same"

[stages.src]
kind = "fixture.source"
config = { values = [1.5, 2.5] }

[stages.add]
kind = "fixture.add"
inputs = { x = "src.metrics", labels = "src.labels" }
config = { add = 3.0 }
"#,
    );
    let a = ws.run(&["run", &file, "--runs-dir", "a"]).ok();
    let b = ws.run(&["run", &file, "--runs-dir", "b", "--executor", "process"]).ok();
    assert_eq!((a.result("add").as_str(), b.result("add").as_str()), ("ran", "ran"));
    for stage in ["src", "add"] {
        let (ra, rb) = (
            read_json(&ws.path().join("a/same").join(stage).join("stage.json")),
            read_json(&ws.path().join("b/same").join(stage).join("stage.json")),
        );
        assert_eq!(ra["key"], rb["key"]);
        assert_eq!(ra["outputs"], rb["outputs"], "{stage}: the outputs hash alike");
    }
    // Progress and logs of a child reach the parent's output.
    let c = ws.run(&["run", &file, "--runs-dir", "c", "--executor", "process"]).ok();
    assert!(c.stderr.contains("[src] writing 2 values"), "{}", c.stderr);
}
