//! `run.json`: the machine contract, and the only input of every other format.
//!
//! Fields keep their names; additions are free, renames bump `schema_version`.
//! - `schema_version` (1), `run_id`, `verdict` (`pass` | `drift` | `incomplete`),
//!   `started_at` (RFC 3339), `driftgate_version`, `scorer_version`.
//! - `suites[]`: `suite`, `model` (the pin), `fingerprint_changes[]`.
//! - `cases[]`: `suite`, `id`, `verdict` (`pass` | `drift` | `inconclusive` | `error`),
//!   `reasons[]`, `prompt`, `tags`, `params`, `thresholds`, `fingerprint_changes[]`,
//!   `samples[]` with `index`, `baseline`, `candidate`, `heatmap` (paths relative to the
//!   run folder), `metrics` (see `score::Metrics`), `size_change`, `provider` (with
//!   `platform_mark` when the platform marked the sample), `error`; `degenerate[]` (the
//!   samples that are drift by themselves, each named, marked ones first);
//!   `fingerprint` (the request fingerprint the run was made for, compared by `accept`),
//!   `references` (as written in the suite), `floors[]` (the noise floor per metric; the `local`
//!   entry also has `region`: `x`, `y`, `w`, `h` as fractions of the frame, `name`,
//!   `change` (`new` | `changed` | `gone`), `samples`).
//! - `stats`: `requests`, `retries`, `duration_s`, `spend` (see `Spend`).
//! - `fdr`: the false-discovery rate the verdicts were decided at (`--fdr`).
//! - `shard` (a `run --shard I/N`): `index`, `count`. `shards` (a `merge`): `count`,
//!   `merged[]` (`index`, `run_id`, `started_at`, `dir`, `cases`), `missing[]` (indices).
//! - `suites[].fingerprint`: sha256 over the suite's case ids and request fingerprints, in
//!   file order: shards of one night agree on it.

use serde::{Deserialize, Serialize};

pub use super::sample::SampleReport;
use super::spill::Samples;

use crate::exit::ExitStatus;
use crate::suite::Thresholds;
use crate::verdict::{CaseEvidence, ChannelTest, Decision, Outcome};

/// Current `run.json` schema.
pub const SCHEMA_VERSION: u32 = 1;

/// A case's verdict, in severity order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseVerdict {
    /// Inside the thresholds and the noise floor.
    Pass,
    /// Too few samples to tell.
    Inconclusive,
    /// The provider or the files failed; nothing was judged.
    Error,
    /// Outside the thresholds or the noise floor.
    Drift,
}

impl From<Outcome> for CaseVerdict {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Pass => Self::Pass,
            Outcome::Inconclusive => Self::Inconclusive,
            Outcome::Drift => Self::Drift,
        }
    }
}

impl CaseVerdict {
    /// Lowercase name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Inconclusive => "inconclusive",
            Self::Error => "error",
            Self::Drift => "drift",
        }
    }
}

/// The whole run's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunVerdict {
    /// Every case passed.
    Pass,
    /// At least one case drifted.
    Drift,
    /// Some cases could not be judged and none drifted.
    Incomplete,
}

impl From<RunVerdict> for ExitStatus {
    fn from(v: RunVerdict) -> Self {
        match v {
            RunVerdict::Pass => Self::Pass,
            RunVerdict::Drift => Self::Drift,
            RunVerdict::Incomplete => Self::Incomplete,
        }
    }
}

/// A provider-reported value that differs from the baseline's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintChange {
    /// Which value (`model`, or a header name).
    pub field: String,
    /// At record time.
    pub baseline: Option<String>,
    /// Now.
    pub candidate: Option<String>,
}

