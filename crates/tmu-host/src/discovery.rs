//! Where plugin libraries are looked for: the binary's folder, named files and folders; never `.`.

use std::path::{Path, PathBuf};

use crate::error::{Origin, PluginError};

/// The places to look for plugin libraries, in the order they are searched.
#[derive(Clone, Debug, Default)]
pub struct SearchPaths {
    /// The folder of the `tmu` binary: only `libtmu_*.so` (`libtmu_*.dylib`, `tmu_*.dll`) there.
    pub binary_folder: Option<PathBuf>,
    /// Files (loaded as named) and folders (every shared library in them), with their origin.
    pub paths: Vec<(PathBuf, Origin)>,
}

impl SearchPaths {
    /// The folder of the running executable, when it can be found.
    pub fn current_binary_folder() -> Option<PathBuf> {
        std::env::current_exe().ok()?.parent().map(Path::to_path_buf)
    }

    /// Adds every entry of a path list such as `TMU_PLUGIN_PATH` (`:`-separated, `;` on Windows).
    pub fn push_path_list(&mut self, list: &std::ffi::OsStr, origin: Origin) {
        for p in std::env::split_paths(list) {
            if !p.as_os_str().is_empty() {
                self.paths.push((p, origin));
            }
        }
    }
}

/// A library to try loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub origin: Origin,
    /// Named as a file by the user (a failure to load it is always an error), as opposed to
    /// found in a folder.
    pub explicit: bool,
}

/// Whether a file name looks like a shared library of this platform.
pub fn is_shared_library(name: &str) -> bool {
    name.ends_with(std::env::consts::DLL_SUFFIX)
}

/// Whether a file name follows the first-party naming rule of the binary's folder
/// (`libtmu_*.so` on Linux, `libtmu_*.dylib` on macOS, `tmu_*.dll` on Windows).
pub fn is_first_party_name(name: &str) -> bool {
    let prefix = format!("{}tmu_", std::env::consts::DLL_PREFIX);
    name.starts_with(&prefix) && is_shared_library(name)
}

/// The shared libraries in a folder whose names pass `keep`, sorted by name.
fn libraries_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>, PluginError> {
    let read_err = |source| PluginError::ReadDir { path: dir.to_path_buf(), source };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if keep(&name) && entry.path().is_file() {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// Lists the libraries to load, in search order, each file once (by canonical path).
pub fn discover(search: &SearchPaths) -> Result<Vec<Candidate>, PluginError> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |path: PathBuf, origin, explicit| {
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(canonical) {
            out.push(Candidate { path, origin, explicit });
        }
    };
    if let Some(dir) = &search.binary_folder
        && dir.is_dir()
    {
        for path in libraries_in(dir, is_first_party_name)? {
            push(path, Origin::BinaryFolder, false);
        }
    }
    for (path, origin) in &search.paths {
        if path.is_dir() {
            for lib in libraries_in(path, is_shared_library)? {
                push(lib, *origin, false);
            }
        } else if path.is_file() {
            push(path.clone(), *origin, true);
        } else {
            return Err(PluginError::NotFound { path: path.clone(), origin: *origin });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        let (p, s) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
        assert!(is_first_party_name(&format!("{p}tmu_train{s}")));
        assert!(!is_first_party_name(&format!("{p}fixture_stages{s}")));
        assert!(!is_first_party_name(&format!("{p}tmu_train.rlib")));
        assert!(is_shared_library(&format!("{p}fixture_stages{s}")));
        assert!(!is_shared_library("notes.txt"));
    }

    #[test]
    fn folders_files_and_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let (p, s) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
        let bin = dir.path().join("bin");
        let extra = dir.path().join("extra");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&extra).unwrap();
        for name in [format!("{p}tmu_b{s}"), format!("{p}tmu_a{s}"), format!("{p}other{s}"), "tmu".into()] {
            std::fs::write(bin.join(name), b"").unwrap();
        }
        std::fs::write(extra.join(format!("{p}x{s}")), b"").unwrap();
        std::fs::write(extra.join("readme.md"), b"").unwrap();
        let search = SearchPaths {
            binary_folder: Some(bin.clone()),
            paths: vec![
                (extra.clone(), Origin::EnvVar),
                // The same file again, named explicitly: loaded once.
                (bin.join(format!("{p}tmu_a{s}")), Origin::CommandLine),
                (bin.join(format!("{p}other{s}")), Origin::CommandLine),
            ],
        };
        let found = discover(&search).unwrap();
        let names: Vec<(String, bool)> =
            found.iter().map(|c| (c.path.file_name().unwrap().to_string_lossy().into_owned(), c.explicit)).collect();
        assert_eq!(
            names,
            vec![
                (format!("{p}tmu_a{s}"), false),
                (format!("{p}tmu_b{s}"), false),
                (format!("{p}x{s}"), false),
                (format!("{p}other{s}"), true),
            ]
        );

        let missing = SearchPaths { binary_folder: None, paths: vec![(dir.path().join("nope"), Origin::PipelineFile)] };
        let err = discover(&missing).unwrap_err();
        assert!(err.to_string().contains("(from `[plugins] paths` in the pipeline file) does not exist"), "{err}");
    }
}
