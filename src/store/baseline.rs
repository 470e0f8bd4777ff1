//! The baseline store: `<root>/<suite>/<case>/<n>.png` plus `<root>/<suite>/manifest.json`.

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::atomic::{clean_temp_files, write_atomic};
use super::manifest::{ImageEntry, Manifest};
use crate::digest::sha256_hex;

/// A failure of the store, naming the file involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing a file failed.
    #[error("cannot access {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The manifest is not valid JSON of the expected shape.
    #[error("manifest {} is not valid: {source}", path.display())]
    BadManifest {
        /// The manifest.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The manifest was written by a newer driftgate.
    #[error("manifest {} has format_version {found}, this driftgate reads {supported}", path.display())]
    FutureManifest {
        /// The manifest.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// Ours.
        supported: u32,
    },
    /// A baseline image's bytes no longer match the manifest.
    #[error("baseline {} does not match its sha256 in the manifest (expected {expected}, found {found})", path.display())]
    Checksum {
        /// The image.
        path: PathBuf,
        /// From the manifest.
        expected: String,
        /// Of the file.
        found: String,
    },
    /// A baseline file the manifest lists is missing.
    #[error("baseline {} is missing", path.display())]
    Missing {
        /// The image.
        path: PathBuf,
    },
    /// The manifest names a file that is not `<case>/<n>.png` inside the suite's folder.
    #[error("`{}` in the manifest of suite {suite} is not a baseline image path (<case>/<file> inside the suite's folder)", file.escape_debug())]
    BadPath {
        /// The suite.
        suite: String,
        /// The name as the manifest gives it.
        file: String,
    },
    /// A baseline file exists but cannot be a baseline image.
    #[error("baseline {} {why}", path.display())]
    NotImage {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A `--baselines` location that names no usable store.
    #[error("baselines location `{location}` {why}")]
    BadLocation {
        /// The location as given (credentials left out).
        location: String,
        /// Why it cannot be used.
        why: String,
    },
    /// A request to a remote store failed, after its retries.
    #[error("{what} {url}: {message}")]
    Remote {
        /// What was being done, e.g. `cannot upload`.
        what: &'static str,
        /// The object.
        url: String,
        /// The store's answer or the network error, on one line.
        message: String,
    },
    /// A remote store's manifest names an image the store does not hold.
    #[error("baseline {url} ({file}) is missing from the store")]
    RemoteMissing {
        /// The image's object.
        url: String,
        /// Its name in the manifest.
        file: String,
    },
    /// A downloaded image does not match its sha256.
    #[error(
        "baseline {url} ({file}) does not match its sha256 in the manifest (expected {expected}, found {found}): the object was altered in the store; nothing was used or cached"
    )]
    BlobChecksum {
        /// The image's object.
        url: String,
        /// Its name in the manifest.
        file: String,
        /// From the manifest.
        expected: String,
        /// Of the bytes downloaded.
        found: String,
    },
    /// Another writer changed a case of a remote manifest that this writer changed too.
    #[error(
        "{suite}/{case} was changed in {url} by another driftgate while this one worked; nothing of suite {suite} was written: review the other change, then run this command again"
    )]
    Conflict {
        /// The suite.
        suite: String,
        /// The case both changed.
        case: String,
        /// The manifest.
        url: String,
    },
    /// Another live driftgate is changing the suite's baselines.
    #[error("another driftgate is recording suite {suite} (pid {pid}); wait for it to finish: the lock on {} ends with that process, however it ends", path.display())]
    Locked {
        /// The suite.
        suite: String,
        /// The process holding the lock.
        pid: u32,
        /// The lock file.
        path: PathBuf,
    },
}

/// Largest baseline image read: the same cap as image downloads.
const MAX_IMAGE_BYTES: u64 = 64 * 1024 * 1024;

/// Baselines on disk.
#[derive(Debug, Clone)]
pub struct BaselineStore {
    root: PathBuf,
}

impl BaselineStore {
    /// A store rooted at `root` (default `baselines/`).
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder of a suite's baselines.
    #[must_use]
    pub fn suite_dir(&self, suite: &str) -> PathBuf {
        self.root.join(suite)
    }

    fn manifest_path(&self, suite: &str) -> PathBuf {
        self.suite_dir(suite).join("manifest.json")
    }

