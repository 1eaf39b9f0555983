//! The official binary CIFAR batches: fixed-size records of label bytes then 3,072 pixels.

use std::io::{IoSliceMut, Read, Seek, SeekFrom};
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

/// Records per piece: 256 CIFAR records (~790 KB), enough pieces for both splits to share the
/// cores, and 512 slices per vectored read, under every platform's `IOV_MAX` (1,024 on Linux).
const PIECE: usize = 256;

/// A run of consecutive records of one file and where their pixels go.
struct Piece<'a> {
    path: &'a Path,
    /// Records the whole read takes from this file (for the message of a short read).
    take: usize,
    /// Index in the file of the first record.
    first: usize,
    out: &'a mut [u8],
}

/// Reads the records of `files` in order (at most `limit` in all), checking every label byte.
/// Files are cut into pieces of a fixed number of records read in parallel, the pixels of each straight
/// into their place in the output; the first problem in file order is reported whatever the
/// thread count.
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
    let mut pieces = Vec::with_capacity(total.div_ceil(PIECE) + plan.len());
    let mut rest = images.as_mut_slice();
    for &(path, take) in &plan {
        for first in (0..take).step_by(PIECE) {
            let n = PIECE.min(take - first);
            let (head, tail) = rest.split_at_mut(n * IMAGE_BYTES);
            pieces.push(Piece { path, take, first, out: head });
            rest = tail;
        }
    }
    let results: Vec<anyhow::Result<Vec<Vec<u32>>>> =
        pieces.into_par_iter().map(|piece| read_piece(piece, labels)).collect();
    let mut columns = vec![Vec::with_capacity(total); labels.len()];
    for piece_columns in results {
        for (all, part) in columns.iter_mut().zip(piece_columns?) {
            all.extend(part);
        }
    }
    Ok(Records { images, columns })
}

/// Reads the records of one piece with vectored reads: each record's label bytes into a small
/// buffer, its pixels straight into `out` (no intermediate copy of the pixels). Returns the
/// piece's label columns.
fn read_piece(piece: Piece<'_>, labels: &[LabelByte]) -> anyhow::Result<Vec<Vec<u32>>> {
    let Piece { path, take, first, out } = piece;
    let record = labels.len() + IMAGE_BYTES;
    let n = out.len() / IMAGE_BYTES;
    let mut label_bytes = vec![0u8; n * labels.len()];
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut read = || -> std::io::Result<()> {
        file.seek(SeekFrom::Start((first * record) as u64))?;
        let mut slices: Vec<IoSliceMut<'_>> = label_bytes
            .chunks_exact_mut(labels.len())
            .zip(out.chunks_exact_mut(IMAGE_BYTES))
            .flat_map(|(l, px)| [IoSliceMut::new(l), IoSliceMut::new(px)])
            .collect();
        read_exact_vectored(&mut file, &mut slices)
    };
    read().with_context(|| {
        format!("cannot read {} records from {} (did it change while being read?)", take, path.display())
    })?;
    let mut columns = vec![Vec::with_capacity(n); labels.len()];
    for (i, rec) in label_bytes.chunks_exact(labels.len()).enumerate() {
        let r = first + i;
        for (k, (label, &v)) in labels.iter().zip(rec).enumerate() {
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
    }
    Ok(columns)
}

/// Fills every slice from `file`, in order, or fails (`UnexpectedEof` if the file ends first).
fn read_exact_vectored(file: &mut std::fs::File, mut slices: &mut [IoSliceMut<'_>]) -> std::io::Result<()> {
    while !slices.is_empty() {
        match file.read_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(k) => IoSliceMut::advance_slices(&mut slices, k),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
