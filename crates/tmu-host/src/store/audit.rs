//! The whole store at once: `tmu verify` (every entry against its record, every stage view
//! against its entry) and `tmu gc` (removing the entries that no pipeline of a set reuses).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::fsops::{any_writable, make_read_only, remove_tree, size_of};
use super::{Corruption, ENTRY_FILE, OUT_DIR, RunsDir, StoreError};
use crate::record::{ProducedBy, StageRecord};

/// One cache entry that is not as it should be.
#[derive(Debug)]
pub enum EntryProblem {
    /// `entry.json` is missing, unreadable, of another format or names another key: the entry
    /// is never used (its stage runs again) and can be removed.
    BadRecord { key: String, reason: String },
    /// An output does not hash to its record.
    Corrupt(Box<Corruption>),
}

impl std::fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryProblem::BadRecord { key, reason } => write!(f, "entry {key}: {reason}"),
            EntryProblem::Corrupt(c) => c.fmt(f),
        }
    }
}

/// A stage view whose file is no longer the cache entry's (replaced by an editor that writes
/// a new file, say): the entry itself is intact, and the next run of the pipeline relinks it.
#[derive(Debug)]
pub struct ViewProblem {
    pub file: PathBuf,
    pub reason: String,
}

/// What `verify_store` found.
#[derive(Debug, Default)]
pub struct Audit {
    pub entries: usize,
    pub bytes: u64,
    pub problems: Vec<EntryProblem>,
    /// Entries whose files were writable (made by an older tmu, or changed by hand) and that
    /// verified: they are made read-only.
    pub made_read_only: usize,
    /// Entries removed because of a problem (with `evict`).
    pub evicted: usize,
    pub views: Vec<ViewProblem>,
}

