//! `manifest.json`: what a suite's baselines are and how they were made.
//!
//! Fields (format_version 1):
//! - `format_version`: bumped on any incompatible change.
//! - `scorer_version`: the scoring definitions in force when recorded.
//! - `suite`: the suite id; `model`: the pin at record time.
//! - `cases.<id>.fingerprint`: sha256 of the canonical request; a different value now
//!   means the suite entry changed and the case must be re-recorded.
//! - `cases.<id>.recorded_at`, `source` (`record` or `accept <run-id>`), `reason`.
//! - `cases.<id>.images[]`: `file` (relative to the suite folder), `sha256`, `width`, `height`.
//! - `cases.<id>.provider[]`: per sample, what the provider reported.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provider::Metadata;

/// Current manifest format.
pub const FORMAT_VERSION: u32 = 1;

/// One baseline image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageEntry {
    /// Path relative to the suite's baseline folder, `<case>/<n>.png`.
    pub file: String,
    /// sha256 of the file.
    pub sha256: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// The baselines of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEntry {
    /// sha256 of the canonical request the baselines answer.
    pub fingerprint: String,
    /// RFC 3339 time of recording.
    pub recorded_at: String,
    /// `record`, or `accept <run-id>`.
    pub source: String,
    /// Why the baseline was accepted, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The images, sample by sample.
    pub images: Vec<ImageEntry>,
    /// What the provider reported, sample by sample.
    #[serde(default)]
    pub provider: Vec<Metadata>,
}

/// A suite's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format of this file.
    pub format_version: u32,
    /// Scoring definitions in force when recorded.
    pub scorer_version: u32,
    /// Suite id.
    pub suite: String,
    /// The pin at record time.
    pub model: serde_json::Value,
    /// Cases by id.
    pub cases: BTreeMap<String, CaseEntry>,
}

impl Manifest {
    /// An empty manifest for a suite.
    #[must_use]
    pub fn new(suite: &str, model: serde_json::Value) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            scorer_version: crate::score::SCORER_VERSION,
            suite: suite.to_string(),
            model,
            cases: BTreeMap::new(),
        }
    }
}
