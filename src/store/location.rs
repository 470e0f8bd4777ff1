//! The one seam between the commands and where baselines live: a folder on disk
//! ([`BaselineStore`]) or a prefix in object storage ([`RemoteStore`]). The commands
//! call the same methods on either, so `record`, `run`, `check`, `accept` and
//! `baselines push|pull` never ask which one they hold.
//!
//! The two keep the same promises by different means: on disk, the suite's lock keeps
//! writers apart and a staged commit switches a suite at once; remote, images go up
//! before the manifest and the manifest is switched by a conditional write that merges
//! or refuses (see [`super::remote`]).

use std::path::{Path, PathBuf};

use super::cache::default_cache_dir;
use super::manifest::{ImageEntry, Manifest};
use super::remote::{RemoteStore, is_remote};
use super::verify::CaseBaseline;
use super::{BaselineStore, StoreError, SuiteLock};

/// Baselines on disk or in object storage.
#[derive(Debug)]
pub enum Baselines {
    /// A folder: `<root>/<suite>/<case>/<n>.png` and `<root>/<suite>/manifest.json`.
    Local(BaselineStore),
    /// `s3://`, `gs://` or `az://` with a local read-through cache.
    Remote(Box<RemoteStore>),
}

impl Baselines {
    /// The store at `location`: a URL with scheme `s3`, `gs` or `az`, else a folder.
    /// Remote images are cached in `cache_dir`, by default the platform's cache folder
    /// (see [`default_cache_dir`]).
    ///
    /// # Errors
    /// A remote location that cannot be used, or no cache folder to put its images in.
    pub fn open(location: &Path, cache_dir: Option<&Path>) -> Result<Self, StoreError> {
        let text = location.to_string_lossy();
        if !is_remote(&text) {
            return Ok(Self::Local(BaselineStore::new(location)));
        }
        let cache: PathBuf = match cache_dir {
            Some(d) => d.to_path_buf(),
            None => default_cache_dir().ok_or_else(|| StoreError::BadLocation {
                location: text.to_string(),
                why: "needs a cache folder and the environment names none (no HOME or XDG_CACHE_HOME): pass --cache-dir".into(),
            })?,
        };
        Ok(Self::Remote(Box::new(RemoteStore::open(&text, &cache)?)))
    }

    /// The remote store, when the baselines are remote.
    #[must_use]
    pub fn remote(&self) -> Option<&RemoteStore> {
        match self {
            Self::Local(_) => None,
            Self::Remote(r) => Some(r),
        }
    }

