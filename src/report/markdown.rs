//! `summary.md`: a compact table for CI step summaries and PR comments.

use super::model::{CaseVerdict, RunReport, RunVerdict};

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
}

/// Renders the Markdown summary.
#[must_use]
pub fn render_markdown(report: &RunReport) -> String {
    let icon = match report.verdict {
        RunVerdict::Pass => "✅ pass",
        RunVerdict::Drift => "❌ drift",
        RunVerdict::Incomplete => "⚠️ incomplete",
    };
    let mut s = format!(
        "## driftgate: {icon}\n\n{} cases: {} passed, {} drifted, {} inconclusive, {} errors. Run `{}`.\n\n",
        report.cases.len(),
        report.count(CaseVerdict::Pass),
        report.count(CaseVerdict::Drift),
        report.count(CaseVerdict::Inconclusive),
        report.count(CaseVerdict::Error),
        cell(&report.run_id),
    );
    s.push_str("| verdict | case | SSIM (worst) | ΔE (worst) | reason |\n|---|---|---|---|---|\n");
    for c in &report.cases {
        let ms: Vec<_> = c
            .samples
            .iter()
            .filter_map(|x| x.metrics.as_ref())
            .collect();
        let ssim = ms
            .iter()
            .map(|m| m.ssim)
            .reduce(f64::min)
            .map_or("-".into(), |v| format!("{v:.4}"));
        let de = ms
            .iter()
            .map(|m| m.delta_e)
            .reduce(f64::max)
            .map_or("-".into(), |v| format!("{v:.2}"));
        s.push_str(&format!(
            "| {} | {}/{} | {ssim} | {de} | {} |\n",
            c.verdict.name(),
            cell(&c.suite),
            cell(&c.id),
            cell(&c.reasons.join("; "))
        ));
    }
    s
}
