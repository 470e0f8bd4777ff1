//! `driftgate report`: re-render every format from a run's `run.json`; and the one place
//! `run` and `compare` write their report, so both append to the trend history the same way.

use std::path::Path;

use super::Output;
use crate::cli::{Format, ReportArgs};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::report::{
    HistoryRecord, RunReport, append_history, default_history_path, github_annotations,
    history_line, in_github_actions, parse_history, read_history,
};

pub(super) fn report(args: &ReportArgs, out: Output) -> Result<ExitStatus, Error> {
    let mut report = crate::report::read_run(&args.run_dir)?;
    report.finish();
    let history = args
        .history
        .clone()
        .or_else(|| default_history_path(&args.run_dir))
        .map(|p| read_history(&p, &report))
        .unwrap_or_default();
    crate::report::write_all_with_history(&report, &args.run_dir, &history)?;
    out.note(format!(
        "re-rendered {}",
        args.run_dir.join("index.html").display()
    ));
    outln!("{}", crate::report::human_summary(&report, None));
    Ok(ExitStatus::Pass)
}

/// Writes a finished run's report: appends it to the trend history (`history`, or the
/// default beside the run folder), then every file with the trend drawn up to this run.
/// Inside GitHub Actions it also prints annotations for the cases that did not pass.
///
/// A history that cannot be written costs the trend, not the run: the verdict still gates.
pub(super) fn write_run_report(
    report: &RunReport,
    dir: &Path,
    history: Option<&Path>,
    format: Format,
) -> Result<(), Error> {
    let path = history
        .map(Path::to_path_buf)
        .or_else(|| default_history_path(dir));
    let records = match &path {
        Some(p) => match append_history(p, report) {
            Ok(()) => read_history(p, report),
            Err(e) => {
                eprintln!("warning: failed to append to the history: {e}; the trend is left out");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    write_with_history(report, dir, &records, format)
}

/// [`write_run_report`] for a run whose baselines are remote: the history is the one in
/// the store beside them (a CI runner starts empty every night), appended with a
/// conditional write.
pub(super) fn write_run_report_remote(
    report: &RunReport,
    dir: &Path,
    store: &crate::store::RemoteStore,
    format: Format,
) -> Result<(), Error> {
    let records = match history_line(report)
        .map_err(|e| e.to_string())
        .and_then(|line| store.append_history(&line).map_err(|e| e.to_string()))
    {
        Ok(text) => parse_history(&text, report),
        Err(e) => {
            eprintln!("warning: failed to append to the history: {e}; the trend is left out");
            Vec::new()
        }
    };
    write_with_history(report, dir, &records, format)
}

pub(super) fn write_with_history(
    report: &RunReport,
    dir: &Path,
    records: &[HistoryRecord],
    format: Format,
) -> Result<(), Error> {
    crate::report::write_all_with_history(report, dir, records)?;
    if in_github_actions() {
        let lines = github_annotations(report);
        // stdout stays a pure JSON document with --format json; the runner reads
        // workflow commands from either stream.
        match format {
            Format::Human => print!("{lines}"),
            Format::Json => eprint!("{lines}"),
        }
    }
    Ok(())
}
