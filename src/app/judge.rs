//! Scoring one case's sample pairs and writing the images the report shows.

use std::path::Path;

use crate::provider::Metadata;
use crate::report::{CaseReport, CaseVerdict, FingerprintChange, SampleReport};
use crate::score::{self, DecodeLimits};
use crate::suite::Thresholds;

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

fn write(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), String> {
    crate::store::write_atomic(&dir.join(rel), bytes)
        .map_err(|e| format!("cannot write {rel}: {e}"))
}

/// Scores every pair, writes baseline copies and heatmaps into `dir`, and judges the case.
pub(crate) fn judge_case(
    dir: &Path,
    info: &CaseInfo<'_>,
    pairs: Vec<Pair>,
    changes: Vec<FingerprintChange>,
) -> CaseReport {
    let limits = DecodeLimits::default();
    let mut samples = Vec::with_capacity(pairs.len());
    let mut errors = Vec::new();
    for pair in pairs {
        let mut s = SampleReport {
            index: pair.index,
            baseline: None,
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
            let base_rel = format!(
                "baselines/{}/{}/{}.{}",
                info.suite,
                info.id,
                pair.index,
                extension(&base_bytes)
            );
            write(dir, &base_rel, &base_bytes)?;
            s.baseline = Some(base_rel);
            let (cand_rel, cand_bytes) = pair.candidate?;
            s.candidate = Some(cand_rel);
            let (base, cand) = std::thread::scope(|t| {
                let b = t.spawn(|| score::decode(&base_bytes, &limits));
                let c = score::decode(&cand_bytes, &limits);
                (b.join(), c)
            });
            let base = base
                .map_err(|_| "baseline decoder stopped".to_string())?
                .map_err(|e| format!("baseline sample {}: {e}", pair.index))?;
            let cand = cand.map_err(|e| format!("candidate sample {}: {e}", pair.index))?;
            let ps = score::score_pair(&base, &cand);
            let heat = score::heatmap(&ps.ssim_map);
            let mut png = Vec::new();
            heat.write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
                .map_err(|e| format!("cannot encode heatmap: {e}"))?;
            let heat_rel = format!("diffs/{}/{}/{}.png", info.suite, info.id, pair.index);
            write(dir, &heat_rel, &png)?;
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
    let metrics: Vec<_> = samples.iter().filter_map(|s| s.metrics.as_ref()).collect();
    let (verdict, mut reasons) = if errors.is_empty() {
        crate::verdict::judge(&info.thresholds, &metrics)
    } else {
        (CaseVerdict::Error, errors)
    };
    if let Some(((bw, bh), (cw, ch))) = samples.iter().find_map(|s| s.size_change) {
        reasons.push(format!("size changed from {bw}x{bh} to {cw}x{ch}"));
    }
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
        samples,
        fingerprint: String::new(),
        references: Vec::new(),
        floors: Vec::new(),
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
