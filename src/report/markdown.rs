//! `summary.md`: a compact table for CI step summaries and PR comments: the cases that
//! need a look first, each with its key metric against its limit and noise floor; the
//! passing ones folded away so a large suite stays readable.

use std::fmt::Write;

use super::model::{CaseReport, CaseVerdict, RunReport, RunVerdict};
use super::text::{Provenance, metric_table};

/// A table cell: one line, no column breaks, no markup.
fn cell(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "'")
}

fn icon(v: CaseVerdict) -> &'static str {
    match v {
        CaseVerdict::Pass => "✅ pass",
        CaseVerdict::Drift => "❌ drift",
        CaseVerdict::Error => "🛑 error",
        CaseVerdict::Inconclusive => "❔ inconclusive",
    }
}

/// The case's key metric: the first one outside its limit, else structural similarity.
/// Returns (metric and value, limit and noise floor).
fn key_metric(c: &CaseReport) -> (String, String) {
    let rows = metric_table(c);
    let Some(row) = rows.iter().find(|r| !r.ok).or_else(|| rows.first()) else {
        return ("-".into(), "-".into());
    };
    let mut limit = row.limit.replace(">=", "≥").replace("<=", "≤");
    if let Some(f) = c.floors.iter().find(|f| f.metric == row.key) {
        let _ = write!(limit, " · floor {:.4}–{:.4}", f.low, f.high);
    }
    (format!("{} {}", row.name, row.value), limit)
}

fn row(s: &mut String, c: &CaseReport) {
    let (metric, limit) = key_metric(c);
    let _ = writeln!(
        s,
        "| {} | {}/{} | {} | {} | {} |",
        icon(c.verdict),
        cell(&c.suite),
        cell(&c.id),
        cell(&metric),
        cell(&limit),
        cell(&c.reasons.join("; "))
    );
}

const HEAD: &str =
    "| verdict | case | key metric | limit · noise floor | reason |\n|---|---|---|---|---|\n";

/// Renders the Markdown summary.
#[must_use]
pub fn render_markdown(report: &RunReport) -> String {
    let title = match report.verdict {
        RunVerdict::Pass => "✅ no drift",
        RunVerdict::Drift => "❌ drift found",
        RunVerdict::Incomplete => "⚠️ incomplete",
    };
    let mut s = format!(
        "## driftgate: {title}\n\n{} cases: {} drifted, {} errors, {} inconclusive, {} passed · {}, {} retries, {:.1} s · run `{}`\n\n",
        report.cases.len(),
        report.count(CaseVerdict::Drift),
        report.count(CaseVerdict::Error),
        report.count(CaseVerdict::Inconclusive),
        report.count(CaseVerdict::Pass),
        report.stats.requests_label(),
        report.stats.retries,
        report.stats.duration_s,
        cell(&report.run_id),
    );
    if let Some(spend) = &report.stats.spend {
        let _ = writeln!(s, "Spend: {}\n", cell(&spend.line()));
    }
    if let Some(line) = report.shards.as_ref().and_then(super::Shards::missing_line) {
        let _ = writeln!(s, "⚠️ {}\n", cell(&line));
    }
    for suite in &report.suites {
        for note in Provenance::of_suite(report, &suite.suite).notes() {
            let _ = writeln!(s, "ℹ️ **{}**: {note}\n", cell(&suite.suite));
        }
        for f in &suite.fingerprint_changes {
            let _ = writeln!(
                s,
                "⚠️ **{}**: the provider now reports `{}` = `{}` (baseline: `{}`)\n",
                cell(&suite.suite),
                cell(&f.field),
                cell(f.candidate.as_deref().unwrap_or("-")),
                cell(f.baseline.as_deref().unwrap_or("-")),
            );
        }
    }
    let (passed, other): (Vec<&CaseReport>, Vec<&CaseReport>) = report
        .cases
        .iter()
        .partition(|c| c.verdict == CaseVerdict::Pass);
    if !other.is_empty() {
        s.push_str(HEAD);
        for c in &other {
            row(&mut s, c);
        }
        s.push('\n');
    }
    if !passed.is_empty() {
        let _ = write!(
            s,
            "<details><summary>{} passed</summary>\n\n{HEAD}",
            passed.len()
        );
        for c in &passed {
            row(&mut s, c);
        }
        s.push_str("\n</details>\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Spend;

    #[test]
    fn shows_the_spend_and_what_the_fingerprint_cannot_prove() {
        let mut r = crate::report::spend::tests::night();
        let plain = render_markdown(&r);
        assert!(!plain.contains("Spend:"), "{plain}");
        r.stats.spend = Some(Spend::tally(&r.cases, |_| Some(0.03)));
        let md = render_markdown(&r);
        assert!(
            md.contains("Spend: est. $0.09 · reported $0.0400 + 1 fal billable units + 3.2 s Replicate predict time (3 of 3 images)\n"),
            "{md}"
        );
        assert!(
            md.contains("ℹ️ **rep**: no version evidence from this route"),
            "{md}"
        );
        assert!(
            md.contains("ℹ️ **rep**: seed not honoured by this endpoint"),
            "{md}"
        );
    }
}
