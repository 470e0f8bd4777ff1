//! `driftgate run`: suite → provider → candidates → scores → verdicts → report → exit.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::judge::{CaseInfo, Pair, extension, fingerprint_changes, judge_case};
use super::{Output, finish, new_run_id, now_rfc3339, out_dir, runtime, selection};
use crate::cli::RunArgs;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::provider::Metadata;
use crate::report::{RunReport, RunStats, SuiteReport};
use crate::run::{Progress, Stats, execute_on, plan_all};
use crate::store::{Baselines, CaseEntry, Manifest};
use crate::suite::Suite;

/// A candidate written to the run folder (its relative path and what the provider
/// reported), or why there is none, with what the platform reported when its answer was
/// a mark on the sample rather than an image (`ProviderError::marked`).
type Outcome = Result<(String, Metadata), (String, Option<Box<Metadata>>)>;

/// Every selected case must have a baseline recorded for its current request, with
/// intact images; all problems are reported together before anything is sent.
pub(super) fn preflight(
    suites: &[Suite],
    store: &Baselines,
    selected: &[Vec<usize>],
) -> Result<Vec<Manifest>, Error> {
    let mut problems = Vec::new();
    let mut manifests = Vec::new();
    for (suite, cases) in suites.iter().zip(selected) {
        let Some(manifest) = store.open_manifest(&suite.id)? else {
            problems.push(format!(
                "suite `{}` has no baselines in {}",
                suite.id,
                store.describe()
            ));
            manifests.push(Manifest::new(&suite.id, serde_json::Value::Null));
            continue;
        };
        for &ci in cases {
            let case = &suite.cases[ci];
            let at = format!("{}:{}", suite.file.display(), case.line);
            match store.verify_case(&suite.id, &manifest, &case.id, &case.fingerprint(&suite.model)) {
                None => problems.push(format!("{at}: case `{}` has no baseline", case.id)),
                Some(b) if b.stale => problems.push(format!(
                    "{at}: baseline of case `{}` is stale: the suite entry changed since it was recorded; re-record it",
                    case.id
                )),
                Some(b) => problems.extend(b.problems.iter().map(ToString::to_string)),
            }
        }
        manifests.push(manifest);
    }
    if problems.is_empty() {
        Ok(manifests)
    } else {
        Err(Error::usage(
            problems.join("\n"),
            "record missing or stale baselines with `driftgate record [--force] [--case ID] SUITE`; restore altered files from version control",
        ))
    }
}

pub(super) fn print_plan(suites: &[Suite], selected: &[Vec<usize>], out: Output) {
    let mut total = 0u64;
    let mut images = 0u64;
    let mut cost = 0.0;
    for (suite, cases) in suites.iter().zip(selected) {
        // Images are what a platform bills; requests are what budgets and rate limits
        // count. A platform that returns several samples per request makes them differ.
        let batch = u64::from(crate::provider::max_batch(&suite.model));
        let (requests, n) = cases.iter().fold((0u64, 0u64), |(r, n), &c| {
            let k = u64::from(suite.cases[c].samples);
            (r + k.div_ceil(batch), n + k)
        });
        total += requests;
        images += n;
        if let Some(var) = crate::provider::missing_key(&suite.model) {
            outln!(
                "problem: suite {} needs {var}, which is not set; `run` and `record` will stop",
                suite.id
            );
        }
        let price = suite.model.price_per_image.unwrap_or(0.0);
        cost += price * n as f64;
        outln!(
            "suite {} ({} {}): {} cases, {requests} requests for {n} images, est. ${:.2}",
            suite.id,
            suite.model.provider.name(),
            suite.model.endpoint,
            cases.len(),
            price * n as f64
        );
        for &c in cases {
            let case = &suite.cases[c];
            out.detail(format!(
                "  {} x{} {}x{} seed {:?}",
                case.id, case.samples, case.size.width, case.size.height, case.seed
            ));
        }
    }
    outln!("dry run: {total} requests for {images} images, est. ${cost:.2}; nothing was sent");
}