    /// The store's folder or URL, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Local(s) => s.root().display().to_string(),
            Self::Remote(r) => r.url().to_string(),
        }
    }

    /// Where a suite's baselines live, for messages.
    #[must_use]
    pub fn suite_location(&self, suite: &str) -> String {
        match self {
            Self::Local(s) => s.suite_dir(suite).display().to_string(),
            Self::Remote(r) => format!("{}/{suite}", r.url()),
        }
    }

    /// Keeps other writers of the suite out while it is held: the operating system's file
    /// lock on disk; nothing remote, where the manifest's conditional write does the job.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another driftgate holds the suite.
    pub fn lock(&self, suite: &str) -> Result<Option<SuiteLock>, StoreError> {
        match self {
            Self::Local(s) => SuiteLock::acquire(&s.suite_dir(suite), suite).map(Some),
            Self::Remote(_) => Ok(None),
        }
    }

    /// Finishes or discards an interrupted commit on disk (nothing to do remote).
    pub fn clean(&self, suite: &str) {
        if let Self::Local(s) = self {
            s.clean(suite);
        }
    }

    /// Reads a suite's manifest; `None` when never recorded. Remote, it also remembers
    /// the version that [`Baselines::commit`] writes against.
    ///
    /// # Errors
    /// When the manifest cannot be read or parsed.
    pub fn load_manifest(&self, suite: &str) -> Result<Option<Manifest>, StoreError> {
        match self {
            Self::Local(s) => s.load_manifest(suite),
            Self::Remote(r) => r.load_manifest(suite),
        }
    }

    /// [`Baselines::clean`], then [`Baselines::load_manifest`].
    ///
    /// # Errors
    /// When the manifest cannot be read or parsed.
    pub fn open_manifest(&self, suite: &str) -> Result<Option<Manifest>, StoreError> {
        match self {
            Self::Local(s) => s.open_manifest(suite),
            Self::Remote(r) => r.load_manifest(suite),
        }
    }

    /// Whether anything of a case is stored besides its manifest entry (a folder on
    /// disk that `record` would overwrite).
    #[must_use]
    pub fn has_case_files(&self, suite: &str, case: &str) -> bool {
        match self {
            Self::Local(s) => s.suite_dir(suite).join(case).exists(),
            Self::Remote(_) => false,
        }
    }

    /// Reads a baseline image and checks it against its sha256.
    ///
    /// # Errors
    /// When it is missing, unreadable or altered.
    pub fn read_image(&self, suite: &str, entry: &ImageEntry) -> Result<Vec<u8>, StoreError> {
        match self {
            Self::Local(s) => s.read_image(suite, entry),
            Self::Remote(r) => r.read_image(entry),
        }
    }

    /// Verifies a case's baseline against its current request fingerprint (see
    /// [`BaselineStore::verify_case`]); remote, its images are downloaded (or taken
    /// from the cache) in parallel and checked.
    #[must_use]
    pub fn verify_case(
        &self,
        suite: &str,
        manifest: &Manifest,
        case: &str,
        fingerprint: &str,
    ) -> Option<CaseBaseline> {
        match self {
            Self::Local(s) => s.verify_case(suite, manifest, case, fingerprint),
            Self::Remote(r) => {
                let entry = manifest.cases.get(case)?;
                Some(CaseBaseline::from_reads(
                    entry.fingerprint != fingerprint,
                    r.read_images(&entry.images),
                ))
            }
        }
    }

    /// Stores one new baseline image, to take effect with [`Baselines::commit`]: staged
    /// on disk; remote, uploaded now unless the store holds it already.
    ///
    /// # Errors
    /// On I/O or request failure.
    pub fn stage_image(
        &self,
        suite: &str,
        case: &str,
        n: u32,
        png: &[u8],
        width: u32,
        height: u32,
    ) -> Result<ImageEntry, StoreError> {
        match self {
            Self::Local(s) => s.stage_image(suite, case, n, png, width, height),
            Self::Remote(r) => Ok(ImageEntry {
                file: format!("{case}/{n}.png"),
                sha256: r.put_image(png)?,
                width,
                height,
            }),
        }
    }

    /// Forgets what was staged for one case. Remote, an uploaded image stays, named by
    /// no manifest: it costs storage, never correctness.
    pub fn unstage_case(&self, suite: &str, case: &str) {
        if let Self::Local(s) = self {
            s.unstage_case(suite, case);
        }
    }

    /// Makes the staged images and `manifest` the suite's baselines, all at once.
    ///
    /// # Errors
    /// On I/O or request failure; remote, [`StoreError::Conflict`] when another writer
    /// changed one of the same cases meanwhile (nothing is written).
    pub fn commit(&self, manifest: &Manifest) -> Result<(), StoreError> {
        match self {
            Self::Local(s) => s.commit(manifest),
            Self::Remote(r) => r.commit(manifest).map(|_| ()),
        }
    }

    /// The suites that have a manifest in the store, sorted.
    ///
    /// # Errors
    /// When the folder or the bucket cannot be listed.
    pub fn suites(&self) -> Result<Vec<String>, StoreError> {
        match self {
            Self::Local(s) => {
                let root = s.root();
                let entries = std::fs::read_dir(root).map_err(|source| StoreError::Io {
                    path: root.to_path_buf(),
                    source,
                })?;
                let mut out: Vec<String> = entries
                    .flatten()
                    .filter(|e| e.path().join("manifest.json").is_file())
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .filter(|n| !n.starts_with('.'))
                    .collect();
                out.sort();
                Ok(out)
            }
            Self::Remote(r) => r.suites(),
        }
    }

    /// What moved to and from a remote store, on one line; `None` on disk.
    #[must_use]
    pub fn transfer_summary(&self) -> Option<String> {
        self.remote().map(RemoteStore::summary)
    }
}
