//! The official binary CIFAR batches: fixed-size records of label bytes then 3,072 pixels.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use rayon::prelude::*;

use super::{IMAGE_BYTES, Records};

/// One label byte of a record: its name in messages and its number of classes.
#[derive(Clone, Copy, Debug)]
pub struct LabelByte {
    pub name: &'static str,
    pub classes: usize,
}

/// Number of whole records in `path`, after checking that the size is a positive whole number of
/// `record`-byte records (the message names the file and where the incomplete record starts).
pub fn record_count(path: &Path, record: usize) -> anyhow::Result<usize> {
    let len = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len() as usize;
    if len == 0 {
        bail!("{} is empty: a CIFAR batch holds {record}-byte records", path.display());
    }
    if !len.is_multiple_of(record) {
        let k = len / record;
        bail!(
            "{} is truncated or not a CIFAR batch: its {len} bytes are not a whole number of {record}-byte \
             records; record {k} at byte offset {} has only {} bytes",
            path.display(),
            k * record,
            len - k * record
        );
    }
    Ok(len / record)
}

/// Reads the records of `files` in order (at most `limit` in all), checking every label byte.
/// Files are read in parallel, straight into their part of the output.
pub fn read_binary(files: &[PathBuf], labels: &[LabelByte], limit: Option<usize>) -> anyhow::Result<Records> {
    let record = labels.len() + IMAGE_BYTES;
    let mut plan = Vec::with_capacity(files.len());
    let mut total = 0usize;
    for path in files {
        let count = record_count(path, record)?;
        let take = limit.map_or(count, |l| count.min(l.saturating_sub(total)));
        plan.push((path, take));
        total += take;
    }
    let mut images = vec![0u8; total * IMAGE_BYTES];
    let mut slices = Vec::with_capacity(plan.len());
    let mut rest = images.as_mut_slice();
    for &(path, take) in &plan {
        let (head, tail) = rest.split_at_mut(take * IMAGE_BYTES);
        slices.push((path, take, head));
        rest = tail;
    }
    let columns_per_file: Vec<Vec<Vec<u32>>> = slices
        .into_par_iter()
        .map(|(path, take, out)| read_file(path, take, labels, out))
        .collect::<anyhow::Result<_>>()?;
    let mut columns = vec![Vec::with_capacity(total); labels.len()];
    for file_columns in columns_per_file {
        for (all, part) in columns.iter_mut().zip(file_columns) {
            all.extend(part);
        }
    }
    Ok(Records { images, columns })
}

/// Reads the first `take` records of one file into `out` and returns its label columns.
fn read_file(path: &Path, take: usize, labels: &[LabelByte], out: &mut [u8]) -> anyhow::Result<Vec<Vec<u32>>> {
    let record = labels.len() + IMAGE_BYTES;
    let mut columns = vec![Vec::with_capacity(take); labels.len()];
    if take == 0 {
        return Ok(columns);
    }
    let mut bytes = vec![0u8; take * record];
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    file.take((take * record) as u64).read_exact(&mut bytes).with_context(|| {
        format!("cannot read {} records from {} (did it change while being read?)", take, path.display())
    })?;
    for (r, (rec, dst)) in bytes.chunks_exact(record).zip(out.chunks_exact_mut(IMAGE_BYTES)).enumerate() {
        for (k, label) in labels.iter().enumerate() {
            let v = rec[k];
            if usize::from(v) >= label.classes {
                bail!(
                    "{}: record {r} (byte offset {}): {} {v} is out of range 0..={}",
                    path.display(),
                    r * record + k,
                    label.name,
                    label.classes - 1
                );
            }
            columns[k].push(u32::from(v));
        }
        dst.copy_from_slice(&rec[labels.len()..]);
    }
    Ok(columns)
}

/// Class names from a text file, one per line, blank lines ignored; exactly `expected` of them.
pub fn read_names(path: &Path, expected: usize) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let names: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    if names.len() != expected {
        bail!("{} lists {} class names, expected {expected} (one per line)", path.display(), names.len());
    }
    Ok(names)
}
