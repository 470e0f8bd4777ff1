//! Providers: one trait, one implementation per platform.
//!
//! A provider turns one sample of one case into an encoded image plus what the
//! platform said about itself, and classifies its failures so the runner knows what to
//! retry. `build` is the single place that picks the implementation.

mod folder;
mod sim;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::suite::{Case, ModelPin, ProviderKind};

pub use folder::{EXTENSIONS, Folder, sample_file};
pub use sim::{BUILDS, Sim, render};

/// One sample of one case, as sent to a provider.
#[derive(Debug, Clone, Copy)]
pub struct GenerationRequest<'a> {
    /// The suite's pinned model.
    pub model: &'a ModelPin,
    /// The case.
    pub case: &'a Case,
    /// 0-based sample index.
    pub sample: u32,
}

/// What a provider reported about the generation: the build fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The platform's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The model or version string the platform reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The seed the platform says it used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Wall time of the request, in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// Response headers that identify a build (names lowercase).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl Metadata {
    /// The fields that identify the build serving the endpoint, for change detection.
    /// Request ids, timings and seeds change on every call and are left out.
    #[must_use]
    pub fn build_identity(&self) -> BTreeMap<String, String> {
        let mut id = self.headers.clone();
        if let Some(m) = &self.model {
            id.insert("model".into(), m.clone());
        }
        id
    }
}

/// An image a provider returned.
#[derive(Debug, Clone)]
pub struct Generation {
    /// Encoded image bytes (PNG, JPEG or WebP).
    pub bytes: Vec<u8>,
    /// What the provider reported.
    pub metadata: Metadata,
}

/// How a provider failure is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Network trouble or a 5xx: retried with backoff and jitter.
    Transient,
    /// 429: retried after the provider's Retry-After.
    RateLimited,
    /// A 4xx validation error: not retried, shown with the provider's message.
    Rejected,
    /// The provider's content filter refused the request or the output.
    ContentFiltered,
    /// Anything else that retrying cannot fix (bad key, bad response).
    Fatal,
    /// Not sent: the run's request budget was spent.
    Budget,
}

impl ErrorKind {
    /// Whether the runner retries this failure.
    #[must_use]
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Transient | Self::RateLimited)
    }
}

/// A provider failure, classified.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ProviderError {
    /// How it is handled.
    pub kind: ErrorKind,
    /// The provider's own message, secrets removed.
    pub message: String,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// How long the provider asked us to wait.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// A failure of the given kind.
    #[must_use]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
            retry_after: None,
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::Transient => "transient failure",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Rejected => "request rejected",
            ErrorKind::ContentFiltered => "content filtered",
            ErrorKind::Fatal => "provider failure",
            ErrorKind::Budget => "skipped",
        };
        match self.status {
            Some(s) => write!(f, "{kind} (HTTP {s}): {}", self.message),
            None => write!(f, "{kind}: {}", self.message),
        }
    }
}

/// One pinned model endpoint reached through one platform.
pub trait Provider: Send + Sync {
    /// Generates one sample.
    fn generate(
        &self,
        req: GenerationRequest<'_>,
    ) -> impl Future<Output = Result<Generation, ProviderError>> + Send;
}

/// The provider a suite names.
#[derive(Debug)]
pub enum AnyProvider {
    /// The embedded offline renderer.
    Sim(Sim),
    /// Images from a folder.
    Folder(Folder),
}

/// Why a provider could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The suite names a platform this build cannot reach.
    #[error("provider `{0}` is not available in this build")]
    Unsupported(&'static str),
}

/// Picks the implementation for a suite's model.
///
/// # Errors
/// When the provider cannot be set up (missing key, unsupported platform).
pub fn build(model: &ModelPin) -> Result<AnyProvider, BuildError> {
    match model.provider {
        ProviderKind::Sim => Ok(AnyProvider::Sim(Sim::from_env())),
        ProviderKind::Folder => Ok(AnyProvider::Folder(Folder)),
        other => Err(BuildError::Unsupported(other.name())),
    }
}

impl Provider for AnyProvider {
    async fn generate(&self, req: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
        match self {
            Self::Sim(p) => p.generate(req).await,
            Self::Folder(p) => p.generate(req).await,
        }
    }
}
