//! Scoring one case's sample pairs and writing the images the report shows: decoding and
//! scores come from `score`, the channels and limits from `verdict`; this file wires them
//! to the run folder.

use std::path::Path;

use crate::provider::Metadata;
use crate::report::{CaseReport, CaseVerdict, FingerprintChange, SampleReport};
use image::RgbImage;

use crate::score::{self, DecodeLimits, Features};
use crate::suite::Thresholds;
use crate::verdict::{Evidence, Mark, platform_mark_reasons};

/// One sample pair before scoring: encoded images or why one is missing.
pub(crate) struct Pair {
    pub(crate) index: u32,
    /// Baseline image bytes.
    pub(crate) baseline: Result<Vec<u8>, String>,
    /// Candidate image path inside the run folder, relative, with its bytes.
    pub(crate) candidate: Result<(String, Vec<u8>), String>,
    pub(crate) provider: Option<Metadata>,
}

/// What the case is, for the report.
pub(crate) struct CaseInfo<'a> {
    pub(crate) suite: &'a str,
    pub(crate) id: &'a str,
    pub(crate) prompt: &'a str,
    pub(crate) tags: &'a [String],
    pub(crate) params: serde_json::Value,
    pub(crate) thresholds: Thresholds,
    /// Request fingerprint the run was made for; empty for `compare`.
    pub(crate) fingerprint: String,
    /// Reference images, as written in the suite.
    pub(crate) references: Vec<String>,
}

/// File extension for encoded image bytes.
pub(crate) fn extension(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => "jpg",
        Ok(image::ImageFormat::WebP) => "webp",
        _ => "png",
    }
}

/// Longest side of the display copies a run writes (baseline copies, heatmaps).
const DISPLAY_SIDE: u32 = 1024;

/// A display copy: at most `DISPLAY_SIDE` on its long side, JPEG quality 90.
fn display_jpeg(img: &RgbImage) -> Result<Vec<u8>, String> {
    score::to_display_jpeg(img, DISPLAY_SIDE, 90)
        .map_err(|e| format!("cannot encode a display copy: {e}"))
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), String> {
    crate::store::write_atomic(&dir.join(rel), bytes)
        .map_err(|e| format!("cannot write {rel}: {e}"))
}

/// Decoded images of one side, or why each could not be decoded.
type Decoded = Vec<Result<RgbImage, String>>;

/// The images of one side that decoded, with their signatures.
fn decoded<'a>(
    imgs: &'a Decoded,
    sigs: &'a [Option<Features>],
) -> Vec<(&'a RgbImage, &'a Features)> {
    imgs.iter()
        .zip(sigs)
        .filter_map(|(i, f)| i.as_ref().ok().zip(f.as_ref()))
        .collect()
}

fn decode_all(pairs: &[Pair], limits: &DecodeLimits) -> (Decoded, Decoded) {
    std::thread::scope(|t| {
        let bases = t.spawn(|| {
            pairs
                .iter()
                .map(|p| {
                    p.baseline.as_ref().map_err(Clone::clone).and_then(|b| {
                        score::decode(b, limits).map_err(|e| format!("baseline: {e}"))
                    })
                })
                .collect()
        });
        let cands = pairs
            .iter()
            .map(|p| {
                p.candidate
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|(_, c)| {
                        score::decode(c, limits).map_err(|e| format!("candidate: {e}"))
                    })
            })
            .collect();
        (bases.join().unwrap_or_default(), cands)
    })
}

