//! File-system steps the store is made of: durable writes (fsync of files and folders), links
//! into the stage views, read-only files, and removal that tolerates a concurrent remover.

use std::fs::File;
use std::io;
use std::path::Path;

use super::StoreError;

pub(super) fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io { action, path: path.to_path_buf(), source }
}

/// fsyncs every file under `dir`, then the folders.
pub(super) fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    for entry in std::fs::read_dir(dir).map_err(io_err("read", dir))? {
        let path = entry.map_err(io_err("read", dir))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path).and_then(|f| f.sync_all()).map_err(io_err("sync", &path))?;
        }
    }
    sync_dir(dir);
    Ok(())
}

/// fsyncs a folder so that renames in it are durable (not supported everywhere: best effort).
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Clears the write permission of every file under `path` (a file or a folder). Folders stay
/// writable, so that an entry can still be moved and removed as a whole.
pub(super) fn make_read_only(path: &Path) -> Result<(), StoreError> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io_err("read", path))? {
            make_read_only(&entry.map_err(io_err("read", path))?.path())?;
        }
        return Ok(());
    }
    let mut perms = std::fs::metadata(path).map_err(io_err("read the permissions of", path))?.permissions();
    if !perms.readonly() {
        perms.set_readonly(true);
        std::fs::set_permissions(path, perms).map_err(io_err("make read-only", path))?;
    }
    Ok(())
}

/// Whether any file under `path` can be written (by its permission bits).
pub(super) fn any_writable(path: &Path) -> bool {
    if path.is_dir() {
        return std::fs::read_dir(path).is_ok_and(|d| d.flatten().any(|e| any_writable(&e.path())));
    }
    std::fs::metadata(path).is_ok_and(|m| !m.permissions().readonly())
}

/// Hard-links a file (or every file of a folder) from `src` to `dst`, copying where linking
/// is not possible (another file system); a copy is made read-only like the original.
pub(super) fn link_tree(src: &Path, dst: &Path) -> Result<(), StoreError> {
    if src.is_dir() {
        std::fs::create_dir_all(dst).map_err(io_err("create", dst))?;
        for entry in std::fs::read_dir(src).map_err(io_err("read", src))? {
            let entry = entry.map_err(io_err("read", src))?;
            link_tree(&entry.path(), &dst.join(entry.file_name()))?;
        }
        return Ok(());
    }
    if std::fs::hard_link(src, dst).is_err() {
        std::fs::copy(src, dst).map_err(io_err("copy", src))?;
        make_read_only(dst)?;
    }
    Ok(())
}

/// Removes a folder tree; a tree that another process removed first is not an error.
pub(super) fn remove_tree(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("remove", path)(e)),
    }
}

/// Bytes of the files under `path`.
pub(super) fn size_of(path: &Path) -> u64 {
    if path.is_dir() {
        return std::fs::read_dir(path).map_or(0, |d| d.flatten().map(|e| size_of(&e.path())).sum());
    }
    std::fs::metadata(path).map_or(0, |m| m.len())
}
