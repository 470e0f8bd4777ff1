//! Baselines in object storage: `s3://bucket/prefix`, `gs://bucket/prefix`,
//! `az://container/prefix`, through the `object_store` crate.
//!
//! Layout under the prefix:
//! - `blobs/sha256/<hex>`: every baseline image, named by its content. Re-recording or
//!   accepting uploads only images the store does not hold yet; an image shared by cases
//!   or suites is stored once.
//! - `<suite>/manifest.json`: the same document as on disk ([`Manifest`]); an image's
//!   `file` keeps its local name, and its `sha256` names its blob.
//! - `history.jsonl`: the run history, when the baselines are remote (the last
//!   [`HISTORY_KEEP`] runs).
//!
//! Images are uploaded before the manifest that names them, so a manifest never points
//! at a blob that is not there, and a writer stopped half way leaves the old manifest
//! (and a few unreferenced blobs, which cost storage only). A manifest is replaced with a
//! conditional write against the version this process read (`If-Match` on its ETag, or
//! create-only when there was none). When another writer got in between, the manifest is
//! read again and this writer's cases are laid over it, unless the other writer changed
//! one of those same cases: then nothing is written and the error says so. The history
//! is appended the same way.
//!
//! Every image downloaded is checked against its sha256 before use, and kept in a local
//! read-through cache ([`super::cache`]). Credentials come from the platform's usual
//! environment (`object_store`'s `from_env` builders: `AWS_*`, `GOOGLE_*`, `AZURE_*`)
//! and never from the URL; nothing here prints them. Requests go through this crate's
//! reqwest and rustls, retried by `object_store` (at most [`MAX_RETRIES`] retries, with
//! backoff, on connection failures, 5xx such as 503 SlowDown, and 429).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, UpdateVersion};

use super::StoreError;
use super::cache::Cache;
use super::manifest::Manifest;

/// Retries of one request after its first attempt.
pub const MAX_RETRIES: usize = 3;
/// Runs the remote history keeps; a report draws the last [`crate::report::TREND_RUNS`].
pub const HISTORY_KEEP: usize = 100;
/// Attempts at a conditional write that keeps losing to other writers.
const WRITE_ATTEMPTS: u32 = 8;
/// Downloads or uploads in flight at once.
const PARALLEL: usize = 8;
/// Largest object read: the cap on baseline images, and ample for a manifest.
const MAX_OBJECT_BYTES: u64 = 64 * 1024 * 1024;

/// What moved between this process and the store, for the lines commands print and the
/// tests that check a night downloads only what changed.
#[derive(Debug, Default)]
pub struct Transfers {
    /// Images downloaded from the store.
    pub downloaded: AtomicU64,
    /// Their bytes.
    pub downloaded_bytes: AtomicU64,
    /// Images served by the local cache.
    pub cached: AtomicU64,
    /// Images uploaded.
    pub uploaded: AtomicU64,
    /// Their bytes.
    pub uploaded_bytes: AtomicU64,
    /// Images not uploaded because the store already held them.
    pub present: AtomicU64,
}

/// A manifest as this process read it, with the version its conditional write names.
#[derive(Debug, Clone, Default)]
struct Base {
    manifest: Option<Manifest>,
    version: Option<UpdateVersion>,
}

/// Baselines under a prefix of a bucket or container.
pub struct RemoteStore {
    url: String,
    prefix: ObjPath,
    store: Arc<dyn ObjectStore>,
    cache: Cache,
    rt: tokio::runtime::Runtime,
    bases: Mutex<HashMap<String, Base>>,
    /// Blobs known to be in the store: named by a manifest read, or uploaded.
    known: Mutex<HashSet<String>>,
    /// What moved so far.
    pub transfers: Transfers,
}

/// Only the URL and the cache: the object store's own `Debug` shows its configuration,
/// which may hold credentials.
impl std::fmt::Debug for RemoteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteStore")
            .field("url", &self.url)
            .field("cache", &self.cache.dir())
            .finish_non_exhaustive()
    }
}

/// Whether `location` names a remote store (`s3://`, `gs://`, `az://`).
#[must_use]
pub fn is_remote(location: &str) -> bool {
    ["s3://", "gs://", "az://"]
        .iter()
        .any(|s| location.starts_with(s))
}

fn bad(location: &str, why: impl Into<String>) -> StoreError {
    StoreError::BadLocation {
        location: location.to_string(),
        why: why.into(),
    }
}

/// One line, no control characters, at most 400 characters: an error from a server is
/// input, and may carry an XML body.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match flat.char_indices().nth(400) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

mod open;
mod read;
mod write;

pub use write::Merged;

