//! The runs folder: the stage cache, attempts in temp folders promoted by rename, work folders,
//! and the per-pipeline stage views.
//!
//! ```text
//! runs/
//!   .cache/<key>/          a finished result; appears only by an atomic rename, so it is whole
//!     out/<port files>     the outputs
//!     config.json          the resolved config
//!     entry.json           `CacheRecord`: key, plugin, input and output hashes, device, timing
//!     stage.log            the log of the run that produced it
//!   .tmp/<key>-<pid>-<n>/  an attempt in progress (`INCOMPLETE` marker, `out/`); never trusted,
//!                          removed on failure and, after a kill, by the next process
//!   .tmp/<pid>.lock        locked by live process <pid> for its lifetime
//!   .work/<key>/           checkpoints of `<key>`: kept across failed or killed attempts
//!   .locks/<key>           locked while a process runs `<key>` (two processes never both run it)
//!   <pipeline>/<stage>/    the stage view: outputs hard-linked (else copied) from the cache
//!                          entry, config.json, stage.log, stage.json (`StageRecord`); in a
//!                          sweep, `<stage>` is the instance name `<point label>/<stage>` for
//!                          an instance that depends on an axis
//! ```

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::record::{CacheRecord, RECORD_FORMAT};

/// A file-system operation on the runs folder failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io { action, path: path.to_path_buf(), source }
}

const INCOMPLETE: &str = "INCOMPLETE";
/// The cache entry's record file.
pub const ENTRY_FILE: &str = "entry.json";
/// The outputs folder inside a cache entry and inside an attempt.
pub const OUT_DIR: &str = "out";

/// An open runs folder; holds this process's owner lock for its lifetime.
#[derive(Debug)]
pub struct RunsDir {
    root: PathBuf,
    _owner: Arc<File>,
    counter: AtomicU64,
}

/// A fresh temp folder for one attempt at a stage.
#[derive(Debug)]
pub struct Attempt {
    pub key: String,
    /// `runs/.tmp/<key>-<pid>-<n>/`.
    pub dir: PathBuf,
    /// `dir/out/`: the plugin's `output_dir`.
    pub out_dir: PathBuf,
    /// `runs/.work/<key>/`: the plugin's `work_dir`.
    pub work_dir: PathBuf,
}

/// Held while this process runs a key; released on drop (or when the process dies).
#[derive(Debug)]
pub struct KeyLock {
    _file: File,
}

