//! Two `tmu run` processes on one runs folder: a stage one of them is running is not run again
//! by the other, which waits for it and then takes the result from the cache.

use crate::support;

use std::process::Stdio;

use support::{Run, Workspace, wait_for};

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
