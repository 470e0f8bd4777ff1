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
}
