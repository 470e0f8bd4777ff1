//! One writer per suite: `<baselines>/<suite>/.lock`, locked with the operating
//! system's file lock by the driftgate that is changing the suite's baselines.
//!
//! The lock belongs to the open file, so the operating system releases it when its
//! process ends, however it ends: a killed or crashed holder leaves no stale lock, and
//! nothing has to read process liveness from `/proc`. The file holds the holder's pid,
//! only so the message for a refused writer can name it.
//!
//! On Unix the holder removes the file before releasing it, so a finished record leaves
//! nothing behind. A writer that opened the file just before that removal locks a file
//! no one else can see; it notices that the path now names another file (or none) and
//! starts over. Elsewhere the file is left in place and reused.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::StoreError;

/// Name of the lock file inside a suite's baseline folder.
pub const LOCK_FILE: &str = ".lock";

/// Tries before a held lock is reported: [`holder`] probes the lock for an instant, and
/// a writer arriving in that instant must not be refused for it.
const ATTEMPTS: u32 = 5;
const RETRY: Duration = Duration::from_millis(20);

/// A held lock; dropping it releases the suite.
#[derive(Debug)]
pub struct SuiteLock {
    file: File,
    path: PathBuf,
}

impl SuiteLock {
    /// Takes the lock of the suite whose baselines live in `dir`, failing at once when
    /// another driftgate holds it.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another driftgate holds it; I/O failures.
    pub fn acquire(dir: &Path, suite: &str) -> Result<Self, StoreError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(LOCK_FILE);
        let mut pid = 0;
        for attempt in 0..ATTEMPTS {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io(&path))?;
            match file.try_lock() {
                Ok(()) => {
                    if !names(&path, &file) {
                        continue;
                    }
                    file.set_len(0)
                        .and_then(|()| writeln!(file, "{}", std::process::id()))
                        .and_then(|()| file.flush())
                        .map_err(io(&path))?;
                    return Ok(Self { file, path });
                }
                Err(TryLockError::WouldBlock) => {
                    pid = read_pid(&path).unwrap_or(pid);
                    if attempt + 1 < ATTEMPTS {
                        std::thread::sleep(RETRY);
                    }
                }
                Err(TryLockError::Error(e)) => return Err(io(&path)(e)),
            }
        }
        Err(StoreError::Locked {
            suite: suite.to_string(),
            pid,
            path,
        })
    }
}

impl Drop for SuiteLock {
    fn drop(&mut self) {
        // Removed while still locked, so no writer can lock this file and find it gone
        // only afterwards without noticing (see the module documentation).
        if cfg!(unix) {
            let _ = fs::remove_file(&self.path);
        }
        let _ = self.file.unlock();
    }
}

/// Whether `path` still names the open `file`.
#[cfg(unix)]
fn names(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(path), file.metadata()) {
        (Ok(p), Ok(f)) => p.dev() == f.dev() && p.ino() == f.ino(),
        _ => false,
    }
}

/// Whether `path` still names the open `file`: always, since the file is never removed
/// off Unix.
#[cfg(not(unix))]
fn names(_path: &Path, _file: &File) -> bool {
    true
}

fn read_pid(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The pid of the process holding the lock in `dir`, if one holds it (0 when its pid is
/// not written yet). The caller's own lock counts: compare with `std::process::id()`.
#[must_use]
pub(super) fn holder(dir: &Path) -> Option<u32> {
    let path = dir.join(LOCK_FILE);
    let file = File::open(&path).ok()?;
    match file.try_lock_shared() {
        Err(TryLockError::WouldBlock) => Some(read_pid(&path).unwrap_or(0)),
        // Free (the shared lock is released with the file at once), or a file that
        // cannot be locked, which cannot be held either.
        Ok(()) | Err(TryLockError::Error(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_and_release_frees() {
        let t = tempfile::tempdir().unwrap();
        let lock = SuiteLock::acquire(t.path(), "s").unwrap();
        let me = std::process::id();
        assert_eq!(holder(t.path()), Some(me));
        // The lock belongs to the open file, so a second open in this process is refused
        // like another process would be, with the holder's pid for the message.
        match SuiteLock::acquire(t.path(), "s") {
            Err(StoreError::Locked { pid, .. }) => assert_eq!(pid, me),
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(lock);
        assert_eq!(holder(t.path()), None);
        if cfg!(unix) {
            assert!(!t.path().join(LOCK_FILE).exists());
        }
        let _again = SuiteLock::acquire(t.path(), "s").unwrap();
    }

    #[test]
    fn a_leftover_file_without_a_lock_is_free() {
        let t = tempfile::tempdir().unwrap();
        // What a killed holder leaves: the file with its pid, but no lock.
        fs::write(t.path().join(LOCK_FILE), "1\n").unwrap();
        assert_eq!(holder(t.path()), None);
        let lock = SuiteLock::acquire(t.path(), "s").unwrap();
        assert_eq!(
            read_pid(&t.path().join(LOCK_FILE)),
            Some(std::process::id())
        );
        drop(lock);
    }
}
