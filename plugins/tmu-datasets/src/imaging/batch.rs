//! Decoding many image files in parallel, in a deterministic order, with progress and skipping.

use std::path::PathBuf;

use rayon::prelude::*;
use tmu_plugin::Context;

use super::decode::{CropBox, ImageFailure, load_image};
use super::options::{OnCorrupt, Prep};

/// One image to decode.
#[derive(Clone, Debug)]
pub struct DecodeJob {
    pub path: PathBuf,
    pub crop: Option<CropBox>,
}

/// The images that decoded, in job order.
#[derive(Debug, Default)]
pub struct Decoded {
    /// The pixels of the kept images, concatenated (CHW each).
    pub pixels: Vec<u8>,
    /// Index (into the jobs) of each kept image.
    pub kept: Vec<usize>,
    /// Skipped images and why (only with [`OnCorrupt::Skip`]).
    pub skipped: Vec<(PathBuf, String)>,
}

/// Images decoded between two progress reports (and cancellation checks).
const CHUNK: usize = 256;

/// Decodes every job with rayon; the output order is the job order whatever the thread count.
pub fn decode_all(ctx: &Context, jobs: &[DecodeJob], prep: &Prep, on_corrupt: OnCorrupt) -> anyhow::Result<Decoded> {
    let mut out = Decoded { pixels: Vec::with_capacity(jobs.len() * prep.image_len()), ..Decoded::default() };
    let total = jobs.len() as u64;
    for (c, chunk) in jobs.chunks(CHUNK).enumerate() {
        ctx.check_cancelled()?;
        let results: Vec<Result<Vec<u8>, ImageFailure>> =
            chunk.par_iter().map(|job| load_image(&job.path, job.crop, prep)).collect();
        for (k, result) in results.into_iter().enumerate() {
            let index = c * CHUNK + k;
            match result {
                Ok(pixels) => {
                    out.pixels.extend_from_slice(&pixels);
                    out.kept.push(index);
                }
                Err(ImageFailure::Corrupt(why)) if on_corrupt == OnCorrupt::Skip => {
                    ctx.warn(format!("skipping {why}"));
                    out.skipped.push((jobs[index].path.clone(), why));
                }
                Err(e) => {
                    let help = match e {
                        ImageFailure::Corrupt(_) => {
                            "replace or delete the file, or set `on_corrupt = \"skip\"` to leave such images out"
                        }
                        ImageFailure::Unreadable(_) => "check that the file exists and is readable",
                    };
                    return Err(tmu_plugin::with_help(e, help));
                }
            }
        }
        let done = (c * CHUNK + chunk.len()) as u64;
        ctx.progress(done, total, "decoding images");
    }
    Ok(out)
}
