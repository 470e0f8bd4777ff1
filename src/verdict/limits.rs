//! The suite's thresholds: absolute limits on the median sample, on top of the
//! noise-floor channels.

use crate::score::{Metrics, median};
use crate::suite::Thresholds;

/// Absolute limits on the median sample. A limit applies only where every pair of
/// baseline samples meets it: a stochastic case whose own samples differ by more than
/// the limit is not failed for being stochastic (its noise-floor channels still judge it).
#[must_use]
pub fn threshold_reasons(
    thresholds: &Thresholds,
    metrics: &[&Metrics],
    within: &[&Metrics],
) -> Vec<String> {
    type Get = fn(&Metrics) -> f64;
    // A NaN score sorts past every number here, as it always has: it is not filtered out.
    let median_of = |f: Get| median(metrics.iter().map(|m| f(m)).collect()).unwrap_or(f64::NAN);
    let mut reasons = Vec::new();
    if metrics.is_empty() {
        return reasons;
    }
    let within_max = |f: Get| {
        within
            .iter()
            .map(|m| f(m))
            .fold(f64::NEG_INFINITY, f64::max)
    };
    if let Some(t) = thresholds.ssim {
        let v = median_of(|m| m.ssim);
        let floor = within.iter().map(|m| m.ssim).fold(f64::INFINITY, f64::min);
        if v < t.min && floor >= t.min {
            reasons.push(format!("SSIM {v:.3} < {}", t.min));
        }
    }
    let limits: [(&str, Option<f64>, Get); 4] = [
        (
            "pHash distance",
            thresholds.phash.map(|t| f64::from(t.max_distance)),
            |m| f64::from(m.phash),
        ),
        (
            "dHash distance",
            thresholds.dhash.map(|t| f64::from(t.max_distance)),
            |m| f64::from(m.dhash),
        ),
        (
            "colour ΔE",
            thresholds.delta_e.map(|t| t.max_delta_e),
            |m| m.delta_e,
        ),
        (
            "palette ΔE",
            thresholds.palette.map(|t| t.max_delta_e),
            |m| m.palette_delta_e,
        ),
    ];
    for (name, limit, f) in limits {
        if let Some(limit) = limit {
            let v = median_of(f);
            if v > limit && within_max(f) <= limit {
                reasons.push(format!("{name} {v:.1} > {limit}"));
            }
        }
    }
    if reasons.is_empty() {
        reasons
    } else {
        vec![format!("beyond the suite's limits: {}", reasons.join(", "))]
    }
}
