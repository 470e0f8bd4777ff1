//! Colour clouds: an image's colours as a small set of CIELAB points, and the signed
//! shift from one image's colours to the nearest colours of others.
//!
//! Two samples of a stochastic model frame the same scene differently, so their mean
//! colours differ with the framing; but each colour of one sample is usually found
//! somewhere in the others. The mean offset to the nearest such colour is a colour-cast
//! estimate that framing barely moves and a colour grade moves as a whole.

use image::RgbImage;
use image::imageops::{self, FilterType};

use super::LabConverter;

/// Side of the downsampled image whose pixels form the cloud.
pub const CLOUD_SIDE: u32 = 32;

/// The CIELAB colours of a box-filtered `CLOUD_SIDE` x `CLOUD_SIDE` copy.
#[must_use]
pub fn colour_cloud(img: &RgbImage) -> Vec<[f32; 3]> {
    let small = imageops::resize(img, CLOUD_SIDE, CLOUD_SIDE, FilterType::Triangle);
    let conv = LabConverter::default();
    small
        .pixels()
        .map(|p| {
            let lab = conv.lab(p.0);
            [lab[0] as f32, lab[1] as f32, lab[2] as f32]
        })
        .collect()
}

/// Mean of (colour − nearest colour among `pool`) over the colours of `cloud`, in Lab.
#[must_use]
pub fn cloud_shift(cloud: &[[f32; 3]], pool: &[&[[f32; 3]]]) -> [f64; 3] {
    let mut sum = [0f64; 3];
    if cloud.is_empty() || pool.iter().all(|p| p.is_empty()) {
        return sum;
    }
    for c in cloud {
        let mut best = (f32::INFINITY, [0f32; 3]);
        for q in pool.iter().flat_map(|p| p.iter()) {
            let d = (c[0] - q[0]).powi(2) + (c[1] - q[1]).powi(2) + (c[2] - q[2]).powi(2);
            if d < best.0 {
                best = (d, *q);
            }
        }
        for k in 0..3 {
            sum[k] += f64::from(c[k] - best.1[k]);
        }
    }
    let n = cloud.len() as f64;
    [sum[0] / n, sum[1] / n, sum[2] / n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grade_shifts_the_cloud_and_framing_does_not() {
        // A repeating scene: both framings hold the same colours in different places.
        let scene = RgbImage::from_fn(128, 64, |x, y| {
            image::Rgb([((x % 40) * 6) as u8, (y * 3) as u8, 120])
        });
        let left = imageops::crop_imm(&scene, 0, 0, 80, 64).to_image();
        let right = imageops::crop_imm(&scene, 48, 0, 80, 64).to_image();
        let (l, r) = (colour_cloud(&left), colour_cloud(&right));
        let framing = cloud_shift(&r, &[&l]);
        let warm = RgbImage::from_fn(80, 64, |x, y| {
            let p = right.get_pixel(x, y);
            image::Rgb([p[0].saturating_add(8), p[1], p[2].saturating_sub(8)])
        });
        let graded = cloud_shift(&colour_cloud(&warm), &[&l, &r]);
        assert!(
            graded[2] > 1.0 && graded[2] > 2.0 * framing[2].abs(),
            "graded {graded:?} framing {framing:?}"
        );
    }
}
