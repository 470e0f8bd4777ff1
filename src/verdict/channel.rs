//! The channels a case is looked at through, and how each is tested and worded.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// Where a channel's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Pairwise on pixels: each candidate against the baseline of the same index, against
    /// the distances among the baselines themselves.
    Pixels,
    /// Pairwise from per-image signatures, cheap enough to compare every candidate with
    /// every baseline: each image's mean hash distance to the baselines, or its median
    /// difference from structure-matched patches of the baselines (`score::matched`),
    /// leaving itself out. The matched channels see a grade, an exposure or contrast
    /// change or a softer rendering across framings, where image means cannot.
    Signatures,
    /// A per-image feature compared across the two groups of samples. Colourfulness,
    /// contrast, sharpness and blockiness are compared on a log scale, so their minimum
    /// effects are relative (5%, 5%, 15%, 10%).
    Features,
    /// Per place in the frame: how the samples' fine detail correlates there, within and
    /// across the two groups (`verdict::local`).
    Regions,
}

/// One channel. The order of [`Channel::ALL`] is the order of `floors` in run.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Luma SSIM.
    Ssim,
    /// Mean CIEDE2000.
    DeltaE,
    /// pHash distance.
    Phash,
    /// dHash distance.
    Dhash,
    /// L* in structure-matched regions.
    MatchedLightness,
    /// a* in structure-matched regions.
    MatchedRedGreen,
    /// b* in structure-matched regions.
    MatchedYellowBlue,
    /// C* in structure-matched regions.
    MatchedChroma,
    /// Contrast in structure-matched regions.
    MatchedContrast,
    /// Detail in structure-matched regions.
    MatchedDetail,
    /// Size of things in the frame, in structure-matched regions (log scale).
    MatchedScale,
    /// Mean L*.
    Lightness,
    /// Mean a*.
    RedGreen,
    /// Mean b*.
    YellowBlue,
    /// Colourfulness (log scale).
    Colourfulness,
    /// Contrast (log scale).
    Contrast,
    /// Sharpness (log scale).
    Sharpness,
    /// JPEG blockiness (log scale).
    Blockiness,
    /// A change confined to one place in the frame.
    Local,
}

/// How one channel is tested and worded.
#[derive(Debug, Clone, Copy)]
pub struct ChannelSpec {
    /// Which way is drift.
    pub direction: Direction,
    /// Smallest standard deviation assumed: the channel's measurement resolution.
    pub sd_floor: f64,
    /// Smallest change that counts: about one just-noticeable difference.
    pub min_effect: f64,
    /// Whether the baselines' values are each measured against the other baselines, so
    /// that with nothing changed they scatter about zero (a difference between exchangeable
    /// samples), and the candidates', measured the same way, do too.
    pub centred: bool,
    /// Words for an increase and a decrease.
    pub words: (&'static str, &'static str),
}

const fn spec(
    direction: Direction,
    sd_floor: f64,
    min_effect: f64,
    words: (&'static str, &'static str),
) -> ChannelSpec {
    ChannelSpec {
        direction,
        sd_floor,
        min_effect,
        centred: false,
        words,
    }
}

impl ChannelSpec {
    const fn centred(self) -> Self {
        Self {
            centred: true,
            ..self
        }
    }
}

impl Channel {
    /// Every channel, in run.json order.
    pub const ALL: [Self; 19] = [
        Self::Ssim,
        Self::DeltaE,
        Self::Phash,
        Self::Dhash,
        Self::MatchedLightness,
        Self::MatchedRedGreen,
        Self::MatchedYellowBlue,
        Self::MatchedChroma,
        Self::MatchedContrast,
        Self::MatchedDetail,
        Self::MatchedScale,
        Self::Lightness,
        Self::RedGreen,
        Self::YellowBlue,
        Self::Colourfulness,
        Self::Contrast,
        Self::Sharpness,
        Self::Blockiness,
        Self::Local,
    ];

