//! `driftgate record`: call the provider and store baselines.
//!
//! A case's images are staged only once all its samples arrived, and a suite's staged
//! cases switch in with its manifest in one commit (`store::BaselineStore::commit`), so
//! neither a failed sample nor a kill leaves a case half re-recorded. A lock file keeps
//! two `record`s of one suite apart. A sample the platform marked (`platform_mark`) fails
//! its case like any failed sample: every later run would compare against an image the
//! platform may have blanked, or against none.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::{Output, runtime, selection};
use crate::cli::RecordArgs;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::provider::{Generation, ProviderError};
use crate::run::{Progress, Stats, execute_on, plan_all};
use crate::score::to_png;
use crate::score::{DecodeLimits, decode};
use crate::store::{Baselines, CaseEntry, Manifest};

/// One sample of a case: its index and the provider's image or failure.
type Sampled = (u32, Result<Generation, ProviderError>);

pub(super) fn record(args: &RecordArgs, out: Output) -> Result<ExitStatus, Error> {
    let suites = crate::suite::load(&args.common.suites)?;
    let sel = selection(&args.common)?;
    let store = Baselines::open(&args.common.baselines, args.common.cache_dir.as_deref())?;
    let plans = plan_all(&suites, &sel);
    let mut manifests = Vec::new();
    let mut existing = Vec::new();
    // Held until the end: released on return, and by the OS if this process is killed.
    let mut locks = Vec::new();
    for (suite, (cases, _)) in suites.iter().zip(&plans) {
        if !args.common.dry_run {
            locks.push(store.lock(&suite.id)?);
        }
        store.clean(&suite.id);
        let manifest = store
            .load_manifest(&suite.id)?
            .unwrap_or_else(|| Manifest::new(&suite.id, serde_json::Value::Null));
        for &ci in cases {
            let id = &suite.cases[ci].id;
            if manifest.cases.contains_key(id) || store.has_case_files(&suite.id, id) {
                existing.push(format!("{}/{id}", suite.id));
            }
        }
        manifests.push(manifest);
    }
    if !existing.is_empty() && !args.force {
        return Err(Error::usage(
            format!("baselines already exist for {}", existing.join(", ")),
            "pass --force to overwrite them, or `driftgate accept RUN_DIR` to promote a reviewed run",
        ));
    }
    if args.common.dry_run {
        let selected: Vec<Vec<usize>> = plans.iter().map(|(c, _)| c.clone()).collect();
        super::run::print_plan(&suites, &selected, out);
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
    let stats = Stats::default();
    let rt = runtime()?;
    let mut failed = 0usize;
    for (((suite, (cases, jobs)), mut manifest), provider) in
        suites.iter().zip(&plans).zip(manifests).zip(&providers)
    {
        out.note(format!(
            "{}: recording {} cases ({} to {})",
            suite.id,
            cases.len(),
            super::requests_and_images(jobs, &suite.model),
            suite.model.provider.name()
        ));
        let options = super::exec_options(&args.common, suite, deadline, out).0;
        let mut progress = Progress::new(&suite.id, jobs.len(), out.quiet);
        let results = execute_on(&rt, provider, suite, jobs, &options, &stats, |f| {
            let what = format!(
                "{}/{} #{}",
                suite.id, suite.cases[f.job.case].id, f.job.sample
            );
            progress.finished(
                &what,
                f.result.as_ref().err().map(ToString::to_string).as_deref(),
            );
            f
        });
        progress.finish();
        let mut by_case: HashMap<usize, Vec<Sampled>> = HashMap::new();
        for f in results {
            by_case
                .entry(f.job.case)
                .or_default()
                .push((f.job.sample, f.result));
        }
        let mut recorded = 0usize;
        for &ci in cases {
            let case = &suite.cases[ci];
            let mut samples = by_case.remove(&ci).unwrap_or_default();
            samples.sort_by_key(|(n, _)| *n);
            match store_case(&store, &suite.id, &case.id, samples) {
                Ok((images, provider)) => {
                    let entry = CaseEntry {
                        fingerprint: case.fingerprint(&suite.model),
                        recorded_at: super::now_rfc3339(),
                        source: "record".into(),
                        reason: None,
                        images,
                        provider,
                    };
                    manifest.cases.insert(case.id.clone(), entry);
                    recorded += 1;
                    out.detail(format!("recorded {}/{}", suite.id, case.id));
                }
                Err(e) => {
                    store.unstage_case(&suite.id, &case.id);
                    failed += 1;
                    eprintln!("error: {}/{}: {e}", suite.id, case.id);
                }
            }
        }
        manifest.model = serde_json::to_value(&suite.model).unwrap_or_default();
        manifest.scorer_version = crate::score::SCORER_VERSION;
        if recorded > 0 {
            store.commit(&manifest)?;
        }
        outln!(
            "{}: recorded {recorded} of {} cases into {}",
            suite.id,
            cases.len(),
            store.suite_location(&suite.id)
        );
    }
    out.detail(format!(
        "{} requests for {} images, {} retries",
        stats.requests.load(Ordering::SeqCst),
        stats.images.load(Ordering::SeqCst),
        stats.retries.load(Ordering::SeqCst)
    ));
    if let Some(line) = store.transfer_summary() {
        out.note(line);
    }
    if failed > 0 {
        eprintln!("{failed} cases were not recorded; their old baselines, if any, are untouched");
        return Ok(ExitStatus::Incomplete);
    }
    Ok(ExitStatus::Pass)
}

/// Why a sample is not stored as a baseline, for an answer the platform marked.
const MARKED_HINT: &str = "a marked sample is not stored as a baseline; record the case again";

/// Sample `n`'s failure in one line; a failure that is the platform's mark on the
/// sample names the mark first, as the run's reason does.
fn failure(n: u32, e: &ProviderError) -> String {
    match e.marked.as_ref().and_then(|m| m.platform_mark.as_deref()) {
        Some(mark) => {
            format!("sample {n} was filtered by the platform: {mark} ({e}); {MARKED_HINT}")
        }
        None => format!("sample {n}: {e}"),
    }
}

/// Validates every sample of a case, then stages them all: a marked or failed sample
/// fails the case before anything is staged.
fn store_case(
    store: &Baselines,
    suite: &str,
    case: &str,
    samples: Vec<Sampled>,
) -> Result<
    (
        Vec<crate::store::ImageEntry>,
        Vec<crate::provider::Metadata>,
    ),
    String,
> {
    let limits = DecodeLimits::default();
    let mut ready = Vec::with_capacity(samples.len());
    for (n, r) in samples {
        let g = r.map_err(|e| failure(n, &e))?;
        if let Some(mark) = &g.metadata.platform_mark {
            return Err(format!(
                "sample {n} was marked by the platform: {mark}; {MARKED_HINT}"
            ));
        }
        let img = decode(&g.bytes, &limits).map_err(|e| format!("sample {n}: {e}"))?;
        let png = to_png(&g.bytes, &img).map_err(|e| format!("sample {n}: {e} as PNG"))?;
        ready.push((n, png, img.width(), img.height(), g.metadata));
    }
    let mut images = Vec::with_capacity(ready.len());
    let mut metas = Vec::with_capacity(ready.len());
    for (n, png, w, h, meta) in ready {
        images.push(
            store
                .stage_image(suite, case, n, &png, w, h)
                .map_err(|e| e.to_string())?,
        );
        metas.push(meta);
    }
    Ok((images, metas))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{ErrorKind, Metadata};

    fn png(tone: u8) -> Vec<u8> {
        let img = image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([tone, x as u8, y as u8]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn sample(mark: Option<&str>) -> Result<Generation, ProviderError> {
        Ok(Generation {
            bytes: png(90),
            metadata: Metadata {
                platform_mark: mark.map(str::to_string),
                ..Metadata::default()
            },
        })
    }

    #[test]
    fn clean_samples_are_staged() {
        let dir = tempfile::tempdir().unwrap();
        let store = Baselines::Local(crate::store::BaselineStore::new(dir.path()));
        let (images, metas) =
            store_case(&store, "s", "c", vec![(0, sample(None)), (1, sample(None))]).unwrap();
        assert_eq!((images.len(), metas.len()), (2, 2));
    }

    /// A marked sample fails its case before any image is staged, naming the sample and
    /// the mark; so does the mark that came instead of an image.
    #[test]
    fn a_marked_sample_fails_the_case_with_nothing_staged() {
        let dir = tempfile::tempdir().unwrap();
        let store = Baselines::Local(crate::store::BaselineStore::new(dir.path()));
        let samples = vec![
            (0, sample(None)),
            (1, sample(Some("has_nsfw_contents (WaveSpeed)"))),
            (2, sample(None)),
        ];
        let e = store_case(&store, "s", "c", samples).unwrap_err();
        assert_eq!(
            e,
            "sample 1 was marked by the platform: has_nsfw_contents (WaveSpeed); a marked sample is not stored as a baseline; record the case again"
        );
        let filtered = ProviderError::marked(
            ErrorKind::ContentFiltered,
            "withheld [OutputImageRiskDetection]",
            Metadata {
                platform_mark: Some("OutputImageRiskDetection (Ark)".into()),
                ..Metadata::default()
            },
        );
        let e = store_case(
            &store,
            "s",
            "c",
            vec![(0, sample(None)), (1, Err(filtered))],
        )
        .unwrap_err();
        assert!(
            e.starts_with(
                "sample 1 was filtered by the platform: OutputImageRiskDetection (Ark) (content filtered: withheld"
            ),
            "{e}"
        );
        assert!(
            e.ends_with("record the case again") && !e.contains('\n'),
            "{e}"
        );
        let staged: Vec<_> = walk(dir.path());
        assert!(staged.is_empty(), "{staged:?}");
        // An unmarked failure reads as before.
        let failed = ProviderError::new(ErrorKind::Rejected, "size out of range");
        let e = store_case(&store, "s", "c", vec![(0, Err(failed))]).unwrap_err();
        assert_eq!(e, "sample 0: request rejected: size out of range");
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                files.extend(walk(&p));
            } else {
                files.push(p);
            }
        }
        files
    }
}
