//! `driftgate accept RUN_DIR`: promote a reviewed run's candidates to baselines.
//!
//! Like insta's review, nothing is accepted implicitly: only the cases the user names
//! (or all of the run's, when none are named), and only when the run still answers the
//! baseline it was compared with. Every problem is listed before anything is written;
//! then a suite's new images are all written under temporary names, renamed into place,
//! and the manifest written last, so a failure while writing changes nothing and an
//! interruption can only fall in the short run of renames.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use super::Output;
use crate::cli::AcceptArgs;
use crate::digest::sha256_hex;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::provider::Metadata;
use crate::report::{CaseReport, CaseVerdict, RunReport};
use crate::score::to_png;
use crate::score::{DecodeLimits, decode};
use crate::store::{Baselines, CaseEntry, Manifest};

/// A case ready to be written: its images as PNG, in sample order, and what the provider said.
struct Ready<'a> {
    case: &'a CaseReport,
    images: Vec<(u32, Vec<u8>, u32, u32)>,
    provider: Vec<Metadata>,
}

/// A path from `run.json` is input: only plain relative paths inside the run folder are read.
fn inside_run(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

fn selected<'a>(report: &'a RunReport, args: &AcceptArgs) -> Result<Vec<&'a CaseReport>, Error> {
    let globs = super::case_globs(&args.cases)?;
    let cases: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| {
            globs.is_empty()
                || globs
                    .iter()
                    .any(|g| g.matches(&c.id) || g.matches(&format!("{}/{}", c.suite, c.id)))
        })
        .collect();
    if cases.is_empty() {
        return Err(Error::usage(
            format!(
                "no case of run {} matches {}",
                report.run_id,
                args.cases.join(", ")
            ),
            "check the patterns against the case ids in the report",
        ));
    }
    Ok(cases)
}

/// Checks one case against the manifest and loads its candidates; `Err` says why not.
fn prepare<'a>(
    run_dir: &Path,
    case: &'a CaseReport,
    manifest: Option<&Manifest>,
    store: &Baselines,
) -> Result<Ready<'a>, String> {
    let name = format!("{}/{}", case.suite, case.id);
    if case.verdict == CaseVerdict::Error {
        return Err(format!(
            "{name}: the case has errors in this run; re-run it before accepting"
        ));
    }
    if case.fingerprint.is_empty() {
        return Err(format!(
            "{name}: run.json does not record the request fingerprint (a `compare` run, or an older driftgate); run the suite again"
        ));
    }
    let entry = manifest
        .and_then(|m| m.cases.get(&case.id))
        .ok_or_else(|| {
            format!(
                "{name}: no baseline in {}; record it first",
                store.suite_location(&case.suite)
            )
        })?;
    if entry.fingerprint != case.fingerprint {
        return Err(format!(
            "{name}: the run is stale: the suite entry changed and was re-recorded since this run; run the suite again"
        ));
    }
    if case.samples.is_empty() || case.samples.len() != entry.images.len() {
        return Err(format!(
            "{name}: the run has {} samples, the baseline {}",
            case.samples.len(),
            entry.images.len()
        ));
    }
    let limits = DecodeLimits::default();
    let mut images = Vec::with_capacity(case.samples.len());
    let mut provider = Vec::with_capacity(case.samples.len());
    for s in case.samples.get().iter() {
        let n = s.index;
        // The run compared against a copy of the baseline; if the baseline changed since
        // (another accept), accepting would silently overwrite a newer decision.
        let current = entry
            .images
            .get(n as usize)
            .ok_or_else(|| format!("{name}: sample {n} has no baseline"))?;
        let compared = s.baseline_sha256.clone().or_else(|| {
            s.baseline
                .as_deref()
                .filter(|p| inside_run(p))
                .and_then(|p| std::fs::read(run_dir.join(p)).ok())
                .map(|b| sha256_hex(&b))
        });
        if compared.as_deref() != Some(current.sha256.as_str()) {
            return Err(format!(
                "{name}: the run is stale: baseline sample {n} changed since this run; run the suite again"
            ));
        }
        // As in `record`: a sample the platform marked may be blanked, so it never
        // becomes a baseline, however the case was reviewed.
        if let Some(mark) = s.provider.as_ref().and_then(|p| p.platform_mark.as_deref()) {
            return Err(format!(
                "{name}: sample {n} was marked by the platform: {mark}; a marked sample is not stored as a baseline"
            ));
        }
        let rel = s
            .candidate
            .as_deref()
            .filter(|p| inside_run(p))
            .ok_or_else(|| format!("{name}: sample {n} has no candidate in this run"))?;
        let path = run_dir.join(rel);
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("{name}: cannot read {}: {e}", path.display()))?;
        let img = decode(&bytes, &limits)
            .map_err(|e| format!("{name}: candidate {}: {e}", path.display()))?;
        let png =
            to_png(&bytes, &img).map_err(|e| format!("{name}: {}: {e} as PNG", path.display()))?;
        images.push((n, png, img.width(), img.height()));
        provider.push(s.provider.clone().unwrap_or_default());
    }
    Ok(Ready {
        case,
        images,
        provider,
    })
}

