//! The sRGB colour space as scikit-image defines it: the linearisation curve, the XYZ
//! matrix and the D65 2° white. Both CIEDE2000 paths (`color` in f64, `deltae` in f32)
//! start from these, so they live below both.

/// XYZ from linear sRGB (skimage's matrix).
pub(crate) const XYZ_FROM_RGB: [[f64; 3]; 3] = [
    [0.412453, 0.357580, 0.180423],
    [0.212671, 0.715160, 0.072169],
    [0.019334, 0.119193, 0.950227],
];

/// The D65 2° white point.
pub(crate) const WHITE: [f64; 3] = [0.95047, 1.0, 1.08883];

/// Linear value of each 8-bit sRGB level (the standard piecewise curve).
pub(crate) fn srgb_to_linear_table() -> [f64; 256] {
    std::array::from_fn(|i| {
        let v = i as f64 / 255.0;
        if v > 0.04045 {
            ((v + 0.055) / 1.055).powf(2.4)
        } else {
            v / 12.92
        }
    })
}
