//! The fault catalogue (docs/reliability.md) holds: every row names tests that exist, and the
//! faults not proven elsewhere are proven here.

use crate::support;

use std::path::{Path, PathBuf};

use support::Workspace;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One row of the catalogue table: its number, the tests it names (`file`, `name`) and the case
/// files it names.
type Row = (usize, Vec<(String, String)>, Vec<String>);

fn rows(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split(" | ").collect();
        let Some(n) = line.strip_prefix("| ").and_then(|l| l.split(' ').next()).and_then(|n| n.parse().ok()) else {
            continue;
        };
        let tests_cell = cells.last().copied().unwrap_or_default();
        let spans: Vec<&str> = tests_cell.split('`').skip(1).step_by(2).collect();
        let mut tests = Vec::new();
        let mut cases = Vec::new();
        for span in spans {
            match span.split_once("::") {
                Some((file, name)) => tests.push((file.to_string(), name.to_string())),
                None => cases.push(span.to_string()),
            }
        }
        rows.push((n, tests, cases));
    }
    rows
}

#[test]
fn every_row_of_the_fault_catalogue_is_backed_by_a_test_that_exists() {
    let text = std::fs::read_to_string(repo().join("docs/reliability.md")).unwrap();
    let rows = rows(&text);
    assert!(rows.len() >= 40, "the catalogue has {} rows", rows.len());
    let numbers: Vec<usize> = rows.iter().map(|r| r.0).collect();
    assert_eq!(numbers, (1..=rows.len()).collect::<Vec<_>>(), "rows are numbered 1..n in order");
    let mut problems = Vec::new();
    for (n, tests, cases) in &rows {
        if tests.is_empty() {
            problems.push(format!("row {n} names no test"));
        }
        for (file, name) in tests {
            match std::fs::read_to_string(repo().join(file)) {
                Err(e) => problems.push(format!("row {n}: {file}: {e}")),
                Ok(source) => {
                    let defined =
                        source.lines().collect::<Vec<_>>().windows(2).any(|w| {
                            w[0].trim() == "#[test]" && w[1].trim_start().starts_with(&format!("fn {name}()"))
                        });
                    if !defined {
                        problems.push(format!("row {n}: {file} has no test `{name}`"));
                    }
                }
            }
        }
        for case in cases {
            if !repo().join(case).is_file() {
                problems.push(format!("row {n}: case file {case} does not exist"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_pipeline_file_that_is_not_text_is_named_with_the_place_of_the_bad_byte() {
    let ws = Workspace::new();
    std::fs::write(ws.path().join("bad.toml"), b"format = 1\nname = \"x\xff\"\n").unwrap();
    let run = ws.run(&["check", "bad.toml"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr.trim(),
        "error: cannot read pipeline file bad.toml: it is not UTF-8 text (byte 0xff at line 2, column 10, offset 20)"
    );
    let missing = ws.run(&["run", "nope.toml"]);
    assert_eq!(missing.code, Some(1));
    assert_eq!(
        missing.stderr.trim(),
        "error: cannot read pipeline file nope.toml: No such file or directory (os error 2)"
    );
}
