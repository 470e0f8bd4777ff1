//! Shared wording: metric rows against thresholds, and the terminal summary.

use super::model::{CaseReport, CaseVerdict, RunReport};

/// One metric of one case, aggregated over samples (the worst sample), against its limit.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Key as in `run.json` `metrics` and in noise floors (`ssim`, `delta_e`, ...).
    pub key: &'static str,
    /// Short technical name.
    pub name: &'static str,
    /// Plain words for a reader who does not know the metric.
    pub meaning: &'static str,
    /// The worst value over the samples, formatted.
    pub value: String,
    /// The limit in force, formatted (`-` when none).
    pub limit: String,
    /// Whether the value is within the limit.
    pub ok: bool,
}

/// The metric rows of a case: each metric's worst value over the samples against its limit.
#[must_use]
pub fn metric_table(case: &CaseReport) -> Vec<MetricRow> {
    let samples = case.samples.get();
    let ms: Vec<_> = samples.iter().filter_map(|s| s.metrics.as_ref()).collect();
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
    let row = |key, name, meaning, value, limit, ok| MetricRow {
        key,
        name,
        meaning,
        value,
        limit,
        ok,
    };
    let mut rows = Vec::new();
    let ssim = worst_min(&|m| m.ssim);
    rows.push(row(
        "ssim",
        "SSIM (luma, worst)",
        "structure: 1 = identical shapes and edges",
        format!("{ssim:.4}"),
        t.ssim.map_or("-".into(), |l| format!(">= {}", l.min)),
        t.ssim.is_none_or(|l| ssim >= l.min),
    ));
    let rgb = worst_min(&|m| m.ssim_rgb);
    rows.push(row(
        "ssim_rgb",
        "SSIM (RGB, worst)",
        "structure per colour channel",
        format!("{rgb:.4}"),
        "-".into(),
        true,
    ));
    let ph = worst_max(&|m| f64::from(m.phash));
    rows.push(row(
        "phash",
        "pHash distance",
        "composition: bits of 64 that differ, 0 = same layout",
        format!("{ph:.0}"),
        t.phash
            .map_or("-".into(), |l| format!("<= {}", l.max_distance)),
        t.phash.is_none_or(|l| ph <= f64::from(l.max_distance)),
    ));
    let dh = worst_max(&|m| f64::from(m.dhash));
    rows.push(row(
        "dhash",
        "dHash distance",
        "gradients: bits of 64 that differ",
        format!("{dh:.0}"),
        t.dhash
            .map_or("-".into(), |l| format!("<= {}", l.max_distance)),
        t.dhash.is_none_or(|l| dh <= f64::from(l.max_distance)),
    ));
    let de = worst_max(&|m| m.delta_e);
    rows.push(row(
        "delta_e",
        "ΔE2000 mean",
        "colour: about 2 is just noticeable, above 5 clearly different",
        format!("{de:.2}"),
        t.delta_e
            .map_or("-".into(), |l| format!("<= {}", l.max_delta_e)),
        t.delta_e.is_none_or(|l| de <= l.max_delta_e),
    ));
    let p95 = worst_max(&|m| m.delta_e_p95);
    rows.push(row(
        "delta_e_p95",
        "ΔE2000 p95",
        "colour in the most changed 5% of pixels",
        format!("{p95:.2}"),
        "-".into(),
        true,
    ));
    let pal = worst_max(&|m| m.palette_delta_e);
    rows.push(row(
        "palette_delta_e",
        "Palette ΔE",
        "dominant brand colours, matched one to one",
        format!("{pal:.2}"),
        t.palette
            .map_or("-".into(), |l| format!("<= {}", l.max_delta_e)),
        t.palette.is_none_or(|l| pal <= l.max_delta_e),
    ));
    rows
}

/// One metric of one case, aggregated over samples: (name, value, limit, within limit).
#[must_use]
pub fn metric_rows(case: &CaseReport) -> Vec<(&'static str, String, String, bool)> {
    metric_table(case)
        .into_iter()
        .map(|r| (r.name, r.value, r.limit, r.ok))
        .collect()
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
        "{}: {} passed, {} drifted, {} inconclusive, {} errors ({}, {} retries, {:.1}s)",
        match report.verdict {
            super::RunVerdict::Pass => "PASS",
            super::RunVerdict::Drift => "DRIFT",
            super::RunVerdict::Incomplete => "INCOMPLETE",
        },
        report.count(CaseVerdict::Pass),
        report.count(CaseVerdict::Drift),
        report.count(CaseVerdict::Inconclusive),
        report.count(CaseVerdict::Error),
        report.stats.requests_label(),
        report.stats.retries,
        report.stats.duration_s,
    ));
    if let Some(dir) = out_dir {
        s.push_str(&format!("\nreport: {}", dir.join("index.html").display()));
    }
    s
}
