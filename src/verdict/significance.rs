//! The statistical tests of one channel: a two-sample t-test on the candidates' mean, and
//! a prediction interval for the worst candidate.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::channel::{Channel, Direction, Region, Signal};

/// One channel's test for one case: the candidates against the baselines' noise floor.
/// In run.json this is an entry of a case's `floors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelTest {
    /// What was tested, by its run.json name.
    pub metric: Signal,
    /// Mean over the candidates (the worst candidate for a worst-sample test).
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
    /// Where in the frame, for the localised channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

impl ChannelTest {
    /// Whether this test, once the run-wide decision marked it significant, is drift.
    #[must_use]
    pub fn flags_drift(&self) -> bool {
        self.significant && self.outside_floor && self.noticeable
    }
}

fn one() -> f64 {
    1.0
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn range(v: &[f64]) -> (f64, f64) {
    (
        v.iter().copied().fold(f64::INFINITY, f64::min),
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// Tests one channel's mean: `baseline` values against `candidate` values, with a
/// two-sample Student t-test (pooled variance, the channel's resolution as the smallest
/// spread, so identical baselines do not turn a rounding difference into certainty).
#[must_use]
pub fn test_mean(channel: Channel, baseline: &[f64], candidate: &[f64]) -> Option<ChannelTest> {
    let spec = channel.spec();
    let (nx, ny) = (baseline.len(), candidate.len());
    if nx < 2 || ny < 1 || baseline.iter().chain(candidate).any(|v| !v.is_finite()) {
        return None;
    }
    let (mx, my) = (mean(baseline), mean(candidate));
    let ss = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>();
    // A centred channel's baselines scatter about zero, not about a mean of their own:
    // the one mean left to estimate is the candidates', so the test keeps a degree of
    // freedom and the candidates' mean is compared with zero, not with a noisy estimate.
    let (null_mean, df, base_ss, base_weight) = if spec.centred {
        (0.0, nx + ny - 1, ss(baseline, 0.0), 0.0)
    } else {
        (
            mx,
            (nx + ny).saturating_sub(2).max(1),
            ss(baseline, mx),
            1.0 / nx as f64,
        )
    };
    let pooled = ((base_ss + ss(candidate, my)) / df as f64).max(spec.sd_floor * spec.sd_floor);
    let se = (pooled * (base_weight + 1.0 / ny as f64)).sqrt();
    let t = (my - null_mean) / se;
    let dist = StudentsT::new(0.0, 1.0, df as f64).ok()?;
    let p_value = match spec.direction {
        Direction::Higher => dist.sf(t),
        Direction::Lower => dist.cdf(t),
        Direction::Both => 2.0 * dist.sf(t.abs()),
    }
    .clamp(0.0, 1.0);
    let (low, high) = range(baseline);
    let outside_floor = match spec.direction {
        Direction::Higher => my > high,
        Direction::Lower => my < low,
        Direction::Both => my > high || my < low,
    };
    Some(ChannelTest {
        metric: Signal::mean(channel),
        value: my,
        low,
        high,
        baseline_mean: mx,
        p_value,
        significant: false,
        outside_floor,
        noticeable: (my - mx).abs() >= spec.min_effect,
        region: None,
    })
}

/// Tests the candidate furthest in the bad direction as a new draw from the baselines
/// would be tested: t = (x − mean) / (s √(1 + 1/n)) with n − 1 degrees of freedom (a
/// prediction interval), one-sided, its p-value multiplied by the number of candidates
/// because the worst of them was picked (Bonferroni). `None` with fewer than 2 values on
/// either side: one candidate is its own mean, which [`test_mean`] already tests.
#[must_use]
pub fn test_worst(channel: Channel, baseline: &[f64], candidate: &[f64]) -> Option<ChannelTest> {
    let spec = channel.spec();
    let (nx, ny) = (baseline.len(), candidate.len());
    if nx < 2 || ny < 2 || baseline.iter().chain(candidate).any(|v| !v.is_finite()) {
        return None;
    }
    let mx = mean(baseline);
    let sd = (baseline.iter().map(|x| (x - mx).powi(2)).sum::<f64>() / (nx - 1) as f64)
        .sqrt()
        .max(spec.sd_floor);
    let (cand_low, cand_high) = range(candidate);
    // Only similarity is worse when lower; a two-way channel's worst is its highest, as
    // for distances.
    let (worst, t_sign) = match spec.direction {
        Direction::Lower => (cand_low, -1.0),
        Direction::Higher | Direction::Both => (cand_high, 1.0),
    };
    let t = t_sign * (worst - mx) / (sd * (1.0 + 1.0 / nx as f64).sqrt());
    let dist = StudentsT::new(0.0, 1.0, (nx - 1) as f64).ok()?;
    let p_value = (dist.sf(t) * ny as f64).clamp(0.0, 1.0);
    let (low, high) = range(baseline);
    Some(ChannelTest {
        metric: Signal::worst(channel),
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
        region: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const YB: Channel = Channel::YellowBlue;

    #[test]
    fn identical_groups_are_not_significant() {
        let f = test_mean(YB, &[1.0, 1.1, 0.9], &[1.05, 0.95, 1.0]).unwrap();
        assert!(f.p_value > 0.5, "{f:?}");
        assert!(!f.outside_floor && !f.noticeable);
    }

    #[test]
    fn a_clear_shift_is_significant_outside_and_noticeable() {
        let f = test_mean(YB, &[1.0, 1.2, 0.9], &[4.1, 4.0, 4.3]).unwrap();
        assert!(f.p_value < 1e-4, "{f:?}");
        assert!(f.outside_floor && f.noticeable);
    }

    #[test]
    fn resolution_floor_keeps_identical_baselines_from_certainty() {
        // Bit-identical baselines have zero spread; a 0.01 shift must not be "certain".
        let f = test_mean(YB, &[2.0, 2.0, 2.0], &[2.01, 2.01, 2.01]).unwrap();
        assert!(f.p_value > 0.5, "{f:?}");
    }

    #[test]
    fn one_sided_for_similarity() {
        let better = test_mean(Channel::Ssim, &[0.99, 0.991, 0.992], &[0.999, 0.999]).unwrap();
        assert!(better.p_value > 0.9 && !better.outside_floor);
        let worse = test_mean(Channel::Ssim, &[0.99, 0.991, 0.992], &[0.95, 0.951]).unwrap();
        assert!(worse.p_value < 1e-3 && worse.outside_floor && worse.noticeable);
    }

    #[test]
    fn one_broken_sample_stands_out_where_the_mean_hides_it() {
        let base = [0.991, 0.992, 0.990, 0.993, 0.991, 0.992];
        let cand = [0.992, 0.991, 0.12, 0.990];
        let mean = test_mean(Channel::Ssim, &base, &cand).unwrap();
        assert!(mean.p_value > 0.05, "{mean:?}");
        let worst = test_worst(Channel::Ssim, &base, &cand).unwrap();
        assert!(worst.p_value < 1e-6, "{worst:?}");
        assert!(worst.outside_floor && worst.noticeable);
        assert_eq!(worst.metric, "ssim_worst");
        // A worst sample inside the baselines' own spread is no evidence.
        let fine = test_worst(Channel::Ssim, &base, &[0.992, 0.991, 0.990]).unwrap();
        assert!(fine.p_value > 0.2 && !fine.outside_floor, "{fine:?}");
        assert!(test_worst(Channel::Ssim, &base, &[0.5]).is_none());
    }

    #[test]
    fn a_centred_channel_compares_the_candidates_with_zero() {
        // A 6% zoom on two candidates, baselines scattered about zero as framing leaves them.
        let base = [0.006, 0.013, -0.006];
        let zoomed = test_mean(Channel::MatchedScale, &base, &[0.058, 0.067]).unwrap();
        assert!(zoomed.p_value < 0.002, "{zoomed:?}");
        assert!(zoomed.outside_floor && zoomed.noticeable);
        // The same numbers on a channel with a mean of its own keep one degree of freedom
        // less and the baselines' mean as an uncertain reference.
        let uncentred = test_mean(Channel::Blockiness, &base, &[0.058, 0.067]).unwrap();
        assert!(uncentred.p_value > 2.0 * zoomed.p_value, "{uncentred:?}");
        let framed = test_mean(Channel::MatchedScale, &base, &[0.004, -0.005, 0.01]).unwrap();
        assert!(framed.p_value > 0.3, "{framed:?}");
    }

    #[test]
    fn too_few_baselines_give_no_test() {
        assert!(test_mean(YB, &[1.0], &[5.0, 5.0]).is_none());
    }
}
