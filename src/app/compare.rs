//! `driftgate compare BASE CAND`: score two folders of `<case>/<n>.<ext>` images with no
//! suite and no provider.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::judge::{CaseInfo, Pair, judge_case};
use super::{Output, finish, new_run_id, now_rfc3339, out_dir};
use crate::cli::CompareArgs;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::provider::EXTENSIONS;
use crate::report::{RunReport, SuiteReport};
use crate::suite::Thresholds;

/// The sample images of a case folder, by index.
fn samples(dir: &Path) -> Vec<(u32, PathBuf)> {
    let mut out: Vec<(u32, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let ext = p.extension()?.to_str()?.to_ascii_lowercase();
            let n = p.file_stem()?.to_str()?.parse().ok()?;
            EXTENSIONS.contains(&ext.as_str()).then_some((n, p))
        })
        .collect();
    out.sort();
    out.dedup_by_key(|(n, _)| *n);
    out
}

fn case_dirs(root: &Path) -> Result<BTreeSet<String>, Error> {
    let entries = fs::read_dir(root).map_err(|e| {
        Error::usage(
            format!("cannot read {}: {e}", root.display()),
            "pass two folders laid out <case-id>/<n>.<png|jpg|webp>",
        )
    })?;
    Ok(entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect())
}

pub(super) fn compare(args: &CompareArgs, out: Output) -> Result<ExitStatus, Error> {
    let started = Instant::now();
    let base_cases = case_dirs(&args.base)?;
    let cand_cases = case_dirs(&args.cand)?;
    if base_cases.is_empty() {
        return Err(Error::usage(
            format!("{} holds no case folders", args.base.display()),
            "lay images out as <case-id>/<n>.<png|jpg|webp>",
        ));
    }
    let run_id = new_run_id();
    let dir = out_dir(args.out.as_deref(), &run_id)?;
    // As in `run`: judged samples wait on disk for the documents.
    let spill = crate::report::Spill::new_in(&dir).ok();
    let suite = "compare";
    let thresholds = Thresholds::default();
    let mut report = RunReport::begin(
        run_id,
        now_rfc3339(),
        vec![SuiteReport {
            suite: suite.into(),
            model: serde_json::json!({ "base": args.base.display().to_string(), "cand": args.cand.display().to_string() }),
            fingerprint_changes: Vec::new(),
            fingerprint: String::new(),
        }],
    );
    for id in base_cases.union(&cand_cases) {
        let base = samples(&args.base.join(id));
        let cand = samples(&args.cand.join(id));
        let indices: BTreeSet<u32> = base.iter().chain(&cand).map(|(n, _)| *n).collect();
        let pairs = indices
            .into_iter()
            .map(|n| {
                let find =
                    |v: &[(u32, PathBuf)]| v.iter().find(|(i, _)| *i == n).map(|(_, p)| p.clone());
                let baseline = find(&base)
                    .ok_or_else(|| {
                        format!("no baseline image {n} in {}", args.base.join(id).display())
                    })
                    .and_then(|p| fs::read(&p).map_err(|e| e.to_string()));
                let candidate = find(&cand)
                    .ok_or_else(|| {
                        format!("no candidate image {n} in {}", args.cand.join(id).display())
                    })
                    .and_then(|p| {
                        let bytes = fs::read(&p).map_err(|e| e.to_string())?;
                        let rel = format!(
                            "candidates/{suite}/{id}/{n}.{}",
                            super::judge::extension(&bytes)
                        );
                        crate::store::write_atomic(&dir.join(&rel), &bytes)
                            .map_err(|e| e.to_string())?;
                        Ok((rel, bytes))
                    });
                Pair {
                    index: n,
                    baseline,
                    candidate,
                    provider: None,
                }
            })
            .collect();
        let info = CaseInfo {
            suite,
            id,
            prompt: "",
            tags: &[],
            params: serde_json::Value::Null,
            thresholds,
            fingerprint: String::new(),
            references: Vec::new(),
        };
        let mut case = judge_case(&dir, &info, pairs, Vec::new());
        if let Some(spill) = &spill {
            case.samples.spill_to(spill);
        }
        out.detail(format!("{id}: {}", case.verdict.name()));
        report.cases.push(case);
    }
    report.stats.duration_s = started.elapsed().as_secs_f64();
    report.decide(args.fdr);
    report.finish();
    super::report::write_run_report(&report, &dir, None, args.format)?;
    Ok(finish(&report, &dir, args.format, out))
}