    /// Reads a suite's manifest; `None` when the suite has never been recorded.
    ///
    /// # Errors
    /// When the manifest exists but cannot be read or parsed.
    pub fn load_manifest(&self, suite: &str) -> Result<Option<Manifest>, StoreError> {
        let path = self.manifest_path(suite);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let mut m: Manifest =
            serde_json::from_slice(&bytes).map_err(|source| StoreError::BadManifest {
                path: path.clone(),
                source,
            })?;
        // JSON gives no length up front, so each case's lists were grown to room for at
        // least four samples. `run` holds every entry until its case is judged, and a
        // sample's provider metadata is the largest part of it: room for only the samples
        // there are keeps a large suite's manifest at its own size.
        for entry in m.cases.values_mut() {
            entry.images.shrink_to_fit();
            entry.provider.shrink_to_fit();
        }
        if m.format_version > super::manifest::FORMAT_VERSION {
            return Err(StoreError::FutureManifest {
                path,
                found: m.format_version,
                supported: super::manifest::FORMAT_VERSION,
            });
        }
        Ok(Some(m))
    }

    /// Writes a suite's manifest atomically; call it after every image it lists is in place.
    ///
    /// # Errors
    /// On I/O failure.
    pub fn save_manifest(&self, manifest: &Manifest) -> Result<(), StoreError> {
        let path = self.manifest_path(&manifest.suite);
        let mut json =
            serde_json::to_vec_pretty(manifest).map_err(|source| StoreError::BadManifest {
                path: path.clone(),
                source,
            })?;
        json.push(b'\n');
        write_atomic(&path, &json).map_err(|source| StoreError::Io { path, source })
    }

    /// The path of a baseline image.
    #[must_use]
    pub fn image_path(&self, suite: &str, entry: &ImageEntry) -> PathBuf {
        self.suite_dir(suite).join(&entry.file)
    }

    /// Reads a baseline image and checks it against its sha256.
    ///
    /// # Errors
    /// When the file is missing, unreadable or altered.
    pub fn read_image(&self, suite: &str, entry: &ImageEntry) -> Result<Vec<u8>, StoreError> {
        // The manifest is input like any other: a name climbing out of the store or a
        // device file would otherwise be read, possibly without end.
        let name = Path::new(&entry.file);
        let mut parts = name.components();
        let well_formed = crate::paths::is_lexically_inside(name)
            && matches!(
                (parts.next(), parts.next(), parts.next()),
                (Some(Component::Normal(c)), Some(Component::Normal(f)), None)
                    if !c.to_string_lossy().starts_with('.') && !f.to_string_lossy().starts_with('.')
            );
        if !well_formed {
            return Err(StoreError::BadPath {
                suite: suite.to_string(),
                file: entry.file.clone(),
            });
        }
        let path = self.image_path(suite, entry);
        match fs::metadata(&path) {
            Ok(m) if !m.is_file() => {
                return Err(StoreError::NotImage {
                    path,
                    why: "is not a regular file".into(),
                });
            }
            Ok(m) if m.len() > MAX_IMAGE_BYTES => {
                return Err(StoreError::NotImage {
                    path,
                    why: format!("is {} bytes, above the limit of {MAX_IMAGE_BYTES}", m.len()),
                });
            }
            _ => {}
        }
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing { path });
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let found = sha256_hex(&bytes);
        if found == entry.sha256 {
            Ok(bytes)
        } else {
            Err(StoreError::Checksum {
                path,
                expected: entry.sha256.clone(),
                found,
            })
        }
    }

    /// Finishes or discards an interrupted commit (see [`BaselineStore::recover`]), then
    /// removes debris of interrupted writes under a suite's folder. Best effort: what
    /// cannot be repaired shows up when the baselines are verified.
    pub fn clean(&self, suite: &str) {
        let _ = self.recover(suite);
        let dir = self.suite_dir(suite);
        clean_temp_files(&dir);
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                clean_temp_files(&entry.path());
            }
        }
    }

    /// The store's root.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let t = tempfile::tempdir().unwrap();
        let store = BaselineStore::new(t.path());
        let entry = store.stage_image("s", "c", 0, b"png-bytes", 1, 1).unwrap();
        let mut m = Manifest::new("s", serde_json::json!({}));
        m.cases.insert(
            "c".into(),
            super::super::manifest::CaseEntry {
                fingerprint: "f".into(),
                recorded_at: "t".into(),
                source: "record".into(),
                reason: None,
                images: vec![entry.clone()],
                provider: vec![],
            },
        );
        store.commit(&m).unwrap();
        assert_eq!(store.load_manifest("s").unwrap(), Some(m));
        assert_eq!(store.read_image("s", &entry).unwrap(), b"png-bytes");
        fs::write(store.image_path("s", &entry), b"other").unwrap();
        assert!(matches!(
            store.read_image("s", &entry),
            Err(StoreError::Checksum { .. })
        ));
        fs::write(t.path().join("s/manifest.json"), b"{not json").unwrap();
        assert!(matches!(
            store.load_manifest("s"),
            Err(StoreError::BadManifest { .. })
        ));
        assert_eq!(store.load_manifest("absent").unwrap(), None);
    }
}
