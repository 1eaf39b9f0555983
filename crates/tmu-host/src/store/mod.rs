//! The runs folder: the verified, read-only stage cache, attempts in temp folders promoted by
//! rename, work folders, locks that hold across processes and machines, and the stage views.
//!
//! ```text
//! runs/
//!   .cache/<key>/          a finished result; appears only by an atomic rename, so it is whole;
//!                          every file in it is read-only
//!     out/<port files>     the outputs (their blake3 hashes are in entry.json)
//!     config.json          the resolved config
//!     entry.json           `CacheRecord`: key, plugin, input and output hashes, device, timing
//!     stage.log            the log of the run that produced it
//!   .tmp/<key>-<pid>-<n>@<host>/
//!                          an attempt in progress (`INCOMPLETE` marker, `out/`); never trusted,
//!                          removed on failure and, after a kill, by the next process
//!   .tmp/<pid>@<host>.owner
//!                          a lock held by live process <pid> of <host> for its lifetime
//!   .work/<key>/           checkpoints of `<key>`: kept across failed or killed attempts
//!   .locks/<key>           held while a process runs `<key>` (see `lock`: a kernel lock on one
//!                          host, a lease with a heartbeat across hosts)
//!   .trash/                entries being removed (evicted, replaced or collected)
//!   <pipeline>/<stage>/    the stage view: outputs hard-linked (else copied, read-only) from
//!                          the cache entry, config.json, stage.log, stage.json (`StageRecord`);
//!                          in a sweep, `<stage>` is the instance name `<point label>/<stage>` for
//!                          an instance that depends on an axis
//! ```

mod attempts;
pub mod audit;
mod fsops;
pub mod lock;
mod verify;
mod view;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

pub use attempts::{Attempt, Committed, KeyLock};
pub use verify::{Corruption, Problem, VerifyStats};

use crate::record::{CacheRecord, RECORD_FORMAT};
use fsops::io_err;
use lock::LockFile;

/// A file-system operation on the runs folder failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The OS error is part of the message (not a `source`): callers pass the message on as text.
    #[error("cannot {action} {}: {source}", path.display())]
    Io { action: &'static str, path: PathBuf, source: io::Error },
}

const INCOMPLETE: &str = "INCOMPLETE";
/// The cache entry's record file.
pub const ENTRY_FILE: &str = "entry.json";
/// The outputs folder inside a cache entry and inside an attempt.
pub const OUT_DIR: &str = "out";
const SUBDIRS: [&str; 5] = [".cache", ".tmp", ".work", ".locks", ".trash"];

/// How a runs folder is used.
#[derive(Clone, Copy, Debug)]
pub struct StoreOptions {
    /// Verify cached outputs against their recorded hashes before they are used (`true`
    /// unless the user trusts the cache: `--trust-cache`).
    pub verify: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { verify: true }
    }
}

/// An open runs folder; holds this process's owner lock for its lifetime.
#[derive(Debug)]
pub struct RunsDir {
    root: PathBuf,
    _owner: Arc<LockFile>,
    counter: AtomicU64,
    verify: bool,
    verified: verify::Verified,
}

impl RunsDir {
    /// Opens (creating) a runs folder with verified reuse, and removes what dead processes
    /// left. The root is made absolute.
    pub fn open(root: &Path) -> Result<RunsDir, StoreError> {
        RunsDir::open_with(root, StoreOptions::default())
    }

    pub fn open_with(root: &Path, options: StoreOptions) -> Result<RunsDir, StoreError> {
        for sub in SUBDIRS {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        }
        // Absolute, so that records and plugin requests do not depend on the current folder.
        let root = &std::fs::canonicalize(root).map_err(io_err("resolve", root))?;
        let runs = RunsDir {
            root: root.to_path_buf(),
            _owner: owner_lock(root)?,
            counter: AtomicU64::new(0),
            verify: options.verify,
            verified: Default::default(),
        };
        runs.clean_stale()?;
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

    /// `runs/.locks/<key>`.
    fn lock_path(&self, key: &str) -> PathBuf {
        self.root.join(".locks").join(key)
    }

    /// A fresh name in `.trash/` for something of `key` on its way out.
    fn trash_path(&self, key: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.root.join(".trash").join(format!("{key}-{}-{n}@{}", std::process::id(), lock::host()))
    }

    /// The record of the cache entry of `key`, if there is a whole one of this record format;
    /// its outputs are not checked (see [`RunsDir::lookup_verified`]).
    pub fn lookup(&self, key: &str) -> Option<CacheRecord> {
        let dir = self.cache_dir(key);
        if dir.join(INCOMPLETE).exists() {
            return None;
        }
        let bytes = std::fs::read(dir.join(ENTRY_FILE)).ok()?;
        let record: CacheRecord = serde_json::from_slice(&bytes).ok()?;
        (record.format == RECORD_FORMAT && record.key == key).then_some(record)
    }
}

/// This process's owner lock of a runs folder, shared by every `RunsDir` open on it.
fn owner_lock(root: &Path) -> Result<Arc<LockFile>, StoreError> {
    static HELD: Mutex<Vec<(PathBuf, Weak<LockFile>)>> = Mutex::new(Vec::new());
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    held.retain(|(_, w)| w.strong_count() > 0);
    if let Some(lock) = held.iter().find(|(p, _)| p == root).and_then(|(_, w)| w.upgrade()) {
        return Ok(lock);
    }
    let path = owner_path(root, std::process::id(), lock::host());
    // The name is this process's own: a file already there was left by a dead process that had
    // the same pid, and `try_acquire` breaks it.
    let lock = lock::try_acquire(&path).map_err(io_err("lock", &path))?.ok_or_else(|| StoreError::Io {
        action: "lock",
        path: path.clone(),
        source: io::Error::other("another live process holds this process's own owner lock"),
    })?;
    let lock = Arc::new(lock);
    held.push((root.to_path_buf(), Arc::downgrade(&lock)));
    Ok(lock)
}

/// `runs/.tmp/<pid>@<host>.owner`.
fn owner_path(root: &Path, pid: u32, host: &str) -> PathBuf {
    root.join(".tmp").join(format!("{pid}@{host}.owner"))
}
