//! Shipped TOML stays TOML 1.0, which editors (Taplo) and Python's `tomllib` read: every
//! pipeline file, and every TOML example in the docs that tmu's own parser (TOML 1.1) reads.

use std::path::PathBuf;

use crate::{files_with, root};

/// A TOML 1.0 parser (toml 0.8 implements TOML 1.0.0; tmu itself reads 1.1 with toml 1).
fn parse_1_0(text: &str) -> Result<(), String> {
    text.parse::<toml_v1_0::Table>().map(drop).map_err(|e| e.to_string())
}

fn shipped_pipelines() -> Vec<PathBuf> {
    let root = root();
    let mut files = Vec::new();
    for dir in ["pipelines", "examples", "datasets"] {
        files_with(&root.join(dir), ".toml", &mut files);
    }
    files.retain(|f| f.file_name().is_some_and(|n| n != "Cargo.toml"));
    files
}

#[test]
fn shipped_pipelines_are_toml_1_0() {
    let files = shipped_pipelines();
    assert!(files.iter().any(|f| f.ends_with("pipelines/quickstart.toml")), "no pipelines found: {files:?}");
    let bad: Vec<String> = files
        .iter()
        .filter_map(|f| {
            parse_1_0(&std::fs::read_to_string(f).expect("reading")).err().map(|e| format!("{}: {e}", f.display()))
        })
        .collect();
    assert!(bad.is_empty(), "not TOML 1.0:\n{}", bad.join("\n"));
}

#[test]
fn toml_examples_in_the_docs_are_toml_1_0() {
    let root = root();
    let mut docs = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    files_with(&root.join("docs"), ".md", &mut docs);
    let mut checked = 0;
    let mut bad = Vec::new();
    for doc in docs {
        let text = std::fs::read_to_string(&doc).expect("reading a doc");
        let mut block: Option<(usize, String)> = None;
        for (n, line) in text.lines().enumerate() {
            match &mut block {
                None if line.trim_start() == "```toml" => block = Some((n + 1, String::new())),
                Some((start, body)) if line.trim_start() == "```" => {
                    // Fragments that are not TOML at all (`...` elisions) are not examples to parse.
                    if body.parse::<toml::Table>().is_ok() {
                        checked += 1;
                        if let Err(e) = parse_1_0(body) {
                            bad.push(format!("{}:{}: {e}", doc.display(), *start + 1));
                        }
                    }
                    block = None;
                }
                Some((_, body)) => {
                    // Indented blocks (inside list items) lose their indentation.
                    body.push_str(line.trim_start());
                    body.push('\n');
                }
                None => {}
            }
        }
    }
    assert!(checked > 5, "only {checked} TOML examples found in the docs");
    assert!(bad.is_empty(), "not TOML 1.0:\n{}", bad.join("\n"));
}

#[test]
fn the_1_0_parser_refuses_what_1_1_allows() {
    // A multi-line inline table: valid TOML 1.1, invalid 1.0. If this passes the check is real.
    let text = "inputs = { a = \"x.y\",\n           b = \"z.w\" }\n";
    assert!(text.parse::<toml::Table>().is_ok());
    assert!(parse_1_0(text).is_err());
}
