//! Verdicts: telling drift from sampling noise, with false alarms controlled across
//! the whole run.
//!
//! Every case is looked at through *channels*. A pairwise channel (SSIM, ΔE, pHash,
//! dHash, structure-matched colour, contrast and detail) compares how far each candidate
//! sits from the baselines with how far the baseline samples sit from each other: the
//! spread among baselines is the case's noise floor. A feature channel (mean L*, a*, b*,
//! colourfulness, contrast, sharpness, JPEG blockiness) compares a per-image signature
//! across the two groups of samples, which still works when samples differ in
//! composition. Each channel gets a two-sample Student t-test (pooled variance, with a
//! small resolution floor so identical baselines do not turn a rounding difference into
//! certainty), and the p-values of all channels of all cases of the run go through
//! Benjamini–Hochberg at the run's false-discovery rate.
//!
//! A channel flags drift only when all three hold: it survives the false-discovery
//! control; the candidates' mean lies outside the range the baselines spanned (outside
//! the noise floor); and the change is at least one just-noticeable step for that
//! channel. The suite's thresholds remain absolute limits on top, applied to the median
//! sample wherever the baselines themselves meet them.
//!
//! Palette ΔE is not a channel: k-means can split a near-identical image into a
//! different set of dominant colours, so the value jumps without the pixels changing
//! (a false alarm in a seeded noise-only run). It stays a metric and a brand limit; the
//! matched-region and mean-colour channels carry the colour evidence.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::report::{CaseReport, CaseVerdict};
use crate::score::Metrics;
use crate::suite::Thresholds;

/// Default false-discovery rate for a nightly gate: about one false alarm in a hundred
/// nights when nothing changed.
pub const DEFAULT_FDR: f64 = 0.01;

/// Channel reasons spelled out per case; the rest are counted (run.json has them all).
const MAX_REASONS: usize = 3;

/// Which way a channel can go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower is worse (similarity).
    Lower,
    /// Higher is worse (distance).
    Higher,
    /// Either way is a change (signature features).
    Both,
}

/// How one channel is tested and worded.
#[derive(Debug, Clone, Copy)]
pub struct ChannelSpec {
    /// Name used in run.json and the report.
    pub metric: &'static str,
    /// Which way is drift.
    pub direction: Direction,
    /// Smallest standard deviation assumed: the channel's measurement resolution.
    pub sd_floor: f64,
    /// Smallest change that counts: about one just-noticeable difference.
    pub min_effect: f64,
    /// Words for an increase and a decrease.
    pub words: (&'static str, &'static str),
}

/// Pairwise channels measured on pixels: each candidate against the baseline of the same
/// index, against the distances among the baselines themselves.
pub const PIXEL_PAIRS: &[ChannelSpec] = &[
    ChannelSpec {
        metric: "ssim",
        direction: Direction::Lower,
        sd_floor: 0.0005,
        min_effect: 0.005,
        words: ("more similar", "structure changed"),
    },
    ChannelSpec {
        metric: "delta_e",
        direction: Direction::Higher,
        sd_floor: 0.05,
        min_effect: 1.0,
        words: ("colour changed", "colour closer"),
    },
];

/// The pixel channels once more for the single worst candidate: a mean over the samples
/// dilutes one broken sample (a blank or garbled image among four) until its test sees
/// nothing, while against the baselines' own spread that one sample stands out.
pub const WORST_PAIRS: &[ChannelSpec] = &[
    ChannelSpec {
        metric: "ssim_worst",
        direction: Direction::Lower,
        sd_floor: 0.0005,
        min_effect: 0.005,
        words: ("more similar", "structure changed"),
    },
    ChannelSpec {
        metric: "delta_e_worst",
        direction: Direction::Higher,
        sd_floor: 0.05,
        min_effect: 1.0,
        words: ("colour changed", "colour closer"),
    },
];

