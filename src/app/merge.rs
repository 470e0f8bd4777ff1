//! `driftgate merge`: joins the shard runs of one night (`run --shard I/N`) into one run
//! folder and decides the verdicts again across all of them, so a night run as N shards
//! reads exactly as the same night run whole.
//!
//! A shard decides its cases with Benjamini–Hochberg over its own channels only, which
//! controls false discoveries per shard, not per night. Every shard's `run.json` keeps
//! each case's channel tests (`floors`: p-value, noise floor, whether the change is
//! outside it and noticeable), its suite limits broken and its degenerate samples, which
//! is all the run-wide decision reads; merging pools them and calls the same
//! [`crate::report::RunReport::decide`] an unsharded run calls.
//!
//! Two passes over the shard folders keep memory flat: the first reads each `run.json`'s
//! header and case ids and refuses shards that are not of one night, before anything is
//! written; the second streams the cases one at a time, links the images each case's
//! page shows into the merged folder and spills its samples to the scratch file, as
//! `run` does.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use serde::Deserialize;

use super::{Output, finish, new_run_id, out_dir};
use crate::cli::MergeArgs;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::report::{
    CaseReport, MergedShard, ReportError, RunReport, RunStats, Shard, Shards, Spill, SuiteReport,
    thumb_path,
};

/// A case as the first pass reads it: its key only.
#[derive(Debug, Deserialize)]
struct CaseKey {
    suite: String,
    id: String,
}

/// A shard's `run.json` without its cases' contents.
#[derive(Debug, Deserialize)]
struct Head {
    run_id: String,
    #[serde(default)]
    started_at: String,
    #[serde(default)]
    scorer_version: u32,
    suites: Vec<SuiteReport>,
    cases: Vec<CaseKey>,
    stats: RunStats,
    #[serde(default)]
    fdr: Option<f64>,
    #[serde(default)]
    shard: Option<Shard>,
}

/// A shard folder with its header, once it is known to be a shard run.
#[derive(Debug)]
struct ShardRun {
    dir: PathBuf,
    head: Head,
    shard: Shard,
    fdr: f64,
}

/// What the shards agree on, once checked.
#[derive(Debug, PartialEq)]
struct Night {
    count: usize,
    fdr: f64,
    scorer_version: u32,
    missing: Vec<usize>,
}

fn read_head(dir: &Path) -> Result<Head, ReportError> {
    let path = dir.join("run.json");
    let file = std::fs::File::open(&path).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    serde_json::from_reader(BufReader::new(file))
        .map_err(|source| ReportError::BadRunJson { path, source })
}

fn shown(dir: &Path) -> String {
    dir.display().to_string()
}

/// Every header must be a shard run's: a whole run or a merge has no shard to place.
fn shard_runs(dirs: &[PathBuf], heads: Vec<Head>) -> Result<Vec<ShardRun>, Error> {
    dirs.iter()
        .zip(heads)
        .map(|(dir, head)| match (head.shard, head.fdr) {
            (Some(shard), Some(fdr)) => Ok(ShardRun {
                dir: dir.clone(),
                head,
                shard,
                fdr,
            }),
            _ => Err(Error::usage(
                format!(
                    "{} is not a shard run: its run.json records no `shard`",
                    shown(dir)
                ),
                "merge the folders of `driftgate run --shard I/N --out DIR`, one per shard",
            )),
        })
        .collect()
}

const SAME_NIGHT: &str = "merge the shards of one night: the same suite files, driftgate and --fdr, each --shard I/N once";

