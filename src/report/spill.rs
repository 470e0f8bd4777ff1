//! A case's samples, held in memory or spilled to an unlinked scratch file.
//!
//! A run's report model grows with its cases, and the samples (paths, scores, palettes,
//! provider metadata) are most of it. `run` spills them as each case is judged and reads
//! them back one case at a time while the documents are written, so memory follows the
//! cases in flight rather than the size of the suite.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::sample::SampleReport;

/// The scratch file. It has no name (it is unlinked at creation), so nothing is left
/// behind even when the process is killed.
#[derive(Debug)]
pub struct Spill {
    file: Mutex<File>,
}

impl Spill {
    /// Creates the scratch file in `dir`, on the same disk as the run's images.
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn new_in(dir: &Path) -> std::io::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            file: Mutex::new(tempfile::tempfile_in(dir)?),
        }))
    }

    /// Appends `samples`; `None` (nothing written) when they would not read back equal,
    /// such as a score that is NaN, which JSON can only write as `null`.
    fn put(&self, samples: &[SampleReport]) -> std::io::Result<Option<(u64, usize)>> {
        let bytes = serde_json::to_vec(samples)?;
        if serde_json::from_slice::<Vec<SampleReport>>(&bytes)
            .ok()
            .as_deref()
            != Some(samples)
        {
            return Ok(None);
        }
        let mut f = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let offset = f.seek(SeekFrom::End(0))?;
        f.write_all(&bytes)?;
        Ok(Some((offset, bytes.len())))
    }

    fn get(&self, offset: u64, len: usize) -> std::io::Result<Vec<SampleReport>> {
        let mut bytes = vec![0; len];
        {
            let mut f = self
                .file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f.seek(SeekFrom::Start(offset))?;
            f.read_exact(&mut bytes)?;
        }
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// The samples of one case. Serialises as a plain JSON array either way.
#[derive(Debug, Clone)]
pub enum Samples {
    /// In memory.
    Held(Vec<SampleReport>),
    /// In a [`Spill`], as `len` bytes at `offset`.
    Spilled {
        /// The scratch file.
        spill: Arc<Spill>,
        /// Where they start.
        offset: u64,
        /// How many bytes.
        len: usize,
        /// How many samples.
        count: usize,
    },
}

impl Default for Samples {
    fn default() -> Self {
        Self::Held(Vec::new())
    }
}

impl From<Vec<SampleReport>> for Samples {
    fn from(v: Vec<SampleReport>) -> Self {
        Self::Held(v)
    }
}

impl FromIterator<SampleReport> for Samples {
    fn from_iter<I: IntoIterator<Item = SampleReport>>(iter: I) -> Self {
        Self::Held(iter.into_iter().collect())
    }
}

impl Samples {
    /// The samples, read back when spilled. Only a disk failing under the run can make
    /// that fail; the case then shows no samples, and the failure is reported on stderr.
    #[must_use]
    pub fn get(&self) -> Cow<'_, [SampleReport]> {
        match self {
            Self::Held(v) => Cow::Borrowed(v),
            Self::Spilled {
                spill, offset, len, ..
            } => Cow::Owned(spill.get(*offset, *len).unwrap_or_else(|e| {
                eprintln!("warning: cannot read back samples from the run's scratch file: {e}");
                Vec::new()
            })),
        }
    }

    /// How many samples.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Held(v) => v.len(),
            Self::Spilled { count, .. } => *count,
        }
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples for editing, read back into memory first when spilled.
    pub fn held_mut(&mut self) -> &mut Vec<SampleReport> {
        if let Self::Spilled { .. } = self {
            *self = Self::Held(self.get().into_owned());
        }
        match self {
            Self::Held(v) => v,
            Self::Spilled { .. } => unreachable!("read back just above"),
        }
    }

    /// Moves the samples out of memory into `spill`; they stay in memory when that fails
    /// or when they would not read back exactly.
    pub fn spill_to(&mut self, spill: &Arc<Spill>) {
        if let Self::Held(v) = self
            && let Ok(Some((offset, len))) = spill.put(v)
        {
            *self = Self::Spilled {
                spill: Arc::clone(spill),
                offset,
                len,
                count: v.len(),
            };
        }
    }
}

impl PartialEq for Samples {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Serialize for Samples {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Samples {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::deserialize(d).map(Self::Held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(index: u32) -> SampleReport {
        SampleReport {
            index,
            baseline: Some(format!("baselines/s/c/{index}.jpg")),
            baseline_sha256: None,
            candidate: Some(format!("candidates/s/c/{index}.png")),
            heatmap: None,
            metrics: None,
            size_change: None,
            base_palette: Vec::new(),
            cand_palette: Vec::new(),
            provider: None,
            error: (index == 1).then(|| "timed out".to_string()),
        }
    }

    #[test]
    fn spilled_samples_read_back_and_serialise_as_held_ones() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new_in(dir.path()).unwrap();
        let held: Samples = vec![sample(0), sample(1)].into();
        let mut a = held.clone();
        let mut b: Samples = vec![sample(2)].into();
        a.spill_to(&spill);
        b.spill_to(&spill);
        assert!(matches!(a, Samples::Spilled { count: 2, .. }));
        assert_eq!(a.len(), 2);
        assert_eq!(a, held);
        assert_eq!(b.get()[0].index, 2);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&held).unwrap()
        );
        a.held_mut()[0].error = Some("edited".into());
        assert!(matches!(a, Samples::Held(_)));
        assert_eq!(a.get()[0].error.as_deref(), Some("edited"));
        // The scratch file has no name: the folder stays empty.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn samples_that_json_cannot_carry_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new_in(dir.path()).unwrap();
        let mut s = sample(0);
        s.metrics = Some(crate::score::Metrics {
            ssim: f64::NAN,
            ssim_rgb: 0.5,
            phash: 0,
            dhash: 0,
            delta_e: 1.0 / 3.0,
            delta_e_p95: 0.1 + 0.2,
            lab_shift: crate::score::LabShift {
                dl: 1e-300,
                da: -0.0,
                db: 123_456.789_012_345,
            },
            palette_delta_e: 0.0,
            chroma_shift: 0.0,
        });
        let mut nan: Samples = vec![s.clone()].into();
        nan.spill_to(&spill);
        assert!(matches!(nan, Samples::Held(_)));
        // Awkward but finite values do spill, and read back exactly.
        if let Some(m) = s.metrics.as_mut() {
            m.ssim = 0.999_999_999_999_999_9;
        }
        let mut finite: Samples = vec![s.clone()].into();
        finite.spill_to(&spill);
        assert!(matches!(finite, Samples::Spilled { .. }));
        assert_eq!(finite.get()[0], s);
    }
}
