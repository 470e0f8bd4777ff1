//! Switching a suite's baselines from old to new in one step, so that a kill at any
//! instant leaves every case entirely old or entirely new.
//!
//! New images are first written under `<suite>/.staging/<case>/<n>.png`, with the new
//! manifest as `.staging/manifest.json`. Writing the marker `.staging/COMMIT` is the
//! commit point; the images are then renamed into `<case>/<n>.png`, the manifest last,
//! and the staging folder removed. Whoever opens the suite next ([`BaselineStore::recover`],
//! called by `record`, `run` and `check`) finishes the job: with the marker it rolls
//! forward (renames what is left, which is idempotent); without it, the new images
//! never counted, and the staging folder is deleted. The final layout is unchanged.

use std::fs;
use std::path::{Path, PathBuf};

use super::atomic::write_atomic;
use super::lock::holder;
use super::manifest::{ImageEntry, Manifest};
use super::{BaselineStore, StoreError};
use crate::digest::sha256_hex;

/// Staging folder inside a suite's baseline folder; case ids cannot start with a dot.
const STAGING: &str = ".staging";
/// Present once everything staged is durable: from then on the new baselines count.
const COMMIT: &str = "COMMIT";
const MANIFEST: &str = "manifest.json";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sync_dir(dir: &Path) {
    // Persists renames; not every platform lets a folder be opened.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

impl BaselineStore {
    fn staging(&self, suite: &str) -> PathBuf {
        self.suite_dir(suite).join(STAGING)
    }

    /// Writes one new baseline image into the suite's staging folder; it takes effect
    /// with [`BaselineStore::commit`].
    ///
    /// # Errors
    /// On I/O failure.
    pub fn stage_image(
        &self,
        suite: &str,
        case: &str,
        n: u32,
        png: &[u8],
        width: u32,
        height: u32,
    ) -> Result<ImageEntry, StoreError> {
        let file = format!("{case}/{n}.png");
        let path = self.staging(suite).join(&file);
        write_atomic(&path, png).map_err(io(&path))?;
        Ok(ImageEntry {
            file,
            sha256: sha256_hex(png),
            width,
            height,
        })
    }

    /// Forgets whatever was staged for one case (its samples did not all arrive).
    pub fn unstage_case(&self, suite: &str, case: &str) {
        let _ = fs::remove_dir_all(self.staging(suite).join(case));
    }

    /// Makes the staged images and `manifest` the suite's baselines, all at once.
    ///
    /// # Errors
    /// On I/O failure before the commit point (the old baselines stand) or after it
    /// (the next [`BaselineStore::recover`] completes the switch).
    pub fn commit(&self, manifest: &Manifest) -> Result<(), StoreError> {
        let staging = self.staging(&manifest.suite);
        let mut json =
            serde_json::to_vec_pretty(manifest).map_err(|source| StoreError::BadManifest {
                path: staging.join(MANIFEST),
                source,
            })?;
        json.push(b'\n');
        let staged = staging.join(MANIFEST);
        write_atomic(&staged, &json).map_err(io(&staged))?;
        let marker = staging.join(COMMIT);
        write_atomic(&marker, b"").map_err(io(&marker))?;
        self.roll_forward(&manifest.suite)
    }

    /// Completes or discards an interrupted [`BaselineStore::commit`] of a suite, unless
    /// another live driftgate holds the suite's lock (it is still working).
    ///
    /// # Errors
    /// On I/O failure.
    pub fn recover(&self, suite: &str) -> Result<(), StoreError> {
        let dir = self.suite_dir(suite);
        let staging = self.staging(suite);
        if !staging.exists() || holder(&dir).is_some_and(|pid| pid != std::process::id()) {
            return Ok(());
        }
        if staging.join(COMMIT).exists() {
            self.roll_forward(suite)
        } else {
            fs::remove_dir_all(&staging).map_err(io(&staging))
        }
    }

    fn roll_forward(&self, suite: &str) -> Result<(), StoreError> {
        let dir = self.suite_dir(suite);
        let staging = self.staging(suite);
        for case in fs::read_dir(&staging).map_err(io(&staging))?.flatten() {
            let from_dir = case.path();
            if !from_dir.is_dir() {
                continue;
            }
            let to_dir = dir.join(case.file_name());
            fs::create_dir_all(&to_dir).map_err(io(&to_dir))?;
            for f in fs::read_dir(&from_dir).map_err(io(&from_dir))?.flatten() {
                let name = f.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                let to = to_dir.join(&name);
                fs::rename(f.path(), &to).map_err(io(&to))?;
            }
            sync_dir(&to_dir);
        }
        let staged = staging.join(MANIFEST);
        if staged.exists() {
            let to = dir.join(MANIFEST);
            fs::rename(&staged, &to).map_err(io(&to))?;
            sync_dir(&dir);
        }
        // The marker goes first: staging without it is discarded, which is now harmless.
        let marker = staging.join(COMMIT);
        fs::remove_file(&marker).map_err(io(&marker))?;
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
        self.remove_unlisted(suite);
        Ok(())
    }

    /// Removes `<case>/<n>.png` files the manifest no longer lists (a case recorded with
    /// fewer samples than before), so the folder matches the manifest.
    fn remove_unlisted(&self, suite: &str) {
        let Ok(Some(m)) = self.load_manifest(suite) else {
            return;
        };
        for (id, entry) in &m.cases {
            let case_dir = self.suite_dir(suite).join(id);
            for f in fs::read_dir(&case_dir).into_iter().flatten().flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                let listed = entry
                    .images
                    .iter()
                    .any(|i| i.file == format!("{id}/{name}"));
                let numbered = name
                    .strip_suffix(".png")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                if numbered && !listed {
                    let _ = fs::remove_file(f.path());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CaseEntry;

    fn manifest(store: &BaselineStore, tag: &[u8]) -> Manifest {
        let mut m = Manifest::new("s", serde_json::json!({}));
        let images = (0..2)
            .map(|n| store.stage_image("s", "c", n, tag, 1, 1).unwrap())
            .collect();
        m.cases.insert(
            "c".into(),
            CaseEntry {
                fingerprint: "f".into(),
                recorded_at: "t".into(),
                source: "record".into(),
                reason: None,
                images,
                provider: vec![],
            },
        );
        m
    }

    #[test]
    fn uncommitted_staging_is_discarded_and_committed_staging_completes() {
        let t = tempfile::tempdir().unwrap();
        let store = BaselineStore::new(t.path());
        let old = manifest(&store, b"old");
        store.commit(&old).unwrap();
        assert_eq!(fs::read(t.path().join("s/c/1.png")).unwrap(), b"old");

        // Staged but not committed: the old baselines stand.
        let _new = manifest(&store, b"new");
        store.recover("s").unwrap();
        assert!(!t.path().join("s/.staging").exists());
        assert_eq!(store.load_manifest("s").unwrap(), Some(old));

        // Committed, interrupted after the first image moved: recovery finishes.
        let new = manifest(&store, b"new");
        let staging = t.path().join("s/.staging");
        write_atomic(&staging.join(MANIFEST), &serde_json::to_vec(&new).unwrap()).unwrap();
        write_atomic(&staging.join(COMMIT), b"").unwrap();
        fs::rename(staging.join("c/0.png"), t.path().join("s/c/0.png")).unwrap();
        store.recover("s").unwrap();
        assert_eq!(store.load_manifest("s").unwrap(), Some(new.clone()));
        for img in &new.cases["c"].images {
            assert_eq!(store.read_image("s", img).unwrap(), b"new");
        }
        assert!(!staging.exists());
    }
}