impl RemoteStore {
    /// The store's URL, `scheme://bucket/prefix`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying object store and the key of `rel` under the prefix, for tools and
    /// tests that handle objects directly.
    #[must_use]
    pub fn object(&self, rel: &str) -> (Arc<dyn ObjectStore>, ObjPath) {
        (Arc::clone(&self.store), self.key(rel))
    }

    /// The local cache's folder.
    #[must_use]
    pub fn cache_dir(&self) -> &std::path::Path {
        self.cache.dir()
    }

    /// Runs `f` to completion on the store's runtime, from sync code. Inside another
    /// runtime (a command's executor callback) it blocks a helper thread instead, since
    /// a runtime cannot be entered from within one.
    fn block<F: Future + Send>(&self, f: F) -> F::Output
    where
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| self.rt.block_on(f))
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
        } else {
            self.rt.block_on(f)
        }
    }

    fn key(&self, rel: &str) -> ObjPath {
        let mut p = self.prefix.clone();
        for part in rel.split('/') {
            p = p.clone().join(part);
        }
        p
    }

    fn url_of(&self, key: &ObjPath) -> String {
        let scheme_bucket = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(s, rest)| {
                let bucket = rest.split('/').next().unwrap_or(rest);
                &self.url[..s.len() + 3 + bucket.len()]
            });
        format!("{scheme_bucket}/{key}")
    }

    fn manifest_key(&self, suite: &str) -> ObjPath {
        self.key(&format!("{suite}/manifest.json"))
    }

    fn blob_key(&self, sha256: &str) -> ObjPath {
        self.key(&format!("blobs/sha256/{sha256}"))
    }

    fn failed(&self, what: &'static str, key: &ObjPath, e: &object_store::Error) -> StoreError {
        StoreError::Remote {
            what,
            url: self.url_of(key),
            message: one_line(&e.to_string()),
        }
    }

    /// The suites that have a manifest in the store.
    ///
    /// # Errors
    /// When the store cannot be listed.
    pub fn suites(&self) -> Result<Vec<String>, StoreError> {
        let prefix = self.prefix.clone();
        let listed = self
            .block(self.store.list_with_delimiter(Some(&prefix)))
            .map_err(|e| self.failed("cannot list", &prefix, &e))?;
        let mut out = Vec::new();
        for p in listed.common_prefixes {
            let Some(name) = p.filename().map(str::to_string) else {
                continue;
            };
            if name == "blobs" || name.starts_with('.') {
                continue;
            }
            let key = self.manifest_key(&name);
            match self.block(self.store.head(&key)) {
                Ok(_) => out.push(name),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.failed("cannot read", &key, &e)),
            }
        }
        out.sort();
        Ok(out)
    }

    /// The line a command prints about what moved, e.g. `s3://b/p: 2 images downloaded
    /// (8.1 KiB), 4 from the cache`.
    #[must_use]
    pub fn summary(&self) -> String {
        let t = &self.transfers;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut parts = Vec::new();
        if n(&t.uploaded) > 0 || n(&t.present) > 0 {
            parts.push(format!(
                "{} images uploaded ({} bytes), {} already in the store",
                n(&t.uploaded),
                n(&t.uploaded_bytes),
                n(&t.present)
            ));
        }
        if n(&t.downloaded) + n(&t.cached) > 0 || parts.is_empty() {
            parts.push(format!(
                "{} images downloaded ({} bytes), {} from the cache {}",
                n(&t.downloaded),
                n(&t.downloaded_bytes),
                n(&t.cached),
                self.cache.dir().display()
            ));
        }
        format!("{}: {}", self.url, parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_parsed_and_credentials_in_the_url_refused() {
        let t = tempfile::tempdir().unwrap();
        let e = RemoteStore::open("s3://AKIAX:sentinel-secret@bucket/p", t.path()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("holds credentials") && !msg.contains("sentinel"),
            "{msg}"
        );
        assert!(RemoteStore::open("ftp://bucket/p", t.path()).is_err());
        assert!(RemoteStore::open("s3:///p", t.path()).is_err());
        assert!(is_remote("gs://b/p") && is_remote("az://c/p") && !is_remote("baselines"));
        assert_eq!(one_line("a\n  <Error>\r\n b"), "a <Error> b");
        let store = RemoteStore::open_with(
            "s3://bucket/p",
            t.path(),
            &[
                ("aws_access_key_id", "AKIADEBUGSENTINEL"),
                ("aws_secret_access_key", "debug-sentinel-secret"),
                ("aws_region", "eu-west-1"),
            ],
        )
        .unwrap();
        let shown = format!("{store:?}");
        assert!(
            shown.contains("s3://bucket/p") && !shown.contains("sentinel"),
            "{shown}"
        );
    }
}
