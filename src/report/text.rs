//! Shared wording: metric rows against thresholds, what a run's provenance cannot
//! prove, and the terminal summary.

use super::model::{CaseReport, CaseVerdict, RunReport, SampleReport};

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
        "dominant brand colours, matched by share (a transport plan)",
        format!("{pal:.2}"),
        t.palette
            .map_or("-".into(), |l| format!("<= {}", l.max_delta_e)),
        t.palette.is_none_or(|l| pal <= l.max_delta_e),
    ));
    rows
}

/// What a set of candidates cannot prove about the build that served them or the seed
/// they were drawn with. One definition for every report, so summary.md and the page
/// never disagree about a suite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Provenance {
    /// A route answered without naming its build: an unchanged fingerprint proves
    /// nothing about it.
    pub(crate) no_version_evidence: bool,
    /// The seed pinned nothing: left out for an endpoint that declares none, or sent to
    /// one the endpoint catalogue says drops it or never confirms it.
    pub(crate) seed_not_honoured: bool,
}

/// [`Provenance::no_version_evidence`] in words.
pub(crate) const NO_VERSION_EVIDENCE: &str = "no version evidence from this route (the platform reports the version as hidden), so an unchanged fingerprint does not prove an unchanged build";
/// [`Provenance::seed_not_honoured`] in words.
pub(crate) const SEED_NOT_HONOURED: &str =
    "seed not honoured by this endpoint; samples are independent draws";

impl Provenance {
    /// Over `samples`, and the suite's model pin as run.json carries it (`None` for
    /// `compare`, which has no pin).
    pub(crate) fn of<'a>(
        samples: impl IntoIterator<Item = &'a SampleReport>,
        pin: Option<&serde_json::Value>,
    ) -> Self {
        let flag = |k: &str| {
            pin.and_then(|p| p.get(k))
                .and_then(serde_json::Value::as_bool)
        };
        // The pin leaves `seed_honoured` out when it is true; a seed the suite does not
        // send cannot fail to pin anything.
        let mut found = Self {
            no_version_evidence: false,
            seed_not_honoured: flag("seed_honoured") == Some(false)
                && flag("send_seed").unwrap_or(true),
        };
        for m in samples.into_iter().filter_map(|s| s.provider.as_ref()) {
            found.no_version_evidence |= m.no_version_evidence;
            found.seed_not_honoured |= m.seed_not_honoured;
        }
        found
    }

    /// Over every candidate of `suite` in `report`, and the suite's pin.
    pub(crate) fn of_suite(report: &RunReport, suite: &str) -> Self {
        let pin = report
            .suites
            .iter()
            .find(|s| s.suite == suite)
            .map(|s| &s.model);
        let mut found = Self::of([], pin);
        for c in report.cases.iter().filter(|c| c.suite == suite) {
            let p = Self::of(c.samples.get().iter(), None);
            found.no_version_evidence |= p.no_version_evidence;
            found.seed_not_honoured |= p.seed_not_honoured;
        }
        found
    }

    /// The notes a reader needs, in words; empty when the evidence is whole.
    pub(crate) fn notes(self) -> Vec<&'static str> {
        [
            (self.no_version_evidence, NO_VERSION_EVIDENCE),
            (self.seed_not_honoured, SEED_NOT_HONOURED),
        ]
        .into_iter()
        .filter_map(|(on, note)| on.then_some(note))
        .collect()
    }
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
    // Only a spend with a figure in it: a line saying "none" after every offline run
    // would teach readers to skip it. Above the summary line, which `-q` prints alone.
    if let Some(spend) = report
        .stats
        .spend
        .as_ref()
        .filter(|sp| sp.estimated_usd.is_some() || sp.reported_images > 0)
    {
        s.push_str(&format!("spend: {}\n", spend.line()));
    }
    if let Some(line) = report.shards.as_ref().and_then(super::Shards::missing_line) {
        s.push_str(&format!("INCOMPLETE   {line}\n"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Spend;

    #[test]
    fn the_spend_comes_before_the_summary_line_and_only_with_a_figure() {
        let mut r = crate::report::spend::tests::night();
        let dir = std::path::Path::new("out");
        let plain = human_summary(&r, Some(dir));
        assert!(!plain.contains("spend:"), "{plain}");
        r.stats.spend = Some(Spend::default());
        assert_eq!(
            human_summary(&r, Some(dir)),
            plain,
            "a spend of nothing is left out"
        );
        r.stats.spend = Some(Spend::tally(&r.cases, |_| Some(0.03)));
        let text = human_summary(&r, Some(dir));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[lines.len() - 3],
            "spend: est. $0.09 · reported $0.0400 + 1 fal billable units + 3.2 s Replicate predict time (3 of 3 images)"
        );
        // `-q` prints the line before the last one.
        assert!(
            lines[lines.len() - 2].starts_with("PASS: 3 passed"),
            "{text}"
        );
    }

    #[test]
    fn provenance_takes_the_samples_and_the_suites_pin() {
        let r = crate::report::spend::tests::night();
        let rep = Provenance::of_suite(&r, "rep");
        assert!(rep.no_version_evidence && rep.seed_not_honoured);
        assert_eq!(rep.notes(), [NO_VERSION_EVIDENCE, SEED_NOT_HONOURED]);
        assert_eq!(Provenance::of_suite(&r, "or"), Provenance::default());
        assert!(Provenance::of_suite(&r, "or").notes().is_empty());
        let pin =
            serde_json::json!({ "provider": "ark", "send_seed": true, "seed_honoured": false });
        let ark = Provenance::of([], Some(&pin));
        assert!(ark.seed_not_honoured && !ark.no_version_evidence);
        // A pin that sends no seed has none to lose; one that says nothing honours it.
        let unsent = serde_json::json!({ "send_seed": false, "seed_honoured": false });
        assert!(!Provenance::of([], Some(&unsent)).seed_not_honoured);
        let plain = serde_json::json!({ "provider": "sim", "send_seed": true });
        assert!(!Provenance::of([], Some(&plain)).seed_not_honoured);
    }
}
