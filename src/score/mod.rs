//! Image scoring: pure functions on decoded pixels, no I/O.
//!
//! [`decode`] (in `image.rs`, the only codec user) turns bytes into 8-bit sRGB;
//! [`score_pair`] compares a candidate with its baseline; [`features`] summarises one image
//! for noise-floor estimation. Definitions follow scikit-image and the Python `imagehash`
//! package so that numbers can be cross-checked; `docs/scoring.md` lists them with their
//! measured agreement.

mod color;
mod deltae;
mod features;
mod hash;
mod heatmap;
mod image;
mod local;
mod matched;
mod pair;
mod palette;
mod parallel;
mod srgb;
mod ssim;
mod stats;
mod words;

#[cfg(test)]
mod tests;

pub use self::color::{
    ColourStats, LabConverter, MAX_COLOUR_SAMPLES, ciede2000, colour_stats,
    colour_stats_every_pixel,
};
pub use self::hash::hashes;
pub use self::heatmap::{heatmap, heatmap_at_most};
pub use self::image::{DecodeLimits, RESIZE_FILTER, ScoreError, decode, to_display_jpeg, to_png};
pub use self::local::{CELLS, Detail, GRID, cell_correlations, detail};
pub use self::matched::{AXES as MATCHED_AXES, Patches, matched_shift, patches};
pub use self::pair::{PairScore, score_pair, score_pair_with, ssim_luma, ssim_rgb};
pub use self::palette::{
    PALETTE_MAX_SIDE, PALETTE_SIZE, PaletteFlow, palette, palette_distance, palette_match,
};
pub use self::stats::median;
pub use self::words::{JND, lab_shift_words};

/// Bumped whenever a change to this module can change a score for the same pixels.
pub const SCORER_VERSION: u32 = 2;

/// Mean CIELAB difference, candidate minus baseline.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabShift {
    /// Lightness difference (positive: candidate lighter).
    #[serde(rename = "dL")]
    pub dl: f64,
    /// Green-red difference (positive: candidate redder).
    pub da: f64,
    /// Blue-yellow difference (positive: candidate yellower, warmer).
    pub db: f64,
}

/// Scores of one candidate against its baseline.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Gaussian SSIM of luma Y = 0.299R + 0.587G + 0.114B (1 = identical).
    pub ssim: f64,
    /// Mean of the per-channel SSIM of R, G and B.
    pub ssim_rgb: f64,
    /// Hamming distance of the 64-bit pHashes (0..=64).
    pub phash: u32,
    /// Hamming distance of the 64-bit dHashes (0..=64).
    pub dhash: u32,
    /// Mean per-pixel CIEDE2000.
    pub delta_e: f64,
    /// 95th percentile of the per-pixel CIEDE2000 map.
    pub delta_e_p95: f64,
    /// Mean of Lab(candidate) - Lab(baseline).
    pub lab_shift: LabShift,
    /// Share-weighted CIEDE2000 between the matched dominant palettes.
    pub palette_delta_e: f64,
    /// Mean chroma of the candidate minus that of the baseline (CIELAB units; positive:
    /// candidate more saturated). Default: 0, for reports written before it was kept.
    #[serde(default)]
    pub chroma_shift: f64,
}

/// One dominant colour.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PaletteColor {
    /// Mean sRGB of the pixels in this cluster.
    pub rgb: [u8; 3],
    /// Cluster centre in CIELAB.
    pub lab: [f64; 3],
    /// Fraction of the image in this cluster (shares sum to 1).
    pub share: f64,
}

/// Per-image signature features (used for noise floors of stochastic models).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Features {
    /// Mean CIELAB colour.
    pub lab_mean: [f64; 3],
    /// Hasler-Suesstrunk colourfulness on 0..=255 RGB.
    pub colourfulness: f64,
    /// Standard deviation of 601 luma (0..=255).
    pub contrast: f64,
    /// Variance of the 4-neighbour Laplacian of luma.
    pub sharpness: f64,
    /// JPEG blocking: mean luma step across 8-pixel block edges over the mean step
    /// elsewhere (about 1 for a clean image).
    pub blockiness: f64,
    /// 64-bit pHash (`imagehash` bit order).
    pub phash: u64,
    /// 64-bit dHash (`imagehash` bit order).
    pub dhash: u64,
    /// Dominant colours, most common first.
    pub palette: Vec<PaletteColor>,
}

/// Signature features of one image.
pub fn features(img: &::image::RgbImage) -> Features {
    self::features::features(img)
}
