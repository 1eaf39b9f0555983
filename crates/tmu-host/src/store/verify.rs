//! Verified reuse: a cached output is used only while its files still hash to what the entry
//! recorded when it was stored. Each file is hashed at most once per run: a file that verified
//! is remembered with its metadata (size, modification time, device and inode), and a later
//! check in the same run only compares those, hashing again only if they changed. (Not the
//! change time: linking a file into a stage view changes it. A write that puts back the exact
//! modification time is caught by the next run, which hashes everything it reuses again.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use super::fsops::{io_err, make_read_only, remove_tree};
use super::{OUT_DIR, RunsDir, StoreError};
use crate::hash::hash_path;
use crate::record::{CacheRecord, ProducedBy};

/// What identifies a file's content without reading it, as far as a run is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let m = std::fs::metadata(path)?;
    #[cfg(unix)]
    use std::os::unix::fs::MetadataExt;
    Ok(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        #[cfg(unix)]
        inode: (m.dev(), m.ino()),
    })
}

/// The stamps of a file, or of every file under a folder (sorted by path).
fn stamps(path: &Path) -> std::io::Result<Vec<(PathBuf, Stamp)>> {
    let mut out = Vec::new();
    collect(path, &mut out)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn collect(path: &Path, out: &mut Vec<(PathBuf, Stamp)>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect(&entry?.path(), out)?;
        }
    } else {
        out.push((path.to_path_buf(), stamp(path)?));
    }
    Ok(())
}

/// What is wrong with a cached artifact.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    Missing,
    Changed { recorded: String, found: String },
    Unreadable(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing => f.write_str("is missing"),
            Problem::Changed { recorded, found } => {
                write!(f, "hashes to {} but was stored as {}", short(found), short(recorded))
            }
            Problem::Unreadable(e) => write!(f, "cannot be read ({e})"),
        }
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(16)]
}

/// A cache entry whose output is not what its record says.
#[derive(Clone, Debug, PartialEq)]
pub struct Corruption {
    pub key: String,
    /// The output port.
    pub output: String,
    /// The output's file (or folder) inside the cache entry.
    pub path: PathBuf,
    pub produced_by: ProducedBy,
    pub problem: Problem,
}

impl std::fmt::Display for Corruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (output `{}` of stage `{}` in pipeline `{}`) {}",
            self.path.display(),
            self.output,
            self.produced_by.stage,
            self.produced_by.pipeline,
            self.problem
        )
    }
}

/// The files this run verified, with the stamps they had then, and what hashing them cost.
#[derive(Debug, Default)]
pub(super) struct Verified {
    seen: Mutex<HashMap<PathBuf, Vec<(PathBuf, Stamp)>>>,
    hashed_artifacts: AtomicU64,
    hashed_bytes: AtomicU64,
    hashing_nanos: AtomicU64,
}

/// What verification cost a run so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VerifyStats {
    /// Artifacts (files or folders) hashed to verify them.
    pub artifacts: u64,
    pub bytes: u64,
    /// Wall time spent hashing, summed over threads.
    pub seconds: f64,
}

impl RunsDir {
    /// Whether cached outputs are verified before use (off with `--trust-cache`).
    pub fn verifies(&self) -> bool {
        self.verify
    }

    /// Checks that `path` (a file or folder) still hashes to `recorded`; hashes only if its
    /// files changed since they last verified in this run (or never did).
    pub fn check_artifact(&self, path: &Path, recorded: &str) -> Result<(), Problem> {
        if !self.verify {
            return Ok(());
        }
        let now = match stamps(path) {
            Ok(s) if !s.is_empty() || path.is_dir() => s,
            Ok(_) => return Err(Problem::Missing),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Problem::Missing),
            Err(e) => return Err(Problem::Unreadable(e.to_string())),
        };
        if self.verified.seen.lock().unwrap_or_else(|e| e.into_inner()).get(path) == Some(&now) {
            return Ok(());
        }
        let started = Instant::now();
        let (found, bytes) = hash_path(path).map_err(|e| Problem::Unreadable(e.to_string()))?;
        let v = &self.verified;
        v.hashing_nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        v.hashed_bytes.fetch_add(bytes, Ordering::Relaxed);
        v.hashed_artifacts.fetch_add(1, Ordering::Relaxed);
        if found != recorded {
            return Err(Problem::Changed { recorded: recorded.to_string(), found });
        }
        self.verified.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_path_buf(), now);
        Ok(())
    }

    /// What verifying cached results has cost this `RunsDir` so far.
    pub fn verify_stats(&self) -> VerifyStats {
        let v = &self.verified;
        VerifyStats {
            artifacts: v.hashed_artifacts.load(Ordering::Relaxed),
            bytes: v.hashed_bytes.load(Ordering::Relaxed),
            seconds: v.hashing_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }

    /// Remembers `path` as verified with its current stamps (its hash was just computed).
    pub(super) fn remember(&self, path: &Path) {
        if let Ok(now) = stamps(path) {
            self.verified.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_path_buf(), now);
        }
    }

    /// Checks every output of a cache entry against its record. An entry of an older tmu whose
    /// files are still writable is made read-only once it verifies.
    pub fn verify_entry(&self, record: &CacheRecord) -> Result<(), Box<Corruption>> {
        let entry = self.cache_dir(&record.key);
        for (port, out) in &record.outputs {
            let path = entry.join(OUT_DIR).join(&out.file);
            self.check_artifact(&path, &out.blake3).map_err(|problem| {
                Box::new(Corruption {
                    key: record.key.clone(),
                    output: port.clone(),
                    path: path.clone(),
                    produced_by: record.produced_by.clone(),
                    problem,
                })
            })?;
        }
        if self.verify && super::fsops::any_writable(&entry) {
            // Best effort: a folder that cannot be changed stays as it is.
            if make_read_only(&entry).is_ok() {
                for out in record.outputs.values() {
                    self.remember(&entry.join(OUT_DIR).join(&out.file));
                }
            }
        }
        Ok(())
    }

    /// The cache entry of `key` if there is a whole one whose outputs verify. A corrupt entry is
    /// passed to `corrupt` and, with `evict`, removed so that the stage runs again (unless a
    /// process holds the key's lock: it is replacing the entry).
    pub fn lookup_verified(&self, key: &str, evict: bool, corrupt: &mut dyn FnMut(&Corruption)) -> Option<CacheRecord> {
        let record = self.lookup(key)?;
        let corruption = match self.verify_entry(&record) {
            Ok(()) => return Some(record),
            Err(c) => c,
        };
        if evict && let Ok(Some(_lock)) = self.try_lock_key(key) {
            // Another process may have replaced the entry before this one took the lock.
            if let Some(record) = self.lookup(key).filter(|r| self.verify_entry(r).is_ok()) {
                return Some(record);
            }
            corrupt(&corruption);
            let _ = self.evict(key);
            return None;
        }
        corrupt(&corruption);
        None
    }

    /// Removes the cache entry of `key`: renamed into `.trash/` (so it disappears at once and
    /// whole), then deleted. A process already reading its files keeps them until it closes them.
    pub fn evict(&self, key: &str) -> Result<(), StoreError> {
        let dir = self.cache_dir(key);
        let trash = self.trash_path(key);
        match std::fs::rename(&dir, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err("move aside", &dir)(e)),
        }
        super::fsops::sync_dir(&self.root.join(".cache"));
        self.verified.seen.lock().unwrap_or_else(|e| e.into_inner()).retain(|p, _| !p.starts_with(&dir));
        remove_tree(&trash)
    }
}
