//! Scoring: pure functions on decoded pixels (interim version, replaced by the exact engine).

use image::{ImageBuffer, Luma, RgbImage};
use serde::{Deserialize, Serialize};

/// Version of the scoring definitions.
pub const SCORER_VERSION: u32 = 1;

/// Mean Lab difference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabShift {
    /// Lightness.
    #[serde(rename = "dL")]
    pub dl: f64,
    /// Green-red.
    pub da: f64,
    /// Blue-yellow.
    pub db: f64,
}

/// Pairwise metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Luma SSIM.
    pub ssim: f64,
    /// Mean RGB SSIM.
    pub ssim_rgb: f64,
    /// pHash distance.
    pub phash: u32,
    /// dHash distance.
    pub dhash: u32,
    /// Mean CIEDE2000.
    pub delta_e: f64,
    /// p95 CIEDE2000.
    pub delta_e_p95: f64,
    /// Mean Lab shift.
    pub lab_shift: LabShift,
    /// Palette CIEDE2000.
    pub palette_delta_e: f64,
}

/// A palette colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaletteColor {
    /// sRGB.
    pub rgb: [u8; 3],
    /// Lab.
    pub lab: [f64; 3],
    /// Share of pixels.
    pub share: f64,
}

/// Per-image features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Mean Lab.
    pub lab_mean: [f64; 3],
    /// Colourfulness.
    pub colourfulness: f64,
    /// Luma std.
    pub contrast: f64,
    /// Laplacian variance.
    pub sharpness: f64,
    /// pHash.
    pub phash: u64,
    /// dHash.
    pub dhash: u64,
    /// Palette.
    pub palette: Vec<PaletteColor>,
}

/// Scores of one pair.
pub struct PairScore {
    /// Metrics.
    pub metrics: Metrics,
    /// SSIM map.
    pub ssim_map: ImageBuffer<Luma<f32>, Vec<f32>>,
    /// Baseline palette.
    pub base_palette: Vec<PaletteColor>,
    /// Candidate palette.
    pub cand_palette: Vec<PaletteColor>,
    /// Size change.
    pub size_change: Option<((u32, u32), (u32, u32))>,
}

fn luma(img: &RgbImage) -> Vec<f32> {
    img.pixels()
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect()
}

fn blur(src: &[f32], w: usize, h: usize) -> Vec<f32> {
    let k: Vec<f32> = (-5i32..=5)
        .map(|i| (-(i * i) as f32 / (2.0 * 1.5 * 1.5)).exp())
        .collect();
    let s: f32 = k.iter().sum();
    let k: Vec<f32> = k.iter().map(|v| v / s).collect();
    let refl = |i: isize, n: usize| -> usize {
        let n = n as isize;
        let mut i = i;
        if i < 0 {
            i = -i - 1;
        }
        if i >= n {
            i = 2 * n - i - 1;
        }
        i.clamp(0, n - 1) as usize
    };
    let mut tmp = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            tmp[y * w + x] = (0..11)
                .map(|j| k[j] * src[y * w + refl(x as isize + j as isize - 5, w)])
                .sum();
        }
    }
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = (0..11)
                .map(|j| k[j] * tmp[refl(y as isize + j as isize - 5, h) * w + x])
                .sum();
        }
    }
    out
}

fn ssim_plane(a: &[f32], b: &[f32], w: usize, h: usize) -> (f64, Vec<f32>) {
    let (c1, c2) = ((0.01f32 * 255.0).powi(2), (0.03f32 * 255.0).powi(2));
    let ma = blur(a, w, h);
    let mb = blur(b, w, h);
    let aa = blur(&a.iter().map(|v| v * v).collect::<Vec<_>>(), w, h);
    let bb = blur(&b.iter().map(|v| v * v).collect::<Vec<_>>(), w, h);
    let ab = blur(
        &a.iter().zip(b).map(|(x, y)| x * y).collect::<Vec<_>>(),
        w,
        h,
    );
    let map: Vec<f32> = (0..w * h)
        .map(|i| {
            let (va, vb, cov) = (
                aa[i] - ma[i] * ma[i],
                bb[i] - mb[i] * mb[i],
                ab[i] - ma[i] * mb[i],
            );
            ((2.0 * ma[i] * mb[i] + c1) * (2.0 * cov + c2))
                / ((ma[i] * ma[i] + mb[i] * mb[i] + c1) * (va + vb + c2))
        })
        .collect();
    let (mut sum, mut n) = (0f64, 0f64);
    for y in 5..h.saturating_sub(5) {
        for x in 5..w.saturating_sub(5) {
            sum += f64::from(map[y * w + x]);
            n += 1.0;
        }
    }
    (if n > 0.0 { sum / n } else { 1.0 }, map)
}

