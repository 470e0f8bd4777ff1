//! One file per subcommand; each only wires the seams together.

mod accept;
mod baselines;
mod check;
mod compare;
mod completions;
mod init;
mod judge;
mod merge;
mod record;
mod report;
mod run;

use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, ProviderArgs};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::run::Selection;

/// Where messages go: stdout for results, stderr for progress and notes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub(crate) quiet: bool,
    pub(crate) verbose: u8,
}

impl Output {
    /// A progress or note line, hidden with `-q`.
    pub(crate) fn note(self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A detail line, shown with `-v`.
    pub(crate) fn detail(self, msg: impl AsRef<str>) {
        if self.verbose > 0 {
            eprintln!("{}", msg.as_ref());
        }
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// Anything that stopped the command before it could judge; its exit status is 2.
pub fn run(cli: Cli) -> Result<ExitStatus, Error> {
    let out = Output {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    match cli.command {
        Command::Run(args) => run::run(&args, out),
        Command::Record(args) => record::record(&args, out),
        Command::Compare(args) => compare::compare(&args, out),
        Command::Check(args) => check::check(&args, out),
        Command::Accept(args) => accept::accept(&args, out),
        Command::Baselines(args) => baselines::baselines(&args, out),
        Command::Report(args) => report::report(&args, out),
        Command::Merge(args) => merge::merge(&args, out),
        Command::Init(args) => init::init(&args),
        Command::Completions(args) => {
            completions::completions(args.shell);
            Ok(ExitStatus::Pass)
        }
        Command::Providers => {
            providers();
            Ok(ExitStatus::Pass)
        }
        Command::Schema => {
            outln!(
                "{}",
                serde_json::to_string_pretty(&crate::suite::schema()).unwrap_or_default()
            );
            Ok(ExitStatus::Pass)
        }
    }
}

/// `driftgate providers`: never prints a key, only whether its variable is set.
fn providers() {
    outln!(
        "{:<11} {:<20} {:<4} base URL",
        "provider",
        "key variable",
        "set"
    );
    for (kind, var, base) in crate::provider::CATALOG {
        let set = match var {
            Some(v) if crate::provider::key_is_set(v) => "yes",
            Some(_) => "no",
            None => "-",
        };
        outln!(
            "{:<11} {:<20} {set:<4} {base}",
            kind.name(),
            var.unwrap_or("-")
        );
    }
}

/// Executor and provider options for one suite, from the command line and the suite.
fn exec_options(
    args: &ProviderArgs,
    suite: &crate::suite::Suite,
    deadline: Option<std::time::Instant>,
    out: Output,
) -> (crate::run::ExecOptions, crate::provider::BuildOptions) {
    let exec = crate::run::ExecOptions {
        concurrency: args
            .concurrency
            .unwrap_or_else(|| crate::provider::default_concurrency(suite.model.provider)),
        max_requests: args.max_requests,
        backoff_base: std::time::Duration::from_millis(args.retry_base_ms),
        deadline,
        rpm: suite.model.rpm,
        ..crate::run::ExecOptions::default()
    };
    let build = crate::provider::BuildOptions {
        http: crate::provider::HttpOptions {
            timeout: secs(args.timeout),
            log_requests: out.verbose >= 2,
            ..crate::provider::HttpOptions::default()
        },
        deadline,
        api_key: None,
    };
    (exec, build)
}

/// A token the first Ctrl-C cancels, after printing `message`; a second Ctrl-C quits at
/// once. A token rather than a process-wide flag: the executor wakes on it instead of
/// polling, and an embedder or a test runs several executors with tokens of their own.
fn cancel_on_ctrl_c(
    rt: &tokio::runtime::Runtime,
    message: &'static str,
) -> crate::run::CancellationToken {
    let token = crate::run::CancellationToken::new();
    let cancel = token.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
            eprintln!("{message}");
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    token
}

/// "N requests" or "N requests for M images", for the line a command prints before
/// it sends anything.
fn requests_and_images(jobs: &[crate::run::Job], model: &crate::suite::ModelPin) -> String {
    let requests = crate::run::batches(jobs, crate::provider::max_batch(model)).len();
    if requests == jobs.len() {
        format!("{requests} requests")
    } else {
        format!("{requests} requests for {} images", jobs.len())
    }
}

/// The run's deadline instant, from `--deadline`.
fn deadline(args: &ProviderArgs) -> Option<std::time::Instant> {
    args.deadline
        .and_then(|s| std::time::Instant::now().checked_add(secs(s)))
}

fn secs(s: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(std::time::Duration::MAX)
}

/// `--case` patterns, each checked.
fn case_globs(globs: &[String]) -> Result<Vec<glob::Pattern>, Error> {
    globs
        .iter()
        .map(|g| {
            glob::Pattern::new(g).map_err(|e| {
                Error::usage(
                    format!("--case `{g}` is not a valid glob: {e}"),
                    "use * and ? wildcards, e.g. --case 'bottle-*'",
                )
            })
        })
        .collect()
}

/// The case filters of the command line.
fn selection(args: &ProviderArgs) -> Result<Selection, Error> {
    let cases = case_globs(&args.cases)?;
    let shard = match &args.shard {
        None => None,
        Some(s) => {
            let parsed = s.split_once('/').and_then(|(i, n)| {
                Some((
                    i.trim().parse::<usize>().ok()?,
                    n.trim().parse::<usize>().ok()?,
                ))
            });
            match parsed {
                Some((i, n)) if n > 0 && (1..=n).contains(&i) => Some((i, n)),
                _ => {
                    return Err(Error::usage(
                        format!("--shard `{s}` is not of the form I/N with 1 <= I <= N"),
                        "e.g. --shard 1/4",
                    ));
                }
            }
        }
    };
    Ok(Selection { cases, shard })
}

/// A new run id: UTC time plus a random suffix, sortable and unique.
fn new_run_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let nanos = now.nanosecond() ^ std::process::id().rotate_left(16);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{:04x}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        nanos & 0xffff
    )
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The report folder: `--out`, or `reports/<run-id>`; refuses a folder holding another run.
fn out_dir(out: Option<&Path>, run_id: &str) -> Result<PathBuf, Error> {
    let dir = out.map_or_else(|| PathBuf::from("reports").join(run_id), Path::to_path_buf);
    if dir.join("run.json").exists() {
        return Err(Error::usage(
            format!("{} already holds a run", dir.display()),
            "pick another --out folder, or remove the old run",
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::usage(
            format!("cannot create {}: {e}", dir.display()),
            "check the --out path and its permissions",
        )
    })?;
    Ok(dir)
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Error::usage(
                format!("cannot start the async runtime: {e}"),
                "check the process limits",
            )
        })
}

/// Prints a finished run on stdout and returns its exit status.
fn finish(
    report: &crate::report::RunReport,
    dir: &Path,
    format: crate::cli::Format,
    out: Output,
) -> ExitStatus {
    match format {
        crate::cli::Format::Json => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe is the reader's choice; the report files are already written.
            let _ = crate::report::write_json(report, &mut stdout)
                .and_then(|()| std::io::Write::flush(&mut stdout));
        }
        crate::cli::Format::Human => {
            let text = crate::report::human_summary(report, Some(dir));
            if out.quiet {
                outln!("{}", text.lines().rev().nth(1).unwrap_or_default());
            } else {
                outln!("{text}");
            }
        }
    }
    report.verdict.into()
}