/// One case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    /// Suite id.
    pub suite: String,
    /// Case id.
    pub id: String,
    /// The verdict.
    pub verdict: CaseVerdict,
    /// Why, in words.
    pub reasons: Vec<String>,
    /// The prompt.
    #[serde(default)]
    pub prompt: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Provider parameters.
    #[serde(default)]
    pub params: serde_json::Value,
    /// Limits in force.
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Provider-reported values that changed since the baseline.
    #[serde(default)]
    pub fingerprint_changes: Vec<FingerprintChange>,
    /// The sample pairs.
    pub samples: Samples,
    /// Request fingerprint the run was made for (sha256 of the canonical request).
    /// `accept` refuses a case whose baseline was recorded for another one.
    /// Default: empty (runs of older driftgates, and `compare`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
    /// Reference images, as written in the suite. Default: empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Per channel: the candidates' value against the baselines' noise floor.
    #[serde(default)]
    pub floors: Vec<ChannelTest>,
    /// Absolute suite limits the case breaks.
    #[serde(default)]
    pub limit_reasons: Vec<String>,
    /// Candidate samples that are drift on their own, each named: one the platform
    /// marked (first), a flat image, another size or aspect than the baselines'.
    /// Default: empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub degenerate: Vec<String>,
    /// Baseline samples available.
    #[serde(default)]
    pub baseline_samples: usize,
}

impl CaseReport {
    /// What the run-wide decision needs of this case; `None` when it could not be judged.
    #[must_use]
    pub fn evidence(&self) -> Option<CaseEvidence<'_>> {
        (self.verdict != CaseVerdict::Error).then(|| CaseEvidence {
            tests: &self.floors,
            limit_reasons: &self.limit_reasons,
            degenerate: &self.degenerate,
            baseline_samples: self.baseline_samples,
            scored: self
                .samples
                .get()
                .iter()
                .filter(|s| s.metrics.is_some())
                .count(),
        })
    }

    /// Takes the run-wide decision: which channels are significant, the verdict, and why.
    pub fn apply(&mut self, decision: Decision) {
        for (f, significant) in self.floors.iter_mut().zip(decision.significant) {
            f.significant = significant;
        }
        self.verdict = decision.outcome.into();
        self.reasons = decision.reasons;
    }

    /// This case with its samples in memory: a copy when they were spilled, so a
    /// renderer that looks at them several times reads them back once.
    #[must_use]
    pub fn held(&self) -> std::borrow::Cow<'_, Self> {
        match &self.samples {
            Samples::Held(_) => std::borrow::Cow::Borrowed(self),
            Samples::Spilled { .. } => std::borrow::Cow::Owned(Self {
                samples: Samples::Held(self.samples.get().into_owned()),
                ..self.clone()
            }),
        }
    }
}

/// One suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// Suite id.
    pub suite: String,
    /// The pin.
    pub model: serde_json::Value,
    /// Provider-reported values that changed since the baseline, over all cases.
    pub fingerprint_changes: Vec<FingerprintChange>,
    /// sha256 over every case's id and request fingerprint, in file order, selected or
    /// not: `merge` joins only shards run from the same suite. Default: empty (older
    /// runs, `compare`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
}

/// Which shard of a night a run is (`run --shard I/N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based shard number (I).
    pub index: usize,
    /// Shards in the night (N).
    pub count: usize,
}

/// One shard run a merged run joins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedShard {
    /// 1-based shard number.
    pub index: usize,
    /// The shard run's id.
    pub run_id: String,
    /// The shard run's start time.
    #[serde(default)]
    pub started_at: String,
    /// The shard's folder, as given to `merge`.
    pub dir: String,
    /// Cases the shard judged.
    pub cases: usize,
}

/// The shards a merged run joins (`driftgate merge`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shards {
    /// Shards in the night (N).
    pub count: usize,
    /// The shard runs merged, by shard number.
    pub merged: Vec<MergedShard>,
    /// Shard numbers not given: their cases are not in the run, which is then incomplete
    /// unless drift was found. Default: empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<usize>,
}

