//! Perceptual hashes with the definitions of the Python `imagehash` package (hash size 8).
//!
//! Both hashes start from Pillow's `convert('L')` (ITU-R 601 weights in 16-bit fixed point,
//! `(19595 R + 38470 G + 7471 B + 32768) >> 16`) and Pillow's LANCZOS resize, reimplemented
//! here with the same 22-bit fixed-point coefficients and the same horizontal-then-vertical
//! order with 8-bit rounding in between, so hashes match `imagehash` bit for bit.
//! Bit order follows `imagehash`'s hex strings: the first (top-left) cell is the most
//! significant bit.

use image::RgbImage;
use multiversion::multiversion;

const PRECISION_BITS: u32 = 32 - 8 - 2;
const LANCZOS_SUPPORT: f64 = 3.0;

// Straightforward two-step form, kept as the reference the fused `hashes` is tested
// against.
#[cfg(test)]
/// Pillow's RGB to 'L' conversion.
pub(crate) fn pil_luma(img: &RgbImage) -> Vec<u8> {
    img.as_raw()
        .chunks_exact(3)
        .map(|p| {
            let v = u32::from(p[0]) * 19595 + u32::from(p[1]) * 38470 + u32::from(p[2]) * 7471;
            ((v + 0x8000) >> 16) as u8
        })
        .collect()
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * std::f64::consts::PI;
        x.sin() / x
    }
}

