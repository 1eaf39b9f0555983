//! torchvision's python CIFAR batches: pickled dicts of a `data` array and label lists.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use rayon::prelude::*;

use super::binary::LabelByte;
use super::pickle::{Value, unpickle};
use super::{IMAGE_BYTES, Records};

fn load(path: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value = unpickle(&bytes).with_context(|| format!("{} is not a readable CIFAR pickle", path.display()))?;
    if !matches!(value, Value::Dict(_)) {
        bail!("{} does not hold a dict (a CIFAR batch is a dict of `data` and labels)", path.display());
    }
    Ok(value)
}

fn key<'v>(path: &Path, dict: &'v Value, key: &str) -> anyhow::Result<&'v Value> {
    dict.get(key)
        .with_context(|| format!("{} has no `{key}` entry (it has: {})", path.display(), dict.keys().join(", ")))
}

/// Integers from a list of ints or an integer numpy array.
fn ints(path: &Path, name: &str, v: &Value) -> anyhow::Result<Vec<i64>> {
    match v {
        Value::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::Int(n) => Ok(*n),
                other => bail!("{}: `{name}` entry {i} is not an integer: {other:?}", path.display()),
            })
            .collect(),
        Value::Array(a) if a.shape.len() == 1 && a.dtype.order != '>' => {
            let size = a.dtype.itemsize().unwrap_or(0);
            let signed = a.dtype.descr.starts_with('i');
            if !(a.dtype.descr.starts_with('i') || a.dtype.descr.starts_with('u')) || ![1, 2, 4, 8].contains(&size) {
                bail!("{}: `{name}` has dtype {}, expected integers", path.display(), a.dtype.descr);
            }
            Ok(a.data
                .chunks_exact(size)
                .map(|c| {
                    let mut b = if signed && c[size - 1] & 0x80 != 0 { [0xff; 8] } else { [0; 8] };
                    b[..size].copy_from_slice(c);
                    i64::from_le_bytes(b)
                })
                .collect())
        }
        _ => bail!("{}: `{name}` is not a list of integers", path.display()),
    }
}

/// Reads one batch: its images and one label column per `labels` entry (key, range).
fn read_batch(path: &Path, labels: &[(&str, LabelByte)], take: Option<usize>) -> anyhow::Result<Records> {
    let dict = load(path)?;
    let Value::Array(data) = key(path, &dict, "data")? else {
        bail!("{}: `data` is not a numpy array", path.display());
    };
    if data.dtype.descr != "u1" || data.shape.len() != 2 || data.shape[1] != IMAGE_BYTES || data.fortran {
        bail!(
            "{}: `data` has shape {:?} and dtype {}{}, expected a C-ordered uint8 array [N, {IMAGE_BYTES}]",
            path.display(),
            data.shape,
            data.dtype.descr,
            if data.fortran { " (Fortran order)" } else { "" }
        );
    }
    let n = data.shape[0];
    let keep = take.map_or(n, |t| t.min(n));
    let mut columns = Vec::with_capacity(labels.len());
    for (name, label) in labels {
        let values = ints(path, name, key(path, &dict, name)?)?;
        if values.len() != n {
            bail!("{}: `{name}` has {} entries for {n} images", path.display(), values.len());
        }
        let mut column = Vec::with_capacity(keep);
        for (r, &v) in values.iter().take(keep).enumerate() {
            if v < 0 || v as usize >= label.classes {
                bail!("{}: record {r}: {} {v} is out of range 0..={}", path.display(), label.name, label.classes - 1);
            }
            column.push(v as u32);
        }
        columns.push(column);
    }
    // Move the (large) pixel array out of the dict instead of copying it.
    let Value::Dict(items) = dict else { unreachable!("load returns dicts") };
    let data = items.into_iter().find_map(|(k, v)| (k.as_text().as_deref() == Some("data")).then_some(v));
    let Some(Value::Array(data)) = data else { unreachable!("checked above") };
    let mut images = data.data;
    images.truncate(keep * IMAGE_BYTES);
    Ok(Records { images, columns })
}

/// Reads the batches in order, at most `limit` records in all.
pub fn read_python(files: &[PathBuf], labels: &[(&str, LabelByte)], limit: Option<usize>) -> anyhow::Result<Records> {
    // Without a limit every file is read (in parallel); with one, in order until it is reached.
    let parts: Vec<Records> = match limit {
        None => files.par_iter().map(|f| read_batch(f, labels, None)).collect::<anyhow::Result<_>>()?,
        Some(limit) => {
            let mut parts = Vec::new();
            let mut total = 0;
            for f in files {
                if total >= limit {
                    break;
                }
                let part = read_batch(f, labels, Some(limit - total))?;
                total += part.len();
                parts.push(part);
            }
            parts
        }
    };
    let mut out = Records { images: Vec::new(), columns: vec![Vec::new(); labels.len()] };
    out.images.reserve(parts.iter().map(|p| p.images.len()).sum());
    for part in parts {
        out.images.extend_from_slice(&part.images);
        for (all, col) in out.columns.iter_mut().zip(part.columns) {
            all.extend(col);
        }
    }
    Ok(out)
}

/// Class names from the `key` list of a pickled meta dict; exactly `expected` of them.
pub fn read_names(path: &Path, name: &str, expected: usize) -> anyhow::Result<Vec<String>> {
    let dict = load(path)?;
    let Value::List(items) = key(path, &dict, name)? else {
        bail!("{}: `{name}` is not a list", path.display());
    };
    let names: Vec<String> = items
        .iter()
        .map(|v| v.as_text().with_context(|| format!("{}: `{name}` holds a non-string", path.display())))
        .collect::<anyhow::Result<_>>()?;
    if names.len() != expected {
        bail!("{}: `{name}` lists {} class names, expected {expected}", path.display(), names.len());
    }
    Ok(names)
}
