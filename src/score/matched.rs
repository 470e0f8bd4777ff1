//! Structure-matched photometry: a colour grade, an exposure or contrast change, or a
//! softer rendering, measured between samples that frame their subject differently.
//!
//! Each image is reduced to a grid of cells and cut into overlapping patches of 8x8 cells.
//! A patch's *pattern* is its luma with its own mean and contrast removed, so a global
//! colour, brightness or contrast change leaves it as it was. Each query patch of one image
//! (every 4 cells) is paired with the patch of the other images (every 2 cells) whose
//! pattern correlates best, and the image's value on each axis is the median difference
//! over its pairs.
//!
//! The pairing never looks at the axes it measures, so a drift cannot pull the pairs
//! towards itself (pairing by nearest colour does, and underestimates every grade); and
//! where the same subject appears in two samples, its paired patches show it under the same
//! light, so what framing moves largely cancels. Where the samples share nothing, the pairs
//! are arbitrary and the value is as noisy as a difference of image means: the baselines'
//! own values show that, and the noise floor widens with them.

use image::RgbImage;

use super::LabConverter;
use super::color::percentile;
use super::ssim::luma_row;

/// Cells on the long side of the reduced grid.
pub(super) const GRID_SIDE: usize = 64;
/// Side of a patch, in cells.
const PATCH: usize = 8;
const PATCH_LEN: usize = PATCH * PATCH;
/// Patch step in cells among the patches a pairing may choose.
const POOL_STRIDE: usize = 2;
/// Patch step in cells among the patches that look for a partner (a multiple of
/// `POOL_STRIDE`): fewer queries, each still finding a partner at the finer step.
const QUERY_STRIDE: usize = 4;
/// Below this luma standard deviation (0..255 levels) a patch is flat: scaling it to unit
/// contrast would blow its last bits of JPEG and rounding residue up into a pattern, so it
/// takes no part in the pairing.
const MIN_PATTERN_SD: f32 = 1.0;

/// What each pair of patches is compared on.
pub const AXES: [&str; 7] = [
    "lightness",
    "red_green",
    "yellow_blue",
    "chroma",
    "contrast",
    "detail",
    "scale",
];

/// One image's patches.
#[derive(Debug, Clone, Default)]
pub struct Patches {
    /// Unit-norm luma patterns, `PATCH_LEN` floats each.
    patterns: Vec<f32>,
    /// Per patch: mean L*, a*, b*, mean cell chroma, ln(1 + luma sd), ln(1 + mean |Laplacian|).
    values: Vec<[f32; 6]>,
    /// Whether each patch also looks for partners (lies on the query grid).
    query: Vec<bool>,
    /// Each patch's top-left cell.
    pos: Vec<(u16, u16)>,
    /// Per place on the patch grid (every `POOL_STRIDE` cells, row-major), the patch
    /// there, if it has structure: for a partner's neighbours.
    at: Vec<Option<u32>>,
    /// Places per row of `at`.
    places_w: usize,
    /// Cells on the grid's long side: positions in fractions of the frame.
    long: usize,
}

impl Patches {
    fn len(&self) -> usize {
        self.values.len()
    }

    /// The patch `steps` pool places right and down of patch `i`, if it has structure.
    fn neighbour(&self, i: usize, steps: (isize, isize)) -> Option<usize> {
        let (x, y) = self.pos[i];
        let px = (x as usize / POOL_STRIDE).checked_add_signed(steps.0)?;
        let py = (y as usize / POOL_STRIDE).checked_add_signed(steps.1)?;
        if px >= self.places_w {
            return None;
        }
        self.at
            .get(py * self.places_w + px)
            .copied()
            .flatten()
            .map(|j| j as usize)
    }

    fn pattern(&self, i: usize) -> &[f32] {
        &self.patterns[i * PATCH_LEN..(i + 1) * PATCH_LEN]
    }
}

/// Per-cell statistics of the reduced grid.
struct Cells {
    w: usize,
    h: usize,
    luma: Vec<f32>,
    lab: Vec<[f32; 3]>,
    chroma: Vec<f32>,
    detail: Vec<f32>,
}