impl Shards {
    /// "shard 3 of 4 is missing", or `None` when every shard is in.
    #[must_use]
    pub fn missing_line(&self) -> Option<String> {
        let list = match self.missing.as_slice() {
            [] => return None,
            [one] => format!("shard {one}"),
            many => format!(
                "shards {}",
                many.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let verb = if self.missing.len() == 1 { "is" } else { "are" };
        Some(format!(
            "{list} of {} {verb} missing: {} cases were not run or not merged",
            self.count,
            if self.missing.len() == 1 {
                "its"
            } else {
                "their"
            }
        ))
    }
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Images those requests asked for: more than `requests` where a platform returns
    /// several samples per request. Absent from runs written before batching.
    #[serde(default)]
    pub images: u64,
    /// Retries.
    pub retries: u64,
    /// Wall time in seconds.
    pub duration_s: f64,
    /// Estimated and platform-reported cost. Default: none (older runs, `compare`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend: Option<super::spend::Spend>,
}

/// The whole run: `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Schema of this document.
    pub schema_version: u32,
    /// Run id, also the default folder name.
    pub run_id: String,
    /// The overall verdict.
    pub verdict: RunVerdict,
    /// RFC 3339 start time.
    #[serde(default)]
    pub started_at: String,
    /// Version of driftgate that ran.
    #[serde(default)]
    pub driftgate_version: String,
    /// Scoring definitions.
    #[serde(default)]
    pub scorer_version: u32,
    /// Suites.
    pub suites: Vec<SuiteReport>,
    /// Cases, most severe first.
    pub cases: Vec<CaseReport>,
    /// Counters.
    pub stats: RunStats,
    /// False-discovery rate the verdicts were decided at. Default: none (older runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fdr: Option<f64>,
    /// Which shard of a night this run is. Default: none (a whole run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The shard runs this merged run joins. Default: none (not a merge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<Shards>,
}

impl RunStats {
    /// "N requests", or "N requests for M images" when a platform returned several
    /// samples per request.
    #[must_use]
    pub fn requests_label(&self) -> String {
        if self.images > self.requests {
            format!("{} requests for {} images", self.requests, self.images)
        } else {
            format!("{} requests", self.requests)
        }
    }
}

impl RunReport {
    /// A run's report before its cases: the current schema and versions, verdict `pass`
    /// until [`RunReport::finish`] derives it.
    #[must_use]
    pub fn begin(run_id: String, started_at: String, suites: Vec<SuiteReport>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            run_id,
            verdict: RunVerdict::Pass,
            started_at,
            driftgate_version: env!("CARGO_PKG_VERSION").to_string(),
            scorer_version: crate::score::SCORER_VERSION,
            suites,
            cases: Vec::new(),
            stats: RunStats::default(),
            fdr: None,
            shard: None,
            shards: None,
        }
    }

    /// Decides every judged case at false-discovery rate `fdr` (see
    /// [`crate::verdict::decide`]); cases in `error` stay so.
    pub fn decide(&mut self, fdr: f64) {
        let decisions = {
            let evidence: Vec<_> = self.cases.iter().map(CaseReport::evidence).collect();
            crate::verdict::decide(&evidence, fdr)
        };
        for (case, decision) in self.cases.iter_mut().zip(decisions) {
            if let Some(d) = decision {
                case.apply(d);
            }
        }
    }

    /// Sorts cases by severity and derives the overall verdict from them.
    pub fn finish(&mut self) {
        self.cases.sort_by(|a, b| {
            b.verdict
                .cmp(&a.verdict)
                .then_with(|| a.suite.cmp(&b.suite))
                .then_with(|| a.id.cmp(&b.id))
        });
        let worst = self.cases.iter().map(|c| c.verdict).max();
        self.verdict = match worst {
            Some(CaseVerdict::Drift) => RunVerdict::Drift,
            Some(CaseVerdict::Error | CaseVerdict::Inconclusive) => RunVerdict::Incomplete,
            // A night with a shard missing was not judged whole, as for unjudged cases.
            _ if self.shards.as_ref().is_some_and(|s| !s.missing.is_empty()) => {
                RunVerdict::Incomplete
            }
            _ => RunVerdict::Pass,
        };
    }

    /// Number of cases with this verdict.
    #[must_use]
    pub fn count(&self, verdict: CaseVerdict) -> usize {
        self.cases.iter().filter(|c| c.verdict == verdict).count()
    }
}

impl super::spend::Spend {
    /// Sums the cases' candidate samples; `price` gives a suite's `price_per_image`.
    #[must_use]
    pub fn tally(cases: &[CaseReport], price: impl Fn(&str) -> Option<f64>) -> Self {
        let mut s = Self::default();
        for case in cases {
            let unit = price(&case.suite);
            // A sample the platform filtered out came back without an image to bill.
            for meta in case.samples.get().iter().filter_map(|x| {
                x.provider
                    .as_ref()
                    .filter(|m| x.candidate.is_some() || m.platform_mark.is_none())
            }) {
                s.add(unit, meta);
            }
        }
        s
    }
}
