//! Dominant colours: median cut seeded k-means in CIELAB on a small copy of the image, and
//! a share-aware matching of two palettes.
//!
//! Everything here is deterministic: the seeds come from median cut (ties broken by pixel
//! order), so the same image always yields the same palette.

use image::RgbImage;

use super::PaletteColor;
use super::color::{LabConverter, ciede2000};

/// Longest side of the copy the palette is extracted from.
pub const PALETTE_MAX_SIDE: u32 = 128;
/// Number of k-means clusters; clusters that end up empty are dropped.
pub const PALETTE_SIZE: usize = 6;
const MAX_ITERATIONS: usize = 20;

/// Box-averages `img` so that its longest side is at most [`PALETTE_MAX_SIDE`].
pub(crate) fn downsample(img: &RgbImage) -> Vec<[u8; 3]> {
    let (w, h) = img.dimensions();
    let f = w.max(h).div_ceil(PALETTE_MAX_SIDE).max(1);
    let (ow, oh) = (w.div_ceil(f), h.div_ceil(f));
    let (f, ow) = (f as usize, ow as usize);
    let mut out = Vec::with_capacity(ow * oh as usize);
    // Column sums of the current block row, one per byte: adding whole rows of bytes is a
    // plain vector loop, where summing block by block went pixel by pixel. The rows go into
    // u16 sums (twice the lanes of u32), moved into u32 ones before 257 rows could overflow.
    let mut rows16 = vec![0u16; w as usize * 3];
    let mut cols = vec![0u32; w as usize * 3];
    let mut pending = 0;
    for (y, src) in img.as_raw().chunks_exact(w as usize * 3).enumerate() {
        for (c, &v) in rows16.iter_mut().zip(src) {
            *c += u16::from(v);
        }
        pending += 1;
        let block_done = (y + 1) % f == 0 || y + 1 == h as usize;
        if pending == 256 || block_done {
            for (c, r) in cols.iter_mut().zip(&mut rows16) {
                *c += u32::from(std::mem::take(r));
            }
            pending = 0;
        }
        if block_done {
            let rows = (y % f + 1) as u32;
            for block in cols.chunks(3 * f) {
                let mut sum = [0u32; 3];
                for p in block.chunks_exact(3) {
                    for (s, &v) in sum.iter_mut().zip(p) {
                        *s += v;
                    }
                }
                let n = ((block.len() / 3) as u32 * rows).max(1);
                out.push(sum.map(|v| ((v + n / 2) / n) as u8));
            }
            cols.fill(0);
        }
    }
    out
}

fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (0..3).map(|c| (a[c] - b[c]) * (a[c] - b[c])).sum()
}

fn median_cut(labs: &[[f64; 3]], k: usize) -> Vec<[f64; 3]> {
    let mut boxes: Vec<Vec<usize>> = vec![(0..labs.len()).collect()];
    let range = |b: &Vec<usize>| -> (f64, usize) {
        (0..3)
            .map(|c| {
                let (lo, hi) = b
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                        (lo.min(labs[i][c]), hi.max(labs[i][c]))
                    });
                (hi - lo, c)
            })
            .fold(
                (-1.0, 0),
                |best, cur| if cur.0 > best.0 { cur } else { best },
            )
    };
    while boxes.len() < k {
        let Some((idx, axis)) = boxes
            .iter()
            .enumerate()
            .filter(|(_, b)| b.len() >= 2)
            .map(|(i, b)| (i, range(b)))
            .filter(|(_, (r, _))| *r > 0.0)
            .fold(
                None,
                |best: Option<(usize, (f64, usize))>, cur| match best {
                    Some(b) if b.1.0 >= cur.1.0 => Some(b),
                    _ => Some(cur),
                },
            )
            .map(|(i, (_, axis))| (i, axis))
        else {
            break;
        };
        let mut b = boxes.swap_remove(idx);
        // Only the split matters, not the order inside each half: a selection, not a sort.
        let mid = b.len() / 2;
        b.select_nth_unstable_by(mid, |&i, &j| {
            labs[i][axis].total_cmp(&labs[j][axis]).then(i.cmp(&j))
        });
        let upper = b.split_off(mid);
        boxes.push(b);
        boxes.push(upper);
    }
    boxes
        .iter()
        .filter(|b| !b.is_empty())
        .map(|b| {
            let mut m = [0f64; 3];
            for &i in b {
                for c in 0..3 {
                    m[c] += labs[i][c];
                }
            }
            m.map(|v| v / b.len() as f64)
        })
        .collect()
}

