//! The decision across the run: Benjamini–Hochberg over every channel of every case, then
//! per case drift, pass or inconclusive.

use super::significance::ChannelTest;
use super::wording::{describe, more_signals, too_few_samples};

/// Default false-discovery rate for a nightly gate: about one false alarm in a hundred
/// nights when nothing changed.
pub const DEFAULT_FDR: f64 = 0.01;

/// Channel reasons spelled out per case; the rest are counted (run.json has them all).
const MAX_REASONS: usize = 3;

/// What the decision needs to know of one judged case.
#[derive(Debug, Clone, Copy)]
pub struct CaseEvidence<'a> {
    /// The case's channel tests.
    pub tests: &'a [ChannelTest],
    /// Suite limits the case breaks.
    pub limit_reasons: &'a [String],
    /// Degenerate candidate samples, each named: drift whatever the statistics say.
    pub degenerate: &'a [String],
    /// Baseline samples available.
    pub baseline_samples: usize,
    /// Candidate samples scored.
    pub scored: usize,
}

/// How a judged case came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Inside the limits and the noise floor.
    Pass,
    /// Too few samples to tell.
    Inconclusive,
    /// Outside the limits or the noise floor.
    Drift,
}

/// The decision for one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Per channel test, in the order given: whether it survived the false-discovery
    /// control.
    pub significant: Vec<bool>,
    /// The outcome.
    pub outcome: Outcome,
    /// Why, in words.
    pub reasons: Vec<String>,
}

/// Decides every case of a run at once at false-discovery rate `fdr`. `None` entries are
/// cases that could not be judged (an error): they take no part and get no decision.
#[must_use]
pub fn decide(cases: &[Option<CaseEvidence<'_>>], fdr: f64) -> Vec<Option<Decision>> {
    let mut ps: Vec<(f64, usize, usize)> = Vec::new();
    for (ci, c) in cases.iter().enumerate() {
        if let Some(c) = c {
            for (fi, f) in c.tests.iter().enumerate() {
                ps.push((f.p_value, ci, fi));
            }
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
    let mut significant: Vec<Vec<bool>> = cases
        .iter()
        .map(|c| vec![false; c.map_or(0, |c| c.tests.len())])
        .collect();
    for &(_, ci, fi) in &ps[..cutoff] {
        significant[ci][fi] = true;
    }
    cases
        .iter()
        .zip(significant)
        .map(|(c, significant)| c.map(|c| decide_case(&c, significant)))
        .collect()
}

fn decide_case(c: &CaseEvidence<'_>, significant: Vec<bool>) -> Decision {
    let mut flagged: Vec<ChannelTest> = c
        .tests
        .iter()
        .zip(&significant)
        .map(|(f, &s)| ChannelTest {
            significant: s,
            ..f.clone()
        })
        .filter(ChannelTest::flags_drift)
        .collect();
    flagged.sort_by(|a, b| a.p_value.total_cmp(&b.p_value));
    // A named broken sample is the plainest thing to act on, so it leads.
    let mut reasons: Vec<String> = c.degenerate.to_vec();
    reasons.extend(flagged.iter().take(MAX_REASONS).map(describe));
    if flagged.len() > MAX_REASONS {
        reasons.push(more_signals(flagged.len() - MAX_REASONS));
    }
    reasons.extend(c.limit_reasons.iter().cloned());
    let outcome = if !reasons.is_empty() {
        Outcome::Drift
    } else if c.baseline_samples < 2 || c.scored < 2 {
        reasons.push(too_few_samples(c.baseline_samples, c.scored));
        Outcome::Inconclusive
    } else {
        Outcome::Pass
    };
    Decision {
        significant,
        outcome,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Channel;
    use crate::verdict::significance::test_mean;

    fn case(tests: &[ChannelTest]) -> CaseEvidence<'_> {
        CaseEvidence {
            tests,
            limit_reasons: &[],
            degenerate: &[],
            baseline_samples: 3,
            scored: 3,
        }
    }

    #[test]
    fn a_clear_shift_drifts_and_noise_passes() {
        let shift = [test_mean(Channel::YellowBlue, &[1.0, 1.2, 0.9], &[4.1, 4.0, 4.3]).unwrap()];
        let noise = [test_mean(Channel::YellowBlue, &[1.0, 1.1, 0.9], &[1.05, 0.95, 1.0]).unwrap()];
        let d = decide(&[Some(case(&shift)), Some(case(&noise)), None], 0.01);
        let shifted = d[0].as_ref().unwrap();
        assert_eq!(shifted.outcome, Outcome::Drift);
        assert_eq!(shifted.significant, [true]);
        assert_eq!(shifted.reasons.len(), 1);
        let quiet = d[1].as_ref().unwrap();
        assert_eq!(
            (quiet.outcome, quiet.significant.as_slice()),
            (Outcome::Pass, &[false][..])
        );
        assert!(d[2].is_none());
    }

    #[test]
    fn many_borderline_p_values_do_not_all_survive() {
        // Fifty channels at p = 0.02 exceed a 1% false-discovery rate: none is drift.
        let mut t = test_mean(Channel::YellowBlue, &[1.0, 1.2, 0.9], &[4.1, 4.0, 4.3]).unwrap();
        t.p_value = 0.02;
        let tests = vec![t; 50];
        let d = decide(&[Some(case(&tests))], 0.01);
        let d = d[0].as_ref().unwrap();
        assert!(d.significant.iter().all(|s| !s));
        assert_eq!(d.outcome, Outcome::Pass);
    }

    #[test]
    fn limits_drift_and_too_few_samples_are_inconclusive() {
        let limits = ["beyond the suite's limits: SSIM 0.5 < 0.9".to_string()];
        let over = CaseEvidence {
            limit_reasons: &limits,
            ..case(&[])
        };
        let few = CaseEvidence {
            baseline_samples: 1,
            ..case(&[])
        };
        let d = decide(&[Some(over), Some(few)], 0.01);
        assert_eq!(d[0].as_ref().unwrap().outcome, Outcome::Drift);
        let few = d[1].as_ref().unwrap();
        assert_eq!(few.outcome, Outcome::Inconclusive);
        assert!(few.reasons[0].ends_with("so 1 more"), "{:?}", few.reasons);
    }

    #[test]
    fn a_degenerate_sample_drifts_first_without_taking_part_in_the_fdr() {
        let flat = [
            "sample 2 is a flat grey image (luma sd 0.0): a filtered or failed generation"
                .to_string(),
        ];
        let shift = [test_mean(Channel::YellowBlue, &[1.0, 1.2, 0.9], &[4.1, 4.0, 4.3]).unwrap()];
        let both = CaseEvidence {
            degenerate: &flat,
            ..case(&shift)
        };
        // Alone, with nothing significant and too few samples for statistics, it still
        // makes the case drift.
        let alone = CaseEvidence {
            degenerate: &flat,
            baseline_samples: 1,
            scored: 1,
            ..case(&[])
        };
        let d = decide(&[Some(both), Some(alone)], 0.01);
        let both = d[0].as_ref().unwrap();
        assert_eq!(both.outcome, Outcome::Drift);
        assert_eq!(both.reasons.len(), 2, "{:?}", both.reasons);
        assert_eq!(both.reasons[0], flat[0]);
        assert_eq!(both.significant, [true]);
        let alone = d[1].as_ref().unwrap();
        assert_eq!(
            (alone.outcome, alone.reasons.as_slice()),
            (Outcome::Drift, &flat[..])
        );
        assert!(alone.significant.is_empty());
    }
}
