//! The runs folder through the real `tmu` binary: a corrupted cached file is reported and
//! recomputed, `tmu verify` and `tmu gc`, and writes that fail (a full disk, a read-only folder)
//! stop the stage with the path and the OS error and leave nothing half-written trusted.

#![cfg(unix)]

use crate::support;

use std::os::unix::process::CommandExt;
use std::path::Path;

use support::{Run, Workspace, read_json};

fn demo(ws: &Workspace, add: f64, values: &str) -> String {
    ws.write(
        "demo.toml",
        &format!(
            r#"
format = 1
name = "demo"

[stages.src]
kind = "fixture.source"
config = {{ values = [{values}] }}

[stages.add]
kind = "fixture.add"
inputs = {{ x = "src.metrics" }}
config = {{ add = {add:?} }}
"#
        ),
    )
}

/// Changes bytes of a file in place (same inode), after giving back write permission.
fn scribble(path: &Path) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    bytes[2] ^= 0x20;
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
        .unwrap();
}

/// The issue's scenario: a cached output edited through its stage view, then a downstream
/// stage's config changed. The run must not build on the edited file.
#[test]
fn a_corrupted_cached_output_is_reported_and_recomputed_before_use() {
    let ws = Workspace::new();
    let file = demo(&ws, 1.0, "1.0, 2.0, 3.0");
    ws.run(&["run", &file]).ok();
    scribble(&ws.runs().join("demo/src/metrics.json"));
    let file = demo(&ws, 2.0, "1.0, 2.0, 3.0");
    let run = ws.run(&["run", &file, "--quiet"]).ok();
    assert!(
        run.stderr.contains("[src] warning: its cached result is corrupt and was dropped; the stage runs again:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(output `metrics` of stage `src` in pipeline `demo`) hashes to"), "{}", run.stderr);
    assert_eq!(run.result("src"), "ran");
    assert_eq!(run.result("add"), "ran");
    assert_eq!(read_json(&ws.runs().join("demo/add/metrics.json"))["values"], serde_json::json!([3.0, 4.0, 5.0]));
}

#[test]
fn verify_reports_corrupt_results_and_evicts_them_on_request() {
    let ws = Workspace::new();
    let file = demo(&ws, 1.0, "1.0");
    ws.run(&["run", &file]).ok();
    let clean = ws.run(&["verify"]).ok();
    assert!(clean.stdout.contains("checked 2 cached results"), "{}", clean.stdout);
    assert!(clean.stdout.contains("all intact"), "{}", clean.stdout);

    scribble(&ws.runs().join("demo/add/metrics.json"));
    let bad = ws.run(&["verify"]);
    assert_eq!(bad.code, Some(1), "{}", bad.stdout);
    assert!(bad.stdout.contains("corrupt: "), "{}", bad.stdout);
    assert!(
        bad.stdout.contains("out/metrics.json (output `metrics` of stage `add` in pipeline `demo`)"),
        "{}",
        bad.stdout
    );
    assert!(bad.stdout.contains("1 corrupt"), "{}", bad.stdout);
    let evicted = ws.run(&["verify", "--evict"]);
    assert!(evicted.stdout.contains("removed 1 corrupt result(s)"), "{}", evicted.stdout);
    ws.run(&["verify"]).ok();
    assert_eq!(ws.run(&["run", &file]).ok().result("add"), "ran");

    let missing = ws.run(&["verify", "--runs-dir", "nowhere"]);
    assert_eq!(missing.code, Some(1));
    assert!(missing.stderr.contains("error: no runs folder at nowhere"), "{}", missing.stderr);
}

#[test]
fn gc_lists_first_and_removes_only_with_delete() {
    let ws = Workspace::new();
    let keep = demo(&ws, 1.0, "1.0");
    ws.run(&["run", &keep]).ok();
    let old = ws.write("old.toml", &std::fs::read_to_string(ws.path().join(&keep)).unwrap().replace("1.0]", "7.0]"));
    ws.run(&["run", &old]).ok();
    let entries = || std::fs::read_dir(ws.runs().join(".cache")).unwrap().count();
    assert_eq!(entries(), 4);

    // `keep` is now the only pipeline wanted; `old` (same name, other values) was run before.
    let dry = ws.run(&["gc", &keep]).ok();
    assert!(dry.stdout.contains("would remove 2 of 4 cached result(s)"), "{}", dry.stdout);
    assert!(dry.stdout.contains("nothing was changed"), "{}", dry.stdout);
    assert_eq!(entries(), 4);
    let done = ws.run(&["gc", &keep, "--delete"]).ok();
    assert!(done.stdout.contains("removed 2 cached result(s)"), "{}", done.stdout);
    assert_eq!(entries(), 2);
    let again = ws.run(&["run", &keep]).ok();
    assert_eq!((again.result("src").as_str(), again.result("add").as_str()), ("cached", "cached"));

    // A pipeline that does not validate removes nothing.
    let broken = ws.write("broken.toml", "format = 1\nname = \"x\"\n[stages.a]\nkind = \"fixture.nope\"\n");
    let refused = ws.run(&["gc", &broken, "--delete"]);
    assert_eq!(refused.code, Some(1));
    assert!(refused.stderr.contains("nothing was removed"), "{}", refused.stderr);
    assert_eq!(entries(), 2);
}

