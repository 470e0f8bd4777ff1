//! Writing: images uploaded before any manifest names them, and the manifest and the
//! history switched by conditional writes that lay this writer's cases over another's.

use std::sync::atomic::Ordering;

use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};

use super::{Base, HISTORY_KEEP, RemoteStore, WRITE_ATTEMPTS};
use crate::digest::sha256_hex;
use crate::store::StoreError;
use crate::store::manifest::Manifest;
use crate::store::overlay::{changes, lay_over};

impl RemoteStore {
    /// Uploads an image unless the store holds it already; the manifest naming it is
    /// written later, by [`RemoteStore::commit`].
    ///
    /// # Errors
    /// When the upload fails.
    pub fn put_image(&self, png: &[u8]) -> Result<String, StoreError> {
        let sha = sha256_hex(png);
        let known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&sha);
        if known {
            self.transfers.present.fetch_add(1, Ordering::Relaxed);
        } else {
            let key = self.blob_key(&sha);
            self.block(async {
                match self.store.head(&key).await {
                    Ok(_) => {
                        self.transfers.present.fetch_add(1, Ordering::Relaxed);
                        return Ok(());
                    }
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(self.failed("cannot read", &key, &e)),
                }
                self.store
                    .put(&key, PutPayload::from(png.to_vec()))
                    .await
                    .map_err(|e| self.failed("cannot upload", &key, &e))?;
                self.transfers.uploaded.fetch_add(1, Ordering::Relaxed);
                self.transfers
                    .uploaded_bytes
                    .fetch_add(png.len() as u64, Ordering::Relaxed);
                Ok(())
            })?;
            self.known
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(sha.clone());
        }
        // The machine that recorded an image needs no download of it tomorrow.
        self.cache.put(&sha, png);
        Ok(sha)
    }

    /// Makes `manifest` the suite's manifest with a conditional write against the version
    /// this process read; every image it names must be uploaded already. When another
    /// writer replaced the manifest meanwhile, this writer's changes (the cases that
    /// differ from what it read) are laid over the new manifest, unless the other writer
    /// changed one of the same cases.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when both changed one case; request failures.
    pub fn commit(&self, manifest: &Manifest) -> Result<Merged, StoreError> {
        let suite = manifest.suite.as_str();
        let known = self
            .bases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(suite)
            .cloned();
        let original = match known {
            Some(b) => b,
            None => self.block(self.fetch_manifest(suite))?,
        };
        let ours = changes(original.manifest.as_ref(), manifest);
        let key = self.manifest_key(suite);
        let mut candidate = manifest.clone();
        let mut version = original.version.clone();
        let mut merged = Merged::default();
        for _ in 0..WRITE_ATTEMPTS {
            let json = document(&candidate).map_err(|source| StoreError::BadManifest {
                path: self.url_of(&key).into(),
                source,
            })?;
            let mode = version.clone().map_or(PutMode::Create, PutMode::Update);
            let put = self.block(self.store.put_opts(
                &key,
                PutPayload::from(json),
                PutOptions {
                    mode,
                    ..PutOptions::default()
                },
            ));
            match put {
                Ok(done) => {
                    self.bases
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(
                            suite.to_string(),
                            Base {
                                manifest: Some(candidate),
                                version: Some(UpdateVersion {
                                    e_tag: done.e_tag,
                                    version: done.version,
                                }),
                            },
                        );
                    return Ok(merged);
                }
                Err(
                    object_store::Error::Precondition { .. }
                    | object_store::Error::AlreadyExists { .. },
                ) => {
                    let fresh = self.block(self.fetch_manifest(suite))?;
                    candidate = lay_over(
                        fresh.manifest.as_ref(),
                        original.manifest.as_ref(),
                        manifest,
                        &ours,
                    )
                    .map_err(|case| StoreError::Conflict {
                        suite: suite.to_string(),
                        case,
                        url: self.url_of(&key),
                    })?;
                    version = fresh.version;
                    merged.retries += 1;
                }
                Err(e) => return Err(self.failed("cannot write", &key, &e)),
            }
        }
        Err(StoreError::Remote {
            what: "cannot write",
            url: self.url_of(&key),
            message: format!(
                "other writers replaced it {WRITE_ATTEMPTS} times in a row while this one merged its cases; nothing was written"
            ),
        })
    }

    /// Appends `line` to the store's `history.jsonl` with a conditional write, keeping
    /// the last [`HISTORY_KEEP`] lines; returns the whole history as written.
    ///
    /// # Errors
    /// On request failures, or when other writers keep winning.
    pub fn append_history(&self, line: &str) -> Result<String, StoreError> {
        let key = self.key("history.jsonl");
        for _ in 0..WRITE_ATTEMPTS {
            let current = self.block(self.get(&key))?;
            let (old, mode) = match current {
                Some((bytes, v)) => (
                    String::from_utf8_lossy(&bytes).into_owned(),
                    PutMode::Update(v),
                ),
                None => (String::new(), PutMode::Create),
            };
            // A torn last line (written by hand, or by another tool) is ended rather than
            // glued to this one.
            let mut lines: Vec<&str> = old.lines().filter(|l| !l.trim().is_empty()).collect();
            lines.push(line.trim_end());
            let skip = lines.len().saturating_sub(HISTORY_KEEP);
            let mut text = lines[skip..].join("\n");
            text.push('\n');
            let put = self.block(self.store.put_opts(
                &key,
                PutPayload::from(text.clone().into_bytes()),
                PutOptions {
                    mode,
                    ..PutOptions::default()
                },
            ));
            match put {
                Ok(_) => return Ok(text),
                Err(
                    object_store::Error::Precondition { .. }
                    | object_store::Error::AlreadyExists { .. },
                ) => {}
                Err(e) => return Err(self.failed("cannot write", &key, &e)),
            }
        }
        Err(StoreError::Remote {
            what: "cannot write",
            url: self.url_of(&key),
            message: format!("other writers replaced it {WRITE_ATTEMPTS} times in a row"),
        })
    }
}

/// A manifest as stored: pretty JSON and a final newline, as on disk.
fn document(m: &Manifest) -> serde_json::Result<Vec<u8>> {
    let mut json = serde_json::to_vec_pretty(m)?;
    json.push(b'\n');
    Ok(json)
}

/// How a conditional write went.
#[derive(Debug, Default, Clone, Copy)]
pub struct Merged {
    /// Times another writer had replaced the manifest and this writer's cases were laid
    /// over the new one.
    pub retries: u32,
}
