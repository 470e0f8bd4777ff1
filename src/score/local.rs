//! Where in the frame two images share their fine detail: the correlation of their
//! high-pass luma in each cell of a grid.
//!
//! Fine detail (luma minus its 3x3 mean) at one place is unrelated between two samples
//! that frame a scene differently, and nearly identical between two samples of a fixed
//! seed. Something stamped at the same place in every image (a watermark, a caption, a
//! border) is identical in each of them, whatever lies under it; something taken away
//! leaves samples that agreed there disagreeing. Both show as a change of these
//! correlations at one place, which the verdict tests against how the baselines correlate
//! there (`verdict::local`).

use image::RgbImage;

use super::RESIZE_FILTER;
use super::ssim::luma_row;

/// Cells per side of the grid.
pub const GRID: usize = 8;
/// Cells in the grid.
pub const CELLS: usize = GRID * GRID;
/// Longest side the detail is taken at: a stamp or caption a brand team would notice spans
/// several pixels even there, and larger renders would only cost time.
const MAX_SIDE: u32 = 512;
/// Largest correlation kept before the Fisher transform, whose value at 1 is infinite:
/// two JPEG encodes of one picture rarely agree better.
const MAX_R: f64 = 0.999;

/// One image's fine detail at working size.
#[derive(Debug, Clone)]
pub struct Detail {
    width: usize,
    height: usize,
    high_pass: Vec<f32>,
}

impl Detail {
    /// Pixels in each cell, for the resolution of a correlation there.
    #[must_use]
    pub fn cell_pixels(&self) -> usize {
        (self.width / GRID) * (self.height / GRID)
    }
}

/// The fine detail of one image: luma minus its 3x3 mean, at most [`MAX_SIDE`] on the long
/// side. The outermost pixels, which have no full neighbourhood, are zero.
#[must_use]
pub fn detail(img: &RgbImage) -> Detail {
    let (w, h) = img.dimensions();
    let long = w.max(h).max(1);
    let small;
    let img = if long > MAX_SIDE {
        let scale = |v: u32| (u64::from(v) * u64::from(MAX_SIDE) / u64::from(long)).max(1) as u32;
        small = image::imageops::resize(img, scale(w), scale(h), RESIZE_FILTER);
        &small
    } else {
        img
    };
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut luma = vec![0f32; w * h];
    for (row, bytes) in luma
        .chunks_exact_mut(w.max(1))
        .zip(img.as_raw().chunks_exact(3 * w.max(1)))
    {
        luma_row(bytes, row);
    }
    let mut high_pass = vec![0f32; w * h];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w - 1 {
            let mut sum = 0f32;
            for row in [y - 1, y, y + 1] {
                sum += luma[row * w + x - 1] + luma[row * w + x] + luma[row * w + x + 1];
            }
            high_pass[y * w + x] = luma[y * w + x] - sum / 9.0;
        }
    }
    Detail {
        width: w,
        height: h,
        high_pass,
    }
}

/// The cell of pixel (x, y).
fn cell(x: usize, y: usize, w: usize, h: usize) -> usize {
    (y * GRID / h) * GRID + x * GRID / w
}

/// Per cell, in row-major order, the Fisher transform (atanh) of the correlation of two
/// images' fine detail; `None` when they differ in size. A cell without detail in either
/// image correlates 0: nothing there is shared.
#[must_use]
pub fn cell_correlations(a: &Detail, b: &Detail) -> Option<[f64; CELLS]> {
    if (a.width, a.height) != (b.width, b.height) || a.width < GRID || a.height < GRID {
        return None;
    }
    let (w, h) = (a.width, a.height);
    let (mut ab, mut aa, mut bb) = ([0f64; CELLS], [0f64; CELLS], [0f64; CELLS]);
    for y in 0..h {
        let row = y * w;
        for x in 0..w {
            let k = cell(x, y, w, h);
            let (u, v) = (
                f64::from(a.high_pass[row + x]),
                f64::from(b.high_pass[row + x]),
            );
            ab[k] += u * v;
            aa[k] += u * u;
            bb[k] += v * v;
        }
    }
    let mut out = [0f64; CELLS];
    for k in 0..CELLS {
        let norm = (aa[k] * bb[k]).sqrt();
        if norm > 0.0 {
            out[k] = (ab[k] / norm).clamp(-MAX_R, MAX_R).atanh();
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// White noise: every pixel an independent draw (splitmix64 of its position).
    fn texture(seed: u64, w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let mut z =
                (u64::from(y) << 32 | u64::from(x)) ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            image::Rgb([((z ^ (z >> 31)) >> 56) as u8; 3])
        })
    }

    #[test]
    fn unrelated_textures_share_nothing_and_one_image_shares_everything() {
        let (a, b) = (detail(&texture(1, 96, 96)), detail(&texture(7, 96, 96)));
        let same = cell_correlations(&a, &a).unwrap();
        assert!(same.iter().all(|&z| z > 3.0), "{same:?}");
        let other = cell_correlations(&a, &b).unwrap();
        assert!(other.iter().all(|&z| z.abs() < 0.35), "{other:?}");
    }

    #[test]
    fn a_shared_stamp_shows_in_its_cell_only() {
        let stamp = |img: &mut RgbImage| {
            for y in 2..10 {
                for x in 2..10 {
                    let v = if (x + y) % 3 == 0 { 255 } else { 0 };
                    img.put_pixel(x, y, image::Rgb([v; 3]));
                }
            }
        };
        let (mut a, mut b) = (texture(1, 96, 96), texture(7, 96, 96));
        stamp(&mut a);
        stamp(&mut b);
        let z = cell_correlations(&detail(&a), &detail(&b)).unwrap();
        assert!(z[0] > 0.5, "{}", z[0]);
        assert!(z[1..].iter().all(|&z| z.abs() < 0.35));
    }

    #[test]
    fn sizes_must_agree_and_large_images_are_reduced() {
        let a = detail(&texture(1, 64, 48));
        assert!(cell_correlations(&a, &detail(&texture(1, 48, 64))).is_none());
        let big = detail(&texture(3, 1024, 600));
        assert_eq!((big.width, big.height), (512, 300));
        assert_eq!(big.cell_pixels(), 64 * 37);
        let flat = detail(&RgbImage::from_pixel(32, 32, image::Rgb([9; 3])));
        assert!(
            cell_correlations(&flat, &flat)
                .unwrap()
                .iter()
                .all(|&z| z == 0.0)
        );
    }
}
