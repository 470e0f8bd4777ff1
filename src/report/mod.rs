//! Reports: `RunReport` in, files out. Every format is one file over the one model, so
//! `driftgate report` can re-render any of them from `run.json` alone.

mod github;
mod history;
mod html;
mod junit;
mod markdown;
mod model;
mod text;
mod thumbs;

use std::path::{Path, PathBuf};

pub use github::{escape_data, escape_property, github_annotations, in_github_actions};
pub use history::{
    HISTORY_VERSION, HistoryCase, HistoryRecord, TREND_RUNS, append_history, default_history_path,
    read_history,
};
pub use html::{esc, render_html, render_html_with_history};
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use model::{
    CaseReport, CaseVerdict, FingerprintChange, MetricFloor, RunReport, RunStats, RunVerdict,
    SCHEMA_VERSION, SampleReport, SuiteReport,
};
pub use text::{MetricRow, human_summary, metric_rows, metric_table};
pub use thumbs::{THUMB_MAX, thumb_path, write_thumbnails};

/// A failure to write or read a report file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written or read.
    #[error("cannot access {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `run.json` is not a run report this driftgate reads.
    #[error("{} is not a valid run.json: {source}", path.display())]
    BadRunJson {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// JUnit serialisation failed.
    #[error("cannot render junit.xml: {0}")]
    Junit(String),
}

/// `run.json` as pretty JSON.
#[must_use]
pub fn render_json(report: &RunReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// Writes `run.json`, `index.html`, `junit.xml` and `summary.md` into `dir`, each atomically.
///
/// # Errors
/// When a file cannot be written.
pub fn write_all(report: &RunReport, dir: &Path) -> Result<(), ReportError> {
    write_all_with_history(report, dir, &[])
}

/// As [`write_all`], plus the thumbnails the page shows; `history` (oldest first, this
/// run last) feeds the page's trend lines.
///
/// # Errors
/// When a file cannot be written.
pub fn write_all_with_history(
    report: &RunReport,
    dir: &Path,
    history: &[HistoryRecord],
) -> Result<(), ReportError> {
    write_thumbnails(report, dir)?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        crate::store::write_atomic(&path, text.as_bytes())
            .map_err(|source| ReportError::Io { path, source })
    };
    // One document alive at a time: on large runs each is megabytes.
    write("run.json", render_json(report) + "\n")?;
    write("junit.xml", render_junit(report)?)?;
    write("summary.md", render_markdown(report))?;
    write("index.html", render_html_with_history(report, history))
}

/// Reads a run folder's `run.json`.
///
/// # Errors
/// When it is missing or not a run report.
pub fn read_run(dir: &Path) -> Result<RunReport, ReportError> {
    let path = dir.join("run.json");
    let bytes = std::fs::read(&path).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ReportError::BadRunJson { path, source })
}
