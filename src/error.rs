//! The top-level error: every seam's error, and the exit status each one maps to.

use crate::exit::ExitStatus;

/// Anything that stops a command before it could judge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more suites are invalid.
    #[error("invalid suite\n{0}")]
    Suite(crate::suite::SuiteErrors),
    /// The baseline store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A provider could not be set up.
    #[error(transparent)]
    Provider(#[from] crate::provider::BuildError),
    /// A report could not be written or read.
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// A problem the user can fix, with a hint.
    #[error("{message}\n  hint: {hint}")]
    Usage {
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
}

impl From<crate::suite::SuiteErrors> for Error {
    fn from(e: crate::suite::SuiteErrors) -> Self {
        Self::Suite(e)
    }
}

impl Error {
    /// A usage error with a hint.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The exit status for this error: every variant stops before judging.
    #[must_use]
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Suite(_)
            | Self::Store(_)
            | Self::Provider(_)
            | Self::Report(_)
            | Self::Usage { .. } => ExitStatus::Usage,
        }
    }
}