pub(super) fn run(args: &RunArgs, out: Output) -> Result<ExitStatus, Error> {
    let started = Instant::now();
    let suites = crate::suite::load(&args.common.suites)?;
    let sel = selection(&args.common)?;
    let store = Baselines::open(&args.common.baselines, args.common.cache_dir.as_deref())?;
    let plans = plan_all(&suites, &sel);
    let selected: Vec<Vec<usize>> = plans.iter().map(|(c, _)| c.clone()).collect();
    if selected.iter().all(Vec::is_empty) {
        return Err(Error::usage(
            "no case matches the --case/--shard filters",
            "check the patterns against the case ids",
        ));
    }
    let manifests = preflight(&suites, &store, &selected)?;
    if let Some(line) = store.transfer_summary() {
        out.note(line);
    }
    if args.common.dry_run {
        print_plan(&suites, &selected, out);
        return Ok(ExitStatus::Pass);
    }
    let deadline = super::deadline(&args.common);
    let providers = suites
        .iter()
        .map(|s| {
            crate::provider::build_with(
                &s.model,
                &super::exec_options(&args.common, s, deadline, out).1,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let run_id = new_run_id();
    let dir = out_dir(args.out.as_deref(), &run_id)?;
    // Judged cases keep their samples on disk until the documents are written; without a
    // scratch file they simply stay in memory.
    let spill = crate::report::Spill::new_in(&dir).ok();
    let mut report = RunReport::begin(run_id, now_rfc3339(), Vec::new());
    let stats = Stats::default();
    let rt = runtime()?;
    // Ctrl-C stops sending but still judges what arrived and writes the report, marked
    // incomplete; a second Ctrl-C quits at once.
    let cancel = super::cancel_on_ctrl_c(
        &rt,
        "interrupted: writing the report with what arrived (Ctrl-C again to quit now)",
    );
    for (((suite, (cases, jobs)), mut manifest), provider) in
        suites.iter().zip(&plans).zip(manifests).zip(&providers)
    {
        let options = crate::run::ExecOptions {
            cancel: cancel.clone(),
            ..super::exec_options(&args.common, suite, deadline, out).0
        };
        out.note(format!(
            "{}: {} cases, {} to {}",
            suite.id,
            cases.len(),
            super::requests_and_images(jobs, &suite.model),
            suite.model.provider.name()
        ));
        let mut progress = Progress::new(&suite.id, jobs.len(), out.quiet);
        // Judges one case once all its samples are in. Its baseline entry is not needed
        // afterwards, so memory holds the entries of unjudged cases only.
        let mut judge = |ci: usize, mut results: Vec<(u32, Outcome)>| {
            let case = &suite.cases[ci];
            let entry = manifest.cases.remove(&case.id)?;
            results.sort_by_key(|(n, _)| *n);
            let metas: Vec<&Metadata> = results
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok().map(|(_, m)| m))
                .collect();
            let changes = fingerprint_changes(&entry.provider, &metas);
            let pairs = pairs_for(&store, &suite.id, &entry, &dir, results);
            let info = CaseInfo {
                suite: &suite.id,
                id: &case.id,
                prompt: &case.prompt,
                tags: &case.tags,
                params: serde_json::to_value(&case.params).unwrap_or_default(),
                thresholds: case.thresholds,
                // What `accept` checks the baseline against, and what the report shows.
                fingerprint: case.fingerprint(&suite.model),
                references: case.references.iter().map(|r| r.name.clone()).collect(),
            };
            let mut judged = judge_case(&dir, &info, pairs, changes);
            if let Some(spill) = &spill {
                judged.samples.spill_to(spill);
            }
            Some(judged)
        };
        // Candidates go to disk as they arrive, and a case is scored as soon as its last
        // sample is in, while the requests of other cases are still in flight.
        let mut pending: HashMap<usize, Vec<(u32, Outcome)>> = HashMap::new();
        // The suite's cases go straight into the report: collecting them first and moving
        // them over would hold a large suite's reports twice. The report's list grows as
        // the manifest's entries are dropped, rather than being reserved while the whole
        // manifest is still held.
        let first = report.cases.len();
        let judged = &mut report.cases;
        execute_on(&rt, provider, suite, jobs, &options, &stats, |f| {
            let case = &suite.cases[f.job.case];
            let outcome = f
                .result
                .map_err(|e| (e.to_string(), e.marked))
                .and_then(|g| {
                    let rel = format!(
                        "candidates/{}/{}/{}.{}",
                        suite.id,
                        case.id,
                        f.job.sample,
                        extension(&g.bytes)
                    );
                    crate::store::write_atomic(&dir.join(&rel), &g.bytes)
                        .map_err(|e| (format!("cannot write {rel}: {e}"), None))?;
                    Ok((rel, g.metadata))
                });
            progress.finished(
                &format!("{}/{} #{}", suite.id, case.id, f.job.sample),
                outcome.as_ref().err().map(|(e, _)| e.as_str()),
            );
            let samples = pending.entry(f.job.case).or_default();
            samples.push((f.job.sample, outcome));
            if samples.len() < case.samples as usize {
                return;
            }
            let done = pending.remove(&f.job.case).unwrap_or_default();
            judged.extend(judge(f.job.case, done));
        });
        progress.finish();
        let judged = &mut report.cases;
        // A case whose samples did not all come back (an interrupted run) is still
        // reported, never dropped.
        for &ci in cases {
            if judged[first..].iter().any(|c| c.id == suite.cases[ci].id) {
                continue;
            }
            let results = pending.remove(&ci).unwrap_or_default();
            if let Some(mut c) = judge(ci, results) {
                if c.samples.len() < suite.cases[ci].samples as usize {
                    c.verdict = crate::report::CaseVerdict::Error;
                    c.reasons.push("not every sample finished".into());
                }
                judged.push(c);
            }
        }
        let mut suite_changes = Vec::new();
        for case in &report.cases[first..] {
            for c in &case.fingerprint_changes {
                if !suite_changes.contains(c) {
                    suite_changes.push(c.clone());
                }
            }
        }
        report.suites.push(SuiteReport {
            suite: suite.id.clone(),
            model: serde_json::to_value(&suite.model).unwrap_or_default(),
            fingerprint_changes: suite_changes,
            fingerprint: suite_fingerprint(suite),
        });
    }
    report.stats = RunStats {
        requests: stats.requests.load(Ordering::SeqCst),
        images: stats.images.load(Ordering::SeqCst),
        retries: stats.retries.load(Ordering::SeqCst),
        duration_s: started.elapsed().as_secs_f64(),
        spend: Some(crate::report::Spend::tally(&report.cases, |id| {
            suites
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.model.price_per_image)
        })),
    };
    // What `merge` needs to decide a sharded night again as one.
    report.fdr = Some(args.fdr);
    report.shard = sel
        .shard
        .map(|(index, count)| crate::report::Shard { index, count });
    report.decide(args.fdr);
    report.finish();
    match (store.remote(), &args.history) {
        // A shard is part of a night: the merge writes the night's one history line.
        (_, None) if report.shard.is_some() => {
            super::report::write_with_history(&report, &dir, &[], args.format)?;
        }
        (Some(remote), None) => {
            super::report::write_run_report_remote(&report, &dir, remote, args.format)?;
        }
        _ => super::report::write_run_report(&report, &dir, args.history.as_deref(), args.format)?,
    }
    Ok(finish(&report, &dir, args.format, out))
}

/// sha256 over every case's id and request fingerprint, in file order: shards run from
/// the same suite file agree on it, whichever cases each selected.
fn suite_fingerprint(suite: &Suite) -> String {
    let cases: Vec<(&str, String)> = suite
        .cases
        .iter()
        .map(|c| (c.id.as_str(), c.fingerprint(&suite.model)))
        .collect();
    crate::digest::sha256_hex(
        serde_json::to_string(&(&suite.id, cases))
            .unwrap_or_default()
            .as_bytes(),
    )
}

fn pairs_for(
    store: &Baselines,
    suite: &str,
    entry: &CaseEntry,
    dir: &std::path::Path,
    results: Vec<(u32, Outcome)>,
) -> Vec<Pair> {
    results
        .into_iter()
        .map(|(n, r)| {
            let baseline = entry
                .images
                .get(n as usize)
                .ok_or_else(|| format!("no baseline sample {n}"))
                .and_then(|img| store.read_image(suite, img).map_err(|e| e.to_string()));
            let (candidate, provider) = match r {
                Ok((rel, meta)) => (
                    std::fs::read(dir.join(&rel))
                        .map(|b| (rel, b))
                        .map_err(|e| e.to_string()),
                    Some(meta),
                ),
                Err((e, marked)) => (Err(e), marked.map(|m| *m)),
            };
            Pair {
                index: n,
                baseline,
                candidate,
                provider,
            }
        })
        .collect()
}
