//! VGGFace2's CSV side files: bounding boxes (`NAME_ID,X,Y,W,H`) and `identity_meta.csv`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context as _, bail};

use crate::imaging::CropBox;

fn reader(path: &Path) -> anyhow::Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"').trim()
}

fn column(path: &Path, headers: &csv::StringRecord, name: &str) -> anyhow::Result<usize> {
    headers.iter().position(|h| unquote(h).eq_ignore_ascii_case(name)).with_context(|| {
        format!(
            "{}: the header has no `{name}` column (found: {})",
            path.display(),
            headers.iter().map(unquote).collect::<Vec<_>>().join(", ")
        )
    })
}

/// Boxes of the images of `identities`, keyed `"<identity>/<image stem>"` as in VGGFace2's
/// `NAME_ID` column (for example `n000002/0001_01`). Rows of other identities are skipped.
pub fn read_boxes(path: &Path, identities: &HashSet<&str>) -> anyhow::Result<HashMap<String, CropBox>> {
    let mut rdr = reader(path)?;
    let headers = rdr.headers().with_context(|| format!("cannot read the header of {}", path.display()))?.clone();
    let col = |c: &str| column(path, &headers, c);
    let (name_col, x_col, y_col, w_col, h_col) = (col("NAME_ID")?, col("X")?, col("Y")?, col("W")?, col("H")?);
    let mut boxes = HashMap::new();
    for row in rdr.records() {
        let row = row.with_context(|| format!("cannot parse {}", path.display()))?;
        let line = row.position().map_or(0, |p| p.line());
        let field = |i: usize| row.get(i).map(unquote);
        let Some(name) = field(name_col) else {
            bail!("{}: line {line}: missing NAME_ID", path.display());
        };
        let identity = name.split('/').next().unwrap_or_default();
        if !identities.contains(identity) {
            continue;
        }
        let number = |i: usize, what: &str| -> anyhow::Result<f32> {
            let text = field(i).unwrap_or_default();
            match text.parse::<f32>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => bail!("{}: line {line}: {what} of `{name}` is `{text}`, not a number", path.display()),
            }
        };
        let b =
            CropBox { x: number(x_col, "X")?, y: number(y_col, "Y")?, w: number(w_col, "W")?, h: number(h_col, "H")? };
        if b.w <= 0.0 || b.h <= 0.0 {
            bail!("{}: line {line}: box of `{name}` has width {} and height {}", path.display(), b.w, b.h);
        }
        boxes.insert(name.to_string(), b);
    }
    Ok(boxes)
}

/// Identity id -> name from `identity_meta.csv` (`Class_ID, Name, Sample_Num, Flag, Gender`).
pub fn read_identity_names(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let mut rdr = reader(path)?;
    let headers = rdr.headers().with_context(|| format!("cannot read the header of {}", path.display()))?.clone();
    let id_col = column(path, &headers, "Class_ID")?;
    let name_col = column(path, &headers, "Name")?;
    let mut names = HashMap::new();
    for row in rdr.records() {
        let row = row.with_context(|| format!("cannot parse {}", path.display()))?;
        if let (Some(id), Some(name)) = (row.get(id_col), row.get(name_col)) {
            names.insert(unquote(id).to_string(), unquote(name).to_string());
        }
    }
    Ok(names)
}
