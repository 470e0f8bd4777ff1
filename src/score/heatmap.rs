//! False-colour rendering of an SSIM map for reports.

use image::{ImageBuffer, Luma, RgbImage};

/// Colour stops from "unchanged" to "structure gone": near black, deep purple, red,
/// orange, pale yellow (an inferno-like ramp, readable in greyscale print too).
const STOPS: [[f32; 3]; 5] = [
    [8.0, 6.0, 20.0],
    [90.0, 20.0, 110.0],
    [200.0, 50.0, 50.0],
    [245.0, 140.0, 20.0],
    [252.0, 250.0, 170.0],
];

/// Change at which the ramp saturates: SSIM 0.5 and below is drawn at full heat, because
/// local SSIM under 0.5 already means the structure there is unrelated.
const FULL_HEAT: f32 = 0.5;

/// The heatmap of an SSIM map at most `max_side` pixels on its long side: the map is
/// averaged over square blocks first (a whole number of map pixels each, so every map
/// value counts once), and only the small map is coloured. Colouring and then shrinking the
/// picture costs a full-size colour image and a resize for the same result.
#[must_use]
pub fn heatmap_at_most(map: &ImageBuffer<Luma<f32>, Vec<f32>>, max_side: u32) -> RgbImage {
    let (w, h) = map.dimensions();
    let k = w.max(h).div_ceil(max_side.max(1)).max(1);
    if k == 1 {
        return heatmap(map);
    }
    let (sw, sh) = (w.div_ceil(k), h.div_ceil(k));
    let (w, k_us) = (w as usize, k as usize);
    let raw = map.as_raw();
    let mut sums = vec![0f32; sw as usize * sh as usize];
    let mut counts = vec![0u32; sums.len()];
    for (y, row) in raw.chunks_exact(w).enumerate() {
        let out = (y / k_us) * sw as usize;
        for (x, &v) in row.iter().enumerate() {
            sums[out + x / k_us] += v;
            counts[out + x / k_us] += 1;
        }
    }
    let means = sums
        .iter()
        .zip(&counts)
        .map(|(s, &n)| s / n.max(1) as f32)
        .collect();
    ImageBuffer::from_raw(sw, sh, means).map_or_else(|| heatmap(map), |small| heatmap(&small))
}

/// Colourised heatmap of an SSIM map: dark where similar, hot where structure changed.
pub fn heatmap(map: &ImageBuffer<Luma<f32>, Vec<f32>>) -> RgbImage {
    let (w, h) = map.dimensions();
    let mut out = RgbImage::new(w, h);
    for (dst, src) in out.pixels_mut().zip(map.pixels()) {
        let s = src[0];
        let t = if s.is_finite() {
            ((1.0 - s) / FULL_HEAT).clamp(0.0, 1.0)
        } else {
            1.0
        };
        // Square root spreads the small changes that matter most over more of the ramp.
        let pos = t.sqrt() * (STOPS.len() - 1) as f32;
        let i = (pos.floor() as usize).min(STOPS.len() - 2);
        let f = pos - i as f32;
        for c in 0..3 {
            let v = STOPS[i][c] + (STOPS[i + 1][c] - STOPS[i][c]) * f;
            dst[c] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_is_dark_and_changed_is_hot() {
        let map = ImageBuffer::from_raw(3, 1, vec![1.0f32, 0.0, f32::NAN]).unwrap();
        let img = heatmap(&map);
        assert_eq!(img.dimensions(), (3, 1));
        assert_eq!(img.get_pixel(0, 0).0, [8, 6, 20]);
        assert_eq!(img.get_pixel(1, 0).0, [252, 250, 170]);
        assert_eq!(img.get_pixel(2, 0).0, [252, 250, 170]);
    }

    #[test]
    fn a_large_map_is_averaged_in_blocks_before_colouring() {
        // 5x3 map, at most 2 px: blocks of 3x3, the right column and bottom row partial.
        let mut v = vec![1.0f32; 15];
        v[4] = 0.0; // in the right block, which has 2 columns of 3 rows
        let map = ImageBuffer::from_raw(5, 3, v).unwrap();
        let small = heatmap_at_most(&map, 2);
        assert_eq!(small.dimensions(), (2, 1));
        assert_eq!(small.get_pixel(0, 0).0, [8, 6, 20]);
        // Mean SSIM 5/6 over its 6 pixels.
        let expected = heatmap(&ImageBuffer::from_raw(1, 1, vec![5.0f32 / 6.0]).unwrap());
        assert_eq!(small.get_pixel(1, 0), expected.get_pixel(0, 0));
        assert_eq!(heatmap_at_most(&map, 8), heatmap(&map));
    }
}
