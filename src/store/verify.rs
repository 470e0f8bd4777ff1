//! Verifying recorded baselines before they are used: recorded, recorded for the
//! current request, every image intact. `run` does it before sending anything and
//! `check` does it alone.

use super::baseline::{BaselineStore, StoreError};
use super::manifest::Manifest;

/// What verifying one case's baseline found.
#[derive(Debug)]
pub struct CaseBaseline {
    /// Whether it was recorded for another request than the current one.
    pub stale: bool,
    /// Images read back intact.
    pub intact: usize,
    /// Images missing, unreadable or altered since they were recorded.
    pub problems: Vec<StoreError>,
}

impl CaseBaseline {
    /// The finding for a case recorded `stale` or not, from reading back its images.
    pub(crate) fn from_reads<T>(
        stale: bool,
        reads: impl IntoIterator<Item = Result<T, StoreError>>,
    ) -> Self {
        let mut checked = Self {
            stale,
            intact: 0,
            problems: Vec::new(),
        };
        for read in reads {
            match read {
                Ok(_) => checked.intact += 1,
                Err(e) => checked.problems.push(e),
            }
        }
        checked
    }
}

impl BaselineStore {
    /// A suite's manifest once an interrupted `record` is finished or undone (see
    /// [`BaselineStore::clean`]); `None` when the suite has never been recorded.
    ///
    /// # Errors
    /// When the manifest exists but cannot be read or parsed.
    pub fn open_manifest(&self, suite: &str) -> Result<Option<Manifest>, StoreError> {
        self.clean(suite);
        self.load_manifest(suite)
    }

    /// Verifies the baseline of `suite`'s case `case` against `fingerprint`, the case's current request;
    /// `None` when the manifest has no entry for the case. Every image is read back and
    /// its sha256 checked, stale or not.
    #[must_use]
    pub fn verify_case(
        &self,
        suite: &str,
        manifest: &Manifest,
        case: &str,
        fingerprint: &str,
    ) -> Option<CaseBaseline> {
        let entry = manifest.cases.get(case)?;
        Some(CaseBaseline::from_reads(
            entry.fingerprint != fingerprint,
            entry.images.iter().map(|img| self.read_image(suite, img)),
        ))
    }
}
