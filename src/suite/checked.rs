//! The checked suite as the runner and reports see it, and the request fingerprint.

use std::path::PathBuf;

use serde::Serialize;

use super::model::{Params, ProviderKind, Size, Thresholds};
use crate::digest::sha256_hex;

/// The model a suite pins, as the runner and reports see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelPin {
    /// The platform.
    pub provider: ProviderKind,
    /// The platform's endpoint or model id.
    pub endpoint: String,
    /// The pinned version, when the suite names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Replaces scheme and host of the provider's API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The environment variable holding the API key, when not the usual one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Whether the seed is sent.
    pub send_seed: bool,
    /// Whether the endpoint honours a seed, per the endpoint catalogue: false where it
    /// drops the seed or never confirms it, so that a seed is not read as pinning the
    /// output. True for endpoints the catalogue does not know (nothing says otherwise).
    #[serde(skip_serializing_if = "is_true")]
    pub seed_honoured: bool,
    /// Price of one image in US dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_image: Option<f64>,
    /// For `folder`: the resolved directory of images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// How the platform is called (fal `queue|sync`, OpenRouter `images|chat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// OpenRouter provider routing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<super::model::Route>,
    /// Polling interval in milliseconds, when the suite sets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
    /// Most requests per minute, when the suite sets a limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
}

/// A reference image inside the suite's folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// As written in the suite.
    pub name: String,
    /// Resolved and checked to lie inside the suite's folder.
    #[serde(skip)]
    pub path: PathBuf,
    /// sha256 of the file's bytes.
    pub sha256: String,
}

/// A validated case with the suite's defaults merged in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Case id, safe as a file name.
    pub id: String,
    /// The prompt.
    pub prompt: String,
    /// Reference images.
    pub references: Vec<Reference>,
    /// Tags for filtering.
    pub tags: Vec<String>,
    /// Output size.
    pub size: Size,
    /// Seed, when the suite sets one.
    pub seed: Option<u64>,
    /// Samples drawn.
    pub samples: u32,
    /// Provider parameters.
    pub params: Params,
    /// Absolute limits in force for this case.
    pub thresholds: Thresholds,
    /// Line of the case in its suite file.
    #[serde(skip)]
    pub line: u64,
}

/// A validated suite.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// Suite id, safe as a folder name.
    pub id: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// The pinned model.
    pub model: ModelPin,
    /// The cases, in file order.
    pub cases: Vec<Case>,
    /// What validation found worth saying that does not stop a run (`check` prints them).
    pub warnings: Vec<super::Diagnostic>,
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_true(b: &bool) -> bool {
    *b
}

impl Case {
    /// sha256 of the canonical request: everything that determines the output.
    ///
    /// A baseline whose recorded fingerprint differs from this one was made for another
    /// request and must be re-recorded rather than compared.
    #[must_use]
    pub fn fingerprint(&self, model: &ModelPin) -> String {
        let canonical = serde_json::json!({
            "endpoint": model.endpoint,
            "version": model.version,
            "prompt": self.prompt,
            "references": self.references.iter().map(|r| &r.sha256).collect::<Vec<_>>(),
            "seed": if model.send_seed { self.seed } else { None },
            "size": [self.size.width, self.size.height],
            "samples": self.samples,
            "params": self.params,
        });
        sha256_hex(canonical.to_string().as_bytes())
    }
}