/// `tmu run` with the file-size limit `bytes` (RLIMIT_FSIZE, as `ulimit -f` sets it) and
/// SIGXFSZ ignored, so that a write past the limit fails with EFBIG as on a full disk.
fn run_with_file_limit(ws: &Workspace, args: &[&str], bytes: u64) -> Run {
    let mut cmd = ws.tmu(args);
    // SAFETY: between fork and exec only async-signal-safe calls are made (setrlimit, signal).
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    Run::from(cmd.output().unwrap())
}

#[test]
fn a_write_that_fails_for_lack_of_space_stops_the_stage_and_keeps_nothing_half_written() {
    let ws = Workspace::new();
    ws.run(&["run", &demo(&ws, 1.0, "1.0")]).ok();
    // 20,000 values: a metrics file of ~300 KB, over a 64 KiB limit that the host's own small
    // files stay under.
    let many = (0..20_000).map(|i| format!("{i}.5")).collect::<Vec<_>>().join(", ");
    let file = demo(&ws, 1.0, &many);
    let full = run_with_file_limit(&ws, &["run", &file], 64 << 10);
    assert_eq!(full.code, Some(1), "{}\n{}", full.stdout, full.stderr);
    assert!(full.stderr.contains("stage `src` (fixture.source, plugin `fixture-stages`) failed"), "{}", full.stderr);
    assert!(full.stderr.contains("metrics.json"), "{}", full.stderr);
    assert!(full.stderr.contains("File too large (os error 27)"), "{}", full.stderr);
    // Nothing of the attempt is in the cache or left in `.tmp`; the earlier results are intact.
    let tmp_dirs = std::fs::read_dir(ws.runs().join(".tmp")).unwrap().flatten().filter(|e| e.path().is_dir()).count();
    assert_eq!(tmp_dirs, 0);
    assert_eq!(std::fs::read_dir(ws.runs().join(".cache")).unwrap().count(), 2);
    ws.run(&["verify"]).ok();
    // With room again, the same run finishes.
    assert_eq!(ws.run(&["run", &file]).ok().result("src"), "ran");
}

/// Runs `tmu` as an unprivileged user when the tests run as root (root writes anywhere).
fn run_unprivileged(ws: &Workspace, args: &[&str]) -> Run {
    let mut cmd = ws.tmu(args);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // The workspace becomes `nobody`'s, so that only the permission bits the test sets
        // stand in its way (temp folders are private to their owner).
        chown_tree(ws.path(), 65534);
        cmd.uid(65534).gid(65534);
    }
    Run::from(cmd.output().unwrap())
}

fn chown_tree(path: &Path, id: u32) {
    std::os::unix::fs::lchown(path, Some(id), Some(id)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            chown_tree(&entry.path(), id);
        }
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chmod_tree(path: &Path, dir_mode: u32, file_mode: u32) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            chmod_tree(&entry.path(), dir_mode, file_mode);
        }
        chmod(path, dir_mode);
    } else {
        chmod(path, file_mode);
    }
}

#[test]
fn a_read_only_runs_folder_stops_the_run_with_the_path_and_loses_nothing() {
    let ws = Workspace::new();
    let file = demo(&ws, 1.0, "1.0");
    ws.run(&["run", &file]).ok();
    // `chmod -R a-w runs`.
    chmod_tree(&ws.runs(), 0o555, 0o444);
    let denied = run_unprivileged(&ws, &["run", &demo(&ws, 5.0, "1.0")]);
    chmod_tree(&ws.runs(), 0o755, 0o444);
    assert_eq!(denied.code, Some(1), "{}\n{}", denied.stdout, denied.stderr);
    assert!(denied.stderr.contains("error: cannot open the runs folder runs"), "{}", denied.stderr);
    assert!(denied.stderr.contains(".owner"), "{}", denied.stderr);
    assert!(denied.stderr.contains("Permission denied (os error 13)"), "{}", denied.stderr);
    let again = ws.run(&["run", &demo(&ws, 1.0, "1.0")]).ok();
    assert_eq!((again.result("src").as_str(), again.result("add").as_str()), ("cached", "cached"));
    ws.run(&["verify"]).ok();
}

#[test]
fn a_stage_view_that_cannot_be_written_fails_the_stage_and_keeps_its_result() {
    let ws = Workspace::new();
    let file = demo(&ws, 1.0, "1.0");
    ws.run(&["run", &file]).ok();
    // The pipeline's view folder alone is read-only; the store is writable.
    chmod_tree(&ws.runs().join("demo"), 0o555, 0o444);
    let denied = run_unprivileged(&ws, &["run", &demo(&ws, 5.0, "1.0")]);
    chmod_tree(&ws.runs().join("demo"), 0o755, 0o644);
    assert_eq!(denied.code, Some(1), "{}\n{}", denied.stdout, denied.stderr);
    // The first stage whose view is written: `src`, reused from the cache.
    assert!(
        denied.stderr.contains("stage `src` (fixture.source, plugin `fixture-stages`) failed: cannot remove"),
        "{}",
        denied.stderr
    );
    assert!(denied.stderr.contains("runs/demo/src: Permission denied (os error 13)"), "{}", denied.stderr);
    // Nothing half-written is trusted: the next run with write access finishes.
    assert_eq!(ws.run(&["run", &demo(&ws, 5.0, "1.0")]).ok().result("add"), "ran");
    ws.run(&["verify"]).ok();
}