/// Refuses shards that are not parts of one night; names the missing ones.
fn check(shards: &[ShardRun]) -> Result<Night, Error> {
    let Some(first) = shards.first() else {
        return Err(Error::usage("no shard run given", SAME_NIGHT));
    };
    let refuse = |message: String| Err(Error::usage(message, SAME_NIGHT));
    let suite_ids =
        |s: &ShardRun| -> Vec<String> { s.head.suites.iter().map(|x| x.suite.clone()).collect() };
    for s in &shards[1..] {
        let (a, b) = (shown(&first.dir), shown(&s.dir));
        if s.shard.count != first.shard.count {
            return refuse(format!(
                "shards of different splits: {a} is shard {}/{}, {b} is shard {}/{}",
                first.shard.index, first.shard.count, s.shard.index, s.shard.count
            ));
        }
        if suite_ids(s) != suite_ids(first) {
            return refuse(format!(
                "shards of different suites: {a} ran {}, {b} ran {}",
                suite_ids(first).join(", "),
                suite_ids(s).join(", ")
            ));
        }
        for (x, y) in first.head.suites.iter().zip(&s.head.suites) {
            if x.fingerprint != y.fingerprint {
                return refuse(format!(
                    "shards of different versions of suite `{}`: {a} and {b} have suite fingerprints {} and {}",
                    x.suite,
                    short(&x.fingerprint),
                    short(&y.fingerprint)
                ));
            }
        }
        if s.head.scorer_version != first.head.scorer_version {
            return refuse(format!(
                "shards of different scorer versions: {a} has scorer v{}, {b} v{}",
                first.head.scorer_version, s.head.scorer_version
            ));
        }
        if s.fdr.to_bits() != first.fdr.to_bits() {
            return refuse(format!(
                "shards decided at different --fdr: {a} at {}, {b} at {}",
                first.fdr, s.fdr
            ));
        }
    }
    let mut by_index: HashMap<usize, &Path> = HashMap::new();
    for s in shards {
        if let Some(other) = by_index.insert(s.shard.index, &s.dir) {
            return refuse(format!(
                "shard {}/{} given twice: {} and {}",
                s.shard.index,
                s.shard.count,
                shown(other),
                shown(&s.dir)
            ));
        }
    }
    let mut seen: HashMap<(&str, &str), &Path> = HashMap::new();
    for s in shards {
        for c in &s.head.cases {
            if let Some(other) = seen.insert((&c.suite, &c.id), &s.dir) {
                return Err(Error::usage(
                    format!(
                        "case `{}/{}` is in two shards: {} and {}",
                        c.suite,
                        c.id,
                        shown(other),
                        shown(&s.dir)
                    ),
                    "shards of one night never share a case: give each shard's folder once, from the same night",
                ));
            }
        }
    }
    let count = first.shard.count;
    Ok(Night {
        count,
        fdr: first.fdr,
        scorer_version: first.head.scorer_version,
        missing: (1..=count).filter(|i| !by_index.contains_key(i)).collect(),
    })
}

fn short(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}

