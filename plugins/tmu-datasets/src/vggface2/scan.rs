//! Finding identities and their images, and choosing which to use.

use std::path::{Path, PathBuf};

use anyhow::bail;
use rayon::prelude::*;

use crate::imaging::image_files;
use crate::paths::{file_name, sorted_subdirs};
use crate::rng::Rng;
use crate::split::sample;

/// One identity folder and its image files (sorted by name).
#[derive(Clone, Debug)]
pub struct Identity {
    pub name: String,
    pub dir: PathBuf,
    pub images: Vec<PathBuf>,
}

/// Every identity folder under `dir` with its images (listed in parallel).
pub fn scan_identities(dir: &Path) -> anyhow::Result<Vec<Identity>> {
    let dirs = sorted_subdirs(dir)?;
    dirs.par_iter().map(|d| Ok(Identity { name: file_name(d), dir: d.clone(), images: image_files(d)? })).collect()
}

fn empty_error(id: &Identity) -> anyhow::Error {
    tmu_plugin::with_help(
        format!("identity folder {} has no images (.jpg, .jpeg or .png)", id.dir.display()),
        "put the identity's images in it, remove the folder, or choose other identities",
    )
}

/// The `n` identities with most images (ties broken by name), returned sorted by name.
pub fn top_identities(all: Vec<Identity>, n: usize, dir: &Path) -> anyhow::Result<Vec<Identity>> {
    let non_empty = all.iter().filter(|i| !i.images.is_empty()).count();
    if non_empty < n {
        if let Some(empty) = all.iter().find(|i| i.images.is_empty()) {
            return Err(empty_error(empty)
                .context(format!("{n} identities wanted, {} has {non_empty} with images", dir.display())));
        }
        bail!("{n} identities wanted, {} has only {non_empty}", dir.display());
    }
    let mut all = all;
    all.sort_by(|a, b| b.images.len().cmp(&a.images.len()).then_with(|| a.name.cmp(&b.name)));
    all.truncate(n);
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// The named identities, in the order given; each must exist and hold images.
pub fn named_identities(all: Vec<Identity>, names: &[String], dir: &Path) -> anyhow::Result<Vec<Identity>> {
    let mut chosen = Vec::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        if names[..k].contains(name) {
            bail!("identity `{name}` is listed twice in `identities`");
        }
        let Some(id) = all.iter().find(|i| &i.name == name) else {
            let examples: Vec<&str> = all.iter().take(5).map(|i| i.name.as_str()).collect();
            return Err(tmu_plugin::with_help(
                format!("identity `{name}` not found in {}", dir.display()),
                format!("it has {} identity folders, such as {}", all.len(), examples.join(", ")),
            ));
        };
        if id.images.is_empty() {
            return Err(empty_error(id));
        }
        chosen.push(id.clone());
    }
    Ok(chosen)
}

/// Keeps at most `cap` images of each identity, a seeded random choice kept in name order.
pub fn cap_images(ids: &mut [Identity], cap: Option<usize>, rng: &mut Rng) {
    let Some(cap) = cap else { return };
    for id in ids {
        if id.images.len() > cap {
            let keep = sample(&(0..id.images.len()).collect::<Vec<_>>(), cap, rng);
            id.images = keep.into_iter().map(|i| id.images[i].clone()).collect();
        }
    }
}
