//! One sample pair of a case, as run.json holds it.

use serde::{Deserialize, Serialize};

use crate::provider::Metadata;
use crate::score::{Metrics, PaletteColor};

/// One sample pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleReport {
    /// 0-based index.
    pub index: u32,
    /// Baseline image, relative to the run folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// sha256 of the baseline image scored (the stored file, not the display copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_sha256: Option<String>,
    /// Candidate image, relative to the run folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
    /// SSIM heatmap, relative to the run folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heatmap: Option<String>,
    /// The scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// Baseline and candidate sizes when they differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_change: Option<((u32, u32), (u32, u32))>,
    /// Dominant palette of the baseline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_palette: Vec<PaletteColor>,
    /// Dominant palette of the candidate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cand_palette: Vec<PaletteColor>,
    /// What the provider reported for the candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Metadata>,
    /// Why this sample has no score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
