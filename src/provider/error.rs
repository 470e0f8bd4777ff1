//! A provider failure and how the runner handles it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ApiKey, Metadata, text};

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
    /// The platform answered for this sample with its own mark instead of an image (an
    /// Ark per-item content-filter error in a 200, a flagged WaveSpeed or Atlas Cloud
    /// task without an output): what it reported, `platform_mark` set. The run judges
    /// such a sample as marked, which is drift, rather than failed. Default: none.
    pub marked: Option<Box<Metadata>>,
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
            marked: None,
        }
    }

    /// A failure that is the platform's mark on the sample: `metadata` is what it
    /// reported, with `platform_mark` set.
    #[must_use]
    pub fn marked(kind: ErrorKind, message: impl Into<String>, metadata: Metadata) -> Self {
        Self {
            marked: Some(Box::new(metadata)),
            ..Self::new(kind, message)
        }
    }
}

impl ProviderError {
    /// Makes the message safe to store and print: the key becomes `****`, and control
    /// characters and line breaks go, since most of the text is the platform's own.
    #[must_use]
    pub fn scrubbed(mut self, key: Option<&ApiKey>) -> Self {
        let m = key.map_or_else(|| self.message.clone(), |k| k.scrub(&self.message));
        self.message = text::one_line(&m);
        if let Some(meta) = &mut self.marked {
            meta.scrub(key);
        }
        self
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