fn lanczos(x: f64) -> f64 {
    if (-LANCZOS_SUPPORT..LANCZOS_SUPPORT).contains(&x) {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

/// Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc`: for every output
/// sample, the first input index and its fixed-point weights.
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = LANCZOS_SUPPORT * filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            // C's (int) cast truncates toward zero; `as i64` does the same.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let raw: Vec<f64> = (xmin..xmax)
                .map(|x| lanczos((x as f64 - center + 0.5) * ss))
                .collect();
            let total: f64 = raw.iter().sum();
            let fixed = raw
                .iter()
                .map(|&w| {
                    let w = if total == 0.0 { w } else { w / total };
                    let scaled = w * f64::from(1u32 << PRECISION_BITS);
                    if w < 0.0 {
                        (scaled - 0.5) as i32
                    } else {
                        (scaled + 0.5) as i32
                    }
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

fn clip8(v: i32) -> u8 {
    if v >= (1i32 << PRECISION_BITS << 8) {
        255
    } else if v <= 0 {
        0
    } else {
        (v >> PRECISION_BITS) as u8
    }
}

// Straightforward two-step form, kept as the reference the fused `hashes` is tested
// against.
#[cfg(test)]
/// Pillow's `Image.resize(size, LANCZOS)` on an 'L' image.
pub(crate) fn pil_lanczos(src: &[u8], w: usize, h: usize, out_w: usize, out_h: usize) -> Vec<u8> {
    let horiz = coefficients(w, out_w);
    // Pillow accumulates in a 32-bit int; normalised weights keep the sum below 2^31.
    let half = 1i32 << (PRECISION_BITS - 1);
    // Horizontal pass (skipped by Pillow when the width is unchanged).
    let tmp: Vec<u8> = if out_w == w {
        src.to_vec()
    } else {
        let mut tmp = vec![0u8; out_w * h];
        for y in 0..h {
            let row = &src[y * w..(y + 1) * w];
            for (xx, (xmin, k)) in horiz.iter().enumerate() {
                let acc = row[*xmin..*xmin + k.len()]
                    .iter()
                    .zip(k)
                    .fold(half, |s, (&p, &c)| s + i32::from(p) * c);
                tmp[y * out_w + xx] = clip8(acc);
            }
        }
        tmp
    };
    vertical(&tmp, out_w, h, out_h)
}

/// Pillow's vertical pass over an `out_w`-wide, `h`-tall 8-bit image.
fn vertical(tmp: &[u8], out_w: usize, h: usize, out_h: usize) -> Vec<u8> {
    if out_h == h {
        return tmp.to_vec();
    }
    let vert = coefficients(h, out_h);
    let half = 1i32 << (PRECISION_BITS - 1);
    let mut out = vec![0u8; out_w * out_h];
    for (yy, (ymin, k)) in vert.iter().enumerate() {
        for xx in 0..out_w {
            let acc = k.iter().enumerate().fold(half, |s, (j, &c)| {
                s + i32::from(tmp[(ymin + j) * out_w + xx]) * c
            });
            out[yy * out_w + xx] = clip8(acc);
        }
    }
    out
}

fn bits_to_u64(bits: impl Iterator<Item = bool>) -> u64 {
    bits.fold(0u64, |acc, b| (acc << 1) | u64::from(b))
}

/// scipy.fftpack's unnormalised DCT-II of `n` samples taken with `stride`.
fn dct_ii(input: &[f64], n: usize, out_len: usize) -> Vec<f64> {
    (0..out_len)
        .map(|k| {
            2.0 * (0..n)
                .map(|i| {
                    input[i]
                        * (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2 * n) as f64)
                            .cos()
                })
                .sum::<f64>()
        })
        .collect()
}

// Straightforward two-step form, kept as the reference the fused `hashes` is tested
// against.
#[cfg(test)]
/// `imagehash.phash(image)`: 32x32 LANCZOS luma, 2-D DCT-II, top-left 8x8 against its median.
pub(crate) fn phash_from_luma(luma: &[u8], w: usize, h: usize) -> u64 {
    const N: usize = 32;
    phash_from_small(&pil_lanczos(luma, w, h, N, N))
}

fn phash_from_small(small: &[u8]) -> u64 {
    const N: usize = 32;
    const K: usize = 8;
    // dct along axis 0 (columns) then axis 1 (rows); only the first K outputs are needed.
    let mut cols = vec![0f64; K * N]; // [k][x]
    for x in 0..N {
        let column: Vec<f64> = (0..N).map(|y| f64::from(small[y * N + x])).collect();
        for (k, v) in dct_ii(&column, N, K).into_iter().enumerate() {
            cols[k * N + x] = v;
        }
    }
    let mut low = Vec::with_capacity(K * K);
    for k in 0..K {
        low.extend(dct_ii(&cols[k * N..(k + 1) * N], N, K));
    }
    let mut sorted = low.clone();
    sorted.sort_by(f64::total_cmp);
    let median = 0.5 * (sorted[K * K / 2 - 1] + sorted[K * K / 2]);
    bits_to_u64(low.iter().map(|&v| v > median))
}

// Straightforward two-step form, kept as the reference the fused `hashes` is tested
// against.
#[cfg(test)]
/// `imagehash.dhash(image)`: 9x8 LANCZOS luma, each cell compared to its left neighbour.
pub(crate) fn dhash_from_luma(luma: &[u8], w: usize, h: usize) -> u64 {
    dhash_from_small(&pil_lanczos(luma, w, h, 9, 8))
}

fn dhash_from_small(small: &[u8]) -> u64 {
    bits_to_u64((0..8).flat_map(|y| {
        let row = &small[y * 9..(y + 1) * 9];
        (0..8).map(move |x| row[x + 1] > row[x])
    }))
}

/// Coefficients of one horizontal resize and the rows it produced.
type HorizontalPass = (Vec<(usize, Vec<i32>)>, Vec<u8>);

/// `(phash, dhash)` of an image, in `imagehash` bit order.
///
/// Pillow's 'L' of one row of RGB bytes.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn pil_luma_row(src: &[u8], row: &mut [u8]) {
    for (l, px) in row.iter_mut().zip(src.chunks_exact(3)) {
        let v = u32::from(px[0]) * 19595 + u32::from(px[1]) * 38470 + u32::from(px[2]) * 7471;
        *l = ((v + 0x8000) >> 16) as u8;
    }
}

/// `init` plus the fixed-point dot product of luma bytes and weights. The baseline x86-64
/// target has no 32-bit vector multiply, so this is where the AVX2 clone pays most.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn dot(px: &[u8], k: &[i32], init: i32) -> i32 {
    px.iter().zip(k).fold(init, |s, (&p, &c)| {
        s.wrapping_add(i32::from(p).wrapping_mul(c))
    })
}

/// Equivalent to running [`phash_from_luma`] and [`dhash_from_luma`] on [`pil_luma`], but
/// converts each row to luma once and feeds both horizontal passes from it, so no
/// full-size luma copy is made.
pub fn hashes(img: &RgbImage) -> (u64, u64) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return (0, 0);
    }
    let half = 1i32 << (PRECISION_BITS - 1);
    let mut row = vec![0u8; w];
    let horizontal = |out_w: usize| {
        // Pillow skips the horizontal pass when the width is unchanged.
        (out_w != w).then(|| (coefficients(w, out_w), vec![0u8; out_w * h]))
    };
    let (mut p, mut d) = (horizontal(32), horizontal(9));
    let mut p_same = Vec::new();
    let mut d_same = Vec::new();
    for (y, src) in img.as_raw().chunks_exact(w * 3).enumerate() {
        pil_luma_row(src, &mut row);
        for (pass, same) in [(&mut p, &mut p_same), (&mut d, &mut d_same)] {
            match pass {
                Some((coeffs, tmp)) => {
                    let out_w = coeffs.len();
                    for (xx, (xmin, k)) in coeffs.iter().enumerate() {
                        let acc = dot(&row[*xmin..*xmin + k.len()], k, half);
                        tmp[y * out_w + xx] = clip8(acc);
                    }
                }
                None => same.extend_from_slice(&row),
            }
        }
    }
    let finish = |pass: Option<HorizontalPass>, same: Vec<u8>, out_w, out_h| {
        let tmp = pass.map_or(same, |(_, t)| t);
        vertical(&tmp, out_w, h, out_h)
    };
    let small_p = finish(p, p_same, 32, 32);
    let small_d = finish(d, d_same, 9, 8);
    (phash_from_small(&small_p), dhash_from_small(&small_d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pil_luma_weights() {
        let img = RgbImage::from_raw(3, 1, vec![255, 0, 0, 0, 255, 0, 10, 20, 30]).unwrap();
        // PIL: Image.new('RGB',...).convert('L') gives 76, 150, 18.
        assert_eq!(pil_luma(&img), vec![76, 150, 18]);
    }

    #[test]
    fn resize_of_constant_is_constant() {
        let src = vec![77u8; 50 * 40];
        assert!(pil_lanczos(&src, 50, 40, 9, 8).iter().all(|&v| v == 77));
        assert!(pil_lanczos(&src, 50, 40, 32, 32).iter().all(|&v| v == 77));
    }

    #[test]
    fn dct_matches_scipy_definition() {
        // scipy.fftpack.dct([1, 2, 3, 4]) == [20, -6.30864406, 0, -0.44834153]
        let got = dct_ii(&[1.0, 2.0, 3.0, 4.0], 4, 4);
        let want = [20.0, -6.308_644_06, 0.0, -0.448_341_53];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?}");
        }
    }

    #[test]
    fn fused_hashes_match_the_two_step_definition() {
        for (w, h) in [(451, 300), (32, 32), (9, 8), (5, 70), (1, 1)] {
            let img = RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([(x * 7 + y) as u8, (x * y) as u8, (y * 3) as u8])
            });
            let luma = pil_luma(&img);
            let (w, h) = (w as usize, h as usize);
            let want = (phash_from_luma(&luma, w, h), dhash_from_luma(&luma, w, h));
            assert_eq!(hashes(&img), want, "{w}x{h}");
        }
    }

    #[test]
    fn msb_is_first_cell() {
        assert_eq!(bits_to_u64([true].into_iter().chain([false; 63])), 1 << 63);
    }
}