impl RunsDir {
    /// Opens (creating) a runs folder and removes the temp folders of dead processes. The root
    /// is made absolute.
    pub fn open(root: &Path) -> Result<RunsDir, StoreError> {
        for sub in [".cache", ".tmp", ".work", ".locks"] {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        }
        // Absolute, so that records and plugin requests do not depend on the current folder.
        let root = &std::fs::canonicalize(root).map_err(io_err("resolve", root))?;
        let runs = RunsDir { root: root.to_path_buf(), _owner: owner_lock(root)?, counter: AtomicU64::new(0) };
        runs.clean_stale_attempts()?;
        Ok(runs)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `runs/.cache/<key>/`.
    pub fn cache_dir(&self, key: &str) -> PathBuf {
        self.root.join(".cache").join(key)
    }

    /// `runs/.work/<key>/`.
    pub fn work_dir(&self, key: &str) -> PathBuf {
        self.root.join(".work").join(key)
    }

    /// `runs/<pipeline>/<stage>/`.
    pub fn stage_dir(&self, pipeline: &str, stage: &str) -> PathBuf {
        self.root.join(pipeline).join(stage)
    }

    /// The cache entry of `key`, if there is a whole one of this record format.
    pub fn lookup(&self, key: &str) -> Option<CacheRecord> {
        let dir = self.cache_dir(key);
        if dir.join(INCOMPLETE).exists() {
            return None;
        }
        let bytes = std::fs::read(dir.join(ENTRY_FILE)).ok()?;
        let record: CacheRecord = serde_json::from_slice(&bytes).ok()?;
        (record.format == RECORD_FORMAT && record.key == key).then_some(record)
    }

    /// Takes the lock of `key`, waiting while another process (or thread) holds it; gives up
    /// with `None` once `cancelled` says so. `waiting` is called once if it has to wait.
    pub fn lock_key(
        &self,
        key: &str,
        cancelled: &dyn Fn() -> bool,
        waiting: &dyn Fn(),
    ) -> Result<Option<KeyLock>, StoreError> {
        let path = self.root.join(".locks").join(key);
        let file =
            File::options().create(true).truncate(false).write(true).open(&path).map_err(io_err("create", &path))?;
        let mut announced = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(KeyLock { _file: file })),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err("lock", &path)(e)),
            }
            if cancelled() {
                return Ok(None);
            }
            if !announced {
                waiting();
                announced = true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A fresh attempt folder for `key` (with an `INCOMPLETE` marker and an empty `out/`), and
    /// the key's work folder (kept if it exists: a previous attempt's checkpoints).
    pub fn begin(&self, key: &str) -> Result<Attempt, StoreError> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.join(".tmp").join(format!("{key}-{}-{n}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        }
        let out_dir = dir.join(OUT_DIR);
        std::fs::create_dir_all(&out_dir).map_err(io_err("create", &out_dir))?;
        let marker = dir.join(INCOMPLETE);
        std::fs::write(&marker, b"this attempt did not finish; it is never used\n")
            .map_err(io_err("write", &marker))?;
        let work_dir = self.work_dir(key);
        std::fs::create_dir_all(&work_dir).map_err(io_err("create", &work_dir))?;
        Ok(Attempt { key: key.to_string(), dir, out_dir, work_dir })
    }

    /// Makes a finished attempt the cache entry of its key: fsyncs every file, drops the
    /// marker, renames the folder into `.cache/` (replacing an older entry of the same key),
    /// and removes the key's work folder. The attempt must already hold `entry.json`.
    pub fn commit(&self, attempt: Attempt) -> Result<PathBuf, StoreError> {
        // The marker only tells people what a folder in `.tmp` is: nothing in `.tmp` is trusted.
        let marker = attempt.dir.join(INCOMPLETE);
        std::fs::remove_file(&marker).map_err(io_err("remove", &marker))?;
        sync_tree(&attempt.dir)?;
        let target = self.cache_dir(&attempt.key);
        if target.exists() {
            // A forced rerun: move the old entry aside first (a folder cannot be renamed onto
            // a non-empty one), then drop it.
            let old = attempt.dir.with_extension("old");
            std::fs::rename(&target, &old).map_err(io_err("move aside", &target))?;
            let _ = std::fs::remove_dir_all(&old);
        }
        std::fs::rename(&attempt.dir, &target).map_err(io_err("promote", &attempt.dir))?;
        sync_dir(&self.root.join(".cache"));
        let _ = std::fs::remove_dir_all(&attempt.work_dir);
        Ok(target)
    }

    /// Throws an attempt away (its work folder stays for the next attempt).
    pub fn abandon(&self, attempt: Attempt) {
        let _ = std::fs::remove_dir_all(&attempt.dir);
    }

    /// Empties (creating) the stage view folder, e.g. before a stage runs.
    pub fn reset_stage_dir(&self, pipeline: &str, stage: &str) -> Result<PathBuf, StoreError> {
        let dir = self.stage_dir(pipeline, stage);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io_err("empty", &dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        Ok(dir)
    }

    /// Fills the stage view from a cache entry: outputs, `config.json` and `stage.log` linked
    /// (hard links, else copies). The caller writes `stage.json` last.
    pub fn link_view(&self, pipeline: &str, stage: &str, record: &CacheRecord) -> Result<PathBuf, StoreError> {
        let dir = self.reset_stage_dir(pipeline, stage)?;
        let entry = self.cache_dir(&record.key);
        for out in record.outputs.values() {
            link_tree(&entry.join(OUT_DIR).join(&out.file), &dir.join(&out.file))?;
        }
        for file in ["config.json", "stage.log"] {
            if entry.join(file).exists() {
                link_tree(&entry.join(file), &dir.join(file))?;
            }
        }
        Ok(dir)
    }

    /// Removes attempt folders whose process is gone (its owner lock is free).
    fn clean_stale_attempts(&self) -> Result<(), StoreError> {
        let tmp = self.root.join(".tmp");
        let me = std::process::id();
        let entries = std::fs::read_dir(&tmp).map_err(io_err("read", &tmp))?;
        let mut dead_locks = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = match name.strip_suffix(".lock") {
                Some(pid) => pid.parse::<u32>().ok(),
                None => name.rsplit('-').nth(1).and_then(|p| p.parse::<u32>().ok()),
            };
            let Some(pid) = pid else { continue };
            if pid == me || is_alive(&tmp.join(format!("{pid}.lock"))) {
                continue;
            }
            if name.ends_with(".lock") {
                dead_locks.push(entry.path());
            } else {
                std::fs::remove_dir_all(entry.path()).map_err(io_err("remove", &entry.path()))?;
            }
        }
        for lock in dead_locks {
            let _ = std::fs::remove_file(lock);
        }
        Ok(())
    }
}

/// This process's owner lock of a runs folder, shared by every `RunsDir` open on it (a second
/// `lock()` of the same file from this process would wait for the first forever).
fn owner_lock(root: &Path) -> Result<Arc<File>, StoreError> {
    static HELD: Mutex<Vec<(PathBuf, Weak<File>)>> = Mutex::new(Vec::new());
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    held.retain(|(_, w)| w.strong_count() > 0);
    if let Some(file) = held.iter().find(|(p, _)| p == root).and_then(|(_, w)| w.upgrade()) {
        return Ok(file);
    }
    let path = root.join(".tmp").join(format!("{}.lock", std::process::id()));
    let file = File::create(&path).map_err(io_err("create", &path))?;
    file.lock().map_err(io_err("lock", &path))?;
    let file = Arc::new(file);
    held.push((root.to_path_buf(), Arc::downgrade(&file)));
    Ok(file)
}

/// Whether the process owning `lock` still runs (it holds the lock until it exits or dies).
fn is_alive(lock: &Path) -> bool {
    match File::open(lock) {
        Ok(f) => matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// fsyncs every file under `dir`, then the folders.
fn sync_tree(dir: &Path) -> Result<(), StoreError> {
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
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Hard-links a file (or every file of a folder) from `src` to `dst`, copying where linking
/// is not possible (another file system).
fn link_tree(src: &Path, dst: &Path) -> Result<(), StoreError> {
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
    }
    Ok(())
}
