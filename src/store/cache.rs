//! The local read-through cache of a remote store's images, so a night downloads only
//! the images that changed since the last one.
//!
//! Images are kept by content, `<cache>/blobs/sha256/<hex>`, exactly as the remote store
//! keeps them, so one cache serves every suite and every store. Nothing in it is
//! trusted: an image read back is checked against its sha256, and a file that no longer
//! matches is removed and downloaded again. A cache that cannot be written costs only
//! the next download.

use std::fs;
use std::path::{Path, PathBuf};

use super::atomic::write_atomic;
use crate::digest::sha256_hex;

/// Images of remote stores, by sha256.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// A cache in `dir` (created on first write).
    pub(crate) fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The cache's folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join("blobs").join("sha256").join(sha256)
    }

    /// The image whose sha256 is `sha256`, when the cache holds it intact.
    pub(crate) fn get(&self, sha256: &str) -> Option<Vec<u8>> {
        let path = self.path(sha256);
        let bytes = fs::read(&path).ok()?;
        if sha256_hex(&bytes) == sha256 {
            Some(bytes)
        } else {
            // Altered on disk: never served, and replaced by the next download.
            let _ = fs::remove_file(&path);
            None
        }
    }

    /// Keeps an image whose sha256 was checked by the caller. Best effort.
    pub(crate) fn put(&self, sha256: &str, bytes: &[u8]) {
        let path = self.path(sha256);
        if !path.exists() {
            let _ = write_atomic(&path, bytes);
        }
    }
}

/// The platform's cache folder for driftgate: `$XDG_CACHE_HOME/driftgate` or
/// `~/.cache/driftgate` on Linux and other Unix, `~/Library/Caches/driftgate` on macOS,
/// `%LOCALAPPDATA%\driftgate` on Windows; `None` when the environment names no home.
#[must_use]
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library").join("Caches"))
    } else {
        var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache")))
    };
    base.map(|b| b.join("driftgate"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_intact_images_and_drops_altered_ones() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let sha = sha256_hex(b"png");
        assert_eq!(cache.get(&sha), None);
        cache.put(&sha, b"png");
        assert_eq!(cache.get(&sha).as_deref(), Some(&b"png"[..]));
        fs::write(cache.path(&sha), b"other").unwrap();
        assert_eq!(cache.get(&sha), None);
        assert!(!cache.path(&sha).exists());
    }
}
