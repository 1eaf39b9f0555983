//! The HTML page of `report.sweep`: what it holds (the markdown's tables, the plots inline as SVG,
//! the config, versions and cache keys read from the store's `entry.json`), that it fetches
//! nothing, and that headless Chromium (Debian's `chromium`) renders it with the tables and SVG
//! elements and no console message. Without chromium on PATH (or `TMU_CHROMIUM`) the browser test
//! prints why and passes without checking.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::json;
use tmu_plugin::Binding;
use tmu_test_support::{config, run_stage};

/// Runs `report.sweep` on the five-seed inputs of `report.rs`, the first point's metrics moved into
/// a store layout (`.cache/<key>/out/metrics.json` beside an `entry.json`); returns the page.
fn page(dir: &Path) -> String {
    let mut inputs = crate::report::inputs(dir, true);
    let Some(Binding::Map(metrics)) = inputs.ports.get_mut("metrics") else { panic!("metrics is a map") };
    let first = metrics.values_mut().next().unwrap();
    let entry = dir.join("runs/.cache/0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    std::fs::create_dir_all(entry.join("out")).unwrap();
    let moved = entry.join("out/metrics.json");
    std::fs::copy(&first.path, &moved).unwrap();
    first.path = moved;
    let record = json!({
        "format": 1, "key": "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "kind": "eval.unlearning",
        "plugin": { "name": "tmu-eval", "version": "9.8.7", "sdk": "tmu-plugin 9.8.7", "blake3": "ab" },
        "resolved_config": { "batch_size": 256, "mia_population": "all <&>" },
        "seed": 640273005580538153u64, "device_used": "cpu"
    });
    std::fs::write(entry.join("entry.json"), record.to_string()).unwrap();
    let run = run_stage(tmu_report::tmu_plugin(), "report.sweep", inputs, config("tie = 0.25")).unwrap();
    let html = run.output("html").join("report.html");
    std::fs::read_to_string(&html).unwrap_or_else(|e| panic!("{}: {e}", html.display()))
}

#[test]
fn the_page_holds_tables_plots_config_and_cache_keys_and_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let html = page(dir.path());
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    // The markdown's tables (summary, Delta by fraction, paired, cost, predictor) and the page's two.
    assert!(html.matches("<table>").count() >= 7, "{html}");
    assert!(html.contains("<td><code>tmu</code></td>"), "{html}");
    assert!(html.contains("<td>2.20 ± 1.44</td>"), "{html}");
    // The four plots, inline, without the XML declaration.
    assert_eq!(html.matches("<svg").count(), 4, "{html}");
    assert!(!html.contains("<?xml"));
    for stem in ["methods", "alignment_vs_size", "predictor_auc", "features_scatter"] {
        assert!(html.contains(&format!("<strong>{stem}.svg</strong>")), "{stem}");
    }
    // The stage's own config with its defaults, the versions, the producer's key and config
    // (escaped), the inputs outside a store marked as such.
    assert!(html.contains("<td><code>tie</code></td><td class=\"text\"><code>0.25</code></td>"), "{html}");
    assert!(html.contains("<td><code>cluster_axis</code></td><td class=\"text\"><code>&quot;seed&quot;</code></td>"));
    assert!(html.contains(concat!("tmu-report ", env!("CARGO_PKG_VERSION"))));
    assert!(html.contains("0f1e2d3c4b5a69788796a5b4c3d2e1f0") && html.contains("tmu-eval 9.8.7"));
    assert!(html.contains("metrics[seed=0,fraction=0.1]") && html.contains("640273005580538153"));
    assert!(html.contains("&quot;all &lt;&amp;&gt;&quot;"), "the producer's config, escaped");
    assert!(html.contains("not from a tmu store"));
    // Self-contained: no script, no link, no source, no URL but the SVG namespace.
    for banned in ["<script", "<link", "<img", "src=", "@import", "url("] {
        assert!(!html.contains(banned), "{banned}");
    }
    let urls = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(urls, html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
}

/// Chromium: `TMU_CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TMU_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n))).find(|p| p.is_file())
}

/// The DOM chromium built from `file` and the console messages it logged.
fn render(chromium: &Path, file: &Path, profile: &Path) -> (String, Vec<String>) {
    let out = Command::new(chromium)
        .args(["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", chromium.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {}\n{stderr}", out.status);
    // Console messages are logged as `[pid:tid:time:INFO:CONSOLE:line] "text", source: ...`
    // (older builds: `CONSOLE(line)`).
    let console = stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

#[test]
fn chromium_renders_the_page_with_tables_and_svg_and_no_console_message() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "SKIPPED chromium_renders_the_page...: no `chromium` on PATH and no TMU_CHROMIUM \
             (Debian: apt-get install -y chromium; .ci/run installs it as root)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html = page(dir.path());
    let file = dir.path().join("report.html");
    std::fs::write(&file, &html).unwrap();

    // The detector first: a page that logs must be caught, or a clean result would mean nothing.
    let noisy = dir.path().join("noisy.html");
    std::fs::write(&noisy, "<!DOCTYPE html><html><body><script>console.error('tmu-noisy')</script></body></html>")
        .unwrap();
    let (_, console) = render(&chromium, &noisy, &dir.path().join("profile-noisy"));
    assert!(
        console.iter().any(|l| l.contains("tmu-noisy")),
        "chromium's console log is not where expected: {console:?}"
    );

    let (dom, console) = render(&chromium, &file, &dir.path().join("profile"));
    assert!(console.is_empty(), "console messages: {console:#?}");
    // The parsed DOM: every table (the parser adds <tbody>) and every plot as an SVG element with
    // its text.
    assert!(dom.matches("<table>").count() >= 7, "{dom}");
    assert!(dom.matches("<tbody>").count() >= 7, "{dom}");
    assert_eq!(dom.matches("<svg").count(), 4, "{dom}");
    assert!(dom.matches("<text").count() > 20, "the plots' text is in the DOM");
    assert!(dom.contains("<h2>Plots</h2>") && dom.contains("0f1e2d3c4b5a69788796a5b4c3d2e1f0"));
}
