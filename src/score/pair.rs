//! Scoring one candidate against one baseline.

use image::{ImageBuffer, Luma, RgbImage};

use super::image::{common_size, fit};
use super::ssim::Channels;
use super::{Features, Metrics, PaletteColor, color, hash, palette, ssim};

/// Everything computed for one baseline/candidate pair.
pub struct PairScore {
    /// The numbers a verdict is based on.
    pub metrics: Metrics,
    /// Luma SSIM map at scoring size (values in -1..=1, 1 = unchanged).
    pub ssim_map: ImageBuffer<Luma<f32>, Vec<f32>>,
    /// Dominant colours of the baseline, most common first.
    pub base_palette: Vec<PaletteColor>,
    /// Dominant colours of the candidate, most common first.
    pub cand_palette: Vec<PaletteColor>,
    /// `Some(((base_w, base_h), (cand_w, cand_h)))` when sizes differed; scoring then
    /// happens at the smaller common size.
    pub size_change: Option<((u32, u32), (u32, u32))>,
    /// Mean chroma of the candidate minus that of the baseline (CIELAB units), the
    /// saturation input of [`lab_shift_words`](super::lab_shift_words).
    pub chroma_shift: f64,
}

/// Luma SSIM of two same-sized images, with its map.
///
/// # Panics
/// If the sizes differ (use [`score_pair`] for that).
pub fn ssim_luma(base: &RgbImage, cand: &RgbImage) -> (f64, ImageBuffer<Luma<f32>, Vec<f32>>) {
    assert_eq!(base.dimensions(), cand.dimensions(), "sizes differ");
    let mut map = vec![0f32; base.width() as usize * base.height() as usize];
    let [s, ..] = ssim::ssim_images(base, cand, Channels::Luma, Some(&mut map));
    let map = ImageBuffer::from_raw(base.width(), base.height(), map)
        .unwrap_or_else(|| ImageBuffer::new(base.width(), base.height()));
    (s, map)
}

/// Mean of the R, G and B SSIM of two same-sized images.
///
/// # Panics
/// If the sizes differ (use [`score_pair`] for that).
pub fn ssim_rgb(base: &RgbImage, cand: &RgbImage) -> f64 {
    assert_eq!(base.dimensions(), cand.dimensions(), "sizes differ");
    let [_, r, g, b] = ssim::ssim_images(base, cand, Channels::LumaAndRgb, None);
    (r + g + b) / 3.0
}

/// Luma SSIM with its map and the RGB SSIM mean, sharing one pass over the images.
fn ssim_both(base: &RgbImage, cand: &RgbImage) -> (f64, ImageBuffer<Luma<f32>, Vec<f32>>, f64) {
    let mut map = vec![0f32; base.width() as usize * base.height() as usize];
    let [s, r, g, b] = ssim::ssim_images(base, cand, Channels::LumaAndRgb, Some(&mut map));
    let map = ImageBuffer::from_raw(base.width(), base.height(), map)
        .unwrap_or_else(|| ImageBuffer::new(base.width(), base.height()));
    (s, map, (r + g + b) / 3.0)
}

/// Scores `cand` against `base`. Pure: no I/O, deterministic.
pub fn score_pair(base: &RgbImage, cand: &RgbImage) -> PairScore {
    score_pair_with(base, cand, None)
}

/// As [`score_pair`], taking each image's palette and hashes from its [`Features`] when
/// given, instead of computing them again. Used only when the sizes match: an image
/// scored at a smaller common size has a palette and hashes of its own.
pub fn score_pair_with(
    base: &RgbImage,
    cand: &RgbImage,
    features: Option<(&Features, &Features)>,
) -> PairScore {
    let (bs, cs) = (base.dimensions(), cand.dimensions());
    let features = features.filter(|_| bs == cs);
    let size = common_size(bs, cs);
    let size_change = (bs != cs).then_some((bs, cs));
    let base = fit(base, size);
    let cand = fit(cand, size);
    let (base, cand) = (base.as_ref(), cand.as_ref());

    let ((bp, bh), (cp, ch), (ssim, map), ssim_rgb, colour) = std::thread::scope(|s| {
        let side = |img: &'_ RgbImage, known: Option<&Features>| match known {
            Some(f) => (f.palette.clone(), (f.phash, f.dhash)),
            None => (palette::palette(img), hash::hashes(img)),
        };
        let base_side = s.spawn(move || side(base, features.map(|f| f.0)));
        let cand_side = s.spawn(move || side(cand, features.map(|f| f.1)));
        // Everything runs at once: the SSIM workers pull row chunks from a queue, so they
        // fill whatever time the other threads leave (a pair took 59-67 ms with the colour
        // statistics after SSIM, 55-56 ms alongside).
        let colour = s.spawn(move || color::colour_stats(base, cand));
        let (ssim, map, rgb) = ssim_both(base, cand);
        let colour = colour
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join().unwrap_or_else(|_| (Vec::new(), (0, 0)))
        };
        (join(base_side), join(cand_side), (ssim, map), rgb, colour)
    });

    let metrics = Metrics {
        ssim,
        ssim_rgb,
        phash: (bh.0 ^ ch.0).count_ones(),
        dhash: (bh.1 ^ ch.1).count_ones(),
        delta_e: colour.delta_e,
        delta_e_p95: colour.delta_e_p95,
        lab_shift: colour.lab_shift,
        palette_delta_e: palette::palette_distance(&bp, &cp),
        chroma_shift: colour.chroma_shift,
    };
    PairScore {
        metrics,
        ssim_map: map,
        base_palette: bp,
        cand_palette: cp,
        size_change,
        chroma_shift: colour.chroma_shift,
    }
}
