//! CIELAB conversion and CIEDE2000, following scikit-image's `rgb2lab` and
//! `deltaE_ciede2000`.
//!
//! sRGB is linearised with the standard piecewise curve (a 256-entry table, since inputs
//! are 8-bit), converted to XYZ with skimage's matrix and normalised by the D65 2° white
//! (0.95047, 1.0, 1.08883).

use image::RgbImage;

use super::LabShift;
use super::deltae;
use super::srgb::{WHITE, XYZ_FROM_RGB, srgb_to_linear_table};

/// Above this many pixels the colour statistics use a regular grid of about this many
/// samples instead of every pixel: a mean or a 95th percentile over a million evenly spread
/// samples is stable to far below the 1% the scores are read at, and CIEDE2000 is the most
/// expensive per-pixel formula in the scorer. Corpus-sized images (up to 0.5 MP) are
/// measured on every pixel.
pub const MAX_COLOUR_SAMPLES: usize = 1 << 19;

/// Cube root for the range Lab needs (0.0088..1.1): a bit-level first guess refined by
/// two Halley steps, accurate to about 1e-15 relative and several times cheaper than libm.
#[inline]
fn cbrt(x: f64) -> f64 {
    let mut y = f64::from_bits(x.to_bits() / 3 + 0x2A9F_7893_782D_A1CE);
    for _ in 0..2 {
        let y3 = y * y * y;
        y *= (y3 + 2.0 * x) / (2.0 * y3 + x);
    }
    y
}

/// Converts 8-bit sRGB to CIELAB.
pub struct LabConverter {
    lin: [f64; 256],
}

impl Default for LabConverter {
    fn default() -> Self {
        Self {
            lin: srgb_to_linear_table(),
        }
    }
}

