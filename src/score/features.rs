//! Per-image signature statistics, used to estimate how much a stochastic model varies
//! between samples of the same prompt.

use image::RgbImage;

use super::Features;
use super::{color, hash, palette};

/// ITU-R 601 luma on a 0..=255 scale, unrounded.
pub(crate) fn luma601(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

fn mean_std(sum: f64, sum2: f64, n: f64) -> (f64, f64) {
    let mean = sum / n;
    (mean, (sum2 / n - mean * mean).max(0.0).sqrt())
}

pub(crate) fn features(img: &RgbImage) -> Features {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let luma: Vec<f32> = img.as_raw().chunks_exact(3).map(luma601).collect();

    // Hasler & Suesstrunk (2003): opponent channels rg = R - G, yb = (R + G) / 2 - B.
    let (mut s_rg, mut s2_rg, mut s_yb, mut s2_yb, mut s_y, mut s2_y) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (p, &y) in img.as_raw().chunks_exact(3).zip(&luma) {
        let (r, g, b) = (f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
        let rg = r - g;
        let yb = 0.5 * (r + g) - b;
        s_rg += rg;
        s2_rg += rg * rg;
        s_yb += yb;
        s2_yb += yb * yb;
        let y = f64::from(y);
        s_y += y;
        s2_y += y * y;
    }
    let n = (w * h).max(1) as f64;
    let (m_rg, sd_rg) = mean_std(s_rg, s2_rg, n);
    let (m_yb, sd_yb) = mean_std(s_yb, s2_yb, n);
    let colourfulness = sd_rg.hypot(sd_yb) + 0.3 * m_rg.hypot(m_yb);
    let (_, contrast) = mean_std(s_y, s2_y, n);

    // Variance of the 4-neighbour Laplacian over interior pixels (Pech-Pacheco et al. 2000).
    let (mut s_l, mut s2_l, mut n_l) = (0f64, 0f64, 0usize);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w - 1 {
            let i = y * w + x;
            let lap = luma[i - w] + luma[i + w] + luma[i - 1] + luma[i + 1] - 4.0 * luma[i];
            let lap = f64::from(lap);
            s_l += lap;
            s2_l += lap * lap;
            n_l += 1;
        }
    }
    let sharpness = if n_l == 0 {
        0.0
    } else {
        let (_, sd) = mean_std(s_l, s2_l, n_l as f64);
        sd * sd
    };

    let (phash, dhash) = hash::hashes(img);
    Features {
        blockiness: blockiness(&luma, w, h),
        lab_mean: color::lab_mean(img),
        colourfulness,
        contrast,
        sharpness,
        phash,
        dhash,
        palette: palette::palette(img),
    }
}

/// JPEG blocking: the mean luma step across 8-pixel block edges over the mean step
/// elsewhere, horizontally and vertically (the boundary-to-activity ratio of Wang, Sheikh
/// and Bovik 2002). Near 1 for a clean image whatever it shows; a coarser encode on the
/// provider's side raises it. Half a luma level is added to both means, so flat images
/// stay near 1 and flat blocks with steps only at their edges read as blocky rather than
/// as a division by zero. 1 when the image is too small to have block edges.
fn blockiness(luma: &[f32], w: usize, h: usize) -> f64 {
    const SMOOTH: f64 = 0.5;
    let (mut edge, mut n_edge, mut inner, mut n_inner) = (0f64, 0usize, 0f64, 0usize);
    let mut add = |i: usize, j: usize, at_edge: bool| {
        let d = f64::from((luma[i] - luma[j]).abs());
        if at_edge {
            edge += d;
            n_edge += 1;
        } else {
            inner += d;
            n_inner += 1;
        }
    };
    for y in 0..h {
        for x in 0..w.saturating_sub(1) {
            add(y * w + x, y * w + x + 1, x % 8 == 7);
        }
    }
    for y in 0..h.saturating_sub(1) {
        for x in 0..w {
            add(y * w + x, (y + 1) * w + x, y % 8 == 7);
        }
    }
    if n_edge == 0 || n_inner == 0 {
        return 1.0;
    }
    (edge / n_edge as f64 + SMOOTH) / (inner / n_inner as f64 + SMOOTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_grey_has_no_colour_contrast_or_edges() {
        let img = RgbImage::from_pixel(20, 10, image::Rgb([128, 128, 128]));
        let f = features(&img);
        assert!(f.colourfulness.abs() < 1e-9);
        assert!(f.contrast.abs() < 1e-3);
        assert!(f.sharpness.abs() < 1e-6);
        // skimage's matrix and white point leave greys a hair off the neutral axis.
        assert!(f.lab_mean[1].abs() < 0.02 && f.lab_mean[2].abs() < 0.02);
        assert_eq!(f.palette.len(), 1);
        assert_eq!(f.blockiness, 1.0);
    }

    #[test]
    fn a_coarse_jpeg_is_blockier_than_a_fine_one() {
        let scene = RgbImage::from_fn(128, 128, |x, y| {
            let v = (f64::from(x) * 0.21).sin() * 60.0 + (f64::from(y) * 0.13).cos() * 50.0;
            image::Rgb([
                (128.0 + v) as u8,
                (120.0 + v * 0.5) as u8,
                (100.0 - v * 0.3) as u8,
            ])
        });
        let jpeg = |q: u8| {
            let mut buf = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, q)
                .encode_image(&scene)
                .expect("encode");
            image::load_from_memory(&buf).expect("decode").to_rgb8()
        };
        let (fine, coarse) = (
            features(&jpeg(95)).blockiness,
            features(&jpeg(20)).blockiness,
        );
        assert!((fine - 1.0).abs() < 0.1, "{fine}");
        assert!(coarse > fine * 1.2, "{coarse} vs {fine}");
    }

    #[test]
    fn flat_blocks_read_as_blocky_and_stay_finite() {
        // 8x8 cells of one grey each: every step is at a block edge.
        let cells = RgbImage::from_fn(64, 64, |x, y| image::Rgb([((x / 8 + y / 8) * 20) as u8; 3]));
        let b = features(&cells).blockiness;
        assert!(b.is_finite() && b > 10.0, "{b}");
        // Steps only inside blocks: finite and below 1, never zero.
        let offset = RgbImage::from_fn(64, 64, |x, _| image::Rgb([((x + 4) / 8 * 20) as u8; 3]));
        let b = features(&offset).blockiness;
        assert!(b.is_finite() && b > 0.0 && b < 1.0, "{b}");
    }

    #[test]
    fn checkerboard_is_sharper_than_gradient() {
        let checker = RgbImage::from_fn(32, 32, |x, y| {
            if (x + y) % 2 == 0 {
                image::Rgb([0, 0, 0])
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        let gradient = RgbImage::from_fn(32, 32, |x, _| image::Rgb([x as u8 * 8; 3]));
        assert!(features(&checker).sharpness > features(&gradient).sharpness);
    }

    #[test]
    fn one_pixel_image_is_fine() {
        let f = features(&RgbImage::from_pixel(1, 1, image::Rgb([10, 200, 30])));
        assert!(f.colourfulness > 0.0);
        assert_eq!(f.sharpness, 0.0);
    }
}