pub(super) fn accept(args: &AcceptArgs, out: Output) -> Result<ExitStatus, Error> {
    let report = crate::report::read_run(&args.run_dir)?;
    let cases = selected(&report, args)?;
    let store = Baselines::open(&args.baselines, args.cache_dir.as_deref())?;
    let mut manifests: BTreeMap<String, Option<Manifest>> = BTreeMap::new();
    // Held until the end, like `record`'s: a second writer fails fast instead of mixing.
    let mut locks = Vec::new();
    for c in &cases {
        if !manifests.contains_key(&c.suite) {
            locks.push(store.lock(&c.suite)?);
            store.clean(&c.suite);
            manifests.insert(c.suite.clone(), store.load_manifest(&c.suite)?);
        }
    }
    let mut ready = Vec::new();
    let mut problems = Vec::new();
    for c in &cases {
        let manifest = manifests.get(&c.suite).and_then(Option::as_ref);
        match prepare(&args.run_dir, c, manifest, &store) {
            Ok(r) => ready.push(r),
            Err(p) => problems.push(p),
        }
    }
    if !problems.is_empty() {
        return Err(Error::usage(
            format!("nothing was accepted:\n  {}", problems.join("\n  ")),
            "narrow the selection with --case, or run the suite again and review the new run",
        ));
    }
    let now = super::now_rfc3339();
    let source = format!("accept {}", report.run_id);
    let mut by_suite: BTreeMap<&str, Vec<&Ready<'_>>> = BTreeMap::new();
    for r in &ready {
        by_suite.entry(r.case.suite.as_str()).or_default().push(r);
    }
    // Each suite's new images and manifest switch in with one commit (see
    // `store::BaselineStore::commit`): a kill leaves the old baselines or the new ones.
    for (suite, list) in by_suite {
        let Some(Some(mut manifest)) = manifests.remove(suite) else {
            continue;
        };
        for r in &list {
            let mut entries = Vec::with_capacity(r.images.len());
            for (n, png, w, h) in &r.images {
                entries.push(store.stage_image(suite, &r.case.id, *n, png, *w, *h)?);
            }
            manifest.cases.insert(
                r.case.id.clone(),
                CaseEntry {
                    fingerprint: r.case.fingerprint.clone(),
                    recorded_at: now.clone(),
                    source: source.clone(),
                    reason: args.reason.clone(),
                    images: entries,
                    provider: r.provider.clone(),
                },
            );
            out.note(format!(
                "accepted {suite}/{} (was {} in the run)",
                r.case.id,
                r.case.verdict.name()
            ));
        }
        store.commit(&manifest)?;
    }
    drop(locks);
    let changed = ready
        .iter()
        .filter(|r| r.case.verdict != CaseVerdict::Pass)
        .count();
    outln!(
        "accepted {} of run {} into {}",
        if ready.len() == 1 {
            "1 case".to_string()
        } else {
            format!("{} cases", ready.len())
        },
        report.run_id,
        store.describe()
    );
    if changed == 0 {
        outln!(
            "note: every accepted case had passed; their baselines were refreshed with this run's samples"
        );
    }
    Ok(ExitStatus::Pass)
}
