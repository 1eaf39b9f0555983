//! The `tmu` binary end to end on the fixture plugins: run and rerun, check, plan, describe,
//! schema, refused plugins, failing stages, and where plugins are (not) looked for.

use crate::support;

use support::fixtures::{copy_as, dll_name, fixture};
use support::{Workspace, read_json};

const DEMO: &str = r#"
format = 1
name = "demo"

[stages.src]
kind = "fixture.source"
config = { values = [1.0, 2.0, 3.0] }

[stages.add]
kind = "fixture.add"
inputs = { x = "src.metrics" }

[stages.other]
kind = "fixture.source"
config = { values = [5.0] }

[stages.add2]
kind = "fixture.add"
inputs = { x = "other.metrics" }
config = { add = 0.5 }
"#;

#[test]
fn run_names_the_plugins_summarises_and_reruns_from_the_cache() {
    let ws = Workspace::new();
    let file = ws.write("demo.toml", DEMO);
    let first = ws.run(&["run", &file]).ok();
    let plugin = fixture("stages");
    assert!(
        first.stderr.contains(&format!("loaded plugin fixture-stages 0.1.0 (9 stages) from {}", plugin.display())),
        "{}",
        first.stderr
    );
    // Plain lines when stderr is not a terminal.
    assert!(
        first.stderr.contains("[src] started: fixture.source from plugin fixture-stages on cpu"),
        "{}",
        first.stderr
    );
    assert!(first.stderr.contains("[src] writing 3 values"), "{}", first.stderr);
    for stage in ["src", "add", "other", "add2"] {
        assert_eq!(first.result(stage), "ran");
    }
    assert_eq!(first.row("add")[3], "cpu");
    assert_eq!(first.row("add")[4], "sum=9");
    assert!(
        first.stdout.contains(&format!(
            "4 ran, 0 cached; outputs in {}/demo/<stage>/",
            ws.runs().canonicalize().unwrap().display()
        )),
        "{}",
        first.stdout
    );
    assert_eq!(read_json(&ws.runs().join("demo/add2/metrics.json"))["sum"], 5.5);

    let second = ws.run(&["run", &file]).ok();
    for stage in ["src", "add", "other", "add2"] {
        assert_eq!(second.result(stage), "cached");
    }
    assert!(second.stdout.contains("0 ran, 4 cached"), "{}", second.stdout);

    let quiet = ws.run(&["run", &file, "--quiet", "--force", "add2"]).ok();
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    assert_eq!(quiet.result("add2"), "ran");
}

#[test]
fn check_reports_every_problem_with_its_place_and_runs_nothing() {
    let ws = Workspace::new();
    let bad = ws.write(
        "bad.toml",
        r#"format = 1
name = "bad"

[stages.src]
kind = "fixture.source"
config = { scale = 11, colour = "red" }

[stages.add]
kind = "fixture.add"
inputs = { x = "srx.metrics" }
"#,
    );
    let r = ws.run(&["check", &bad]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("bad.toml:6:20"), "{}", r.stderr);
    assert!(r.stderr.contains("bad.toml:6:24"), "{}", r.stderr);
    assert!(r.stderr.contains("bad.toml:10:"), "{}", r.stderr);
    assert!(r.stderr.contains("error: 3 problems in bad.toml; nothing was run"), "{}", r.stderr);
    // `run` refuses the same file before running anything.
    let r = ws.run(&["run", &bad]);
    assert_eq!(r.code, Some(1));
    assert!(!ws.runs().exists());

    let good = ws.write("demo.toml", DEMO);
    let r = ws.run(&["check", &good]).ok();
    assert_eq!(r.stdout.trim(), "demo.toml: pipeline `demo` is valid (4 stages)");
}

#[test]
fn plan_shows_the_graph_and_what_is_cached() {
    let ws = Workspace::new();
    let file = ws.write("demo.toml", DEMO);
    let r = ws.run(&["plan", &file]).ok();
    assert!(r.stdout.contains("pipeline `demo`"), "{}", r.stdout);
    assert!(r.stdout.contains("nothing cached yet"), "{}", r.stdout);

    ws.run(&["run", &file, "--to", "add"]).ok();
    ws.write("demo.toml", &DEMO.replace("values = [1.0, 2.0, 3.0]", "values = [1.0]"));
    let r = ws.run(&["plan", &file]).ok();
    let status = |stage: &str| {
        r.stdout
            .lines()
            .skip_while(|l| !l.starts_with("in runs"))
            .find(|l| l.trim_start().starts_with(&format!("{stage} ")))
            .unwrap_or_else(|| panic!("no status for {stage}:\n{}", r.stdout))
            .to_string()
    };
    assert!(status("src").contains("will run  key "), "{}", r.stdout);
    assert!(status("add").contains("will run unless its inputs come out unchanged"), "{}", r.stdout);
    assert!(status("other").contains("will run  key "), "{}", r.stdout);
    let r = ws.run(&["plan", &file, "--to", "other"]).ok();
    assert!(r.stdout.lines().any(|l| l.trim_start().starts_with("src ") && l.contains("excluded")), "{}", r.stdout);

    ws.write("demo.toml", DEMO);
    let r = ws.run(&["plan", &file]).ok();
    assert!(r.stdout.lines().any(|l| l.trim_start().starts_with("add ") && l.contains("cached  key ")), "{}", r.stdout);

    let dot = ws.run(&["plan", &file, "--dot"]).ok();
    assert!(dot.stdout.starts_with("digraph \"demo\" {"), "{}", dot.stdout);
}

