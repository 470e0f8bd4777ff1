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
use std::time::Duration;

use futures_util::StreamExt;
use object_store::path::Path as ObjPath;
use object_store::{
    BackoffConfig, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
    UpdateVersion,
};

use super::StoreError;
use super::cache::Cache;
use super::connector::Connector;
use super::manifest::{FORMAT_VERSION, ImageEntry, Manifest};
use super::overlay::{changes, lay_over};
use crate::digest::sha256_hex;

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

impl RemoteStore {
    /// Opens the store at `location`, keeping downloaded images in `cache_dir`. Nothing
    /// is requested yet.
    ///
    /// # Errors
    /// [`StoreError::BadLocation`] for a URL that is not a usable store location.
    pub fn open(location: &str, cache_dir: &std::path::Path) -> Result<Self, StoreError> {
        Self::open_with(location, cache_dir, &[])
    }

    /// [`RemoteStore::open`] with `object_store` configuration keys that override the
    /// environment, e.g. `("aws_endpoint", "http://127.0.0.1:9000")`, for embedders and
    /// tests that must not touch the process environment.
    ///
    /// # Errors
    /// As [`RemoteStore::open`]; an unknown configuration key.
    pub fn open_with(
        location: &str,
        cache_dir: &std::path::Path,
        config: &[(&str, &str)],
    ) -> Result<Self, StoreError> {
        let url =
            url::Url::parse(location).map_err(|e| bad(location, format!("is not a URL: {e}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            // Never echo the URL itself here: it holds the secret.
            return Err(StoreError::BadLocation {
                location: format!("{}://…", url.scheme()),
                why: "holds credentials: set them in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_KEY ...) instead".into(),
            });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad(
                location,
                "has a query or fragment; use scheme://bucket/prefix",
            ));
        }
        let Some(bucket) = url.host_str().filter(|b| !b.is_empty()) else {
            return Err(bad(location, "names no bucket; use scheme://bucket/prefix"));
        };
        let prefix = url.path().trim_matches('/').to_string();
        let prefix_path = ObjPath::parse(&prefix)
            .map_err(|e| bad(location, format!("has an unusable prefix: {e}")))?;
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: MAX_RETRIES,
            retry_timeout: Duration::from_secs(60),
        };
        let base = format!("{}://{bucket}", url.scheme());
        macro_rules! configured {
            ($builder:expr, $key:ty) => {{
                let mut b = $builder;
                for (k, v) in config {
                    let key: $key = k
                        .parse()
                        .map_err(|_| bad(location, format!("cannot take option `{k}`")))?;
                    b = b.with_config(key, *v);
                }
                b
            }};
        }
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "s3" => Arc::new(
                configured!(
                    object_store::aws::AmazonS3Builder::from_env(),
                    object_store::aws::AmazonS3ConfigKey
                )
                .with_url(&base)
                .with_retry(retry)
                .with_http_connector(Connector)
                .build()
                .map_err(|e| bad(location, one_line(&e.to_string())))?,
            ),
            "gs" => Arc::new(
                configured!(
                    object_store::gcp::GoogleCloudStorageBuilder::from_env(),
                    object_store::gcp::GoogleConfigKey
                )
                .with_url(&base)
                .with_retry(retry)
                .with_http_connector(Connector)
                .build()
                .map_err(|e| bad(location, one_line(&e.to_string())))?,
            ),
            "az" => Arc::new(
                configured!(
                    object_store::azure::MicrosoftAzureBuilder::from_env(),
                    object_store::azure::AzureConfigKey
                )
                .with_url(&base)
                .with_retry(retry)
                .with_http_connector(Connector)
                .build()
                .map_err(|e| bad(location, one_line(&e.to_string())))?,
            ),
            other => {
                return Err(bad(
                    location,
                    format!("has scheme `{other}`; use a folder, s3://, gs:// or az://"),
                ));
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| bad(location, format!("cannot start the async runtime: {e}")))?;
        let display = if prefix.is_empty() {
            base
        } else {
            format!("{base}/{prefix}")
        };
        Ok(Self {
            url: display,
            prefix: prefix_path,
            store,
            cache: Cache::new(cache_dir),
            rt,
            bases: Mutex::new(HashMap::new()),
            known: Mutex::new(HashSet::new()),
            transfers: Transfers::default(),
        })
    }

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

    /// The object at `key` with its version, `None` when absent.
    async fn get(&self, key: &ObjPath) -> Result<Option<(Vec<u8>, UpdateVersion)>, StoreError> {
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

    async fn fetch_manifest(&self, suite: &str) -> Result<Base, StoreError> {
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
    async fn image(&self, entry: &ImageEntry) -> Result<Vec<u8>, StoreError> {
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