/// Pairwise channels computed from per-image signatures, cheap enough to compare every
/// candidate with every baseline: each image's mean hash distance to the baselines, or its
/// median difference from structure-matched patches of the baselines (`score::matched`),
/// leaving itself out, is its value. The `matched_*` channels see a grade, an exposure or
/// contrast change or a softer rendering across framings, where image means cannot.
pub const SIGNATURE_PAIRS: &[ChannelSpec] = &[
    ChannelSpec {
        metric: "phash",
        direction: Direction::Higher,
        sd_floor: 0.5,
        min_effect: 2.0,
        words: ("composition changed", "composition closer"),
    },
    ChannelSpec {
        metric: "dhash",
        direction: Direction::Higher,
        sd_floor: 0.5,
        min_effect: 2.0,
        words: ("gradients changed", "gradients closer"),
    },
    ChannelSpec {
        metric: "matched_lightness",
        direction: Direction::Both,
        sd_floor: 0.1,
        min_effect: 1.0,
        words: ("lighter", "darker"),
    },
    ChannelSpec {
        metric: "matched_red_green",
        direction: Direction::Both,
        sd_floor: 0.1,
        min_effect: 1.0,
        words: ("redder", "greener"),
    },
    ChannelSpec {
        metric: "matched_yellow_blue",
        direction: Direction::Both,
        sd_floor: 0.1,
        min_effect: 1.0,
        words: ("warmer", "cooler"),
    },
    ChannelSpec {
        metric: "matched_chroma",
        direction: Direction::Both,
        sd_floor: 0.1,
        min_effect: 1.0,
        words: ("more saturated", "less saturated"),
    },
    ChannelSpec {
        metric: "matched_contrast",
        direction: Direction::Both,
        sd_floor: 0.005,
        min_effect: 0.05,
        words: ("more contrast", "less contrast"),
    },
    ChannelSpec {
        metric: "matched_detail",
        direction: Direction::Both,
        sd_floor: 0.01,
        min_effect: 0.14,
        words: ("sharper", "softer"),
    },
];

/// The per-image feature channels. Colourfulness, contrast, sharpness and blockiness are
/// compared on a log scale, so their minimum effects are relative (5%, 5%, 15%, 10%).
pub const FEATURES: &[ChannelSpec] = &[
    ChannelSpec {
        metric: "lightness",
        direction: Direction::Both,
        sd_floor: 0.1,
        min_effect: 1.0,
        words: ("lighter", "darker"),
    },
    ChannelSpec {
        metric: "red_green",
        direction: Direction::Both,
        sd_floor: 0.1,
        min_effect: 1.0,
        words: ("redder", "greener"),
    },
    ChannelSpec {
        metric: "yellow_blue",
        direction: Direction::Both,
        sd_floor: 0.1,
        min_effect: 1.0,
        words: ("warmer", "cooler"),
    },
    ChannelSpec {
        metric: "colourfulness",
        direction: Direction::Both,
        sd_floor: 0.005,
        min_effect: 0.05,
        words: ("more saturated", "less saturated"),
    },
    ChannelSpec {
        metric: "contrast",
        direction: Direction::Both,
        sd_floor: 0.005,
        min_effect: 0.05,
        words: ("more contrast", "less contrast"),
    },
    ChannelSpec {
        metric: "sharpness",
        direction: Direction::Both,
        sd_floor: 0.01,
        min_effect: 0.14,
        words: ("sharper", "softer"),
    },
    ChannelSpec {
        metric: "blockiness",
        direction: Direction::Both,
        sd_floor: 0.005,
        min_effect: 0.095,
        words: ("blockier", "less blocky"),
    },
];

/// The values of one channel for one case, before the run-wide decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricFloor {
    /// Channel name.
    pub metric: String,
    /// Mean over the candidates.
    pub value: f64,
    /// Lowest value among the baselines: the noise floor's lower end.
    pub low: f64,
    /// Highest value among the baselines: the noise floor's upper end.
    pub high: f64,
    /// Mean over the baselines.
    #[serde(default)]
    pub baseline_mean: f64,
    /// Test p-value (one-sided for pairwise channels, two-sided for features).
    #[serde(default = "one")]
    pub p_value: f64,
    /// Whether the channel survived the run's false-discovery control.
    #[serde(default)]
    pub significant: bool,
    /// Whether the candidates' mean lies outside the baseline range in the bad direction.
    #[serde(default)]
    pub outside_floor: bool,
    /// Whether the change reaches the channel's minimum effect.
    #[serde(default)]
    pub noticeable: bool,
}

