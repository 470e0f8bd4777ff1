//! Shared wording: metric rows against thresholds, and the terminal summary.

use super::model::{CaseReport, CaseVerdict, RunReport};

/// One metric of one case, aggregated over samples: (name, value, limit, within limit).
#[must_use]
pub fn metric_rows(case: &CaseReport) -> Vec<(&'static str, String, String, bool)> {
    let ms: Vec<_> = case
        .samples
        .iter()
        .filter_map(|s| s.metrics.as_ref())
        .collect();
    if ms.is_empty() {
        return Vec::new();
    }
    let worst_min = |f: &dyn Fn(&crate::score::Metrics) -> f64| {
        ms.iter().map(|m| f(m)).fold(f64::INFINITY, f64::min)
    };
    let worst_max = |f: &dyn Fn(&crate::score::Metrics) -> f64| {
        ms.iter().map(|m| f(m)).fold(f64::NEG_INFINITY, f64::max)
    };
    let t = &case.thresholds;
    let mut rows = Vec::new();
    let ssim = worst_min(&|m| m.ssim);
    rows.push((
        "SSIM (luma, worst)",
        format!("{ssim:.4}"),
        t.ssim.map_or("-".into(), |l| format!(">= {}", l.min)),
        t.ssim.is_none_or(|l| ssim >= l.min),
    ));
    let rgb = worst_min(&|m| m.ssim_rgb);
    rows.push(("SSIM (RGB, worst)", format!("{rgb:.4}"), "-".into(), true));
    let ph = worst_max(&|m| f64::from(m.phash));
    rows.push((
        "pHash distance",
        format!("{ph:.0}"),
        t.phash
            .map_or("-".into(), |l| format!("<= {}", l.max_distance)),
        t.phash.is_none_or(|l| ph <= f64::from(l.max_distance)),
    ));
    let dh = worst_max(&|m| f64::from(m.dhash));
    rows.push((
        "dHash distance",
        format!("{dh:.0}"),
        t.dhash
            .map_or("-".into(), |l| format!("<= {}", l.max_distance)),
        t.dhash.is_none_or(|l| dh <= f64::from(l.max_distance)),
    ));
    let de = worst_max(&|m| m.delta_e);
    rows.push((
        "ΔE2000 mean",
        format!("{de:.2}"),
        t.delta_e
            .map_or("-".into(), |l| format!("<= {}", l.max_delta_e)),
        t.delta_e.is_none_or(|l| de <= l.max_delta_e),
    ));
    let p95 = worst_max(&|m| m.delta_e_p95);
    rows.push(("ΔE2000 p95", format!("{p95:.2}"), "-".into(), true));
    let pal = worst_max(&|m| m.palette_delta_e);
    rows.push((
        "Palette ΔE",
        format!("{pal:.2}"),
        t.palette
            .map_or("-".into(), |l| format!("<= {}", l.max_delta_e)),
        t.palette.is_none_or(|l| pal <= l.max_delta_e),
    ));
    rows
}

/// The terminal output: one line per case that did not pass, then a summary line.
#[must_use]
pub fn human_summary(report: &RunReport, out_dir: Option<&std::path::Path>) -> String {
    let mut s = String::new();
    for c in report
        .cases
        .iter()
        .filter(|c| c.verdict != CaseVerdict::Pass)
    {
        s.push_str(&format!(
            "{:<12} {}/{}: {}\n",
            c.verdict.name().to_uppercase(),
            c.suite,
            c.id,
            c.reasons.join("; ")
        ));
    }
    s.push_str(&format!(
        "{}: {} passed, {} drifted, {} inconclusive, {} errors ({} requests, {} retries, {:.1}s)",
        match report.verdict {
            super::RunVerdict::Pass => "PASS",
            super::RunVerdict::Drift => "DRIFT",
            super::RunVerdict::Incomplete => "INCOMPLETE",
        },
        report.count(CaseVerdict::Pass),
        report.count(CaseVerdict::Drift),
        report.count(CaseVerdict::Inconclusive),
        report.count(CaseVerdict::Error),
        report.stats.requests,
        report.stats.retries,
        report.stats.duration_s,
    ));
    if let Some(dir) = out_dir {
        s.push_str(&format!("\nreport: {}", dir.join("index.html").display()));
    }
    s
}
