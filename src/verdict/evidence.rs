//! Evidence: each channel's values among the baselines (the noise floor) and for the
//! candidates, built from one case's decoded images and scores.

use image::RgbImage;

use super::channel::Channel;
use super::degenerate::{Candidate, degenerate_reasons};
use super::limits::threshold_reasons;
use super::local::test_local;
use super::significance::{ChannelTest, test_mean, test_worst};
use crate::score::{self, Features, Metrics, Patches};
use crate::suite::Thresholds;

/// What one case's channels are computed from.
#[derive(Debug)]
pub struct Evidence<'a> {
    /// The baselines that decoded, with their signatures.
    pub baselines: Vec<(&'a RgbImage, &'a Features)>,
    /// The candidates that decoded, with their signatures.
    pub candidates: Vec<(&'a RgbImage, &'a Features)>,
    /// Each scored candidate's metrics against the baseline of the same index.
    pub paired: Vec<&'a Metrics>,
    /// The sample index (0-based) of each entry of `candidates`, for reasons that name
    /// a sample.
    pub candidate_samples: Vec<u32>,
}

/// A case weighed: its channel tests and the suite limits it breaks, before the
/// run-wide decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Weighed {
    /// One entry per channel that could be tested, in [`Channel::ALL`] order, each
    /// followed by its worst-sample test where the channel has one.
    pub tests: Vec<ChannelTest>,
    /// Absolute suite limits broken.
    pub limit_reasons: Vec<String>,
    /// Candidate samples that are drift on their own (flat, or another size or aspect),
    /// each named.
    pub degenerate: Vec<String>,
    /// Baseline samples available.
    pub baseline_samples: usize,
}

/// Metrics between two baseline samples, for the noise floor. Only the numbers the
/// channels use are computed; hashes and palettes come from the images' features.
fn within_metrics(a: &RgbImage, b: &RgbImage, fa: &Features, fb: &Features) -> Metrics {
    if a.dimensions() != b.dimensions() {
        return score::score_pair(a, b).metrics;
    }
    let (ssim, _) = score::ssim_luma(a, b);
    let colour = score::colour_stats(a, b);
    Metrics {
        ssim,
        ssim_rgb: f64::NAN,
        phash: (fa.phash ^ fb.phash).count_ones(),
        dhash: (fa.dhash ^ fb.dhash).count_ones(),
        delta_e: colour.delta_e,
        delta_e_p95: colour.delta_e_p95,
        lab_shift: colour.lab_shift,
        palette_delta_e: score::palette_distance(&fa.palette, &fb.palette),
        chroma_shift: colour.chroma_shift,
    }
}