fn cells(img: &RgbImage) -> Cells {
    let (iw, ih) = (img.width() as usize, img.height() as usize);
    let long = iw.max(ih).max(1);
    let (w, h) = if long <= GRID_SIDE {
        (iw, ih)
    } else {
        (
            (iw * GRID_SIDE).div_ceil(long).max(1),
            (ih * GRID_SIDE).div_ceil(long).max(1),
        )
    };
    let n = w * h;
    let mut rgb = vec![[0f64; 3]; n];
    let mut count = vec![0u32; n];
    // The Laplacian exists on interior pixels only, so it has its own count.
    let mut lap = vec![0f64; n];
    let mut lap_count = vec![0u32; n];
    // Cell column cx holds the pixels x with floor(x * w / iw) == cx.
    let spans: Vec<std::ops::Range<usize>> = (0..w)
        .map(|cx| (cx * iw).div_ceil(w)..((cx + 1) * iw).div_ceil(w))
        .collect();
    let raw = img.as_raw();
    let bytes = |y: usize| &raw[y * iw * 3..(y + 1) * iw * 3];
    // Three luma rows at a time (above, this one, below) and this row's |Laplacian|.
    let (mut up, mut cur, mut down) = (vec![0f32; iw], vec![0f32; iw], vec![0f32; iw]);
    let mut lap_row = vec![0f32; iw];
    if ih > 0 {
        luma_row(bytes(0), &mut cur);
    }
    for y in 0..ih {
        if y + 1 < ih {
            luma_row(bytes(y + 1), &mut down);
        }
        let interior = y > 0 && y + 1 < ih;
        if interior && iw > 2 {
            for x in 1..iw - 1 {
                lap_row[x] = (up[x] + down[x] + cur[x - 1] + cur[x + 1] - 4.0 * cur[x]).abs();
            }
        }
        let row = (y * h / ih) * w;
        for (cx, span) in spans.iter().enumerate() {
            let c = row + cx;
            let mut sum = [0u32; 3];
            for p in bytes(y)[3 * span.start..3 * span.end].chunks_exact(3) {
                for k in 0..3 {
                    sum[k] += u32::from(p[k]);
                }
            }
            for k in 0..3 {
                rgb[c][k] += f64::from(sum[k]);
            }
            count[c] += span.len() as u32;
            if interior {
                let inner = span.start.max(1)..span.end.min(iw.saturating_sub(1));
                if !inner.is_empty() {
                    lap[c] += f64::from(lap_row[inner.clone()].iter().sum::<f32>());
                    lap_count[c] += inner.len() as u32;
                }
            }
        }
        std::mem::swap(&mut up, &mut cur);
        std::mem::swap(&mut cur, &mut down);
    }
    let conv = LabConverter::default();
    let mut out = Cells {
        w,
        h,
        luma: Vec::with_capacity(n),
        lab: Vec::with_capacity(n),
        chroma: Vec::with_capacity(n),
        detail: Vec::with_capacity(n),
    };
    for c in 0..n {
        let k = f64::from(count[c].max(1));
        let mean = rgb[c].map(|v| v / k);
        // Lab takes 8-bit input; the luma pattern keeps the unrounded mean, since a
        // patch's pattern is scaled up by its contrast and rounding would be scaled with it.
        let lab = conv
            .lab(mean.map(|v| v.round().clamp(0.0, 255.0) as u8))
            .map(|v| v as f32);
        out.luma
            .push((0.299 * mean[0] + 0.587 * mean[1] + 0.114 * mean[2]) as f32);
        out.chroma.push(lab[1].hypot(lab[2]));
        out.lab.push(lab);
        out.detail
            .push((lap[c] / f64::from(lap_count[c].max(1))) as f32);
    }
    out
}

