//! The end-of-run summary: a table of stages (ran or cached, wall time, device, headline
//! numbers) and where the outputs are.

use std::fmt::Write;

use tmu_host::{Outcome, RunReport};

/// `0.012 s`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn seconds(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.3} s")
    } else if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        format!("{} min {:02} s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{} h {:02} min", (s / 3600.0) as u64, ((s % 3600.0) / 60.0) as u64)
    }
}

fn number(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f != 0.0 && (f.abs() >= 1e5 || f.abs() < 1e-3) {
                format!("{f:.3e}")
            } else {
                format!("{:.4}", f).trim_end_matches('0').trim_end_matches('.').to_string()
            }
        }
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `512 B`, `3.4 KiB`, `150.0 MiB`, `1.2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The first few headline numbers of a stage summary: `accuracy=0.9812, loss=0.05`.
pub fn headline(summary: &serde_json::Value) -> String {
    const MAX: usize = 4;
    let Some(map) = summary.as_object() else { return String::new() };
    let mut parts: Vec<String> = map.iter().take(MAX).map(|(k, v)| format!("{k}={}", number(v))).collect();
    if map.len() > MAX {
        parts.push("...".into());
    }
    parts.join(", ")
}

/// The summary table and the outputs' location.
pub fn table(report: &RunReport) -> String {
    let rows: Vec<[String; 5]> = report
        .stages
        .iter()
        .map(|s| {
            let wall = match (s.outcome, s.wall_s) {
                (Outcome::Ran | Outcome::Cached, Some(w)) => seconds(w),
                _ => "-".into(),
            };
            [
                s.stage.clone(),
                s.outcome.as_str().to_string(),
                wall,
                s.device.clone().unwrap_or_else(|| "-".into()),
                headline(&s.summary),
            ]
        })
        .collect();
    let header = ["stage", "result", "wall", "device", "summary"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    let (ran, cached) = (report.count(Outcome::Ran), report.count(Outcome::Cached));
    let (failed, skipped) = (report.count(Outcome::Failed), report.count(Outcome::NotRun));
    let mut counts = format!("{ran} ran, {cached} cached");
    if failed + skipped > 0 {
        counts.push_str(&format!(", {failed} failed, {skipped} not run"));
    }
    match &report.points {
        Some(p) => {
            let _ = writeln!(out, "{counts}; {}", crate::progress::points_line(p));
            let _ = writeln!(
                out,
                "outputs in {}/<point>/<stage>/ (shared stages: {}/<stage>/)",
                report.dir.display(),
                report.dir.display()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{counts}; outputs in {}/<stage>/ (stage.json, config.json, stage.log)",
                report.dir.display()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_read_well() {
        assert_eq!(seconds(0.01234), "0.012 s");
        assert_eq!(seconds(12.34), "12.3 s");
        assert_eq!(seconds(245.0), "4 min 05 s");
        assert_eq!(seconds(7380.0), "2 h 03 min");
        let s = serde_json::json!({ "accuracy": 0.981234, "n": 120, "tiny": 0.00001, "name": "x", "more": 1 });
        assert_eq!(headline(&s), "accuracy=0.9812, n=120, tiny=1.000e-5, name=x, ...");
        assert_eq!(headline(&serde_json::json!({ "sum": 6.0 })), "sum=6");
    }
}