/// The pairs of baselines compared for the noise floor: all pairs for small sample
/// counts, a ring beyond, so the cost stays linear.
fn within_pairs(n: usize) -> Vec<(usize, usize)> {
    if n <= 4 {
        (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .collect()
    } else {
        (0..n).map(|i| (i, (i + 1) % n)).collect()
    }
}

/// Each baseline's value against the other baselines, and each candidate's against all
/// baselines: exchangeable when nothing changed. Baselines get no values with fewer than
/// two of them.
fn leave_one_out<T, R>(base: &[T], cand: &[T], value: impl Fn(&T, &[&T]) -> R) -> (Vec<R>, Vec<R>) {
    let pool = |skip: Option<usize>| -> Vec<&T> {
        base.iter()
            .enumerate()
            .filter(|(j, _)| Some(*j) != skip)
            .map(|(_, p)| p)
            .collect()
    };
    let b = if base.len() < 2 {
        Vec::new()
    } else {
        base.iter()
            .enumerate()
            .map(|(i, x)| value(x, &pool(Some(i))))
            .collect()
    };
    let c = cand.iter().map(|x| value(x, &pool(None))).collect();
    (b, c)
}

/// The fine detail of each image, for the localised channel.
fn details(images: &[(&RgbImage, &Features)]) -> Vec<score::Detail> {
    images.iter().map(|(img, _)| score::detail(img)).collect()
}

/// The values of one channel: among the baselines, and for the candidates.
type Groups = (Vec<f64>, Vec<f64>);

impl Evidence<'_> {
    /// Tests every channel and checks the suite's limits.
    #[must_use]
    pub fn weigh(&self, thresholds: &Thresholds) -> Weighed {
        let within: Vec<Metrics> = within_pairs(self.baselines.len())
            .into_iter()
            .map(|(i, j)| {
                let ((a, fa), (b, fb)) = (self.baselines[i], self.baselines[j]);
                within_metrics(a, b, fa, fb)
            })
            .collect();
        let base_feats: Vec<&Features> = self.baselines.iter().map(|(_, f)| *f).collect();
        let cand_feats: Vec<&Features> = self.candidates.iter().map(|(_, f)| *f).collect();
        let base_patches: Vec<Patches> = self
            .baselines
            .iter()
            .map(|(b, _)| score::patches(b))
            .collect();
        let cand_patches: Vec<Patches> = self
            .candidates
            .iter()
            .map(|(c, _)| score::patches(c))
            .collect();
        let (base_shifts, cand_shifts) = leave_one_out(&base_patches, &cand_patches, |p, pool| {
            score::matched_shift(p, pool)
        });
        let pixel = |f: fn(&Metrics) -> f64| -> Groups {
            (
                within.iter().map(f).collect(),
                self.paired.iter().map(|m| f(m)).collect(),
            )
        };
        let hash = |f: fn(&Features) -> u64| -> Groups {
            leave_one_out(&base_feats, &cand_feats, |x, pool| {
                let d: Vec<f64> = pool
                    .iter()
                    .map(|b| f64::from((f(b) ^ f(x)).count_ones()))
                    .collect();
                d.iter().sum::<f64>() / d.len().max(1) as f64
            })
        };
        // An image without structure (a blank sample) has no matched value: it sits out
        // these channels rather than taking them from the whole case.
        let matched = |k: usize| -> Groups {
            let on_axis =
                |v: &[[f64; 7]]| v.iter().map(|s| s[k]).filter(|v| v.is_finite()).collect();
            (on_axis(&base_shifts), on_axis(&cand_shifts))
        };
        let feature = |f: fn(&Features) -> f64| -> Groups {
            (
                base_feats.iter().map(|x| f(x)).collect(),
                cand_feats.iter().map(|x| f(x)).collect(),
            )
        };
        // Scale features are compared on a log scale.
        let groups = |channel: Channel| -> Groups {
            match channel {
                Channel::Ssim => pixel(|m| m.ssim),
                Channel::DeltaE => pixel(|m| m.delta_e),
                Channel::Phash => hash(|f| f.phash),
                Channel::Dhash => hash(|f| f.dhash),
                Channel::MatchedLightness => matched(0),
                Channel::MatchedRedGreen => matched(1),
                Channel::MatchedYellowBlue => matched(2),
                Channel::MatchedChroma => matched(3),
                Channel::MatchedContrast => matched(4),
                Channel::MatchedDetail => matched(5),
                Channel::MatchedScale => matched(6),
                Channel::Lightness => feature(|f| f.lab_mean[0]),
                Channel::RedGreen => feature(|f| f.lab_mean[1]),
                Channel::YellowBlue => feature(|f| f.lab_mean[2]),
                Channel::Colourfulness => feature(|f| (f.colourfulness + 1.0).ln()),
                Channel::Contrast => feature(|f| (f.contrast + 1.0).ln()),
                Channel::Sharpness => feature(|f| (f.sharpness + 1.0).ln()),
                Channel::Blockiness => feature(|f| f.blockiness.ln()),
                // Tested per place in the frame, from the images themselves (below).
                Channel::Local => (Vec::new(), Vec::new()),
            }
        };
        let mut tests = Vec::new();
        for channel in Channel::ALL {
            if channel == Channel::Local {
                tests.extend(test_local(
                    &details(&self.baselines),
                    &details(&self.candidates),
                ));
                continue;
            }
            let (b, c) = groups(channel);
            tests.extend(test_mean(channel, &b, &c));
            if channel.tests_worst_sample() {
                tests.extend(test_worst(channel, &b, &c));
            }
        }
        let within_refs: Vec<&Metrics> = within.iter().collect();
        let limit_reasons = threshold_reasons(thresholds, &self.paired, &within_refs);
        let base_sized: Vec<((u32, u32), &Features)> = self
            .baselines
            .iter()
            .map(|(b, f)| (b.dimensions(), *f))
            .collect();
        let cands: Vec<Candidate<'_>> = self
            .candidates
            .iter()
            .zip(&self.candidate_samples)
            .map(|((c, f), &index)| Candidate {
                index,
                size: c.dimensions(),
                features: f,
            })
            .collect();
        Weighed {
            tests,
            limit_reasons,
            degenerate: degenerate_reasons(&base_sized, &cands),
            baseline_samples: self.baselines.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matched_channels_are_score_matched_axes_in_order() {
        let matched: Vec<String> = Channel::ALL
            .into_iter()
            .map(Channel::name)
            .filter_map(|n| n.strip_prefix("matched_").map(str::to_string))
            .collect();
        assert_eq!(matched, score::MATCHED_AXES);
    }

    #[test]
    fn noise_floor_pairs_stay_linear_beyond_four_baselines() {
        assert_eq!(within_pairs(3), [(0, 1), (0, 2), (1, 2)]);
        assert_eq!(within_pairs(6).len(), 6);
        assert!(within_pairs(1).is_empty());
    }

    #[test]
    fn a_recoloured_case_is_weighed_on_every_channel() {
        let img = |shade: u8| {
            RgbImage::from_fn(64, 64, |x, y| {
                image::Rgb([
                    shade.saturating_add((x * 3) as u8),
                    (y * 3) as u8,
                    ((x + y) * 2) as u8,
                ])
            })
        };
        let (bases, cands) = ([img(10), img(11), img(12)], [img(100), img(101), img(102)]);
        let feats = |v: &[RgbImage]| v.iter().map(score::features).collect::<Vec<_>>();
        let (bf, cf) = (feats(&bases), feats(&cands));
        let paired: Vec<Metrics> = bases
            .iter()
            .zip(&cands)
            .map(|(b, c)| score::score_pair(b, c).metrics)
            .collect();
        let evidence = Evidence {
            baselines: bases.iter().zip(&bf).collect(),
            candidates: cands.iter().zip(&cf).collect(),
            paired: paired.iter().collect(),
            candidate_samples: vec![0, 1, 2],
        };
        let weighed = evidence.weigh(&Thresholds::default());
        assert_eq!(weighed.baseline_samples, 3);
        let names: Vec<&str> = weighed.tests.iter().map(|t| t.metric.as_str()).collect();
        assert_eq!(
            &names[..4],
            ["ssim", "ssim_worst", "delta_e", "delta_e_worst"]
        );
        let de = &weighed.tests[2];
        assert!(
            de.outside_floor && de.noticeable && de.p_value < 0.01,
            "{de:?}"
        );
        assert!(weighed.limit_reasons.is_empty());
        assert!(weighed.degenerate.is_empty());
    }

    /// Weighs candidates against three baselines of a textured scene and decides the case
    /// alone at the default false-discovery rate.
    fn judged(cands: &[RgbImage]) -> (Weighed, super::super::Decision) {
        let bases = [textured(0), textured(1), textured(2)];
        let feats = |v: &[RgbImage]| v.iter().map(score::features).collect::<Vec<_>>();
        let (bf, cf) = (feats(&bases), feats(cands));
        let paired: Vec<Metrics> = bases
            .iter()
            .zip(cands)
            .map(|(b, c)| score::score_pair(b, c).metrics)
            .collect();
        let weighed = Evidence {
            baselines: bases.iter().zip(&bf).collect(),
            candidates: cands.iter().zip(&cf).collect(),
            paired: paired.iter().collect(),
            candidate_samples: (0..).take(cands.len()).collect(),
        }
        .weigh(&Thresholds::default());
        let case = super::super::CaseEvidence {
            tests: &weighed.tests,
            limit_reasons: &weighed.limit_reasons,
            degenerate: &weighed.degenerate,
            baseline_samples: weighed.baseline_samples,
            scored: paired.len(),
        };
        let decision = super::super::decide(&[Some(case)], super::super::DEFAULT_FDR)
            .remove(0)
            .unwrap();
        (weighed, decision)
    }

    fn textured(seed: u32) -> RgbImage {
        RgbImage::from_fn(64, 48, |x, y| {
            let v = (x * 5 + y * 3 + seed) % 256;
            image::Rgb([v as u8, (255 - v) as u8, ((x * y) % 256) as u8])
        })
    }

    #[test]
    fn a_flat_candidate_among_normal_ones_is_drift_named_first() {
        let flat = RgbImage::from_pixel(64, 48, image::Rgb([128, 128, 128]));
        let (weighed, d) = judged(&[textured(3), flat, textured(4)]);
        let reason = "sample 2 is a flat grey image (luma sd 0.0): a filtered or failed generation";
        assert_eq!(weighed.degenerate, [reason]);
        assert_eq!(d.outcome, super::super::Outcome::Drift);
        assert_eq!(d.reasons[0], reason);
    }

    #[test]
    fn normal_candidates_raise_no_degenerate_reason() {
        let (weighed, d) = judged(&[textured(1), textured(2), textured(0)]);
        assert!(weighed.degenerate.is_empty());
        assert_eq!(d.outcome, super::super::Outcome::Pass, "{:?}", d.reasons);
    }

    #[test]
    fn a_candidate_at_another_size_is_drift_named_first() {
        let small = image::imageops::resize(&textured(3), 32, 24, image::imageops::Triangle);
        let (weighed, d) = judged(&[textured(3), textured(4), small]);
        let reason = "sample 3 is 32x24 where the baseline size is 64x48: a different size";
        assert_eq!(weighed.degenerate, [reason]);
        assert!(weighed.limit_reasons.is_empty());
        assert_eq!(d.outcome, super::super::Outcome::Drift);
        assert_eq!(d.reasons[0], reason);
    }
}