fn one() -> f64 {
    1.0
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Tests one channel: `baseline` values against `candidate` values.
#[must_use]
pub fn test_channel(
    spec: &ChannelSpec,
    baseline: &[f64],
    candidate: &[f64],
) -> Option<MetricFloor> {
    let (nx, ny) = (baseline.len(), candidate.len());
    if nx < 2 || ny < 1 || baseline.iter().chain(candidate).any(|v| !v.is_finite()) {
        return None;
    }
    let (mx, my) = (mean(baseline), mean(candidate));
    let ss = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>();
    let df = (nx + ny).saturating_sub(2).max(1);
    let pooled =
        ((ss(baseline, mx) + ss(candidate, my)) / df as f64).max(spec.sd_floor * spec.sd_floor);
    let se = (pooled * (1.0 / nx as f64 + 1.0 / ny as f64)).sqrt();
    let t = (my - mx) / se;
    let dist = StudentsT::new(0.0, 1.0, df as f64).ok()?;
    let p_value = match spec.direction {
        Direction::Higher => dist.sf(t),
        Direction::Lower => dist.cdf(t),
        Direction::Both => 2.0 * dist.sf(t.abs()),
    }
    .clamp(0.0, 1.0);
    let low = baseline.iter().copied().fold(f64::INFINITY, f64::min);
    let high = baseline.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let outside_floor = match spec.direction {
        Direction::Higher => my > high,
        Direction::Lower => my < low,
        Direction::Both => my > high || my < low,
    };
    Some(MetricFloor {
        metric: spec.metric.to_string(),
        value: my,
        low,
        high,
        baseline_mean: mx,
        p_value,
        significant: false,
        outside_floor,
        noticeable: (my - mx).abs() >= spec.min_effect,
    })
}

/// Tests the candidate furthest in the bad direction as a new draw from the baselines
/// would be tested: t = (x − mean) / (s √(1 + 1/n)) with n − 1 degrees of freedom (a
/// prediction interval), one-sided, its p-value multiplied by the number of candidates
/// because the worst of them was picked (Bonferroni). `None` with fewer than 2 values on
/// either side: one candidate is its own mean, which [`test_channel`] already tests.
#[must_use]
pub fn test_worst(spec: &ChannelSpec, baseline: &[f64], candidate: &[f64]) -> Option<MetricFloor> {
    let (nx, ny) = (baseline.len(), candidate.len());
    if nx < 2 || ny < 2 || baseline.iter().chain(candidate).any(|v| !v.is_finite()) {
        return None;
    }
    let mx = mean(baseline);
    let sd = (baseline.iter().map(|x| (x - mx).powi(2)).sum::<f64>() / (nx - 1) as f64)
        .sqrt()
        .max(spec.sd_floor);
    let (worst, t_sign) = match spec.direction {
        Direction::Lower => (
            candidate.iter().copied().fold(f64::INFINITY, f64::min),
            -1.0,
        ),
        _ => (
            candidate.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            1.0,
        ),
    };
    let t = t_sign * (worst - mx) / (sd * (1.0 + 1.0 / nx as f64).sqrt());
    let dist = StudentsT::new(0.0, 1.0, (nx - 1) as f64).ok()?;
    let p_value = (dist.sf(t) * ny as f64).clamp(0.0, 1.0);
    let low = baseline.iter().copied().fold(f64::INFINITY, f64::min);
    let high = baseline.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(MetricFloor {
        metric: spec.metric.to_string(),
        value: worst,
        low,
        high,
        baseline_mean: mx,
        p_value,
        significant: false,
        outside_floor: if t_sign < 0.0 {
            worst < low
        } else {
            worst > high
        },
        noticeable: (worst - mx).abs() >= spec.min_effect,
    })
}

fn spec(metric: &str) -> Option<&'static ChannelSpec> {
    PIXEL_PAIRS
        .iter()
        .chain(WORST_PAIRS)
        .chain(SIGNATURE_PAIRS)
        .chain(FEATURES)
        .find(|s| s.metric == metric)
}

/// A signed offset with one decimal, or two when one would read as "-0.0" (a
/// near-deterministic case's floor is often hundredths wide).
fn signed(v: f64) -> String {
    if v.abs() >= 0.095 {
        format!("{v:+.1}")
    } else {
        format!("{:+.2}", if v.abs() < 0.005 { 0.0 } else { v })
    }
}

