//! `driftgate report`: re-render every format from a run's `run.json`.

use super::Output;
use crate::cli::ReportArgs;
use crate::error::Error;
use crate::exit::ExitStatus;

pub(super) fn report(args: &ReportArgs, out: Output) -> Result<ExitStatus, Error> {
    let mut report = crate::report::read_run(&args.run_dir)?;
    report.finish();
    crate::report::write_all(&report, &args.run_dir)?;
    out.note(format!(
        "re-rendered {}",
        args.run_dir.join("index.html").display()
    ));
    println!("{}", crate::report::human_summary(&report, None));
    Ok(ExitStatus::Pass)
}