/// The patches of one image.
#[must_use]
pub fn patches(img: &RgbImage) -> Patches {
    let c = cells(img);
    let mut out = Patches {
        places_w: c.w.saturating_sub(PATCH) / POOL_STRIDE + 1,
        long: c.w.max(c.h),
        ..Patches::default()
    };
    if c.w < PATCH || c.h < PATCH {
        return out;
    }
    for py in (0..=c.h - PATCH).step_by(POOL_STRIDE) {
        for px in (0..=c.w - PATCH).step_by(POOL_STRIDE) {
            let idx = |i: usize| (py + i / PATCH) * c.w + px + i % PATCH;
            let n = PATCH_LEN as f32;
            let mean = (0..PATCH_LEN).map(|i| c.luma[idx(i)]).sum::<f32>() / n;
            let var = (0..PATCH_LEN)
                .map(|i| (c.luma[idx(i)] - mean).powi(2))
                .sum::<f32>()
                / n;
            let sd = var.sqrt();
            if sd < MIN_PATTERN_SD {
                out.at.push(None);
                continue;
            }
            out.at.push(Some(out.values.len() as u32));
            out.pos.push((px as u16, py as u16));
            let norm = sd * n.sqrt();
            out.patterns
                .extend((0..PATCH_LEN).map(|i| (c.luma[idx(i)] - mean) / norm));
            let avg = |f: &dyn Fn(usize) -> f32| (0..PATCH_LEN).map(|i| f(idx(i))).sum::<f32>() / n;
            out.values.push([
                avg(&|j| c.lab[j][0]),
                avg(&|j| c.lab[j][1]),
                avg(&|j| c.lab[j][2]),
                avg(&|j| c.chroma[j]),
                sd.ln_1p(),
                avg(&|j| c.detail[j]).ln_1p(),
            ]);
            out.query
                .push(px % QUERY_STRIDE == 0 && py % QUERY_STRIDE == 0);
        }
    }
    out
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent partial sums, so the loop vectorises.
    let mut acc = [0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += ca[k] * cb[k];
        }
    }
    acc.iter().sum()
}

/// Median over `image`'s query patches of (its value − its partner's value) on every
/// axis, each patch partnered with the best-correlated pattern among `pool`; the seventh
/// value is the log scale of things in `image` against the pool (see [`matched_scale`]).
/// NaN on every axis when either side has no patch with structure.
#[must_use]
pub fn matched_shift(image: &Patches, pool: &[&Patches]) -> [f64; 7] {
    // Each query patch is partnered within every pool image, not only in the one where it
    // correlates best: a scale is fitted per pool image, and a sample that shares its scene
    // with several others then has every one of them to fit against.
    let mut per_pool: Vec<Vec<Match>> = pool.iter().map(|_| Vec::new()).collect();
    let mut best_overall: Vec<Match> = Vec::new();
    for i in (0..image.len()).filter(|&i| image.query[i]) {
        let pattern = image.pattern(i);
        let mut best: Option<Match> = None;
        for (pi, p) in pool.iter().enumerate() {
            let mut found: Option<(f32, usize)> = None;
            for j in 0..p.len() {
                let r = dot(pattern, p.pattern(j));
                if found.is_none_or(|(b, _)| r > b) {
                    found = Some((r, j));
                }
            }
            let Some((r, j)) = found else { continue };
            let m = Match {
                query: i,
                at: image.centre(i),
                partner: p.refined_centre(j, pattern),
                pool: pi,
                partner_index: j,
                r,
            };
            if best.as_ref().is_none_or(|b| r > b.r) {
                best = Some(m.clone());
            }
            per_pool[pi].push(m);
        }
        best_overall.extend(best);
    }
    let cell = 1.0 / image.long.max(1) as f64;
    let fits: Vec<(f64, usize, Vec<Match>)> = per_pool
        .iter()
        .filter_map(|matches| matched_scale(matches, cell))
        .collect();
    // Where a scale and shift explain enough partners, those partners show the same
    // subject; the others may have paired a coin with another coin, a line of text with
    // another line, under other light. The photometric axes then read the agreeing pairs
    // of every pool image that has a fit.
    let chosen: Vec<&Match> = if fits.is_empty() {
        best_overall.iter().collect()
    } else {
        fits.iter().flat_map(|(_, _, agreeing)| agreeing).collect()
    };
    let median = |k: usize| {
        let mut v: Vec<f64> = chosen
            .iter()
            .map(|m| f64::from(image.values[m.query][k] - pool[m.pool].values[m.partner_index][k]))
            .collect();
        if v.is_empty() {
            f64::NAN
        } else {
            percentile(&mut v, 50.0)
        }
    };
    // The scale is the fit of the pool image most matches agree on (the one sharing most
    // of the scene; a fit on another can be a chance alignment).
    let scale = fits
        .iter()
        .max_by_key(|(_, agreeing, _)| *agreeing)
        .map_or(f64::NAN, |(scale, ..)| *scale);
    [
        median(0),
        median(1),
        median(2),
        median(3),
        median(4),
        median(5),
        scale,
    ]
}