/// Dominant colours of `img`, most common first.
pub fn palette(img: &RgbImage) -> Vec<PaletteColor> {
    let pixels = downsample(img);
    if pixels.is_empty() {
        return Vec::new();
    }
    let conv = LabConverter::default();
    let labs: Vec<[f64; 3]> = pixels.iter().map(|&p| conv.lab(p)).collect();
    let mut centres = median_cut(&labs, PALETTE_SIZE);
    let mut assign = vec![usize::MAX; labs.len()];
    for _ in 0..MAX_ITERATIONS {
        let mut changed = false;
        for (a, lab) in assign.iter_mut().zip(&labs) {
            // The first nearest centre, each distance computed once.
            let mut best = (0, f64::INFINITY);
            for (i, c) in centres.iter().enumerate() {
                let d = dist2(lab, c);
                if d < best.1 {
                    best = (i, d);
                }
            }
            let best = best.0;
            if *a != best {
                *a = best;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut sums = vec![([0f64; 3], 0usize); centres.len()];
        for (&a, lab) in assign.iter().zip(&labs) {
            for (acc, v) in sums[a].0.iter_mut().zip(lab) {
                *acc += v;
            }
            sums[a].1 += 1;
        }
        for (centre, (sum, n)) in centres.iter_mut().zip(&sums) {
            if *n > 0 {
                *centre = sum.map(|v| v / *n as f64);
            }
        }
    }

    let mut members = vec![([0u64; 3], 0usize); centres.len()];
    for (&a, p) in assign.iter().zip(&pixels) {
        for (acc, &v) in members[a].0.iter_mut().zip(p) {
            *acc += u64::from(v);
        }
        members[a].1 += 1;
    }
    let total = pixels.len() as f64;
    let mut out: Vec<PaletteColor> = centres
        .iter()
        .zip(&members)
        .filter(|(_, (_, n))| *n > 0)
        .map(|(lab, (sum, n))| {
            let n64 = *n as u64;
            PaletteColor {
                rgb: sum.map(|v| ((v + n64 / 2) / n64) as u8),
                lab: *lab,
                share: *n as f64 / total,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.share
            .total_cmp(&a.share)
            .then(a.lab[0].total_cmp(&b.lab[0]))
    });
    out
}

/// One step of the transport plan between two palettes: a share of colour moved from a
/// baseline colour to a candidate colour, and what that pair costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaletteFlow {
    /// Index of the colour in the first palette.
    pub from: usize,
    /// Index of the colour in the second palette.
    pub to: usize,
    /// Fraction of the image moved along this pair (the flows sum to 1).
    pub share: f64,
    /// CIEDE2000 between the two colours.
    pub delta_e: f64,
}

/// The greedy transport plan between two palettes: colour mass moved along the cheapest
/// remaining pair first, in that order. This is the match [`palette_distance`] charges,
/// exposed so a report can show the very pairs behind the number.
#[must_use]
pub fn palette_match(a: &[PaletteColor], b: &[PaletteColor]) -> Vec<PaletteFlow> {
    let mut pairs: Vec<(f64, usize, usize)> = a
        .iter()
        .enumerate()
        .flat_map(|(i, ca)| {
            b.iter()
                .enumerate()
                .map(move |(j, cb)| (ciede2000(ca.lab, cb.lab), i, j))
        })
        .collect();
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut left_a: Vec<f64> = a.iter().map(|c| c.share).collect();
    let mut left_b: Vec<f64> = b.iter().map(|c| c.share).collect();
    let mut plan = Vec::new();
    for (delta_e, from, to) in pairs {
        let share = left_a[from].min(left_b[to]);
        if share > 0.0 {
            plan.push(PaletteFlow {
                from,
                to,
                share,
                delta_e,
            });
            left_a[from] -= share;
            left_b[to] -= share;
        }
    }
    plan
}

/// Share-weighted CIEDE2000 between two palettes.
///
/// Colour mass is moved greedily along the cheapest remaining pair (a greedy transport
/// plan, [`palette_match`]), so a colour that grew or shrank is charged against its
/// nearest counterparts in proportion to the share that moved, and identical palettes
/// cost exactly 0.
pub fn palette_distance(a: &[PaletteColor], b: &[PaletteColor]) -> f64 {
    let plan = palette_match(a, b);
    let moved: f64 = plan.iter().map(|p| p.share).sum();
    if moved > 0.0 {
        plan.iter().map(|p| p.share * p.delta_e).sum::<f64>() / moved
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripes() -> RgbImage {
        // Stripe edges fall on the 3-pixel blocks of the palette downsampler.
        RgbImage::from_fn(288, 198, |x, y| match (x / 48 + y / 99) % 4 {
            0 => image::Rgb([200, 30, 30]),
            1 => image::Rgb([20, 160, 40]),
            2 => image::Rgb([30, 40, 210]),
            _ => image::Rgb([240, 240, 235]),
        })
    }

    #[test]
    fn downsample_is_the_rounded_mean_of_each_block() {
        // 301 x 131: blocks of 3, a narrower last column and a one-row last row. 2 x 33000:
        // blocks of 258 rows, more than the u16 row sums hold at once.
        for (w, h) in [(301u32, 131u32), (2, 33_000)] {
            let img = RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([(x * 7 + y) as u8, (x * y) as u8, 255])
            });
            let f = w.max(h).div_ceil(PALETTE_MAX_SIDE);
            let mut want = Vec::new();
            for by in (0..h).step_by(f as usize) {
                for bx in (0..w).step_by(f as usize) {
                    let (mut sum, mut n) = ([0u32; 3], 0u32);
                    for y in by..(by + f).min(h) {
                        for x in bx..(bx + f).min(w) {
                            for (s, &v) in sum.iter_mut().zip(&img.get_pixel(x, y).0) {
                                *s += u32::from(v);
                            }
                            n += 1;
                        }
                    }
                    want.push(sum.map(|v| ((v + n / 2) / n) as u8));
                }
            }
            assert_eq!(downsample(&img), want, "{w}x{h}");
        }
    }

    #[test]
    fn deterministic_and_normalised() {
        let img = stripes();
        let p1 = palette(&img);
        let p2 = palette(&img);
        assert_eq!(p1, p2);
        assert!(!p1.is_empty() && p1.len() <= PALETTE_SIZE);
        let total: f64 = p1.iter().map(|c| c.share).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!(p1.windows(2).all(|w| w[0].share >= w[1].share));
    }

    #[test]
    fn finds_the_stripe_colours() {
        let p = palette(&stripes());
        let conv = LabConverter::default();
        // Box averaging blends the stripe edges a little, so allow a small difference.
        for want in [[200, 30, 30], [20, 160, 40], [30, 40, 210], [240, 240, 235]] {
            let lab = conv.lab(want);
            assert!(
                p.iter().any(|c| ciede2000(c.lab, lab) < 2.0),
                "{want:?} missing from {p:?}"
            );
        }
    }

    #[test]
    fn distance_identity_and_symmetry() {
        let a = palette(&stripes());
        let b = palette(&RgbImage::from_fn(64, 64, |x, _| {
            image::Rgb([x as u8 * 3, 100, 50])
        }));
        assert_eq!(palette_distance(&a, &a), 0.0);
        let ab = palette_distance(&a, &b);
        let ba = palette_distance(&b, &a);
        assert!(ab > 1.0);
        assert!((ab - ba).abs() < 1e-9);
    }

    #[test]
    fn the_match_is_what_the_distance_charges() {
        let a = palette(&stripes());
        let b = palette(&RgbImage::from_fn(64, 64, |x, _| {
            image::Rgb([x as u8 * 3, 100, 50])
        }));
        let plan = palette_match(&a, &b);
        let moved: f64 = plan.iter().map(|f| f.share).sum();
        assert!((moved - 1.0).abs() < 1e-9, "{moved}");
        let weighted = plan.iter().map(|f| f.share * f.delta_e).sum::<f64>() / moved;
        assert_eq!(weighted, palette_distance(&a, &b));
        for f in &plan {
            assert_eq!(f.delta_e, ciede2000(a[f.from].lab, b[f.to].lab));
        }
        // Identical palettes pair every colour with itself at no cost.
        let same = palette_match(&a, &a);
        assert!(same.iter().all(|f| f.from == f.to && f.delta_e == 0.0));
    }
}
