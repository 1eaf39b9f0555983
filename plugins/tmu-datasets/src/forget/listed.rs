//! Deletion requests as lists: a file of sample ids or of image paths resolved to indices of the
//! data; every unusable entry (unknown, repeated, out of range) is counted and the first few are
//! named.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;
use tmu_plugin::artifact::Dataset;

/// How many unusable entries an error names before it only counts.
const NAMED: usize = 5;

/// The indices of `data` that the list at `list` names (ids, or with `files` paths relative to
/// the data set's root), ascending.
pub fn resolve_list(data: &Dataset, list: &Path, files: bool) -> anyhow::Result<Vec<usize>> {
    let path = std::path::absolute(list).with_context(|| format!("cannot resolve `list` = {}", list.display()))?;
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("cannot read the deletion list {}", path.display()))?;
    if files && data.meta.files.is_empty() {
        return Err(tmu_plugin::with_help(
            format!("strategy `files` needs file names, and the data ({}) carries none", data.meta.source),
            "name the samples by id with strategy = \"ids\", or read the images with dataset.image-folder or \
             dataset.vggface2",
        ));
    }
    let by_key: HashMap<String, usize> = if files {
        data.ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| data.meta.files.get(*id as usize).map(|f| (f.clone(), i)))
            .collect()
    } else {
        data.ids.iter().enumerate().map(|(i, id)| (id.to_string(), i)).collect()
    };
    let mut problems = Vec::new();
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut entries = 0;
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        entries += 1;
        let key = if files {
            let key = line.replace('\\', "/");
            let key = key.trim_start_matches("./").to_string();
            if key.starts_with('/') || key.split('/').any(|part| part == "..") {
                problems.push(format!("line {n}: `{line}` is outside the data set's root"));
                continue;
            }
            key
        } else {
            match line.parse::<u64>() {
                Ok(id) => id.to_string(),
                Err(_) => {
                    problems.push(format!("line {n}: `{line}` is not a sample id (an integer from 0 to 2^64-1)"));
                    continue;
                }
            }
        };
        match by_key.get(&key) {
            None => {
                problems.push(format!("line {n}: {} `{key}` is not in the data", if files { "file" } else { "id" }))
            }
            Some(&i) => {
                if let Some(first) = seen.insert(i, n) {
                    problems.push(format!("line {n}: `{line}` repeats line {first}"));
                    seen.insert(i, first);
                }
            }
        }
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(NAMED);
        let tail = if more > 0 { format!("; and {more} more") } else { String::new() };
        return Err(tmu_plugin::with_help(
            format!(
                "{} of the {entries} entries of {} are not usable: {}{tail}",
                problems.len(),
                path.display(),
                problems[..problems.len().min(NAMED)].join("; ")
            ),
            "the list names samples of the `data` input (the training split of the data set stage): one id or one \
             path relative to the data set's root a line, each once",
        ));
    }
    if entries == 0 {
        anyhow::bail!("the deletion list {} names no samples", path.display());
    }
    let mut forget: Vec<usize> = seen.into_keys().collect();
    forget.sort_unstable();
    Ok(forget)
}
