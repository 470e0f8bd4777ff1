//! Scoring one case's sample pairs and writing the images the report shows.

use std::path::Path;

use crate::provider::Metadata;
use crate::report::{CaseReport, CaseVerdict, FingerprintChange, SampleReport};
use image::RgbImage;

use crate::score::{self, DecodeLimits, Features, Metrics};
use crate::suite::Thresholds;
use crate::verdict;

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

/// Metrics between two baseline samples, for the noise floor. Only the numbers the
/// channels use are computed; hashes and palettes come from the images' features.
fn within_metrics(a: &RgbImage, b: &RgbImage, fa: &Features, fb: &Features) -> Metrics {
    if a.dimensions() != b.dimensions() {
        return score::score_pair(a, b).metrics;
    }
    let (ssim, _) = score::ssim_luma(a, b);
    let colour = score::colour_stats(a, b);
    Metrics {
        ssim,
        ssim_rgb: f64::NAN,
        phash: (fa.phash ^ fb.phash).count_ones(),
        dhash: (fa.dhash ^ fb.dhash).count_ones(),
        delta_e: colour.delta_e,
        delta_e_p95: colour.delta_e_p95,
        lab_shift: colour.lab_shift,
        palette_delta_e: score::palette_distance(&fa.palette, &fb.palette),
        chroma_shift: colour.chroma_shift,
    }
}

/// The per-image value of a feature channel (scale features on a log scale).
fn feature_value(metric: &str, f: &Features) -> f64 {
    match metric {
        "lightness" => f.lab_mean[0],
        "red_green" => f.lab_mean[1],
        "yellow_blue" => f.lab_mean[2],
        "colourfulness" => (f.colourfulness + 1.0).ln(),
        "contrast" => (f.contrast + 1.0).ln(),
        "blockiness" => f.blockiness.ln(),
        _ => (f.sharpness + 1.0).ln(),
    }
}

fn pixel_value(metric: &str, m: &Metrics) -> f64 {
    if metric == "ssim" { m.ssim } else { m.delta_e }
}

/// A signature channel's value from image `a` to image `b`.
fn signature_value(metric: &str, a: &Features, b: &Features) -> f64 {
    match metric {
        "phash" => f64::from((a.phash ^ b.phash).count_ones()),
        _ => f64::from((a.dhash ^ b.dhash).count_ones()),
    }
}

/// Structure-matched shifts on every axis: each baseline's patches against the other
/// baselines', each candidate's against all baselines'.
fn matched_groups(
    base: &[score::Patches],
    cand: &[score::Patches],
) -> (Vec<[f64; 6]>, Vec<[f64; 6]>) {
    let pool = |skip: Option<usize>| -> Vec<&score::Patches> {
        base.iter()
            .enumerate()
            .filter(|(j, _)| Some(*j) != skip)
            .map(|(_, p)| p)
            .collect()
    };
    let b = if base.len() < 2 {
        Vec::new()
    } else {
        base.iter()
            .enumerate()
            .map(|(i, p)| score::matched_shift(p, &pool(Some(i))))
            .collect()
    };
    let c = cand
        .iter()
        .map(|p| score::matched_shift(p, &pool(None)))
        .collect();
    (b, c)
}