impl LabConverter {
    /// Lab of one pixel.
    #[inline]
    pub fn lab(&self, rgb: [u8; 3]) -> [f64; 3] {
        let r = self.lin[usize::from(rgb[0])];
        let g = self.lin[usize::from(rgb[1])];
        let b = self.lin[usize::from(rgb[2])];
        let f = |row: usize| {
            let m = XYZ_FROM_RGB[row];
            let t = (m[0] * r + m[1] * g + m[2] * b) / WHITE[row];
            if t > 0.008856 {
                cbrt(t)
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        let (fx, fy, fz) = (f(0), f(1), f(2));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }
}

/// CIEDE2000 colour difference with kL = kC = kH = 1, as scikit-image computes it.
pub fn ciede2000(lab1: [f64; 3], lab2: [f64; 3]) -> f64 {
    use std::f64::consts::{PI, TAU};
    const POW25_7: f64 = 6_103_515_625.0; // 25^7
    const COS_30: f64 = 0.866_025_403_784_438_6;
    let [l1, a1, b1] = lab1;
    let [l2, a2, b2] = lab2;

    let cbar = 0.5 * ((a1 * a1 + b1 * b1).sqrt() + (a2 * a2 + b2 * b2).sqrt());
    let c7 = cbar.powi(7);
    let g = 0.5 * (1.0 - (c7 / (c7 + POW25_7)).sqrt());
    let scale = 1.0 + g;
    let polar = |a: f64, b: f64| {
        let (x, y) = (a * scale, b);
        let t = y.atan2(x);
        ((x * x + y * y).sqrt(), if t < 0.0 { t + TAU } else { t })
    };
    let (c1, h1) = polar(a1, b1);
    let (c2, h2) = polar(a2, b2);

    let lbar = 0.5 * (l1 + l2);
    let tmp = (lbar - 50.0) * (lbar - 50.0);
    let sl = 1.0 + 0.015 * tmp / (20.0 + tmp).sqrt();
    let l_term = (l2 - l1) / sl;

    let cbar = 0.5 * (c1 + c2);
    let sc = 1.0 + 0.045 * cbar;
    let c_term = (c2 - c1) / sc;

    let h_diff = h2 - h1;
    let h_sum = h1 + h2;
    let cc = c1 * c2;
    let mut dh = h_diff;
    if h_diff > PI {
        dh -= TAU;
    } else if h_diff < -PI {
        dh += TAU;
    }
    if cc == 0.0 {
        dh = 0.0;
    }
    let dh_term = 2.0 * cc.sqrt() * (dh / 2.0).sin();

    let mut hbar = h_sum;
    if cc != 0.0 && h_diff.abs() > PI {
        if h_sum < TAU {
            hbar += TAU;
        } else {
            hbar -= TAU;
        }
    }
    if cc == 0.0 {
        hbar *= 2.0;
    }
    hbar *= 0.5;

    // T(h) from one sin/cos pair via multiple-angle identities instead of four cosines.
    let (s1, c1h) = hbar.sin_cos();
    let (c2h, s2h) = (2.0 * c1h * c1h - 1.0, 2.0 * s1 * c1h);
    let (c3h, s3h) = (c1h * (4.0 * c1h * c1h - 3.0), s1 * (3.0 - 4.0 * s1 * s1));
    let (c4h, s4h) = (2.0 * c2h * c2h - 1.0, 2.0 * s2h * c2h);
    let (c30, s30) = (COS_30, 0.5);
    let (s6, c6) = 6f64.to_radians().sin_cos();
    let (s63, c63) = 63f64.to_radians().sin_cos();
    let t = 1.0 - 0.17 * (c1h * c30 + s1 * s30) + 0.24 * c2h + 0.32 * (c3h * c6 - s3h * s6)
        - 0.20 * (c4h * c63 + s4h * s63);
    let sh = 1.0 + 0.015 * cbar * t;
    let h_term = dh_term / sh;

    let c7 = cbar.powi(7);
    let rc = 2.0 * (c7 / (c7 + POW25_7)).sqrt();
    let dtheta = 30f64.to_radians() * (-((hbar.to_degrees() - 275.0) / 25.0).powi(2)).exp();
    let r_term = -(2.0 * dtheta).sin() * rc * c_term * h_term;

    let de2 = l_term * l_term + c_term * c_term + h_term * h_term + r_term;
    de2.max(0.0).sqrt()
}

/// Colour statistics of a same-sized pair.
#[derive(Debug, Clone, PartialEq)]
pub struct ColourStats {
    /// Mean per-pixel CIEDE2000.
    pub delta_e: f64,
    /// 95th percentile (numpy `linear`) of the per-pixel CIEDE2000.
    pub delta_e_p95: f64,
    /// Mean of Lab(candidate) - Lab(baseline).
    pub lab_shift: LabShift,
    /// Mean chroma (sqrt(a² + b²)) of the candidate minus that of the baseline.
    pub chroma_shift: f64,
}

/// Sampling stride (in both axes) that keeps the sample count under [`MAX_COLOUR_SAMPLES`].
pub(crate) fn sample_stride(w: u32, h: u32) -> u32 {
    let pixels = u64::from(w) * u64::from(h);
    let mut s = 1u32;
    while pixels.div_ceil(u64::from(s) * u64::from(s)) > MAX_COLOUR_SAMPLES as u64 {
        s += 1;
    }
    s
}

/// CIEDE2000 and Lab statistics of two same-sized images (sampled on a grid above
/// [`MAX_COLOUR_SAMPLES`] pixels).
pub fn colour_stats(base: &RgbImage, cand: &RgbImage) -> ColourStats {
    let (w, h) = base.dimensions();
    colour_stats_on_grid(base, cand, sample_stride(w, h))
}

/// [`colour_stats`] over every pixel at any size: what scikit-image computes, at about nine
/// times the cost of the grid on a 4 MP pair.
pub fn colour_stats_every_pixel(base: &RgbImage, cand: &RgbImage) -> ColourStats {
    colour_stats_on_grid(base, cand, 1)
}

/// Colour statistics over every `stride`-th pixel of every `stride`-th row.
fn colour_stats_on_grid(base: &RgbImage, cand: &RgbImage, stride: u32) -> ColourStats {
    debug_assert_eq!(base.dimensions(), cand.dimensions());
    let (w, h) = base.dimensions();
    let stride = stride.max(1) as usize;
    let row_len = w as usize * 3;
    let cols = (w as usize).div_ceil(stride);
    let rows: Vec<usize> = (0..h as usize).step_by(stride).collect();
    let lin = deltae::linear_table();
    let mut de = vec![0f32; cols * rows.len()];
    let bands = super::parallel::bands(rows.len(), 16);
    let parts: Vec<deltae::RowSums> = std::thread::scope(|s| {
        let mut rest = de.as_mut_slice();
        let handles: Vec<_> = bands
            .into_iter()
            .map(|band| {
                let (mine, tail) = std::mem::take(&mut rest).split_at_mut(band.len() * cols);
                rest = tail;
                let (lin, rows) = (&lin, &rows[band]);
                s.spawn(move || {
                    let mut sums = deltae::RowSums::default();
                    let (mut ga, mut gb) = (Vec::new(), Vec::new());
                    for (&y, out) in rows.iter().zip(mine.chunks_exact_mut(cols)) {
                        let ra = &base.as_raw()[y * row_len..(y + 1) * row_len];
                        let rb = &cand.as_raw()[y * row_len..(y + 1) * row_len];
                        if stride == 1 {
                            deltae::row(lin, ra, rb, &mut sums, out);
                        } else {
                            let gather = |r: &[u8], g: &mut Vec<u8>| {
                                g.clear();
                                g.extend(r.chunks_exact(3).step_by(stride).flatten());
                            };
                            gather(ra, &mut ga);
                            gather(rb, &mut gb);
                            deltae::row(lin, &ga, &gb, &mut sums, out);
                        }
                    }
                    sums
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });

    let mut hist = vec![0u64; deltae::HIST_BUCKETS];
    let (mut sum_de, mut sum_dlab, mut sum_dc) = (0f64, [0f64; 3], 0f64);
    for p in parts {
        sum_de += p.de.iter().sum::<f64>();
        for (acc, v) in sum_dlab.iter_mut().zip(&p.dlab) {
            *acc += v.iter().sum::<f64>();
        }
        sum_dc += p.dc.iter().sum::<f64>();
        for (acc, v) in hist.iter_mut().zip(&p.hist) {
            *acc += u64::from(*v);
        }
    }
    let n = de.len().max(1) as f64;
    ColourStats {
        delta_e: sum_de / n,
        delta_e_p95: percentile_by_buckets(&de, &hist, 95.0),
        lab_shift: LabShift {
            dl: sum_dlab[0] / n,
            da: sum_dlab[1] / n,
            db: sum_dlab[2] / n,
        },
        chroma_shift: sum_dc / n,
    }
}

/// [`percentile`] of `v`, given the count of its values in each [`deltae::bucket`]: only the
/// values in the buckets that hold the two ranks numpy interpolates between are selected
/// among, rather than all of them (a few thousand rather than millions at 4 MP).
fn percentile_by_buckets(v: &[f32], hist: &[u64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let lo = pos.floor() as u64;
    let frac = pos - lo as f64;
    let hi = (lo + 1).min(v.len() as u64 - 1);
    // First bucket and count of values below it for the low rank; last bucket for the high.
    let (mut below, mut seen) = (0u64, 0u64);
    let (mut first, mut last) = (None, 0);
    for (b, &count) in hist.iter().enumerate() {
        if first.is_none() && seen + count > lo {
            first = Some(b);
            below = seen;
        }
        seen += count;
        if seen > hi {
            last = b;
            break;
        }
    }
    let first = first.unwrap_or(0);
    let mut pick: Vec<f64> = v
        .iter()
        .filter(|&&d| (first..=last).contains(&deltae::bucket(d)))
        .map(|&d| f64::from(d))
        .collect();
    if pick.is_empty() {
        return 0.0;
    }
    let k = usize::try_from(lo - below)
        .unwrap_or(0)
        .min(pick.len().saturating_sub(1));
    let (_, &mut lo_v, above) = pick.select_nth_unstable_by(k, f64::total_cmp);
    if frac == 0.0 || above.is_empty() {
        return lo_v;
    }
    let hi_v = above.iter().copied().fold(f64::INFINITY, f64::min);
    lo_v + (hi_v - lo_v) * frac
}

/// numpy's default (`linear`) percentile; reorders `v`.
pub(crate) fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    let (_, &mut lo_v, above) = v.select_nth_unstable_by(lo, f64::total_cmp);
    if frac == 0.0 || above.is_empty() {
        return lo_v;
    }
    let hi_v = above.iter().copied().fold(f64::INFINITY, f64::min);
    lo_v + (hi_v - lo_v) * frac
}

/// Mean Lab over the same sample grid the pair statistics use.
pub(crate) fn lab_mean(img: &RgbImage) -> [f64; 3] {
    let (w, h) = img.dimensions();
    let stride = sample_stride(w, h) as usize;
    let conv = LabConverter::default();
    let mut sum = [0f64; 3];
    let mut n = 0usize;
    let row_len = w as usize * 3;
    for y in (0..h as usize).step_by(stride) {
        for p in img.as_raw()[y * row_len..(y + 1) * row_len]
            .chunks_exact(3)
            .step_by(stride)
        {
            let lab = conv.lab([p[0], p[1], p[2]]);
            for c in 0..3 {
                sum[c] += lab[c];
            }
            n += 1;
        }
    }
    let n = n.max(1) as f64;
    sum.map(|s| s / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows from Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula:
    /// implementation notes", table 1 (published to 4 decimals).
    const SHARMA: &[([f64; 3], [f64; 3], f64)] = &[
        ([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425),
        ([50.0, 3.1571, -77.2803], [50.0, 0.0, -82.7485], 2.8615),
        ([50.0, 2.8361, -74.0200], [50.0, 0.0, -82.7485], 3.4412),
        ([50.0, -1.3802, -84.2814], [50.0, 0.0, -82.7485], 1.0000),
        ([50.0, 0.0, 0.0], [50.0, -1.0, 2.0], 2.3669),
        ([50.0, 2.49, -0.001], [50.0, -2.49, 0.0011], 7.2195),
        ([50.0, 2.5, 0.0], [73.0, 25.0, -18.0], 27.1492),
        ([50.0, 2.5, 0.0], [50.0, 3.2592, 0.3350], 1.0000),
        (
            [60.2574, -34.0099, 36.2677],
            [60.4626, -34.1751, 39.4387],
            1.2644,
        ),
        (
            [22.7233, 20.0904, -46.6940],
            [23.0331, 14.9730, -42.5619],
            2.0373,
        ),
        (
            [90.9257, -0.5406, -0.9208],
            [88.6381, -0.8985, -0.7239],
            1.5381,
        ),
        (
            [2.0776, 0.0795, -1.1350],
            [0.9033, -0.0636, -0.5514],
            0.9082,
        ),
    ];

    #[test]
    fn sharma_table() {
        for (a, b, want) in SHARMA {
            let got = ciede2000(*a, *b);
            assert!((got - want).abs() < 1e-4, "{a:?} {b:?}: {got} vs {want}");
            let back = ciede2000(*b, *a);
            assert!((got - back).abs() < 1e-9, "not symmetric");
        }
    }

    #[test]
    fn identity_is_zero() {
        let lab = [37.0, 12.5, -40.25];
        assert_eq!(ciede2000(lab, lab), 0.0);
    }

    #[test]
    fn lab_of_primaries_matches_skimage() {
        let conv = LabConverter::default();
        // skimage.color.rgb2lab values.
        let cases = [
            ([255, 255, 255], [100.0, 0.0, 0.0]),
            ([0, 0, 0], [0.0, 0.0, 0.0]),
            ([255, 0, 0], [53.2408, 80.0925, 67.2032]),
            ([0, 0, 255], [32.2970, 79.1875, -107.8602]),
        ];
        for (rgb, want) in cases {
            let got = conv.lab(rgb);
            for c in 0..3 {
                assert!((got[c] - want[c]).abs() < 1e-2, "{rgb:?}: {got:?}");
            }
        }
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0, 5.0];
        // numpy.percentile([1,2,3,4,5], 95) == 4.8
        assert!((percentile(&mut v, 95.0) - 4.8).abs() < 1e-12);
        assert_eq!(percentile(&mut [7.0], 95.0), 7.0);
    }

    #[test]
    fn stride_caps_samples() {
        assert_eq!(sample_stride(512, 512), 1);
        assert_eq!(sample_stride(640, 800), 1);
        assert_eq!(sample_stride(1024, 1024), 2);
        assert_eq!(sample_stride(2048, 2048), 3);
    }

    #[test]
    fn fast_cbrt_is_accurate() {
        for i in 0..=10_000 {
            let x = 0.008 + 1.1 * f64::from(i) / 10_000.0;
            assert!((cbrt(x) - x.cbrt()).abs() < 1e-14, "{x}");
        }
    }
}