fn dhash(img: &RgbImage) -> u64 {
    let small = image::imageops::resize(
        &image::DynamicImage::ImageRgb8(img.clone()).to_luma8(),
        9,
        8,
        image::imageops::FilterType::Lanczos3,
    );
    let mut h = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            h = (h << 1) | u64::from(small.get_pixel(x + 1, y)[0] > small.get_pixel(x, y)[0]);
        }
    }
    h
}

/// Scores a pair.
#[must_use]
pub fn score_pair(base: &RgbImage, cand: &RgbImage) -> PairScore {
    let size_change =
        (base.dimensions() != cand.dimensions()).then(|| (base.dimensions(), cand.dimensions()));
    let cand = if size_change.is_some() {
        image::imageops::resize(
            cand,
            base.width(),
            base.height(),
            image::imageops::FilterType::Triangle,
        )
    } else {
        cand.clone()
    };
    let (w, h) = (base.width() as usize, base.height() as usize);
    let (ssim, map) = ssim_plane(&luma(base), &luma(&cand), w, h);
    let mut rgb = 0.0;
    for k in 0..3 {
        let pa: Vec<f32> = base.pixels().map(|p| f32::from(p[k])).collect();
        let pb: Vec<f32> = cand.pixels().map(|p| f32::from(p[k])).collect();
        rgb += ssim_plane(&pa, &pb, w, h).0 / 3.0;
    }
    let d = (dhash(base) ^ dhash(&cand)).count_ones();
    let mean = |img: &RgbImage, k: usize| {
        img.pixels().map(|p| f64::from(p[k])).sum::<f64>() / (w * h) as f64
    };
    let shift = LabShift {
        dl: (0..3).map(|k| mean(&cand, k) - mean(base, k)).sum::<f64>() / 3.0 / 2.55,
        da: (mean(&cand, 0) - mean(base, 0)) / 2.55,
        db: (mean(base, 2) - mean(&cand, 2)) / 2.55,
    };
    let de = (shift.dl.powi(2) + shift.da.powi(2) + shift.db.powi(2)).sqrt();
    PairScore {
        metrics: Metrics {
            ssim,
            ssim_rgb: rgb,
            phash: d,
            dhash: d,
            delta_e: de,
            delta_e_p95: de,
            lab_shift: shift,
            palette_delta_e: de,
        },
        ssim_map: ImageBuffer::from_raw(w as u32, h as u32, map).unwrap_or_default(),
        base_palette: Vec::new(),
        cand_palette: Vec::new(),
        size_change,
    }
}

/// Heatmap of an SSIM map.
#[must_use]
pub fn heatmap(map: &ImageBuffer<Luma<f32>, Vec<f32>>) -> RgbImage {
    RgbImage::from_fn(map.width(), map.height(), |x, y| {
        let v = ((1.0 - map.get_pixel(x, y)[0]).clamp(0.0, 1.0) * 255.0) as u8;
        image::Rgb([v, 0, 255 - v])
    })
}

/// Words for a Lab shift.
#[must_use]
pub fn lab_shift_words(shift: &LabShift, _chroma_shift: f64) -> Vec<String> {
    let mut out = Vec::new();
    if shift.db.abs() > 2.0 {
        out.push(format!(
            "{} (db {:+.1})",
            if shift.db > 0.0 { "warmer" } else { "cooler" },
            shift.db
        ));
    }
    out
}

/// Decode limits.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Max width.
    pub max_width: u32,
    /// Max height.
    pub max_height: u32,
    /// Max allocation.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_width: 16384,
            max_height: 16384,
            max_alloc: 512 << 20,
        }
    }
}

/// Decoding failure.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode image")]
pub struct ScoreError(#[source] image::ImageError);

/// Decodes an image.
///
/// # Errors
/// When the bytes are not a decodable image within the limits.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, ScoreError> {
    let mut r = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ScoreError(image::ImageError::IoError(e)))?;
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_width);
    l.max_image_height = Some(limits.max_height);
    l.max_alloc = Some(limits.max_alloc);
    r.limits(l);
    Ok(r.decode().map_err(ScoreError)?.to_rgb8())
}

/// Features of one image.
#[must_use]
pub fn features(img: &RgbImage) -> Features {
    Features {
        lab_mean: [0.0; 3],
        colourfulness: 0.0,
        contrast: 0.0,
        sharpness: 0.0,
        phash: dhash(img),
        dhash: dhash(img),
        palette: Vec::new(),
    }
}
