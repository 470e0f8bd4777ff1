//! The words of a verdict: one line per flagged channel, and why a case could not be
//! judged.

use super::channel::{Change, Channel};
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

/// A noise floor from `low` to `high` at `decimals`, or its one value when the baselines
/// agree to that precision: "0.974-0.974" would read as a range that is not there.
fn floor(low: f64, high: f64, decimals: usize, sep: &str) -> String {
    let (lo, hi) = (format!("{low:.decimals$}"), format!("{high:.decimals$}"));
    if lo == hi {
        format!("{lo} (the baselines agree)")
    } else {
        format!("{lo}{sep}{hi}")
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
            "{name} distance {:.1} above noise floor {}",
            f.value,
            floor(f.low, f.high, 0, "-")
        )
    };
    let axis = |axis: &str, matched: bool| {
        let (of, at) = if matched {
            ("", " in matched regions")
        } else {
            ("mean ", "")
        };
        let (lo, hi) = (
            signed(f.low - f.baseline_mean),
            signed(f.high - f.baseline_mean),
        );
        let span = if lo == hi {
            format!("{lo} (the baselines agree)")
        } else {
            format!("{lo}..{hi}")
        };
        format!("{word}: {of}{axis} {delta:+.1}{at}, outside noise floor {span}")
    };
    // Matched regions compare the logs of contrast and detail between paired patches, so
    // their difference is a log ratio and reads as a percentage.
    let matched_ratio = || {
        format!(
            "{word} by {:.0}% in matched regions, outside noise floor",
            (delta.exp() - 1.0).abs() * 100.0
        )
    };
    // Per-image features are tested as ln(1 + x) (blockiness as ln x); the words undo the
    // log, so the change reads in the quantity's own unit: exp(Δ) - 1 of ln(1 + x) values
    // is not the change of x, and overstated it wherever x is small.
    let level = |quantity: &str, undo: fn(f64) -> f64, decimals: usize| {
        let (before, after) = (undo(f.baseline_mean), undo(f.value));
        let change = if before.abs() > f64::EPSILON {
            format!(" ({:+.0}%)", (after / before - 1.0) * 100.0)
        } else {
            String::new()
        };
        format!(
            "{word}: {quantity} {before:.decimals$} -> {after:.decimals$}{change}, outside noise floor {}",
            floor(undo(f.low), undo(f.high), decimals, "-")
        )
    };
    let ln_1p = |v: f64| v.exp() - 1.0;
    match channel {
        Channel::Ssim => format!(
            "{one}SSIM {:.3} below noise floor {}",
            f.value,
            floor(f.low, f.high, 3, "-")
        ),
        Channel::DeltaE => format!(
            "{one}colour ΔE {:.1} above noise floor {}",
            f.value,
            floor(f.low, f.high, 1, "-")
        ),
        Channel::Phash | Channel::Dhash => hash(channel.name()),
        Channel::Lightness => axis("L*", false),
        Channel::RedGreen => axis("a*", false),
        Channel::YellowBlue => axis("b*", false),
        Channel::MatchedLightness => axis("L*", true),
        Channel::MatchedRedGreen => axis("a*", true),
        Channel::MatchedYellowBlue => axis("b*", true),
        Channel::MatchedChroma => axis("C*", true),
        Channel::MatchedContrast | Channel::MatchedDetail => matched_ratio(),
        Channel::MatchedScale => {
            let pct = |v: f64| format!("{:+.0}%", (v.exp() - 1.0) * 100.0);
            let (lo, hi) = (pct(f.low - f.baseline_mean), pct(f.high - f.baseline_mean));
            let span = if lo == hi {
                format!("{lo} (the baselines agree)")
            } else {
                format!("{lo}..{hi}")
            };
            format!(
                "{word}: things {:.0}% {} in the frame in matched regions, outside noise floor {span}",
                (delta.exp() - 1.0).abs() * 100.0,
                if delta > 0.0 { "larger" } else { "smaller" }
            )
        }
        Channel::Colourfulness => level("colourfulness", ln_1p, 1),
        Channel::Contrast => level("luma contrast (sd)", ln_1p, 1),
        Channel::Sharpness => level("sharpness (mean |Laplacian|)", ln_1p, 2),
        Channel::Blockiness => level("blockiness", f64::exp, 2),
        Channel::Local => local(f),
    }
}

/// "bottom-right: a new pattern repeated in all 3 samples (a stamp, caption or border?)".
fn local(f: &ChannelTest) -> String {
    let Some(r) = &f.region else {
        return format!(
            "one place in the frame changed (detail correlation +{:.2})",
            f.value
        );
    };
    let all = match r.samples {
        2 => "both samples".to_string(),
        n => format!("all {n} samples"),
    };
    let what = match r.change {
        Change::New => format!(
            "a new pattern repeated in {all} that no baseline has (a stamp, caption or border?)"
        ),
        Change::Changed => format!("changed the same way in {all}"),
        Change::Gone => format!("detail every baseline shares there is missing in {all}"),
    };
    format!("{}: {what}", r.name)
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
    fn a_floor_of_one_value_reads_as_one_value() {
        let f = test_worst(Channel::Ssim, &[0.974, 0.974, 0.974], &[0.974, 0.5]).unwrap();
        assert_eq!(
            describe(&f),
            "one sample's SSIM 0.500 below noise floor 0.974 (the baselines agree)"
        );
    }

    #[test]
    fn a_feature_change_reads_in_its_own_unit() {
        // Sharpness 1.0 -> 0.2 is 80% softer; exp(Δ) - 1 of the ln(1 + x) values said 46%.
        let ln1p = |x: f64| (x + 1.0).ln();
        let f = test_mean(
            Channel::Sharpness,
            &[ln1p(1.0), ln1p(1.02), ln1p(0.98)],
            &[ln1p(0.2), ln1p(0.21), ln1p(0.19)],
        )
        .unwrap();
        assert_eq!(
            describe(&f),
            "softer: sharpness (mean |Laplacian|) 1.00 -> 0.20 (-80%), outside noise floor 0.98-1.02"
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
    fn matched_log_ratios_read_as_percentages() {
        let f = test_mean(
            Channel::MatchedDetail,
            &[0.0, 0.01, -0.01],
            &[-0.5, -0.49, -0.51],
        )
        .unwrap();
        assert_eq!(
            describe(&f),
            "softer by 39% in matched regions, outside noise floor"
        );
    }
}
