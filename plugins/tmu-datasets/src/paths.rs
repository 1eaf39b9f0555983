//! Locating user data: roots relative to the current directory, sorted folder listings.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// `root` as an absolute path: a relative path is taken relative to the current directory
/// (the directory `tmu run` was started in), never to the pipeline file.
pub fn resolve_root(root: &Path) -> anyhow::Result<PathBuf> {
    if root.is_absolute() {
        return Ok(root.to_path_buf());
    }
    let cwd = std::env::current_dir().context("cannot determine the current directory to resolve `root`")?;
    Ok(cwd.join(root))
}

/// `path` relative to `root`, `/`-separated (the form deletion lists name files in); the whole
/// path when it is not under `root`.
pub fn relative_name(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The entries of `dir` sorted by file name, hidden ones (leading `.`) left out.
pub fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        entries.push(entry.path());
    }
    entries.sort();
    Ok(entries)
}

/// The sub-folders of `dir`, sorted by name.
pub fn sorted_subdirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    Ok(sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()).collect())
}

/// The last component of `path`, lossily as text.
pub fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_roots_are_taken_from_the_current_directory() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(resolve_root(Path::new("data/cifar")).unwrap(), cwd.join("data/cifar"));
        assert_eq!(resolve_root(Path::new("/srv/data")).unwrap(), PathBuf::from("/srv/data"));
    }
}