/// A query patch and its partner in one pool image, with where each lies in fractions
/// of its frame's long side.
#[derive(Debug, Clone)]
struct Match {
    query: usize,
    at: [f64; 2],
    partner: [f64; 2],
    pool: usize,
    partner_index: usize,
    r: f32,
}

impl Patches {
    /// The centre of patch `i`, in fractions of the long side.
    fn centre(&self, i: usize) -> [f64; 2] {
        let (x, y) = self.pos[i];
        let half = PATCH as f64 / 2.0;
        let long = self.long.max(1) as f64;
        [(f64::from(x) + half) / long, (f64::from(y) + half) / long]
    }

    /// The centre of patch `j`, moved towards whichever neighbour on the pool grid
    /// `pattern` also correlates with (a parabola through the three correlations on each
    /// axis): the partner search steps `POOL_STRIDE` cells, and a scale is read from
    /// distances between partners, which that step would blur.
    fn refined_centre(&self, j: usize, pattern: &[f32]) -> [f64; 2] {
        let [mut x, mut y] = self.centre(j);
        let r0 = f64::from(dot(pattern, self.pattern(j)));
        let corr = |k: Option<usize>| k.map(|k| f64::from(dot(pattern, self.pattern(k))));
        let step = POOL_STRIDE as f64 / self.long.max(1) as f64;
        for (axis, v) in [(0, &mut x), (1, &mut y)] {
            let dir = |d: isize| if axis == 0 { (d, 0) } else { (0, d) };
            if let (Some(lo), Some(hi)) = (
                corr(self.neighbour(j, dir(-1))),
                corr(self.neighbour(j, dir(1))),
            ) {
                let curve = lo - 2.0 * r0 + hi;
                if curve < 0.0 {
                    *v += step * (0.5 * (lo - hi) / curve).clamp(-0.5, 0.5);
                }
            }
        }
        [x, y]
    }
}

/// The log scale of things in an image against one pool image's. The better-matched
/// patches (correlation at least the median) vote for a scale and shift that carry their
/// positions onto their partners' (every pair of patches at least a patch apart proposes
/// one, from their distance and their partners'); the proposal that most matches agree
/// with to within a cell wins, and a least-squares fit over those matches gives its
/// scale. Framing is the shift; a zoom is the scale. Returns the scale, the number of
/// distinct partners that agree, and the agreeing matches; `None` with fewer than
/// [`MIN_AGREEING`] of them.
fn matched_scale(matches: &[Match], cell: f64) -> Option<(f64, usize, Vec<Match>)> {
    if matches.is_empty() {
        return None;
    }
    let mut rs: Vec<f64> = matches.iter().map(|m| f64::from(m.r)).collect();
    let cut = percentile(&mut rs, 50.0);
    let members: Vec<&Match> = matches.iter().filter(|m| f64::from(m.r) >= cut).collect();
    let (scale, agreeing, votes) = fit_scale(&members, cell)?;
    Some((
        scale,
        agreeing,
        votes.iter().map(|&v| members[v].clone()).collect(),
    ))
}

/// Largest log scale a fit may propose: patterns are paired at their own size, and an
/// 8x8-cell pattern no longer finds itself about a quarter larger or smaller, so a
/// larger proposal is a chance alignment of pairs the matching could not have made.
const MAX_LOG_SCALE: f64 = 0.223_143_551_314_209_75;

