//! What a night cost: the list-price estimate next to what the platforms reported.
//!
//! The estimate is `price_per_image` times the images that came back; the reported
//! figures are the platforms' own, summed over the samples that carried one, in the
//! unit each platform bills in (dollars from OpenRouter, billable units from fal, model
//! seconds from Replicate). They are never converted into each other: a rate card
//! driftgate does not know would turn a fact into a guess.

use serde::{Deserialize, Serialize};

use crate::provider::Metadata;

/// `stats.spend` in `run.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    /// Candidate images the providers returned in this run.
    pub images: u64,
    /// `price_per_image` times those images, over the suites that set a price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_usd: Option<f64>,
    /// Dollars the platforms reported (OpenRouter `usage.cost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_usd: Option<f64>,
    /// fal billable units reported (`x-fal-billable-units`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_units: Option<f64>,
    /// Replicate model seconds reported (`metrics.predict_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predict_time_s: Option<f64>,
    /// Images whose provider reported at least one of the three figures above.
    #[serde(default)]
    pub reported_images: u64,
}

impl Spend {
    /// Counts one returned image: `price` is its suite's `price_per_image`, `meta` what
    /// its platform reported.
    pub(crate) fn add(&mut self, price: Option<f64>, meta: &Metadata) {
        fn sum(total: &mut Option<f64>, v: Option<f64>) {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                *total = Some(total.unwrap_or(0.0) + v);
            }
        }
        self.images += 1;
        sum(&mut self.estimated_usd, price);
        sum(&mut self.reported_usd, meta.cost_usd);
        sum(&mut self.billable_units, meta.billable_units);
        sum(&mut self.predict_time_s, meta.predict_time_s);
        if meta.cost_usd.is_some() || meta.billable_units.is_some() || meta.predict_time_s.is_some()
        {
            self.reported_images += 1;
        }
    }

    /// One line for people: `est. $0.12 · reported $0.10 (3 of 4 images)`, with the
    /// platform figures that have no dollar value in their own unit.
    #[must_use]
    pub fn line(&self) -> String {
        let mut parts = vec![match self.estimated_usd {
            Some(e) => format!("est. ${e:.2}"),
            None => "est. - (no price_per_image)".to_string(),
        }];
        let mut reported = Vec::new();
        if let Some(v) = self.reported_usd {
            reported.push(format!("${v:.4}"));
        }
        if let Some(v) = self.billable_units {
            reported.push(format!("{v} fal billable units"));
        }
        if let Some(v) = self.predict_time_s {
            reported.push(format!("{v:.1} s Replicate predict time"));
        }
        if reported.is_empty() {
            parts.push("reported: none".to_string());
        } else {
            parts.push(format!(
                "reported {} ({} of {} images)",
                reported.join(" + "),
                self.reported_images,
                self.images
            ));
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::RunReport;

    /// A run with one OpenRouter, one fal and one Replicate candidate, and a failed
    /// sample that produced no image.
    pub(crate) fn night() -> RunReport {
        serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": "r1", "verdict": "pass",
            "suites": [{"suite": "rep", "model": {}, "fingerprint_changes": []}],
            "cases": [
                {"suite": "or", "id": "a", "verdict": "pass", "reasons": [], "samples": [
                    {"index": 0, "provider": {"duration_ms": 1, "cost_usd": 0.04}},
                    {"index": 1, "error": "timed out"}]},
                {"suite": "fal", "id": "b", "verdict": "pass", "reasons": [], "samples": [
                    {"index": 0, "provider": {"duration_ms": 1, "billable_units": 1.0}}]},
                {"suite": "rep", "id": "c", "verdict": "pass", "reasons": [], "samples": [
                    {"index": 0, "provider": {"duration_ms": 1, "predict_time_s": 3.25,
                     "no_version_evidence": true, "seed_not_honoured": true}}]}
            ],
            "stats": {"requests": 4, "retries": 1, "duration_s": 2.0}
        }))
        .expect("run.json")
    }

    #[test]
    fn sums_each_platform_in_its_own_unit() {
        let r = night();
        let s = Spend::tally(&r.cases, |suite| (suite != "fal").then_some(0.03));
        assert_eq!(s.images, 3);
        assert_eq!(s.reported_images, 3);
        assert!((s.estimated_usd.unwrap() - 0.06).abs() < 1e-9);
        assert_eq!(s.reported_usd, Some(0.04));
        assert_eq!(s.billable_units, Some(1.0));
        assert_eq!(s.predict_time_s, Some(3.25));
        assert_eq!(
            s.line(),
            "est. $0.06 · reported $0.0400 + 1 fal billable units + 3.2 s Replicate predict time (3 of 3 images)"
        );
        let none = Spend::tally(&r.cases[1..2], |_| None);
        assert_eq!(
            none.line(),
            "est. - (no price_per_image) · reported 1 fal billable units (1 of 1 images)"
        );
        assert_eq!(
            Spend::default().line(),
            "est. - (no price_per_image) · reported: none"
        );
    }

    #[test]
    fn is_an_optional_addition_to_run_json() {
        let mut r = night();
        assert_eq!(r.stats.spend, None);
        r.stats.spend = Some(Spend::tally(&r.cases, |_| Some(0.03)));
        let v = serde_json::to_value(&r).expect("serialises");
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["stats"]["spend"]["images"], 3);
        assert_eq!(v["stats"]["spend"]["reported_usd"], 0.04);
        let back: RunReport = serde_json::from_value(v).expect("reads back");
        assert_eq!(back.stats.spend, r.stats.spend);
    }
}