/// The words for a flagged channel, e.g. "warmer: b* +3.1 (noise floor -0.2..0.4)".
fn describe(f: &MetricFloor) -> String {
    let Some(s) = spec(&f.metric) else {
        return format!("{} changed", f.metric);
    };
    let delta = f.value - f.baseline_mean;
    let one = if f.metric.ends_with("_worst") {
        "one sample's "
    } else {
        ""
    };
    match f.metric.trim_end_matches("_worst") {
        "ssim" => format!(
            "{one}SSIM {:.3} below noise floor {:.3}-{:.3}",
            f.value, f.low, f.high
        ),
        "delta_e" => format!(
            "{one}colour ΔE {:.1} above noise floor {:.1}-{:.1}",
            f.value, f.low, f.high
        ),
        "phash" | "dhash" => format!(
            "{} distance {:.1} above noise floor {:.0}-{:.0}",
            f.metric, f.value, f.low, f.high
        ),
        "lightness"
        | "red_green"
        | "yellow_blue"
        | "matched_lightness"
        | "matched_red_green"
        | "matched_yellow_blue"
        | "matched_chroma" => {
            let axis = match f.metric.trim_start_matches("matched_") {
                "lightness" => "L*",
                "red_green" => "a*",
                "yellow_blue" => "b*",
                _ => "C*",
            };
            let (of, at) = if f.metric.starts_with("matched_") {
                ("", " in matched regions")
            } else {
                ("mean ", "")
            };
            let word = if delta > 0.0 { s.words.0 } else { s.words.1 };
            format!(
                "{word}: {of}{axis} {delta:+.1}{at}, outside noise floor {}..{}",
                signed(f.low - f.baseline_mean),
                signed(f.high - f.baseline_mean)
            )
        }
        _ => {
            let word = if delta > 0.0 { s.words.0 } else { s.words.1 };
            let at = if f.metric.starts_with("matched_") {
                " in matched regions"
            } else {
                ""
            };
            format!(
                "{word} by {:.0}%{at}, outside noise floor",
                (delta.exp() - 1.0).abs() * 100.0
            )
        }
    }
}