/// Matches that must agree with a scale and shift, beyond the two that proposed it, for
/// the fit to count: fewer could agree by chance.
const MIN_AGREEING: usize = 5;

/// The log scale that carries `group`'s positions onto their partners', the number of
/// distinct partners that agree with it and which matches those are, or `None` when no proposal gathers
/// [`MIN_AGREEING`] beyond its own two. `cell` is one grid cell in frame fractions.
fn fit_scale(group: &[&Match], cell: f64) -> Option<(f64, usize, Vec<usize>)> {
    let dist = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let apart = PATCH as f64 * cell;
    let agreeing = |a: f64, t: [f64; 2]| -> Vec<usize> {
        (0..group.len())
            .filter(|&k| {
                let m = group[k];
                dist(m.partner, [m.at[0] * a + t[0], m.at[1] * a + t[1]]) <= cell
            })
            .collect()
    };
    // Agreement is counted in distinct partners: many patches partnered with one spot
    // (a lone star, a repeated texture) would otherwise agree with a collapsed fit.
    let distinct = |votes: &[usize]| -> usize {
        let mut spots: Vec<(i64, i64)> = votes
            .iter()
            .map(|&k| {
                let p = group[k].partner;
                ((p[0] / cell).round() as i64, (p[1] / cell).round() as i64)
            })
            .collect();
        spots.sort_unstable();
        spots.dedup();
        spots.len()
    };
    let mut best: Vec<usize> = Vec::new();
    for (i, p) in group.iter().enumerate() {
        for q in &group[i + 1..] {
            let (here, there) = (dist(p.at, q.at), dist(p.partner, q.partner));
            if here < apart || there <= 0.0 {
                continue;
            }
            // partner = at * a + t, with a the inverse of the scale.
            let a = there / here;
            if a.ln().abs() > MAX_LOG_SCALE {
                continue;
            }
            let t = [p.partner[0] - p.at[0] * a, p.partner[1] - p.at[1] * a];
            let votes = agreeing(a, t);
            if distinct(&votes) > distinct(&best) {
                best = votes;
            }
        }
    }
    if distinct(&best) < MIN_AGREEING + 2 {
        return None;
    }
    // Least squares for one factor on both axes, each axis centred on its own mean.
    let n = best.len() as f64;
    let mean = |f: &dyn Fn(&Match) -> f64| best.iter().map(|&k| f(group[k])).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for axis in 0..2 {
        let (ma, mp) = (mean(&|m| m.at[axis]), mean(&|m| m.partner[axis]));
        for &k in &best {
            let (x, y) = (group[k].at[axis] - ma, group[k].partner[axis] - mp);
            sxy += x * y;
            sxx += x * x;
        }
    }
    let agreeing = distinct(&best);
    (sxx > 0.0 && sxy > 0.0).then(|| ((sxx / sxy).ln(), agreeing, best))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops;

    /// A scene with shapes and fine grain, larger than the frames cut from it.
    fn scene() -> RgbImage {
        RgbImage::from_fn(200, 140, |x, y| {
            let (fx, fy) = (f64::from(x), f64::from(y));
            let grain = f64::from((x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 17) - 8.0;
            let v = (fx * 0.11).sin() * 50.0
                + (fy * 0.07 + fx * 0.02).cos() * 40.0
                + ((fx * 0.31).sin() * (fy * 0.23).cos()) * 20.0
                + grain;
            image::Rgb([
                (120.0 + v) as u8,
                (110.0 + v * 0.6) as u8,
                (90.0 - v * 0.4) as u8,
            ])
        })
    }

    fn frame(img: &RgbImage, x: u32) -> RgbImage {
        imageops::crop_imm(img, x, 10, 120, 120).to_image()
    }

    fn graded(img: &RgbImage, f: impl Fn([u8; 3]) -> [u8; 3]) -> RgbImage {
        RgbImage::from_fn(img.width(), img.height(), |x, y| {
            image::Rgb(f(img.get_pixel(x, y).0))
        })
    }

    #[test]
    fn framing_leaves_little_and_a_grade_shows_at_full_size() {
        let s = scene();
        let (a, b) = (patches(&frame(&s, 0)), patches(&frame(&s, 60)));
        let framing = matched_shift(&b, &[&a]);
        for (k, v) in framing.iter().enumerate() {
            assert!(v.abs() < 0.3, "{} moved {v} by framing alone", AXES[k]);
        }
        let warm = graded(&frame(&s, 60), |p| {
            [p[0].saturating_add(10), p[1], p[2].saturating_sub(10)]
        });
        let shift = matched_shift(&patches(&warm), &[&a]);
        assert!(shift[2] > 5.0, "b* {shift:?}");
        assert!(shift[0].abs() < 1.0, "L* {shift:?}");
    }

    #[test]
    fn brightness_contrast_and_blur_move_their_axes() {
        let s = scene();
        let base = patches(&frame(&s, 0));
        let bright = graded(&frame(&s, 40), |p| {
            p.map(|v| (f32::from(v) * 1.1).round().min(255.0) as u8)
        });
        let shift = matched_shift(&patches(&bright), &[&base]);
        assert!(shift[0] > 2.0 && shift[4] > 0.03, "{shift:?}");
        let flat = graded(&frame(&s, 40), |p| {
            p.map(|v| (128.0 + (f32::from(v) - 128.0) * 0.8).round() as u8)
        });
        let shift = matched_shift(&patches(&flat), &[&base]);
        assert!(shift[4] < -0.1, "{shift:?}");
        let soft = imageops::blur(&frame(&s, 40), 1.0);
        let shift = matched_shift(&patches(&soft), &[&base]);
        assert!(shift[5] < -0.2, "{shift:?}");
    }

    #[test]
    fn a_zoom_reads_as_its_scale_and_a_new_framing_as_none() {
        let s = scene();
        let base = patches(&frame(&s, 0));
        let moved = matched_shift(&patches(&frame(&s, 50)), &[&base]);
        assert!(moved[6].abs() < 0.01, "{moved:?}");
        // 8% zoom about the frame's centre: a 111-pixel crop scaled back to 120.
        let crop = imageops::crop_imm(&s, 54, 14, 111, 111).to_image();
        let zoomed = imageops::resize(&crop, 120, 120, imageops::FilterType::Triangle);
        let shift = matched_shift(&patches(&zoomed), &[&base]);
        assert!((shift[6] - 1.08f64.ln()).abs() < 0.02, "{shift:?}");
    }

    #[test]
    fn a_zoom_is_read_against_every_pool_image_that_shares_the_scene() {
        let s = scene();
        let (left, right) = (patches(&frame(&s, 0)), patches(&frame(&s, 80)));
        let crop = imageops::crop_imm(&s, 44, 14, 111, 111).to_image();
        let zoomed = imageops::resize(&crop, 120, 120, imageops::FilterType::Triangle);
        // Each framing shares only part of the zoomed view: the patches partnered in each
        // are enough to fit it, whichever of the two a patch correlates with best.
        let shift = matched_shift(&patches(&zoomed), &[&left, &right]);
        assert!((shift[6] - 1.08f64.ln()).abs() < 0.02, "{shift:?}");
        assert!(shift[0].abs() < 0.5, "L* {shift:?}");
    }

    #[test]
    fn flat_or_tiny_images_give_no_value() {
        let flat = RgbImage::from_pixel(100, 100, image::Rgb([90, 90, 90]));
        let s = patches(&frame(&scene(), 0));
        assert!(
            matched_shift(&patches(&flat), &[&s])
                .iter()
                .all(|v| v.is_nan())
        );
        assert!(
            matched_shift(&s, &[&patches(&flat)])
                .iter()
                .all(|v| v.is_nan())
        );
        let tiny = RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]));
        assert!(
            matched_shift(&patches(&tiny), &[&s])
                .iter()
                .all(|v| v.is_nan())
        );
    }
}
