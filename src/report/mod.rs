//! Reports: `RunReport` in, files out. Every format is one file over the one model, so
//! `driftgate report` can re-render any of them from `run.json` alone.

mod cases;
mod github;
mod history;
mod html;
mod junit;
mod markdown;
mod model;
mod sample;
mod spend;
mod spill;
mod text;
mod thumbs;
mod view;

use std::path::{Path, PathBuf};

pub use cases::stream_cases;
pub use github::{escape_data, escape_property, github_annotations, in_github_actions};
pub use history::{
    HISTORY_VERSION, HistoryCase, HistoryRecord, TREND_RUNS, append_history, default_history_path,
    history_line, parse_history, read_history,
};
pub use html::{render_html, render_html_with_history, write_html};
pub use junit::{render_junit, write_junit};
pub use markdown::render_markdown;
pub use model::{
    CaseReport, CaseVerdict, FingerprintChange, MergedShard, RunReport, RunStats, RunVerdict,
    SCHEMA_VERSION, SampleReport, Shard, Shards, SuiteReport,
};
pub use spend::Spend;
pub use spill::{Samples, Spill};
pub use text::{MetricRow, human_summary, metric_table};
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

/// Streams `run.json` (pretty JSON and a final newline) into `w`: on large runs the
/// document is megabytes, so it is never built as one string.
///
/// # Errors
/// When `w` fails.
pub fn write_json(report: &RunReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report)?;
    writeln!(w)
}

/// Writes `run.json`, `index.html`, `junit.xml` and `summary.md` into `dir`, each
/// atomically, plus the thumbnails the page shows; `history` (oldest first, this run
/// last) feeds the page's trend lines.
///
/// # Errors
/// When a file cannot be written.
pub fn write_all_with_history(
    report: &RunReport,
    dir: &Path,
    history: &[HistoryRecord],
) -> Result<(), ReportError> {
    write_thumbnails(report, dir)?;
    // Streamed one at a time: on large runs each document is megabytes.
    let stream = |name: &str, fill: &dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()>| {
        let path = dir.join(name);
        crate::store::write_atomic_with(&path, fill)
            .map_err(|source| ReportError::Io { path, source })
    };
    stream("run.json", &|w| write_json(report, w))?;
    stream("junit.xml", &|w| write_junit(report, w))?;
    stream("summary.md", &|w| {
        w.write_all(render_markdown(report).as_bytes())
    })?;
    stream("index.html", &|w| write_html(report, history, w))
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