/// Each baseline's mean value to the other baselines, and each candidate's to all
/// baselines: exchangeable when nothing changed.
fn signature_groups(metric: &str, base: &[Features], cand: &[Features]) -> (Vec<f64>, Vec<f64>) {
    let to_bases = |x: &Features, skip: Option<usize>| {
        let v: Vec<f64> = base
            .iter()
            .enumerate()
            .filter(|(j, _)| Some(*j) != skip)
            .map(|(_, b)| signature_value(metric, b, x))
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let b = if base.len() < 2 {
        Vec::new()
    } else {
        base.iter()
            .enumerate()
            .map(|(i, x)| to_bases(x, Some(i)))
            .collect()
    };
    let c = cand.iter().map(|x| to_bases(x, None)).collect();
    (b, c)
}

/// Decoded images of one side, or why each could not be decoded.
type Decoded = Vec<Result<RgbImage, String>>;

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
    let mut samples = Vec::with_capacity(pairs.len());
    let mut errors = Vec::new();
    for (i, ((pair, base), cand)) in pairs.into_iter().zip(&bases).zip(&cands).enumerate() {
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
            s.baseline_sha256 = Some(crate::suite::sha256_hex(&base_bytes));
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
            let heat = score::heatmap(&ps.ssim_map);
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
            errors.push(format!("sample {}: {e}", pair.index));
            s.error = Some(e);
        }
        samples.push(s);
    }
    let base_imgs: Vec<&RgbImage> = bases.iter().filter_map(|b| b.as_ref().ok()).collect();
    let base_feats: Vec<Features> = base_sigs.into_iter().flatten().collect();
    let cand_feats: Vec<Features> = cand_sigs.into_iter().flatten().collect();
    // All pairs for small sample counts; a ring beyond, so the cost stays linear.
    let n = base_imgs.len();
    let within_pairs: Vec<(usize, usize)> = if n <= 4 {
        (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .collect()
    } else {
        (0..n).map(|i| (i, (i + 1) % n)).collect()
    };
    let within: Vec<Metrics> = within_pairs
        .iter()
        .map(|&(i, j)| within_metrics(base_imgs[i], base_imgs[j], &base_feats[i], &base_feats[j]))
        .collect();
    let paired: Vec<&Metrics> = samples.iter().filter_map(|s| s.metrics.as_ref()).collect();
    let mut floors = Vec::new();
    for (spec, worst) in verdict::PIXEL_PAIRS.iter().zip(verdict::WORST_PAIRS) {
        let b: Vec<f64> = within.iter().map(|m| pixel_value(spec.metric, m)).collect();
        let c: Vec<f64> = paired.iter().map(|m| pixel_value(spec.metric, m)).collect();
        floors.extend(verdict::test_channel(spec, &b, &c));
        floors.extend(verdict::test_worst(worst, &b, &c));
    }
    let base_patches: Vec<_> = base_imgs.iter().map(|b| score::patches(b)).collect();
    let cand_patches: Vec<_> = cands
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .map(score::patches)
        .collect();
    let (base_shifts, cand_shifts) = matched_groups(&base_patches, &cand_patches);
    for spec in verdict::SIGNATURE_PAIRS {
        let (b, c) = match spec.metric.strip_prefix("matched_") {
            Some(axis) => {
                let k = score::MATCHED_AXES
                    .iter()
                    .position(|a| *a == axis)
                    .expect("every matched_ channel names an axis of score::matched");
                // An image without structure (a blank sample) has no value: it sits out
                // these channels rather than taking them from the whole case.
                let on_axis =
                    |v: &[[f64; 6]]| v.iter().map(|s| s[k]).filter(|v| v.is_finite()).collect();
                (on_axis(&base_shifts), on_axis(&cand_shifts))
            }
            None => signature_groups(spec.metric, &base_feats, &cand_feats),
        };
        floors.extend(verdict::test_channel(spec, &b, &c));
    }
    for spec in verdict::FEATURES {
        let b: Vec<f64> = base_feats
            .iter()
            .map(|f| feature_value(spec.metric, f))
            .collect();
        let c: Vec<f64> = cand_feats
            .iter()
            .map(|f| feature_value(spec.metric, f))
            .collect();
        floors.extend(verdict::test_channel(spec, &b, &c));
    }
    let within_refs: Vec<&Metrics> = within.iter().collect();
    let mut limit_reasons = verdict::threshold_reasons(&info.thresholds, &paired, &within_refs);
    if let Some(((bw, bh), (cw, ch))) = samples.iter().find_map(|s| s.size_change) {
        limit_reasons.push(format!("size changed from {bw}x{bh} to {cw}x{ch}"));
    }
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
        floors,
        limit_reasons,
        baseline_samples: n,
        fingerprint: String::new(),
        references: Vec::new(),
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