impl RunsDir {
    /// The keys of every cache entry folder, sorted.
    pub fn cached_keys(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join(".cache");
        let mut keys: Vec<String> = std::fs::read_dir(&dir)
            .map_err(super::fsops::io_err("read", &dir))?
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// Checks every cache entry against its record and every stage view against its entry;
    /// with `evict`, removes the entries that fail (their stages run again when next needed).
    pub fn verify_store(&self, evict: bool) -> Result<Audit, StoreError> {
        let mut audit = Audit::default();
        for key in self.cached_keys()? {
            audit.entries += 1;
            let dir = self.cache_dir(&key);
            audit.bytes += size_of(&dir);
            let problem = match self.lookup(&key) {
                None => Some(EntryProblem::BadRecord { key: key.clone(), reason: bad_record_reason(&dir, &key) }),
                Some(record) => {
                    let writable = any_writable(&dir.join(OUT_DIR));
                    match self.verify_entry(&record) {
                        Ok(()) => {
                            if writable && make_read_only(&dir).is_ok() {
                                audit.made_read_only += 1;
                            }
                            None
                        }
                        Err(c) => Some(EntryProblem::Corrupt(c)),
                    }
                }
            };
            if let Some(problem) = problem {
                if evict && let Some(_lock) = self.try_lock_key(&key)? {
                    self.evict(&key)?;
                    audit.evicted += 1;
                }
                audit.problems.push(problem);
            }
        }
        audit.views = self.check_views();
        Ok(audit)
    }

    /// Every stage view whose output files are not the files of the entry it names.
    fn check_views(&self) -> Vec<ViewProblem> {
        let mut problems = Vec::new();
        for (view, record) in self.views() {
            let entry = self.cache_dir(&record.entry.key);
            for out in record.entry.outputs.values() {
                let file = view.join(&out.file);
                let cached = entry.join(OUT_DIR).join(&out.file);
                if let Some(reason) = view_mismatch(&file, &cached, &out.blake3) {
                    problems.push(ViewProblem { file, reason });
                }
            }
        }
        problems
    }

    /// Every stage view of a finished stage (`stage.json` holding a `StageRecord`), with its
    /// folder: `runs/<pipeline>/<stage>/` and, in sweeps, `runs/<pipeline>/<point>/<stage>/`.
    pub fn views(&self) -> Vec<(PathBuf, StageRecord)> {
        let mut out = Vec::new();
        let Ok(top) = std::fs::read_dir(&self.root) else { return out };
        for entry in top.flatten() {
            if !entry.file_name().to_string_lossy().starts_with('.') && entry.path().is_dir() {
                collect_views(&entry.path(), 0, &mut out);
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// What `gc` would remove if only the entries in `keep` (and the work folders of the keys
    /// in `keep`) are still wanted: every other entry, its work folder, and the stage views
    /// that link to a removed entry (their hard links would keep its bytes on disk).
    pub fn gc_plan(&self, keep: &HashSet<String>) -> Result<GcPlan, StoreError> {
        let mut plan = GcPlan::default();
        for key in self.cached_keys()? {
            let dir = self.cache_dir(&key);
            if keep.contains(&key) {
                plan.kept += 1;
                continue;
            }
            let produced_by = self.lookup(&key).map(|r| r.produced_by);
            plan.entries.push(GcEntry { bytes: size_of(&dir), key, produced_by });
        }
        let removed: HashSet<&str> = plan.entries.iter().map(|e| e.key.as_str()).collect();
        let work = self.root.join(".work");
        if let Ok(dir) = std::fs::read_dir(&work) {
            for entry in dir.flatten() {
                let key = entry.file_name().to_string_lossy().into_owned();
                if !keep.contains(&key) {
                    plan.work_dirs.push(entry.path());
                }
            }
        }
        plan.work_dirs.sort();
        for (view, record) in self.views() {
            if removed.contains(record.entry.key.as_str()) {
                plan.views.push(view);
            }
        }
        Ok(plan)
    }

    /// Removes what `plan` lists. An entry whose key a running process holds is left alone.
    pub fn gc_apply(&self, plan: &GcPlan) -> Result<GcOutcome, StoreError> {
        let mut outcome = GcOutcome::default();
        for view in &plan.views {
            remove_tree(view)?;
        }
        for entry in &plan.entries {
            match self.try_lock_key(&entry.key)? {
                Some(_lock) => {
                    self.evict(&entry.key)?;
                    outcome.removed += 1;
                    outcome.bytes += entry.bytes;
                }
                None => outcome.busy.push(entry.key.clone()),
            }
        }
        for dir in &plan.work_dirs {
            let key = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(_lock) = self.try_lock_key(&key)? {
                remove_tree(dir)?;
            }
        }
        Ok(outcome)
    }
}

/// One entry `gc` would remove.
#[derive(Debug)]
pub struct GcEntry {
    pub key: String,
    pub bytes: u64,
    pub produced_by: Option<ProducedBy>,
}

/// What `gc` would remove.
#[derive(Debug, Default)]
pub struct GcPlan {
    pub entries: Vec<GcEntry>,
    pub kept: usize,
    pub work_dirs: Vec<PathBuf>,
    pub views: Vec<PathBuf>,
}

impl GcPlan {
    pub fn bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.bytes).sum()
    }
}

/// What `gc` removed.
#[derive(Debug, Default)]
pub struct GcOutcome {
    pub removed: usize,
    pub bytes: u64,
    /// Entries left alone because a running process holds their key.
    pub busy: Vec<String>,
}

fn collect_views(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, StageRecord)>) {
    let stage_json = dir.join("stage.json");
    if stage_json.is_file() {
        if let Some(record) = std::fs::read(&stage_json).ok().and_then(|b| serde_json::from_slice(&b).ok()) {
            out.push((dir.to_path_buf(), record));
        }
        return;
    }
    // A pipeline folder holds stage folders, and in a sweep point folders holding them.
    if depth < 3
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                collect_views(&entry.path(), depth + 1, out);
            }
        }
    }
}

fn bad_record_reason(dir: &Path, key: &str) -> String {
    let path = dir.join(ENTRY_FILE);
    if dir.join(super::INCOMPLETE).exists() {
        return "holds an INCOMPLETE marker".into();
    }
    match std::fs::read(&path) {
        Err(e) => format!("{} cannot be read ({e})", path.display()),
        Ok(bytes) => match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Err(e) => format!("{} is not JSON ({e})", path.display()),
            Ok(v) if v.get("key").and_then(|k| k.as_str()) != Some(key) => {
                format!("{} names another key", path.display())
            }
            Ok(_) => format!("{} is of another record format", path.display()),
        },
    }
}

/// Why a view's file is not its entry's, if it is not.
fn view_mismatch(view_file: &Path, cached: &Path, recorded: &str) -> Option<String> {
    if !cached.exists() {
        return Some("links to a cache entry that is gone".into());
    }
    if !view_file.exists() {
        return Some("is missing".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let same = |a: &Path, b: &Path| -> Option<bool> {
            let (a, b) = (std::fs::metadata(a).ok()?, std::fs::metadata(b).ok()?);
            Some(a.dev() == b.dev() && a.ino() == b.ino())
        };
        if same(view_file, cached) == Some(true) {
            return None;
        }
    }
    match crate::hash::hash_path(view_file) {
        Ok((h, _)) if h == recorded => None,
        Ok(_) => Some("differs from the cached result (the cache is intact; the next run relinks it)".into()),
        Err(e) => Some(format!("cannot be read ({e})")),
    }
}
