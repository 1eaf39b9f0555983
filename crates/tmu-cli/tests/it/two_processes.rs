//! Two `tmu run` processes on one runs folder: a stage one of them is running is not run again
//! by the other, which waits for it and then takes the result from the cache; a holder that dies
//! (SIGKILL on this host, a silent node elsewhere) does not block it for ever.

use crate::support;

use std::process::Stdio;

use support::{Run, Workspace, read_json, wait_for};

#[test]
fn a_second_process_waits_for_the_first_and_reuses_its_result() {
    let ws = Workspace::new();
    let (started, release) = (ws.path().join("started"), ws.path().join("release"));
    let file = ws.write(
        "shared.toml",
        &format!(
            r#"
format = 1
name = "shared"

[stages.src]
kind = "fixture.source"

[stages.slow]
kind = "fixture.sleep"
inputs = {{ x = "src.metrics" }}
config = {{ name = "slow", signal_file = "{}", wait_for = "{}" }}
"#,
            started.display(),
            release.display()
        ),
    );
    let first_log = ws.path().join("first.log");
    let first = ws
        .tmu(&["run", &file])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&first_log).unwrap()))
        .spawn()
        .unwrap();
    wait_for(&started);

    let second_log = ws.path().join("second.log");
    let second = ws
        .tmu(&["run", &file])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&second_log).unwrap()))
        .spawn()
        .unwrap();
    // Let the first one finish only once the second is waiting for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::fs::read_to_string(&second_log).unwrap().contains("[slow] waiting: another tmu process") {
        assert!(std::time::Instant::now() < deadline, "{}", std::fs::read_to_string(&second_log).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::write(&release, b"go").unwrap();

    let first = Run::from(first.wait_with_output().unwrap()).ok();
    let second = Run::from(second.wait_with_output().unwrap()).ok();
    assert_eq!(first.result("slow"), "ran");
    assert_eq!(second.result("src"), "cached");
    assert_eq!(second.result("slow"), "cached");
    let log = std::fs::read_to_string(&second_log).unwrap();
    assert!(!log.contains("[slow] started"), "{log}");
}

/// A pipeline whose `slow` stage waits for `release` (or resumes from its checkpoint at once).
fn slow_pipeline(ws: &Workspace) -> String {
    ws.write(
        "slow.toml",
        &format!(
            r#"
format = 1
name = "slow"

[stages.src]
kind = "fixture.source"

[stages.slow]
kind = "fixture.sleep"
inputs = {{ x = "src.metrics" }}
config = {{ name = "slow", signal_file = "{}", wait_for = "{}" }}
"#,
            ws.path().join("started").display(),
            ws.path().join("release").display()
        ),
    )
}

fn wait_for_text(path: &std::path::Path, text: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let log = std::fs::read_to_string(path).unwrap_or_default();
        if log.contains(text) {
            return log;
        }
        assert!(std::time::Instant::now() < deadline, "`{text}` never appeared in:\n{log}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_waiting_process_takes_over_when_the_holder_is_killed() {
    let ws = Workspace::new();
    let file = slow_pipeline(&ws);
    let mut first = ws.tmu(&["run", &file]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_for(&ws.path().join("started"));
    let second_log = ws.path().join("second.log");
    let second = ws
        .tmu(&["run", &file])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&second_log).unwrap()))
        .spawn()
        .unwrap();
    let log = wait_for_text(&second_log, "[slow] waiting: another tmu process");
    // The waiter names the holder.
    assert!(log.contains(&format!("(pid {} on ", first.id())), "{log}");
    first.kill().unwrap(); // SIGKILL: the holder never releases its lock itself
    first.wait().unwrap();
    // The second process sees the holder's kernel lock gone at once (no lease to wait out) and
    // resumes the stage from the checkpoint the killed attempt left.
    let second = Run::from(second.wait_with_output().unwrap()).ok();
    assert_eq!(second.result("slow"), "ran");
    assert_eq!(second.row("slow")[4], "resumed=true");
    assert!(std::fs::read_dir(ws.runs().join(".locks")).unwrap().next().is_none(), "lock files left behind");
}

#[test]
fn a_lock_of_another_host_that_stops_beating_expires_after_its_lease() {
    let ws = Workspace::new();
    let file = slow_pipeline(&ws);
    std::fs::write(ws.path().join("release"), b"go").unwrap();
    ws.run(&["run", &file]).ok();
    let key = read_json(&ws.runs().join("slow/slow/stage.json"))["key"].as_str().unwrap().to_string();
    // A node of a shared runs folder died holding the key: its lock file names it, and its
    // heartbeat stopped.
    let holder = serde_json::json!({ "host": "node-that-died", "pid": 1, "nonce": "n", "since": "earlier" });
    std::fs::write(ws.runs().join(".locks").join(&key), holder.to_string()).unwrap();
    let started = std::time::Instant::now();
    let run =
        Run::from(ws.tmu(&["run", &file, "--force", "slow"]).env("TMU_LOCK_LEASE_S", "1.5").output().unwrap()).ok();
    assert!(run.stderr.contains("(pid 1 on node-that-died since earlier)"), "{}", run.stderr);
    assert_eq!(run.result("slow"), "ran");
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500), "the lease was not waited out");
}