/// Absolute limits on the median sample. A limit applies only where every pair of
/// baseline samples meets it: a stochastic case whose own samples differ by more than
/// the limit is not failed for being stochastic (its noise-floor channels still judge it).
#[must_use]
pub fn threshold_reasons(
    thresholds: &Thresholds,
    metrics: &[&Metrics],
    within: &[&Metrics],
) -> Vec<String> {
    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            f64::NAN
        } else if n % 2 == 1 {
            v[n / 2]
        } else {
            f64::midpoint(v[n / 2 - 1], v[n / 2])
        }
    }
    let mut reasons = Vec::new();
    if metrics.is_empty() {
        return reasons;
    }
    type Get = fn(&Metrics) -> f64;
    let within_max = |f: Get| {
        within
            .iter()
            .map(|m| f(m))
            .fold(f64::NEG_INFINITY, f64::max)
    };
    if let Some(t) = thresholds.ssim {
        let v = median(metrics.iter().map(|m| m.ssim).collect());
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
            let v = median(metrics.iter().map(|m| f(m)).collect());
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

/// Decides every case of a run at once: Benjamini–Hochberg over all channels' p-values,
/// then per case drift, pass or inconclusive. Cases already in `error` stay so.
pub fn decide(cases: &mut [CaseReport], fdr: f64) {
    let mut ps: Vec<(f64, usize, usize)> = Vec::new();
    for (ci, c) in cases.iter().enumerate() {
        if c.verdict == CaseVerdict::Error {
            continue;
        }
        for (fi, f) in c.floors.iter().enumerate() {
            ps.push((f.p_value, ci, fi));
        }
    }
    ps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let m = ps.len() as f64;
    let cutoff = ps
        .iter()
        .enumerate()
        .filter(|(k, (p, _, _))| *p <= fdr * (*k as f64 + 1.0) / m)
        .map(|(k, _)| k + 1)
        .max()
        .unwrap_or(0);
    for &(_, ci, fi) in &ps[..cutoff] {
        cases[ci].floors[fi].significant = true;
    }
    for c in cases.iter_mut() {
        if c.verdict == CaseVerdict::Error {
            continue;
        }
        let mut flagged: Vec<&MetricFloor> = c
            .floors
            .iter()
            .filter(|f| f.significant && f.outside_floor && f.noticeable)
            .collect();
        flagged.sort_by(|a, b| a.p_value.total_cmp(&b.p_value));
        let mut reasons: Vec<String> = flagged
            .iter()
            .take(MAX_REASONS)
            .map(|f| describe(f))
            .collect();
        if flagged.len() > MAX_REASONS {
            reasons.push(format!(
                "{} more signals outside the noise floor",
                flagged.len() - MAX_REASONS
            ));
        }
        reasons.extend(c.limit_reasons.iter().cloned());
        let scored = c
            .samples
            .get()
            .iter()
            .filter(|s| s.metrics.is_some())
            .count();
        c.verdict = if !reasons.is_empty() {
            CaseVerdict::Drift
        } else if c.baseline_samples < 2 || scored < 2 {
            reasons.push(format!(
                "too few samples to tell drift from noise: {} baseline and {scored} candidate; need at least 2 of each (samples: 3 recommended), so {} more",
                c.baseline_samples,
                2usize.saturating_sub(c.baseline_samples).max(2usize.saturating_sub(scored))
            ));
            CaseVerdict::Inconclusive
        } else {
            CaseVerdict::Pass
        };
        c.reasons = reasons;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YB: ChannelSpec = FEATURES[2];

    #[test]
    fn identical_groups_are_not_significant() {
        let f = test_channel(&YB, &[1.0, 1.1, 0.9], &[1.05, 0.95, 1.0]).unwrap();
        assert!(f.p_value > 0.5, "{f:?}");
        assert!(!f.outside_floor && !f.noticeable);
    }

    #[test]
    fn a_clear_shift_is_significant_outside_and_noticeable() {
        let f = test_channel(&YB, &[1.0, 1.2, 0.9], &[4.1, 4.0, 4.3]).unwrap();
        assert!(f.p_value < 1e-4, "{f:?}");
        assert!(f.outside_floor && f.noticeable);
        assert_eq!(
            describe(&f),
            "warmer: mean b* +3.1, outside noise floor -0.1..+0.2"
        );
    }

    #[test]
    fn narrow_floors_keep_their_hundredths() {
        let f = test_channel(&YB, &[2.0, 2.02, 1.99], &[4.0, 4.1, 4.05]).unwrap();
        assert_eq!(
            describe(&f),
            "warmer: mean b* +2.0, outside noise floor -0.01..+0.02"
        );
        assert_eq!(signed(-0.001), "+0.00");
    }

    #[test]
    fn resolution_floor_keeps_identical_baselines_from_certainty() {
        // Bit-identical baselines have zero spread; a 0.01 shift must not be "certain".
        let f = test_channel(&YB, &[2.0, 2.0, 2.0], &[2.01, 2.01, 2.01]).unwrap();
        assert!(f.p_value > 0.5, "{f:?}");
    }

    #[test]
    fn one_sided_for_similarity() {
        let better = test_channel(&PIXEL_PAIRS[0], &[0.99, 0.991, 0.992], &[0.999, 0.999]).unwrap();
        assert!(better.p_value > 0.9 && !better.outside_floor);
        let worse = test_channel(&PIXEL_PAIRS[0], &[0.99, 0.991, 0.992], &[0.95, 0.951]).unwrap();
        assert!(worse.p_value < 1e-3 && worse.outside_floor && worse.noticeable);
    }

    #[test]
    fn one_broken_sample_stands_out_where_the_mean_hides_it() {
        let base = [0.991, 0.992, 0.990, 0.993, 0.991, 0.992];
        let cand = [0.992, 0.991, 0.12, 0.990];
        let mean = test_channel(&PIXEL_PAIRS[0], &base, &cand).unwrap();
        assert!(mean.p_value > 0.05, "{mean:?}");
        let worst = test_worst(&WORST_PAIRS[0], &base, &cand).unwrap();
        assert!(worst.p_value < 1e-6, "{worst:?}");
        assert!(worst.outside_floor && worst.noticeable);
        assert_eq!(
            describe(&worst),
            "one sample's SSIM 0.120 below noise floor 0.990-0.993"
        );
        // A worst sample inside the baselines' own spread is no evidence.
        let fine = test_worst(&WORST_PAIRS[0], &base, &[0.992, 0.991, 0.990]).unwrap();
        assert!(fine.p_value > 0.2 && !fine.outside_floor, "{fine:?}");
        assert!(test_worst(&WORST_PAIRS[0], &base, &[0.5]).is_none());
    }

    #[test]
    fn too_few_baselines_give_no_test() {
        assert!(test_channel(&YB, &[1.0], &[5.0, 5.0]).is_none());
    }
}