#[test]
fn describe_lists_ports_fields_defaults_and_examples() {
    let ws = Workspace::new();
    let r = ws.run(&["describe", "fixture.source"]).ok();
    let text = r.stdout;
    assert!(text.starts_with("fixture.source  (plugin fixture-stages 0.1.0, "), "{text}");
    assert!(text.contains("    metrics  (metrics)  `values` and their `sum`"), "{text}");
    assert!(text.contains("    scale  (integer (1 to 10), default 1)  Multiplies every value."), "{text}");
    assert!(text.contains("    values  (list of number, default [1.0,2.0,3.0])"), "{text}");
    assert!(text.contains("  example: three values, doubled\n    values = [1.0, 2.0, 3.0]\n    scale = 2"), "{text}");

    let all = ws.run(&["describe"]).ok();
    for kind in ["fixture.source", "fixture.add", "fixture.fail", "fixture.panic", "fixture.sleep"] {
        assert!(all.stdout.contains(&format!("\n{kind}  (plugin")) || all.stdout.starts_with(kind), "{kind}");
    }
    assert!(all.stdout.contains("    x  (metrics)  a metrics artifact with `values`"), "{}", all.stdout);
    assert!(all.stdout.contains("    labels  (labels, optional)"), "{}", all.stdout);

    let r = ws.run(&["describe", "fixture.sourc"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("error: no loaded plugin provides stage kind `fixture.sourc`"), "{}", r.stderr);
    assert!(r.stderr.contains("help: did you mean `fixture.source`?"), "{}", r.stderr);
}

#[test]
fn schema_includes_every_loaded_stage() {
    let ws = Workspace::new();
    ws.run(&["schema", "-o", "pipeline.schema.json"]).ok();
    let schema = read_json(&ws.path().join("pipeline.schema.json"));
    let text = schema.to_string();
    assert!(text.contains("fixture.source") && text.contains("Multiplies every value."), "{text}");
    let stdout = ws.run(&["schema"]).ok().stdout;
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stdout).unwrap(), schema);
}

#[test]
fn a_refused_plugin_is_an_error_with_help() {
    let ws = Workspace::new();
    let lib = fixture("abi999");
    let r = ws.run(&["describe", "--plugin-path", lib.to_str().unwrap()]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains(&format!(
            "error: plugin {} speaks ABI v999 (built with tmu-plugin 9.9.9), this host speaks v1",
            lib.display()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("help: rebuild the plugin with tmu-plugin 0.1"), "{}", r.stderr);
}

#[test]
fn a_failing_stage_is_named_with_help_and_finished_stages_are_kept() {
    let ws = Workspace::new();
    let file = ws.write(
        "broken.toml",
        r#"
format = 1
name = "broken"

[stages.src]
kind = "fixture.source"

[stages.bad]
kind = "fixture.fail"
inputs = { x = "src.metrics" }
"#,
    );
    let r = ws.run(&["run", &file]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains(
            "error: stage `bad` (fixture.fail, plugin `fixture-stages`) failed: writing the answer: disk on fire\n\
             help: try another disk\nhelp: stages that finished were kept"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(r.result("src"), "ran");
    assert_eq!(r.result("bad"), "failed");
    let again = ws.run(&["run", &file]);
    assert_eq!(again.result("src"), "cached");
}

/// The binary's folder provides `libtmu_*` libraries; the current folder is never searched.
#[test]
fn plugins_load_from_the_binary_folder_and_never_from_the_current_one() {
    let ws = Workspace::new();
    let bin = ws.path().join("bin");
    let tmu = copy_as(std::path::Path::new(env!("CARGO_BIN_EXE_tmu")), &bin, "tmu");
    let lib = copy_as(&fixture("stages"), &bin, &dll_name("tmu_fixture"));
    // A library in the current folder that would be refused if it were loaded.
    copy_as(&fixture("abi999"), ws.path(), &dll_name("tmu_evil"));
    let out = std::process::Command::new(&tmu)
        .current_dir(ws.path())
        .env_remove("TMU_PLUGIN_PATH")
        .args(["describe", "fixture.add"])
        .output()
        .unwrap();
    let r = support::Run::from(out).ok();
    assert!(r.stderr.contains(&format!("from {}", lib.display())), "{}", r.stderr);
    assert_eq!(r.stderr.lines().filter(|l| l.starts_with("loaded plugin")).count(), 1, "{}", r.stderr);
    assert!(r.stdout.starts_with("fixture.add"), "{}", r.stdout);
}