    /// Name in run.json and the report.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Ssim => "ssim",
            Self::DeltaE => "delta_e",
            Self::Phash => "phash",
            Self::Dhash => "dhash",
            Self::MatchedLightness => "matched_lightness",
            Self::MatchedRedGreen => "matched_red_green",
            Self::MatchedYellowBlue => "matched_yellow_blue",
            Self::MatchedChroma => "matched_chroma",
            Self::MatchedContrast => "matched_contrast",
            Self::MatchedDetail => "matched_detail",
            Self::MatchedScale => "matched_scale",
            Self::Lightness => "lightness",
            Self::RedGreen => "red_green",
            Self::YellowBlue => "yellow_blue",
            Self::Colourfulness => "colourfulness",
            Self::Contrast => "contrast",
            Self::Sharpness => "sharpness",
            Self::Blockiness => "blockiness",
            Self::Local => "local",
        }
    }

    /// Where the values come from.
    #[must_use]
    pub fn source(self) -> Source {
        match self {
            Self::Ssim | Self::DeltaE => Source::Pixels,
            Self::Phash
            | Self::Dhash
            | Self::MatchedLightness
            | Self::MatchedRedGreen
            | Self::MatchedYellowBlue
            | Self::MatchedChroma
            | Self::MatchedContrast
            | Self::MatchedDetail
            | Self::MatchedScale => Source::Signatures,
            Self::Lightness
            | Self::RedGreen
            | Self::YellowBlue
            | Self::Colourfulness
            | Self::Contrast
            | Self::Sharpness
            | Self::Blockiness => Source::Features,
            Self::Local => Source::Regions,
        }
    }

    /// Whether the single worst candidate is tested too. A mean over the samples dilutes
    /// one broken sample (a blank or garbled image among four) until its test sees
    /// nothing, while against the baselines' own spread that one sample stands out. The
    /// pixel channels compare each candidate with its own baseline, so one sample's
    /// value means something on its own.
    #[must_use]
    pub fn tests_worst_sample(self) -> bool {
        self.source() == Source::Pixels
    }

    /// How the channel is tested and worded.
    #[must_use]
    pub fn spec(self) -> ChannelSpec {
        use Direction::{Both, Higher, Lower};
        let spec = match self {
            Self::Ssim => spec(Lower, 0.0005, 0.005, ("more similar", "structure changed")),
            Self::DeltaE => spec(Higher, 0.05, 1.0, ("colour changed", "colour closer")),
            Self::Phash => spec(
                Higher,
                0.5,
                2.0,
                ("composition changed", "composition closer"),
            ),
            Self::Dhash => spec(Higher, 0.5, 2.0, ("gradients changed", "gradients closer")),
            Self::MatchedLightness | Self::Lightness => spec(Both, 0.1, 1.0, ("lighter", "darker")),
            Self::MatchedRedGreen | Self::RedGreen => spec(Both, 0.1, 1.0, ("redder", "greener")),
            Self::MatchedYellowBlue | Self::YellowBlue => {
                spec(Both, 0.1, 1.0, ("warmer", "cooler"))
            }
            Self::MatchedChroma => spec(Both, 0.1, 1.0, ("more saturated", "less saturated")),
            Self::Colourfulness => spec(Both, 0.005, 0.05, ("more saturated", "less saturated")),
            Self::MatchedContrast | Self::Contrast => {
                spec(Both, 0.005, 0.05, ("more contrast", "less contrast"))
            }
            Self::MatchedDetail | Self::Sharpness => spec(Both, 0.01, 0.14, ("sharper", "softer")),
            // Log scale; a 3% change of size is about the Weber fraction for length,
            // resolved to a tenth of the 4% step between the scales looked at.
            Self::MatchedScale => spec(Both, 0.004, 0.03, ("zoomed in", "zoomed out")),
            Self::Blockiness => spec(Both, 0.005, 0.095, ("blockier", "less blocky")),
            // The statistic is in Fisher-transformed correlation of fine detail; 0.3
            // (a correlation of about 0.3 that was not there, or is no longer) is where a
            // pattern repeated over varying texture becomes visible: contrast masking
            // hides a pattern weaker than about a third of the texture it sits on.
            Self::Local => spec(Higher, 0.0, 0.3, ("changed in one place", "")),
        };
        // Matched values are differences between samples, each baseline's against the
        // other baselines: exchangeable samples give zero on average.
        if self.source() == Source::Signatures && !matches!(self, Self::Phash | Self::Dhash) {
            spec.centred()
        } else {
            spec
        }
    }
}

/// How the detail at a place changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// The candidates share something there that the baselines do not.
    New,
    /// The candidates agree among themselves and the baselines among themselves, but
    /// the two no longer agree there.
    Changed,
    /// The baselines share something there that the candidates lost.
    Gone,
}

/// Where in the frame a localised change is, as fractions of the frame (0..=1, from the
/// top-left corner), and what kind of change it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
    /// The place in words: "top-left", "bottom", "centre", ...
    pub name: String,
    /// What changed there.
    pub change: Change,
    /// Candidate samples the change is seen across.
    pub samples: usize,
}

/// What one test result is about: a channel, over the candidates' mean or over their
/// worst sample. It reads and serialises as its run.json name (`ssim`, `ssim_worst`,
/// `lightness`, ...), so the report can show and match it as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signal {
    /// The channel.
    pub channel: Channel,
    /// Whether this is the worst-sample test rather than the mean's.
    pub worst: bool,
}

impl Signal {
    /// The test of the candidates' mean.
    #[must_use]
    pub fn mean(channel: Channel) -> Self {
        Self {
            channel,
            worst: false,
        }
    }

    /// The test of the worst candidate.
    #[must_use]
    pub fn worst(channel: Channel) -> Self {
        Self {
            channel,
            worst: true,
        }
    }

    /// Name in run.json and the report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match (self.channel, self.worst) {
            (Channel::Ssim, true) => "ssim_worst",
            (Channel::DeltaE, true) => "delta_e_worst",
            (c, _) => c.name(),
        }
    }
}

impl std::ops::Deref for Signal {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<&str> for Signal {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Signal {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no channel's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel `{0}`")]
pub struct UnknownChannel(pub String);

impl FromStr for Signal {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (base, worst) = match s.strip_suffix("_worst") {
            Some(b) => (b, true),
            None => (s, false),
        };
        Channel::ALL
            .into_iter()
            .find(|c| c.name() == base && (!worst || c.tests_worst_sample()))
            .map(|channel| Self { channel, worst })
            .ok_or_else(|| UnknownChannel(s.to_string()))
    }
}

impl Serialize for Signal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Signal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signal_name_reads_back() {
        for c in Channel::ALL {
            let mut signals = vec![Signal::mean(c)];
            if c.tests_worst_sample() {
                signals.push(Signal::worst(c));
            }
            for s in signals {
                assert_eq!(s.as_str().parse::<Signal>(), Ok(s));
                let json = serde_json::to_string(&s).unwrap();
                assert_eq!(serde_json::from_str::<Signal>(&json).unwrap(), s);
            }
        }
        assert!("phash_worst".parse::<Signal>().is_err());
        assert!("palette".parse::<Signal>().is_err());
    }

    #[test]
    fn only_pixel_channels_test_their_worst_sample() {
        let worst: Vec<&str> = Channel::ALL
            .into_iter()
            .filter(|c| c.tests_worst_sample())
            .map(Channel::name)
            .collect();
        assert_eq!(worst, ["ssim", "delta_e"]);
    }
}