/// Scores every pair, writes baseline copies and heatmaps into `dir`, and gathers the
/// evidence the run-wide decision needs (noise floors, limits).
pub(crate) fn judge_case(
    dir: &Path,
    info: &CaseInfo<'_>,
    pairs: Vec<Pair>,
    changes: Vec<FingerprintChange>,
) -> CaseReport {
    let limits = DecodeLimits::default();
    let (bases, cands) = decode_all(&pairs, &limits);
    // Each image's signature once: the noise-floor channels use it, and the pair scores
    // take their palettes and hashes from it.
    let features = |side: &Decoded| -> Vec<Option<Features>> {
        side.iter()
            .map(|r| r.as_ref().ok().map(score::features))
            .collect()
    };
    let (base_sigs, cand_sigs) = (features(&bases), features(&cands));
    // The sample index of each candidate that decoded, in the order `decoded` keeps.
    let candidate_samples: Vec<u32> = pairs
        .iter()
        .zip(cands.iter().zip(&cand_sigs))
        .filter(|(_, (c, f))| c.is_ok() && f.is_some())
        .map(|(p, _)| p.index)
        .collect();
    let marks: Vec<Mark<'_>> = pairs
        .iter()
        .zip(&cands)
        .filter_map(|(p, c)| {
            Some(Mark {
                sample: p.index,
                words: p.provider.as_ref()?.platform_mark.as_deref()?,
                image: c.is_ok(),
            })
        })
        .collect();
    let mut degenerate = platform_mark_reasons(&marks);
    let mut samples = Vec::with_capacity(pairs.len());
    let mut errors = Vec::new();
    for (i, ((pair, base), cand)) in pairs.into_iter().zip(&bases).zip(&cands).enumerate() {
        // A marked sample without an image (the platform filtered it) is judged on its
        // mark: it has no score, but the case is drift rather than unjudged. A problem
        // with its baseline still leaves the case unjudged.
        let filtered = cand.is_err()
            && base.is_ok()
            && pair
                .provider
                .as_ref()
                .is_some_and(|m| m.platform_mark.is_some());
        let mut s = SampleReport {
            index: pair.index,
            baseline: None,
            baseline_sha256: None,
            candidate: None,
            heatmap: None,
            metrics: None,
            size_change: None,
            base_palette: Vec::new(),
            cand_palette: Vec::new(),
            provider: pair.provider,
            error: None,
        };
        let scored = (|| {
            let base_bytes = pair.baseline?;
            s.baseline_sha256 = Some(crate::digest::sha256_hex(&base_bytes));
            s.candidate = Some(pair.candidate?.0);
            let (base, cand) = (
                base.as_ref().map_err(Clone::clone)?,
                cand.as_ref().map_err(Clone::clone)?,
            );
            // The report shows the baseline and the heatmap; the stored baseline stays
            // the reference, so display copies are JPEG and the heatmap is at most
            // DISPLAY_SIDE wide, keeping the run folder dominated by the candidates.
            let base_rel = format!("baselines/{}/{}/{}.jpg", info.suite, info.id, pair.index);
            write(dir, &base_rel, &display_jpeg(base)?)?;
            s.baseline = Some(base_rel);
            let known = base_sigs[i].as_ref().zip(cand_sigs[i].as_ref());
            let ps = score::score_pair_with(base, cand, known);
            let heat = score::heatmap_at_most(&ps.ssim_map, DISPLAY_SIDE);
            let heat_rel = format!("diffs/{}/{}/{}.jpg", info.suite, info.id, pair.index);
            write(dir, &heat_rel, &display_jpeg(&heat)?)?;
            s.heatmap = Some(heat_rel);
            s.size_change = ps.size_change;
            s.base_palette = ps.base_palette;
            s.cand_palette = ps.cand_palette;
            s.metrics = Some(ps.metrics);
            Ok::<(), String>(())
        })();
        if let Err(e) = scored {
            if !filtered {
                errors.push(format!("sample {}: {e}", pair.index));
            }
            s.error = Some(e);
        }
        samples.push(s);
    }
    let weighed = Evidence {
        baselines: decoded(&bases, &base_sigs),
        candidates: decoded(&cands, &cand_sigs),
        paired: samples.iter().filter_map(|s| s.metrics.as_ref()).collect(),
        candidate_samples,
    }
    .weigh(&info.thresholds);
    degenerate.extend(weighed.degenerate);
    let (verdict, reasons) = if errors.is_empty() {
        (CaseVerdict::Pass, Vec::new())
    } else {
        (CaseVerdict::Error, errors)
    };
    CaseReport {
        suite: info.suite.to_string(),
        id: info.id.to_string(),
        verdict,
        reasons,
        prompt: info.prompt.to_string(),
        tags: info.tags.to_vec(),
        params: info.params.clone(),
        thresholds: info.thresholds,
        fingerprint_changes: changes,
        samples: samples.into(),
        floors: weighed.tests,
        limit_reasons: weighed.limit_reasons,
        degenerate,
        baseline_samples: weighed.baseline_samples,
        fingerprint: info.fingerprint.clone(),
        references: info.references.clone(),
    }
}

/// Provider-reported build identity that differs between baseline and candidate samples.
pub(crate) fn fingerprint_changes(
    baseline: &[Metadata],
    candidate: &[&Metadata],
) -> Vec<FingerprintChange> {
    let mut changes: Vec<FingerprintChange> = Vec::new();
    for (b, c) in baseline.iter().zip(candidate) {
        let (b, c) = (b.build_identity(), c.build_identity());
        let fields: std::collections::BTreeSet<&String> = b.keys().chain(c.keys()).collect();
        for f in fields {
            let (bv, cv) = (b.get(f).cloned(), c.get(f).cloned());
            let change = FingerprintChange {
                field: f.clone(),
                baseline: bv,
                candidate: cv,
            };
            if change.baseline != change.candidate && !changes.contains(&change) {
                changes.push(change);
            }
        }
    }
    changes
}
