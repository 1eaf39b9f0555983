//! Locks on a runs folder that hold on one machine and over a shared file system (NFS).
//!
//! A lock is a file created exclusively (`O_CREAT | O_EXCL`, atomic on NFS v3 and later) that
//! names its holder: host, pid and a nonce. While it holds the lock, the holder keeps a kernel
//! lock (`flock`) on the file and refreshes its modification time (a heartbeat, every quarter of
//! the lease). A waiter judges the holder:
//! - on the same host, by the kernel lock: free means the holder died (SIGKILL included), at
//!   once, without waiting for the lease;
//! - on another host, by the heartbeat: a lock whose file did not change for a whole lease, as
//!   measured by the waiter's own monotonic clock (so clock skew between nodes does not matter),
//!   belongs to a dead node.
//!
//! A dead holder's file is broken by renaming it aside (only one waiter's rename succeeds) and
//! the waiter tries again. Exclusion is for efficiency, never for correctness: a cache entry
//! appears by one atomic rename of a complete folder, and a second finisher of the same key
//! keeps the first one's entry.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

/// The environment variable that sets the lease in seconds (default 60).
pub const LEASE_ENV: &str = "TMU_LOCK_LEASE_S";
const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// How long a lock of another host may go without a heartbeat before it is judged dead.
pub fn lease() -> Duration {
    static LEASE: OnceLock<Duration> = OnceLock::new();
    *LEASE.get_or_init(|| {
        std::env::var(LEASE_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(DEFAULT_LEASE, Duration::from_secs_f64)
    })
}

/// This machine's name as lock files and attempt folders record it: the host name with every
/// character other than ASCII letters, digits, `-` and `.` replaced by `_`.
pub fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let name = gethostname::gethostname().to_string_lossy().into_owned();
        let clean: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
        if clean.is_empty() { "localhost".into() } else { clean }
    })
}

/// What a lock file says about its holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    /// Distinguishes two holders with the same host and pid (a pid reused after a crash).
    pub nonce: String,
    /// When the lock was taken (RFC 3339, UTC), for people reading the file.
    pub since: String,
}

impl Holder {
    fn me() -> Holder {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Holder {
            host: host().to_string(),
            pid: std::process::id(),
            nonce: format!("{:x}-{n}", now.as_nanos()),
            since: crate::time::rfc3339(now.as_micros() as u64),
        }
    }

    /// `pid 123 on host-a since 2026-...`.
    pub fn describe(&self) -> String {
        format!("pid {} on {} since {}", self.pid, self.host, self.since)
    }
}

/// A held lock; released (its file removed) on drop, and by the kernel if the process dies.
#[derive(Debug)]
pub struct LockFile {
    path: PathBuf,
    nonce: String,
    file: Arc<File>,
}

impl LockFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        heartbeat_forget(&self.file);
        // Remove the file only while it is still ours (a waiter may have judged it dead and
        // broken it, and another process may hold the name now).
        if read_holder(&self.path).is_ok_and(|h| h.nonce == self.nonce) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// How a waiter judges the current holder of a lock file.
enum Judgement {
    Live(Option<Holder>),
    /// Dead; the handle keeps the file's kernel lock (same host) while the waiter breaks it.
    Dead(Option<File>),
    /// The file went away between the attempt to create it and the look at it.
    Gone,
}

/// What a waiter saw of another host's lock file, and since when (its own clock).
#[derive(Clone, PartialEq)]
struct Seen {
    modified: Option<SystemTime>,
    len: u64,
}

