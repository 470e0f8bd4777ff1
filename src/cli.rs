//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Catches silent drift in hosted image models: replays a pinned suite, scores the
/// outputs against stored baselines, and gates CI on the result.
///
/// Exit status: 0 every case passed; 1 drift found; 2 usage, suite or baseline error
/// (nothing judged); 3 incomplete (provider or network failures left cases unjudged).
#[derive(Debug, Parser)]
#[command(name = "driftgate", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Print less (only errors and the summary line).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more (-v per-case lines, -vv request details).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay suites, score against baselines, write the report.
    Run(RunArgs),
    /// Call the provider and store baselines (never overwrites without --force).
    Record(RecordArgs),
    /// Score two folders laid out <case-id>/<n>.<png|jpg|webp>, no provider, no suite.
    Compare(CompareArgs),
    /// Validate suites and baselines without calling any provider.
    Check(CheckArgs),
    /// Promote a run's candidates to baselines (all cases, or --case GLOB).
    Accept(AcceptArgs),
    /// Re-render index.html, junit.xml and summary.md from a run's run.json.
    Report(ReportArgs),
    /// Join the shard runs of one night (run --shard I/N) into one run folder, deciding
    /// the verdicts again across every shard.
    Merge(MergeArgs),
    /// Print the JSON Schema of the suite format.
    Schema,
    /// List the hosted providers, their key variable (set or not) and API host.
    Providers,
    /// Scaffold a suite, a refs/ folder, a nightly GitHub workflow and the reports'
    /// .gitignore; never overwrites a file.
    Init(InitArgs),
    /// Print shell completions for bash, zsh, fish, powershell or elvish.
    Completions(CompletionsArgs),
    /// Copy baselines between a local folder and object storage (push or pull).
    Baselines(BaselinesArgs),
}

/// Output format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// One line per case that did not pass, then a summary line.
    #[default]
    Human,
    /// The run.json document.
    Json,
}

/// Options shared by commands that call a provider.
#[derive(Debug, Clone, Args)]
pub struct ProviderArgs {
    /// Suite files or folders of *.yaml suites.
    #[arg(required = true, value_name = "SUITE")]
    pub suites: Vec<PathBuf>,
    /// Baseline store: a folder, or s3://bucket/prefix, gs://bucket/prefix, az://container/prefix.
    #[arg(long, value_name = "DIR|URL", default_value = "baselines")]
    pub baselines: PathBuf,
    /// Where images of remote baselines are cached. Default: the platform's cache folder
    /// (e.g. ~/.cache/driftgate).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Only cases whose id matches this glob (repeatable).
    #[arg(long = "case", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// Run shard I of N (1-based), e.g. 2/4.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Requests in flight at once. Default: per provider (fal and Replicate 8, others 4).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Stop sending after N requests (retries count); unsent cases are reported unjudged.
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,
    /// Print the plan and call nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop after this many seconds: unfinished samples are reported unjudged and queued
    /// provider jobs are cancelled.
    #[arg(long, value_name = "SECONDS")]
    pub deadline: Option<f64>,
    /// Longest time one HTTP request may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 180.0)]
    pub timeout: f64,
    /// First retry delay in milliseconds (doubles per attempt, with jitter).
    #[arg(long, value_name = "MS", default_value_t = 250, hide = true)]
    pub retry_base_ms: u64,
}

/// `driftgate run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suites and provider options.
    #[command(flatten)]
    pub common: ProviderArgs,
    /// Report folder. Default: reports/<run-id>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Target false-discovery rate across all cases and metrics of the run.
    #[arg(long, value_name = "RATE", default_value_t = crate::verdict::DEFAULT_FDR, value_parser = parse_fdr)]
    pub fdr: f64,
    /// Trend history to append this run to. Default: history.jsonl beside the run
    /// folder when that folder is inside `reports/`, else none.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

/// `driftgate record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Suites and provider options.
    #[command(flatten)]
    pub common: ProviderArgs,
    /// Overwrite existing baselines.
    #[arg(long)]
    pub force: bool,
}