/// Only plain relative paths inside the shard's folder are followed: `run.json` is input.
fn inside(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Makes `rel` of `from` present in `to`: a hard link where the file system allows,
/// else a copy. A source that is not there is left out, as the shard's own page did.
fn bring(from: &Path, to: &Path, rel: &str) -> std::io::Result<()> {
    let src = from.join(rel);
    let dst = to.join(rel);
    if !src.is_file() || dst.exists() {
        return Ok(());
    }
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::hard_link(&src, &dst).or_else(|_| std::fs::copy(&src, &dst).map(|_| ()))
}

/// Brings every image the case's page shows (and their thumbnails) into the merged
/// folder. A path leading out of the shard's folder is dropped, so the merged page
/// never points outside its own folder.
fn bring_images(from: &Path, to: &Path, case: &mut CaseReport) -> Result<(), String> {
    for s in case.samples.held_mut() {
        for slot in [&mut s.baseline, &mut s.candidate, &mut s.heatmap] {
            let Some(rel) = slot.as_deref() else {
                continue;
            };
            if !inside(rel) {
                eprintln!(
                    "warning: {}: case `{}/{}` names an image outside its folder ({rel}); left out",
                    shown(from),
                    case.suite,
                    case.id
                );
                *slot = None;
                continue;
            }
            for r in [rel.to_string(), thumb_path(rel)] {
                bring(from, to, &r).map_err(|e| {
                    format!(
                        "cannot bring {} into {}: {e}",
                        from.join(&r).display(),
                        to.display()
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// Streams a shard's cases into `each`. An error of `each` is returned as it is, not
/// as a malformed `run.json`.
fn stream_cases(
    dir: &Path,
    each: &mut dyn FnMut(CaseReport) -> Result<(), String>,
) -> Result<(), Error> {
    crate::report::stream_cases(dir, each)?
        .map_err(|e| Error::usage(e, "check the disk space and permissions of --out"))
}

/// The merged night, written nowhere yet: checks the shards, brings their images into
/// `dir`, and decides every case again across all shards.
fn join(dirs: &[PathBuf], out: Option<&Path>) -> Result<(RunReport, PathBuf), Error> {
    let heads = dirs
        .iter()
        .map(|d| read_head(d))
        .collect::<Result<Vec<_>, _>>()?;
    let mut shards = shard_runs(dirs, heads)?;
    let night = check(&shards)?;
    shards.sort_by_key(|s| s.shard.index);
    let run_id = new_run_id();
    let dir = out_dir(out, &run_id)?;
    let started_at = shards
        .iter()
        .map(|s| s.head.started_at.as_str())
        .filter(|s| !s.is_empty())
        .min()
        .unwrap_or_default()
        .to_string();
    let mut report = RunReport::begin(run_id, started_at, merged_suites(&shards));
    report.scorer_version = night.scorer_version;
    let spill = Spill::new_in(&dir).ok();
    for s in &shards {
        let cases = &mut report.cases;
        stream_cases(&s.dir, &mut |mut case| {
            bring_images(&s.dir, &dir, &mut case)?;
            if let Some(spill) = &spill {
                case.samples.spill_to(spill);
            }
            cases.push(case);
            Ok(())
        })?;
    }
    report.stats = merged_stats(&shards, &report);
    report.fdr = Some(night.fdr);
    report.shards = Some(Shards {
        count: night.count,
        merged: shards
            .iter()
            .map(|s| MergedShard {
                index: s.shard.index,
                run_id: s.head.run_id.clone(),
                started_at: s.head.started_at.clone(),
                dir: shown(&s.dir),
                cases: s.head.cases.len(),
            })
            .collect(),
        missing: night.missing,
    });
    report.decide(night.fdr);
    report.finish();
    Ok((report, dir))
}

/// The suites of the first shard, with every shard's reported build changes.
fn merged_suites(shards: &[ShardRun]) -> Vec<SuiteReport> {
    let mut suites = shards
        .first()
        .map(|s| s.head.suites.clone())
        .unwrap_or_default();
    for s in shards.iter().skip(1) {
        for (merged, other) in suites.iter_mut().zip(&s.head.suites) {
            for c in &other.fingerprint_changes {
                if !merged.fingerprint_changes.contains(c) {
                    merged.fingerprint_changes.push(c.clone());
                }
            }
        }
    }
    suites
}

/// Requests, images and retries add up; shards run side by side, so the night took as
/// long as its longest shard.
fn merged_stats(shards: &[ShardRun], report: &RunReport) -> RunStats {
    let sum = |f: fn(&RunStats) -> u64| shards.iter().map(|s| f(&s.head.stats)).sum::<u64>();
    RunStats {
        requests: sum(|s| s.requests),
        images: sum(|s| s.images),
        retries: sum(|s| s.retries),
        duration_s: shards
            .iter()
            .map(|s| s.head.stats.duration_s)
            .fold(0.0, f64::max),
        spend: Some(crate::report::Spend::tally(&report.cases, |id| {
            report
                .suites
                .iter()
                .find(|s| s.suite == id)
                .and_then(|s| s.model.get("price_per_image"))
                .and_then(serde_json::Value::as_f64)
        })),
    }
}

pub(super) fn merge(args: &MergeArgs, out: Output) -> Result<ExitStatus, Error> {
    let started = Instant::now();
    let (report, dir) = join(&args.run_dirs, args.out.as_deref())?;
    if let Some(line) = report.shards.as_ref().and_then(Shards::missing_line) {
        eprintln!("warning: {line}");
    }
    let store = args
        .baselines
        .as_deref()
        .map(|b| crate::store::Baselines::open(b, args.cache_dir.as_deref()))
        .transpose()?;
    match (store.as_ref().and_then(|s| s.remote()), &args.history) {
        (Some(remote), None) => {
            super::report::write_run_report_remote(&report, &dir, remote, args.format)?;
        }
        _ => super::report::write_run_report(&report, &dir, args.history.as_deref(), args.format)?,
    }
    if let Some(s) = &report.shards {
        out.note(format!(
            "merged {} of {} shards, {} cases, in {:.1}s",
            s.merged.len(),
            s.count,
            report.cases.len(),
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(finish(&report, &dir, args.format, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CaseVerdict, SampleReport};
    use crate::verdict::{Channel, test_mean};

    fn head(index: usize, count: usize, cases: &[&str]) -> Head {
        Head {
            run_id: format!("r{index}"),
            started_at: format!("2026-12-01T00:0{index}:00Z"),
            scorer_version: 2,
            suites: vec![SuiteReport {
                suite: "s".into(),
                model: serde_json::Value::Null,
                fingerprint_changes: Vec::new(),
                fingerprint: "f".repeat(64),
            }],
            cases: cases
                .iter()
                .map(|id| CaseKey {
                    suite: "s".into(),
                    id: (*id).into(),
                })
                .collect(),
            stats: RunStats::default(),
            fdr: Some(0.01),
            shard: Some(Shard { index, count }),
        }
    }

    fn runs(heads: Vec<Head>) -> Vec<ShardRun> {
        let dirs: Vec<PathBuf> = (0..heads.len())
            .map(|i| PathBuf::from(format!("shard{i}")))
            .collect();
        shard_runs(&dirs, heads).unwrap()
    }

    fn refusal(heads: Vec<Head>) -> String {
        match check(&runs(heads)) {
            Err(Error::Usage { message, .. }) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_whole_night_checks_and_a_gap_is_named() {
        let night = check(&runs(vec![head(2, 3, &["b"]), head(1, 3, &["a"])])).unwrap();
        assert_eq!(
            night,
            Night {
                count: 3,
                fdr: 0.01,
                scorer_version: 2,
                missing: vec![3]
            }
        );
        let shards = Shards {
            count: 4,
            merged: Vec::new(),
            missing: vec![2, 4],
        };
        assert_eq!(
            shards.missing_line().unwrap(),
            "shards 2, 4 of 4 are missing: their cases were not run or not merged"
        );
    }

    #[test]
    fn shards_of_different_nights_are_refused() {
        let mut other_suite = head(2, 2, &["b"]);
        other_suite.suites[0].suite = "t".into();
        assert!(
            refusal(vec![head(1, 2, &["a"]), other_suite])
                .starts_with("shards of different suites")
        );
        let mut edited = head(2, 2, &["b"]);
        edited.suites[0].fingerprint = "e".repeat(64);
        assert!(
            refusal(vec![head(1, 2, &["a"]), edited]).contains("different versions of suite `s`")
        );
        let mut scorer = head(2, 2, &["b"]);
        scorer.scorer_version = 3;
        assert!(refusal(vec![head(1, 2, &["a"]), scorer]).contains("scorer v2, shard1 v3"));
        let mut fdr = head(2, 2, &["b"]);
        fdr.fdr = Some(0.05);
        assert!(refusal(vec![head(1, 2, &["a"]), fdr]).contains("at 0.01, shard1 at 0.05"));
        assert!(
            refusal(vec![head(1, 2, &["a"]), head(2, 3, &["b"])])
                .starts_with("shards of different splits")
        );
        assert!(refusal(vec![head(1, 2, &["a"]), head(1, 2, &["b"])]).contains("given twice"));
        assert_eq!(
            refusal(vec![head(1, 2, &["a", "b"]), head(2, 2, &["b"])]),
            "case `s/b` is in two shards: shard0 and shard1"
        );
    }

    #[test]
    fn a_run_without_a_shard_record_is_not_merged() {
        let mut whole = head(1, 1, &["a"]);
        whole.shard = None;
        let e = shard_runs(&[PathBuf::from("night")], vec![whole]).unwrap_err();
        assert!(e.to_string().starts_with("night is not a shard run"), "{e}");
    }

    #[test]
    fn only_plain_relative_paths_are_followed() {
        assert!(inside("candidates/s/a/0.png"));
        assert!(!inside("../shard2/candidates/s/a/0.png"));
        assert!(!inside("/etc/passwd"));
        assert!(!inside(""));
    }

    /// A case with one channel at p-value `p`, outside its noise floor and noticeable,
    /// decided alone with the verdict its shard gave it.
    fn case(id: &str, p: f64, verdict: CaseVerdict) -> CaseReport {
        let mut t = test_mean(Channel::YellowBlue, &[1.0, 1.2, 0.9], &[4.1, 4.0, 4.3]).unwrap();
        t.p_value = p;
        t.significant = verdict == CaseVerdict::Drift;
        let sample = |i| SampleReport {
            index: i,
            baseline: Some(format!("baselines/s/{id}/{i}.jpg")),
            baseline_sha256: None,
            candidate: Some(format!("candidates/s/{id}/{i}.png")),
            heatmap: None,
            metrics: Some(crate::score::Metrics {
                ssim: 0.99,
                ssim_rgb: 0.99,
                phash: 0,
                dhash: 0,
                delta_e: 0.5,
                delta_e_p95: 1.0,
                lab_shift: crate::score::LabShift {
                    dl: 0.0,
                    da: 0.0,
                    db: 0.0,
                },
                palette_delta_e: 0.0,
                chroma_shift: 0.0,
            }),
            size_change: None,
            base_palette: Vec::new(),
            cand_palette: Vec::new(),
            provider: None,
            error: None,
        };
        CaseReport {
            suite: "s".into(),
            id: id.into(),
            verdict,
            reasons: Vec::new(),
            prompt: String::new(),
            tags: Vec::new(),
            params: serde_json::Value::Null,
            thresholds: crate::suite::Thresholds::default(),
            fingerprint_changes: Vec::new(),
            samples: vec![sample(0), sample(1)].into(),
            fingerprint: "c".into(),
            references: Vec::new(),
            floors: vec![t],
            limit_reasons: Vec::new(),
            degenerate: Vec::new(),
            baseline_samples: 2,
        }
    }

    fn write_shard(root: &Path, index: usize, cases: Vec<CaseReport>) -> PathBuf {
        let dir = root.join(format!("shard{index}"));
        let mut r = RunReport::begin(format!("r{index}"), String::new(), head(1, 1, &[]).suites);
        r.fdr = Some(0.01);
        r.shard = Some(Shard { index, count: 2 });
        for c in &cases {
            for s in c.samples.get().iter() {
                for rel in [&s.baseline, &s.candidate].into_iter().flatten() {
                    crate::store::write_atomic(&dir.join(rel), b"image").unwrap();
                }
            }
        }
        r.cases = cases;
        let mut json = Vec::new();
        crate::report::write_json(&r, &mut json).unwrap();
        crate::store::write_atomic(&dir.join("run.json"), &json).unwrap();
        dir
    }

    #[test]
    fn verdicts_are_decided_again_across_the_shards() {
        // Alone, shard 1's p = 0.004 survives a 1% false-discovery rate (0.004 <= 0.01);
        // pooled with shard 2's 19 quiet channels it needs p <= 0.01/20 and does not.
        let t = tempfile::tempdir().unwrap();
        let one = write_shard(t.path(), 1, vec![case("a", 0.004, CaseVerdict::Drift)]);
        let quiet = (0..19)
            .map(|i| case(&format!("q{i}"), 0.5, CaseVerdict::Pass))
            .collect();
        let two = write_shard(t.path(), 2, quiet);
        let out = t.path().join("night");
        let (report, dir) = join(&[two, one], Some(&out)).unwrap();
        assert_eq!(dir, out);
        assert_eq!(report.cases.len(), 20);
        assert!(report.cases.iter().all(|c| c.verdict == CaseVerdict::Pass));
        assert!(report.cases.iter().all(|c| !c.floors[0].significant));
        let shards = report.shards.as_ref().unwrap();
        assert_eq!(
            shards.merged.iter().map(|s| s.index).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(shards.missing.is_empty());
        // The merged folder holds the images its cases name, not links out of it.
        assert!(out.join("candidates/s/a/1.png").is_file());
        assert!(out.join("baselines/s/q18/0.jpg").is_file());
    }

    #[test]
    fn a_missing_shard_leaves_the_night_incomplete() {
        let t = tempfile::tempdir().unwrap();
        let one = write_shard(t.path(), 1, vec![case("a", 0.5, CaseVerdict::Pass)]);
        let (report, _) = join(&[one], Some(&t.path().join("night"))).unwrap();
        assert_eq!(report.shards.as_ref().unwrap().missing, [2]);
        assert_eq!(report.verdict, crate::report::RunVerdict::Incomplete);
    }
}
