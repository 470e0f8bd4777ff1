//! The words of a verdict: one line per flagged channel, and why a case could not be
//! judged.

use super::channel::Channel;
use super::significance::ChannelTest;

/// A sample's number in words: 1-based, as the report shows samples (the index stays
/// 0-based in run.json and file names).
pub(crate) fn sample_number(index: u32) -> u32 {
    index.saturating_add(1)
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

/// The words for a flagged channel, e.g. "warmer: mean b* +3.1, outside noise floor
/// -0.2..+0.4". A worst-sample test reads as its channel, said of one sample.
pub(crate) fn describe(f: &ChannelTest) -> String {
    let channel = f.metric.channel;
    let spec = channel.spec();
    let delta = f.value - f.baseline_mean;
    let word = if delta > 0.0 {
        spec.words.0
    } else {
        spec.words.1
    };
    let one = if f.metric.worst { "one sample's " } else { "" };
    let hash = |name: &str| {
        format!(
            "{name} distance {:.1} above noise floor {:.0}-{:.0}",
            f.value, f.low, f.high
        )
    };
    let axis = |axis: &str, matched: bool| {
        let (of, at) = if matched {
            ("", " in matched regions")
        } else {
            ("mean ", "")
        };
        format!(
            "{word}: {of}{axis} {delta:+.1}{at}, outside noise floor {}..{}",
            signed(f.low - f.baseline_mean),
            signed(f.high - f.baseline_mean)
        )
    };
    // Scale channels are compared on a log scale: the change reads as a percentage.
    let relative = |matched: bool| {
        let at = if matched { " in matched regions" } else { "" };
        format!(
            "{word} by {:.0}%{at}, outside noise floor",
            (delta.exp() - 1.0).abs() * 100.0
        )
    };
    match channel {
        Channel::Ssim => format!(
            "{one}SSIM {:.3} below noise floor {:.3}-{:.3}",
            f.value, f.low, f.high
        ),
        Channel::DeltaE => format!(
            "{one}colour ΔE {:.1} above noise floor {:.1}-{:.1}",
            f.value, f.low, f.high
        ),
        Channel::Phash | Channel::Dhash => hash(channel.name()),
        Channel::Lightness => axis("L*", false),
        Channel::RedGreen => axis("a*", false),
        Channel::YellowBlue => axis("b*", false),
        Channel::MatchedLightness => axis("L*", true),
        Channel::MatchedRedGreen => axis("a*", true),
        Channel::MatchedYellowBlue => axis("b*", true),
        Channel::MatchedChroma => axis("C*", true),
        Channel::MatchedContrast | Channel::MatchedDetail => relative(true),
        Channel::Colourfulness | Channel::Contrast | Channel::Sharpness | Channel::Blockiness => {
            relative(false)
        }
    }
}

/// Why a case with no drift found is inconclusive rather than a pass.
pub(crate) fn too_few_samples(baseline: usize, scored: usize) -> String {
    format!(
        "too few samples to tell drift from noise: {baseline} baseline and {scored} candidate; need at least 2 of each (samples: 3 recommended), so {} more",
        2usize
            .saturating_sub(baseline)
            .max(2usize.saturating_sub(scored))
    )
}

/// The count of flagged channels not spelled out.
pub(crate) fn more_signals(n: usize) -> String {
    format!("{n} more signals outside the noise floor")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::significance::{test_mean, test_worst};

    #[test]
    fn a_shift_reads_as_its_direction_and_axis() {
        let f = test_mean(Channel::YellowBlue, &[1.0, 1.2, 0.9], &[4.1, 4.0, 4.3]).unwrap();
        assert_eq!(
            describe(&f),
            "warmer: mean b* +3.1, outside noise floor -0.1..+0.2"
        );
        let m = test_mean(
            Channel::MatchedYellowBlue,
            &[1.0, 1.2, 0.9],
            &[4.1, 4.0, 4.3],
        )
        .unwrap();
        assert_eq!(
            describe(&m),
            "warmer: b* +3.1 in matched regions, outside noise floor -0.1..+0.2"
        );
    }

    #[test]
    fn narrow_floors_keep_their_hundredths() {
        let f = test_mean(Channel::YellowBlue, &[2.0, 2.02, 1.99], &[4.0, 4.1, 4.05]).unwrap();
        assert_eq!(
            describe(&f),
            "warmer: mean b* +2.0, outside noise floor -0.01..+0.02"
        );
        assert_eq!(signed(-0.001), "+0.00");
    }

    #[test]
    fn a_worst_sample_is_said_of_one_sample() {
        let base = [0.991, 0.992, 0.990, 0.993, 0.991, 0.992];
        let worst = test_worst(Channel::Ssim, &base, &[0.992, 0.991, 0.12, 0.990]).unwrap();
        assert_eq!(
            describe(&worst),
            "one sample's SSIM 0.120 below noise floor 0.990-0.993"
        );
    }

    #[test]
    fn scale_channels_read_as_percentages() {
        let f = test_mean(Channel::Sharpness, &[1.0, 1.01, 0.99], &[0.5, 0.51, 0.49]).unwrap();
        assert_eq!(describe(&f), "softer by 39%, outside noise floor");
    }
}
