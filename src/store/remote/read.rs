//! Reading: manifests with the version a conditional write names, and images through
//! the cache, each checked against its sha256.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use futures_util::StreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStoreExt, UpdateVersion};

use super::{Base, MAX_OBJECT_BYTES, PARALLEL, RemoteStore};
use crate::digest::sha256_hex;
use crate::store::StoreError;
use crate::store::manifest::{FORMAT_VERSION, ImageEntry, Manifest};

impl RemoteStore {
    /// The object at `key` with its version, `None` when absent.
    pub(super) async fn get(
        &self,
        key: &ObjPath,
    ) -> Result<Option<(Vec<u8>, UpdateVersion)>, StoreError> {
        let res = match self.store.get(key).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.failed("cannot read", key, &e)),
        };
        if res.meta.size > MAX_OBJECT_BYTES {
            return Err(StoreError::Remote {
                what: "refusing to read",
                url: self.url_of(key),
                message: format!(
                    "{} bytes, above the limit of {MAX_OBJECT_BYTES}",
                    res.meta.size
                ),
            });
        }
        let version = UpdateVersion {
            e_tag: res.meta.e_tag.clone(),
            version: res.meta.version.clone(),
        };
        let bytes = res
            .bytes()
            .await
            .map_err(|e| self.failed("cannot read", key, &e))?;
        Ok(Some((bytes.to_vec(), version)))
    }

    pub(super) async fn fetch_manifest(&self, suite: &str) -> Result<Base, StoreError> {
        let key = self.manifest_key(suite);
        let Some((bytes, version)) = self.get(&key).await? else {
            return Ok(Base::default());
        };
        let m: Manifest =
            serde_json::from_slice(&bytes).map_err(|source| StoreError::BadManifest {
                path: self.url_of(&key).into(),
                source,
            })?;
        if m.format_version > FORMAT_VERSION {
            return Err(StoreError::FutureManifest {
                path: self.url_of(&key).into(),
                found: m.format_version,
                supported: FORMAT_VERSION,
            });
        }
        Ok(Base {
            manifest: Some(m),
            version: Some(version),
        })
    }

    /// Reads a suite's manifest, and remembers the version a later
    /// [`RemoteStore::commit`] writes against; `None` when never recorded.
    ///
    /// # Errors
    /// When the store cannot be read or the manifest is not valid.
    pub fn load_manifest(&self, suite: &str) -> Result<Option<Manifest>, StoreError> {
        let base = self.block(self.fetch_manifest(suite))?;
        if let Some(m) = &base.manifest {
            let mut known = self
                .known
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for e in m.cases.values() {
                known.extend(e.images.iter().map(|i| i.sha256.clone()));
            }
        }
        let out = base.manifest.clone();
        self.bases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(suite.to_string(), base);
        Ok(out)
    }

    /// One image, from the cache or downloaded, checked against its sha256.
    pub(super) async fn image(&self, entry: &ImageEntry) -> Result<Vec<u8>, StoreError> {
        let sha = &entry.sha256;
        if sha.len() != 64 || !sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            // The manifest is input: its sha256 becomes an object key.
            return Err(StoreError::Remote {
                what: "refusing to read",
                url: self.url.clone(),
                message: format!(
                    "`{}` in the manifest is not a sha256 (64 lowercase hex digits)",
                    sha.escape_debug()
                ),
            });
        }
        if let Some(b) = self.cache.get(sha) {
            self.transfers.cached.fetch_add(1, Ordering::Relaxed);
            return Ok(b);
        }
        let key = self.blob_key(sha);
        let Some((bytes, _)) = self.get(&key).await? else {
            return Err(StoreError::RemoteMissing {
                url: self.url_of(&key),
                file: entry.file.clone(),
            });
        };
        self.transfers.downloaded.fetch_add(1, Ordering::Relaxed);
        self.transfers
            .downloaded_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let found = sha256_hex(&bytes);
        if &found != sha {
            return Err(StoreError::BlobChecksum {
                url: self.url_of(&key),
                file: entry.file.clone(),
                expected: sha.clone(),
                found,
            });
        }
        self.cache.put(sha, &bytes);
        Ok(bytes)
    }

    /// Reads a baseline image, from the cache or the store, checked against its sha256.
    ///
    /// # Errors
    /// When it cannot be downloaded, is missing or was altered.
    pub fn read_image(&self, entry: &ImageEntry) -> Result<Vec<u8>, StoreError> {
        self.block(self.image(entry))
    }

    /// Reads several images at once, each checked: the images not cached are downloaded
    /// in parallel, each distinct image once (samples of a seeded case are often the
    /// same image); the repeats are then served by the cache.
    #[must_use]
    pub fn read_images(&self, entries: &[ImageEntry]) -> Vec<Result<Vec<u8>, StoreError>> {
        let mut seen = HashSet::new();
        let first: Vec<bool> = entries.iter().map(|e| seen.insert(&e.sha256)).collect();
        // Built outside the async block: a closure inside it trips the compiler's
        // `Send` inference for higher-ranked lifetimes.
        let downloads: Vec<_> = entries
            .iter()
            .zip(&first)
            .filter(|(_, f)| **f)
            .map(|(e, _)| self.image(e))
            .collect();
        let mut fetched = self
            .block(
                futures_util::stream::iter(downloads)
                    .buffered(PARALLEL)
                    .collect::<Vec<_>>(),
            )
            .into_iter();
        entries
            .iter()
            .zip(first)
            .map(|(e, f)| {
                if f {
                    fetched.next().unwrap_or_else(|| self.read_image(e))
                } else {
                    self.read_image(e)
                }
            })
            .collect()
    }
}
