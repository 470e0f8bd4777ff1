//! `history.jsonl`: one compact line per run, so a report can draw each case's trend.
//!
//! Every run appends one JSON object on its own line (format `v` 1):
//! `{"v":1,"run_id":"...","started_at":"...","verdict":"drift","cases":[{"suite":"demo",
//! "id":"gold-watch","verdict":"pass","ssim":0.97,"delta_e":1.2,"db":0.4}]}`.
//! The metrics are medians over the case's scored samples (the statistic the verdict
//! uses), absent when no sample could be scored. `db` is the Lab b* shift: positive is
//! warmer (yellower), negative cooler.
//!
//! The line is written with a single `write` on a file opened with `O_APPEND`, so runs that
//! finish at the same time do not interleave; a line torn by a crash is skipped on read.
//! When the baselines are remote, the history lives beside them in the store
//! (`store::RemoteStore::append_history`), built from the same line and read the same way.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ReportError;
use super::model::{CaseReport, CaseVerdict, RunReport, RunVerdict};

/// Current history line format.
pub const HISTORY_VERSION: u32 = 1;

/// How many past runs a report draws at most.
pub const TREND_RUNS: usize = 20;

/// One case in one run of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryCase {
    /// Suite id.
    pub suite: String,
    /// Case id.
    pub id: String,
    /// The case's verdict in that run.
    pub verdict: CaseVerdict,
    /// Median luma SSIM over the samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssim: Option<f64>,
    /// Median mean CIEDE2000 over the samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_e: Option<f64>,
    /// Median Lab b* shift (positive: warmer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db: Option<f64>,
}

/// One run of the history: one line of `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// Line format.
    pub v: u32,
    /// The run.
    pub run_id: String,
    /// RFC 3339 start time.
    #[serde(default)]
    pub started_at: String,
    /// Overall verdict.
    pub verdict: RunVerdict,
    /// Cases.
    pub cases: Vec<HistoryCase>,
}

/// The median of the finite values: a failed score does not move the trend line.
pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    crate::score::median(v)
}

fn case_record(c: &CaseReport) -> HistoryCase {
    let samples = c.samples.get();
    let ms: Vec<_> = samples.iter().filter_map(|s| s.metrics.as_ref()).collect();
    // Rounded so a line stays short; four digits are far below any threshold's precision.
    // Adding 0.0 turns a rounded -0.0 into 0.0.
    let round = |v: Option<f64>| v.map(|x| (x * 10_000.0).round() / 10_000.0 + 0.0);
    HistoryCase {
        suite: c.suite.clone(),
        id: c.id.clone(),
        verdict: c.verdict,
        ssim: round(median(ms.iter().map(|m| m.ssim).collect())),
        delta_e: round(median(ms.iter().map(|m| m.delta_e).collect())),
        db: round(median(ms.iter().map(|m| m.lab_shift.db).collect())),
    }
}

impl HistoryRecord {
    /// The compact record of a finished run.
    #[must_use]
    pub fn of(report: &RunReport) -> Self {
        Self {
            v: HISTORY_VERSION,
            run_id: report.run_id.clone(),
            started_at: report.started_at.clone(),
            verdict: report.verdict,
            cases: report.cases.iter().map(case_record).collect(),
        }
    }
}

/// Where a run's history lives by default: `history.jsonl` beside the run folder when
/// that folder sits in a folder named `reports` (the default layout), else nowhere.
#[must_use]
pub fn default_history_path(run_dir: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(run_dir).ok()?;
    let parent = abs.parent()?;
    (parent.file_name()? == "reports").then(|| parent.join("history.jsonl"))
}

/// Appends a run's record to the history file, creating it when absent.
///
/// # Errors
/// When the file cannot be opened or written.
pub fn append_history(path: &Path, report: &RunReport) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let line = history_line(report).map_err(|e| io(std::io::Error::other(e)))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(io)?;
    // One write call: with O_APPEND the kernel places it at the end as a whole.
    f.write_all(line.as_bytes()).map_err(io)
}

/// A run's history line, ending in a newline.
///
/// # Errors
/// When the record cannot be serialised.
pub fn history_line(report: &RunReport) -> Result<String, serde_json::Error> {
    let mut line = serde_json::to_string(&HistoryRecord::of(report))?;
    line.push('\n');
    Ok(line)
}

/// Reads the history as it stood when `run` finished: every record up to and including
/// that run; when the run is not in the file, the records that started no later than it.
/// At most the last [`TREND_RUNS`]. A missing file is an empty history; unreadable lines
/// are skipped.
#[must_use]
pub fn read_history(path: &Path, run: &RunReport) -> Vec<HistoryRecord> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    parse_history(&text, run)
}

/// [`read_history`] on the history's text.
#[must_use]
pub fn parse_history(text: &str, run: &RunReport) -> Vec<HistoryRecord> {
    let mut records: Vec<HistoryRecord> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|r: &HistoryRecord| r.v <= HISTORY_VERSION)
        .collect();
    if let Some(pos) = records.iter().rposition(|r| r.run_id == run.run_id) {
        records.truncate(pos + 1);
    } else if !run.started_at.is_empty() {
        // RFC 3339 times in UTC, as driftgate writes them, sort as text.
        records.retain(|r| r.started_at <= run.started_at);
    }
    let skip = records.len().saturating_sub(TREND_RUNS);
    records.drain(..skip);
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: &str) -> RunReport {
        RunReport {
            schema_version: 1,
            run_id: id.into(),
            verdict: RunVerdict::Pass,
            started_at: "2026-01-01T00:00:00Z".into(),
            driftgate_version: String::new(),
            scorer_version: 1,
            suites: Vec::new(),
            cases: Vec::new(),
            stats: super::super::RunStats::default(),
            fdr: None,
            shard: None,
            shards: None,
        }
    }

    #[test]
    fn appends_lines_and_reads_up_to_a_run() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("reports/history.jsonl");
        for id in ["r1", "r2", "r3"] {
            append_history(&p, &report(id)).unwrap();
        }
        // A torn line from a crash is skipped, not fatal.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"v\":1,\"run_").unwrap();
        let all = read_history(&p, &report("absent"));
        assert_eq!(all.len(), 3);
        let mut earlier = report("absent");
        earlier.started_at = "2025-12-31T00:00:00Z".into();
        assert!(read_history(&p, &earlier).is_empty());
        let upto = read_history(&p, &report("r2"));
        assert_eq!(
            upto.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
            ["r1", "r2"]
        );
        assert!(read_history(&t.path().join("none"), &report("r1")).is_empty());
    }

    #[test]
    fn default_path_only_under_reports() {
        assert_eq!(
            default_history_path(Path::new("/x/reports/run-1")),
            Some(PathBuf::from("/x/reports/history.jsonl"))
        );
        assert_eq!(default_history_path(Path::new("/tmp/out/run-1")), None);
    }
}
