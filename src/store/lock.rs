//! One writer per suite: `<baselines>/<suite>/.lock` holds the pid of the driftgate that
//! is changing the suite's baselines.
//!
//! The lock file is published with a hard link from a temporary file that already holds
//! the pid, so a lock is never seen empty. A lock whose process is gone (killed, crashed)
//! is stale and taken over; liveness is read from `/proc`, so on systems without it a
//! leftover lock must be removed by hand, as the error message says.

use std::fs;
use std::path::{Path, PathBuf};

use super::StoreError;
use super::atomic::TEMP_PREFIX;

/// Name of the lock file inside a suite's baseline folder.
pub const LOCK_FILE: &str = ".lock";

/// A held lock; dropping it releases the suite.
#[derive(Debug)]
pub struct SuiteLock {
    path: PathBuf,
}

impl SuiteLock {
    /// Takes the lock of the suite whose baselines live in `dir`, failing at once when a
    /// live process holds it.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another live driftgate holds it; I/O failures.
    pub fn acquire(dir: &Path, suite: &str) -> Result<Self, StoreError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(LOCK_FILE);
        let me = std::process::id();
        let tmp = dir.join(format!("{TEMP_PREFIX}{me}-lock"));
        fs::write(&tmp, format!("{me}\n")).map_err(io(&tmp))?;
        // Two attempts: the second after removing a stale lock.
        let mut result = Err(StoreError::Locked {
            suite: suite.to_string(),
            pid: 0,
            path: path.clone(),
        });
        for _ in 0..2 {
            match fs::hard_link(&tmp, &path) {
                Ok(()) => {
                    result = Ok(Self { path: path.clone() });
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match holder(dir) {
                    Some(pid) if pid != me => {
                        result = Err(StoreError::Locked {
                            suite: suite.to_string(),
                            pid,
                            path: path.clone(),
                        });
                        break;
                    }
                    _ => {
                        // Stale: its process is gone (or the file is unreadable debris).
                        let _ = fs::remove_file(&path);
                    }
                },
                Err(e) => {
                    result = Err(StoreError::Io {
                        path: path.clone(),
                        source: e,
                    });
                    break;
                }
            }
        }
        let _ = fs::remove_file(&tmp);
        result
    }
}

impl Drop for SuiteLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The pid of the live process holding the lock in `dir`, if any.
#[must_use]
pub fn holder(dir: &Path) -> Option<u32> {
    let text = fs::read_to_string(dir.join(LOCK_FILE)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    alive(pid).then_some(pid)
}

fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        // No portable, safe liveness test: assume the holder runs, and let the user
        // remove a leftover lock as the error message explains.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_and_release_frees() {
        let t = tempfile::tempdir().unwrap();
        let lock = SuiteLock::acquire(t.path(), "s").unwrap();
        // Same process: treated as ours, so simulate another live holder (pid 1).
        fs::write(t.path().join(LOCK_FILE), "1\n").unwrap();
        if cfg!(target_os = "linux") {
            assert!(matches!(
                SuiteLock::acquire(t.path(), "s"),
                Err(StoreError::Locked { pid: 1, .. })
            ));
        }
        drop(lock);
        assert!(!t.path().join(LOCK_FILE).exists());
        let _again = SuiteLock::acquire(t.path(), "s").unwrap();
    }
}
