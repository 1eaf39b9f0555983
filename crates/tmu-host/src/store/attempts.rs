//! Attempts: the lock of a key, a fresh temp folder, its promotion into the cache by one rename
//! (the first finisher of a key wins), and the clean-up of what dead processes left behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::fsops::{io_err, make_read_only, remove_tree, sync_dir, sync_tree};
use super::lock::{self, Holder, LockFile};
use super::{INCOMPLETE, OUT_DIR, RunsDir, StoreError, owner_path};
use crate::record::CacheRecord;

/// A fresh temp folder for one attempt at a stage.
#[derive(Debug)]
pub struct Attempt {
    pub key: String,
    /// `runs/.tmp/<key>-<pid>-<n>@<host>/`.
    pub dir: PathBuf,
    /// `dir/out/`: the plugin's `output_dir`.
    pub out_dir: PathBuf,
    /// `runs/.work/<key>/`: the plugin's `work_dir`.
    pub work_dir: PathBuf,
}

/// Held while this process runs a key; released on drop (or when the process dies).
#[derive(Debug)]
pub struct KeyLock {
    _lock: LockFile,
}

/// Where a committed attempt's result is.
#[derive(Debug)]
pub enum Committed {
    /// The attempt became the cache entry.
    Stored(PathBuf),
    /// Another process stored a verified entry for the key first; it is kept and the attempt
    /// was thrown away.
    Existing(Box<CacheRecord>),
}

/// How long a lock or owner file of another host may go without a heartbeat before clean-up
/// treats its holder as dead (wall clock: ten leases tolerate clock skew between nodes).
fn stale_after() -> std::time::Duration {
    lock::lease() * 10
}

impl RunsDir {
    /// Takes the lock of `key`, waiting while another process (or thread) holds it; gives up
    /// with `None` once `cancelled` says so. `waiting` is called once, with the holder, if it
    /// has to wait.
    pub fn lock_key(
        &self,
        key: &str,
        cancelled: &dyn Fn() -> bool,
        waiting: &dyn Fn(Option<&Holder>),
    ) -> Result<Option<KeyLock>, StoreError> {
        let path = self.lock_path(key);
        let lock = lock::acquire(&path, cancelled, waiting).map_err(io_err("lock", &path))?;
        Ok(lock.map(|l| KeyLock { _lock: l }))
    }

    /// Takes the lock of `key` only if it is free now.
    pub fn try_lock_key(&self, key: &str) -> Result<Option<KeyLock>, StoreError> {
        let path = self.lock_path(key);
        let lock = lock::try_acquire(&path).map_err(io_err("lock", &path))?;
        Ok(lock.map(|l| KeyLock { _lock: l }))
    }

    /// A fresh attempt folder for `key` (with an `INCOMPLETE` marker and an empty `out/`), and
    /// the key's work folder (kept if it exists: a previous attempt's checkpoints).
    pub fn begin(&self, key: &str) -> Result<Attempt, StoreError> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.join(".tmp").join(format!("{key}-{}-{n}@{}", std::process::id(), lock::host()));
        if dir.exists() {
            remove_tree(&dir)?;
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

    /// Makes a finished attempt the cache entry of its key: drops the marker, makes every file
    /// read-only, fsyncs them, and renames the folder into `.cache/`; then removes the key's work
    /// folder. The attempt must already hold `entry.json` (`record`). An existing entry is
    /// replaced only with `replace` (a forced rerun); otherwise a verified entry that another
    /// process stored first wins and this attempt is thrown away.
    pub fn commit(&self, attempt: Attempt, record: &CacheRecord, replace: bool) -> Result<Committed, StoreError> {
        // The marker only tells people what a folder in `.tmp` is: nothing in `.tmp` is trusted.
        let marker = attempt.dir.join(INCOMPLETE);
        std::fs::remove_file(&marker).map_err(io_err("remove", &marker))?;
        make_read_only(&attempt.dir)?;
        sync_tree(&attempt.dir)?;
        let target = self.cache_dir(&attempt.key);
        if target.exists() {
            if !replace && let Some(existing) = self.lookup_verified(&attempt.key, false, &mut |_| {}) {
                self.abandon(attempt);
                return Ok(Committed::Existing(Box::new(existing)));
            }
            // A forced rerun, or an entry that does not verify: move it out of the way (a
            // folder cannot be renamed onto a non-empty one), then drop it.
            self.evict(&attempt.key)?;
        }
        if let Err(e) = std::fs::rename(&attempt.dir, &target) {
            // Another process stored the key between the check and the rename.
            if !replace && let Some(existing) = self.lookup_verified(&attempt.key, false, &mut |_| {}) {
                self.abandon(attempt);
                return Ok(Committed::Existing(Box::new(existing)));
            }
            return Err(io_err("promote", &attempt.dir)(e));
        }
        sync_dir(&self.root.join(".cache"));
        let _ = remove_tree(&attempt.work_dir);
        for out in record.outputs.values() {
            self.remember(&target.join(OUT_DIR).join(&out.file));
        }
        Ok(Committed::Stored(target))
    }

    /// Throws an attempt away (its work folder stays for the next attempt).
    pub fn abandon(&self, attempt: Attempt) {
        let _ = remove_tree(&attempt.dir);
    }

    /// Removes what dead processes left (see `clean_stale`), e.g. after a child process died.
    pub fn clean_dead(&self) -> Result<(), StoreError> {
        self.clean_stale()
    }

    /// Removes what dead processes left: their attempt folders and owner files, folders on
    /// their way out in `.trash/`, and broken lock files.
    pub(super) fn clean_stale(&self) -> Result<(), StoreError> {
        let tmp = self.root.join(".tmp");
        let me = owner_path(&self.root, std::process::id(), lock::host());
        for entry in std::fs::read_dir(&tmp).map_err(io_err("read", &tmp))?.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(owner) = name.strip_suffix(".owner") {
                if path != me && owner.contains('@') && !lock::is_held(&path, stale_after()) {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            let Some(owner) = attempt_owner(&self.root, &name) else { continue };
            if owner != me && !owner_alive(&owner) {
                remove_tree(&path)?;
                if owner.extension().is_some_and(|e| e == "lock") {
                    let _ = std::fs::remove_file(&owner);
                }
            }
        }
        for sub in [".trash", ".locks"] {
            let dir = self.root.join(sub);
            for entry in std::fs::read_dir(&dir).map_err(io_err("read", &dir))?.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                // Another process may be removing the same folder: its errors are not ours.
                if sub == ".trash" {
                    let _ = std::fs::remove_dir_all(entry.path());
                } else if name.contains(".broken-") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }
}

/// The owner file of an attempt folder's process: `<key>-<pid>-<n>@<host>` is owned by
/// `<pid>@<host>.owner`; `<key>-<pid>-<n>` (an older tmu) by `<pid>.lock`.
fn attempt_owner(root: &Path, name: &str) -> Option<PathBuf> {
    let (rest, host) = match name.rsplit_once('@') {
        Some((rest, host)) => (rest, Some(host)),
        None => (name, None),
    };
    let pid: u32 = rest.rsplit('-').nth(1)?.parse().ok()?;
    Some(match host {
        Some(host) => owner_path(root, pid, host),
        None => root.join(".tmp").join(format!("{pid}.lock")),
    })
}

/// Whether the owner of an attempt still runs.
fn owner_alive(owner: &Path) -> bool {
    if owner.extension().is_some_and(|e| e == "lock") {
        // An older tmu kept a kernel lock on `<pid>.lock` for its lifetime.
        return std::fs::File::open(owner)
            .is_ok_and(|f| matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
    }
    lock::is_held(owner, stale_after())
}