/// `driftgate compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Folder of baseline images, <case-id>/<n>.<png|jpg|webp>.
    pub base: PathBuf,
    /// Folder of candidate images, same layout.
    pub cand: PathBuf,
    /// Report folder. Default: reports/<run-id>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Target false-discovery rate across all cases and metrics of the run.
    #[arg(long, value_name = "RATE", default_value_t = crate::verdict::DEFAULT_FDR, value_parser = parse_fdr)]
    pub fdr: f64,
}

/// `driftgate check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Suite files or folders of *.yaml suites.
    #[arg(required = true, value_name = "SUITE")]
    pub suites: Vec<PathBuf>,
    /// Baseline store: a folder, or s3://bucket/prefix, gs://bucket/prefix, az://container/prefix.
    #[arg(long, value_name = "DIR|URL", default_value = "baselines")]
    pub baselines: PathBuf,
    /// Where images of remote baselines are cached. Default: the platform's cache folder.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// `driftgate report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run folder holding run.json.
    pub run_dir: PathBuf,
    /// Trend history to draw from. Default: history.jsonl beside the run folder when
    /// that folder is inside `reports/`.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

/// `driftgate merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard run folders, each holding the run.json of a `run --shard I/N`.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub run_dirs: Vec<PathBuf>,
    /// Report folder of the merged run. Default: reports/<run-id>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Trend history to append the merged night to. Default: the history in the baseline
    /// store when --baselines is remote, else history.jsonl beside the run folder when that
    /// folder is inside `reports/`, else none.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// The night's baseline store, when remote (s3://, gs://, az://): the merged night's
    /// history line goes to the history kept there, as `run` would have written it. A
    /// folder here changes nothing: merge reads no baseline.
    #[arg(long, value_name = "DIR|URL")]
    pub baselines: Option<PathBuf>,
    /// Where images of remote baselines are cached. Default: the platform's cache folder.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// `driftgate accept`.
#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// A run folder holding run.json and the run's candidates.
    pub run_dir: PathBuf,
    /// Only cases whose id (or suite/id) matches this glob (repeatable). Default: every case.
    #[arg(long = "case", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// Why the new look is approved; stored in the manifest.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Baseline store: a folder, or s3://bucket/prefix, gs://bucket/prefix, az://container/prefix.
    #[arg(long, value_name = "DIR|URL", default_value = "baselines")]
    pub baselines: PathBuf,
    /// Where images of remote baselines are cached. Default: the platform's cache folder.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// `driftgate baselines`.
#[derive(Debug, Args)]
pub struct BaselinesArgs {
    /// Which way to copy.
    #[command(subcommand)]
    pub action: BaselinesAction,
}

/// `driftgate baselines push|pull`.
#[derive(Debug, Subcommand)]
pub enum BaselinesAction {
    /// Copy a local baseline folder's suites into a remote store.
    Push(TransferArgs),
    /// Copy a remote store's suites into a local baseline folder.
    Pull(TransferArgs),
}

/// The two ends of `driftgate baselines push|pull`.
#[derive(Debug, Args)]
pub struct TransferArgs {
    /// The local baseline folder.
    #[arg(value_name = "LOCAL")]
    pub local: PathBuf,
    /// The remote store: s3://bucket/prefix, gs://bucket/prefix or az://container/prefix.
    #[arg(value_name = "REMOTE")]
    pub remote: PathBuf,
    /// Only these suites (repeatable). Default: every suite with a manifest.
    #[arg(long = "suite", value_name = "ID")]
    pub suites: Vec<String>,
    /// Where images of the remote store are cached. Default: the platform's cache folder.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// The providers `driftgate init` can scaffold a suite for: `folder` is left out, since
/// its suite points at images that only the user has.
pub const INIT_PROVIDERS: &[&str] = &[
    "sim",
    "fal",
    "openrouter",
    "replicate",
    "ark",
    "openai",
    "wavespeed",
    "atlascloud",
];

/// `driftgate init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The platform the suite calls. Default: sim, which runs offline.
    #[arg(long, value_name = "P", default_value = "sim",
          value_parser = clap::builder::PossibleValuesParser::new(INIT_PROVIDERS))]
    pub provider: String,
    /// The project folder to scaffold into.
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

/// `driftgate completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

fn parse_fdr(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v < 1.0 => Ok(v),
        _ => Err(format!("`{s}` is not a rate between 0 and 1 (e.g. 0.01)")),
    }
}