/// Takes the lock at `path`, waiting while a live holder has it. Returns `None` once
/// `cancelled()` says so. `waiting` is called once, with the holder, if the call has to wait.
pub fn acquire(
    path: &Path,
    cancelled: &dyn Fn() -> bool,
    waiting: &dyn Fn(Option<&Holder>),
) -> io::Result<Option<LockFile>> {
    let mut announced = false;
    let mut seen: Option<(Seen, Instant)> = None;
    loop {
        if let Some(lock) = try_create(path)? {
            return Ok(Some(lock));
        }
        match judge(path, &mut seen)? {
            Judgement::Gone => continue,
            Judgement::Dead(guard) => {
                break_lock(path)?;
                drop(guard);
                seen = None;
                continue;
            }
            Judgement::Live(holder) => {
                if cancelled() {
                    return Ok(None);
                }
                if !announced {
                    waiting(holder.as_ref());
                    announced = true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Takes the lock at `path` if nobody holds it (or its holder is dead on this host); never
/// waits. A file left by a holder on another host counts as held.
pub fn try_acquire(path: &Path) -> io::Result<Option<LockFile>> {
    for _ in 0..3 {
        if let Some(lock) = try_create(path)? {
            return Ok(Some(lock));
        }
        match judge(path, &mut None)? {
            Judgement::Gone => continue,
            Judgement::Dead(guard) => {
                break_lock(path)?;
                drop(guard);
            }
            Judgement::Live(_) => return Ok(None),
        }
    }
    Ok(None)
}

/// Whether the lock at `path` has a live holder, judged without waiting: on this host by the
/// kernel lock, on another by a heartbeat younger than `stale_after` (wall clock, so this
/// tolerates clock skew only up to that margin).
pub fn is_held(path: &Path, stale_after: Duration) -> bool {
    let Ok(file) = File::open(path) else { return false };
    match read_holder(path) {
        Ok(h) if h.host == host() => matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        _ => {
            file.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().map_or(true, |age| age < stale_after))
        }
    }
}

/// The holder recorded in a lock file.
pub fn read_holder(path: &Path) -> io::Result<Holder> {
    let mut text = String::new();
    File::open(path)?.read_to_string(&mut text)?;
    serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn try_create(path: &Path) -> io::Result<Option<LockFile>> {
    let mut file = match File::options().write(true).create_new(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => return Err(e),
    };
    // The kernel lock first, then the holder: a waiter that can read a whole holder knows the
    // kernel lock was taken before it was written.
    file.lock()?;
    let holder = Holder::me();
    let mut bytes = serde_json::to_vec(&holder).map_err(io::Error::other)?;
    bytes.push(b'\n');
    file.write_all(&bytes)?;
    file.sync_all()?;
    let file = Arc::new(file);
    heartbeat_add(&file);
    Ok(Some(LockFile { path: path.to_path_buf(), nonce: holder.nonce, file }))
}

fn judge(path: &Path, seen: &mut Option<(Seen, Instant)>) -> io::Result<Judgement> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Judgement::Gone),
        Err(e) => return Err(e),
    };
    let holder = read_holder(path).ok();
    let meta = file.metadata()?;
    if let Some(h) = holder.as_ref().filter(|h| h.host == host()) {
        return Ok(match file.try_lock() {
            Ok(()) => Judgement::Dead(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Judgement::Live(Some(h.clone())),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        });
    }
    // A file without a whole holder is being created (fresh) or was left by a crash (old).
    if holder.is_none() && meta.modified().ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age > lease()) {
        return Ok(Judgement::Dead(None));
    }
    let now = Seen { modified: meta.modified().ok(), len: meta.len() };
    match seen {
        Some((before, since)) if *before == now => {
            if since.elapsed() >= lease() {
                return Ok(Judgement::Dead(None));
            }
        }
        _ => *seen = Some((now, Instant::now())),
    }
    Ok(Judgement::Live(holder))
}

/// Renames a dead holder's file aside and removes it; losing the race to another waiter is fine.
fn break_lock(path: &Path) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let aside = path.with_file_name(format!("{name}.broken-{}-{}-{n}", std::process::id(), host()));
    match std::fs::rename(path, &aside) {
        Ok(()) => {
            let _ = std::fs::remove_file(&aside);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Files whose modification time the heartbeat thread refreshes.
static BEATING: Mutex<Vec<Weak<File>>> = Mutex::new(Vec::new());

fn heartbeat_add(file: &Arc<File>) {
    static THREAD: OnceLock<()> = OnceLock::new();
    BEATING.lock().unwrap_or_else(|e| e.into_inner()).push(Arc::downgrade(file));
    THREAD.get_or_init(|| {
        let _ = std::thread::Builder::new().name("tmu-lock-heartbeat".into()).spawn(|| {
            loop {
                std::thread::sleep(lease() / 4);
                let files: Vec<Arc<File>> = {
                    let mut beating = BEATING.lock().unwrap_or_else(|e| e.into_inner());
                    beating.retain(|w| w.strong_count() > 0);
                    beating.iter().filter_map(Weak::upgrade).collect()
                };
                let now = SystemTime::now();
                for file in files {
                    let _ = file.set_modified(now);
                }
            }
        });
    });
}

fn heartbeat_forget(file: &Arc<File>) {
    BEATING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|w| w.strong_count() > 0 && !w.ptr_eq(&Arc::downgrade(file)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let lock = try_acquire(&path).unwrap().expect("free");
        assert_eq!(read_holder(&path).unwrap().pid, std::process::id());
        // The same process is another holder too: its kernel lock is per open file.
        assert!(try_acquire(&path).unwrap().is_none());
        assert!(is_held(&path, lease()));
        drop(lock);
        assert!(!path.exists());
        assert!(try_acquire(&path).unwrap().is_some());
    }

    #[test]
    fn a_dead_local_holder_is_broken_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        // A holder of this host whose kernel lock is gone: its process died.
        let dead = Holder { host: host().into(), pid: 4_000_000, nonce: "x".into(), since: "then".into() };
        std::fs::write(&path, serde_json::to_vec(&dead).unwrap()).unwrap();
        assert!(!is_held(&path, lease()));
        let lock = try_acquire(&path).unwrap().expect("the dead holder's lock is broken");
        assert_ne!(read_holder(lock.path()).unwrap().nonce, "x");
    }

    #[test]
    fn another_hosts_fresh_lock_counts_as_held() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let other = Holder { host: "elsewhere".into(), pid: 1, nonce: "y".into(), since: "now".into() };
        std::fs::write(&path, serde_json::to_vec(&other).unwrap()).unwrap();
        assert!(is_held(&path, lease()));
        assert!(try_acquire(&path).unwrap().is_none());
        // Old by the wall clock: judged dead by `is_held` (used to clean up, not to take locks).
        let file = File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() - lease() * 11).unwrap();
        assert!(!is_held(&path, lease() * 10));
    }

    #[test]
    fn a_lock_file_without_a_holder_that_is_old_is_broken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        // Left by an older tmu (empty lock files) or a crash between create and write.
        let file = File::create(&path).unwrap();
        file.set_modified(SystemTime::now() - lease() * 2).unwrap();
        assert!(try_acquire(&path).unwrap().is_some());
    }
}
